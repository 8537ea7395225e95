// lamina/losses/mean_squared_error.hpp
//
// Contract: pred and target (batch, ...) of the same shape; mean of the
// squared differences over all elements. No accuracy metric.
#pragma once

#include "lamina/backend/backend.hpp"
#include "lamina/losses/loss.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class MeanSquaredErrorLoss : public Loss<T, Device> {
public:
    using typename Loss<T, Device>::TensorType;
    std::string name() const override { return "mean_squared_error"; }
    void check_targets(const Shape& output, const Tensor<T, Cpu>& targets) const override {
        detail::check_target_rows(name(), output, targets);
    }
    AccuracyKind accuracy_kind() const override { return AccuracyKind::None; }

protected:
    T batch_loss(const TensorType& pred, const TensorType& target, TensorType* grad, double* total) const override {
        return Backend<Device>::mean_squared_error(pred.view(), target.view(), grad ? grad->data() : nullptr, total);
    }
};

struct MeanSquaredError {
    template <class T, class Device>
    LossPtr<T, Device> make() const {
        return std::make_unique<MeanSquaredErrorLoss<T, Device>>();
    }
};

}  // namespace lamina
