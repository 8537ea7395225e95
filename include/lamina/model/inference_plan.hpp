// lamina/model/inference_plan.hpp: the layers predict and evaluate run, with
// BatchNormalization folded into the layer before it.
//
// Contract: make_inference_plan(layers, version) lists, for a built model,
// the layer to run at each step. Where a BatchNormalization directly follows
// a Dense or Conv2D without activation (activation "linear"), the two become
// one step: a copy of that layer (same type, config and input; with a bias
// even where the original has none) whose weights fold in the
// normalisation's inference transform, with s = gamma / sqrt(moving_variance + epsilon):
//   W'[.., f] = W[.., f] * s[f]  (Dense: column f; Conv2D: filter f)
//   b'[f]     = (b[f] - moving_mean[f]) * s[f] + beta[f]
// so one GEMM pass does what two passes did, equal to rounding. The folding
// is done on the host in double, from copies of the weights (the weights
// transfer point of sequential.hpp). A plan is immutable once made.
// InferencePlanCache keeps the plan for the model's current weights: the
// model calls invalidate() wherever its weights may change (a training step,
// set_weights, non-const access to its layers or parameters), and get()
// rebuilds the plan on first use after that, under a mutex, so that predict
// and evaluate may run in many threads at once; each holds its plan by
// shared_ptr while it runs. Movable, as the model is (build_state.hpp).
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "lamina/backend/backend.hpp"
#include "lamina/layers/batch_normalization.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/layers/layer_factory.hpp"

namespace lamina::detail {

template <class T, class Device>
struct InferencePlan {
    std::uint64_t version = 0;
    std::vector<const Layer<T, Device>*> steps;  // the model's layers, or entries of `folded`
    std::vector<LayerPtr<T, Device>> folded;     // the copies with folded weights
};

// Whether `layer` is a Dense or Conv2D whose output a BatchNormalization may fold into.
template <class T, class Device>
bool foldable(const Layer<T, Device>& layer) {
    if (layer.type() != "Dense" && layer.type() != "Conv2D") return false;
    for (const auto& [key, value] : layer.config())
        if (key == "activation") return value == "linear";
    return false;
}

template <class T, class Device>
Tensor<T, Cpu> host_copy(const Tensor<T, Device>& t) {
    Tensor<T, Cpu> h(t.shape());
    Backend<Device>::download(t.data(), t.size(), h.data());
    return h;
}

// `layer` followed by `bn`, as one layer.
template <class T, class Device>
LayerPtr<T, Device> fold_batch_normalization(const Layer<T, Device>& layer,
                                             const BatchNormalizationLayer<T, Device>& bn) {
    LayerConfig config = layer.config();
    for (auto& [key, value] : config)
        if (key == "use_bias") value = "true";
    LayerPtr<T, Device> out = make_layer<T, Device>(layer.type(), layer.name(), config);
    Rng unused;  // the weights are overwritten below
    out->build(layer.input_shape(), unused);

    const auto source = layer.params();
    const Tensor<T, Cpu> kernel = host_copy(source[0]->value);
    const Index channels = bn.channels();
    const Tensor<T, Cpu> mean = host_copy(bn.moving_mean().value), var = host_copy(bn.moving_variance().value);
    const Tensor<T, Cpu> gamma =
        bn.gamma_param() ? host_copy(bn.gamma_param()->value) : Tensor<T, Cpu>(mean.shape(), T(1));
    const Tensor<T, Cpu> beta =
        bn.beta_param() ? host_copy(bn.beta_param()->value) : Tensor<T, Cpu>(mean.shape(), T(0));
    const Tensor<T, Cpu> bias = source.size() > 1 ? host_copy(source[1]->value) : Tensor<T, Cpu>(mean.shape(), T(0));
    // The normalisation's epsilon as its own forward pass uses it: in T.
    const double epsilon = double(T(bn.epsilon()));

    Tensor<T, Cpu> folded_kernel(kernel.shape()), folded_bias(bias.shape());
    std::vector<double> scale(static_cast<std::size_t>(channels));
    for (Index f = 0; f < channels; ++f) {
        scale[std::size_t(f)] = double(gamma[f]) / std::sqrt(double(var[f]) + epsilon);
        folded_bias[f] = T((double(bias[f]) - double(mean[f])) * scale[std::size_t(f)] + double(beta[f]));
    }
    // Dense: (in, units), units last; Conv2D: (filters, channels, kh, kw), filters first.
    const bool filters_first = layer.type() == "Conv2D";
    const Index per_channel = kernel.size() / channels;
    for (Index i = 0; i < kernel.size(); ++i) {
        const Index f = filters_first ? i / per_channel : i % channels;
        folded_kernel[i] = T(double(kernel[i]) * scale[std::size_t(f)]);
    }
    auto target = out->params();
    Backend<Device>::upload(folded_kernel.data(), folded_kernel.size(), target[0]->value.data());
    Backend<Device>::upload(folded_bias.data(), folded_bias.size(), target[1]->value.data());
    return out;
}

template <class T, class Device>
InferencePlan<T, Device> make_inference_plan(const std::vector<LayerPtr<T, Device>>& layers, std::uint64_t version) {
    InferencePlan<T, Device> plan;
    plan.version = version;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto* bn = i + 1 < layers.size()
                             ? dynamic_cast<const BatchNormalizationLayer<T, Device>*>(layers[i + 1].get())
                             : nullptr;
        if (bn && foldable(*layers[i])) {
            plan.folded.push_back(fold_batch_normalization(*layers[i], *bn));
            plan.steps.push_back(plan.folded.back().get());
            ++i;
        } else {
            plan.steps.push_back(layers[i].get());
        }
    }
    return plan;
}

template <class T, class Device>
class InferencePlanCache {
public:
    using Plan = InferencePlan<T, Device>;
    InferencePlanCache() = default;
    InferencePlanCache(InferencePlanCache&& other) noexcept
        : version_(other.version_.load(std::memory_order_acquire)), plan_(std::move(other.plan_)) {}
    InferencePlanCache& operator=(InferencePlanCache&& other) noexcept {
        version_.store(other.version_.load(std::memory_order_acquire), std::memory_order_release);
        plan_ = std::move(other.plan_);
        return *this;
    }

    // The weights may have changed: the next get() makes a new plan.
    void invalidate() noexcept { version_.fetch_add(1, std::memory_order_acq_rel); }

    std::shared_ptr<const Plan> get(const std::vector<LayerPtr<T, Device>>& layers) const {
        const std::uint64_t version = version_.load(std::memory_order_acquire);
        std::lock_guard<std::mutex> lock(mutex_);
        if (!plan_ || plan_->version != version)
            plan_ = std::make_shared<const Plan>(make_inference_plan(layers, version));
        return plan_;
    }

private:
    std::atomic<std::uint64_t> version_{0};
    mutable std::mutex mutex_;
    mutable std::shared_ptr<const Plan> plan_;
};

}  // namespace lamina::detail
