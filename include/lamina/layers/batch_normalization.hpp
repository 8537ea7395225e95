// lamina/layers/batch_normalization.hpp: Keras's BatchNormalization, channels first.
//
// Contract: input (None, C, H, W) or (None, F) -> output of the same shape,
// normalised per channel (axis 1: lamina is NCHW) or per feature:
//   y = gamma[c] * (x - mean[c]) / sqrt(var[c] + epsilon) + beta[c]
// Training (fit, when the layer is trainable): mean and var are the batch's,
// over the samples and every position of the channel, var biased (divided by
// the count), and both update the moving statistics as Keras does:
//   moving = moving * momentum + batch * (1 - momentum).
// Inference (infer, evaluate, predict), and in training too when
// set_trainable(false) (Keras: a frozen BatchNormalization runs in inference
// mode and its gamma, beta stay fixed), mean and var are the moving ones.
// Params in Keras's order: gamma (if scale), beta (if center), moving_mean,
// moving_variance, all (C,); gamma starts at 1, beta and moving_mean at 0,
// moving_variance at 1. The moving statistics are Params with trainable =
// false: the optimizer skips them, summary() counts them as non-trainable,
// model files keep them. Workspace: the batch's mean and variance (C,), made
// at build.
//   naive training forward: for c: m = mean over n, p of x[n][c][p]; v = mean of (x - m)^2;
//                           y[n][c][p] = gamma[c] (x[n][c][p] - m) / sqrt(v + eps) + beta[c]
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/backend/backend.hpp"
#include "lamina/core/initializers.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class BatchNormalizationLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;

    BatchNormalizationLayer(double momentum, double epsilon, bool center, bool scale)
        : momentum_(momentum), epsilon_(epsilon), center_(center), scale_(scale) {
        gamma_.name = "gamma";
        beta_.name = "beta";
        moving_mean_.name = "moving_mean";
        moving_variance_.name = "moving_variance";
        moving_mean_.trainable = false;
        moving_variance_.trainable = false;
    }

    std::string type() const override { return "BatchNormalization"; }

    Shape build(const Shape& input, Rng& rng) override {
        if (!(momentum_ >= 0.0 && momentum_ < 1.0))
            throw ConfigError(ErrorId::config_argument,
                              this->who() + ": momentum must be in [0, 1), got " + config_number(momentum_));
        if (!(epsilon_ > 0.0))
            throw ConfigError(ErrorId::config_argument,
                              this->who() + ": epsilon must be > 0, got " + config_number(epsilon_));
        if (input.rank() != 1 && input.rank() != 3)
            throw ShapeError(ErrorId::shape_rank, this->who() +
                                                      ": expects (None, channels, height, width) or (None, "
                                                      "features), got " +
                                                      input.keras_str());
        channels_ = input[0];
        const Shape s{channels_};
        auto make = [&](Param<T, Device>& p, Initializer init) {
            p.value.resize(s);
            p.grad.resize(s);
            Backend<Device>::initialize(p.value.view(), init, channels_, channels_, rng);
            p.grad.set_zero();
        };
        if (scale_) make(gamma_, Initializer::Ones);
        if (center_) make(beta_, Initializer::Zeros);
        make(moving_mean_, Initializer::Zeros);
        make(moving_variance_, Initializer::Ones);
        batch_mean_.resize(s);
        batch_variance_.resize(s);
        return this->finish_build(input, input);
    }

    void infer(const TensorType& x, TensorType& y) const override {
        Backend<Device>::batch_norm_forward(x.view(), channels_, moving_mean_.value.data(),
                                            moving_variance_.value.data(), gamma(), beta(), T(epsilon_), y.view());
    }

    void forward(const TensorType& x, TensorType& y, Mode mode) override {
        batch_statistics_ = mode == Mode::Training && this->trainable();
        if (!batch_statistics_) {
            infer(x, y);
            return;
        }
        T* mean = batch_mean_.data();
        T* variance = batch_variance_.data();
        Backend<Device>::batch_norm_moments(x.view(), channels_, mean, variance);
        Backend<Device>::batch_norm_forward(x.view(), channels_, mean, variance, gamma(), beta(), T(epsilon_),
                                            y.view());
        Backend<Device>::batch_norm_update_moving(channels_, static_cast<const T*>(mean),
                                                  static_cast<const T*>(variance), momentum_, moving_mean_.value.data(),
                                                  moving_variance_.value.data());
    }

    // The statistics the forward pass used: the batch's own (their
    // dependence on x adds two terms to dx) or the moving ones (affine).
    void backward(const TensorType& x, const TensorType&, const TensorType& dy, TensorType* dx) override {
        const T* mean = batch_statistics_ ? batch_mean_.data() : moving_mean_.value.data();
        const T* variance = batch_statistics_ ? batch_variance_.data() : moving_variance_.value.data();
        Backend<Device>::batch_norm_backward(x.view(), dy.view(), channels_, mean, variance, gamma(), T(epsilon_),
                                             batch_statistics_, scale_ ? gamma_.grad.data() : nullptr,
                                             center_ ? beta_.grad.data() : nullptr, dx ? dx->data() : nullptr);
    }

    std::vector<Param<T, Device>*> params() override {
        std::vector<Param<T, Device>*> ps;
        if (scale_) ps.push_back(&gamma_);
        if (center_) ps.push_back(&beta_);
        ps.push_back(&moving_mean_);
        ps.push_back(&moving_variance_);
        return ps;
    }
    using Layer<T, Device>::params;

    // Frozen: gamma and beta stop training and the layer normalises with the
    // moving statistics, in fit too; the moving statistics never train.
    void set_trainable(bool trainable) override {
        Layer<T, Device>::set_trainable(trainable);
        moving_mean_.trainable = false;
        moving_variance_.trainable = false;
    }

    LayerConfig config() const override {
        return {{"momentum", config_number(momentum_)},
                {"epsilon", config_number(epsilon_)},
                {"center", center_ ? "true" : "false"},
                {"scale", scale_ ? "true" : "false"},
                {"trainable", this->trainable() ? "true" : "false"}};
    }

    // For folding into a preceding layer: the inference transform's parts.
    double momentum() const noexcept { return momentum_; }
    double epsilon() const noexcept { return epsilon_; }
    Index channels() const noexcept { return channels_; }
    const Param<T, Device>* gamma_param() const noexcept { return scale_ ? &gamma_ : nullptr; }
    const Param<T, Device>* beta_param() const noexcept { return center_ ? &beta_ : nullptr; }
    const Param<T, Device>& moving_mean() const noexcept { return moving_mean_; }
    const Param<T, Device>& moving_variance() const noexcept { return moving_variance_; }

private:
    const T* gamma() const noexcept { return scale_ ? gamma_.value.data() : nullptr; }
    const T* beta() const noexcept { return center_ ? beta_.value.data() : nullptr; }

    double momentum_, epsilon_;
    bool center_, scale_;
    Index channels_ = 0;
    Param<T, Device> gamma_, beta_, moving_mean_, moving_variance_;
    TensorType batch_mean_, batch_variance_;  // (C,): the last training batch's statistics
    bool batch_statistics_ = false;           // whether the last forward used them
};

// Keras's layers.BatchNormalization(axis=1, momentum=0.99, epsilon=0.001,
// center=True, scale=True); lamina normalises axis 1 (channels, NCHW) of
// feature maps and the features of flat input. trainable = false freezes it
// (set_trainable on a built layer does the same).
struct BatchNormalization {
    double momentum = 0.99;
    double epsilon = 1e-3;
    bool center = true;
    bool scale = true;
    bool trainable = true;
    std::string name;

    BatchNormalization() = default;
    explicit BatchNormalization(double momentum_, double epsilon_ = 1e-3, bool center_ = true, bool scale_ = true,
                                bool trainable_ = true, std::string name_ = {})
        : momentum(momentum_),
          epsilon(epsilon_),
          center(center_),
          scale(scale_),
          trainable(trainable_),
          name(std::move(name_)) {}

    BatchNormalization& named(std::string n) {
        name = std::move(n);
        return *this;
    }
    BatchNormalization& frozen() {
        trainable = false;
        return *this;
    }

    // Model files: the layer's type() and the inverse of its config().
    static constexpr const char* config_type = "BatchNormalization";
    static BatchNormalization from_config(detail::ConfigReader& c) {
        const double momentum = c.number("momentum");
        if (!(momentum >= 0.0 && momentum < 1.0))
            c.bad("momentum", "must be in [0, 1), got " + config_number(momentum));
        const double epsilon = c.number("epsilon");
        if (!(epsilon > 0.0)) c.bad("epsilon", "must be > 0, got " + config_number(epsilon));
        const bool center = c.flag("center");
        const bool scale = c.flag("scale");
        const bool trainable = c.flag("trainable");
        return BatchNormalization(momentum, epsilon, center, scale, trainable);
    }

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<BatchNormalizationLayer<T, Device>>(momentum, epsilon, center, scale);
        layer->set_trainable(trainable);
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
