// tests/max_abs_difference.hpp: the largest absolute difference between two
// tensors, or between two models' weights (get_weights()), in double.
// Shapes that differ are a ShapeError, so that a test never compares the
// first values of two different arrays.
#pragma once

#include <lamina/lamina.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace test {

inline double max_abs_difference(const lamina::Tensor<float>& a, const lamina::Tensor<float>& b) {
    if (a.shape() != b.shape())
        throw lamina::ShapeError(lamina::ErrorId::shape_mismatch,
                                 "max_abs_difference: shapes " + a.shape().str() + " and " + b.shape().str());
    double m = 0;
    for (lamina::Index i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a.data()[i]) - double(b.data()[i])));
    return m;
}

inline double max_abs_difference(const std::vector<lamina::Tensor<float>>& a,
                                 const std::vector<lamina::Tensor<float>>& b) {
    if (a.size() != b.size())
        throw lamina::ShapeError(lamina::ErrorId::shape_mismatch, "max_abs_difference: " + std::to_string(a.size()) +
                                                                      " and " + std::to_string(b.size()) + " arrays");
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, max_abs_difference(a[i], b[i]));
    return m;
}

}  // namespace test
