// lamina/backend/cuda/window_kernels.hpp: the CUDA backend's pooling,
// im2col/col2im, convolution layout and global pooling, one function per
// output index.
//
// Contract: each function computes one output value from its index and reads
// everything else, so a kernel runs it once per thread with no atomics and the
// host test suite runs it in a loop over every index
// (tests/cuda_host/test_window_kernels_host.cpp) against Backend<Cpu>. The
// geometry g comes from make_window (core/window.hpp); OH*OW and H*W are
// computed from its fields (its member functions are host-only).
//   pool_forward_at            o in [0, planes*OH*OW): y[o], of plane o / (OH*OW) of x (planes, H, W)
//   pool_backward_at           i in [0, planes*H*W): dx[i] (written), gathered from every window covering i
//   im2col_at                  i in [0, C*KH*KW * count*OH*OW): cols (C*KH*KW, count*OH*OW) of count NCHW samples
//   col2im_at                  i in [0, count*C*H*W): dx[i] (written) = the sum of the cols entries copied from i
//   conv_output_at             i in [0, count*F*P): NCHW y[i] from the GEMM output (F, count*P) plus the bias
//   conv_output_gradient_at    i in [0, count*F*P): dz (F, count*P) at i's place = act'(y[i]) dy[i]
//   row_sum_at                 r a row of (rows, cols): out[r] += the row's sum (the conv bias gradient)
//   global_average_pool_at     p a plane: y[p] = the plane's mean
//   global_average_pool_backward_at  i in [0, planes*plane): dx[i] = dy[plane of i] / plane
// Windows are clipped to the input as backend/cpu/pooling.hpp clips them:
// padding never wins a max nor counts in an average, an empty window gives 0,
// and a max pool's gradient goes to the window's first maximum in row-major
// order. Sums run in the CPU's order, so pooling and im2col/col2im give the
// CPU's bits (up to the sign of a zero sum).
#pragma once

#include "lamina/backend/cuda/elementwise_kernels.hpp"
#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/core/pool_kind.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/window.hpp"

namespace lamina::cuda_kernels {

namespace detail {

// True when every window lies inside the input (core/window.hpp's windows_inside):
// then the CPU averages with sum * (1 / (KH*KW)), otherwise with sum / n.
LAMINA_HOST_DEVICE inline bool windows_inside(const Window2D& g) {
    return g.pad_top == 0 && g.pad_left == 0 && (g.out_h - 1) * g.s_h + g.k_h <= g.in_h &&
           (g.out_w - 1) * g.s_w + g.k_w <= g.in_w;
}

// The input rows (or columns) [begin, end) window o covers, clipped to [0, size).
struct WindowSpan {
    Index begin, end;
};

LAMINA_HOST_DEVICE inline WindowSpan window_span(Index o, Index stride, Index pad, Index k, Index size) {
    const Index first = o * stride - pad, last = first + k;
    return {first < 0 ? 0 : first, last > size ? size : last};
}

// The windows [begin, end) along one axis that cover input position `at`:
// o * stride - pad <= at <= o * stride - pad + k - 1, clipped to [0, out).
LAMINA_HOST_DEVICE inline WindowSpan covering_windows(Index at, Index stride, Index pad, Index k, Index out) {
    const Index low = at + pad - k + 1;  // o * stride >= low; negative means from 0
    const Index begin = low <= 0 ? 0 : (low + stride - 1) / stride;
    const Index last = (at + pad) / stride;  // at + pad >= 0
    return {begin, last + 1 < out ? last + 1 : out};
}

// Row-major offset in the plane of the window's first maximum, or -1 if empty.
template <class T>
LAMINA_HOST_DEVICE Index window_argmax(const T* xp, Index in_w, WindowSpan r, WindowSpan c) {
    Index best = -1;
    for (Index iy = r.begin; iy < r.end; ++iy)
        for (Index ix = c.begin; ix < c.end; ++ix) {
            const Index at = iy * in_w + ix;
            if (best < 0 || xp[at] > xp[best]) best = at;
        }
    return best;
}

LAMINA_HOST_DEVICE inline Index window_count(WindowSpan r, WindowSpan c) {
    const Index h = r.end - r.begin, w = c.end - c.begin;
    return (h > 0 ? h : 0) * (w > 0 ? w : 0);
}

}  // namespace detail

// y[o] = max or mean of window (oy, ox) of plane p, o = (p*OH + oy)*OW + ox.
template <class T>
LAMINA_HOST_DEVICE void pool_forward_at(PoolKind kind, const Window2D& g, Index o, const T* x, T* y) {
    const Index out_plane = g.out_h * g.out_w, p = o / out_plane, q = o % out_plane;
    const Index oy = q / g.out_w, ox = q % g.out_w;
    const T* xp = x + p * (g.in_h * g.in_w);
    const detail::WindowSpan r = detail::window_span(oy, g.s_h, g.pad_top, g.k_h, g.in_h);
    const detail::WindowSpan c = detail::window_span(ox, g.s_w, g.pad_left, g.k_w, g.in_w);
    if (kind == PoolKind::Max) {
        const Index at = detail::window_argmax(xp, g.in_w, r, c);
        y[o] = at < 0 ? T(0) : xp[at];
        return;
    }
    T sum = T(0);
    for (Index iy = r.begin; iy < r.end; ++iy)
        for (Index ix = c.begin; ix < c.end; ++ix) sum += xp[iy * g.in_w + ix];
    if (detail::windows_inside(g)) {
        y[o] = sum * (T(1) / T(g.k_h * g.k_w));
        return;
    }
    const Index n = detail::window_count(r, c);
    y[o] = n > 0 ? sum / T(n) : T(0);
}

// dx[i] = sum over the windows covering input i, in row-major window order,
// of the window's share of its dy: all of it if i is the window's first
// maximum (max), dy / n (average, n the clipped count). y is the forward's
// output; the winner is found again from x, so y is not read.
template <class T>
LAMINA_HOST_DEVICE void pool_backward_at(PoolKind kind, const Window2D& g, Index i, const T* x, const T* y, const T* dy,
                                         T* dx) {
    (void)y;
    const Index in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
    const Index p = i / in_plane, q = i % in_plane, iy = q / g.in_w, ix = q % g.in_w;
    const T* xp = x + p * in_plane;
    const T* dyp = dy + p * out_plane;
    const detail::WindowSpan oys = detail::covering_windows(iy, g.s_h, g.pad_top, g.k_h, g.out_h);
    const detail::WindowSpan oxs = detail::covering_windows(ix, g.s_w, g.pad_left, g.k_w, g.out_w);
    const bool inside = detail::windows_inside(g);
    const T scale = T(1) / T(g.k_h * g.k_w);
    T sum = T(0);
    for (Index oy = oys.begin; oy < oys.end; ++oy) {
        const detail::WindowSpan r = detail::window_span(oy, g.s_h, g.pad_top, g.k_h, g.in_h);
        for (Index ox = oxs.begin; ox < oxs.end; ++ox) {
            const detail::WindowSpan c = detail::window_span(ox, g.s_w, g.pad_left, g.k_w, g.in_w);
            const T d = dyp[oy * g.out_w + ox];
            if (kind == PoolKind::Max) {
                if (detail::window_argmax(xp, g.in_w, r, c) == q) sum += d;
            } else if (inside) {
                sum += d * scale;
            } else {
                sum += d / T(detail::window_count(r, c));
            }
        }
    }
    dx[i] = sum;
}

// cols[row][col] (row = (c*KH + ki)*KW + kj, col = s*OH*OW + oy*OW + ox)
//   = x[s][c][oy*SH - pad_top + ki][ox*SW - pad_left + kj], or 0 in the padding.
template <class T>
LAMINA_HOST_DEVICE void im2col_at(const Window2D& g, Index count, Index i, const T* x, T* cols) {
    const Index P = g.out_h * g.out_w, ld = count * P, kk = g.k_h * g.k_w;
    const Index row = i / ld, col = i % ld, s = col / P, q = col % P;
    const Index ch = row / kk, ki = row % kk / g.k_w, kj = row % g.k_w;
    const Index iy = q / g.out_w * g.s_h - g.pad_top + ki, ix = q % g.out_w * g.s_w - g.pad_left + kj;
    const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
    cols[i] = inside ? x[((s * g.channels + ch) * g.in_h + iy) * g.in_w + ix] : T(0);
}

// dx[i] = the sum, over kernel offsets (ki, kj) in row-major order (col2im's
// order), of the cols entry im2col copied from input i at that offset.
template <class T>
LAMINA_HOST_DEVICE void col2im_at(const Window2D& g, Index count, Index i, const T* cols, T* dx) {
    const Index in_plane = g.in_h * g.in_w, P = g.out_h * g.out_w, ld = count * P;
    const Index s = i / (g.channels * in_plane), ch = i / in_plane % g.channels, q = i % in_plane;
    const Index iy = q / g.in_w, ix = q % g.in_w;
    T sum = T(0);
    for (Index ki = 0; ki < g.k_h; ++ki) {
        const Index ty = iy + g.pad_top - ki;  // oy * SH
        if (ty < 0 || ty % g.s_h != 0 || ty / g.s_h >= g.out_h) continue;
        for (Index kj = 0; kj < g.k_w; ++kj) {
            const Index tx = ix + g.pad_left - kj;  // ox * SW
            if (tx < 0 || tx % g.s_w != 0 || tx / g.s_w >= g.out_w) continue;
            const Index row = (ch * g.k_h + ki) * g.k_w + kj;
            sum += cols[row * ld + s * P + ty / g.s_h * g.out_w + tx / g.s_w];
        }
    }
    dx[i] = sum;
}

// NCHW y[i] (i = (s*F + f)*P + p) = out[f][s*P + p] + bias[f], out the GEMM
// output (F, count*P); bias may be null. The activation runs after, per
// element (elementwise_kernels.hpp's activation_at).
template <class T>
LAMINA_HOST_DEVICE void conv_output_at(Index i, Index filters, Index plane, Index count, const T* out, const T* bias,
                                       T* y) {
    const Index s = i / (filters * plane), f = i / plane % filters, p = i % plane;
    y[i] = out[f * (count * plane) + s * plane + p] + (bias ? bias[f] : T(0));
}

// dz[f][s*P + p] = act'(y[i]) dy[i] for NCHW i = (s*F + f)*P + p: the
// backward's dL/dz in the GEMM's layout (F, count*P). Element-wise kinds only.
template <class T>
LAMINA_HOST_DEVICE void conv_output_gradient_at(ActivationKind act, Index i, Index filters, Index plane, Index count,
                                                const T* y, const T* dy, T* dz) {
    const Index s = i / (filters * plane), f = i / plane % filters, p = i % plane;
    activation_backward_at(act, 0, y + i, dy + i, dz + f * (count * plane) + s * plane + p);
}

// out[r] += sum of row r of a (rows, cols), in column order.
template <class T>
LAMINA_HOST_DEVICE void row_sum_at(Index r, const T* a, Index cols, T* out) {
    const T* row = a + r * cols;
    T sum = T(0);
    for (Index c = 0; c < cols; ++c) sum += row[c];
    out[r] += sum;
}

// y[p] = mean of plane p of x (planes, plane).
template <class T>
LAMINA_HOST_DEVICE void global_average_pool_at(Index p, Index plane, const T* x, T* y) {
    const T* xp = x + p * plane;
    T sum = T(0);
    for (Index k = 0; k < plane; ++k) sum += xp[k];
    y[p] = sum / T(plane);
}

// dx[i] = dy[i / plane] / plane.
template <class T>
LAMINA_HOST_DEVICE void global_average_pool_backward_at(Index i, Index plane, const T* dy, T* dx) {
    dx[i] = dy[i / plane] / T(plane);
}

}  // namespace lamina::cuda_kernels
