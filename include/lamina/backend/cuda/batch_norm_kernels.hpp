// lamina/backend/cuda/batch_norm_kernels.hpp: the CUDA backend's batch
// normalisation arithmetic, one function per index.
//
// Contract: x, dy, y, dx are (N, C, P) row-major (P = H*W, or 1 for flat
// features); a channel's M = N*P values are its j-th values for j < M,
// at channel_element(c, j). The per-channel sums are taken by one block of
// `threads` threads per channel (batch_norm_reduce.hpp): thread t adds the
// values j = t, t + threads, ... in double (the *_part functions here), then
// the block halves the partial sums in shared memory, an order fixed by the
// shapes alone. The element functions (forward, dx) and the channel ones
// (parameter gradient, moving statistics) are per index as in every other
// *_kernels.hpp; the host tests (tests/cuda_host/test_batch_norm_kernels_host.cpp)
// run all of them over every index against Backend<Cpu>
// (backend/cpu/batch_norm.hpp, whose formulas these repeat).
#pragma once

#include <cmath>

#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda_kernels {

// Where channel c's j-th value lies: sample j / P, position j % P.
LAMINA_HOST_DEVICE inline Index channel_element(Index c, Index j, Index channels, Index plane) {
    return (j / plane * channels + c) * plane + j % plane;
}

template <class T>
LAMINA_HOST_DEVICE T batch_norm_inverse_std(T variance, T epsilon) {
    return T(1) / std::sqrt(variance + epsilon);
}

// Thread t's part of channel c's sum of x.
template <class T>
LAMINA_HOST_DEVICE double channel_sum_part(Index t, Index threads, Index c, const T* x, Index count, Index channels,
                                           Index plane) {
    double sum = 0;
    for (Index j = t; j < count; j += threads) sum += double(x[channel_element(c, j, channels, plane)]);
    return sum;
}

// Thread t's part of channel c's sum of (x - mean)^2.
template <class T>
LAMINA_HOST_DEVICE double channel_squared_deviation_part(Index t, Index threads, Index c, const T* x, double mean,
                                                         Index count, Index channels, Index plane) {
    double sum = 0;
    for (Index j = t; j < count; j += threads) {
        const double d = double(x[channel_element(c, j, channels, plane)]) - mean;
        sum += d * d;
    }
    return sum;
}

// Thread t's parts of channel c's sums of dy and of dy * xhat, xhat = (x - mean) * inv.
template <class T>
LAMINA_HOST_DEVICE void channel_gradient_parts(Index t, Index threads, Index c, const T* x, const T* dy, T mean, T inv,
                                               Index count, Index channels, Index plane, double& sum_dy,
                                               double& sum_dy_xhat) {
    sum_dy = 0;
    sum_dy_xhat = 0;
    for (Index j = t; j < count; j += threads) {
        const Index i = channel_element(c, j, channels, plane);
        sum_dy += double(dy[i]);
        sum_dy_xhat += double(dy[i]) * double((x[i] - mean) * inv);
    }
}

// y[i] = (x[i] - mean[c]) * gamma[c] / sqrt(variance[c] + eps) + beta[c]; gamma, beta may be null (1, 0).
template <class T>
LAMINA_HOST_DEVICE void batch_norm_forward_at(Index i, const T* x, Index channels, Index plane, const T* mean,
                                              const T* variance, const T* gamma, const T* beta, T epsilon, T* y) {
    const Index c = i / plane % channels;
    const T s = (gamma ? gamma[c] : T(1)) * batch_norm_inverse_std(variance[c], epsilon);
    y[i] = (x[i] - mean[c]) * s + (beta ? beta[c] : T(0));
}

// dx[i] from the channel's sums (sums: (2, C), sum dy then sum dy * xhat).
// With batch statistics, x's own mean and variance add the two mean terms.
template <class T>
LAMINA_HOST_DEVICE void batch_norm_dx_at(Index i, const T* x, const T* dy, Index channels, Index plane, Index count,
                                         const T* mean, const T* variance, const T* gamma, T epsilon,
                                         bool batch_statistics, const double* sums, T* dx) {
    const Index c = i / plane % channels;
    const T inv = batch_norm_inverse_std(variance[c], epsilon);
    const T s = (gamma ? gamma[c] : T(1)) * inv;
    const T mean_dy = batch_statistics ? T(sums[c] / double(count)) : T(0);
    const T mean_dy_xhat = batch_statistics ? T(sums[channels + c] / double(count)) : T(0);
    dx[i] = s * (dy[i] - mean_dy - (x[i] - mean[c]) * inv * mean_dy_xhat);
}

// dbeta[c] += sum dy, dgamma[c] += sum dy * xhat; either may be null.
template <class T>
LAMINA_HOST_DEVICE void batch_norm_parameter_gradient_at(Index c, Index channels, const double* sums, T* dgamma,
                                                         T* dbeta) {
    if (dbeta) dbeta[c] += T(sums[c]);
    if (dgamma) dgamma[c] += T(sums[channels + c]);
}

// moving = moving * keep + batch * take (keep = momentum, take = 1 - momentum).
template <class T>
LAMINA_HOST_DEVICE void batch_norm_moving_at(Index c, const T* mean, const T* variance, T keep, T take, T* moving_mean,
                                             T* moving_variance) {
    moving_mean[c] = moving_mean[c] * keep + mean[c] * take;
    moving_variance[c] = moving_variance[c] * keep + variance[c] * take;
}

}  // namespace lamina::cuda_kernels
