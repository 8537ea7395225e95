// lamina/backend/cpu/scratch.hpp: per-thread workspaces for kernels that run
// inside OpenMP regions (im2col columns, GEMM outputs).
//
// Contract: scratch<T, Tag>(n) returns a 64-byte aligned buffer of at least
// n elements owned by the calling thread; it only grows, so after the first
// batch of the largest size no call allocates. Contents are unspecified.
// Each Tag type names one buffer: a kernel declares its own tag types (an
// empty struct per buffer, beside the kernel), so no other kernel can reach
// its buffers by reusing a number.
// Why thread-local rather than a member of the layer: Layer::infer is const
// and may run from several user threads at once; a member workspace would
// race, a thread-local one cannot. Layers warm these buffers in reserve()
// (warm_scratch), so a training step in steady state does not allocate.
#pragma once

#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace lamina::backend {

template <class T, class Tag>
T* scratch(Index n) {
    thread_local Tensor<T> buffer;
    if (buffer.capacity() < n) buffer.resize(Shape{n});
    return buffer.data();
}

// Sizes buffer Tag to n elements on every thread of the OpenMP team.
template <class T, class Tag>
void warm_scratch(Index n) {
#ifdef _OPENMP
#pragma omp parallel
#endif
    { scratch<T, Tag>(n); }
}

}  // namespace lamina::backend
