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
    if (name == "adamw") return AdamW().make<T, Device>();
    throw ConfigError(ErrorId::config_unknown_name,
                      "unknown optimizer '" + name + "' (known: sgd, adam, adamw, rmsprop)");
}

// The inverse of Optimizer::name()/config(), for model files. A setting
// missing from `config` keeps Keras's default; an unknown one, or a value out
// of range, is a ConfigError. A schedule comes as "learning_rate_schedule:<Name>"
// with its settings as "learning_rate:<setting>" (Optimizer::learning_rate_config).
template <class T, class Device>
OptimizerPtr<T, Device> make_optimizer(const std::string& name,
                                       const std::vector<std::pair<std::string, double>>& config) {
    std::string schedule;
    ScheduleConfig schedule_config;
    std::vector<std::pair<std::string, double>> own;
    for (const auto& [key, value] : config) {
        if (key.rfind("learning_rate_schedule:", 0) == 0) {
            if (!schedule.empty())
                throw ConfigError(ErrorId::config_argument, "optimizer " + name + ": two learning-rate schedules");
            schedule = key.substr(std::string("learning_rate_schedule:").size());
        } else if (key.rfind("learning_rate:", 0) == 0) {
            schedule_config.emplace_back(key.substr(std::string("learning_rate:").size()), value);
        } else {
            own.emplace_back(key, value);
        }
    }
    if (schedule.empty() && !schedule_config.empty())
        throw ConfigError(ErrorId::config_argument,
                          "optimizer " + name + ": schedule settings without a learning_rate_schedule");
    double lr = -1;  // -1: not given
    auto apply = [&](std::initializer_list<std::pair<const char*, double*>> fields) {
        for (const auto& [key, value] : own) {
            bool known = false;
            for (const auto& [field, target] : fields)
                if (key == field) {
                    *target = value;
                    known = true;
                }
            if (key == "learning_rate") known = true, lr = value;
            if (!known)
                throw ConfigError(ErrorId::config_argument, "optimizer " + name + ": unknown setting '" + key + "'");
        }
    };
    // The rate as the file gives it: a schedule, a number, or the default.
    auto rate = [&](const LearningRate& fallback) -> LearningRate {
        if (!schedule.empty()) {
            if (lr != -1)
                throw ConfigError(ErrorId::config_argument,
                                  "optimizer " + name + ": both a learning_rate and a schedule");
            return LearningRate(make_schedule(schedule, schedule_config));
        }
        return lr != -1 ? LearningRate(lr) : fallback;
    };
    if (name == "SGD") {
        SGD o;
        double nesterov = 0;
        apply({{"momentum", &o.momentum}, {"nesterov", &nesterov}, {"weight_decay", &o.weight_decay}});
        o.nesterov = nesterov != 0.0;
        o.learning_rate = rate(o.learning_rate);
        return o.make<T, Device>();
    }
    if (name == "Adam" || name == "AdamW") {
        Adam o;
        double amsgrad = 0, weight_decay = name == "AdamW" ? AdamW().weight_decay : 0.0;
        apply({{"beta_1", &o.beta_1},
               {"beta_2", &o.beta_2},
               {"epsilon", &o.epsilon},
               {"amsgrad", &amsgrad},
               {"weight_decay", &weight_decay}});
        o.amsgrad = amsgrad != 0.0;
        o.learning_rate = rate(o.learning_rate);
        if (name == "Adam") {
            o.weight_decay = weight_decay;
            return o.make<T, Device>();
        }
        return AdamW(o.learning_rate, weight_decay, o.beta_1, o.beta_2, o.epsilon, o.amsgrad).make<T, Device>();
    }
    if (name == "RMSprop") {
        RMSprop o;
        double centered = 0;
        apply({{"rho", &o.rho},
               {"momentum", &o.momentum},
               {"epsilon", &o.epsilon},
               {"centered", &centered},
               {"weight_decay", &o.weight_decay}});
        o.centered = centered != 0.0;
        o.learning_rate = rate(o.learning_rate);
        return o.make<T, Device>();
    }
    throw ConfigError(ErrorId::config_unknown_name,
                      "unknown optimizer '" + name + "' (known: SGD, Adam, AdamW, RMSprop)");
}

}  // namespace lamina
