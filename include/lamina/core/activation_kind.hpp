// lamina/core/activation_kind.hpp: the activation functions and their names.
//
// Contract: the five Keras activations lamina fuses into layers; names are
// Keras's strings ("relu", "softmax", ...). An unknown name is a ConfigError.
#pragma once

#include <string>

#include "lamina/core/error.hpp"

namespace lamina {

enum class ActivationKind { Linear, ReLU, Sigmoid, Tanh, Softmax };

inline const char* to_string(ActivationKind kind) {
    switch (kind) {
        case ActivationKind::Linear: return "linear";
        case ActivationKind::ReLU: return "relu";
        case ActivationKind::Sigmoid: return "sigmoid";
        case ActivationKind::Tanh: return "tanh";
        case ActivationKind::Softmax: return "softmax";
    }
    return "?";
}

inline ActivationKind activation_from_string(const std::string& name) {
    for (ActivationKind k : {ActivationKind::Linear, ActivationKind::ReLU, ActivationKind::Sigmoid,
                             ActivationKind::Tanh, ActivationKind::Softmax})
        if (name == to_string(k)) return k;
    if (name.empty() || name == "none") return ActivationKind::Linear;
    throw ConfigError(ErrorId::config_unknown_name,
                      "unknown activation '" + name + "' (known: linear, relu, sigmoid, tanh, softmax)");
}

}  // namespace lamina
