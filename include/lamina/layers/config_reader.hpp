// lamina/layers/config_reader.hpp: reading a layer's config() back, key by key.
//
// Contract: each layer spec's from_config(ConfigReader&) reads the keys its
// layer's config() writes, through text/count/number/flag/size2/parsed,
// each exactly once; finish() then refuses keys nobody read. Every problem
// (missing, repeated or unknown key, malformed or out-of-range value) is a
// ConfigError naming the layer ("Dense 'dense_1'") and the key.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/window.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina::detail {

// Reads a LayerConfig key by key; every key must be read exactly once.
class ConfigReader {
public:
    ConfigReader(const std::string& type, const std::string& name, const LayerConfig& config)
        : who_(type + " '" + name + "'"), config_(config) {}

    // Whether a key is there: for keys newer than some files (read them
    // only where present, so that older files still load).
    bool has(const std::string& key) const {
        for (const auto& kv : config_)
            if (kv.first == key) return true;
        return false;
    }
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

    // A value that parsed but is out of its range, found by the caller.
    [[noreturn]] void bad(const std::string& key, const std::string& what) const {
        throw ConfigError(ErrorId::config_argument, who_ + ": config '" + key + "' " + what);
    }

private:
    std::string who_;
    const LayerConfig& config_;
    std::set<std::string> used_;
};

}  // namespace lamina::detail
