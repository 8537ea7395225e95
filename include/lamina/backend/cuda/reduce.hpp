// lamina/backend/cuda/reduce.hpp: summing a device array into one number.
//
// Contract: sum_to_host(values, n, operation) returns the sum of n device
// values (double or long long) on the host, in an order fixed by n alone, so
// the same values give the same bits on every run; it waits for the device.
// add_sum(values, n, scale, total, operation) adds scale x that sum to *total
// in device memory and does not wait (fit's running loss and accuracy).
// One block of 256 threads: thread t adds values t, t + 256, ... in order,
// then the block halves its partial sums in shared memory. This is GPU-only
// code (shared memory, __syncthreads); partial_sum_at (sum_kernels.hpp), one
// thread's loop, is the per-index part that the host tests check.
#pragma once

#include <string>

#include "lamina/backend/cuda/allocator.hpp"
#include "lamina/backend/cuda/launch.hpp"
#include "lamina/backend/cuda/sum_kernels.hpp"

namespace lamina::cuda {

namespace detail {
constexpr int reduce_threads = 256;
// *out = sum, or with accumulate *out += scale * sum.
template <class V>
__global__ void block_sum(const V* values, Index n, V* out, bool accumulate, V scale) {
    __shared__ V partial[reduce_threads];
    const int t = int(threadIdx.x);
    partial[t] = cuda_kernels::partial_sum_at(Index(t), values, n, Index(reduce_threads));
    __syncthreads();
    for (int half = reduce_threads / 2; half > 0; half /= 2) {
        if (t < half) partial[t] += partial[t + half];
        __syncthreads();
    }
    if (t == 0) *out = accumulate ? *out + scale * partial[0] : partial[0];
}
}  // namespace detail

template <class V>
V sum_to_host(const V* values, Index n, const char* operation) {
    DeviceBuffer<V> out(1, operation);
    detail::block_sum<<<1, detail::reduce_threads, 0, stream()>>>(values, n, out.data(), false, V(1));
    check(cudaGetLastError(), std::string("launching the sum of ") + operation);
    V host = V(0);
    copy_async(&host, out.data(), 1, cudaMemcpyDeviceToHost, std::string("reading ") + operation);
    synchronize(operation);
    return host;
}

// *total += scale * (the sum of the n device values), on the device: no wait.
template <class V>
void add_sum(const V* values, Index n, V scale, V* total, const char* operation) {
    detail::block_sum<<<1, detail::reduce_threads, 0, stream()>>>(values, n, total, true, scale);
    check(cudaGetLastError(), std::string("launching the sum of ") + operation);
}

}  // namespace lamina::cuda
