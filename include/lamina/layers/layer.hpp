// lamina/layers/layer.hpp: the interface every layer implements.
//
// Contract (shapes are per sample: a layer never sees the batch size at build):
//   build(input)   -> output shape; creates and initialises the parameters.
//                     A wrong input shape throws ShapeError naming the layer.
//   reserve(batch) allocates every workspace for batches up to `batch`; after
//                  it, forward/backward do no heap allocation.
//   infer(x, y)    inference forward pass; const, so it is safe from many threads.
//   forward(x, y, mode) training-aware forward pass (Dropout differs); the
//                  default is infer().
//   backward(x, y, dy, dx) given the forward's x and y and dL/dy, adds dL/dW
//                  into each Param's grad and, when dx is not null, writes dL/dx.
//   set_trainable(b) Keras's layer.trainable = b: by default sets every
//                  Param's trainable flag (the optimizer skips frozen ones);
//                  BatchNormalization also runs in inference mode when frozen.
// The caller (Sequential) sizes y and dx to (batch, output/input shape).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/device.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/distributed/communicator.hpp"

namespace lamina {

enum class Mode { Inference, Training };

// A trainable array, its gradient, and the optimizer's per-array state.
template <class T, class Device = Cpu>
struct Param {
    std::string name;  // "kernel", "bias"
    Tensor<T, Device> value;
    Tensor<T, Device> grad;                // same shape as value
    std::vector<Tensor<T, Device>> slots;  // optimizer state (momenta...), named by Optimizer::slot_names()
    bool trainable = true;
};

// A layer's hyper-parameters as ordered key/value text, for summary() and
// model files.
using LayerConfig = std::vector<std::pair<std::string, std::string>>;

// A number in a LayerConfig: shortest text that reads back to the same double.
inline std::string config_number(double v) {
    char buf[32];
    for (int precision = 15; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

template <class T, class Device = Cpu>
class Layer {
public:
    using TensorType = Tensor<T, Device>;

    virtual ~Layer() = default;

    // Keras class name: "Dense", "Flatten", ...
    virtual std::string type() const = 0;
    virtual Shape build(const Shape& input, Rng& rng) = 0;
    virtual void reserve(Index /*batch*/) {}
    virtual void infer(const TensorType& x, TensorType& y) const = 0;
    virtual void forward(const TensorType& x, TensorType& y, Mode /*mode*/) { infer(x, y); }
    virtual void backward(const TensorType& x, const TensorType& y, const TensorType& dy, TensorType* dx) = 0;
    virtual std::vector<Param<T, Device>*> params() { return {}; }
    virtual LayerConfig config() const { return {}; }
    // State other than parameters that training advances (Dropout's
    // generator): saved in model files so that resumed training continues
    // bit for bit. set_state() throws ConfigError for words it cannot take.
    virtual std::vector<std::uint64_t> state() const { return {}; }
    virtual void set_state(const std::vector<std::uint64_t>& words) {
        if (!words.empty())
            throw ConfigError(ErrorId::config_argument,
                              who() + " keeps no state, got " + std::to_string(words.size()) + " words");
    }

    // The generator training draws from (Dropout's masks, augmentation's
    // maps), if the layer has one: data-parallel training reseeds it per
    // rank (distributed/data_parallel.hpp).
    virtual Rng* generator() noexcept { return nullptr; }

    // Data-parallel training: fit hands every layer its communicator for
    // its duration (nullptr after). A layer that exchanges statistics
    // between the ranks (a BatchNormalization that synchronises them) keeps
    // it; on a rank that holds no rows of a batch, fit calls join_forward
    // and join_backward instead of forward and backward, so that the layer
    // still takes part in those exchanges.
    virtual void set_communicator(distributed::Communicator* /*comm*/) {}
    virtual void join_forward() {}
    virtual void join_backward(bool /*computes_dx*/) {}

    // A layer whose output is a softmax may agree to receive dL/d(logits)
    // in backward() instead of dL/dy: cross-entropy then skips the softmax
    // Jacobian entirely (exact, cheaper, and free of the 1/p blow-up).
    // Returns whether the layer now expects logit gradients.
    virtual bool set_logit_gradient(bool /*enable*/) { return false; }

    virtual void set_trainable(bool trainable) {
        trainable_ = trainable;
        for (auto* p : params()) p->trainable = trainable;
    }
    bool trainable() const noexcept { return trainable_; }

    const std::string& name() const noexcept { return name_; }
    void set_name(std::string name) { name_ = std::move(name); }
    bool built() const noexcept { return built_; }
    const Shape& input_shape() const noexcept { return input_shape_; }
    const Shape& output_shape() const noexcept { return output_shape_; }

    std::vector<const Param<T, Device>*> params() const {
        auto ps = const_cast<Layer*>(this)->params();
        return {ps.begin(), ps.end()};
    }
    // Copies of the parameter values, kernel before bias, as Keras's
    // layer.get_weights(); none before the layer is built.
    std::vector<Tensor<T, Device>> get_weights() const {
        std::vector<Tensor<T, Device>> w;
        if (!built_) return w;
        for (const auto* p : params()) w.push_back(p->value);
        return w;
    }
    Index count_params() const {
        Index n = 0;
        for (const auto* p : params()) n += p->value.size();
        return n;
    }

protected:
    // Called by build() implementations once the shapes are known.
    Shape finish_build(const Shape& input, const Shape& output) {
        // Far beyond any real sample, and keeps batch * sample size well inside Index.
        constexpr Index max_sample = Index(1) << 40;
        for (const Shape* s : {&input, &output})
            if (s->size_up_to(max_sample) < 0)
                throw ShapeError(ErrorId::shape_rank,
                                 who() + ": a sample of shape " + s->keras_str() + " has more than 2^40 elements");
        input_shape_ = input;
        output_shape_ = output;
        built_ = true;
        return output;
    }
    // "Dense 'dense_1'": how every error message names a layer.
    std::string who() const { return type() + " '" + name_ + "'"; }

private:
    std::string name_;
    Shape input_shape_, output_shape_;
    bool built_ = false;
    bool trainable_ = true;
};

template <class T, class Device = Cpu>
using LayerPtr = std::unique_ptr<Layer<T, Device>>;

}  // namespace lamina
