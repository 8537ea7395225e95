// lamina/backend/cuda/launch.hpp: the one way lamina starts a kernel.
//
// Contract: launch(operation, n, f) runs f(i) for every i in [0, n) on the
// GPU, on lamina's stream (runtime.hpp), and returns without waiting; f is a
// __device__ lambda (or functor) that calls one per-index function of
// backend/cuda/*_kernels.hpp, the same function the host test suite runs in a
// loop. A failed launch is a lamina::Error naming `operation`; a fault inside
// the kernel surfaces at the next synchronisation. n == 0 launches nothing.
#pragma once

#if !defined(__CUDACC__)
#error "lamina's CUDA backend must be compiled by nvcc: link lamina::cuda (CMake sets the language), see docs/cuda.md"
#endif
#if !defined(__CUDACC_EXTENDED_LAMBDA__)
#error "lamina's CUDA backend needs nvcc --extended-lambda (lamina::cuda adds it)"
#endif

#include <string>

#include "lamina/backend/cuda/runtime.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda {

namespace detail {
// Grid-stride loop: any n with a bounded grid.
template <class F>
__global__ void for_each_index(Index n, F f) {
    const Index stride = Index(blockDim.x) * gridDim.x;
    for (Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}
}  // namespace detail

template <class F>
void launch(const char* operation, Index n, F f) {
    if (n <= 0) return;
    constexpr int threads = 256;
    // Enough blocks to fill any current GPU several times over; more only add scheduling.
    constexpr Index max_blocks = 16384;
    const Index blocks = (n + threads - 1) / threads < max_blocks ? (n + threads - 1) / threads : max_blocks;
    detail::for_each_index<<<static_cast<unsigned>(blocks), threads, 0, stream()>>>(n, f);
    check(cudaGetLastError(), std::string("launching ") + operation);
}

}  // namespace lamina::cuda
