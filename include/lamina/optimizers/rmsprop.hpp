// lamina/optimizers/rmsprop.hpp: Keras's RMSprop(learning_rate=0.001, rho=0.9,
// momentum=0, epsilon=1e-7, centered=False). Slots: "velocity" (+ "average_gradient", "momentum").
#pragma once

#include <utility>

#include "lamina/backend/backend.hpp"
#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class RMSpropOptimizer : public Optimizer<T, Device> {
public:
    RMSpropOptimizer(LearningRate lr, double rho, double momentum, double epsilon, bool centered,
                     double weight_decay = 0.0)
        : Optimizer<T, Device>(std::move(lr), weight_decay),
          rho_(rho),
          momentum_(momentum),
          epsilon_(epsilon),
          centered_(centered) {
        this->check_unit("rho", rho);
        this->check_unit("momentum", momentum);
        this->check_positive("epsilon", epsilon);
    }
    std::string name() const override { return "RMSprop"; }
    std::vector<std::string> slot_names() const override {
        std::vector<std::string> s{"velocity"};
        if (centered_) s.push_back("average_gradient");
        if (momentum_ > 0) s.push_back("momentum");
        return s;
    }
    std::vector<std::pair<std::string, double>> config() const override {
        return this->settings_with(
            {{"rho", rho_}, {"momentum", momentum_}, {"epsilon", epsilon_}, {"centered", centered_ ? 1.0 : 0.0}});
    }

protected:
    void update(Param<T, Device>& p) override {
        Tensor<T, Device>* mg = centered_ ? &p.slots[1] : nullptr;
        Tensor<T, Device>* mom = momentum_ > 0 ? &p.slots[centered_ ? 2 : 1] : nullptr;
        Backend<Device>::rmsprop_update(p.value.view(), p.grad.cview(), p.slots[0].view(), mg ? mg->data() : nullptr,
                                        mom ? mom->data() : nullptr, T(this->step_learning_rate()), T(rho_),
                                        T(1.0 - rho_), T(momentum_), T(epsilon_));
    }

private:
    double rho_, momentum_, epsilon_;
    bool centered_;
};

struct RMSprop {
    LearningRate learning_rate = 0.001;  // a number or a schedule (schedules.hpp)
    double rho = 0.9;
    double momentum = 0.0;
    double epsilon = 1e-7;
    bool centered = false;
    double weight_decay = 0.0;
    explicit RMSprop(LearningRate lr = 0.001, double rho_ = 0.9, double momentum_ = 0.0, double eps = 1e-7,
                     bool centered_ = false, double weight_decay_ = 0.0)
        : learning_rate(std::move(lr)),
          rho(rho_),
          momentum(momentum_),
          epsilon(eps),
          centered(centered_),
          weight_decay(weight_decay_) {}
    template <class T, class Device>
    OptimizerPtr<T, Device> make() const {
        return std::make_unique<RMSpropOptimizer<T, Device>>(learning_rate, rho, momentum, epsilon, centered,
                                                             weight_decay);
    }
};

}  // namespace lamina
