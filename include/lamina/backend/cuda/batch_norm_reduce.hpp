// lamina/backend/cuda/batch_norm_reduce.hpp: batch normalisation's per-channel sums on the GPU.
//
// Contract: channel_moments(x, rows, channels, plane, mean, variance) writes
// each channel's mean and biased variance (two passes: the mean, then the
// squared deviations from it); channel_gradient_sums(...) writes each
// channel's sum of dy and of dy * xhat into sums (2, C) in device memory and
// adds them to dbeta and dgamma (either may be null). One block of
// channel_threads threads per channel: thread t's share is a *_part function
// of batch_norm_kernels.hpp (the per-index part that the host tests check),
// then the block halves the partial sums in shared memory as reduce.hpp does.
// No atomics: the same values give the same bits on every run. Neither waits.
// GPU-only code (shared memory, __syncthreads).
#pragma once

#include <string>

#include "lamina/backend/cuda/batch_norm_kernels.hpp"
#include "lamina/backend/cuda/launch.hpp"

namespace lamina::cuda {

namespace detail {
constexpr int channel_threads = 256;

// partial[0] = the sum of partial[0 .. channel_threads), for every thread to read.
__device__ inline void block_tree_sum(double* partial, int t) {
    __syncthreads();
    for (int half = channel_threads / 2; half > 0; half /= 2) {
        if (t < half) partial[t] += partial[t + half];
        __syncthreads();
    }
}

template <class T>
__global__ void channel_moments_kernel(const T* x, Index count, Index channels, Index plane, T* mean, T* variance) {
    __shared__ double partial[channel_threads];
    const Index c = Index(blockIdx.x);
    const int t = int(threadIdx.x);
    partial[t] = cuda_kernels::channel_sum_part(Index(t), Index(channel_threads), c, x, count, channels, plane);
    block_tree_sum(partial, t);
    const double m = partial[0] / double(count);
    __syncthreads();  // every thread has read partial[0] before it is reused
    partial[t] =
        cuda_kernels::channel_squared_deviation_part(Index(t), Index(channel_threads), c, x, m, count, channels, plane);
    block_tree_sum(partial, t);
    if (t == 0) {
        mean[c] = T(m);
        variance[c] = T(partial[0] / double(count));
    }
}

template <class T>
__global__ void channel_gradient_sums_kernel(const T* x, const T* dy, Index count, Index channels, Index plane,
                                             const T* mean, const T* variance, T epsilon, double* sums, T* dgamma,
                                             T* dbeta) {
    __shared__ double dy_part[channel_threads], dy_xhat_part[channel_threads];
    const Index c = Index(blockIdx.x);
    const int t = int(threadIdx.x);
    const T inv = cuda_kernels::batch_norm_inverse_std(variance[c], epsilon);
    cuda_kernels::channel_gradient_parts(Index(t), Index(channel_threads), c, x, dy, mean[c], inv, count, channels,
                                         plane, dy_part[t], dy_xhat_part[t]);
    block_tree_sum(dy_part, t);
    block_tree_sum(dy_xhat_part, t);
    if (t == 0) {
        sums[c] = dy_part[0];
        sums[channels + c] = dy_xhat_part[0];
        cuda_kernels::batch_norm_parameter_gradient_at(c, channels, sums, dgamma, dbeta);
    }
}
}  // namespace detail

template <class T>
void channel_moments(const T* x, Index rows, Index channels, Index plane, T* mean, T* variance) {
    if (channels <= 0) return;
    detail::channel_moments_kernel<<<static_cast<unsigned>(channels), detail::channel_threads, 0, stream()>>>(
        x, rows * plane, channels, plane, mean, variance);
    check(cudaGetLastError(), "launching BatchNormalization's statistics");
}

template <class T>
void channel_gradient_sums(const T* x, const T* dy, Index rows, Index channels, Index plane, const T* mean,
                           const T* variance, T epsilon, double* sums, T* dgamma, T* dbeta) {
    if (channels <= 0) return;
    detail::channel_gradient_sums_kernel<<<static_cast<unsigned>(channels), detail::channel_threads, 0, stream()>>>(
        x, dy, rows * plane, channels, plane, mean, variance, epsilon, sums, dgamma, dbeta);
    check(cudaGetLastError(), "launching BatchNormalization's gradient sums");
}

}  // namespace lamina::cuda
