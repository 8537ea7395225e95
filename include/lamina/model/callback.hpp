// lamina/model/callback.hpp: hooks into fit(), as Keras's Callback.
//
// Contract: fit() calls on_train_begin, then per epoch on_epoch_begin,
// on_train_batch_begin/end for each batch, on_epoch_end (with the epoch's
// logs, validation included), and finally on_train_end. A callback reaches
// the model through TrainingControl: stop training, read or set the
// learning rate, take and restore a snapshot of the weights, save the model
// (whole, or weights only) to a file atomically.
#pragma once

#include <any>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace lamina {

using Logs = std::map<std::string, double>;

// What a callback may do to the model being trained; Sequential implements it.
class TrainingControl {
public:
    virtual ~TrainingControl() = default;
    virtual void stop_training() = 0;
    virtual bool stop_requested() const = 0;
    virtual double learning_rate() const = 0;
    virtual void set_learning_rate(double lr) = 0;
    virtual std::any weights_snapshot() const = 0;
    virtual void restore_weights(const std::any& snapshot) = 0;
    // Writes the model file (docs/file-format.md) atomically: a crash leaves
    // the previous file at `path` intact. weights_only: as save_weights().
    virtual void save_model(const std::string& path, bool weights_only) const = 0;
};

class Callback {
public:
    virtual ~Callback() = default;
    virtual void on_train_begin(TrainingControl&, const Logs&) {}
    virtual void on_train_end(TrainingControl&, const Logs&) {}
    virtual void on_epoch_begin(TrainingControl&, int /*epoch*/, const Logs&) {}
    virtual void on_epoch_end(TrainingControl&, int /*epoch*/, const Logs&) {}
    virtual void on_train_batch_begin(TrainingControl&, long long /*batch*/, const Logs&) {}
    virtual void on_train_batch_end(TrainingControl&, long long /*batch*/, const Logs&) {}
};

// Holds any callback by value or shares one the caller keeps a handle to, so
// FitOptions::callbacks can be written as {EarlyStopping(...), my_ptr}.
class CallbackHandle {
public:
    template <class C, class = std::enable_if_t<std::is_base_of_v<Callback, std::decay_t<C>>>>
    CallbackHandle(C&& c) : ptr_(std::make_shared<std::decay_t<C>>(std::forward<C>(c))) {}
    template <class C, class = std::enable_if_t<std::is_base_of_v<Callback, C>>>
    CallbackHandle(std::shared_ptr<C> c) : ptr_(std::move(c)) {}
    Callback* operator->() const noexcept { return ptr_.get(); }
    Callback& operator*() const noexcept { return *ptr_; }

private:
    std::shared_ptr<Callback> ptr_;
};

// Keras's LambdaCallback: plain functions for the hooks a program needs.
struct LambdaCallback : Callback {
    std::function<void(int, const Logs&)> epoch_begin, epoch_end;
    std::function<void(long long, const Logs&)> batch_begin, batch_end;
    std::function<void(const Logs&)> train_begin, train_end;

    void on_train_begin(TrainingControl&, const Logs& l) override {
        if (train_begin) train_begin(l);
    }
    void on_train_end(TrainingControl&, const Logs& l) override {
        if (train_end) train_end(l);
    }
    void on_epoch_begin(TrainingControl&, int e, const Logs& l) override {
        if (epoch_begin) epoch_begin(e, l);
    }
    void on_epoch_end(TrainingControl&, int e, const Logs& l) override {
        if (epoch_end) epoch_end(e, l);
    }
    void on_train_batch_begin(TrainingControl&, long long b, const Logs& l) override {
        if (batch_begin) batch_begin(b, l);
    }
    void on_train_batch_end(TrainingControl&, long long b, const Logs& l) override {
        if (batch_end) batch_end(b, l);
    }
};

}  // namespace lamina
