// lamina/losses/categorical_crossentropy.hpp
//
// Contract: pred (batch, K) logits (from_logits) or probabilities; target
// (batch, K), usually one-hot from datasets::to_categorical. Keras's
// CategoricalCrossentropy; "accuracy" resolves to categorical accuracy.
#pragma once

#include "lamina/backend/backend.hpp"
#include "lamina/losses/loss.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class CategoricalCrossentropyLoss : public Loss<T, Device> {
public:
    using typename Loss<T, Device>::TensorType;
    explicit CategoricalCrossentropyLoss(bool from_logits) : from_logits_(from_logits) {}

    std::string name() const override { return "categorical_crossentropy"; }
    std::vector<std::pair<std::string, double>> config() const override {
        return {{"from_logits", from_logits_ ? 1.0 : 0.0}};
    }
    void check_targets(const Shape& output, const Tensor<T, Cpu>& targets) const override {
        detail::require_output_rank1(name(), output);
        detail::check_target_rows(name(), output, targets);
    }
    bool supports_logit_gradient() const override { return !from_logits_; }
    bool logit_gradient(const TensorType& probs, const TensorType& target, TensorType& grad) const override {
        if (from_logits_) return false;
        Backend<Device>::softmax_logit_gradient(probs.view(), target.data(), false, target.view(), grad.view(),
                                                detail::prob_epsilon);
        return true;
    }
    AccuracyKind accuracy_kind() const override { return AccuracyKind::Categorical; }

protected:
    T batch_loss(const TensorType& pred, const TensorType& target, TensorType* grad, double* total) const override {
        if (from_logits_)
            return Backend<Device>::softmax_cross_entropy(pred.view(), target.view(), grad ? grad->data() : nullptr,
                                                          total);
        return Backend<Device>::probability_cross_entropy(pred.view(), target.data(), false, target.view(),
                                                          grad ? grad->data() : nullptr, detail::prob_epsilon, total);
    }

private:
    bool from_logits_;
};

struct CategoricalCrossentropy {
    bool from_logits = false;
    explicit CategoricalCrossentropy(bool from_logits_ = false) : from_logits(from_logits_) {}
    template <class T, class Device>
    LossPtr<T, Device> make() const {
        return std::make_unique<CategoricalCrossentropyLoss<T, Device>>(from_logits);
    }
};

}  // namespace lamina
