// lamina/backend/cpu/backend.hpp: Backend<Cpu>, the CPU side of the seam.
//
// Contract: every operation of backend/backend.hpp for Cpu, forwarding to
// the kernels of this folder (Eigen + OpenMP). Views and pointers are host
// memory; "transfers" are plain copies. Shapes are the callers' to get right:
// layers and losses check them at build time and before training.
#pragma once

#include "lamina/core/eigen.hpp"

#include <cstring>

#include "lamina/backend/cpu/affine_warp.hpp"
#include "lamina/backend/cpu/batch_norm.hpp"
#include "lamina/backend/cpu/conv2d.hpp"
#include "lamina/backend/cpu/dropout.hpp"
#include "lamina/backend/cpu/elementwise.hpp"
#include "lamina/backend/cpu/gemm.hpp"
#include "lamina/backend/cpu/losses.hpp"
#include "lamina/backend/cpu/metrics.hpp"
#include "lamina/backend/cpu/optimizers.hpp"
#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/backend/cpu/pooling.hpp"
#include "lamina/core/accuracy_kind.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/core/device.hpp"
#include "lamina/core/initializers.hpp"
#include "lamina/core/pool_kind.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/tensor_view.hpp"
#include "lamina/core/warp.hpp"
#include "lamina/core/window.hpp"

namespace lamina {

template <class Device>
struct Backend;

template <>
struct Backend<Cpu> {
    template <class T>
    using View = TensorView<T, Cpu>;
    template <class T>
    using ConstView = TensorView<const T, Cpu>;

    // ---- transfers: between the host and this device (here: copies) ----
    template <class T>
    static void upload(const T* host, Index n, T* dst) {
        if (n > 0 && dst != host) std::memcpy(dst, host, static_cast<std::size_t>(n) * sizeof(T));
    }
    template <class T>
    static void download(const T* src, Index n, T* host) {
        upload(src, n, host);
    }
    // A host array that stays on the device for a whole fit (the data set,
    // each epoch's order); the CPU reads it where it is.
    template <class T>
    class Staged {
    public:
        Staged(const T* host, Index) : data_(host) {}
        const T* data() const noexcept { return data_; }

    private:
        const T* data_;
    };
    template <class T>
    static Staged<T> stage(const T* host, Index n) {
        return Staged<T>(host, n);
    }
    // dst row r = staged row order[r] of `cols` values, for r < count.
    template <class T>
    static void gather_rows(const T* host, Index cols, const Index* order, Index count, T* dst) {
        const std::size_t bytes = static_cast<std::size_t>(cols) * sizeof(T);
        for (Index r = 0; r < count; ++r) std::memcpy(dst + r * cols, host + order[r] * cols, bytes);
    }
    template <class T>
    static void copy(ConstView<T> src, View<T> dst) {
        upload(src.data(), src.size(), dst.data());
    }

    // ---- dense ----
    // C (m, n) = alpha op(A) op(B) + beta C, all row-major.
    template <class T>
    static void gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, T alpha, const T* a, const T* b, T beta,
                     T* c) {
        backend::gemm(Cpu{}, trans_a, trans_b, m, n, k, alpha, a, b, beta, c);
    }
    template <class T>
    static void add_bias_rows(View<T> y, ConstView<T> b) {
        backend::add_bias_rows(Cpu{}, y, b);
    }
    template <class T>
    static void accumulate_column_sums(ConstView<T> dz, View<T> db) {
        backend::accumulate_column_sums(Cpu{}, dz, db);
    }
    template <class T>
    static void activation_forward(ActivationKind kind, ConstView<T> x, View<T> y) {
        backend::activation_forward(Cpu{}, kind, x, y);
    }
    template <class T>
    static void activation_backward(ActivationKind kind, ConstView<T> y, ConstView<T> dy, View<T> dz) {
        backend::activation_backward(Cpu{}, kind, y, dy, dz);
    }

    // ---- conv2d (backend/cpu/conv2d.hpp) ----
    template <class T>
    using Conv2DWorkspace = backend::Conv2DWorkspace<T>;
    template <class T>
    static void conv2d_reserve(Conv2DWorkspace<T>& ws, const Window2D& g, Index filters, Index batch) {
        backend::conv2d_reserve(ws, g, filters, batch);
    }
    template <class T>
    static void conv2d_forward(const Window2D& g, Index filters, ActivationKind act, ConstView<T> x,
                               ConstView<T> kernel, const T* bias, View<T> y) {
        backend::conv2d_forward(g, filters, act, x, kernel, bias, y);
    }
    template <class T>
    static void conv2d_backward(const Window2D& g, Index filters, ActivationKind act, Conv2DWorkspace<T>& ws,
                                ConstView<T> x, ConstView<T> y, ConstView<T> dy, ConstView<T> kernel, View<T> dkernel,
                                T* dbias, T* dx) {
        backend::conv2d_backward(g, filters, act, ws, x, y, dy, kernel, dkernel, dbias, dx);
    }

    // ---- pooling (backend/cpu/pooling.hpp): planes split across threads (small inputs: one) ----
    // The forward splits from a quarter of min_parallel values on: after a
    // batch-1 convolution (split by filters, conv2d.hpp) each thread then
    // pools about the planes it wrote, from its own core's cache.
    template <class T>
    static void pool2d_forward(PoolKind kind, const Window2D& g, ConstView<T> x, View<T> y) {
        const Index planes = x.rows() * g.channels;
        backend::parallel_blocks(planes, g.in_plane(), backend::min_parallel / 4, [&](int, Index begin, Index end) {
            backend::pool_forward(kind, g, x.data() + begin * g.in_plane(), end - begin,
                                  y.data() + begin * g.out_plane());
        });
    }
    // y is the forward's output for x.
    template <class T>
    static void pool2d_backward(PoolKind kind, const Window2D& g, ConstView<T> x, ConstView<T> y, ConstView<T> dy,
                                View<T> dx) {
        backend::parallel_blocks(x.rows() * g.channels, g.in_plane(), [&](int, Index begin, Index end) {
            backend::pool_backward(kind, g, x.data() + begin * g.in_plane(), y.data() + begin * g.out_plane(),
                                   dy.data() + begin * g.out_plane(), end - begin, dx.data() + begin * g.in_plane());
        });
    }
    // x (N, C, H, W) -> y (N, C) means over each plane of `plane` values.
    template <class T>
    static void global_average_pool_forward(Index plane, ConstView<T> x, View<T> y) {
        backend::global_average_pool_forward(plane, x.data(), y.size(), y.data());
    }
    template <class T>
    static void global_average_pool_backward(Index plane, ConstView<T> dy, View<T> dx) {
        backend::global_average_pool_backward(plane, dy.data(), dy.size(), dx.data());
    }

    // ---- batch normalisation (backend/cpu/batch_norm.hpp): x (N, C, ...) per channel ----
    // mean, variance: (C,), biased over the batch and every position.
    template <class T>
    static void batch_norm_moments(ConstView<T> x, Index channels, T* mean, T* variance) {
        backend::batch_norm_moments(x.data(), x.rows(), channels, x.cols() / channels, mean, variance);
    }
    // y = (x - mean) * gamma / sqrt(variance + epsilon) + beta; gamma, beta may be null.
    template <class T>
    static void batch_norm_forward(ConstView<T> x, Index channels, const T* mean, const T* variance, const T* gamma,
                                   const T* beta, T epsilon, View<T> y) {
        backend::batch_norm_forward(x.data(), x.rows(), channels, x.cols() / channels, mean, variance, gamma, beta,
                                    epsilon, y.data());
    }
    // Adds dL/dgamma and dL/dbeta, writes dL/dx (each may be null); batch_statistics: mean and
    // variance were x's own (training), else fixed (the moving ones).
    template <class T>
    static void batch_norm_backward(ConstView<T> x, ConstView<T> dy, Index channels, const T* mean, const T* variance,
                                    const T* gamma, T epsilon, bool batch_statistics, T* dgamma, T* dbeta, T* dx) {
        backend::batch_norm_backward(x.data(), dy.data(), x.rows(), channels, x.cols() / channels, mean, variance,
                                     gamma, epsilon, batch_statistics, dgamma, dbeta, dx);
    }
    // moving = moving * momentum + batch * (1 - momentum), for both statistics.
    template <class T>
    static void batch_norm_update_moving(Index channels, const T* mean, const T* variance, double momentum,
                                         T* moving_mean, T* moving_variance) {
        backend::batch_norm_update_moving(channels, mean, variance, momentum, moving_mean, moving_variance);
    }

    // ---- dropout ----
    // mask = 0 or 1/(1 - rate) from rng; y = x * mask.
    template <class T>
    static void dropout_forward(Rng& rng, double rate, ConstView<T> x, View<T> mask, View<T> y) {
        backend::dropout_mask(rng, rate, mask.data(), mask.size());
        multiply(x, ConstView<T>(mask), y);
    }
    // out = a * b, element by element.
    template <class T>
    static void multiply(ConstView<T> a, ConstView<T> b, View<T> out) {
        out.array() = a.array() * b.array();
    }

    // ---- affine warp (backend/cpu/affine_warp.hpp): the augmentation layers ----
    // y (N, C, H, W) = x warped by each sample's row of transforms (N, 6)
    // (core/warp.hpp); planes split across threads.
    template <class T>
    static void affine_warp(const Warp2D& g, ConstView<T> transforms, ConstView<T> x, View<T> y) {
        backend::affine_warp(g, x.rows(), transforms.data(), x.data(), y.data());
    }
    // dx (written) = the warp's transpose applied to dy.
    template <class T>
    static void affine_warp_backward(const Warp2D& g, ConstView<T> transforms, ConstView<T> dy, View<T> dx) {
        backend::affine_warp_backward(g, dy.rows(), transforms.data(), dy.data(), dx.data());
    }

    // ---- initialisers (core/initializers.hpp) ----
    template <class T>
    static void initialize(View<T> w, Initializer init, Index fan_in, Index fan_out, Rng& rng) {
        lamina::initialize(w, init, fan_in, fan_out, rng);
    }

    // ---- losses (backend/cpu/losses.hpp): grad is null or pred's shape ----
    // Each returns the batch's mean loss; with `total` (a RunningSums slot)
    // it also adds mean x rows there, which on a GPU replaces the return.
    // The categorical ones smooth their targets by `smoothing` (Keras's
    // label_smoothing; 0 leaves them as they are).
    template <class T>
    static T sparse_softmax_cross_entropy(ConstView<T> logits, ConstView<T> labels, T* grad, double* total = nullptr,
                                          double smoothing = 0) {
        return add_to(total, logits.rows(),
                      backend::sparse_softmax_cross_entropy(Cpu{}, logits, labels, grad, smoothing));
    }
    template <class T>
    static T softmax_cross_entropy(ConstView<T> logits, ConstView<T> target, T* grad, double* total = nullptr,
                                   double smoothing = 0) {
        return add_to(total, logits.rows(), backend::softmax_cross_entropy(Cpu{}, logits, target, grad, smoothing));
    }
    // target: dense (B, K) targets, or null with sparse labels (B,).
    template <class T>
    static T probability_cross_entropy(ConstView<T> probs, const T* target, bool sparse, ConstView<T> labels, T* grad,
                                       double eps, double* total = nullptr, double smoothing = 0) {
        return add_to(total, probs.rows(),
                      backend::probability_cross_entropy(Cpu{}, probs, target, sparse, labels, grad, eps, smoothing));
    }
    template <class T>
    static void softmax_logit_gradient(ConstView<T> probs, const T* target, bool sparse, ConstView<T> labels,
                                       View<T> grad, double eps, double smoothing = 0) {
        backend::softmax_logit_gradient(Cpu{}, probs, target, sparse, labels, grad, eps, smoothing);
    }
    template <class T>
    static T binary_cross_entropy(ConstView<T> pred, ConstView<T> target, bool from_logits, T* grad, double eps,
                                  double* total = nullptr) {
        return add_to(total, pred.rows(), backend::binary_cross_entropy(Cpu{}, pred, target, from_logits, grad, eps));
    }
    template <class T>
    static T mean_squared_error(ConstView<T> pred, ConstView<T> target, T* grad, double* total = nullptr) {
        return add_to(total, pred.rows(), backend::mean_squared_error(Cpu{}, pred, target, grad));
    }

    // ---- optimizers (backend/cpu/optimizers.hpp): optional slots are null ----
    // w -= w * rate: decoupled weight decay, before the optimizer's update.
    template <class T>
    static void decay_weights(View<T> w, T rate) {
        backend::decay_weights(Cpu{}, w, rate);
    }
    template <class T>
    static void sgd_update(View<T> w, ConstView<T> g, T* m, T lr, T momentum, bool nesterov) {
        backend::sgd_update(Cpu{}, w, g, m, lr, momentum, nesterov);
    }
    template <class T>
    static void adam_update(View<T> w, ConstView<T> g, View<T> m, View<T> v, T* vhat, T alpha, T one_minus_beta_1,
                            T one_minus_beta_2, T epsilon) {
        backend::adam_update(Cpu{}, w, g, m, v, vhat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon);
    }
    template <class T>
    static void rmsprop_update(View<T> w, ConstView<T> g, View<T> v, T* mg, T* mom, T lr, T rho, T one_minus_rho,
                               T momentum, T epsilon) {
        backend::rmsprop_update(Cpu{}, w, g, v, mg, mom, lr, rho, one_minus_rho, momentum, epsilon);
    }

    // ---- metrics ----
    // Returns the count; with `total` (a RunningSums slot) also adds it there.
    template <class T>
    static Index count_correct(AccuracyKind kind, ConstView<T> pred, ConstView<T> target, T binary_threshold,
                               long long* total = nullptr) {
        const Index n = backend::count_correct(kind, pred, target, binary_threshold);
        if (total) *total += n;
        return n;
    }

    // ---- running sums: fit's loss total and correct count for an epoch ----
    // Here host numbers; on a GPU device memory that fit reads only when it
    // shows or hands out the values.
    class RunningSums {
    public:
        double* loss() noexcept { return &loss_; }
        long long* correct() noexcept { return &correct_; }
        void reset() noexcept { loss_ = 0, correct_ = 0; }
        void read(double& loss, Index& correct) const noexcept { loss = loss_, correct = Index(correct_); }

    private:
        double loss_ = 0;
        long long correct_ = 0;
    };

private:
    // The pre-RunningSums arithmetic (mean x rows in double), so the CPU's
    // reported losses keep their bits.
    template <class T>
    static T add_to(double* total, Index rows, T mean) {
        if (total) *total += double(mean) * double(rows);
        return mean;
    }
};

}  // namespace lamina
