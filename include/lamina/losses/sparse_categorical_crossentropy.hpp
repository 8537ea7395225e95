// lamina/losses/sparse_categorical_crossentropy.hpp
//
// Contract: pred (batch, K) logits (from_logits) or probabilities; target
// (batch,) class ids in [0, K) stored as T. Keras's
// SparseCategoricalCrossentropy(from_logits=False); "accuracy" resolves to
// sparse categorical accuracy.
#pragma once

#include "lamina/backend/backend.hpp"
#include "lamina/losses/loss.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class SparseCategoricalCrossentropyLoss : public Loss<T, Device> {
public:
    using typename Loss<T, Device>::TensorType;
    explicit SparseCategoricalCrossentropyLoss(bool from_logits) : from_logits_(from_logits) {}

    std::string name() const override { return "sparse_categorical_crossentropy"; }
    std::vector<std::pair<std::string, double>> config() const override {
        return {{"from_logits", from_logits_ ? 1.0 : 0.0}};
    }
    Shape target_shape(const Shape&) const override { return Shape{}; }
    void check_targets(const Shape& output, const Tensor<T, Cpu>& targets) const override {
        detail::require_output_rank1(name(), output);
        detail::check_target_rows(name(), Shape{}, targets);
        detail::check_class_ids(name(), targets, output[0]);
    }
    bool supports_logit_gradient() const override { return !from_logits_; }
    bool logit_gradient(const TensorType& probs, const TensorType& target, TensorType& grad) const override {
        if (from_logits_) return false;
        Backend<Device>::softmax_logit_gradient(probs.view(), static_cast<const T*>(nullptr), true, target.view(),
                                                grad.view(), detail::prob_epsilon);
        return true;
    }
    AccuracyKind accuracy_kind() const override { return AccuracyKind::SparseCategorical; }

protected:
    T batch_loss(const TensorType& pred, const TensorType& target, TensorType* grad, double* total) const override {
        if (from_logits_)
            return Backend<Device>::sparse_softmax_cross_entropy(pred.view(), target.view(),
                                                                 grad ? grad->data() : nullptr, total);
        return Backend<Device>::probability_cross_entropy(pred.view(), static_cast<const T*>(nullptr), true,
                                                          target.view(), grad ? grad->data() : nullptr,
                                                          detail::prob_epsilon, total);
    }

private:
    bool from_logits_;
};

struct SparseCategoricalCrossentropy {
    bool from_logits = false;
    explicit SparseCategoricalCrossentropy(bool from_logits_ = false) : from_logits(from_logits_) {}
    template <class T, class Device>
    LossPtr<T, Device> make() const {
        return std::make_unique<SparseCategoricalCrossentropyLoss<T, Device>>(from_logits);
    }
};

}  // namespace lamina
