// lamina/image/grey.hpp: drop alpha, and colour to grey.
//
// Contract (images are (C, H, W) float in [0, 1], C = 1 grey, 2 grey + alpha,
// 3 RGB, 4 RGBA, as io::load_image returns; (H, W) counts as grey):
//   remove_alpha(image) -> (1 or 3, H, W): each pixel composited over one
//     background value b, v = a x + (1 - a) b, chosen so the picture stays
//     visible (see below); images without alpha are returned as they are.
//   to_grey(image) -> (1, H, W): remove_alpha, then luminance
//     0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, what PIL's convert("L") uses).
//
// The background: a drawing app exports strokes on a transparent canvas,
// and the colour stored under alpha = 0 is arbitrary (often black, whatever
// the strokes' colour). When most pixels are transparent (< 0.5), the
// opaque ones are the drawing, and b is white for dark strokes and black
// for light ones (their alpha-weighted mean luminance below or above 0.5),
// so the strokes always contrast with it. When most pixels are opaque, the
// transparent ones are holes in a picture, and b is that picture's mean
// luminance, so holes look like the rest of it. A fully transparent image
// composites to b = 1 (white).
//
// Errors: ShapeError shape_rank for anything but (C, H, W) with C in 1..4, or (H, W).
#pragma once

#include <string>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::image {

namespace detail {

inline void check_image(const Tensor<float>& image, const char* who) {
    const Shape& s = image.shape();
    if (!((s.rank() == 3 && s[0] >= 1 && s[0] <= 4) || s.rank() == 2))
        throw ShapeError(ErrorId::shape_rank,
                         std::string(who) + ": expects an image (C, H, W) with C in 1..4 or (H, W), got " + s.str());
}

inline float luminance(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

}  // namespace detail

inline Tensor<float> remove_alpha(const Tensor<float>& image) {
    detail::check_image(image, "remove_alpha");
    const Shape& s = image.shape();
    if (s.rank() == 2) {
        Tensor<float> grey = image;
        grey.reshape(Shape{1, s[0], s[1]});
        return grey;
    }
    const Index channels = s[0], h = s[1], w = s[2], plane = h * w;
    if (channels == 1 || channels == 3) return image;
    const Index colours = channels - 1;
    const float* alpha = image.data() + colours * plane;
    auto lum = [&](Index i) {
        const float* p = image.data();
        return colours == 1 ? p[i] : detail::luminance(p[i], p[plane + i], p[2 * plane + i]);
    };
    double weight = 0, weighted = 0;
    Index transparent = 0;
    for (Index i = 0; i < plane; ++i) {
        weight += alpha[i];
        weighted += double(alpha[i]) * lum(i);
        transparent += alpha[i] < 0.5f;
    }
    const double mean = weight > 0 ? weighted / weight : 1.0;
    const float background = weight == 0 ? 1.0f : 2 * transparent > plane ? (mean < 0.5 ? 1.0f : 0.0f) : float(mean);
    Tensor<float> out(Shape{colours, h, w});
    for (Index c = 0; c < colours; ++c)
        for (Index i = 0; i < plane; ++i)
            out[c * plane + i] = alpha[i] * image[c * plane + i] + (1 - alpha[i]) * background;
    return out;
}

inline Tensor<float> to_grey(const Tensor<float>& image) {
    Tensor<float> flat = remove_alpha(image);
    if (flat.shape()[0] == 1) return flat;
    const Index h = flat.shape()[1], w = flat.shape()[2], plane = h * w;
    Tensor<float> grey(Shape{1, h, w});
    for (Index i = 0; i < plane; ++i) grey[i] = detail::luminance(flat[i], flat[plane + i], flat[2 * plane + i]);
    return grey;
}

}  // namespace lamina::image
