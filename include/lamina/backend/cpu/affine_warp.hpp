// lamina/backend/cpu/affine_warp.hpp: the augmentation layers' affine warp on the CPU.
//
// Contract: affine_warp(g, batch, transforms, x, y) writes each NCHW sample
// of y (batch, C, H, W) from x of the same shape, every output pixel read at
// the source coordinate its sample's transform row (batch, 6) gives, with
// core/warp.hpp's interpolation and fill modes. affine_warp_backward writes
// (does not add to) dx = the transpose of that linear map applied to dy: each
// output pixel's gradient goes back to the pixels it read, with the same
// weights; a constant fill takes none. Planes (sample, channel) are split
// across threads and each plane is one thread's, so results do not depend on
// the thread count. Transforms must keep coordinates within +-2^30.
//   naive forward: y[n][c][oy][ox] = sum over taps k of w_k * x[n][c][iy_k][ix_k] (or fill_value)
#pragma once

#include <cmath>

#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/warp.hpp"

namespace lamina::backend {

namespace detail {

// The pixel that fill mode m reads for index i along an axis of n pixels;
// -1 stands for the constant fill.
inline Index warp_index(FillMode m, Index i, Index n) {
    if (i >= 0 && i < n) return i;
    switch (m) {
        case FillMode::Constant: return -1;
        case FillMode::Nearest: return i < 0 ? 0 : n - 1;
        case FillMode::Wrap: {
            const Index r = i % n;
            return r < 0 ? r + n : r;
        }
        case FillMode::Reflect: {
            const Index period = 2 * n;
            Index r = i % period;
            if (r < 0) r += period;
            return r < n ? r : period - 1 - r;
        }
    }
    return -1;
}

// What one output pixel reads: up to four offsets into the plane (-1: the
// constant fill) and their weights.
template <class T>
struct WarpTaps {
    Index at[4];
    T weight[4];
    int count;
};

// The source coordinate (sx, sy) that output pixel (ox, oy) reads under t.
template <class T>
void warp_source(const T* t, Index ox, Index oy, T& sx, T& sy) {
    sx = t[0] * T(ox) + t[1] * T(oy) + t[2];
    sy = t[3] * T(ox) + t[4] * T(oy) + t[5];
}

// Bilinear weights of the taps (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1).
template <class T>
void bilinear_weights(T fx, T fy, T* w) {
    w[0] = (T(1) - fx) * (T(1) - fy);
    w[1] = fx * (T(1) - fy);
    w[2] = (T(1) - fx) * fy;
    w[3] = fx * fy;
}

template <class T>
WarpTaps<T> warp_taps(const Warp2D& g, const T* t, Index ox, Index oy) {
    T sx, sy;
    warp_source(t, ox, oy, sx, sy);
    WarpTaps<T> taps{};
    auto offset = [&](Index ix, Index iy) {
        ix = warp_index(g.fill, ix, g.width);
        iy = warp_index(g.fill, iy, g.height);
        return ix < 0 || iy < 0 ? Index(-1) : iy * g.width + ix;
    };
    if (g.interpolation == Interpolation::Nearest) {
        taps.at[0] = offset(Index(std::floor(sx + T(0.5))), Index(std::floor(sy + T(0.5))));
        taps.weight[0] = T(1);
        taps.count = 1;
        return taps;
    }
    const T x0 = std::floor(sx), y0 = std::floor(sy);
    const Index ix = Index(x0), iy = Index(y0);
    taps.at[0] = offset(ix, iy);
    taps.at[1] = offset(ix + 1, iy);
    taps.at[2] = offset(ix, iy + 1);
    taps.at[3] = offset(ix + 1, iy + 1);
    bilinear_weights(sx - x0, sy - y0, taps.weight);
    taps.count = 4;
    return taps;
}

}  // namespace detail

// One plane: y (H, W) from x (H, W) under the transform row t. Bilinear
// reads whose four taps all lie inside the plane (most of them) skip the
// fill-mode lookups, with the same arithmetic in the same order.
template <class T>
void affine_warp_plane(const Warp2D& g, const T* t, const T* x, T* y) {
    const T fill = T(g.fill_value);
    const bool bilinear = g.interpolation == Interpolation::Bilinear;
    const T last_x = T(g.width - 1), last_y = T(g.height - 1);
    for (Index oy = 0; oy < g.height; ++oy)
        for (Index ox = 0; ox < g.width; ++ox) {
            T v = T(0);
            T sx, sy;
            detail::warp_source(t, ox, oy, sx, sy);
            const T x0 = std::floor(sx), y0 = std::floor(sy);
            if (bilinear && x0 >= T(0) && y0 >= T(0) && x0 < last_x && y0 < last_y) {
                T w[4];
                detail::bilinear_weights(sx - x0, sy - y0, w);
                const T* p = x + Index(y0) * g.width + Index(x0);
                v += w[0] * p[0];
                v += w[1] * p[1];
                v += w[2] * p[g.width];
                v += w[3] * p[g.width + 1];
            } else {
                const auto taps = detail::warp_taps(g, t, ox, oy);
                for (int k = 0; k < taps.count; ++k) v += taps.weight[k] * (taps.at[k] < 0 ? fill : x[taps.at[k]]);
            }
            y[oy * g.width + ox] = v;
        }
}

// One plane of the transpose: dx (H, W), written, from dy (H, W).
template <class T>
void affine_warp_backward_plane(const Warp2D& g, const T* t, const T* dy, T* dx) {
    const Index plane = g.height * g.width;
    for (Index i = 0; i < plane; ++i) dx[i] = T(0);
    for (Index oy = 0; oy < g.height; ++oy)
        for (Index ox = 0; ox < g.width; ++ox) {
            const auto taps = detail::warp_taps(g, t, ox, oy);
            const T d = dy[oy * g.width + ox];
            for (int k = 0; k < taps.count; ++k)
                if (taps.at[k] >= 0) dx[taps.at[k]] += taps.weight[k] * d;
        }
}

template <class T>
void affine_warp(const Warp2D& g, Index batch, const T* transforms, const T* x, T* y) {
    const Index plane = g.height * g.width;
    parallel_blocks(batch * g.channels, [&](int, Index begin, Index end) {
        for (Index p = begin; p < end; ++p)
            affine_warp_plane(g, transforms + p / g.channels * warp_transform_size, x + p * plane, y + p * plane);
    });
}

template <class T>
void affine_warp_backward(const Warp2D& g, Index batch, const T* transforms, const T* dy, T* dx) {
    const Index plane = g.height * g.width;
    parallel_blocks(batch * g.channels, [&](int, Index begin, Index end) {
        for (Index p = begin; p < end; ++p)
            affine_warp_backward_plane(g, transforms + p / g.channels * warp_transform_size, dy + p * plane,
                                       dx + p * plane);
    });
}

}  // namespace lamina::backend
