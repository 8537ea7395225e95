// lamina/layers/pooling2d.hpp: MaxPooling2D and AveragePooling2D, NCHW.
//
// Contract: input (None, C, H, W) -> output (None, C, OH, OW); pool_size
// defaults to 2 and strides to pool_size, as in Keras; padding "valid" or
// "same" (core/window.hpp). Each (sample, channel) plane is pooled alone;
// windows are clipped to the input, so "same" padding never wins a max and
// never dilutes an average. Max pooling's gradient goes to the first maximum
// in row-major window order. No parameters, no workspace.
// Planes are split across OpenMP threads.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "lamina/backend/backend.hpp"
#include "lamina/core/pool_kind.hpp"
#include "lamina/core/window.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class Pooling2DLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;

    Pooling2DLayer(PoolKind kind, Size2 pool_size, Size2 strides, Padding padding)
        : kind_(kind), pool_size_(pool_size), strides_(strides), padding_(padding) {}

    std::string type() const override { return kind_ == PoolKind::Max ? "MaxPooling2D" : "AveragePooling2D"; }

    Shape build(const Shape& input, Rng&) override {
        g_ = make_window(this->who(), input, pool_size_, strides_, padding_);
        return this->finish_build(input, Shape{g_.channels, g_.out_h, g_.out_w});
    }

    void infer(const TensorType& x, TensorType& y) const override {
        Backend<Device>::pool2d_forward(kind_, g_, x.view(), y.view());
    }

    void backward(const TensorType& x, const TensorType& y, const TensorType& dy, TensorType* dx) override {
        if (dx) Backend<Device>::pool2d_backward(kind_, g_, x.view(), y.view(), dy.view(), dx->view());
    }

    LayerConfig config() const override {
        return {{"pool_size", pool_size_.str()}, {"strides", strides_.str()}, {"padding", to_string(padding_)}};
    }

    const Window2D& window() const noexcept { return g_; }

private:
    PoolKind kind_;
    Size2 pool_size_, strides_;
    Padding padding_;
    Window2D g_{};
};

namespace detail {

// Keras's pooling arguments: strides default to the pool size.
// Keras's strides=None, 2 or (2, 1): braces make a pair, as for pool_size.
struct OptionalStrides {
    std::optional<Size2> value;
    OptionalStrides(std::nullopt_t = std::nullopt) {}    // NOLINT(google-explicit-constructor)
    OptionalStrides(Index both) : value(Size2(both)) {}  // NOLINT(google-explicit-constructor)
    OptionalStrides(Index h, Index w) : value(Size2(h, w)) {}
    OptionalStrides(Size2 s) : value(s) {}                 // NOLINT(google-explicit-constructor)
    OptionalStrides(std::optional<Size2> s) : value(s) {}  // NOLINT(google-explicit-constructor)
};

template <PoolKind Kind>
struct Pooling2DSpec {
    Size2 pool_size{2};
    std::optional<Size2> strides;
    Padding padding = Padding::Valid;
    std::string name;

    Pooling2DSpec(Size2 pool_size_ = 2, OptionalStrides strides_ = {}, PaddingArg padding_ = Padding::Valid,
                  std::string name_ = {})
        : pool_size(pool_size_), strides(strides_.value), padding(padding_), name(std::move(name_)) {}
    // MaxPooling2D({2, 2}), Keras's pool_size=(2, 2). Without it the braces
    // could also make a Pooling2DSpec to copy from: an ambiguous call.
    Pooling2DSpec(std::initializer_list<Index> pool_size_) : pool_size(size2_of(pool_size_)) {}

    static Size2 size2_of(std::initializer_list<Index> sizes) {
        if (sizes.size() == 1) return Size2(*sizes.begin());
        if (sizes.size() == 2) return Size2(*sizes.begin(), *(sizes.begin() + 1));
        throw ConfigError(ErrorId::config_argument,
                          "pooling: pool_size takes one or two numbers, got " + std::to_string(sizes.size()));
    }

    Pooling2DSpec& named(std::string n) {
        name = std::move(n);
        return *this;
    }

    // Model files: the layer's type() and the inverse of its config().
    static constexpr const char* config_type = Kind == PoolKind::Max ? "MaxPooling2D" : "AveragePooling2D";
    static Pooling2DSpec from_config(detail::ConfigReader& c) {
        const Size2 pool = c.size2("pool_size");
        const Size2 s = c.size2("strides");
        return Pooling2DSpec(pool, s, c.parsed("padding", padding_from_string));
    }

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<Pooling2DLayer<T, Device>>(Kind, pool_size, strides.value_or(pool_size), padding);
        layer->set_name(name);
        return layer;
    }
};

}  // namespace detail

// Keras's layers.MaxPooling2D(pool_size=2, strides=None, padding="valid"),
// also spelled MaxPool2D.
using MaxPooling2D = detail::Pooling2DSpec<PoolKind::Max>;
using MaxPool2D = MaxPooling2D;
// Keras's layers.AveragePooling2D(pool_size=2, strides=None, padding="valid"),
// also spelled AvgPool2D.
using AveragePooling2D = detail::Pooling2DSpec<PoolKind::Average>;
using AvgPool2D = AveragePooling2D;

}  // namespace lamina
