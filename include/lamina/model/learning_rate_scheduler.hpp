// lamina/model/learning_rate_scheduler.hpp: Keras's LearningRateScheduler callback.
//
// Contract: at the start of every epoch the optimizer's learning rate becomes
// schedule(epoch, current learning rate), epoch being the 0-based index fit()
// gives (so with initial_epoch the schedule sees the continued numbering).
// A result that is not a finite number > 0 is a ConfigError(config_argument)
// naming the epoch and the value, raised before the optimizer is touched;
// Keras would hand it to the optimizer. An empty schedule is a ConfigError
// at construction. verbose 1 prints Keras's message to std::cout.
// Keras's older one-argument schedule(epoch) is not taken: write
// [](int epoch, double) { ... }.
#pragma once

#include <cmath>
#include <functional>
#include <iostream>
#include <string>
#include <utility>

#include "lamina/core/error.hpp"
#include "lamina/model/callback.hpp"
#include "lamina/model/filepath_format.hpp"  // detail::python_str

namespace lamina {

class LearningRateScheduler : public Callback {
public:
    using Schedule = std::function<double(int epoch, double learning_rate)>;

    explicit LearningRateScheduler(Schedule schedule, int verbose = 0)
        : schedule_(std::move(schedule)), verbose_(verbose) {
        if (!schedule_)
            throw ConfigError(ErrorId::config_argument, "LearningRateScheduler: schedule is an empty function");
    }

    void on_epoch_begin(TrainingControl& model, int epoch, const Logs&) override {
        const double current = model.learning_rate();
        const double lr = schedule_(epoch, current);
        if (!(std::isfinite(lr) && lr > 0))
            throw ConfigError(ErrorId::config_argument,
                              "LearningRateScheduler: schedule(epoch " + std::to_string(epoch) + ", learning rate " +
                                  detail::python_str(current) + ") returned " + detail::python_str(lr) +
                                  "; a learning rate must be finite and > 0");
        model.set_learning_rate(lr);
        if (verbose_ > 0)
            std::cout << "\nEpoch " << epoch + 1 << ": LearningRateScheduler setting learning rate to "
                      << detail::python_str(lr) << ".\n"
                      << std::flush;
    }

private:
    Schedule schedule_;
    int verbose_;
};

}  // namespace lamina
