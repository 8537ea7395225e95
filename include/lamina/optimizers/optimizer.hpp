// lamina/optimizers/optimizer.hpp: the interface every optimizer implements.
//
// Contract: the first build(params) of an optimizer gives every Param fresh,
// zeroed state slots (named by slot_names()), whatever a previous optimizer
// left there: compiling again starts the new optimizer from scratch, as in
// Keras. Later builds only add slots to Params that have none (layers built
// after compile), so state survives between fit() calls; step(params) increments iterations() and
// applies one update to every trainable Param from its grad, after the
// decoupled weight decay w -= w * lr * weight_decay where that is set. The learning
// rate is a number, which callbacks may read and change between steps, or
// a schedule of the step count (schedules.hpp), which they may only read.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/backend/backend.hpp"
#include "lamina/core/error.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/optimizers/schedules.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class Optimizer {
public:
    using ParamList = std::vector<Param<T, Device>*>;
    explicit Optimizer(LearningRate learning_rate, double weight_decay = 0.0)
        : learning_rate_(std::move(learning_rate)), weight_decay_(weight_decay) {
        if (!learning_rate_.schedule()) check_positive("learning_rate", learning_rate_.at(0));
        if (!(weight_decay >= 0.0 && weight_decay < 1.0))
            throw ConfigError(ErrorId::config_argument,
                              "optimizer: weight_decay must be in [0, 1), got " + std::to_string(weight_decay));
    }
    virtual ~Optimizer() = default;

    virtual std::string name() const = 0;
    virtual std::vector<std::string> slot_names() const = 0;
    virtual std::vector<std::pair<std::string, double>> config() const = 0;

    void build(const ParamList& params) {
        const auto names = slot_names();
        const bool fresh = !built_;
        built_ = true;
        for (auto* p : params) {
            if (!fresh && p->slots.size() == names.size()) continue;
            p->slots.assign(names.size(), Tensor<T, Device>(p->value.shape()));
            for (auto& s : p->slots) s.set_zero();
        }
    }

    void step(const ParamList& params) {
        step_rate_ = learning_rate();
        ++iterations_;
        // Decoupled weight decay (Keras 3): w -= w * lr * weight_decay, then the update.
        const T decay = T(step_rate_ * weight_decay_);
        for (auto* p : params)
            if (p->trainable) {
                if (weight_decay_ > 0) Backend<Device>::decay_weights(p->value.view(), decay);
                update(*p);
            }
    }

    // The rate of the next update.
    double learning_rate() const { return learning_rate_.at(iterations_); }
    void set_learning_rate(double lr) {
        if (const auto& s = learning_rate_.schedule())
            throw ConfigError(ErrorId::config_state, "optimizer: the learning rate follows the schedule " + s->name() +
                                                         " and cannot be set (by a LearningRateScheduler or "
                                                         "ReduceLROnPlateau callback); use a number to set it");
        check_positive("learning_rate", lr);
        learning_rate_ = LearningRate(lr);
    }
    const std::shared_ptr<const LearningRateSchedule>& learning_rate_schedule() const noexcept {
        return learning_rate_.schedule();
    }
    double weight_decay() const noexcept { return weight_decay_; }
    long long iterations() const noexcept { return iterations_; }
    void set_iterations(long long n) noexcept { iterations_ = n; }

protected:
    virtual void update(Param<T, Device>& p) = 0;
    // The rate of the update being made (inside update()).
    double step_learning_rate() const noexcept { return step_rate_; }
    // The learning rate's settings for config(): {"learning_rate", value},
    // or the schedule as "learning_rate_schedule:<Name>" and its settings
    // as "learning_rate:<setting>" (make_optimizer reads both back).
    std::vector<std::pair<std::string, double>> learning_rate_config() const {
        const auto& s = learning_rate_.schedule();
        if (!s) return {{"learning_rate", learning_rate_.at(0)}};
        std::vector<std::pair<std::string, double>> c{{"learning_rate_schedule:" + s->name(), 1.0}};
        for (const auto& [k, v] : s->config()) c.emplace_back("learning_rate:" + k, v);
        return c;
    }
    // config(): learning_rate_config(), the optimizer's own settings, and weight_decay when set.
    std::vector<std::pair<std::string, double>> settings_with(std::vector<std::pair<std::string, double>> own) const {
        auto c = learning_rate_config();
        c.insert(c.end(), own.begin(), own.end());
        if (weight_decay_ > 0) c.emplace_back("weight_decay", weight_decay_);
        return c;
    }

    void check_positive(const char* what, double v) const {
        if (!(v > 0.0))
            throw ConfigError(ErrorId::config_argument,
                              "optimizer: " + std::string(what) + " must be > 0, got " + std::to_string(v));
    }
    void check_unit(const char* what, double v) const {
        if (!(v >= 0.0 && v < 1.0))
            throw ConfigError(ErrorId::config_argument,
                              "optimizer: " + std::string(what) + " must be in [0, 1), got " + std::to_string(v));
    }

private:
    LearningRate learning_rate_;
    double weight_decay_;
    double step_rate_ = 0;
    long long iterations_ = 0;
    bool built_ = false;  // whether this optimizer has initialised the slots it owns
};

template <class T, class Device = Cpu>
using OptimizerPtr = std::unique_ptr<Optimizer<T, Device>>;

}  // namespace lamina
