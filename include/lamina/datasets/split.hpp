// lamina/datasets/split.hpp: hold out a validation set, the Keras or the notebook way.
//
// Contract: both functions take x (N, ...) and y (N, ...) with the same N and
// copy their rows, order kept, into four new tensors:
//   validation_from_end(x, y, fraction)  the last N - floor(N * (1 - fraction))
//       samples validate, the rest train: what fit's validation_split does in
//       Keras and in lamina (the last samples, before any shuffling).
//   validation_from_start(x, y, count)   the first `count` samples validate,
//       the rest train, as notebooks do by hand:
//       X_valid, X_train = X_train_full[:5000], X_train_full[5000:]
// x_train (N - V, ...), y_train (N - V, ...), x_val (V, ...), y_val (V, ...).
//
// Errors:
//   ShapeError  shape_rank      x or y has rank 0
//   ShapeError  shape_count     x and y hold different numbers of samples
//   ConfigError config_argument fraction outside [0, 1), or above 0 yet leaving
//                               the training or the validation set empty;
//                               count outside [0, N]
// Passing a count to validation_from_end, or a fraction to
// validation_from_start, does not compile (static_assert says which to use).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::datasets {

template <class T, class Y>
struct TrainValidationSplit {
    Tensor<T> x_train;
    Tensor<Y> y_train;
    Tensor<T> x_val;
    Tensor<Y> y_val;
};

namespace detail {

template <class T, class Y>
Index checked_sample_count(const char* function, const Tensor<T>& x, const Tensor<Y>& y) {
    if (x.shape().rank() == 0 || y.shape().rank() == 0)
        throw ShapeError(ErrorId::shape_rank, std::string(function) + ": x and y need a sample dimension, got x " +
                                                  x.shape().str() + " and y " + y.shape().str());
    if (x.rows() != y.rows())
        throw ShapeError(ErrorId::shape_count, std::string(function) + ": x has " + std::to_string(x.rows()) +
                                                   " samples but y has " + std::to_string(y.rows()));
    return x.rows();
}

// Validation = rows [first, first + count); training = all the others.
template <class T, class Y>
TrainValidationSplit<T, Y> hold_out(const Tensor<T>& x, const Tensor<Y>& y, Index first, Index count) {
    const Index n = x.rows();
    TrainValidationSplit<T, Y> s;
    s.x_val = x.slice_rows(first, count);
    s.y_val = y.slice_rows(first, count);
    // The validation block sits at one end, so the training rows are one block too.
    const Index train_first = first == 0 ? count : 0;
    s.x_train = x.slice_rows(train_first, n - count);
    s.y_train = y.slice_rows(train_first, n - count);
    return s;
}

}  // namespace detail

template <class T, class Y, class Fraction>
TrainValidationSplit<T, Y> validation_from_end(const Tensor<T>& x, const Tensor<Y>& y, Fraction fraction) {
    static_assert(std::is_floating_point_v<Fraction>,
                  "validation_from_end takes a fraction in [0, 1); to hold out a number of samples, "
                  "write validation_from_start(x, y, count)");
    const Index n = detail::checked_sample_count("validation_from_end", x, y);
    const double f = static_cast<double>(fraction);
    if (!(f >= 0.0 && f < 1.0))
        throw ConfigError(ErrorId::config_argument,
                          "validation_from_end: fraction must be in [0, 1), got " + std::to_string(f));
    // The same rounding as Keras and Sequential::fit, so both pick the same rows.
    const auto n_train = static_cast<Index>(std::floor(double(n) * (1.0 - f)));
    if (f > 0 && (n_train < 1 || n_train == n))
        throw ConfigError(ErrorId::config_argument, "validation_from_end: fraction " + std::to_string(f) + " of " +
                                                        std::to_string(n) +
                                                        " samples leaves an empty training or validation set");
    return detail::hold_out(x, y, n_train, n - n_train);
}

template <class T, class Y, class Count>
TrainValidationSplit<T, Y> validation_from_start(const Tensor<T>& x, const Tensor<Y>& y, Count count) {
    static_assert(std::is_integral_v<Count>,
                  "validation_from_start takes a number of samples; to hold out a fraction, "
                  "write validation_from_end(x, y, fraction)");
    const Index n = detail::checked_sample_count("validation_from_start", x, y);
    bool out_of_range = false;
    if constexpr (std::is_signed_v<Count>) out_of_range = count < 0;
    // Compared unsigned once known non-negative, so no count wraps around.
    out_of_range = out_of_range || static_cast<std::uintmax_t>(count) > static_cast<std::uintmax_t>(n);
    if (out_of_range)
        throw ConfigError(ErrorId::config_argument, "validation_from_start: count must be in [0, " + std::to_string(n) +
                                                        "] (the number of samples), got " + std::to_string(count));
    return detail::hold_out(x, y, 0, static_cast<Index>(count));
}

}  // namespace lamina::datasets
