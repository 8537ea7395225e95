// lamina/model/early_stopping.hpp: Keras's EarlyStopping callback.
//
// Contract: after each epoch (from start_from_epoch on) the monitored value is
// compared with the best so far; an improvement is a change beyond min_delta
// in the mode's direction (Monitor, monitor.hpp: "auto" is max for
// accuracy-like names, else min).
// After `patience` epochs without one, training stops, and with
// restore_best_weights the weights of the best epoch are put back.
// A monitor missing from the logs is a ConfigError naming the keys present.
#pragma once

#include <any>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "lamina/core/error.hpp"
#include "lamina/model/callback.hpp"
#include "lamina/model/monitor.hpp"

namespace lamina {

class EarlyStopping : public Callback {
public:
    // Keras's argument order: EarlyStopping(monitor, min_delta, patience, verbose, mode, baseline,
    // restore_best_weights, start_from_epoch); the positional C++ form leads with what
    // notebooks set most: EarlyStopping(patience, restore_best_weights, monitor).
    explicit EarlyStopping(int patience = 0, bool restore_best_weights = false, std::string monitor = "val_loss",
                           double min_delta = 0.0, std::string mode = "auto", int start_from_epoch = 0)
        : monitor_("EarlyStopping", std::move(monitor), mode, std::abs(min_delta)),
          patience_(patience),
          restore_best_weights_(restore_best_weights),
          start_from_epoch_(start_from_epoch) {
        if (patience < 0)
            throw ConfigError(ErrorId::config_argument,
                              "EarlyStopping: patience must be >= 0, got " + std::to_string(patience));
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
            wait_ = 0;
            return;
        }
        if (wait_ >= patience_ && epoch > 0) {
            stopped_epoch_ = epoch;
            model.stop_training();
            if (restore_best_weights_ && best_weights_.has_value()) model.restore_weights(*best_weights_);
        }
    }

    int stopped_epoch() const noexcept { return stopped_epoch_; }  // -1 when training ran to the end
    int best_epoch() const noexcept { return best_epoch_; }
    double best() const noexcept { return monitor_.best(); }

private:
    Monitor monitor_;
    int patience_;
    bool restore_best_weights_;
    int start_from_epoch_;

    int wait_ = 0, stopped_epoch_ = -1, best_epoch_ = -1;
    std::optional<std::any> best_weights_;
};

}  // namespace lamina
