// lamina/backend/cpu/parallel.hpp: split elementwise work across OpenMP threads.
//
// Contract: parallel_ranges(n, f) calls f(begin, end) on disjoint ranges that
// cover [0, n). Below `min_parallel` elements one thread does it all, since
// waking a team costs more than the work. Ranges are fixed by n and the
// thread count alone, so results are deterministic.
#pragma once

#include <algorithm>

#include "lamina/core/shape.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace lamina::backend {

constexpr Index min_parallel = 1 << 15;

template <class F>
void parallel_ranges(Index n, F&& f) {
#ifdef _OPENMP
    const int threads = omp_get_max_threads();
    if (n >= min_parallel && threads > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
        {
            const Index t = omp_get_thread_num(), nt = omp_get_num_threads();
            // Chunk edges on multiples of 16 floats: whole cache lines per thread.
            const Index per = ((n + nt - 1) / nt + 15) / 16 * 16;
            const Index begin = std::min(n, t * per), end = std::min(n, begin + per);
            if (begin < end) f(begin, end);
        }
        return;
    }
#endif
    f(Index(0), n);
}

}  // namespace lamina::backend
