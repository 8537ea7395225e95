// lamina/backend/cpu/im2col.hpp: lowering a convolution to one GEMM.
//
// Contract: im2col(g, x, count, cols) reads `count` consecutive NCHW samples
// starting at x and writes the matrix cols (C*KH*KW, count*OH*OW), row-major:
//   cols[(c*KH + i)*KW + j][s*OH*OW + oy*OW + ox]
//       = x[s][c][oy*SH - pad_top + i][ox*SW - pad_left + j], or 0 in the padding.
// With the kernel as a (F, C*KH*KW) matrix, W * cols is the convolution of
// all `count` samples, (F, count*OH*OW). Putting several samples side by side
// makes that GEMM wide enough for Eigen to run near its peak even when one
// sample's output is small (11x11 in the Keras CNN's second layer).
// col2im(g, cols, count, dx) is the adjoint: dx[s][c][iy][ix] += every cols
// entry that im2col copied from there. dx must be zeroed by the caller.
//   naive im2col: for r, s, oy, ox: cols[r][s*P + oy*OW + ox] = x_padded[s][c(r)][oy*SH + i(r)][ox*SW + j(r)]
#pragma once

#include <algorithm>

#include "lamina/core/window.hpp"

namespace lamina::backend {

namespace detail {

// The output columns [lo, hi) of one row whose input column ox*SW - pad_left + j
// lands inside [0, in_w).
inline void valid_columns(const Window2D& g, Index j, Index& lo, Index& hi) {
    const Index first = g.pad_left - j;  // ix = ox*SW - first
    lo = first <= 0 ? 0 : (first + g.s_w - 1) / g.s_w;
    const Index last = g.in_w - 1 + first;  // largest ox*SW allowed
    hi = last < 0 ? 0 : std::min(g.out_w, last / g.s_w + 1);
    if (hi < lo) hi = lo;
}

// Calls f(col, inside, in, lo, hi) for every (kernel row, sample, output
// row): the shared skeleton of im2col and col2im. col is the offset of the
// row's first output column in cols; inside says whether the input row
// exists (false: a padding row); in is the input offset of output column 0,
// negative when left padding shifts it before the sample (only [lo, hi) are read).
template <class F>
void for_each_window_row(const Window2D& g, Index count, F&& f) {
    const Index P = g.out_plane(), ld = count * P, in_sample = g.channels * g.in_plane();
    Index r = 0;
    for (Index c = 0; c < g.channels; ++c)
        for (Index i = 0; i < g.k_h; ++i)
            for (Index j = 0; j < g.k_w; ++j, ++r) {
                Index lo, hi;
                valid_columns(g, j, lo, hi);
                for (Index s = 0; s < count; ++s)
                    for (Index oy = 0; oy < g.out_h; ++oy) {
                        const Index iy = oy * g.s_h - g.pad_top + i;
                        const Index col = r * ld + s * P + oy * g.out_w;
                        const bool inside = iy >= 0 && iy < g.in_h;
                        f(col, inside, s * in_sample + c * g.in_plane() + iy * g.in_w - g.pad_left + j, lo, hi);
                    }
            }
}

// dst[0, n) = src[0, n). Rows of 8 or more go in blocks of 8 (one vector
// move each once vectorised), the last block overlapping the one before:
// no scalar tail. The source and destination do not overlap.
template <class T>
inline void copy_row(const T* src, Index n, T* dst) {
    constexpr Index block = 8;
    if (n < block) {
        for (Index k = 0; k < n; ++k) dst[k] = src[k];
        return;
    }
    auto copy_block = [&](Index at) {
        T v[block];
        for (Index k = 0; k < block; ++k) v[k] = src[at + k];
        for (Index k = 0; k < block; ++k) dst[at + k] = v[k];
    };
    for (Index at = 0; at + block < n; at += block) copy_block(at);
    copy_block(n - block);
}

// dst[0, n) += src[0, n), in blocks of 8 like copy_row (an overlapping last
// block would add twice: a scalar tail instead). Through local copies, so the
// compiler need not fear that dst and src overlap.
template <class T>
inline void add_row(const T* src, Index n, T* dst) {
    constexpr Index block = 8;
    Index at = 0;
    for (; at + block <= n; at += block) {
        T v[block];
        for (Index k = 0; k < block; ++k) v[k] = dst[at + k] + src[at + k];
        for (Index k = 0; k < block; ++k) dst[at + k] = v[k];
    }
    for (; at < n; ++at) dst[at] += src[at];
}

}  // namespace detail

template <class T>
void im2col(const Window2D& g, const T* x, Index count, T* cols) {
    const Index ow = g.out_w, sw = g.s_w;
    // Unit stride without padding (the Keras CNN's layers): every window row
    // lies inside the input, so each (kernel tap, sample) is a plain 2-D copy,
    // written as loops the compiler vectorises inline. The rows are short (11
    // floats in that CNN's second layer): a memcpy call per row, and the
    // generic walk below, cost more than the copies.
    if (sw == 1 && windows_inside(g)) {
        const Index P = g.out_plane(), ld = count * P, in_sample = g.channels * g.in_plane();
        const Index row_step = g.s_h * g.in_w;
        T* d = cols;
        for (Index c = 0; c < g.channels; ++c)
            for (Index i = 0; i < g.k_h; ++i)
                for (Index j = 0; j < g.k_w; ++j, d += ld)
                    for (Index s = 0; s < count; ++s) {
                        const T* src = x + s * in_sample + c * g.in_plane() + i * g.in_w + j;
                        T* dst = d + s * P;
                        for (Index oy = 0; oy < g.out_h; ++oy, src += row_step, dst += ow)
                            detail::copy_row(src, ow, dst);
                    }
        return;
    }
    detail::for_each_window_row(g, count, [&](Index col, bool inside, Index in, Index lo, Index hi) {
        T* d = cols + col;
        if (!inside) {
            std::fill(d, d + ow, T(0));
            return;
        }
        // Padding leaves a column or two at each end: plain stores, and an
        // inline copy between them, cost less than the calls to memset and
        // memcpy on rows of 7 to 28 floats ("same" 3x3 convolutions).
        for (Index ox = 0; ox < lo; ++ox) d[ox] = T(0);
        if (sw == 1) {
            detail::copy_row(&x[in + lo], hi - lo, d + lo);
        } else {
            for (Index ox = lo; ox < hi; ++ox) d[ox] = x[in + ox * sw];
        }
        for (Index ox = hi; ox < ow; ++ox) d[ox] = T(0);
    });
}

template <class T>
void col2im(const Window2D& g, const T* cols, Index count, T* dx) {
    const Index sw = g.s_w;
    // Unit stride without padding, as im2col's plain path: sample by sample,
    // so that the sample's dx, which every kernel tap adds into, stays in L1.
    if (sw == 1 && windows_inside(g)) {
        const Index P = g.out_plane(), ld = count * P, in_sample = g.channels * g.in_plane();
        const Index ow = g.out_w, row_step = g.s_h * g.in_w;
        for (Index s = 0; s < count; ++s) {
            const T* src = cols + s * P;
            for (Index c = 0; c < g.channels; ++c)
                for (Index i = 0; i < g.k_h; ++i)
                    for (Index j = 0; j < g.k_w; ++j, src += ld) {
                        T* d = dx + s * in_sample + c * g.in_plane() + i * g.in_w + j;
                        const T* row = src;
                        for (Index oy = 0; oy < g.out_h; ++oy, row += ow, d += row_step) detail::add_row(row, ow, d);
                    }
        }
        return;
    }
    detail::for_each_window_row(g, count, [&](Index col, bool inside, Index in, Index lo, Index hi) {
        if (!inside) return;
        const T* s = cols + col;
        // Indexing from dx itself: `in` alone may be negative (left padding).
        if (sw == 1) {
            detail::add_row(s + lo, hi - lo, dx + (in + lo));
        } else {
            for (Index ox = lo; ox < hi; ++ox) dx[in + ox * sw] += s[ox];
        }
    });
}

}  // namespace lamina::backend
