// lamina/losses/binary_crossentropy.hpp
//
// Contract: pred (batch, K) logits (from_logits) or probabilities in [0, 1];
// target (batch, K) in [0, 1]; mean over all elements, as Keras.
// "accuracy" resolves to binary accuracy (threshold 0.5 on probabilities,
// 0 on logits).
#pragma once

#include "lamina/backend/backend.hpp"
#include "lamina/losses/loss.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class BinaryCrossentropyLoss : public Loss<T, Device> {
public:
    using typename Loss<T, Device>::TensorType;
    explicit BinaryCrossentropyLoss(bool from_logits) : from_logits_(from_logits) {}

    std::string name() const override { return "binary_crossentropy"; }
    std::vector<std::pair<std::string, double>> config() const override {
        return {{"from_logits", from_logits_ ? 1.0 : 0.0}};
    }
    void check_targets(const Shape& output, const Tensor<T, Cpu>& targets) const override {
        detail::check_target_rows(name(), output, targets);
        for (Index i = 0; i < targets.size(); ++i)
            if (!(targets[i] >= T(0) && targets[i] <= T(1)))
                throw ConfigError(ErrorId::config_label, name() + ": target " + std::to_string(double(targets[i])) +
                                                             " at index " + std::to_string(i) + " is outside [0, 1]");
    }
    AccuracyKind accuracy_kind() const override { return AccuracyKind::Binary; }
    bool from_logits() const noexcept { return from_logits_; }

protected:
    T batch_loss(const TensorType& pred, const TensorType& target, TensorType* grad, double* total) const override {
        return Backend<Device>::binary_cross_entropy(pred.view(), target.view(), from_logits_,
                                                     grad ? grad->data() : nullptr, detail::prob_epsilon, total);
    }

private:
    bool from_logits_;
};

struct BinaryCrossentropy {
    bool from_logits = false;
    explicit BinaryCrossentropy(bool from_logits_ = false) : from_logits(from_logits_) {}
    template <class T, class Device>
    LossPtr<T, Device> make() const {
        return std::make_unique<BinaryCrossentropyLoss<T, Device>>(from_logits);
    }
};

}  // namespace lamina
