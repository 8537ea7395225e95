// lamina/backend/cpu/metrics.hpp: counting correct predictions on the CPU.
//
// Contract: count_correct(kind, pred (B, K), target, threshold) returns how
// many of the batch's predictions are right (accuracy_kind.hpp); target is
// (B,) class ids held as T for SparseCategorical, else (B, K). Binary counts
// elements: the caller divides by B*K.
#pragma once

#include "lamina/core/accuracy_kind.hpp"
#include "lamina/core/tensor_view.hpp"

namespace lamina::backend {

namespace detail {
template <class T>
Index argmax_row(const T* row, Index k) {
    Index best = 0;
    for (Index j = 1; j < k; ++j)
        if (row[j] > row[best]) best = j;
    return best;
}
}  // namespace detail

template <class T>
Index count_correct(AccuracyKind kind, TensorView<const T> pred, TensorView<const T> target, T binary_threshold) {
    const Index B = pred.rows(), K = pred.cols();
    Index correct = 0;
    switch (kind) {
        case AccuracyKind::SparseCategorical:
            for (Index r = 0; r < B; ++r)
                correct += detail::argmax_row(pred.data() + r * K, K) == static_cast<Index>(target[r]);
            return correct;
        case AccuracyKind::Categorical:
            for (Index r = 0; r < B; ++r)
                correct += detail::argmax_row(pred.data() + r * K, K) == detail::argmax_row(target.data() + r * K, K);
            return correct;
        case AccuracyKind::Binary:
            for (Index i = 0; i < pred.size(); ++i) correct += (pred[i] > binary_threshold) == (target[i] > T(0.5));
            return correct;
        case AccuracyKind::None: return 0;
    }
    return 0;
}

}  // namespace lamina::backend
