// lamina/backend/cuda/sum_kernels.hpp: one thread's share of a device sum.
//
// Contract: partial_sum_at(t, values, n, threads) adds values t, t + threads,
// t + 2 threads, ... below n, in that order: thread t's part of reduce.hpp's
// block sum, which then halves the `threads` partial sums in shared memory.
// Plain C++ without nvcc, so the host tests run it for every t.
#pragma once

#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda_kernels {

template <class V>
LAMINA_HOST_DEVICE V partial_sum_at(Index t, const V* values, Index n, Index threads) {
    V sum = V(0);
    for (Index i = t; i < n; i += threads) sum += values[i];
    return sum;
}

}  // namespace lamina::cuda_kernels
