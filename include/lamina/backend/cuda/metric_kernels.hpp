// lamina/backend/cuda/metric_kernels.hpp: the CUDA backend's accuracy count,
// one function per row (categorical) or element (binary).
//
// Contract: pred (B, K) row-major; target (B,) class ids held as T for
// SparseCategorical, else (B, K). accuracy_items(kind, B, K) is how many
// indices a kernel runs: B for the categorical kinds, B*K for Binary, 0 for
// None. correct_at(kind, i, ...) returns 1 if index i's prediction is right,
// else 0, so the sum over every index is backend/cpu/metrics.hpp's
// count_correct: a row's argmax (its first maximum) against the label or the
// target row's argmax; an element's (pred > threshold) == (target > 0.5).
#pragma once

#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/accuracy_kind.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda_kernels {

namespace detail {

// Index of the first maximum of row[0..k).
template <class T>
LAMINA_HOST_DEVICE Index argmax_row(const T* row, Index k) {
    Index best = 0;
    for (Index j = 1; j < k; ++j)
        if (row[j] > row[best]) best = j;
    return best;
}

}  // namespace detail

LAMINA_HOST_DEVICE inline Index accuracy_items(AccuracyKind kind, Index rows, Index cols) {
    switch (kind) {
        case AccuracyKind::SparseCategorical:
        case AccuracyKind::Categorical: return rows;
        case AccuracyKind::Binary: return rows * cols;
        case AccuracyKind::None: return 0;
    }
    return 0;
}

// 1 if row (categorical) or element (binary) i is predicted right, else 0.
template <class T>
LAMINA_HOST_DEVICE int correct_at(AccuracyKind kind, Index i, const T* pred, const T* target, Index cols, T threshold) {
    switch (kind) {
        case AccuracyKind::SparseCategorical:
            return detail::argmax_row(pred + i * cols, cols) == static_cast<Index>(target[i]) ? 1 : 0;
        case AccuracyKind::Categorical:
            return detail::argmax_row(pred + i * cols, cols) == detail::argmax_row(target + i * cols, cols) ? 1 : 0;
        case AccuracyKind::Binary: return (pred[i] > threshold) == (target[i] > T(0.5)) ? 1 : 0;
        case AccuracyKind::None: return 0;
    }
    return 0;
}

}  // namespace lamina::cuda_kernels
