// lamina/losses/make_loss.hpp: losses by Keras name, as compile("adam", "sparse_categorical_crossentropy").
#pragma once

#include <string>

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

}  // namespace lamina
