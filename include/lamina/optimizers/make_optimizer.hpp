// lamina/optimizers/make_optimizer.hpp: optimizers by Keras name with Keras's
// defaults, as compile("adam", ...). Names are case-insensitive.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

#include "lamina/optimizers/adam.hpp"
#include "lamina/optimizers/rmsprop.hpp"
#include "lamina/optimizers/sgd.hpp"

namespace lamina {

template <class T, class Device>
OptimizerPtr<T, Device> make_optimizer(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (name == "sgd") return SGD().make<T, Device>();
    if (name == "adam") return Adam().make<T, Device>();
    if (name == "rmsprop") return RMSprop().make<T, Device>();
    throw ConfigError(ErrorId::config_unknown_name, "unknown optimizer '" + name + "' (known: sgd, adam, rmsprop)");
}

}  // namespace lamina
