// lamina/losses/categorical_crossentropy.hpp
//
// Contract: pred (batch, K) logits (from_logits) or probabilities; target
// (batch, K), usually one-hot from datasets::to_categorical. Keras's
// CategoricalCrossentropy(from_logits, label_smoothing): with
// label_smoothing ls in [0, 1] the loss and its gradient use the targets
// y (1 - ls) + ls / K. "accuracy" resolves to categorical accuracy.
#pragma once

#include "lamina/backend/backend.hpp"
#include "lamina/losses/loss.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class CategoricalCrossentropyLoss : public Loss<T, Device> {
public:
    using typename Loss<T, Device>::TensorType;
    explicit CategoricalCrossentropyLoss(bool from_logits, double label_smoothing = 0.0)
        : from_logits_(from_logits), label_smoothing_(detail::checked_label_smoothing(name(), label_smoothing)) {}

    std::string name() const override { return "categorical_crossentropy"; }
    std::vector<std::pair<std::string, double>> config() const override {
        return detail::categorical_config(from_logits_, label_smoothing_);
    }
    void check_targets(const Shape& output, const Tensor<T, Cpu>& targets) const override {
        detail::require_output_rank1(name(), output);
        detail::check_target_rows(name(), output, targets);
    }
    bool supports_logit_gradient() const override { return !from_logits_; }
    bool logit_gradient(const TensorType& probs, const TensorType& target, TensorType& grad) const override {
        if (from_logits_) return false;
        Backend<Device>::softmax_logit_gradient(probs.view(), target.data(), false, target.view(), grad.view(),
                                                detail::prob_epsilon, label_smoothing_);
        return true;
    }
    AccuracyKind accuracy_kind() const override { return AccuracyKind::Categorical; }
    bool from_logits() const noexcept { return from_logits_; }
    double label_smoothing() const noexcept { return label_smoothing_; }

protected:
    T batch_loss(const TensorType& pred, const TensorType& target, TensorType* grad, double* total) const override {
        if (from_logits_)
            return Backend<Device>::softmax_cross_entropy(pred.view(), target.view(), grad ? grad->data() : nullptr,
                                                          total, label_smoothing_);
        return Backend<Device>::probability_cross_entropy(pred.view(), target.data(), false, target.view(),
                                                          grad ? grad->data() : nullptr, detail::prob_epsilon, total,
                                                          label_smoothing_);
    }

private:
    bool from_logits_;
    double label_smoothing_;
};

struct CategoricalCrossentropy {
    bool from_logits = false;
    double label_smoothing = 0.0;
    explicit CategoricalCrossentropy(bool from_logits_ = false, double label_smoothing_ = 0.0)
        : from_logits(from_logits_), label_smoothing(label_smoothing_) {}
    template <class T, class Device>
    LossPtr<T, Device> make() const {
        return std::make_unique<CategoricalCrossentropyLoss<T, Device>>(from_logits, label_smoothing);
    }
};

}  // namespace lamina
