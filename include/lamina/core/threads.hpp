// lamina/core/threads.hpp: thread count and a description of the build.
//
// Contract: lamina uses OpenMP threads (and Eigen's GEMM, which runs on
// OpenMP). The count starts at OMP_NUM_THREADS or the core count;
// set_num_threads(n) changes it for lamina and Eigen together.
#pragma once

#include "lamina/core/eigen.hpp"

#include <mutex>
#include <ostream>
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
    std::string s =
        "lamina 0.1.0 | backend cpu | simd " + simd_isa() + " | threads " + std::to_string(get_num_threads());
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

// Whether the code calling this was compiled with optimisation (-O1 or more).
// Header-only: it is the user's flags that count, and a CMake project
// configured without CMAKE_BUILD_TYPE compiles with none.
inline constexpr bool compiled_with_optimization() {
#if defined(__OPTIMIZE__) || (defined(_MSC_VER) && !defined(_DEBUG))
    return true;
#else
    return false;
#endif
}

// Sequential::fit calls this: once per process, a warning on `out` when
// training runs unoptimised, which makes it many times slower than it should be.
inline void warn_once_if_unoptimized(std::ostream& out) {
    if constexpr (!compiled_with_optimization()) {
        static std::once_flag once;
        std::call_once(once, [&] {
            out << "lamina: warning: this program was compiled without optimisation (no -O2), so training runs "
                   "many times slower; build with -O2 (CMake: -DCMAKE_BUILD_TYPE=Release)\n";
        });
    }
}

}  // namespace lamina
