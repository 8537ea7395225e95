// lamina/layers/conv2d.hpp: 2-D convolution with a fused activation, NCHW.
//
// Contract: input (None, C, H, W) -> output (None, F, OH, OW), with OH, OW
// from the padding ("valid" or "same", TensorFlow's rules: core/window.hpp);
//   y[n][f][oy][ox] = act(b[f] + sum_{c,i,j} W[f][c][i][j] * x[n][c][oy*SH - pt + i][ox*SW - pl + j]).
// The kernel is (F, C, KH, KW) (PyTorch's OIHW; Keras stores (KH, KW, C, F)),
// initialised with Keras's fans: fan_in = C*KH*KW, fan_out = F*KH*KW.
// Activations are the element-wise ones; softmax over a feature map is a
// ConfigError (use Flatten + Softmax, or a Dense layer).
//
// The arithmetic is the device's: Backend<Device>::conv2d_forward and
// conv2d_backward (on the CPU, im2col + GEMM per thread: backend/cpu/conv2d.hpp),
// with the backend's Conv2DWorkspace sized in reserve().
//   naive forward: for n, f, oy, ox: y = b[f]; for c, i, j: y += W[f][c][i][j] * x_pad[n][c][oy*SH+i][ox*SW+j]
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "lamina/backend/backend.hpp"
#include "lamina/core/initializers.hpp"
#include "lamina/core/window.hpp"
#include "lamina/layers/activation.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class Conv2DLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;

    Conv2DLayer(Index filters, Size2 kernel, Size2 strides, Padding padding, ActivationKind activation, bool use_bias,
                Initializer kernel_init, Initializer bias_init)
        : filters_(filters),
          kernel_size_(kernel),
          strides_(strides),
          padding_(padding),
          activation_(activation),
          use_bias_(use_bias),
          kernel_init_(kernel_init),
          bias_init_(bias_init) {
        kernel_.name = "kernel";
        bias_.name = "bias";
    }

    std::string type() const override { return "Conv2D"; }

    Shape build(const Shape& input, Rng& rng) override {
        if (filters_ < 1)
            throw ConfigError(ErrorId::config_argument,
                              this->who() + ": filters must be >= 1, got " + std::to_string(filters_));
        if (activation_ == ActivationKind::Softmax)
            throw ConfigError(ErrorId::config_argument,
                              this->who() +
                                  ": activation softmax is not element-wise; put Flatten() and Softmax() "
                                  "after the convolutions instead");
        g_ = make_window(this->who(), input, kernel_size_, strides_, padding_);
        const Index taps = g_.k_h * g_.k_w;
        kernel_.value.resize(Shape{filters_, g_.channels, g_.k_h, g_.k_w});
        kernel_.grad.resize(kernel_.value.shape());
        Backend<Device>::initialize(kernel_.value.view(), kernel_init_, g_.channels * taps, filters_ * taps, rng);
        kernel_.grad.set_zero();
        if (use_bias_) {
            bias_.value.resize(Shape{filters_});
            bias_.grad.resize(Shape{filters_});
            Backend<Device>::initialize(bias_.value.view(), bias_init_, g_.channels * taps, filters_ * taps, rng);
            bias_.grad.set_zero();
        }
        return this->finish_build(input, Shape{filters_, g_.out_h, g_.out_w});
    }

    void reserve(Index batch) override { Backend<Device>::conv2d_reserve(workspace_, g_, filters_, batch); }

    void infer(const TensorType& x, TensorType& y) const override {
        Backend<Device>::conv2d_forward(g_, filters_, activation_, x.view(), kernel_.value.view(),
                                        use_bias_ ? bias_.value.data() : nullptr, y.view());
    }

    void backward(const TensorType& x, const TensorType& y, const TensorType& dy, TensorType* dx) override {
        Backend<Device>::conv2d_backward(g_, filters_, activation_, workspace_, x.view(), y.view(), dy.view(),
                                         kernel_.value.cview(), kernel_.grad.view(),
                                         use_bias_ ? bias_.grad.data() : nullptr, dx ? dx->data() : nullptr);
    }

    std::vector<Param<T, Device>*> params() override {
        if (use_bias_) return {&kernel_, &bias_};
        return {&kernel_};
    }
    using Layer<T, Device>::params;

    LayerConfig config() const override {
        return {{"filters", std::to_string(filters_)},
                {"kernel_size", kernel_size_.str()},
                {"strides", strides_.str()},
                {"padding", to_string(padding_)},
                {"activation", to_string(activation_)},
                {"use_bias", use_bias_ ? "true" : "false"},
                {"kernel_initializer", to_string(kernel_init_)},
                {"bias_initializer", to_string(bias_init_)}};
    }

    const Window2D& window() const noexcept { return g_; }

private:
    Index filters_;
    Size2 kernel_size_, strides_;
    Padding padding_;
    ActivationKind activation_;
    bool use_bias_;
    Initializer kernel_init_, bias_init_;
    Window2D g_{};
    Param<T, Device> kernel_, bias_;
    typename Backend<Device>::template Conv2DWorkspace<T> workspace_;
};

// Keras's layers.Conv2D(filters, kernel_size, strides=1, padding="valid",
// activation=None, use_bias=True, kernel_initializer="glorot_uniform",
// bias_initializer="zeros"), channels first. Conv2D(32, 3, Activation::ReLU)
// is the short form for the common case.
struct Conv2D {
    Index filters;
    Size2 kernel_size;
    Size2 strides{1};
    Padding padding = Padding::Valid;
    Activation activation;
    bool use_bias = true;
    Initializer kernel_initializer = Initializer::GlorotUniform;
    Initializer bias_initializer = Initializer::Zeros;
    std::string name;

    Conv2D(Index filters_, Size2 kernel_size_, Activation activation_ = Activation::Linear)
        : filters(filters_), kernel_size(kernel_size_), activation(std::move(activation_)) {}
    // Conv2D(32, 3, Padding::Same, Activation::ReLU), Conv2D(32, 3, "same", "relu").
    Conv2D(Index filters_, Size2 kernel_size_, PaddingArg padding_, Activation activation_ = Activation::Linear)
        : filters(filters_), kernel_size(kernel_size_), padding(padding_), activation(std::move(activation_)) {}
    // Conv2D(32, 3, "same") pads; Conv2D(32, 3, "relu") activates: no
    // activation is called "same" or "valid".
    template <class Name, class = std::enable_if_t<!std::is_arithmetic_v<Name> &&
                                                   std::is_convertible_v<const Name&, std::string_view>>>
    Conv2D(Index filters_, Size2 kernel_size_, const Name& padding_or_activation)
        : filters(filters_), kernel_size(kernel_size_) {
        if constexpr (std::is_pointer_v<Name> || std::is_null_pointer_v<Name>) {
            if (static_cast<const char*>(padding_or_activation) == nullptr) {
                activation = Activation(padding_or_activation);  // throws: a null name
                return;
            }
        }
        const std::string text{std::string_view(padding_or_activation)};
        if (is_padding_name(text)) padding = padding_from_string(text);
        else activation = Activation(text);
    }
    Conv2D(Index filters_, Size2 kernel_size_, Size2 strides_, PaddingArg padding_ = Padding::Valid,
           Activation activation_ = Activation::Linear, bool use_bias_ = true,
           Initializer kernel_initializer_ = Initializer::GlorotUniform,
           Initializer bias_initializer_ = Initializer::Zeros, std::string name_ = {})
        : filters(filters_),
          kernel_size(kernel_size_),
          strides(strides_),
          padding(padding_),
          activation(std::move(activation_)),
          use_bias(use_bias_),
          kernel_initializer(kernel_initializer_),
          bias_initializer(bias_initializer_),
          name(std::move(name_)) {}

    Conv2D& named(std::string n) {
        name = std::move(n);
        return *this;
    }

    // Model files: the layer's type() and the inverse of its config().
    static constexpr const char* config_type = "Conv2D";
    static Conv2D from_config(detail::ConfigReader& c) {
        const Index f = c.count("filters");
        const Size2 kernel = c.size2("kernel_size");
        const Size2 s = c.size2("strides");
        const Padding pad = c.parsed("padding", padding_from_string);
        const ActivationKind act = c.parsed("activation", activation_from_string);
        const bool bias = c.flag("use_bias");
        const Initializer k = c.parsed("kernel_initializer", initializer_from_string);
        const Initializer b = c.parsed("bias_initializer", initializer_from_string);
        return Conv2D(f, kernel, s, pad, act, bias, k, b);
    }

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<Conv2DLayer<T, Device>>(filters, kernel_size, strides, padding, activation.kind,
                                                              use_bias, kernel_initializer, bias_initializer);
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
