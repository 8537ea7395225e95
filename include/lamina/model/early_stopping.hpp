// lamina/model/early_stopping.hpp: Keras's EarlyStopping callback.
//
// Contract: after each epoch (from start_from_epoch on) the monitored value is
// compared with the best so far; an improvement is a change beyond min_delta
// in the mode's direction (Monitor, monitor.hpp: "auto" is max for
// accuracy-like names, else min).
// After `patience` epochs without one, training stops, and with
// restore_best_weights the weights of the best epoch are put back. With a
// baseline, an improvement resets the patience only when it also beats the
// baseline. verbose 1 prints Keras's two lines to `out` (std::cout): the
// weights restored, and the epoch at which training stopped.
// A monitor missing from the logs is a ConfigError naming the keys present.
#pragma once

#include <any>
#include <cmath>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

#include "lamina/core/error.hpp"
#include "lamina/model/callback.hpp"
#include "lamina/model/monitor.hpp"

namespace lamina {

// Keras's keyword arguments, in Keras's order:
//   EarlyStopping({.patience = 3, .verbose = 1, .restore_best_weights = true})
struct EarlyStoppingOptions {
    std::string monitor = "val_loss";
    double min_delta = 0.0;
    int patience = 0;
    int verbose = 0;
    std::string mode = "auto";
    std::optional<double> baseline;
    bool restore_best_weights = false;
    int start_from_epoch = 0;
};

class EarlyStopping : public Callback {
public:
    // Keras's argument order: EarlyStopping(monitor, min_delta, patience, verbose, mode, baseline,
    // restore_best_weights, start_from_epoch); the positional C++ form leads with what
    // notebooks set most: EarlyStopping(patience, restore_best_weights, monitor).
    explicit EarlyStopping(int patience = 0, bool restore_best_weights = false, std::string monitor = "val_loss",
                           double min_delta = 0.0, std::string mode = "auto", int start_from_epoch = 0, int verbose = 0)
        : EarlyStopping(EarlyStoppingOptions{std::move(monitor), min_delta, patience, verbose, std::move(mode),
                                             std::nullopt, restore_best_weights, start_from_epoch}) {}
    explicit EarlyStopping(const EarlyStoppingOptions& o, std::ostream* out = &std::cout)
        : monitor_("EarlyStopping", o.monitor, o.mode, std::abs(o.min_delta)),
          patience_(o.patience),
          verbose_(o.verbose),
          baseline_(o.baseline),
          restore_best_weights_(o.restore_best_weights),
          start_from_epoch_(o.start_from_epoch),
          out_(out) {
        if (o.patience < 0)
            throw ConfigError(ErrorId::config_argument,
                              "EarlyStopping: patience must be >= 0, got " + std::to_string(o.patience));
        if (o.verbose < 0 || o.verbose > 2)
            throw ConfigError(ErrorId::config_argument,
                              "EarlyStopping: verbose must be 0, 1 or 2, got " + std::to_string(o.verbose));
        if (o.baseline && !std::isfinite(*o.baseline))
            throw ConfigError(ErrorId::config_argument, "EarlyStopping: baseline must be finite");
    }

    void on_train_begin(TrainingControl&, const Logs&) override {
        wait_ = 0;
        stopped_epoch_ = -1;
        best_epoch_ = -1;
        monitor_.reset();
        best_weights_.reset();
    }

    void on_epoch_end(TrainingControl& model, int epoch, const Logs& logs) override {
        if (epoch < start_from_epoch_) return;
        const double current = monitor_.value(logs);
        if (restore_best_weights_ && !best_weights_.has_value()) best_weights_ = model.weights_snapshot();
        ++wait_;
        if (monitor_.improves(current)) {
            monitor_.set_best(current);
            best_epoch_ = epoch;
            if (restore_best_weights_) best_weights_ = model.weights_snapshot();
            // Only an improvement that also beats the baseline restarts the wait.
            if (!baseline_ || monitor_.improves_on(current, *baseline_)) wait_ = 0;
            return;
        }
        if (wait_ >= patience_ && epoch > 0) {
            stopped_epoch_ = epoch;
            model.stop_training();
            if (restore_best_weights_ && best_weights_.has_value()) {
                if (verbose_ > 0 && out_)
                    *out_ << "Restoring model weights from the end of the best epoch: " << best_epoch_ + 1 << ".\n";
                model.restore_weights(*best_weights_);
            }
        }
    }

    void on_train_end(TrainingControl&, const Logs&) override {
        if (stopped_epoch_ > 0 && verbose_ > 0 && out_) *out_ << "Epoch " << stopped_epoch_ + 1 << ": early stopping\n";
    }

    int stopped_epoch() const noexcept { return stopped_epoch_; }  // -1 when training ran to the end
    int best_epoch() const noexcept { return best_epoch_; }
    double best() const noexcept { return monitor_.best(); }

private:
    Monitor monitor_;
    int patience_;
    int verbose_;
    std::optional<double> baseline_;
    bool restore_best_weights_;
    int start_from_epoch_;
    std::ostream* out_;

    int wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
    std::optional<std::any> best_weights_;
};

}  // namespace lamina
