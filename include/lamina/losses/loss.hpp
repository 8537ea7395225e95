// lamina/losses/loss.hpp: the interface every loss implements.
//
// Contract: pred is the model output (batch, K); target is (batch,) integer
// class ids held as T for the sparse losses, else (batch, K). compute()
// returns the batch mean (Keras's "sum_over_batch_size" reduction) and, when
// grad is not null, writes dL/dpred (batch, K), already divided by the batch.
// check_targets() validates shapes and label ranges before training starts.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/accuracy_kind.hpp"
#include "lamina/core/device.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class Loss {
public:
    using TensorType = Tensor<T, Device>;
    virtual ~Loss() = default;

    // Keras's name: "sparse_categorical_crossentropy", ...
    virtual std::string name() const = 0;
    // Settings as (key, value) numbers, for model files: {"from_logits", 1}.
    virtual std::vector<std::pair<std::string, double>> config() const { return {}; }
    // output: the model's per-sample output shape; targets: all of y, on the host.
    virtual void check_targets(const Shape& output, const Tensor<T, Cpu>& targets) const = 0;
    // The batch's mean loss, and dL/dpred into grad when it is not null. On a
    // GPU this waits for the device: fit uses accumulate() instead.
    T compute(const TensorType& pred, const TensorType& target, TensorType* grad) const {
        return batch_loss(pred, target, grad, nullptr);
    }
    // As compute(), but adds mean loss x batch rows to *running_total (device
    // memory: Backend<Device>::RunningSums) instead of returning it, so that
    // a training step need not wait for the device.
    void accumulate(const TensorType& pred, const TensorType& target, TensorType* grad, double* running_total) const {
        batch_loss(pred, target, grad, running_total);
    }
    virtual AccuracyKind accuracy_kind() const = 0;
    // Per-sample shape the targets must have, given the model's output shape.
    virtual Shape target_shape(const Shape& output) const { return output; }

    // Cross-entropy on softmax probabilities can hand the model dL/d(logits)
    // directly: the exact gradient of compute()'s clipped value, (p - y) / batch
    // while nothing saturates. Returns false where that does not apply.
    virtual bool logit_gradient(const TensorType& /*probs*/, const TensorType& /*target*/, TensorType& /*grad*/) const {
        return false;
    }
    virtual bool supports_logit_gradient() const { return false; }

protected:
    // What compute() and accumulate() do: the mean, returned when total is
    // null, else added (times the rows) to *total on the device.
    virtual T batch_loss(const TensorType& pred, const TensorType& target, TensorType* grad, double* total) const = 0;
};

template <class T, class Device = Cpu>
using LossPtr = std::unique_ptr<Loss<T, Device>>;

namespace detail {
// Probabilities are clipped to [eps, 1 - eps] as Keras does (its epsilon()).
constexpr double prob_epsilon = 1e-7;

inline void require_output_rank1(const std::string& loss, const Shape& output) {
    if (output.rank() != 1)
        throw ShapeError(ErrorId::shape_mismatch, loss + ": the model's output must be (None, classes), got " +
                                                      output.keras_str() + "; add Flatten() or Dense before the loss");
}

template <class T>
void check_target_rows(const std::string& loss, const Shape& expected_sample, const Tensor<T>& targets) {
    if (targets.shape().without_batch() != expected_sample &&
        !(expected_sample.rank() == 0 && targets.shape().rank() == 2 && targets.shape()[1] == 1))
        throw ShapeError(ErrorId::shape_mismatch, loss + ": targets must have shape " +
                                                      expected_sample.with_batch(targets.rows()).str() + ", got " +
                                                      targets.shape().str());
}

// Keras's label_smoothing: a number in [0, 1].
inline double checked_label_smoothing(const std::string& loss, double label_smoothing) {
    if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
        throw ConfigError(ErrorId::config_argument,
                          loss + ": label_smoothing must be in [0, 1], got " + std::to_string(label_smoothing));
    return label_smoothing;
}

// A categorical loss's settings for model files: label_smoothing only where
// it is set, so files without it read as before.
inline std::vector<std::pair<std::string, double>> categorical_config(bool from_logits, double label_smoothing) {
    std::vector<std::pair<std::string, double>> c{{"from_logits", from_logits ? 1.0 : 0.0}};
    if (label_smoothing != 0.0) c.emplace_back("label_smoothing", label_smoothing);
    return c;
}

// Sparse labels must be whole numbers in [0, classes).
template <class T>
void check_class_ids(const std::string& loss, const Tensor<T>& labels, Index classes) {
    for (Index i = 0; i < labels.size(); ++i) {
        const T v = labels[i];
        if (!(v >= T(0) && v < T(classes)) || v != static_cast<T>(static_cast<Index>(v)))
            throw ConfigError(ErrorId::config_label, loss + ": label " + std::to_string(double(v)) + " at index " +
                                                         std::to_string(i) + " is not a class id in [0, " +
                                                         std::to_string(classes) + ")");
    }
}
}  // namespace detail

}  // namespace lamina
