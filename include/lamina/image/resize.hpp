// lamina/image/resize.hpp: resample an image by area averaging.
//
// Contract: resize_area(image, out_h, out_w) takes (C, H, W) or (H, W) and
// returns the same rank with (out_h, out_w) in place of (H, W). Each output
// pixel is the mean of the input area it covers, input pixels counted by
// the fraction of them inside it (a box filter of exactly the output pixel's
// footprint): shrinking averages without aliasing, so thin strokes turn
// grey instead of vanishing or breaking up; enlarging repeats pixels with
// blended edges. Separable: O(C (H W' + H' W')) with W', H' the larger sides.
//
// Errors:
//   ShapeError  shape_rank       image not (C, H, W) or (H, W), or an empty side
//   ConfigError config_argument  out_h or out_w < 1
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::image {

namespace detail {

// Row (or column) weights: for output index o, the input indices it covers
// and the share of each, summing to 1.
struct AreaTaps {
    std::vector<std::size_t> first;  // per output: offset into index/weight
    std::vector<Index> index;
    std::vector<float> weight;
    std::size_t begin(Index o) const { return first[static_cast<std::size_t>(o)]; }
    std::size_t end(Index o) const { return first[static_cast<std::size_t>(o) + 1]; }
};

inline AreaTaps area_taps(Index in, Index out) {
    AreaTaps taps;
    const double scale = double(in) / double(out);
    taps.first.reserve(static_cast<std::size_t>(out + 1));
    for (Index o = 0; o < out; ++o) {
        taps.first.push_back(taps.index.size());
        const double lo = double(o) * scale, hi = double(o + 1) * scale;
        const Index i0 = static_cast<Index>(lo), i1 = std::min<Index>(in, static_cast<Index>(std::ceil(hi)));
        for (Index i = i0; i < i1; ++i) {
            const double overlap = std::min(hi, double(i + 1)) - std::max(lo, double(i));
            if (overlap <= 0) continue;
            taps.index.push_back(i);
            taps.weight.push_back(static_cast<float>(overlap / scale));
        }
    }
    taps.first.push_back(taps.index.size());
    return taps;
}

}  // namespace detail

inline Tensor<float> resize_area(const Tensor<float>& image, Index out_h, Index out_w) {
    const Shape& s = image.shape();
    if ((s.rank() != 3 && s.rank() != 2) || s.size() == 0)
        throw ShapeError(ErrorId::shape_rank, "resize_area: expects an image (C, H, W) or (H, W), got " + s.str());
    if (out_h < 1 || out_w < 1)
        throw ConfigError(ErrorId::config_argument, "resize_area: output size must be at least 1 x 1, got " +
                                                        std::to_string(out_h) + " x " + std::to_string(out_w));
    const Index channels = s.rank() == 3 ? s[0] : 1, h = s[s.rank() - 2], w = s[s.rank() - 1];
    const auto rows = detail::area_taps(h, out_h), cols = detail::area_taps(w, out_w);
    Tensor<float> out(s.rank() == 3 ? Shape{channels, out_h, out_w} : Shape{out_h, out_w});
    std::vector<float> tmp(static_cast<std::size_t>(h * out_w));  // (H, out_w): columns first
    for (Index c = 0; c < channels; ++c) {
        const float* in = image.data() + c * h * w;
        for (Index r = 0; r < h; ++r)
            for (Index o = 0; o < out_w; ++o) {
                float sum = 0;
                for (std::size_t t = cols.begin(o); t < cols.end(o); ++t)
                    sum += cols.weight[t] * in[r * w + cols.index[t]];
                tmp[static_cast<std::size_t>(r * out_w + o)] = sum;
            }
        float* dst = out.data() + c * out_h * out_w;
        for (Index o = 0; o < out_h; ++o)
            for (Index col = 0; col < out_w; ++col) {
                float sum = 0;
                for (std::size_t t = rows.begin(o); t < rows.end(o); ++t)
                    sum += rows.weight[t] * tmp[static_cast<std::size_t>(rows.index[t] * out_w + col)];
                dst[o * out_w + col] = sum;
            }
    }
    return out;
}

}  // namespace lamina::image
