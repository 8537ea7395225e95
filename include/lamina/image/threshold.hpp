// lamina/image/threshold.hpp: Otsu's threshold.
//
// Contract: otsu_threshold(values, n) takes n values in [0, 1] (others are
// clamped; NaN counts as 0) and returns the threshold t in [0, 1] that best
// splits them in two classes, {v <= t} and {v > t}: the one maximising the
// between-class variance of a 256-bin histogram (Otsu 1979). Deterministic,
// O(n + 256). With fewer than two distinct bins in use it returns the
// single level present, so {v > t} is empty.
#pragma once

#include <array>
#include <cstddef>

#include "lamina/core/shape.hpp"

namespace lamina::image {

inline float otsu_threshold(const float* values, Index n) {
    std::array<double, 256> hist{};
    for (Index i = 0; i < n; ++i) {
        const float v = values[i];
        const int bin = !(v > 0.0f) ? 0 : v >= 1.0f ? 255 : static_cast<int>(v * 256.0f);
        hist[static_cast<std::size_t>(bin)] += 1;
    }
    double total = 0, sum = 0;
    for (int b = 0; b < 256; ++b) {
        total += hist[static_cast<std::size_t>(b)];
        sum += b * hist[static_cast<std::size_t>(b)];
    }
    double below = 0, below_sum = 0, best = -1;
    int best_bin = 0;
    for (int b = 0; b < 256; ++b) {
        below += hist[static_cast<std::size_t>(b)];
        below_sum += b * hist[static_cast<std::size_t>(b)];
        const double above = total - below;
        if (below == 0) continue;
        if (above == 0) {
            if (best < 0) best_bin = b;  // one level only: nothing above it
            break;
        }
        const double diff = below_sum / below - (sum - below_sum) / above;
        const double between = below * above * diff * diff;
        if (between > best) {
            best = between;
            best_bin = b;
        }
    }
    // Values of bin b lie in [b, b + 1) / 256: the threshold is the top of the lower class.
    return float(best_bin + 1) / 256.0f;
}

}  // namespace lamina::image
