// lamina/model/reduce_lr_on_plateau.hpp: Keras's ReduceLROnPlateau callback.
//
// Contract: Keras's algorithm, step for step. At each epoch's end, while in
// cooldown the cooldown counter goes down by one and the wait is cleared;
// then an improvement (beyond min_delta in the mode's direction, Monitor in
// monitor.hpp) becomes the best and clears the wait, and otherwise, out of
// cooldown, the wait grows by one. When it reaches `patience` and the
// learning rate is above min_lr, the rate becomes max(lr * factor, min_lr),
// the cooldown starts and the wait is cleared. on_train_begin resets the
// best, wait and cooldown. Keras warns and does nothing when the monitor is
// missing from the logs; lamina throws ConfigError(config_argument) listing
// the keys present, as EarlyStopping does. Arguments outside their range
// (factor not in (0, 1), negative patience, cooldown, min_delta or min_lr, a
// bad mode) are ConfigError(config_argument); Keras checks only factor >= 1,
// but lamina's optimizers reject a learning rate of 0, which factor 0 gives.
// verbose 1 prints Keras's message to std::cout.
#pragma once

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <utility>

#include "lamina/core/error.hpp"
#include "lamina/model/callback.hpp"
#include "lamina/model/filepath_format.hpp"  // detail::python_str
#include "lamina/model/monitor.hpp"

namespace lamina {

class ReduceLROnPlateau : public Callback {
public:
    // Keras's arguments, in Keras's order.
    explicit ReduceLROnPlateau(std::string monitor = "val_loss", double factor = 0.1, int patience = 10,
                               int verbose = 0, const std::string& mode = "auto", double min_delta = 1e-4,
                               int cooldown = 0, double min_lr = 0.0)
        : monitor_("ReduceLROnPlateau", std::move(monitor), mode, min_delta),
          factor_(factor),
          patience_(patience),
          verbose_(verbose),
          cooldown_(cooldown),
          min_lr_(min_lr) {
        const auto bad = [](const std::string& what) {
            return ConfigError(ErrorId::config_argument, "ReduceLROnPlateau: " + what);
        };
        if (!(factor > 0.0 && factor < 1.0))
            throw bad("factor must be in (0, 1) (new_lr = lr * factor), got " + detail::python_str(factor));
        if (patience < 0) throw bad("patience must be >= 0, got " + std::to_string(patience));
        if (cooldown < 0) throw bad("cooldown must be >= 0, got " + std::to_string(cooldown));
        if (!(min_lr >= 0.0 && std::isfinite(min_lr)))
            throw bad("min_lr must be a finite number >= 0, got " + detail::python_str(min_lr));
    }

    void on_train_begin(TrainingControl&, const Logs&) override {
        monitor_.reset();
        wait_ = 0;
        cooldown_counter_ = 0;
    }

    void on_epoch_end(TrainingControl& model, int epoch, const Logs& logs) override {
        const double current = monitor_.value(logs);
        if (in_cooldown()) {
            --cooldown_counter_;
            wait_ = 0;
        }
        if (monitor_.improves(current)) {
            monitor_.set_best(current);
            wait_ = 0;
            return;
        }
        if (in_cooldown()) return;
        if (++wait_ < patience_) return;
        const double old_lr = model.learning_rate();
        if (!(old_lr > min_lr_)) return;  // already at the floor: the wait keeps growing, as in Keras
        const double new_lr = std::max(old_lr * factor_, min_lr_);
        model.set_learning_rate(new_lr);
        if (verbose_ > 0)
            std::cout << "\nEpoch " << epoch + 1 << ": ReduceLROnPlateau reducing learning rate to "
                      << detail::python_str(new_lr) << ".\n"
                      << std::flush;
        cooldown_counter_ = cooldown_;
        wait_ = 0;
    }

    double best() const noexcept { return monitor_.best(); }
    int wait() const noexcept { return wait_; }
    int cooldown_counter() const noexcept { return cooldown_counter_; }

private:
    bool in_cooldown() const noexcept { return cooldown_counter_ > 0; }

    Monitor monitor_;
    double factor_;
    int patience_;
    int verbose_;
    int cooldown_;
    double min_lr_;
    int wait_ = 0;
    int cooldown_counter_ = 0;
};

}  // namespace lamina
