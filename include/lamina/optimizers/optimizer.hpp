// lamina/optimizers/optimizer.hpp: the interface every optimizer implements.
//
// Contract: the first build(params) of an optimizer gives every Param fresh,
// zeroed state slots (named by slot_names()), whatever a previous optimizer
// left there: compiling again starts the new optimizer from scratch, as in
// Keras. Later builds only add slots to Params that have none (layers built
// after compile), so state survives between fit() calls; step(params) increments iterations() and
// applies one update to every trainable Param from its grad. The learning
// rate can be read and changed between steps (callbacks, schedules).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class Optimizer {
public:
    using ParamList = std::vector<Param<T, Device>*>;
    explicit Optimizer(double learning_rate) : learning_rate_(learning_rate) {
        check_positive("learning_rate", learning_rate);
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
        ++iterations_;
        for (auto* p : params)
            if (p->trainable) update(*p);
    }

    double learning_rate() const noexcept { return learning_rate_; }
    void set_learning_rate(double lr) {
        check_positive("learning_rate", lr);
        learning_rate_ = lr;
    }
    long long iterations() const noexcept { return iterations_; }
    void set_iterations(long long n) noexcept { iterations_ = n; }

protected:
    virtual void update(Param<T, Device>& p) = 0;

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
    double learning_rate_;
    long long iterations_ = 0;
    bool built_ = false;  // whether this optimizer has initialised the slots it owns
};

template <class T, class Device = Cpu>
using OptimizerPtr = std::unique_ptr<Optimizer<T, Device>>;

}  // namespace lamina
