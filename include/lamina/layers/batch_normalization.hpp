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

    BatchNormalizationLayer(double momentum, double epsilon, bool center, bool scale, bool synchronize = false)
        : momentum_(momentum), epsilon_(epsilon), center_(center), scale_(scale), synchronize_(synchronize) {
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
        if (synchronize_) {
            sum_dy_.resize(s);
            sum_dy_xhat_.resize(s);
            shift_scale_.resize(s);
            shift_offset_.resize(s);
        }
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
        if (comm_) synchronize_moments(x.size() / channels_, mean, variance);
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
        if (comm_ && batch_statistics_) {
            synchronized_backward(x, dy, dx);
            return;
        }
        Backend<Device>::batch_norm_backward(x.view(), dy.view(), channels_, mean, variance, gamma(), T(epsilon_),
                                             batch_statistics_, scale_ ? gamma_.grad.data() : nullptr,
                                             center_ ? beta_.grad.data() : nullptr, dx ? dx->data() : nullptr);
    }

    // Synchronised statistics (Keras's synchronized=True) in a distributed
    // fit: the moments and the backward's sums are those of the global
    // batch, as one process would compute them with the whole batch.
    void set_communicator(distributed::Communicator* comm) override { comm_ = synchronize_ ? comm : nullptr; }
    void join_forward() override {
        if (comm_ && this->trainable()) synchronize_moments(0, nullptr, nullptr);
    }
    void join_backward(bool computes_dx) override {
        if (comm_ && this->trainable() && computes_dx) exchange_sums(0);
    }
    void reserve(Index batch) override {
        if (synchronize_) correction_.reserve(batch * this->input_shape().size());
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
        LayerConfig c{{"momentum", config_number(momentum_)},
                      {"epsilon", config_number(epsilon_)},
                      {"center", center_ ? "true" : "false"},
                      {"scale", scale_ ? "true" : "false"},
                      {"trainable", this->trainable() ? "true" : "false"}};
        // Written only when on, so that files of other models stay as they were.
        if (synchronize_) c.push_back({"synchronized", "true"});
        return c;
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

    // The global batch's mean and (biased) variance per channel from every
    // rank's: `elements` values per channel here (0 on a rank without rows),
    // combined in double precision, the same bits on every rank.
    void synchronize_moments(Index elements, T* mean, T* variance) {
        const auto C = static_cast<std::size_t>(channels_);
        host_mean_.assign(C, T(0));
        host_variance_.assign(C, T(0));
        if (elements > 0) {
            Backend<Device>::download(mean, channels_, host_mean_.data());
            Backend<Device>::download(variance, channels_, host_variance_.data());
        }
        const double n = double(elements);
        exchange_.assign(C + 1, 0.0);
        exchange_[0] = n;
        for (std::size_t c = 0; c < C; ++c) exchange_[c + 1] = n * double(host_mean_[c]);
        comm_->allreduce_sum(exchange_.data(), exchange_.size());
        global_elements_ = exchange_[0];
        global_mean_.assign(exchange_.begin() + 1, exchange_.end());
        for (auto& m : global_mean_) m /= global_elements_;
        // Each rank's spread about the global mean: its variance plus its
        // mean's distance from the global one.
        exchange_.resize(C);
        for (std::size_t c = 0; c < C; ++c) {
            const double d = double(host_mean_[c]) - global_mean_[c];
            exchange_[c] = n * (double(host_variance_[c]) + d * d);
        }
        comm_->allreduce_sum(exchange_.data(), C);
        if (elements == 0) return;
        for (std::size_t c = 0; c < C; ++c) {
            host_mean_[c] = T(global_mean_[c]);
            host_variance_[c] = T(exchange_[c] / global_elements_);
        }
        Backend<Device>::upload(host_mean_.data(), channels_, mean);
        Backend<Device>::upload(host_variance_.data(), channels_, variance);
    }

    // The batch-statistics backward with the global batch's sums of dy and
    // dy * xhat. The backend computes dx with this rank's sums,
    //   dx = g/s (dy - S1_r/m - xhat S2_r/m)   (m: this rank's values per channel)
    // and the global one, in this rank's scale (fit weights each rank's
    // gradients by its share of the batch afterwards), is
    //   dx = g/s (dy - S1/m - xhat S2/m),  S = sum over ranks of share x S_r,
    // so the difference, g/s ((S1_r - S1) + (S2_r - S2) xhat) / m, is an
    // affine map of xhat per channel: batch_norm_forward computes it, with
    // those coefficients in place of gamma and beta, and it is added to dx.
    // gamma's and beta's gradients are this rank's sums, weighted and summed
    // over the ranks by fit like every other gradient.
    void synchronized_backward(const TensorType& x, const TensorType& dy, TensorType* dx) {
        const T* mean = batch_mean_.data();
        const T* variance = batch_variance_.data();
        sum_dy_.set_zero();
        sum_dy_xhat_.set_zero();
        Backend<Device>::batch_norm_backward(x.view(), dy.view(), channels_, mean, variance, gamma(), T(epsilon_), true,
                                             sum_dy_xhat_.data(), sum_dy_.data(), dx ? dx->data() : nullptr);
        if (scale_) add(sum_dy_xhat_, gamma_.grad);
        if (center_) add(sum_dy_, beta_.grad);
        if (!dx) return;
        const Index elements = x.size() / channels_;
        exchange_sums(elements);
        const auto C = static_cast<std::size_t>(channels_);
        host_gamma_.assign(C, T(1));
        host_variance_.resize(C);
        host_scale_.resize(C);
        host_offset_.resize(C);
        if (scale_) Backend<Device>::download(gamma_.value.data(), channels_, host_gamma_.data());
        Backend<Device>::download(variance, channels_, host_variance_.data());
        for (std::size_t c = 0; c < C; ++c) {
            const double k =
                double(host_gamma_[c]) / std::sqrt(double(host_variance_[c]) + epsilon_) / double(elements);
            host_scale_[c] = T(k * (double(host_sums_[C + c]) - exchange_[C + c]));  // of xhat
            host_offset_[c] = T(k * (double(host_sums_[c]) - exchange_[c]));
        }
        Backend<Device>::upload(host_scale_.data(), channels_, shift_scale_.data());
        Backend<Device>::upload(host_offset_.data(), channels_, shift_offset_.data());
        correction_.resize(x.shape());
        Backend<Device>::batch_norm_forward(x.view(), channels_, mean, variance, shift_scale_.data(),
                                            shift_offset_.data(), T(epsilon_), correction_.view());
        add(correction_, *dx);
    }
    // This rank's sums of dy (S1_r) and dy * xhat (S2_r) per channel, into
    // host_sums_, and their sums over the ranks weighted by each rank's share
    // of the global batch, into exchange_ (S1 then S2).
    void exchange_sums(Index elements) {
        const auto C = static_cast<std::size_t>(channels_);
        host_sums_.assign(2 * C, T(0));
        if (elements > 0) {
            Backend<Device>::download(sum_dy_.data(), channels_, host_sums_.data());
            Backend<Device>::download(sum_dy_xhat_.data(), channels_, host_sums_.data() + C);
        }
        const double share = double(elements) / global_elements_;
        exchange_.assign(2 * C, 0.0);
        for (std::size_t i = 0; i < 2 * C; ++i) exchange_[i] = share * double(host_sums_[i]);
        comm_->allreduce_sum(exchange_.data(), exchange_.size());
    }
    // to += from, element by element (a row added to a one-row matrix).
    static void add(const TensorType& from, TensorType& to) {
        Backend<Device>::add_bias_rows(TensorView<T, Device>(to.data(), Shape{1, to.size()}),
                                       TensorView<const T, Device>(from.data(), Shape{from.size()}));
    }
    const T* beta() const noexcept { return center_ ? beta_.value.data() : nullptr; }

    double momentum_, epsilon_;
    bool center_, scale_, synchronize_;
    Index channels_ = 0;
    Param<T, Device> gamma_, beta_, moving_mean_, moving_variance_;
    TensorType batch_mean_, batch_variance_;  // (C,): the last training batch's statistics
    bool batch_statistics_ = false;           // whether the last forward used them

    // Synchronised statistics: the communicator of the distributed fit
    // running now, if any, and buffers sized once.
    distributed::Communicator* comm_ = nullptr;
    TensorType sum_dy_, sum_dy_xhat_, shift_scale_, shift_offset_, correction_;
    std::vector<T> host_mean_, host_variance_, host_gamma_, host_sums_, host_scale_, host_offset_;
    std::vector<double> exchange_, global_mean_;
    double global_elements_ = 0;
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
    bool synchronize = false;  // Keras's synchronized: the global batch's statistics in a distributed fit
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
    // In a distributed fit, normalise with the whole global batch's mean and
    // variance rather than each rank's own rows' (Keras's synchronized=True;
    // docs/distributed.md). Outside one it changes nothing.
    BatchNormalization& synchronize_statistics(bool on = true) {
        synchronize = on;
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
        const bool synchronize = c.has("synchronized") && c.flag("synchronized");
        return BatchNormalization(momentum, epsilon, center, scale, trainable).synchronize_statistics(synchronize);
    }

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer =
            std::make_unique<BatchNormalizationLayer<T, Device>>(momentum, epsilon, center, scale, synchronize);
        layer->set_trainable(trainable);
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
