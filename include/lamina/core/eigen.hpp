// lamina/core/eigen.hpp: the one place lamina includes Eigen.
//
// GCC 12.2 (Debian 12's compiler) warns "__Y is used uninitialized" inside
// its own avx512fintrin.h whenever Eigen's AVX-512 transposes are inlined
// (GCC bug 105593, fixed in 12.3). The warning is located in the intrinsic
// header, so silencing it around this include removes exactly that false
// positive and keeps -Wuninitialized for everyone's own code.
#pragma once

// lamina uses Eigen on the host only. Under nvcc (a CUDA build's translation
// units) Eigen would otherwise mark its functions __host__ __device__ and
// nvcc would warn about hundreds of them; its host code is unchanged.
#if defined(__CUDACC__) && !defined(EIGEN_NO_CUDA)
#define EIGEN_NO_CUDA
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

#include <Eigen/Core>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// backend/cpu/gemm.hpp drives Eigen 3.4's GEMM kernel directly (its
// signature changed from 3.3).
#if !EIGEN_VERSION_AT_LEAST(3, 4, 0)
#error "lamina needs Eigen 3.4 or newer"
#endif
