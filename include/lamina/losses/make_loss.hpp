// lamina/losses/make_loss.hpp: losses by Keras name, as compile("adam", "sparse_categorical_crossentropy").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lamina/losses/binary_crossentropy.hpp"
#include "lamina/losses/categorical_crossentropy.hpp"
#include "lamina/losses/mean_squared_error.hpp"
#include "lamina/losses/sparse_categorical_crossentropy.hpp"

namespace lamina {

template <class T, class Device>
LossPtr<T, Device> make_loss(const std::string& name) {
    if (name == "sparse_categorical_crossentropy") return SparseCategoricalCrossentropy().make<T, Device>();
    if (name == "categorical_crossentropy") return CategoricalCrossentropy().make<T, Device>();
    if (name == "binary_crossentropy") return BinaryCrossentropy().make<T, Device>();
    if (name == "mean_squared_error" || name == "mse") return MeanSquaredError().make<T, Device>();
    throw ConfigError(ErrorId::config_unknown_name,
                      "unknown loss '" + name +
                          "' (known: sparse_categorical_crossentropy, categorical_crossentropy, "
                          "binary_crossentropy, mean_squared_error/mse)");
}

// The inverse of Loss::name()/config(), for model files. A setting missing
// from `config` keeps its default; an unknown one is a ConfigError.
template <class T, class Device>
LossPtr<T, Device> make_loss(const std::string& name, const std::vector<std::pair<std::string, double>>& config) {
    const bool has_logits = name != "mean_squared_error" && name != "mse";
    const bool categorical = name == "sparse_categorical_crossentropy" || name == "categorical_crossentropy";
    bool from_logits = false;
    double label_smoothing = 0.0;
    for (const auto& [key, value] : config) {
        if (key == "from_logits" && has_logits) from_logits = value != 0.0;
        else if (key == "label_smoothing" && categorical) label_smoothing = value;
        else throw ConfigError(ErrorId::config_argument, "loss '" + name + "': unknown setting '" + key + "'");
    }
    if (name == "sparse_categorical_crossentropy")
        return SparseCategoricalCrossentropy(from_logits, label_smoothing).make<T, Device>();
    if (name == "categorical_crossentropy")
        return CategoricalCrossentropy(from_logits, label_smoothing).make<T, Device>();
    if (name == "binary_crossentropy") return BinaryCrossentropy(from_logits).make<T, Device>();
    return make_loss<T, Device>(name);
}

}  // namespace lamina
