// lamina/layers/conv2d.hpp: 2-D convolution with a fused activation, NCHW.
//
// Contract: input (None, C, H, W) -> output (None, F, OH, OW), with OH, OW
// from the padding ("valid" or "same", TensorFlow's rules: core/window.hpp);
//   y[n][f][oy][ox] = act(b[f] + sum_{c,i,j} W[f][c][i][j] * x[n][c][oy*SH - pt + i][ox*SW - pl + j]).
// The kernel is (F, C, KH, KW) (PyTorch's OIHW; Keras stores (KH, KW, C, F)),
// initialised with Keras's fans: fan_in = C*KH*KW, fan_out = F*KH*KW.
// Activations are the element-wise ones; softmax over a feature map is a
// ConfigError (use Flatten + Softmax, or a Dense layer).
//
// How it runs: the batch is split into one contiguous block of samples per
// OpenMP thread. Each thread lowers a few samples at a time to a matrix
// (im2col), multiplies it with single-threaded Eigen GEMM, and scatters the
// result into y with bias and activation. Splitting the batch ourselves beats
// Eigen's own threading on these narrow products (its second thread barely
// helps on 64 x 288 x 7744). Backward recomputes the columns instead of
// keeping them (cheap next to the GEMMs; saves batch * C*KH*KW * OH*OW
// floats), accumulates dW and db per thread, and sums the partials in thread
// order, so results are deterministic for a given thread count.
// Workspaces: per-thread columns and GEMM output (thread-local, sized in
// reserve()), per-thread dW/db partials (a member, sized in reserve()).
//   naive forward: for n, f, oy, ox: y = b[f]; for c, i, j: y += W[f][c][i][j] * x_pad[n][c][oy*SH+i][ox*SW+j]
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "lamina/backend/cpu/elementwise.hpp"
#include "lamina/backend/cpu/gemm.hpp"
#include "lamina/backend/cpu/im2col.hpp"
#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/backend/cpu/scratch.hpp"
#include "lamina/core/eigen.hpp"
#include "lamina/core/initializers.hpp"
#include "lamina/core/window.hpp"
#include "lamina/layers/activation.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

// Floats per per-thread workspace (columns or GEMM output); tuned on the
// Keras CNN's shapes (docs/performance.md). A compile-time knob for other CPUs.
#ifndef LAMINA_CONV_WORKSPACE_FLOATS
#define LAMINA_CONV_WORKSPACE_FLOATS (Index(1) << 18)
#endif

namespace lamina {

template <class T, class Device = Cpu>
class Conv2DLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;

    Conv2DLayer(Index filters, Size2 kernel, Size2 strides, Padding padding, ActivationKind activation, bool use_bias,
                Initializer kernel_init, Initializer bias_init)
        : filters_(filters),
          kernel_size_(kernel),
          strides_(strides),
          padding_(padding),
          activation_(activation),
          use_bias_(use_bias),
          kernel_init_(kernel_init),
          bias_init_(bias_init) {
        kernel_.name = "kernel";
        bias_.name = "bias";
    }

    std::string type() const override { return "Conv2D"; }

    Shape build(const Shape& input, Rng& rng) override {
        if (filters_ < 1)
            throw ConfigError(ErrorId::config_argument,
                              this->who() + ": filters must be >= 1, got " + std::to_string(filters_));
        if (activation_ == ActivationKind::Softmax)
            throw ConfigError(ErrorId::config_argument,
                              this->who() +
                                  ": activation softmax is not element-wise; put Flatten() and Softmax() "
                                  "after the convolutions instead");
        g_ = make_window(this->who(), input, kernel_size_, strides_, padding_);
        const Index taps = g_.k_h * g_.k_w;
        kernel_.value.resize(Shape{filters_, g_.channels, g_.k_h, g_.k_w});
        kernel_.grad.resize(kernel_.value.shape());
        initialize(kernel_.value, kernel_init_, g_.channels * taps, filters_ * taps, rng);
        kernel_.grad.set_zero();
        if (use_bias_) {
            bias_.value.resize(Shape{filters_});
            bias_.grad.resize(Shape{filters_});
            initialize(bias_.value, bias_init_, g_.channels * taps, filters_ * taps, rng);
            bias_.grad.set_zero();
        }
        return this->finish_build(input, Shape{filters_, g_.out_h, g_.out_w});
    }

    void reserve(Index batch) override {
        const Index chunk = std::min(batch, chunk_samples());
        backend::warm_scratch<T, ColumnsTag>(rows() * chunk * g_.out_plane());
        backend::warm_scratch<T, GemmOutputTag>(filters_ * chunk * g_.out_plane());
        partials_.resize(Shape{backend::team_size(), partial_size()});
    }

    void infer(const TensorType& x, TensorType& y) const override {
        const Index P = g_.out_plane(), in_sample = g_.channels * g_.in_plane(), chunk = chunk_samples();
        backend::parallel_blocks(x.rows(), [&](int, Index begin, Index end) {
            T* cols = backend::scratch<T, ColumnsTag>(rows() * std::min(chunk, end - begin) * P);
            T* out = backend::scratch<T, GemmOutputTag>(filters_ * std::min(chunk, end - begin) * P);
            for (Index n0 = begin; n0 < end; n0 += chunk) {
                const Index count = std::min(chunk, end - n0), ld = count * P;
                backend::im2col(g_, x.data() + n0 * in_sample, count, cols);
                // out (F, count*P) = W (F, C*KH*KW) . cols (C*KH*KW, count*P)
                backend::gemm(Cpu{}, false, false, filters_, ld, rows(), T(1), kernel_.value.data(), cols, T(0), out);
                for (Index s = 0; s < count; ++s)
                    for (Index f = 0; f < filters_; ++f) {
                        T* dst = y.data() + ((n0 + s) * filters_ + f) * P;
                        const T* src = out + f * ld + s * P;
                        const T b = use_bias_ ? bias_.value[f] : T(0);
                        for (Index p = 0; p < P; ++p) dst[p] = src[p] + b;
                        backend::activate_span(activation_, dst, P);
                    }
            }
        });
    }

    void backward(const TensorType& x, const TensorType& y, const TensorType& dy, TensorType* dx) override {
        const Index P = g_.out_plane(), in_sample = g_.channels * g_.in_plane(), chunk = chunk_samples();
        const int threads = backend::team_size();
        partials_.resize(Shape{threads, partial_size()});
        partials_.set_zero();
        backend::parallel_blocks(x.rows(), [&](int t, Index begin, Index end) {
            T* cols = backend::scratch<T, ColumnsTag>(rows() * std::min(chunk, end - begin) * P);
            T* dz = backend::scratch<T, GemmOutputTag>(filters_ * std::min(chunk, end - begin) * P);
            T* dw = partials_.data() + Index(t) * partial_size();
            T* db = dw + filters_ * rows();
            for (Index n0 = begin; n0 < end; n0 += chunk) {
                const Index count = std::min(chunk, end - n0), ld = count * P;
                // dz (F, count*P) = dy * act'(y), gathered from NCHW into the GEMM's layout.
                for (Index s = 0; s < count; ++s)
                    for (Index f = 0; f < filters_; ++f) {
                        const Index at = ((n0 + s) * filters_ + f) * P;
                        T* d = dz + f * ld + s * P;
                        backend::activation_backward_span(activation_, y.data() + at, dy.data() + at, d, P);
                        // Eigen's sum runs in SIMD lanes; a scalar loop would wait on each add.
                        if (use_bias_) db[f] += Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(d, P).sum();
                    }
                backend::im2col(g_, x.data() + n0 * in_sample, count, cols);
                // dW (F, C*KH*KW) += dz (F, count*P) . cols^T
                backend::gemm(Cpu{}, false, true, filters_, rows(), ld, T(1), dz, cols, T(1), dw);
                if (!dx) continue;
                // dcols (C*KH*KW, count*P) = W^T . dz, into the columns' buffer (already used).
                backend::gemm(Cpu{}, true, false, rows(), ld, filters_, T(1), kernel_.value.data(), dz, T(0), cols);
                T* dx0 = dx->data() + n0 * in_sample;
                std::fill(dx0, dx0 + count * in_sample, T(0));
                backend::col2im(g_, cols, count, dx0);
            }
        });
        // Partials in thread order: the same sum for the same thread count.
        for (int t = 0; t < threads; ++t) {
            const T* dw = partials_.data() + Index(t) * partial_size();
            kernel_.grad.array() += Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(dw, kernel_.grad.size());
            if (use_bias_)
                bias_.grad.array() +=
                    Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(dw + kernel_.grad.size(), filters_);
        }
    }

    std::vector<Param<T, Device>*> params() override {
        if (use_bias_) return {&kernel_, &bias_};
        return {&kernel_};
    }
    using Layer<T, Device>::params;

    LayerConfig config() const override {
        return {{"filters", std::to_string(filters_)},
                {"kernel_size", kernel_size_.str()},
                {"strides", strides_.str()},
                {"padding", to_string(padding_)},
                {"activation", to_string(activation_)},
                {"use_bias", use_bias_ ? "true" : "false"},
                {"kernel_initializer", to_string(kernel_init_)},
                {"bias_initializer", to_string(bias_init_)}};
    }

    const Window2D& window() const noexcept { return g_; }

private:
    // Per-thread scratch buffers (backend/cpu/scratch.hpp): im2col columns
    // (C*KH*KW, chunk*P) and the GEMM's output or dL/dz (F, chunk*P).
    struct ColumnsTag;
    struct GemmOutputTag;

    Index rows() const noexcept { return g_.channels * g_.k_h * g_.k_w; }
    Index partial_size() const noexcept { return filters_ * rows() + filters_; }
    // Samples per GEMM: enough columns for Eigen to reach its peak, few
    // enough that the columns stay in the 1-2 MB of L2 a core has.
    Index chunk_samples() const noexcept {
        constexpr Index budget = LAMINA_CONV_WORKSPACE_FLOATS;
        const Index per_sample = std::max(rows(), filters_) * g_.out_plane();
        return std::max<Index>(1, budget / std::max<Index>(per_sample, 1));
    }

    Index filters_;
    Size2 kernel_size_, strides_;
    Padding padding_;
    ActivationKind activation_;
    bool use_bias_;
    Initializer kernel_init_, bias_init_;
    Window2D g_{};
    Param<T, Device> kernel_, bias_;
    TensorType partials_;  // (threads, F*C*KH*KW + F): per-thread dW and db
};

// Keras's layers.Conv2D(filters, kernel_size, strides=1, padding="valid",
// activation=None, use_bias=True, kernel_initializer="glorot_uniform",
// bias_initializer="zeros"), channels first. Conv2D(32, 3, Activation::ReLU)
// is the short form for the common case.
struct Conv2D {
    Index filters;
    Size2 kernel_size;
    Size2 strides{1};
    Padding padding = Padding::Valid;
    Activation activation;
    bool use_bias = true;
    Initializer kernel_initializer = Initializer::GlorotUniform;
    Initializer bias_initializer = Initializer::Zeros;
    std::string name;

    Conv2D(Index filters_, Size2 kernel_size_, Activation activation_ = Activation::Linear)
        : filters(filters_), kernel_size(kernel_size_), activation(std::move(activation_)) {}
    // Conv2D(32, 3, Padding::Same, Activation::ReLU), Conv2D(32, 3, "same", "relu").
    Conv2D(Index filters_, Size2 kernel_size_, PaddingArg padding_, Activation activation_ = Activation::Linear)
        : filters(filters_), kernel_size(kernel_size_), padding(padding_), activation(std::move(activation_)) {}
    // Conv2D(32, 3, "same") pads; Conv2D(32, 3, "relu") activates: no
    // activation is called "same" or "valid".
    template <class Name, class = std::enable_if_t<!std::is_arithmetic_v<Name> &&
                                                   std::is_convertible_v<const Name&, std::string_view>>>
    Conv2D(Index filters_, Size2 kernel_size_, const Name& padding_or_activation)
        : filters(filters_), kernel_size(kernel_size_) {
        if constexpr (std::is_pointer_v<Name> || std::is_null_pointer_v<Name>) {
            if (static_cast<const char*>(padding_or_activation) == nullptr) {
                activation = Activation(padding_or_activation);  // throws: a null name
                return;
            }
        }
        const std::string text{std::string_view(padding_or_activation)};
        if (is_padding_name(text)) padding = padding_from_string(text);
        else activation = Activation(text);
    }
    Conv2D(Index filters_, Size2 kernel_size_, Size2 strides_, PaddingArg padding_ = Padding::Valid,
           Activation activation_ = Activation::Linear, bool use_bias_ = true,
           Initializer kernel_initializer_ = Initializer::GlorotUniform,
           Initializer bias_initializer_ = Initializer::Zeros, std::string name_ = {})
        : filters(filters_),
          kernel_size(kernel_size_),
          strides(strides_),
          padding(padding_),
          activation(std::move(activation_)),
          use_bias(use_bias_),
          kernel_initializer(kernel_initializer_),
          bias_initializer(bias_initializer_),
          name(std::move(name_)) {}

    Conv2D& named(std::string n) {
        name = std::move(n);
        return *this;
    }

    // Model files: the layer's type() and the inverse of its config().
    static constexpr const char* config_type = "Conv2D";
    static Conv2D from_config(detail::ConfigReader& c) {
        const Index f = c.count("filters");
        const Size2 kernel = c.size2("kernel_size");
        const Size2 s = c.size2("strides");
        const Padding pad = c.parsed("padding", padding_from_string);
        const ActivationKind act = c.parsed("activation", activation_from_string);
        const bool bias = c.flag("use_bias");
        const Initializer k = c.parsed("kernel_initializer", initializer_from_string);
        const Initializer b = c.parsed("bias_initializer", initializer_from_string);
        return Conv2D(f, kernel, s, pad, act, bias, k, b);
    }

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<Conv2DLayer<T, Device>>(filters, kernel_size, strides, padding, activation.kind,
                                                              use_bias, kernel_initializer, bias_initializer);
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
