// lamina/backend/cpu/parallel.hpp: split elementwise work across OpenMP threads.
//
// Contract: parallel_ranges(n, f) calls f(begin, end) on disjoint ranges that
// cover [0, n). Below `min_parallel` elements one thread does it all, since
// waking a team costs more than the work. Ranges are fixed by n and the
// thread count alone, so results are deterministic. The worker threads of
// every region take the calling thread's denormal mode (core/denormals.hpp).
#pragma once

#include <algorithm>
#include <utility>

#include "lamina/core/denormals.hpp"
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
        const unsigned mode = lamina::detail::denormal_mode();
#pragma omp parallel num_threads(threads)
        {
            const lamina::detail::FollowDenormalMode follow(mode);
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

// parallel_blocks(n, f) calls f(thread, begin, end) once per thread of the
// team, with contiguous ranges that cover [0, n) (some may be empty when
// n < threads): for work items that are whole samples or planes, where the
// caller keeps per-thread partial results indexed by `thread`. The split
// depends on n and the thread count only, so results are deterministic.
// Inside an existing parallel region it runs on the calling thread alone.
inline int team_size() {
#ifdef _OPENMP
    return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
    return 1;
#endif
}

template <class F>
void parallel_blocks(Index n, F&& f) {
#ifdef _OPENMP
    const int threads = team_size();
    if (threads > 1 && n > 1) {
        const unsigned mode = lamina::detail::denormal_mode();
#pragma omp parallel num_threads(threads)
        {
            const lamina::detail::FollowDenormalMode follow(mode);
            const Index t = omp_get_thread_num(), nt = omp_get_num_threads();
            f(int(t), n * t / nt, n * (t + 1) / nt);
        }
        return;
    }
#endif
    f(0, Index(0), n);
}

// parallel_blocks(n, item_size, f): the same for items of item_size values
// each, on the calling thread alone (one block [0, n), thread 0) when all n
// items hold fewer than min_parallel values: a batch-1 layer would wake the
// team for less work than the wake-up costs. The choice depends on n and
// item_size only, so results stay deterministic.
// parallel_blocks(n, item_size, min_values, f): the same with a threshold
// of the caller's own, for work whose split pays below min_parallel.
template <class F>
void parallel_blocks(Index n, Index item_size, Index min_values, F&& f) {
    if (n * item_size < min_values) {
        f(0, Index(0), n);
        return;
    }
    parallel_blocks(n, std::forward<F>(f));
}

template <class F>
void parallel_blocks(Index n, Index item_size, F&& f) {
    parallel_blocks(n, item_size, min_parallel, std::forward<F>(f));
}

}  // namespace lamina::backend
