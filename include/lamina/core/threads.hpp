// lamina/core/threads.hpp: thread count and a description of the build.
//
// Contract: lamina uses OpenMP threads (and Eigen's GEMM, which runs on
// OpenMP). The count starts at OMP_NUM_THREADS or the core count;
// set_num_threads(n) changes it for lamina and Eigen together.
#pragma once

#include "lamina/core/eigen.hpp"

#include <string>

#include "lamina/core/error.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace lamina {

inline void set_num_threads(int n) {
    if (n < 1)
        throw ConfigError(ErrorId::config_argument,
                          "set_num_threads: thread count must be >= 1, got " + std::to_string(n));
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    Eigen::setNbThreads(n);
}

inline int get_num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// The vector instructions Eigen was compiled for: the biggest single factor
// in GEMM speed, so every example prints it.
inline std::string simd_isa() {
#if defined(EIGEN_VECTORIZE_AVX512)
    return "AVX-512";
#elif defined(EIGEN_VECTORIZE_AVX2)
    return "AVX2+FMA";
#elif defined(EIGEN_VECTORIZE_AVX)
    return "AVX";
#elif defined(EIGEN_VECTORIZE_SSE2)
    return "SSE2";
#elif defined(EIGEN_VECTORIZE_NEON)
    return "NEON";
#else
    return "none";
#endif
}

// "lamina 0.1.0 | backend cpu | simd AVX-512 | threads 2 (OpenMP)"
inline std::string build_info() {
    std::string s = "lamina 0.1.0 | backend cpu | simd " + simd_isa() + " | threads " +
                    std::to_string(get_num_threads());
#ifdef _OPENMP
    s += " (OpenMP)";
#else
    s += " (no OpenMP)";
#endif
#ifdef NDEBUG
    s += " | release";
#else
    s += " | debug (assertions on: slow)";
#endif
    return s;
}

}  // namespace lamina
