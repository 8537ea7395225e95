// lamina/layers/activation.hpp: Activation(kind) as a layer of its own.
//
// Contract: y = act(x) elementwise (softmax: over each sample's features);
// output shape = input shape; no parameters. Softmax needs a rank-1 sample.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "lamina/backend/backend.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class ActivationLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;
    explicit ActivationLayer(ActivationKind kind) : kind_(kind) {}

    std::string type() const override { return kind_ == ActivationKind::Softmax ? "Softmax" : "Activation"; }
    Shape build(const Shape& input, Rng&) override {
        if (kind_ == ActivationKind::Softmax && input.rank() != 1)
            throw ShapeError(ErrorId::shape_mismatch, this->who() +
                                                          ": softmax needs flat samples (None, features), got " +
                                                          input.keras_str() + "; add Flatten() before it");
        return this->finish_build(input, input);
    }
    void infer(const TensorType& x, TensorType& y) const override {
        // Straight from x: a copy first and then an in-place pass would move
        // every value twice.
        y.resize(x.shape());
        Backend<Device>::activation_forward(kind_, x.view(), y.view());
    }
    void backward(const TensorType&, const TensorType& y, const TensorType& dy, TensorType* dx) override {
        if (!dx) return;
        if (logit_gradient_) *dx = dy;
        else Backend<Device>::activation_backward(kind_, y.view(), dy.view(), dx->view());
    }
    bool set_logit_gradient(bool enable) override {
        logit_gradient_ = enable && kind_ == ActivationKind::Softmax;
        return logit_gradient_;
    }
    LayerConfig config() const override { return {{"activation", to_string(kind_)}}; }
    ActivationKind kind() const noexcept { return kind_; }

private:
    ActivationKind kind_;
    bool logit_gradient_ = false;
};

// Keras's layers.Activation("relu"); also the activation argument of Dense:
// Dense(128, Activation::ReLU) or Dense(128, "relu").
struct Activation {
    static constexpr ActivationKind Linear = ActivationKind::Linear;
    static constexpr ActivationKind ReLU = ActivationKind::ReLU;
    static constexpr ActivationKind Sigmoid = ActivationKind::Sigmoid;
    static constexpr ActivationKind Tanh = ActivationKind::Tanh;
    static constexpr ActivationKind Softmax = ActivationKind::Softmax;

    ActivationKind kind = ActivationKind::Linear;
    std::string name;

    Activation(ActivationKind k = ActivationKind::Linear, std::string layer_name = {})
        : kind(k), name(std::move(layer_name)) {}
    // A name: "relu", std::string, std::string_view. A template, so that a
    // number (Dense(16, 0)) converts to nothing and fails to compile instead
    // of becoming a null name; Conv2D(32, 3, 2) stays the strides.
    template <class Name, class = std::enable_if_t<!std::is_arithmetic_v<Name> &&
                                                   std::is_convertible_v<const Name&, std::string_view>>>
    Activation(const Name& act, std::string layer_name = {})
        : kind(activation_from_string(std::string(non_null(act)))), name(std::move(layer_name)) {}

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<ActivationLayer<T, Device>>(kind);
        layer->set_name(name);
        return layer;
    }

    // Model files: the layer's type() and the inverse of its config(); a
    // softmax is saved as "Softmax".
    static constexpr const char* config_type = "Activation";
    static Activation from_config(detail::ConfigReader& c) {
        const ActivationKind k = c.parsed("activation", activation_from_string);
        if (k == ActivationKind::Softmax) c.bad("activation", "cannot be 'softmax' (saved as a Softmax layer)");
        return Activation(k);
    }

private:
    template <class Name>
    static std::string_view non_null(const Name& act) {
        if constexpr (std::is_pointer_v<Name> || std::is_null_pointer_v<Name>) {
            if (static_cast<const char*>(act) == nullptr)
                throw ConfigError(ErrorId::config_argument,
                                  "activation: the name is a null pointer; pass a name such as \"relu\" or "
                                  "Activation::ReLU");
        }
        return act;
    }
};

// Keras's layers.Softmax(): the same layer as Activation("softmax").
struct Softmax {
    std::string name;
    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        return Activation(ActivationKind::Softmax, name).make<T, Device>();
    }

    static constexpr const char* config_type = "Softmax";
    static Softmax from_config(detail::ConfigReader& c) {
        const ActivationKind k = c.parsed("activation", activation_from_string);
        if (k != ActivationKind::Softmax) c.bad("activation", std::string("cannot be '") + to_string(k) + "'");
        return Softmax{};
    }
};

}  // namespace lamina
