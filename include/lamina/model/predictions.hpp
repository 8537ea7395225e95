// lamina/model/predictions.hpp: turning predict() output into answers.
//
// Contract: softmax(logits) turns (N, K) logits into probabilities row by row
// (Keras's probability_model = Sequential([model, Softmax()])); argmax(pred)
// gives each row's class id, (N,) int32.
#pragma once

#include <cstdint>

#include "lamina/backend/backend.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

template <class T>
Tensor<T> softmax(const Tensor<T>& logits) {
    Tensor<T> p = logits;
    p.reshape(Shape{logits.rows(), logits.cols()});
    Backend<Cpu>::activation_forward(ActivationKind::Softmax, p.cview(), p.view());
    p.reshape(logits.shape());
    return p;
}

template <class T>
Tensor<std::int32_t> argmax(const Tensor<T>& pred) {
    Tensor<std::int32_t> ids(Shape{pred.rows()});
    for (Index r = 0; r < pred.rows(); ++r)
        ids[r] = static_cast<std::int32_t>(backend::detail::argmax_row(pred.data() + r * pred.cols(), pred.cols()));
    return ids;
}

}  // namespace lamina
