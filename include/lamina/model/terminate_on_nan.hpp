// lamina/model/terminate_on_nan.hpp: Keras's TerminateOnNaN callback.
//
// Contract: after every training batch, if the running loss in the batch
// logs is NaN or infinite, training stops at once (the epoch is not
// finished) and terminated() turns true, with the batch in batch(). Keras
// prints "Batch N: Invalid loss, terminating training"; lamina prints the
// same line to the stream given (std::cerr by default, nullptr for none).
#pragma once

#include <cmath>
#include <iostream>

#include "lamina/model/callback.hpp"

namespace lamina {

class TerminateOnNaN : public Callback {
public:
    explicit TerminateOnNaN(std::ostream* out = &std::cerr) : out_(out) {}

    void on_train_begin(TrainingControl&, const Logs&) override {
        terminated_ = false;
        batch_ = -1;
    }
    void on_train_batch_end(TrainingControl& model, long long batch, const Logs& logs) override {
        const auto loss = logs.find("loss");
        if (loss == logs.end() || std::isfinite(loss->second)) return;
        terminated_ = true;
        batch_ = batch;
        if (out_) *out_ << "Batch " << batch << ": Invalid loss, terminating training\n";
        model.stop_training();
    }

    bool terminated() const noexcept { return terminated_; }
    long long batch() const noexcept { return batch_; }

private:
    std::ostream* out_;
    bool terminated_ = false;
    long long batch_ = -1;
};

}  // namespace lamina
