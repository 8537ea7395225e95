// lamina/backend/cpu/batch_norm.hpp: batch normalisation per channel, on the CPU.
//
// Contract: x is (N, C, P) row-major: N samples of C channels of P values
// each (P = H*W for NCHW feature maps, 1 for flat features). Channel c's
// statistics run over its M = N*P values, summed in double in a fixed order:
// value p of each sample's plane goes to partial sum p % sum_lanes (sample n
// to n % sum_lanes for flat features), and the partial sums are added last
// (a loop the compiler vectorises, where one running sum would be a chain of
// dependent additions). OpenMP splits the channels, so results do not depend
// on the thread count. Nothing here allocates.
//   batch_norm_moments        mean[c], variance[c] (biased: divided by M), two passes
//   batch_norm_forward        y = (x - mean[c]) * (gamma[c] / sqrt(variance[c] + eps)) + beta[c]
//                             (gamma, beta null: 1, 0)
//   batch_norm_backward       with inv = 1/sqrt(var + eps), s = gamma * inv, xhat = (x - mean) * inv:
//                               dbeta[c] += sum dy, dgamma[c] += sum dy * xhat,
//                               dx = s * (dy - sum dy / M - xhat * sum(dy * xhat) / M)  (batch statistics)
//                               dx = s * dy                                             (fixed statistics)
//                             each output optional (null)
//   batch_norm_update_moving  moving = moving * momentum + batch * (1 - momentum)
//   naive moments: for c: mean = sum_{n,p} x[n][c][p] / M; var = sum_{n,p} (x[n][c][p] - mean)^2 / M
#pragma once

#include <cmath>
#include <type_traits>

#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::backend {

// f(c) for every channel of per_channel values each, split across threads
// when the whole pass is large enough to pay for them (parallel_blocks).
template <class F>
void for_each_channel(Index channels, Index per_channel, F&& f) {
    parallel_blocks(channels, per_channel, [&](int, Index begin, Index end) {
        for (Index c = begin; c < end; ++c) f(c);
    });
}

namespace detail {

constexpr Index sum_lanes = 8;

// Interleaved partial sums in double; total() adds them in a fixed order.
struct LaneSums {
    double lane[sum_lanes] = {};
    double total() const {
        double s = 0;
        for (const double v : lane) s += v;
        return s;
    }
};

// For p in [0, n): a.lane[p % sum_lanes] += fa(p) and b.lane[...] += fb(p).
template <class FA, class FB>
void add_lanes(Index n, LaneSums& a, FA&& fa, LaneSums& b, FB&& fb) {
    Index p = 0;
    for (; p + sum_lanes <= n; p += sum_lanes)
        for (Index k = 0; k < sum_lanes; ++k) {
            a.lane[k] += fa(p + k);
            b.lane[k] += fb(p + k);
        }
    for (Index k = 0; p < n; ++p, ++k) {
        a.lane[k] += fa(p);
        b.lane[k] += fb(p);
    }
}

template <class F>
void add_lanes(Index n, LaneSums& a, F&& f) {
    Index p = 0;
    for (; p + sum_lanes <= n; p += sum_lanes)
        for (Index k = 0; k < sum_lanes; ++k) a.lane[k] += f(p + k);
    for (Index k = 0; p < n; ++p, ++k) a.lane[k] += f(p);
}

// Calls visit(n, start, stride) for runs of channel c's values: the p-th
// value of a run is at start + p * stride in x. Each sample's plane is a run
// of stride 1 (a compile-time constant, so that the loops vectorise); flat
// features (plane 1) are one run over the samples, so that the lanes still
// get one value each.
template <class Visit>
void for_each_channel_run(Index rows, Index channels, Index plane, Index c, Visit&& visit) {
    if (plane == 1) {
        visit(rows, c, channels);
        return;
    }
    for (Index n = 0; n < rows; ++n) visit(plane, (n * channels + c) * plane, std::integral_constant<Index, 1>{});
}

}  // namespace detail

// 1 / sqrt(variance + epsilon), as the CUDA kernels compute it.
template <class T>
T batch_norm_inverse_std(T variance, T epsilon) {
    return T(1) / std::sqrt(variance + epsilon);
}

template <class T>
void batch_norm_moments(const T* x, Index rows, Index channels, Index plane, T* mean, T* variance) {
    const Index count = rows * plane;
    for_each_channel(channels, rows * plane, [&](Index c) {
        detail::LaneSums sum, squares;
        detail::for_each_channel_run(rows, channels, plane, c, [&](Index n, Index start, auto stride) {
            const T* xc = x + start;
            detail::add_lanes(n, sum, [xc, stride](Index p) { return double(xc[p * stride]); });
        });
        const double m = sum.total() / double(count);
        detail::for_each_channel_run(rows, channels, plane, c, [&](Index n, Index start, auto stride) {
            const T* xc = x + start;
            detail::add_lanes(n, squares, [xc, stride, m](Index p) {
                const double d = double(xc[p * stride]) - m;
                return d * d;
            });
        });
        mean[c] = T(m);
        variance[c] = T(squares.total() / double(count));
    });
}

template <class T>
void batch_norm_forward(const T* x, Index rows, Index channels, Index plane, const T* mean, const T* variance,
                        const T* gamma, const T* beta, T epsilon, T* y) {
    for_each_channel(channels, rows * plane, [&](Index c) {
        const T s = (gamma ? gamma[c] : T(1)) * batch_norm_inverse_std(variance[c], epsilon);
        const T m = mean[c], b = beta ? beta[c] : T(0);
        for (Index n = 0; n < rows; ++n) {
            const Index at = (n * channels + c) * plane;
            for (Index p = 0; p < plane; ++p) y[at + p] = (x[at + p] - m) * s + b;
        }
    });
}

template <class T>
void batch_norm_backward(const T* x, const T* dy, Index rows, Index channels, Index plane, const T* mean,
                         const T* variance, const T* gamma, T epsilon, bool batch_statistics, T* dgamma, T* dbeta,
                         T* dx) {
    const double count = double(rows * plane);
    for_each_channel(channels, rows * plane, [&](Index c) {
        const T inv = batch_norm_inverse_std(variance[c], epsilon), m = mean[c];
        // sum dy * xhat = inv * (sum dy * x - mean * sum dy): the products of
        // floats are exact in double, so the difference loses nothing that
        // matters, and the loop has no (x - mean) * inv per value.
        detail::LaneSums lanes_dy, lanes_dy_x;
        detail::for_each_channel_run(rows, channels, plane, c, [&](Index n, Index start, auto stride) {
            const T *xc = x + start, *dyc = dy + start;
            detail::add_lanes(
                n, lanes_dy, [dyc, stride](Index p) { return double(dyc[p * stride]); }, lanes_dy_x,
                [xc, dyc, stride](Index p) { return double(dyc[p * stride]) * double(xc[p * stride]); });
        });
        const double sum_dy = lanes_dy.total();
        const double sum_dy_xhat = double(inv) * (lanes_dy_x.total() - double(m) * sum_dy);
        if (dbeta) dbeta[c] += T(sum_dy);
        if (dgamma) dgamma[c] += T(sum_dy_xhat);
        if (!dx) return;
        const T s = (gamma ? gamma[c] : T(1)) * inv;
        // dx = s * (dy - mean_dy - (x - m) * inv * mean_dy_xhat) = s * dy + a * (x - m) + b,
        // with a and b per channel (in double, then rounded once). x stays
        // centred: a * x + b' would cancel where the mean is large against the spread.
        const double mean_dy = batch_statistics ? sum_dy / count : 0.0;
        const double k = batch_statistics ? double(inv) * sum_dy_xhat / count : 0.0;
        const T a = T(-double(s) * k), b = T(-double(s) * mean_dy);
        for (Index n = 0; n < rows; ++n) {
            const Index at = (n * channels + c) * plane;
            for (Index p = 0; p < plane; ++p) dx[at + p] = s * dy[at + p] + a * (x[at + p] - m) + b;
        }
    });
}

template <class T>
void batch_norm_update_moving(Index channels, const T* mean, const T* variance, double momentum, T* moving_mean,
                              T* moving_variance) {
    const T keep = T(momentum), take = T(1.0 - momentum);
    for (Index c = 0; c < channels; ++c) {
        moving_mean[c] = moving_mean[c] * keep + mean[c] * take;
        moving_variance[c] = moving_variance[c] * keep + variance[c] * take;
    }
}

}  // namespace lamina::backend
