// lamina/model/metrics.hpp: metrics named in compile(), and how they count.
//
// Contract: Keras's "accuracy" (alias "acc") resolves from the loss: sparse
// categorical (argmax == label), categorical (argmax == argmax of target) or
// binary (prediction above 0.5, or above 0 for logits, equals target).
// count_correct returns the number of correct predictions in a batch.
#pragma once

#include <string>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/losses/loss.hpp"

namespace lamina {

struct Metric {
    std::string name;
    Metric(const char* n) : name(n) { check(); }
    Metric(std::string n) : name(std::move(n)) { check(); }

private:
    void check() {
        if (name == "acc") name = "accuracy";
        if (name != "accuracy")
            throw ConfigError(ErrorId::config_unknown_name, "unknown metric '" + name + "' (known: accuracy)");
    }
};

namespace metrics {
inline const Metric accuracy{"accuracy"};
}  // namespace metrics

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
Index count_correct(AccuracyKind kind, const Tensor<T>& pred, const Tensor<T>& target, T binary_threshold) {
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
            // Per element, as Keras: the caller divides by B*K.
            for (Index i = 0; i < pred.size(); ++i) correct += (pred[i] > binary_threshold) == (target[i] > T(0.5));
            return correct;
        case AccuracyKind::None: return 0;
    }
    return 0;
}

}  // namespace lamina
