// lamina/backend/cpu/pooling.hpp: max and average pooling over NCHW planes.
//
// Contract: every function works on `planes` consecutive (H, W) input planes
// and the matching (OH, OW) output planes of the window g (core/window.hpp).
// Windows are clipped to the input: padding never wins a max and never counts
// in an average (TensorFlow's "same" pooling). Max pooling's gradient goes to
// the first maximum in row-major window order, so ties have one winner, as in
// TensorFlow and PyTorch. pool_backward writes (does not add to) dx.
//   naive max: y[p][oy][ox] = max_{i,j in window} x[p][oy*SH - pt + i][ox*SW - pl + j]
#pragma once

#include "lamina/core/eigen.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/core/pool_kind.hpp"
#include "lamina/core/restrict.hpp"
#include "lamina/core/window.hpp"

namespace lamina::backend {

namespace detail {

struct Span {
    Index begin, end;
};

// The input rows (or columns) window `o` covers, clipped to [0, size).
inline Span window_span(Index o, Index stride, Index pad, Index k, Index size) {
    const Index first = o * stride - pad;
    return {std::max<Index>(first, 0), std::min<Index>(first + k, size)};
}

// Calls f(output_index, rows, cols) for every output position of one plane.
template <class F>
void for_each_window(const Window2D& g, F&& f) {
    for (Index oy = 0; oy < g.out_h; ++oy) {
        const Span r = window_span(oy, g.s_h, g.pad_top, g.k_h, g.in_h);
        for (Index ox = 0; ox < g.out_w; ++ox)
            f(oy * g.out_w + ox, r, window_span(ox, g.s_w, g.pad_left, g.k_w, g.in_w));
    }
}

// Row-major offset of the first maximum of x over the window, or -1 if empty.
template <class T>
Index window_argmax(const T* x, Index in_w, Span r, Span c) {
    Index best = -1;
    for (Index iy = r.begin; iy < r.end; ++iy)
        for (Index ix = c.begin; ix < c.end; ++ix) {
            const Index at = iy * in_w + ix;
            if (best < 0 || x[at] > x[best]) best = at;
        }
    return best;
}

inline Index window_count(Span r, Span c) {
    return std::max<Index>(r.end - r.begin, 0) * std::max<Index>(c.end - c.begin, 0);
}

}  // namespace detail

namespace detail {

// Offset of the first maximum of the window starting at x[0] (rows in_w apart).
template <class T>
Index inside_argmax(const T* x, Index in_w, Index kh, Index kw) {
    Index best = 0;
    for (Index i = 0; i < kh; ++i)
        for (Index j = 0; j < kw; ++j)
            if (x[i * in_w + j] > x[best]) best = i * in_w + j;
    return best;
}

inline bool is_2x2_stride_2(const Window2D& g) {
    return g.k_h == 2 && g.k_w == 2 && g.s_h == 2 && g.s_w == 2 && windows_inside(g);
}

}  // namespace detail

template <class T>
void pool_forward(PoolKind kind, const Window2D& g, const T* x, Index planes, T* y) {
    if (detail::is_2x2_stride_2(g)) {
        // The CNNs' pooling, written so the compiler vectorises it. The
        // average adds in the generic loop's order, so both give the same bits.
        for (Index p = 0; p < planes; ++p)
            for (Index oy = 0; oy < g.out_h; ++oy) {
                const T* r0 = x + p * g.in_plane() + 2 * oy * g.in_w;
                const T* r1 = r0 + g.in_w;
                T* yr = y + p * g.out_plane() + oy * g.out_w;
                if (kind == PoolKind::Max) {
                    for (Index ox = 0; ox < g.out_w; ++ox)
                        yr[ox] = std::max(std::max(r0[2 * ox], r0[2 * ox + 1]), std::max(r1[2 * ox], r1[2 * ox + 1]));
                } else {
                    for (Index ox = 0; ox < g.out_w; ++ox)
                        yr[ox] = (((r0[2 * ox] + r0[2 * ox + 1]) + r1[2 * ox]) + r1[2 * ox + 1]) * T(0.25);
                }
            }
        return;
    }
    if (windows_inside(g)) {
        const T scale = T(1) / T(g.k_h * g.k_w);
        for (Index p = 0; p < planes; ++p) {
            const T* xp = x + p * g.in_plane();
            T* yp = y + p * g.out_plane();
            for (Index oy = 0; oy < g.out_h; ++oy)
                for (Index ox = 0; ox < g.out_w; ++ox) {
                    const T* w = xp + oy * g.s_h * g.in_w + ox * g.s_w;
                    T v;
                    if (kind == PoolKind::Max) {
                        v = w[0];
                        for (Index i = 0; i < g.k_h; ++i)
                            for (Index j = 0; j < g.k_w; ++j) v = std::max(v, w[i * g.in_w + j]);
                    } else {
                        v = 0;
                        for (Index i = 0; i < g.k_h; ++i)
                            for (Index j = 0; j < g.k_w; ++j) v += w[i * g.in_w + j];
                        v *= scale;
                    }
                    yp[oy * g.out_w + ox] = v;
                }
        }
        return;
    }
    for (Index p = 0; p < planes; ++p) {
        const T* xp = x + p * g.in_plane();
        T* yp = y + p * g.out_plane();
        detail::for_each_window(g, [&](Index o, detail::Span r, detail::Span c) {
            if (kind == PoolKind::Max) {
                const Index at = detail::window_argmax(xp, g.in_w, r, c);
                yp[o] = at < 0 ? T(0) : xp[at];
                return;
            }
            T sum = 0;
            for (Index iy = r.begin; iy < r.end; ++iy)
                for (Index ix = c.begin; ix < c.end; ++ix) sum += xp[iy * g.in_w + ix];
            const Index n = detail::window_count(r, c);
            yp[o] = n > 0 ? sum / T(n) : T(0);
        });
    }
}

namespace detail {

// v's bits as an unsigned integer of its size.
template <class T>
auto bits_of(T v) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    static_assert(sizeof(T) == sizeof(Bits), "bits_of: float or double");
    Bits u;
    std::memcpy(&u, &v, sizeof u);
    return u;
}

// The write-once 2x2/stride-2 backward kernels' walk: f(p, oy, d0, d1) fills
// the two dx rows (d0, d1) that output row oy of plane p covers; then the
// rows and columns no window covers (odd sizes) get 0.
template <class T, class F>
void for_each_2x2_dx_rows(const Window2D& g, Index planes, T* dx, F&& f) {
    for (Index p = 0; p < planes; ++p) {
        T* dxp = dx + p * g.in_plane();
        for (Index oy = 0; oy < g.out_h; ++oy) {
            T* d0 = dxp + 2 * oy * g.in_w;
            T* d1 = d0 + g.in_w;
            f(p, oy, d0, d1);
            // The usual leftover is one column (an odd width): two stores,
            // not two memset calls per row pair (which cost pool2 of the
            // Keras CNN, 11 x 11, more than its windows).
            const Index rest = g.in_w - 2 * g.out_w;
            if (rest == 1) {
                d0[g.in_w - 1] = d1[g.in_w - 1] = T(0);
            } else if (rest > 1) {
                std::fill(d0 + 2 * g.out_w, d0 + g.in_w, T(0));
                std::fill(d1 + 2 * g.out_w, d1 + g.in_w, T(0));
            }
        }
        std::fill(dxp + 2 * g.out_h * g.in_w, dxp + g.in_plane(), T(0));
    }
}

// 2x2/stride-2 max backward from the forward's output y: each window's
// winner is the first of its four inputs equal to y, chosen with bit masks
// and written once with the three losers' zeros: no zeroing pass, no
// read-modify-write of dx, no branch for ReLU's many tied zeros to
// mispredict. Equality is of bits: pool_forward's maximum is a copy of the
// first input holding it (so +0 and -0 cannot be confused), and float
// compares made the scalar tail of each row branch on NaN checks. Every
// mask is a full-width unsigned word of the float's size (all ones or
// zero), one type throughout, and the rows restrict-qualified
// (core/restrict.hpp), so that the compiler vectorises the loop with its
// stride-2 loads and stores (docs/performance.md).
template <class T>
void max_pool_2x2_backward(const Window2D& g, const T* x, const T* y, const T* dy, Index planes, T* dx) {
    using Bits = decltype(bits_of(T(0)));
    for_each_2x2_dx_rows(g, planes, dx, [&](Index p, Index oy, T* LAMINA_RESTRICT d0, T* LAMINA_RESTRICT d1) {
        const T* LAMINA_RESTRICT r0 = x + p * g.in_plane() + 2 * oy * g.in_w;
        const T* LAMINA_RESTRICT r1 = r0 + g.in_w;
        const T* LAMINA_RESTRICT yr = y + p * g.out_plane() + oy * g.out_w;
        const T* LAMINA_RESTRICT gr = dy + p * g.out_plane() + oy * g.out_w;
        const auto masked = [](Bits v) {
            T out;
            std::memcpy(&out, &v, sizeof out);
            return out;
        };
        for (Index ox = 0; ox < g.out_w; ++ox) {
            const Bits m = bits_of(yr[ox]), d = bits_of(gr[ox]);
            const Bits a = Bits(0) - Bits(bits_of(r0[2 * ox]) == m);
            const Bits b = Bits(0) - Bits(bits_of(r0[2 * ox + 1]) == m);
            const Bits c = Bits(0) - Bits(bits_of(r1[2 * ox]) == m);
            d0[2 * ox] = masked(d & a);
            d0[2 * ox + 1] = masked(d & b & ~a);
            d1[2 * ox] = masked(d & c & ~(a | b));
            d1[2 * ox + 1] = masked(d & ~(a | b | c));
        }
    });
}

// 2x2/stride-2 average backward: each input gets a quarter of its
// window's gradient, written once.
template <class T>
void average_pool_2x2_backward(const Window2D& g, const T* dy, Index planes, T* dx) {
    for_each_2x2_dx_rows(g, planes, dx, [&](Index p, Index oy, T* d0, T* d1) {
        const T* gr = dy + p * g.out_plane() + oy * g.out_w;
        for (Index ox = 0; ox < g.out_w; ++ox) {
            const T share = gr[ox] * T(0.25);
            d0[2 * ox] = d0[2 * ox + 1] = d1[2 * ox] = d1[2 * ox + 1] = share;
        }
    });
}

}  // namespace detail

// y is the forward's output for x: the write-once 2x2 max kernel reads the
// maxima from it; the others find the max again from x.
template <class T>
void pool_backward(PoolKind kind, const Window2D& g, const T* x, const T* y, const T* dy, Index planes, T* dx) {
    // Every 2x2/stride-2 max pool, short rows included: with the winner
    // found by comparing bits, the tail windows are branch-free too, and beat
    // the zero-then-add loop below even on the Keras CNN's 5-window rows
    // (docs/performance.md).
    if (kind == PoolKind::Max && detail::is_2x2_stride_2(g)) {
        detail::max_pool_2x2_backward(g, x, y, dy, planes, dx);
        return;
    }
    if (kind == PoolKind::Average && detail::is_2x2_stride_2(g)) {
        detail::average_pool_2x2_backward(g, dy, planes, dx);
        return;
    }
    std::fill(dx, dx + planes * g.in_plane(), T(0));
    if (windows_inside(g)) {
        const T scale = T(1) / T(g.k_h * g.k_w);
        for (Index p = 0; p < planes; ++p) {
            const T* xp = x + p * g.in_plane();
            const T* dyp = dy + p * g.out_plane();
            T* dxp = dx + p * g.in_plane();
            for (Index oy = 0; oy < g.out_h; ++oy)
                for (Index ox = 0; ox < g.out_w; ++ox) {
                    const Index at = oy * g.s_h * g.in_w + ox * g.s_w;
                    const T d = dyp[oy * g.out_w + ox];
                    if (kind == PoolKind::Max) {
                        dxp[at + detail::inside_argmax(xp + at, g.in_w, g.k_h, g.k_w)] += d;
                    } else {
                        for (Index i = 0; i < g.k_h; ++i)
                            for (Index j = 0; j < g.k_w; ++j) dxp[at + i * g.in_w + j] += d * scale;
                    }
                }
        }
        return;
    }
    for (Index p = 0; p < planes; ++p) {
        const T* xp = x + p * g.in_plane();
        const T* dyp = dy + p * g.out_plane();
        T* dxp = dx + p * g.in_plane();
        detail::for_each_window(g, [&](Index o, detail::Span r, detail::Span c) {
            if (kind == PoolKind::Max) {
                const Index at = detail::window_argmax(xp, g.in_w, r, c);
                if (at >= 0) dxp[at] += dyp[o];
                return;
            }
            const Index n = detail::window_count(r, c);
            if (n == 0) return;
            const T share = dyp[o] / T(n);
            for (Index iy = r.begin; iy < r.end; ++iy)
                for (Index ix = c.begin; ix < c.end; ++ix) dxp[iy * g.in_w + ix] += share;
        });
    }
}

// Each of `planes` planes of `plane` values, x (planes * plane), to its mean
// y (planes); threads split the planes.
template <class T>
void global_average_pool_forward(Index plane, const T* x, Index planes, T* y) {
    parallel_blocks(planes, [&](int, Index begin, Index end) {
        for (Index p = begin; p < end; ++p) {
            // Eigen's sum runs in SIMD lanes; a scalar loop waits on each add.
            const T sum = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(x + p * plane, plane).sum();
            y[p] = sum / T(plane);
        }
    });
}

// dx (planes * plane): each plane's dy spread evenly over its values.
template <class T>
void global_average_pool_backward(Index plane, const T* dy, Index planes, T* dx) {
    parallel_blocks(planes, [&](int, Index begin, Index end) {
        for (Index p = begin; p < end; ++p) std::fill(dx + p * plane, dx + (p + 1) * plane, dy[p] / T(plane));
    });
}

}  // namespace lamina::backend
