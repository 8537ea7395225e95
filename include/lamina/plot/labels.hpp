// lamina/plot/labels.hpp: class ids read from the label tensors users pass to the plot functions.
//
// Contract: class_ids(who, what, y) accepts (N,) or (N, 1) of any
// arithmetic type holding whole numbers >= 0 (Tensor<std::int32_t> from
// load_mnist or argmax, float labels, uint8) and returns them as Index;
// otherwise it throws, naming the function (`who`) and the argument
// (`what`): ShapeError(shape_rank) for another shape (with a hint to argmax
// (N, K) scores), ConfigError(config_label) for a negative, fractional or
// non-finite value, giving its index.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::plot::detail {

// "2.5", "-1", "nan": a label as the user would write it.
inline std::string label_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

template <class L>
std::vector<Index> class_ids(const std::string& who, const std::string& what, const Tensor<L>& y) {
    static_assert(std::is_arithmetic_v<L>,
                  "lamina::plot: labels must be a Tensor of numbers, e.g. Tensor<std::int32_t>");
    const Shape& s = y.shape();
    if (!(s.rank() == 1 || (s.rank() == 2 && s[1] == 1))) {
        std::string hint = s.rank() == 2 ? "; for (N, K) class scores pass argmax(scores)" : "";
        throw ShapeError(
            ErrorId::shape_rank,
            who + ": " + what + " must be one class id per sample, (N,) or (N, 1), got shape " + s.str() + hint);
    }
    std::vector<Index> ids(static_cast<std::size_t>(s[0]));
    for (Index i = 0; i < s[0]; ++i) {
        const double v = static_cast<double>(y[i]);
        if (!(v >= 0) || v != std::floor(v) || v > 1e15)
            throw ConfigError(ErrorId::config_label, who + ": " + what + "[" + std::to_string(i) + "] = " +
                                                         label_text(v) + " is not a class id (a whole number >= 0)");
        ids[static_cast<std::size_t>(i)] = static_cast<Index>(v);
    }
    return ids;
}

}  // namespace lamina::plot::detail
