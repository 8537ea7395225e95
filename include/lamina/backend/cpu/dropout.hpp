// lamina/backend/cpu/dropout.hpp: Dropout's mask on the CPU.
//
// Contract: dropout_mask(rng, rate, mask) fills mask (n values) with 0 or
// 1 / (1 - rate), each kept with probability 1 - rate, drawing from rng:
// the same generator state gives the same mask, so training resumes exactly.
#pragma once

#include <cstdint>

#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::backend {

template <class T>
void dropout_mask(Rng& rng, double rate, T* mask, Index n) {
    const T scale = T(1) / T(1 - rate);
    // 32 random bits per element, two elements per draw: the threshold test
    // is exact to 2.3e-10, and the branch-free select keeps an unpredictable
    // keep/drop from stalling the loop (one draw and a compare-and-branch per
    // element was three times slower, docs/performance.md).
    const std::uint64_t threshold = static_cast<std::uint64_t>(rate * 4294967296.0);
    Index i = 0;
    for (; i + 1 < n; i += 2) {
        const std::uint64_t r = rng.next_u64();
        mask[i] = scale * T((r & 0xffffffffu) >= threshold);
        mask[i + 1] = scale * T((r >> 32) >= threshold);
    }
    if (i < n) mask[i] = scale * T((rng.next_u64() >> 32) >= threshold);
}

}  // namespace lamina::backend
