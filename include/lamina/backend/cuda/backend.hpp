// lamina/backend/cuda/backend.hpp: Backend<Cuda>, the GPU side of the seam.
//
// Contract: every operation of backend/backend.hpp for Cuda, on device
// memory (TensorView<T, Cuda>, raw device pointers), queued on lamina's
// stream (runtime.hpp) without waiting, except where a value comes back to
// the host: download, the losses' batch mean and count_correct, which wait
// for the stream. GEMMs go to cuBLAS (full float precision: no TF32); every
// other operation is one launch (launch.hpp) of a per-index function from
// backend/cuda/*_kernels.hpp, the functions the host tests run on the CPU
// against Backend<Cpu>. Scratch space (loss terms, convolution columns in
// inference) comes from the caching allocator, so a steady training step
// calls neither cudaMalloc nor cudaFree. Differences from the CPU backend,
// by design: Dropout masks come from a counter-based hash of a key drawn from
// the layer's Rng (the same seed gives the same masks on the GPU, not the
// CPU's masks), and sums are taken in another order (equal to rounding).
#pragma once

#include <cstdint>
#include <string>

#include "lamina/backend/cuda/allocator.hpp"
#include "lamina/backend/cuda/batch_norm_reduce.hpp"
#include "lamina/backend/cuda/device.hpp"
#include "lamina/backend/cuda/elementwise_kernels.hpp"
#include "lamina/backend/cuda/launch.hpp"
#include "lamina/backend/cuda/loss_kernels.hpp"
#include "lamina/backend/cuda/metric_kernels.hpp"
#include "lamina/backend/cuda/optimizer_kernels.hpp"
#include "lamina/backend/cuda/reduce.hpp"
#include "lamina/backend/cuda/runtime.hpp"
#include "lamina/backend/cuda/tensor.hpp"
#include "lamina/backend/cuda/warp_kernels.hpp"
#include "lamina/backend/cuda/window_kernels.hpp"
#include "lamina/core/accuracy_kind.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/core/initializers.hpp"
#include "lamina/core/pool_kind.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/tensor_view.hpp"
#include "lamina/core/warp.hpp"
#include "lamina/core/window.hpp"

namespace lamina {

template <class Device>
struct Backend;

namespace cuda::detail {

// Samples per GEMM: the whole batch unless its columns would pass 2^26 values (256 MB of float).
inline Index conv_chunk(const Window2D& g, Index filters, Index batch) {
    const Index per_sample = (g.patch_size() > filters ? g.patch_size() : filters) * g.out_plane();
    const Index fit = (Index(1) << 26) / (per_sample > 0 ? per_sample : 1);
    const Index chunk = fit < batch ? fit : batch;
    return chunk > 0 ? chunk : 1;
}
// The sum over `scale` of term(i) for i < n (a loss's batch mean), computed
// on the device; term is a __device__ lambda returning double. With `total`
// (device memory) the mean x rows is added there and nothing waits: 0 is
// returned; without it the mean comes back to the host.
template <class F>
double batch_mean(const char* operation, Index n, Index rows, double scale, F term, double* total) {
    if (n <= 0) return 0;
    DeviceBuffer<double> terms(static_cast<std::size_t>(n), operation);
    double* t = terms.data();
    launch(operation, n, [=] __device__(Index i) { t[i] = term(i); });
    if (total) {
        add_sum(t, n, double(rows) / scale, total, operation);
        return 0;
    }
    return sum_to_host(t, n, operation) / scale;
}

}  // namespace cuda::detail

// The workspace Conv2D keeps for its backward: im2col columns and dL/dz.
template <class T>
struct CudaConv2DWorkspace {
    Tensor<T, Cuda> columns;   // (C*KH*KW, chunk*OH*OW)
    Tensor<T, Cuda> gradient;  // (F, chunk*OH*OW)
};

template <>
struct Backend<Cuda> {
    template <class T>
    using View = TensorView<T, Cuda>;
    template <class T>
    using ConstView = TensorView<const T, Cuda>;

    // ---- transfers ----
    template <class T>
    static void upload(const T* host, Index n, T* dst) {
        cuda::copy_async(dst, host, n, cudaMemcpyHostToDevice, "copying to the GPU");
    }
    template <class T>
    static void download(const T* src, Index n, T* host) {
        if (n <= 0) return;
        cuda::copy_async(host, src, n, cudaMemcpyDeviceToHost, "copying from the GPU");
        cuda::synchronize("copying from the GPU");
    }
    // A host array kept on the device for a whole fit: the data set, once,
    // and each epoch's shuffled order.
    template <class T>
    class Staged {
    public:
        Staged(const T* host, Index n) : buffer_(static_cast<std::size_t>(n), "uploading the data set to the GPU") {
            upload(host, n, buffer_.data());
        }
        const T* data() const noexcept { return buffer_.data(); }

    private:
        cuda::DeviceBuffer<T> buffer_;
    };
    template <class T>
    static Staged<T> stage(const T* host, Index n) {
        return Staged<T>(host, n);
    }
    // dst row r = row order[r] of the staged rows, all on the device.
    template <class T>
    static void gather_rows(const T* src, Index cols, const Index* order, Index count, T* dst) {
        cuda::launch("gather_rows", count * cols,
                     [=] __device__(Index i) { cuda_kernels::gather_at(i, src, cols, order, dst); });
    }
    template <class T>
    static void copy(ConstView<T> src, View<T> dst) {
        if (src.data() != dst.data())
            cuda::copy_async(dst.data(), src.data(), src.size(), cudaMemcpyDeviceToDevice, "copying on the GPU");
    }

    // ---- dense ----
    // C (m, n) = alpha op(A) op(B) + beta C, row-major; cuBLAS is column-major,
    // so it computes C^T = op(B)^T op(A)^T with the operands swapped.
    template <class T>
    static void gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, T alpha, const T* a, const T* b, T beta,
                     T* c) {
        if (m <= 0 || n <= 0) return;
        const int lda = int(trans_a ? m : k), ldb = int(trans_b ? k : n);
        const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
        std::lock_guard<std::mutex> lock(cuda::blas_mutex());
        if constexpr (std::is_same_v<T, float>)
            cuda::check(
                cublasSgemm(cuda::blas(), op_b, op_a, int(n), int(m), int(k), &alpha, b, ldb, a, lda, &beta, c, int(n)),
                "cublasSgemm");
        else
            cuda::check(
                cublasDgemm(cuda::blas(), op_b, op_a, int(n), int(m), int(k), &alpha, b, ldb, a, lda, &beta, c, int(n)),
                "cublasDgemm");
    }
    template <class T>
    static void add_bias_rows(View<T> y, ConstView<T> b) {
        T* yp = y.data();
        const T* bp = b.data();
        const Index cols = y.cols();
        cuda::launch("add_bias_rows", y.size(),
                     [=] __device__(Index i) { cuda_kernels::add_bias_at(i, yp, bp, cols); });
    }
    template <class T>
    static void accumulate_column_sums(ConstView<T> dz, View<T> db) {
        const T* d = dz.data();
        T* out = db.data();
        const Index rows = dz.rows(), cols = dz.cols();
        cuda::launch("accumulate_column_sums", cols,
                     [=] __device__(Index c) { cuda_kernels::column_sum_at(c, d, rows, cols, out); });
    }
    template <class T>
    static void activation_forward(ActivationKind kind, ConstView<T> x, View<T> y) {
        const T* xp = x.data();
        T* yp = y.data();
        const Index cols = y.cols();
        if (kind == ActivationKind::Linear && xp == yp) return;
        if (kind == ActivationKind::Softmax)
            cuda::launch("softmax", y.rows(), [=] __device__(Index r) { cuda_kernels::softmax_row(r, xp, yp, cols); });
        else
            cuda::launch("activation", y.size(),
                         [=] __device__(Index i) { cuda_kernels::activation_at(kind, i, xp, yp); });
    }
    template <class T>
    static void activation_backward(ActivationKind kind, ConstView<T> y, ConstView<T> dy, View<T> dz) {
        const T *yp = y.data(), *d = dy.data();
        T* out = dz.data();
        const Index cols = y.cols();
        if (kind == ActivationKind::Softmax)
            cuda::launch("softmax backward", y.rows(),
                         [=] __device__(Index r) { cuda_kernels::softmax_backward_row(r, yp, d, out, cols); });
        else
            cuda::launch("activation backward", y.size(),
                         [=] __device__(Index i) { cuda_kernels::activation_backward_at(kind, i, yp, d, out); });
    }

    // ---- conv2d: im2col + one cuBLAS GEMM per chunk of samples ----
    template <class T>
    using Conv2DWorkspace = CudaConv2DWorkspace<T>;
    template <class T>
    static void conv2d_reserve(Conv2DWorkspace<T>& ws, const Window2D& g, Index filters, Index batch) {
        const Index chunk = cuda::detail::conv_chunk(g, filters, batch);
        ws.columns.reserve(g.patch_size() * chunk * g.out_plane());
        ws.gradient.reserve(filters * chunk * g.out_plane());
    }
    template <class T>
    static void conv2d_forward(const Window2D& g, Index filters, ActivationKind act, ConstView<T> x,
                               ConstView<T> kernel, const T* bias, View<T> y) {
        const Index batch = x.rows(), chunk = cuda::detail::conv_chunk(g, filters, batch), P = g.out_plane(),
                    rows = g.patch_size();
        const Index in_sample = g.channels * g.in_plane();
        // Inference is const on the layer: columns from the cache, not the layer's workspace.
        cuda::DeviceBuffer<T> columns(static_cast<std::size_t>(rows * chunk * P), "Conv2D columns");
        cuda::DeviceBuffer<T> out(static_cast<std::size_t>(filters * chunk * P), "Conv2D output");
        for (Index n0 = 0; n0 < batch; n0 += chunk) {
            const Index count = chunk < batch - n0 ? chunk : batch - n0;
            const T* xs = x.data() + n0 * in_sample;
            T* cols = columns.data();
            T* o = out.data();
            T* ys = y.data() + n0 * filters * P;
            cuda::launch("Conv2D im2col", rows * count * P,
                         [=] __device__(Index i) { cuda_kernels::im2col_at(g, count, i, xs, cols); });
            // out (F, count*P) = W (F, C*KH*KW) . cols (C*KH*KW, count*P)
            gemm(false, false, filters, count * P, rows, T(1), kernel.data(), cols, T(0), o);
            cuda::launch("Conv2D output", count * filters * P, [=] __device__(Index i) {
                cuda_kernels::conv_output_at(i, filters, P, count, o, bias, ys);
                cuda_kernels::activation_at(act, i, ys);
            });
        }
    }
    template <class T>
    static void conv2d_backward(const Window2D& g, Index filters, ActivationKind act, Conv2DWorkspace<T>& ws,
                                ConstView<T> x, ConstView<T> y, ConstView<T> dy, ConstView<T> kernel, View<T> dkernel,
                                T* dbias, T* dx) {
        const Index batch = x.rows(), chunk = cuda::detail::conv_chunk(g, filters, batch), P = g.out_plane(),
                    rows = g.patch_size();
        const Index in_sample = g.channels * g.in_plane();
        conv2d_reserve(ws, g, filters, batch);  // a no-op unless this batch is larger than reserve()'s
        for (Index n0 = 0; n0 < batch; n0 += chunk) {
            const Index count = chunk < batch - n0 ? chunk : batch - n0, ld = count * P;
            const T* xs = x.data() + n0 * in_sample;
            const T* ys = y.data() + n0 * filters * P;
            const T* dys = dy.data() + n0 * filters * P;
            T* cols = ws.columns.data();
            T* dz = ws.gradient.data();
            // dz (F, count*P) = dy * act'(y), from NCHW into the GEMM's layout.
            cuda::launch("Conv2D output gradient", count * filters * P, [=] __device__(Index i) {
                cuda_kernels::conv_output_gradient_at(act, i, filters, P, count, ys, dys, dz);
            });
            if (dbias)
                cuda::launch("Conv2D bias gradient", filters,
                             [=] __device__(Index f) { cuda_kernels::row_sum_at(f, dz, ld, dbias); });
            cuda::launch("Conv2D im2col", rows * ld,
                         [=] __device__(Index i) { cuda_kernels::im2col_at(g, count, i, xs, cols); });
            // dW (F, C*KH*KW) += dz (F, count*P) . cols^T
            gemm(false, true, filters, rows, ld, T(1), dz, cols, T(1), dkernel.data());
            if (!dx) continue;
            // dcols (C*KH*KW, count*P) = W^T . dz, into the columns (already used).
            gemm(true, false, rows, ld, filters, T(1), kernel.data(), dz, T(0), cols);
            T* dxs = dx + n0 * in_sample;
            cuda::launch("Conv2D col2im", count * in_sample,
                         [=] __device__(Index i) { cuda_kernels::col2im_at(g, count, i, cols, dxs); });
        }
    }

    // ---- pooling ----
    template <class T>
    static void pool2d_forward(PoolKind kind, const Window2D& g, ConstView<T> x, View<T> y) {
        const T* xp = x.data();
        T* yp = y.data();
        cuda::launch("pooling", y.size(),
                     [=] __device__(Index o) { cuda_kernels::pool_forward_at(kind, g, o, xp, yp); });
    }
    template <class T>
    static void pool2d_backward(PoolKind kind, const Window2D& g, ConstView<T> x, ConstView<T> y, ConstView<T> dy,
                                View<T> dx) {
        const T *xp = x.data(), *yp = y.data(), *d = dy.data();
        T* out = dx.data();
        cuda::launch("pooling backward", dx.size(),
                     [=] __device__(Index i) { cuda_kernels::pool_backward_at(kind, g, i, xp, yp, d, out); });
    }
    template <class T>
    static void global_average_pool_forward(Index plane, ConstView<T> x, View<T> y) {
        const T* xp = x.data();
        T* yp = y.data();
        cuda::launch("global average pooling", y.size(),
                     [=] __device__(Index p) { cuda_kernels::global_average_pool_at(p, plane, xp, yp); });
    }
    template <class T>
    static void global_average_pool_backward(Index plane, ConstView<T> dy, View<T> dx) {
        const T* d = dy.data();
        T* out = dx.data();
        cuda::launch("global average pooling backward", dx.size(),
                     [=] __device__(Index i) { cuda_kernels::global_average_pool_backward_at(i, plane, d, out); });
    }

    // ---- batch normalisation: per-channel sums by one block per channel (batch_norm_reduce.hpp) ----
    template <class T>
    static void batch_norm_moments(ConstView<T> x, Index channels, T* mean, T* variance) {
        cuda::channel_moments(x.data(), x.rows(), channels, x.cols() / channels, mean, variance);
    }
    template <class T>
    static void batch_norm_forward(ConstView<T> x, Index channels, const T* mean, const T* variance, const T* gamma,
                                   const T* beta, T epsilon, View<T> y) {
        const T* xp = x.data();
        T* yp = y.data();
        const Index plane = x.cols() / channels;
        cuda::launch("BatchNormalization", y.size(), [=] __device__(Index i) {
            cuda_kernels::batch_norm_forward_at(i, xp, channels, plane, mean, variance, gamma, beta, epsilon, yp);
        });
    }
    template <class T>
    static void batch_norm_backward(ConstView<T> x, ConstView<T> dy, Index channels, const T* mean, const T* variance,
                                    const T* gamma, T epsilon, bool batch_statistics, T* dgamma, T* dbeta, T* dx) {
        const T *xp = x.data(), *d = dy.data();
        const Index plane = x.cols() / channels, count = x.rows() * plane;
        // The sums from the caching allocator: no cudaMalloc in a steady step.
        cuda::DeviceBuffer<double> sums(static_cast<std::size_t>(2 * channels), "BatchNormalization gradient sums");
        double* s = sums.data();
        cuda::channel_gradient_sums(xp, d, x.rows(), channels, plane, mean, variance, epsilon, s, dgamma, dbeta);
        if (!dx) return;
        cuda::launch("BatchNormalization backward", x.size(), [=] __device__(Index i) {
            cuda_kernels::batch_norm_dx_at(i, xp, d, channels, plane, count, mean, variance, gamma, epsilon,
                                           batch_statistics, s, dx);
        });
    }
    template <class T>
    static void batch_norm_update_moving(Index channels, const T* mean, const T* variance, double momentum,
                                         T* moving_mean, T* moving_variance) {
        const T keep = T(momentum), take = T(1.0 - momentum);
        cuda::launch("BatchNormalization moving statistics", channels, [=] __device__(Index c) {
            cuda_kernels::batch_norm_moving_at(c, mean, variance, keep, take, moving_mean, moving_variance);
        });
    }

    // ---- dropout: one key per call from the layer's generator ----
    template <class T>
    static void dropout_forward(Rng& rng, double rate, ConstView<T> x, View<T> mask, View<T> y) {
        const std::uint64_t key = rng.next_u64();
        const auto threshold = static_cast<std::uint64_t>(rate * 4294967296.0);
        const T scale = T(1) / T(1 - rate);
        T* m = mask.data();
        cuda::launch("Dropout mask", mask.size(),
                     [=] __device__(Index i) { cuda_kernels::dropout_mask_at(i, key, threshold, scale, m); });
        multiply(x, ConstView<T>(mask), y);
    }
    template <class T>
    static void multiply(ConstView<T> a, ConstView<T> b, View<T> out) {
        const T *ap = a.data(), *bp = b.data();
        T* o = out.data();
        cuda::launch("multiply", out.size(), [=] __device__(Index i) { cuda_kernels::multiply_at(i, ap, bp, o); });
    }

    // ---- affine warp: maps drawn on the host (the layer uploads them) ----
    template <class T>
    static void affine_warp(const Warp2D& g, ConstView<T> transforms, ConstView<T> x, View<T> y) {
        const T *t = transforms.data(), *xp = x.data();
        T* yp = y.data();
        cuda::launch("affine warp", y.size(),
                     [=] __device__(Index i) { cuda_kernels::affine_warp_at(g, i, t, xp, yp); });
    }
    // One thread per (sample, channel) plane: a scatter without atomics, in the CPU's order.
    template <class T>
    static void affine_warp_backward(const Warp2D& g, ConstView<T> transforms, ConstView<T> dy, View<T> dx) {
        const T *t = transforms.data(), *d = dy.data();
        T* out = dx.data();
        cuda::launch("affine warp backward", dy.rows() * g.channels,
                     [=] __device__(Index p) { cuda_kernels::affine_warp_backward_plane(g, p, t, d, out); });
    }

    // ---- initialisers: drawn on the host from the same generator as on the CPU ----
    template <class T>
    static void initialize(View<T> w, Initializer init, Index fan_in, Index fan_out, Rng& rng) {
        Tensor<T, Cpu> host(w.shape());
        lamina::initialize(host.view(), init, fan_in, fan_out, rng);
        upload(host.data(), host.size(), w.data());
    }

    // ---- losses: per-row (or element) terms, summed on the device ----
    template <class T>
    static T sparse_softmax_cross_entropy(ConstView<T> logits, ConstView<T> labels, T* grad, double* total = nullptr,
                                          double smoothing = 0) {
        const T *z = logits.data(), *y = labels.data();
        const Index K = logits.cols();
        const double B = double(logits.rows());
        return cuda::detail::batch_mean(
            "sparse softmax cross-entropy", logits.rows(), logits.rows(), B,
            [=] __device__(Index r) {
                return cuda_kernels::sparse_softmax_cross_entropy_row(r, z, y, K, grad, B, smoothing);
            },
            total);
    }
    template <class T>
    static T softmax_cross_entropy(ConstView<T> logits, ConstView<T> target, T* grad, double* total = nullptr,
                                   double smoothing = 0) {
        const T *z = logits.data(), *y = target.data();
        const Index K = logits.cols();
        const double B = double(logits.rows());
        return cuda::detail::batch_mean(
            "softmax cross-entropy", logits.rows(), logits.rows(), B,
            [=] __device__(Index r) { return cuda_kernels::softmax_cross_entropy_row(r, z, y, K, grad, B, smoothing); },
            total);
    }
    template <class T>
    static T probability_cross_entropy(ConstView<T> probs, const T* target, bool sparse, ConstView<T> labels, T* grad,
                                       double eps, double* total = nullptr, double smoothing = 0) {
        const T *p = probs.data(), *l = labels.data();
        const Index K = probs.cols();
        const double B = double(probs.rows());
        return cuda::detail::batch_mean(
            "cross-entropy", probs.rows(), probs.rows(), B,
            [=] __device__(Index r) {
                return cuda_kernels::probability_cross_entropy_row(r, p, target, sparse, l, K, grad, eps, B, smoothing);
            },
            total);
    }
    template <class T>
    static void softmax_logit_gradient(ConstView<T> probs, const T* target, bool sparse, ConstView<T> labels,
                                       View<T> grad, double eps, double smoothing = 0) {
        const T *p = probs.data(), *l = labels.data();
        T* g = grad.data();
        const Index K = probs.cols();
        const double B = double(probs.rows());
        cuda::launch("softmax cross-entropy gradient", probs.rows(), [=] __device__(Index r) {
            cuda_kernels::softmax_logit_gradient_row(r, p, target, sparse, l, K, g, eps, B, smoothing);
        });
    }
    template <class T>
    static T binary_cross_entropy(ConstView<T> pred, ConstView<T> target, bool from_logits, T* grad, double eps,
                                  double* total = nullptr) {
        const T *p = pred.data(), *y = target.data();
        const double n = double(pred.size());
        return cuda::detail::batch_mean(
            "binary cross-entropy", pred.size(), pred.rows(), n,
            [=] __device__(Index i) {
                return cuda_kernels::binary_cross_entropy_at(i, p, y, from_logits, grad, eps, n);
            },
            total);
    }
    template <class T>
    static T mean_squared_error(ConstView<T> pred, ConstView<T> target, T* grad, double* total = nullptr) {
        const T *p = pred.data(), *y = target.data();
        const double n = double(pred.size());
        return cuda::detail::batch_mean(
            "mean squared error", pred.size(), pred.rows(), n,
            [=] __device__(Index i) { return cuda_kernels::squared_error_at(i, p, y, grad, n); }, total);
    }

    // ---- optimizers ----
    template <class T>
    static void decay_weights(View<T> w, T rate) {
        T* wp = w.data();
        cuda::launch("weight decay", w.size(),
                     [=] __device__(Index i) { cuda_kernels::decay_weights_at(i, wp, rate); });
    }
    template <class T>
    static void sgd_update(View<T> w, ConstView<T> g, T* m, T lr, T momentum, bool nesterov) {
        T* wp = w.data();
        const T* gp = g.data();
        cuda::launch("SGD update", w.size(),
                     [=] __device__(Index i) { cuda_kernels::sgd_at(i, wp, gp, m, lr, momentum, nesterov); });
    }
    template <class T>
    static void adam_update(View<T> w, ConstView<T> g, View<T> m, View<T> v, T* vhat, T alpha, T one_minus_beta_1,
                            T one_minus_beta_2, T epsilon) {
        T *wp = w.data(), *mp = m.data(), *vp = v.data();
        const T* gp = g.data();
        cuda::launch("Adam update", w.size(), [=] __device__(Index i) {
            cuda_kernels::adam_at(i, wp, gp, mp, vp, vhat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon);
        });
    }
    template <class T>
    static void rmsprop_update(View<T> w, ConstView<T> g, View<T> v, T* mg, T* mom, T lr, T rho, T one_minus_rho,
                               T momentum, T epsilon) {
        T *wp = w.data(), *vp = v.data();
        const T* gp = g.data();
        cuda::launch("RMSprop update", w.size(), [=] __device__(Index i) {
            cuda_kernels::rmsprop_at(i, wp, gp, vp, mg, mom, lr, rho, one_minus_rho, momentum, epsilon);
        });
    }

    // ---- metrics ----
    // Returns the count (waiting for the device), or with `total` (device
    // memory) adds it there and returns 0 without waiting.
    template <class T>
    static Index count_correct(AccuracyKind kind, ConstView<T> pred, ConstView<T> target, T binary_threshold,
                               long long* total = nullptr) {
        const Index n = cuda_kernels::accuracy_items(kind, pred.rows(), pred.cols());
        if (n <= 0) return 0;
        const T *p = pred.data(), *y = target.data();
        const Index cols = pred.cols();
        cuda::DeviceBuffer<long long> hits(static_cast<std::size_t>(n), "accuracy");
        long long* h = hits.data();
        cuda::launch("accuracy", n, [=] __device__(Index i) {
            h[i] = cuda_kernels::correct_at(kind, i, p, y, cols, binary_threshold);
        });
        if (total) {
            cuda::add_sum(h, n, 1LL, total, "the accuracy count");
            return 0;
        }
        return Index(cuda::sum_to_host(h, n, "the accuracy count"));
    }

    // fit's loss total and correct count for an epoch, in device memory,
    // read (a wait) only when fit shows or hands out the values.
    class RunningSums {
    public:
        RunningSums() : loss_(1, "fit's running loss"), correct_(1, "fit's running accuracy count") { reset(); }
        double* loss() noexcept { return loss_.data(); }
        long long* correct() noexcept { return correct_.data(); }
        void reset() {
            cuda::zero_async(loss_.data(), 1, "resetting fit's sums");
            cuda::zero_async(correct_.data(), 1, "resetting fit's sums");
        }
        // Both values with one wait.
        void read(double& loss, Index& correct) const {
            long long c = 0;
            cuda::copy_async(&loss, loss_.data(), 1, cudaMemcpyDeviceToHost, "reading fit's sums");
            cuda::copy_async(&c, correct_.data(), 1, cudaMemcpyDeviceToHost, "reading fit's sums");
            cuda::synchronize("reading fit's sums");
            correct = Index(c);
        }

    private:
        cuda::DeviceBuffer<double> loss_;
        cuda::DeviceBuffer<long long> correct_;
    };
};

}  // namespace lamina
