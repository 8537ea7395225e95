// lamina/backend/cuda/host_device.hpp: marking kernel arithmetic for both compilers.
//
// Contract: LAMINA_HOST_DEVICE is `__host__ __device__` under nvcc and
// nothing elsewhere, so the per-index functions of backend/cuda/*_kernels.hpp
// compile for the GPU inside kernels and for the CPU in the host test suite,
// which runs each over every index and compares with Backend<Cpu>.
#pragma once

#if defined(__CUDACC__)
#define LAMINA_HOST_DEVICE __host__ __device__
#else
#define LAMINA_HOST_DEVICE
#endif
