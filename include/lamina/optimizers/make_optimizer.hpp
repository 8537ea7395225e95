// lamina/optimizers/make_optimizer.hpp: optimizers by Keras name with Keras's
// defaults, as compile("adam", ...). Names are case-insensitive.
#pragma once

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

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

// The inverse of Optimizer::name()/config(), for model files. A setting
// missing from `config` keeps Keras's default; an unknown one, or a value out
// of range, is a ConfigError.
template <class T, class Device>
OptimizerPtr<T, Device> make_optimizer(const std::string& name,
                                       const std::vector<std::pair<std::string, double>>& config) {
    auto apply = [&](std::initializer_list<std::pair<const char*, double*>> fields) {
        for (const auto& [key, value] : config) {
            bool known = false;
            for (const auto& [field, target] : fields)
                if (key == field) {
                    *target = value;
                    known = true;
                }
            if (!known)
                throw ConfigError(ErrorId::config_argument, "optimizer " + name + ": unknown setting '" + key + "'");
        }
    };
    if (name == "SGD") {
        SGD o;
        double nesterov = 0;
        apply({{"learning_rate", &o.learning_rate}, {"momentum", &o.momentum}, {"nesterov", &nesterov}});
        o.nesterov = nesterov != 0.0;
        return o.make<T, Device>();
    }
    if (name == "Adam") {
        Adam o;
        double amsgrad = 0;
        apply({{"learning_rate", &o.learning_rate},
               {"beta_1", &o.beta_1},
               {"beta_2", &o.beta_2},
               {"epsilon", &o.epsilon},
               {"amsgrad", &amsgrad}});
        o.amsgrad = amsgrad != 0.0;
        return o.make<T, Device>();
    }
    if (name == "RMSprop") {
        RMSprop o;
        double centered = 0;
        apply({{"learning_rate", &o.learning_rate},
               {"rho", &o.rho},
               {"momentum", &o.momentum},
               {"epsilon", &o.epsilon},
               {"centered", &centered}});
        o.centered = centered != 0.0;
        return o.make<T, Device>();
    }
    throw ConfigError(ErrorId::config_unknown_name, "unknown optimizer '" + name + "' (known: SGD, Adam, RMSprop)");
}

}  // namespace lamina
