// lamina/layers/dense.hpp: fully connected layer with a fused activation.
//
// Contract: input (None, in) -> output (None, units); y = act(x W + b) with
// kernel W (in, units) and bias b (units,), Keras's layout. The input must be
// flat: (None, 1, 28, 28) needs a Flatten() first. Workspace: dL/dz (batch,
// units), only when the activation is not linear.
#pragma once

#include <memory>
#include <string>

#include "lamina/backend/backend.hpp"
#include "lamina/core/initializers.hpp"
#include "lamina/layers/activation.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class DenseLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;

    DenseLayer(Index units, ActivationKind activation, bool use_bias, Initializer kernel_init, Initializer bias_init)
        : units_(units),
          activation_(activation),
          use_bias_(use_bias),
          kernel_init_(kernel_init),
          bias_init_(bias_init) {
        kernel_.name = "kernel";
        bias_.name = "bias";
    }

    std::string type() const override { return "Dense"; }

    Shape build(const Shape& input, Rng& rng) override {
        if (units_ < 1)
            throw ConfigError(ErrorId::config_argument,
                              this->who() + ": units must be >= 1, got " + std::to_string(units_));
        if (input.rank() != 1)
            throw ShapeError(ErrorId::shape_mismatch, this->who() + ": expects flat input (None, features), got " +
                                                          input.keras_str() + "; add Flatten() before it");
        const Index in = input[0];
        kernel_.value.resize(Shape{in, units_});
        kernel_.grad.resize(Shape{in, units_});
        Backend<Device>::initialize(kernel_.value.view(), kernel_init_, in, units_, rng);
        kernel_.grad.set_zero();
        if (use_bias_) {
            bias_.value.resize(Shape{units_});
            bias_.grad.resize(Shape{units_});
            Backend<Device>::initialize(bias_.value.view(), bias_init_, in, units_, rng);
            bias_.grad.set_zero();
        }
        return this->finish_build(input, Shape{units_});
    }

    void reserve(Index batch) override {
        if (activation_ != ActivationKind::Linear) dz_.reserve(batch * units_);
    }

    void infer(const TensorType& x, TensorType& y) const override {
        const Index batch = x.rows(), in = this->input_shape()[0];
        Backend<Device>::gemm(false, false, batch, units_, in, T(1), x.data(), kernel_.value.data(), T(0), y.data());
        if (use_bias_) Backend<Device>::add_bias_rows(y.view(), bias_.value.view());
        Backend<Device>::activation_forward(activation_, y.cview(), y.view());
    }

    void backward(const TensorType& x, const TensorType& y, const TensorType& dy, TensorType* dx) override {
        const Index batch = x.rows(), in = this->input_shape()[0];
        const TensorType* dz = &dy;
        if (activation_ != ActivationKind::Linear && !logit_gradient_) {
            dz_.resize(dy.shape());
            Backend<Device>::activation_backward(activation_, y.view(), dy.view(), dz_.view());
            dz = &dz_;
        }
        // dW (in, units) += x^T (in, batch) . dz (batch, units)
        Backend<Device>::gemm(true, false, in, units_, batch, T(1), x.data(), dz->data(), T(1), kernel_.grad.data());
        if (use_bias_) Backend<Device>::accumulate_column_sums(dz->view(), bias_.grad.view());
        // dx (batch, in) = dz (batch, units) . W^T (units, in)
        if (dx)
            Backend<Device>::gemm(false, true, batch, in, units_, T(1), dz->data(), kernel_.value.data(), T(0),
                                  dx->data());
    }

    std::vector<Param<T, Device>*> params() override {
        if (use_bias_) return {&kernel_, &bias_};
        return {&kernel_};
    }
    using Layer<T, Device>::params;

    bool set_logit_gradient(bool enable) override {
        logit_gradient_ = enable && activation_ == ActivationKind::Softmax;
        return logit_gradient_;
    }

    LayerConfig config() const override {
        return {{"units", std::to_string(units_)},
                {"activation", to_string(activation_)},
                {"use_bias", use_bias_ ? "true" : "false"},
                {"kernel_initializer", to_string(kernel_init_)},
                {"bias_initializer", to_string(bias_init_)}};
    }

    Index units() const noexcept { return units_; }
    ActivationKind activation() const noexcept { return activation_; }

private:
    Index units_;
    ActivationKind activation_;
    bool use_bias_;
    Initializer kernel_init_, bias_init_;
    Param<T, Device> kernel_, bias_;
    TensorType dz_;  // (batch, units)
    bool logit_gradient_ = false;
};

// Keras's layers.Dense(units, activation=None, use_bias=True,
// kernel_initializer="glorot_uniform", bias_initializer="zeros").
struct Dense {
    Index units;
    Activation activation;
    bool use_bias;
    Initializer kernel_initializer;
    Initializer bias_initializer;
    std::string name;

    Dense(Index units_, Activation activation_ = Activation::Linear, bool use_bias_ = true,
          Initializer kernel_initializer_ = Initializer::GlorotUniform,
          Initializer bias_initializer_ = Initializer::Zeros, std::string name_ = {})
        : units(units_),
          activation(activation_),
          use_bias(use_bias_),
          kernel_initializer(kernel_initializer_),
          bias_initializer(bias_initializer_),
          name(std::move(name_)) {}

    Dense& named(std::string n) {
        name = std::move(n);
        return *this;
    }

    // Model files: the layer's type() and the inverse of its config().
    static constexpr const char* config_type = "Dense";
    static Dense from_config(detail::ConfigReader& c) {
        Dense d(c.count("units"));
        d.activation = c.parsed("activation", activation_from_string);
        d.use_bias = c.flag("use_bias");
        d.kernel_initializer = c.parsed("kernel_initializer", initializer_from_string);
        d.bias_initializer = c.parsed("bias_initializer", initializer_from_string);
        return d;
    }

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<DenseLayer<T, Device>>(units, activation.kind, use_bias, kernel_initializer,
                                                             bias_initializer);
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
