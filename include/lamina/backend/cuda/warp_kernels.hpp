// lamina/backend/cuda/warp_kernels.hpp: the CUDA backend's affine warp (the
// image augmentation layers), one function per output index or per plane.
//
// Contract: the arithmetic of backend/cpu/affine_warp.hpp (core/warp.hpp's
// maps, interpolation and fill modes), written so a kernel runs it once per
// thread with no atomics and the host test suite
// (tests/cuda_host/test_warp_kernels_host.cpp) runs it in a loop against
// Backend<Cpu>:
//   affine_warp_at               i in [0, N*C*H*W): y[i], read from its plane of x
//   affine_warp_backward_plane   p in [0, N*C): plane p of dx (written), the
//                                transpose of the warp applied to plane p of dy
// The backward scatters, so one thread owns a whole plane and adds into it in
// the CPU's order (output pixels row-major, taps in order): the GPU's dx has
// the CPU's bits up to contraction into fused multiply-adds, and needs no
// atomics. transforms is (N, 6), a0 a1 a2 b0 b1 b2 per sample.
#pragma once

#include <cmath>

#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/warp.hpp"

namespace lamina::cuda_kernels {

namespace detail {

// The pixel fill mode m reads for index i on an axis of n pixels; -1: the constant fill.
LAMINA_HOST_DEVICE inline Index warp_index(FillMode m, Index i, Index n) {
    if (i >= 0 && i < n) return i;
    if (m == FillMode::Constant) return -1;
    if (m == FillMode::Nearest) return i < 0 ? 0 : n - 1;
    if (m == FillMode::Wrap) {
        const Index r = i % n;
        return r < 0 ? r + n : r;
    }
    const Index period = 2 * n;  // reflect: (d c b a | a b c d | d c b a)
    Index r = i % period;
    if (r < 0) r += period;
    return r < n ? r : period - 1 - r;
}

// Offset of pixel (ix, iy) of a plane after the fill mode, or -1.
LAMINA_HOST_DEVICE inline Index warp_offset(const Warp2D& g, Index ix, Index iy) {
    ix = warp_index(g.fill, ix, g.width);
    iy = warp_index(g.fill, iy, g.height);
    return ix < 0 || iy < 0 ? Index(-1) : iy * g.width + ix;
}

// Calls f(offset, weight) for each pixel output (ox, oy) reads under map t,
// in the CPU's order: (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1).
template <class T, class F>
LAMINA_HOST_DEVICE void for_each_tap(const Warp2D& g, const T* t, Index ox, Index oy, F&& f) {
    const T sx = t[0] * T(ox) + t[1] * T(oy) + t[2];
    const T sy = t[3] * T(ox) + t[4] * T(oy) + t[5];
    if (g.interpolation == Interpolation::Nearest) {
        f(warp_offset(g, Index(std::floor(sx + T(0.5))), Index(std::floor(sy + T(0.5)))), T(1));
        return;
    }
    const T x0 = std::floor(sx), y0 = std::floor(sy);
    const T fx = sx - x0, fy = sy - y0;
    const Index ix = Index(x0), iy = Index(y0);
    f(warp_offset(g, ix, iy), (T(1) - fx) * (T(1) - fy));
    f(warp_offset(g, ix + 1, iy), fx * (T(1) - fy));
    f(warp_offset(g, ix, iy + 1), (T(1) - fx) * fy);
    f(warp_offset(g, ix + 1, iy + 1), fx * fy);
}

}  // namespace detail

// y[i] for i = (p*H + oy)*W + ox, p = n*C + c: the taps' weighted sum over
// plane p of x (the constant fill where a tap falls outside).
template <class T>
LAMINA_HOST_DEVICE void affine_warp_at(const Warp2D& g, Index i, const T* transforms, const T* x, T* y) {
    const Index plane = g.height * g.width, p = i / plane, q = i % plane;
    const T* xp = x + p * plane;
    const T fill = T(g.fill_value);
    T v = T(0);
    detail::for_each_tap(g, transforms + p / g.channels * warp_transform_size, q % g.width, q / g.width,
                         [&](Index at, T w) { v += w * (at < 0 ? fill : xp[at]); });
    y[i] = v;
}

// Plane p of dx, written: zero, then each output pixel's dy added to the
// pixels it read, with their weights.
template <class T>
LAMINA_HOST_DEVICE void affine_warp_backward_plane(const Warp2D& g, Index p, const T* transforms, const T* dy, T* dx) {
    const Index plane = g.height * g.width;
    const T* t = transforms + p / g.channels * warp_transform_size;
    const T* dyp = dy + p * plane;
    T* dxp = dx + p * plane;
    for (Index k = 0; k < plane; ++k) dxp[k] = T(0);
    for (Index oy = 0; oy < g.height; ++oy)
        for (Index ox = 0; ox < g.width; ++ox) {
            const T d = dyp[oy * g.width + ox];
            detail::for_each_tap(g, t, ox, oy, [&](Index at, T w) {
                if (at >= 0) dxp[at] += w * d;
            });
        }
}

}  // namespace lamina::cuda_kernels
