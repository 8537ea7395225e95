// lamina/backend/cpu/conv2d.hpp: Conv2D's forward and backward on the CPU.
//
// Contract: x (N, C, H, W), y and dy (N, F, OH, OW), kernel (F, C, KH, KW),
// bias (F,) or null; the geometry g comes from make_window (core/window.hpp).
// conv2d_forward writes y = act(conv(x) + bias); conv2d_backward adds dL/dW
// and dL/db into dkernel and dbias (when not null) and, when dx is not null,
// writes dL/dx. A layer with a small patch (a first layer) convolves directly
// instead (conv2d_direct.hpp); a deeper 3x3 stride-1 layer runs its forward
// (batches of two or more), dW and dx through Winograd's transforms
// (conv2d_winograd.hpp); the others lower the convolution to GEMM: each OpenMP thread takes
// a contiguous block of the batch, expands a chunk of samples into columns
// (im2col.hpp) in its own scratch buffers and multiplies them by the kernel
// on its own, since splitting the batch beats Eigen's threading on these
// narrow products (docs/performance.md). The forward of a batch of one
// splits its filters across the threads instead (conv2d_forward_sample), for
// the same bits as on one thread. The backward keeps per-thread dW/db
// partials in a Conv2DWorkspace and sums them in thread order, so the result
// depends on the thread count only. conv2d_reserve sizes every buffer for
// batches up to `batch`; after it neither call allocates.
#pragma once

#include "lamina/core/eigen.hpp"

#include <algorithm>

#include "lamina/backend/cpu/conv2d_direct.hpp"
#include "lamina/backend/cpu/conv2d_winograd.hpp"
#include "lamina/backend/cpu/elementwise.hpp"
#include "lamina/backend/cpu/gemm.hpp"
#include "lamina/backend/cpu/im2col.hpp"
#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/backend/cpu/scratch.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/core/window.hpp"

// Floats per per-thread workspace (columns or GEMM output); tuned on the
// Keras CNN's shapes (docs/performance.md). A compile-time knob for other CPUs.
#ifndef LAMINA_CONV_WORKSPACE_FLOATS
#define LAMINA_CONV_WORKSPACE_FLOATS (Index(1) << 18)
#endif

namespace lamina::backend {

// The backward's per-thread dW and db: (threads, F*C*KH*KW + F).
template <class T>
struct Conv2DWorkspace {
    Tensor<T> partials;
};

namespace detail {

// Per-thread scratch buffers (scratch.hpp): im2col columns (C*KH*KW,
// chunk*P) and the GEMM's output or dL/dz (F, chunk*P).
struct ConvColumns;
struct ConvGemmOutput;

// Samples per GEMM: enough columns for Eigen to reach its peak, few enough
// that the columns stay in the 1-2 MB of L2 a core has.
inline Index conv_chunk(const Window2D& g, Index filters) {
    constexpr Index budget = LAMINA_CONV_WORKSPACE_FLOATS;
    const Index per_sample = std::max(g.patch_size(), filters) * g.out_plane();
    return std::max<Index>(1, budget / std::max<Index>(per_sample, 1));
}

// A batch of one splits its filters across the team instead, in units of 4
// (the GEMM kernel's column tile), when the team's threads get
// gemm_work_per_thread multiply-adds (gemm.hpp) or more each.
constexpr Index conv_filter_unit = 4;

inline bool conv_split_sample(const Window2D& g, Index filters) {
    const int threads = team_size();
    const double work = double(g.out_plane()) * double(filters) * double(g.patch_size());
    return threads > 1 && work >= gemm_work_per_thread * threads && filters >= 2 * conv_filter_unit;
}

// One sample, its filters split into one block per thread, in one parallel
// region: each thread expands the whole sample into its own columns (im2col),
// multiplies them by its filters with the single-threaded GEMM straight into
// its planes of y, and adds bias and activation there. Each thread writes
// only its own planes, contiguous: split by output positions instead, both
// threads would write into the same cache lines of every plane, and those
// lines moving between the cores cost more than the second expansion.
template <class T>
void conv2d_forward_sample(const Window2D& g, Index filters, ActivationKind act, const T* x, const T* kernel,
                           const T* bias, T* y) {
    const Index P = g.out_plane(), rows = g.patch_size(), unit = conv_filter_unit;
    parallel_blocks((filters + unit - 1) / unit, [&](int, Index u0, Index u1) {
        const Index f0 = std::min(filters, u0 * unit), f1 = std::min(filters, u1 * unit), len = f1 - f0;
        if (len <= 0) return;
        T* cols = scratch<T, ConvColumns>(rows * P);
        im2col(g, x, 1, cols);
        T* out = y + f0 * P;
        // y[f0:f1] (len, P) = W[f0:f1] (len, rows) . cols (rows, P), as
        // column-major yᵀ (P, len) += colsᵀ (P, rows) . W[f0:f1]ᵀ (rows, len)
        // from zero, blocked as the whole product, then bias and activation:
        // the same bits as one thread's path below.
        std::fill_n(out, len * P, T(0));
        gemm_serial<T, Eigen::ColMajor, Eigen::ColMajor>(P, len, rows, T(1), cols, P, kernel + f0 * rows, rows, out, P,
                                                         filters);
        for (Index f = f0; f < f1; ++f, out += P) {
            if (bias)
                for (Index p = 0; p < P; ++p) out[p] += bias[f];
            activate_span(act, out, P);
        }
    });
}

}  // namespace detail

template <class T>
void conv2d_reserve(Conv2DWorkspace<T>& ws, const Window2D& g, Index filters, Index batch) {
    const Index chunk = std::min(batch, detail::conv_chunk(g, filters));
    warm_scratch<T, detail::ConvColumns>(g.patch_size() * chunk * g.out_plane());
    warm_scratch<T, detail::ConvGemmOutput>(filters * chunk * g.out_plane());
    if (conv_direct(g)) conv2d_direct_reserve<T>(g, filters);
    if (conv_winograd(g)) {
        conv2d_winograd_reserve<T>(g, filters, batch);
        const Window2D d = winograd_dx_window(g, filters);
        if (conv_winograd(d)) conv2d_winograd_reserve<T>(d, g.channels, chunk);
    }
    ws.partials.resize(Shape{team_size(), filters * g.patch_size() + filters});
}

template <class T>
void conv2d_forward(const Window2D& g, Index filters, ActivationKind act, TensorView<const T> x,
                    TensorView<const T> kernel, const T* bias, TensorView<T> y) {
    const Index P = g.out_plane(), in_sample = g.channels * g.in_plane(), chunk = detail::conv_chunk(g, filters);
    const Index rows = g.patch_size();
    if (conv_direct(g)) {
        if (x.rows() == 1 && detail::conv_split_sample(g, filters)) {
            // A batch of one splits its filter groups, as the GEMM path below
            // splits its filters; each output is the same bits either way.
            parallel_blocks(conv_direct_groups(filters), [&](int, Index g0, Index g1) {
                if (g0 < g1)
                    conv2d_direct_forward(g, filters, act, x.data(), 0, 1, kernel.data(), bias, y.data(), g0, g1);
            });
            return;
        }
        parallel_blocks(x.rows(), [&](int, Index begin, Index end) {
            conv2d_direct_forward(g, filters, act, x.data(), begin, end, kernel.data(), bias, y.data());
        });
        return;
    }
    if (x.rows() == 1) {
        // A batch of one keeps the GEMM: Winograd's kernel transform would
        // cost about what it saves on one sample.
        if (detail::conv_split_sample(g, filters)) {
            detail::conv2d_forward_sample(g, filters, act, x.data(), kernel.data(), bias, y.data());
            return;
        }
    } else if (conv_winograd(g)) {
        const detail::WinogradLayout<T> l(g, filters);
        T* u = scratch<T, detail::WinogradKernel>(l.kernel_size());
        winograd_kernel(g, filters, kernel.data(), bias, false, u);
        parallel_blocks(x.rows(), [&](int, Index begin, Index end) {
            conv2d_winograd_forward(g, filters, act, u, x.data(), in_sample, g.in_plane(), begin, end, y.data());
        });
        return;
    }
    parallel_blocks(x.rows(), [&](int, Index begin, Index end) {
        T* cols = scratch<T, detail::ConvColumns>(rows * std::min(chunk, end - begin) * P);
        T* out = scratch<T, detail::ConvGemmOutput>(filters * std::min(chunk, end - begin) * P);
        for (Index n0 = begin; n0 < end; n0 += chunk) {
            const Index count = std::min(chunk, end - n0), ld = count * P;
            im2col(g, x.data() + n0 * in_sample, count, cols);
            if (count == 1) {
                // One sample's (F, P) product is already its NCHW output: the
                // GEMM writes y itself, and bias and activation follow in place.
                T* dst = y.data() + n0 * filters * P;
                gemm(Cpu{}, false, false, filters, P, rows, T(1), kernel.data(), cols, T(0), dst);
                for (Index f = 0; f < filters; ++f, dst += P) {
                    if (bias)
                        for (Index p = 0; p < P; ++p) dst[p] += bias[f];
                    activate_span(act, dst, P);
                }
                continue;
            }
            // out (F, count*P) = W (F, C*KH*KW) . cols (C*KH*KW, count*P)
            gemm(Cpu{}, false, false, filters, ld, rows, T(1), kernel.data(), cols, T(0), out);
            for (Index s = 0; s < count; ++s)
                for (Index f = 0; f < filters; ++f) {
                    T* dst = y.data() + ((n0 + s) * filters + f) * P;
                    const T* src = out + f * ld + s * P;
                    const T b = bias ? bias[f] : T(0);
                    for (Index p = 0; p < P; ++p) dst[p] = src[p] + b;
                    activate_span(act, dst, P);
                }
        }
    });
}

namespace detail {

// The backward through GEMM: per-thread dW and db partials into ws, and dx
// when not null.
template <class T>
void conv2d_gemm_backward(const Window2D& g, Index filters, ActivationKind act, Conv2DWorkspace<T>& ws,
                          TensorView<const T> x, TensorView<const T> y, TensorView<const T> dy,
                          TensorView<const T> kernel, bool bias, T* dx) {
    const Index P = g.out_plane(), in_sample = g.channels * g.in_plane(), chunk = conv_chunk(g, filters);
    const Index rows = g.patch_size(), partial = ws.partials.cols();
    // A 3x3 stride-1 layer takes dW and dx through Winograd's transforms
    // (conv2d_winograd.hpp), so it expands no columns at all: dx as the
    // convolution of dz with the kernel turned, transformed once here.
    const bool winograd_dw = conv_winograd(g);
    const Window2D gx = winograd_dx_window(g, filters);
    const bool winograd_dx = dx && winograd_dw && conv_winograd(gx);
    T* u = nullptr;
    if (winograd_dx) {
        u = scratch<T, WinogradKernel>(WinogradLayout<T>(gx, g.channels).kernel_size());
        winograd_kernel(gx, g.channels, kernel.data(), static_cast<const T*>(nullptr), true, u);
    }
    parallel_blocks(x.rows(), [&](int t, Index begin, Index end) {
        T* cols = scratch<T, ConvColumns>(rows * std::min(chunk, end - begin) * P);
        T* dz = scratch<T, ConvGemmOutput>(filters * std::min(chunk, end - begin) * P);
        T* dw = ws.partials.data() + Index(t) * partial;
        T* db = dw + filters * rows;
        T* du = winograd_dw && begin < end ? winograd_kernel_gradient_begin<T>(g, filters) : nullptr;
        for (Index n0 = begin; n0 < end; n0 += chunk) {
            const Index count = std::min(chunk, end - n0), ld = count * P;
            // dz (F, count*P) = dy * act'(y), gathered from NCHW into the GEMM's layout.
            for (Index s = 0; s < count; ++s)
                for (Index f = 0; f < filters; ++f) {
                    const Index at = ((n0 + s) * filters + f) * P;
                    T* d = dz + f * ld + s * P;
                    activation_backward_span(act, y.data() + at, dy.data() + at, d, P);
                    // Eigen's sum runs in SIMD lanes; a scalar loop would wait on each add.
                    if (bias) db[f] += Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(d, P).sum();
                }
            if (du) {
                winograd_kernel_gradient_add(g, filters, x.data() + n0 * in_sample, in_sample, count, dz, P, ld, du);
            } else {
                im2col(g, x.data() + n0 * in_sample, count, cols);
                // dW (F, C*KH*KW) += dz (F, count*P) . cols^T
                gemm(Cpu{}, false, true, filters, rows, ld, T(1), dz, cols, T(1), dw);
            }
            if (!dx) continue;
            if (winograd_dx) {
                // dz's sample s starts at s*P, its filters ld apart.
                conv2d_winograd_forward(gx, g.channels, ActivationKind::Linear, u, dz, P, ld, 0, count,
                                        dx + n0 * in_sample);
                continue;
            }
            // dcols (C*KH*KW, count*P) = W^T . dz, into the columns' buffer (already used).
            gemm(Cpu{}, true, false, rows, ld, filters, T(1), kernel.data(), dz, T(0), cols);
            T* dx0 = dx + n0 * in_sample;
            std::fill(dx0, dx0 + count * in_sample, T(0));
            col2im(g, cols, count, dx0);
        }
        if (du) winograd_kernel_gradient_end(g, filters, du, dw);
    });
}

}  // namespace detail

template <class T>
void conv2d_backward(const Window2D& g, Index filters, ActivationKind act, Conv2DWorkspace<T>& ws,
                     TensorView<const T> x, TensorView<const T> y, TensorView<const T> dy, TensorView<const T> kernel,
                     TensorView<T> dkernel, T* dbias, T* dx) {
    const Index rows = g.patch_size(), partial = filters * rows + filters;
    const int threads = team_size();
    ws.partials.resize(Shape{threads, partial});
    ws.partials.set_zero();
    if (!dx && conv_direct(g)) {
        // A first layer (no dx) with a small patch: conv2d_direct.hpp.
        parallel_blocks(x.rows(), [&](int t, Index begin, Index end) {
            T* dw = ws.partials.data() + Index(t) * partial;
            conv2d_direct_kernel_gradient(g, filters, act, x.data(), y.data(), dy.data(), begin, end, dw,
                                          dbias ? dw + filters * rows : nullptr);
        });
    } else {
        detail::conv2d_gemm_backward(g, filters, act, ws, x, y, dy, kernel, dbias != nullptr, dx);
    }
    // Partials in thread order: the same sum for the same thread count.
    for (int t = 0; t < threads; ++t) {
        const T* dw = ws.partials.data() + Index(t) * partial;
        dkernel.array() += Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(dw, dkernel.size());
        if (dbias)
            Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(dbias, filters) +=
                Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(dw + dkernel.size(), filters);
    }
}

}  // namespace lamina::backend
