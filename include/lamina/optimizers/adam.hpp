// lamina/optimizers/adam.hpp: Keras's Adam(learning_rate=0.001, beta_1=0.9,
// beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None) and
// AdamW(learning_rate=0.001, weight_decay=0.004, ...), the same update with
// decoupled weight decay (optimizer.hpp). Slots: "m", "v" (+ "vhat").
#pragma once

#include <cmath>
#include <utility>

#include "lamina/backend/backend.hpp"
#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class AdamOptimizer : public Optimizer<T, Device> {
public:
    AdamOptimizer(LearningRate lr, double beta_1, double beta_2, double epsilon, bool amsgrad,
                  double weight_decay = 0.0, std::string name = "Adam")
        : Optimizer<T, Device>(std::move(lr), weight_decay),
          beta_1_(beta_1),
          beta_2_(beta_2),
          epsilon_(epsilon),
          amsgrad_(amsgrad),
          name_(std::move(name)) {
        this->check_unit("beta_1", beta_1);
        this->check_unit("beta_2", beta_2);
        this->check_positive("epsilon", epsilon);
    }
    std::string name() const override { return name_; }
    std::vector<std::string> slot_names() const override {
        if (amsgrad_) return {"m", "v", "vhat"};
        return {"m", "v"};
    }
    std::vector<std::pair<std::string, double>> config() const override {
        return this->settings_with(
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
    std::string name_;  // "Adam" or "AdamW"
};

struct Adam {
    LearningRate learning_rate = 0.001;  // a number or a schedule (schedules.hpp)
    double beta_1 = 0.9;
    double beta_2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;
    double weight_decay = 0.0;
    explicit Adam(LearningRate lr = 0.001, double b1 = 0.9, double b2 = 0.999, double eps = 1e-7, bool ams = false,
                  double weight_decay_ = 0.0)
        : learning_rate(std::move(lr)),
          beta_1(b1),
          beta_2(b2),
          epsilon(eps),
          amsgrad(ams),
          weight_decay(weight_decay_) {}
    template <class T, class Device>
    OptimizerPtr<T, Device> make() const {
        return std::make_unique<AdamOptimizer<T, Device>>(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                                                          weight_decay);
    }
};

// Keras's AdamW: weight_decay comes second and defaults to 0.004.
struct AdamW {
    LearningRate learning_rate = 0.001;  // a number or a schedule (schedules.hpp)
    double weight_decay = 0.004;
    double beta_1 = 0.9;
    double beta_2 = 0.999;
    double epsilon = 1e-7;
    bool amsgrad = false;
    explicit AdamW(LearningRate lr = 0.001, double weight_decay_ = 0.004, double b1 = 0.9, double b2 = 0.999,
                   double eps = 1e-7, bool ams = false)
        : learning_rate(std::move(lr)),
          weight_decay(weight_decay_),
          beta_1(b1),
          beta_2(b2),
          epsilon(eps),
          amsgrad(ams) {}
    template <class T, class Device>
    OptimizerPtr<T, Device> make() const {
        return std::make_unique<AdamOptimizer<T, Device>>(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay,
                                                          "AdamW");
    }
};

}  // namespace lamina
