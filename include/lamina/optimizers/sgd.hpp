// lamina/optimizers/sgd.hpp: Keras's SGD(learning_rate=0.01, momentum=0, nesterov=False,
// weight_decay=None); the rate may be a schedule, weight decay is decoupled (optimizer.hpp).
// Slots: "momentum" (only used when momentum > 0).
#pragma once

#include <utility>

#include "lamina/backend/backend.hpp"
#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class SGDOptimizer : public Optimizer<T, Device> {
public:
    SGDOptimizer(LearningRate lr, double momentum, bool nesterov, double weight_decay = 0.0)
        : Optimizer<T, Device>(std::move(lr), weight_decay), momentum_(momentum), nesterov_(nesterov) {
        this->check_unit("momentum", momentum);
    }
    std::string name() const override { return "SGD"; }
    std::vector<std::string> slot_names() const override {
        if (momentum_ > 0) return {"momentum"};
        return {};
    }
    std::vector<std::pair<std::string, double>> config() const override {
        return this->settings_with({{"momentum", momentum_}, {"nesterov", nesterov_ ? 1.0 : 0.0}});
    }

protected:
    void update(Param<T, Device>& p) override {
        Backend<Device>::sgd_update(p.value.view(), p.grad.cview(), momentum_ > 0 ? p.slots[0].data() : nullptr,
                                    T(this->step_learning_rate()), T(momentum_), nesterov_);
    }

private:
    double momentum_;
    bool nesterov_;
};

struct SGD {
    LearningRate learning_rate = 0.01;  // a number or a schedule (schedules.hpp)
    double momentum = 0.0;
    bool nesterov = false;
    double weight_decay = 0.0;
    explicit SGD(LearningRate lr = 0.01, double momentum_ = 0.0, bool nesterov_ = false, double weight_decay_ = 0.0)
        : learning_rate(std::move(lr)), momentum(momentum_), nesterov(nesterov_), weight_decay(weight_decay_) {}
    template <class T, class Device>
    OptimizerPtr<T, Device> make() const {
        return std::make_unique<SGDOptimizer<T, Device>>(learning_rate, momentum, nesterov, weight_decay);
    }
};

}  // namespace lamina
