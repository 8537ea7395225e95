// lamina/layers/layer_factory.hpp: a layer from its type name and config(), as model files store it.
//
// Contract: make_layer<T, Device>(type, name, config) is the inverse of
// Layer::type() / name() / config(): for every layer lamina has,
// make_layer(l.type(), l.name(), l.config()) builds an equal, unbuilt layer.
// Text that is not such a config (unknown type, missing or unknown key,
// malformed or out-of-range value) throws ConfigError naming the layer and
// the key; the model loader reports it as a FormatError of the file.
// A new layer type adds one branch here.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <set>
#include <string>

#include "lamina/layers/activation.hpp"
#include "lamina/layers/conv2d.hpp"
#include "lamina/layers/dense.hpp"
#include "lamina/layers/dropout.hpp"
#include "lamina/layers/flatten.hpp"
#include "lamina/layers/global_average_pooling2d.hpp"
#include "lamina/layers/pooling2d.hpp"

namespace lamina {

namespace detail {

// Reads a LayerConfig key by key; every key must be read exactly once.
class ConfigReader {
public:
    ConfigReader(const std::string& type, const std::string& name, const LayerConfig& config)
        : who_(type + " '" + name + "'"), config_(config) {}

    const std::string& text(const std::string& key) {
        for (const auto& [k, v] : config_)
            if (k == key) {
                if (!used_.insert(key).second) bad(key, "appears twice");
                return v;
            }
        bad(key, "is missing");
    }
    // Whole numbers in [1, 2^31): far beyond any real layer, and small
    // enough that products of a few of them cannot overflow Index.
    Index count(const std::string& key) {
        const std::string& v = text(key);
        errno = 0;
        char* end = nullptr;
        const long long n = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || errno != 0 || n < 1 || n >= (1LL << 31))
            bad(key, "must be a whole number in [1, 2^31), got '" + v + "'");
        return n;
    }
    double number(const std::string& key) {
        const std::string& v = text(key);
        char* end = nullptr;
        const double d = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0') bad(key, "must be a number, got '" + v + "'");
        return d;
    }
    bool flag(const std::string& key) {
        const std::string& v = text(key);
        if (v == "true") return true;
        if (v == "false") return false;
        bad(key, "must be true or false, got '" + v + "'");
    }
    // "(3, 3)", as Size2::str() writes it.
    Size2 size2(const std::string& key) {
        const std::string& v = text(key);
        long long h = 0, w = 0;
        char close = 0;
        int consumed = 0;
        if (std::sscanf(v.c_str(), "(%lld, %lld%c%n", &h, &w, &close, &consumed) != 3 || close != ')' ||
            std::size_t(consumed) != v.size() || h < 1 || w < 1 || h >= (1LL << 31) || w >= (1LL << 31))
            bad(key, "must be a pair like (3, 3) of whole numbers >= 1, got '" + v + "'");
        return Size2(h, w);
    }
    template <class F>
    auto parsed(const std::string& key, F&& parse) {
        const std::string& v = text(key);
        try {
            return parse(v);
        } catch (const Error& e) {
            bad(key, e.what());
        }
    }
    // After the last read: a key nobody read is a config this build does not know.
    void finish() const {
        for (const auto& [k, v] : config_)
            if (!used_.count(k)) bad(k, "is not a " + who_.substr(0, who_.find(' ')) + " setting");
    }

private:
    [[noreturn]] void bad(const std::string& key, const std::string& what) const {
        throw ConfigError(ErrorId::config_argument, who_ + ": config '" + key + "' " + what);
    }

    std::string who_;
    const LayerConfig& config_;
    std::set<std::string> used_;
};

}  // namespace detail

template <class T, class Device = Cpu>
LayerPtr<T, Device> make_layer(const std::string& type, const std::string& name, const LayerConfig& config) {
    detail::ConfigReader c(type, name, config);
    LayerPtr<T, Device> layer;
    auto activation = [&] { return c.parsed("activation", activation_from_string); };
    auto initializer = [&](const char* key) { return c.parsed(key, initializer_from_string); };
    auto padding = [&] { return c.parsed("padding", padding_from_string); };

    if (type == "Dense") {
        Dense d(c.count("units"));
        d.activation = activation();
        d.use_bias = c.flag("use_bias");
        d.kernel_initializer = initializer("kernel_initializer");
        d.bias_initializer = initializer("bias_initializer");
        layer = d.make<T, Device>();
    } else if (type == "Conv2D") {
        const Index filters = c.count("filters");
        const Size2 kernel = c.size2("kernel_size");
        const Size2 strides = c.size2("strides");
        const Padding pad = padding();
        const ActivationKind act = activation();
        const bool use_bias = c.flag("use_bias");
        const Initializer k = initializer("kernel_initializer");
        const Initializer b = initializer("bias_initializer");
        layer = Conv2D(filters, kernel, strides, pad, act, use_bias, k, b).make<T, Device>();
    } else if (type == "MaxPooling2D" || type == "AveragePooling2D") {
        const Size2 pool = c.size2("pool_size");
        const Size2 strides = c.size2("strides");
        const Padding pad = padding();
        layer = type == "MaxPooling2D" ? MaxPooling2D(pool, strides, pad).make<T, Device>()
                                       : AveragePooling2D(pool, strides, pad).make<T, Device>();
    } else if (type == "Activation" || type == "Softmax") {
        const ActivationKind act = activation();
        if ((type == "Softmax") != (act == ActivationKind::Softmax))
            throw ConfigError(ErrorId::config_argument, type + " '" + name + "': config 'activation' cannot be '" +
                                                            to_string(act) + "'");
        layer = Activation(act).make<T, Device>();
    } else if (type == "Dropout") {
        const double rate = c.number("rate");
        if (!(rate >= 0.0 && rate < 1.0))
            throw ConfigError(ErrorId::config_argument,
                              "Dropout '" + name + "': config 'rate' must be in [0, 1), got " + config_number(rate));
        layer = Dropout(rate).make<T, Device>();
    } else if (type == "Flatten") {
        layer = Flatten().make<T, Device>();
    } else if (type == "GlobalAveragePooling2D") {
        layer = GlobalAveragePooling2D().make<T, Device>();
    } else {
        throw ConfigError(ErrorId::config_unknown_name,
                          "unknown layer type '" + type + "' (known: Dense, Conv2D, MaxPooling2D, AveragePooling2D, "
                                                          "GlobalAveragePooling2D, Flatten, Dropout, Activation, Softmax)");
    }
    c.finish();
    layer->set_name(name);
    return layer;
}

}  // namespace lamina
