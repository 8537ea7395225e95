// lamina/optimizers/adam.hpp: Keras's Adam(learning_rate=0.001, beta_1=0.9,
// beta_2=0.999, epsilon=1e-7, amsgrad=False). Slots: "m", "v" (+ "vhat").
#pragma once

#include <cmath>
#include <utility>

#include "lamina/backend/backend.hpp"
#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class AdamOptimizer : public Optimizer<T, Device> {
public:
    AdamOptimizer(LearningRate lr, double beta_1, double beta_2, double epsilon, bool amsgrad)
        : Optimizer<T, Device>(lr), beta_1_(beta_1), beta_2_(beta_2), epsilon_(epsilon), amsgrad_(amsgrad) {
        this->check_unit("beta_1", beta_1);
        this->check_unit("beta_2", beta_2);
        this->check_positive("epsilon", epsilon);
    }
    std::string name() const override { return "Adam"; }
    std::vector<std::string> slot_names() const override {
        if (amsgrad_) return {"m", "v", "vhat"};
        return {"m", "v"};
    }
    std::vector<std::pair<std::string, double>> config() const override {
        return this->with_learning_rate(
            {{"beta_1", beta_1_}, {"beta_2", beta_2_}, {"epsilon", epsilon_}, {"amsgrad", amsgrad_ ? 1.0 : 0.0}});
    }

protected:
    void update(Param<T, Device>& p) override {
        // Bias correction folded into the step size, computed in double once per step.
        const double t = double(this->iterations());
        const double alpha =
            this->step_learning_rate() * std::sqrt(1.0 - std::pow(beta_2_, t)) / (1.0 - std::pow(beta_1_, t));
        Backend<Device>::adam_update(p.value.view(), p.grad.cview(), p.slots[0].view(), p.slots[1].view(),
                                     amsgrad_ ? p.slots[2].data() : nullptr, T(alpha), T(1.0 - beta_1_),
                                     T(1.0 - beta_2_), T(epsilon_));
    }

private:
    double beta_1_, beta_2_, epsilon_;
    bool amsgrad_;
};

struct Adam {
    LearningRate learning_rate = 0.001;  // a number or a schedule (schedules.hpp)
    double beta_1 = 0.9;
    double beta_2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;
    explicit Adam(LearningRate lr = 0.001, double b1 = 0.9, double b2 = 0.999, double eps = 1e-7, bool ams = false)
        : learning_rate(lr), beta_1(b1), beta_2(b2), epsilon(eps), amsgrad(ams) {}
    template <class T, class Device>
    OptimizerPtr<T, Device> make() const {
        return std::make_unique<AdamOptimizer<T, Device>>(learning_rate, beta_1, beta_2, epsilon, amsgrad);
    }
};

}  // namespace lamina
