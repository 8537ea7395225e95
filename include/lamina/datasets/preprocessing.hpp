// lamina/datasets/preprocessing.hpp: Keras's to_categorical and normalize.
//
// Contract:
//   to_categorical<T>(y, num_classes = -1)   y (N,) or (N, 1) integer class ids
//       -> (N, K) one-hot rows of T, K = num_classes, or max(y) + 1 when -1
//       (tf.keras.utils.to_categorical).
//   normalize(x, axis = -1, order = 2)       x of any rank 1..4, floating point
//       -> x's shape; every 1-d slice along `axis` divided by its L1 (order 1)
//       or L2 (order 2) norm, slices of norm 0 left as they are
//       (tf.keras.utils.normalize). `axis` counts x's own dimensions, negative
//       from the end, as numpy does.
//
// Keras notebooks call normalize(x, axis=1) on MNIST arrays of shape
// (N, 28, 28): that scales each image column (the 28 pixels of one x
// position, across rows) to unit norm. lamina's images are (N, 1, 28, 28),
// so the same operation is normalize(x, 2); normalize(x, 1) would run over
// the single channel and turn every nonzero pixel into 1.
//
// Errors:
//   ShapeError  shape_rank      to_categorical: y is not (N,) or (N, 1);
//                               normalize: x has rank 0
//   ConfigError config_label    to_categorical: a label < 0 or >= num_classes
//                               (the message gives its index and value)
//   ConfigError config_argument to_categorical: num_classes is 0 or below -1, or
//                               -1 with an empty y; normalize: axis outside
//                               [-rank, rank), order other than 1 or 2
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::datasets {

template <class T = float, class Label>
Tensor<T> to_categorical(const Tensor<Label>& y, Index num_classes = -1) {
    static_assert(std::is_integral_v<Label>, "to_categorical: y must hold integer class ids (Tensor<std::int32_t>)");
    const Shape& s = y.shape();
    if (!(s.rank() == 1 || (s.rank() == 2 && s[1] == 1)))
        throw ShapeError(ErrorId::shape_rank,
                         "to_categorical: y must be (N,) or (N, 1) class ids, got shape " + s.str());
    const Index n = s[0];
    if (num_classes == -1) {
        if (n == 0)
            throw ConfigError(ErrorId::config_argument,
                              "to_categorical: cannot infer num_classes from an empty y; pass num_classes");
        Index max_label = 0;
        for (Index i = 0; i < n; ++i) max_label = std::max<Index>(max_label, static_cast<Index>(y[i]));
        num_classes = max_label + 1;
    } else if (num_classes < 1) {
        throw ConfigError(
            ErrorId::config_argument,
            "to_categorical: num_classes must be >= 1 (or -1 to infer it), got " + std::to_string(num_classes));
    }
    Tensor<T> out(Shape{n, num_classes}, T(0));
    for (Index i = 0; i < n; ++i) {
        const auto label = static_cast<Index>(y[i]);
        if (label < 0 || label >= num_classes)
            throw ConfigError(ErrorId::config_label, "to_categorical: y[" + std::to_string(i) +
                                                         "] = " + std::to_string(label) + " is outside [0, " +
                                                         std::to_string(num_classes) + ")");
        out(i, label) = T(1);
    }
    return out;
}

template <class T>
Tensor<T> normalize(const Tensor<T>& x, int axis = -1, int order = 2) {
    static_assert(std::is_floating_point_v<T>, "normalize: x must hold float or double; cast integer data first");
    const Shape& s = x.shape();
    const int rank = s.rank();
    if (rank == 0)
        throw ShapeError(ErrorId::shape_rank, "normalize: x must have at least one dimension, got shape " + s.str());
    if (axis < -rank || axis >= rank)
        throw ConfigError(ErrorId::config_argument, "normalize: axis " + std::to_string(axis) +
                                                        " is out of range for x of shape " + s.str() + " (rank " +
                                                        std::to_string(rank) + ")");
    if (order != 1 && order != 2)
        throw ConfigError(ErrorId::config_argument, "normalize: order must be 1 or 2, got " + std::to_string(order));
    if (axis < 0) axis += rank;

    // x as (outer, length, inner): the slices to normalize run along `length`
    // with stride `inner`.
    Index outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= s[i];
    for (int i = axis + 1; i < rank; ++i) inner *= s[i];
    const Index length = s[axis];

    Tensor<T> out(s);
    const T* in = x.data();
    T* o = out.data();
    for (Index a = 0; a < outer; ++a) {
        for (Index b = 0; b < inner; ++b) {
            const Index base = a * length * inner + b;
            // Accumulated in double so float data loses nothing to the sum.
            double norm = 0;
            for (Index k = 0; k < length; ++k) {
                const double v = static_cast<double>(in[base + k * inner]);
                norm += order == 1 ? std::abs(v) : v * v;
            }
            if (order == 2) norm = std::sqrt(norm);
            // Keras: norms of 0 become 1, so all-zero slices stay zero.
            const T divisor = norm == 0 ? T(1) : static_cast<T>(norm);
            for (Index k = 0; k < length; ++k) o[base + k * inner] = in[base + k * inner] / divisor;
        }
    }
    return out;
}

}  // namespace lamina::datasets
