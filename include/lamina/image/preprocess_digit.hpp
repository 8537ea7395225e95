// lamina/image/preprocess_digit.hpp: turn a picture of one handwritten digit
// into an MNIST sample.
//
// Contract: preprocess_digit(image) takes (C, H, W) with C in 1..4 (as
// io::load_image returns) or (H, W), values in [0, 1], and returns a
// Tensor<float> (1, 28, 28): background 0, ink up to 1, the digit's longest
// side 20 pixels and its centre of mass at the centre of the field, which is
// how MNIST's images were made and what datasets::load_mnist feeds the
// bundled models (pixel / 255). Add a batch dimension (reshape to
// (1, 1, 28, 28)) and call predict.
//
// The recipe, in order (docs/images.md says why each step is there):
//   1. Alpha: composite over a contrasting background (image::remove_alpha),
//      so a tablet drawing on a transparent canvas shows its strokes.
//   2. Size: shrink by area averaging until the longer side is at most 1024;
//      a 4000 x 3000 photo has far more pixels than a 20-pixel digit needs.
//   3. Noise: if the pixel noise (median absolute difference of neighbours)
//      exceeds 0.03, a 3 x 3 median filter per channel removes it and
//      isolated specks while keeping edges; clean images are left untouched.
//   4. Background: paper brightness is estimated per channel on a coarse grid
//      (maximum over cells of 1/24 of the longer side, a 5 x 5 maximum over
//      cells, a 3 x 3 mean, bilinear back to pixels), and each channel is
//      divided by it: shadows and light gradients cancel. Ink is 1 minus the
//      smallest ratio over channels, so a blue or red pen on white or on
//      yellowish paper counts as strongly as black.
//   5. Polarity (decided before step 4): light ink on a dark ground (MNIST
//      itself, chalk, a dark-mode drawing) is inverted first. The paper is
//      most of the picture, so the median luminance is paper's and the ink
//      lies far out on one side: after subtracting a fitted quadratic surface
//      (a lamp's gradient), the side whose 0.5 % tail lies farther from the
//      median is the ink's. If neither tail departs 0.06 from the paper
//      (blank or evenly lit paper), there is no digit: ConfigError.
//   6. Threshold: Otsu's threshold on the ink separates strokes from paper
//      texture. An image whose strokes are not clearly darker than the paper
//      (strongest ink below 0.1, or a mean difference between the two classes
//      below 0.15) holds no digit: ConfigError.
//   7. Specks: connected groups of ink pixels (8-neighbours) smaller than 5 %
//      of the largest group are dropped: dust, noise, paper fibres. The rest
//      keep their grey levels (divided by the strokes' median so that a grey
//      pencil reaches 1 like MNIST's ink), with a 1-pixel fringe for their
//      anti-aliased edges; everything else becomes 0.
//   8. Stroke width: MNIST's strokes are about 1/8 of the digit's height.
//      Strokes much thinner than that (a fine pen on a large image) would
//      average away to faint lines at 20 pixels, so strokes narrower than
//      1/14 of the digit's longer side are thickened (grey dilation) to 1/10.
//   9. Crop to the ink's bounding box; scale its longer side to 20 pixels,
//      keeping the aspect ratio, by area averaging (image::resize_area).
//  10. Place it in a 28 x 28 field so that its centre of mass falls on the
//      field's centre (shifted back inside if that would cut the digit).
//
// Errors:
//   ShapeError   shape_rank         not (C, H, W) with C in 1..4 or (H, W), or an empty side
//   NumericError numeric_nonfinite  a pixel is NaN or infinite
//   ConfigError  config_argument    the image holds no digit (blank, uniform, or no contrast)
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/image/grey.hpp"
#include "lamina/image/resize.hpp"
#include "lamina/image/threshold.hpp"

namespace lamina::image {

namespace detail {

constexpr Index digit_working_side = 1024;
constexpr float digit_noise_limit = 0.03f;
constexpr Index digit_background_cells = 24;
constexpr double digit_min_departure = 0.06;
constexpr float digit_min_ink = 0.1f;
constexpr float digit_min_contrast = 0.15f;
constexpr double digit_speck_fraction = 0.05;
constexpr double digit_thin_stroke = 1.0 / 14;
constexpr double digit_target_stroke = 1.0 / 10;
constexpr Index digit_box = 20;
constexpr Index digit_field = 28;

inline float noise_level(const float* grey, Index h, Index w) {
    if (w < 2) return 0;
    std::vector<float> diffs;
    diffs.reserve(static_cast<std::size_t>(h * (w - 1)));
    for (Index r = 0; r < h; ++r)
        for (Index c = 0; c + 1 < w; ++c) diffs.push_back(std::abs(grey[r * w + c + 1] - grey[r * w + c]));
    auto mid = diffs.begin() + static_cast<std::ptrdiff_t>(diffs.size() / 2);
    std::nth_element(diffs.begin(), mid, diffs.end());
    // For Gaussian noise of sd s, |x - y| has median 0.954 s: 1.4826 * 0.6745 * sqrt(2).
    return *mid / 0.954f;
}

inline void median3x3(float* plane, Index h, Index w) {
    std::vector<float> src(plane, plane + h * w);
    std::array<float, 9> win{};
    for (Index r = 0; r < h; ++r)
        for (Index c = 0; c < w; ++c) {
            std::size_t k = 0;
            for (Index dr = -1; dr <= 1; ++dr)
                for (Index dc = -1; dc <= 1; ++dc) {
                    const Index rr = std::clamp<Index>(r + dr, 0, h - 1), cc = std::clamp<Index>(c + dc, 0, w - 1);
                    win[k++] = src[static_cast<std::size_t>(rr * w + cc)];
                }
            std::nth_element(win.begin(), win.begin() + 4, win.end());
            plane[r * w + c] = win[4];
        }
}

// Separable maximum over a (2 radius + 1)^2 window, edges clamped.
inline void max_filter(std::vector<float>& v, Index h, Index w, Index radius) {
    if (radius <= 0) return;
    std::vector<float> tmp(v.size());
    for (Index r = 0; r < h; ++r)
        for (Index c = 0; c < w; ++c) {
            float m = 0;
            for (Index k = std::max<Index>(0, c - radius); k <= std::min(w - 1, c + radius); ++k)
                m = std::max(m, v[static_cast<std::size_t>(r * w + k)]);
            tmp[static_cast<std::size_t>(r * w + c)] = m;
        }
    for (Index r = 0; r < h; ++r)
        for (Index c = 0; c < w; ++c) {
            float m = 0;
            for (Index k = std::max<Index>(0, r - radius); k <= std::min(h - 1, r + radius); ++k)
                m = std::max(m, tmp[static_cast<std::size_t>(k * w + c)]);
            v[static_cast<std::size_t>(r * w + c)] = m;
        }
}

// Paper brightness of one channel at every pixel (step 5).
inline std::vector<float> estimate_background(const float* plane, Index h, Index w) {
    const Index cell = std::max<Index>(1, (std::max(h, w) + digit_background_cells - 1) / digit_background_cells);
    const Index gh = (h + cell - 1) / cell, gw = (w + cell - 1) / cell;
    std::vector<float> grid(static_cast<std::size_t>(gh * gw), 0.0f);
    for (Index r = 0; r < h; ++r)
        for (Index c = 0; c < w; ++c) {
            float& g = grid[static_cast<std::size_t>((r / cell) * gw + c / cell)];
            g = std::max(g, plane[r * w + c]);
        }
    max_filter(grid, gh, gw, 2);
    std::vector<float> smooth(grid.size());
    for (Index r = 0; r < gh; ++r)
        for (Index c = 0; c < gw; ++c) {
            float sum = 0;
            int count = 0;
            for (Index rr = std::max<Index>(0, r - 1); rr <= std::min(gh - 1, r + 1); ++rr)
                for (Index cc = std::max<Index>(0, c - 1); cc <= std::min(gw - 1, c + 1); ++cc, ++count)
                    sum += grid[static_cast<std::size_t>(rr * gw + cc)];
            smooth[static_cast<std::size_t>(r * gw + c)] = sum / float(count);
        }
    std::vector<float> bg(static_cast<std::size_t>(h * w));
    for (Index r = 0; r < h; ++r) {
        // Cell centres sit at (i + 0.5) cell; interpolate between the two nearest.
        const double y = std::clamp((double(r) + 0.5) / double(cell) - 0.5, 0.0, double(gh - 1));
        const auto y0 = static_cast<Index>(y);
        const Index y1 = std::min(gh - 1, y0 + 1);
        const auto fy = static_cast<float>(y - double(y0));
        for (Index c = 0; c < w; ++c) {
            const double x = std::clamp((double(c) + 0.5) / double(cell) - 0.5, 0.0, double(gw - 1));
            const auto x0 = static_cast<Index>(x);
            const Index x1 = std::min(gw - 1, x0 + 1);
            const auto fx = static_cast<float>(x - double(x0));
            auto at = [&](Index rr, Index cc) { return smooth[static_cast<std::size_t>(rr * gw + cc)]; };
            bg[static_cast<std::size_t>(r * w + c)] =
                (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
        }
    }
    return bg;
}

// Step 5: whether the ink is lighter than the ground, and how far the ink
// departs from the paper. The paper is most of the picture, so the median
// is paper and the ink lies far from it on one side; a lamp's gradient would
// spread the paper itself over a wide range, so a least-squares quadratic
// surface (on up to 65536 sampled pixels) is subtracted first. The side whose
// 0.5 % tail lies farther from the median is the ink's.
struct Polarity {
    bool light_ink;
    double departure;  // the farther tail's distance from the median
};

inline Polarity find_polarity(const Tensor<float>& grey) {
    const Index h = grey.shape()[1], w = grey.shape()[2];
    const auto stride = std::max<Index>(1, static_cast<Index>(std::sqrt(double(h * w) / 65536.0)));
    auto features = [&](Index r, Index c) {
        const double y = h > 1 ? 2.0 * double(r) / double(h - 1) - 1 : 0,
                     x = w > 1 ? 2.0 * double(c) / double(w - 1) - 1 : 0;
        return std::array<double, 6>{1, y, x, y * y, x * y, x * x};
    };
    // Normal equations [a | b], solved by Gauss-Jordan with partial pivoting;
    // the tiny ridge keeps them solvable for a 1-pixel-wide image.
    std::array<std::array<double, 7>, 6> m{};
    for (std::size_t i = 0; i < 6; ++i) m[i][i] = 1e-9;
    for (Index r = 0; r < h; r += stride)
        for (Index c = 0; c < w; c += stride) {
            const auto f = features(r, c);
            for (std::size_t i = 0; i < 6; ++i) {
                for (std::size_t j = 0; j < 6; ++j) m[i][j] += f[i] * f[j];
                m[i][6] += f[i] * double(grey[r * w + c]);
            }
        }
    for (std::size_t col = 0; col < 6; ++col) {
        std::size_t pivot = col;
        for (std::size_t i = col + 1; i < 6; ++i)
            if (std::abs(m[i][col]) > std::abs(m[pivot][col])) pivot = i;
        std::swap(m[col], m[pivot]);
        for (std::size_t i = 0; i < 6; ++i) {
            if (i == col) continue;
            const double k = m[i][col] / m[col][col];
            for (std::size_t j = col; j < 7; ++j) m[i][j] -= k * m[col][j];
        }
    }
    std::vector<double> residual;
    for (Index r = 0; r < h; r += stride)
        for (Index c = 0; c < w; c += stride) {
            const auto f = features(r, c);
            double fit = 0;
            for (std::size_t i = 0; i < 6; ++i) fit += f[i] * m[i][6] / m[i][i];
            residual.push_back(double(grey[r * w + c]) - fit);
        }
    auto at = [&](double q) {
        auto it = residual.begin() + static_cast<std::ptrdiff_t>(q * double(residual.size() - 1));
        std::nth_element(residual.begin(), it, residual.end());
        return *it;
    };
    const double mid = at(0.5), below = mid - at(0.005), above = at(0.995) - mid;
    return {above > below, std::max(above, below)};
}

// Steps 4-5 for one polarity: ink = 1 - the smallest ratio of a channel to
// its paper brightness, the image inverted first when `invert`.
inline std::vector<float> ink_map(const Tensor<float>& img, bool invert) {
    const Index channels = img.shape()[0], h = img.shape()[1], w = img.shape()[2], n = h * w;
    std::vector<float> ink(static_cast<std::size_t>(n), 0.0f), plane(static_cast<std::size_t>(n));
    for (Index c = 0; c < channels; ++c) {
        for (Index i = 0; i < n; ++i)
            plane[static_cast<std::size_t>(i)] = invert ? 1.0f - img[c * n + i] : img[c * n + i];
        const std::vector<float> bg = estimate_background(plane.data(), h, w);
        for (std::size_t i = 0; i < plane.size(); ++i)
            ink[i] = std::max(ink[i], 1.0f - std::min(1.0f, plane[i] / std::max(bg[i], 1e-3f)));
    }
    return ink;
}

// Labels 8-connected groups of `mask`; returns each group's pixel count,
// labels[i] = group + 1, 0 outside the mask.
inline std::vector<Index> label_components(const std::vector<std::uint8_t>& mask, Index h, Index w,
                                           std::vector<std::int32_t>& labels) {
    labels.assign(mask.size(), 0);
    std::vector<Index> sizes, stack;
    for (Index start = 0; start < h * w; ++start) {
        if (!mask[static_cast<std::size_t>(start)] || labels[static_cast<std::size_t>(start)]) continue;
        const auto id = static_cast<std::int32_t>(sizes.size() + 1);
        Index count = 0;
        stack.push_back(start);
        labels[static_cast<std::size_t>(start)] = id;
        while (!stack.empty()) {
            const Index p = stack.back();
            stack.pop_back();
            ++count;
            const Index r = p / w, c = p % w;
            for (Index dr = -1; dr <= 1; ++dr)
                for (Index dc = -1; dc <= 1; ++dc) {
                    const Index rr = r + dr, cc = c + dc;
                    if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
                    const auto q = static_cast<std::size_t>(rr * w + cc);
                    if (mask[q] && !labels[q]) {
                        labels[q] = id;
                        stack.push_back(rr * w + cc);
                    }
                }
        }
        sizes.push_back(count);
    }
    return sizes;
}

}  // namespace detail

inline Tensor<float> preprocess_digit(const Tensor<float>& image) {
    using namespace detail;
    check_image(image, "preprocess_digit");
    if (image.size() == 0)
        throw ShapeError(ErrorId::shape_rank, "preprocess_digit: the image " + image.shape().str() + " is empty");
    for (Index i = 0; i < image.size(); ++i)
        if (!std::isfinite(image[i]))
            throw NumericError(ErrorId::numeric_nonfinite, "preprocess_digit: pixel value " + std::to_string(i) +
                                                               " is " + std::to_string(image[i]));

    // 1-2. Alpha, working size.
    Tensor<float> img = remove_alpha(image);
    {
        const Index h = img.shape()[1], w = img.shape()[2], side = std::max(h, w);
        if (side > digit_working_side) {
            const double f = double(digit_working_side) / double(side);
            img = resize_area(img, std::max<Index>(1, std::lround(double(h) * f)),
                              std::max<Index>(1, std::lround(double(w) * f)));
        }
    }
    const Index channels = img.shape()[0], h = img.shape()[1], w = img.shape()[2], n = h * w;
    for (float& v : img) v = std::clamp(v, 0.0f, 1.0f);

    // 3. Noise.
    if (noise_level(to_grey(img).data(), h, w) > digit_noise_limit)
        for (Index c = 0; c < channels; ++c) median3x3(img.data() + c * n, h, w);

    // 5, then 4.
    const Polarity polarity = find_polarity(to_grey(img));
    if (polarity.departure < digit_min_departure)
        throw ConfigError(ErrorId::config_argument,
                          "preprocess_digit: the image " + image.shape().str() +
                              " holds no digit: no pixels stand out from the paper (the darkest and lightest 0.5 % "
                              "lie within " +
                              std::to_string(polarity.departure) + " of it; a digit needs " +
                              std::to_string(digit_min_departure) + ")");
    const std::vector<float> ink = ink_map(img, polarity.light_ink);

    // 6. Threshold, and the blank check.
    const float t = otsu_threshold(ink.data(), n);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(n));
    double above = 0, below = 0;
    Index n_above = 0;
    float strongest = 0;
    for (Index i = 0; i < n; ++i) {
        const float v = ink[static_cast<std::size_t>(i)];
        strongest = std::max(strongest, v);
        mask[static_cast<std::size_t>(i)] = v > t;
        if (v > t) {
            above += v;
            ++n_above;
        } else {
            below += v;
        }
    }
    const double contrast = n_above == 0 || n_above == n ? 0.0 : above / double(n_above) - below / double(n - n_above);
    if (strongest < digit_min_ink || contrast < digit_min_contrast)
        throw ConfigError(ErrorId::config_argument,
                          "preprocess_digit: the image " + image.shape().str() +
                              " holds no digit: its darkest stroke reaches ink " + std::to_string(strongest) +
                              " and strokes differ from the paper by " + std::to_string(contrast) +
                              " (a digit needs at least " + std::to_string(digit_min_ink) + " and " +
                              std::to_string(digit_min_contrast) + ")");

    // 7. Specks; grey levels of the kept strokes, normalised to their median.
    std::vector<std::int32_t> labels;
    const std::vector<Index> sizes = label_components(mask, h, w, labels);
    const Index largest = *std::max_element(sizes.begin(), sizes.end());
    const auto keep_from = static_cast<Index>(std::ceil(digit_speck_fraction * double(largest)));
    std::vector<std::uint8_t> kept(static_cast<std::size_t>(n), 0);
    std::vector<float> stroke;
    for (Index i = 0; i < n; ++i) {
        const std::int32_t l = labels[static_cast<std::size_t>(i)];
        if (l && sizes[static_cast<std::size_t>(l - 1)] >= keep_from) {
            kept[static_cast<std::size_t>(i)] = 1;
            stroke.push_back(ink[static_cast<std::size_t>(i)]);
        }
    }
    auto mid = stroke.begin() + static_cast<std::ptrdiff_t>(stroke.size() / 2);
    std::nth_element(stroke.begin(), mid, stroke.end());
    const float core = std::max(*mid, t);
    std::vector<float> digit(static_cast<std::size_t>(n), 0.0f);
    Index top = h, bottom = -1, left = w, right = -1, area = 0, perimeter = 0;
    for (Index r = 0; r < h; ++r)
        for (Index c = 0; c < w; ++c) {
            bool near = false;
            for (Index dr = -1; dr <= 1 && !near; ++dr)
                for (Index dc = -1; dc <= 1 && !near; ++dc) {
                    const Index rr = r + dr, cc = c + dc;
                    near = rr >= 0 && rr < h && cc >= 0 && cc < w && kept[static_cast<std::size_t>(rr * w + cc)];
                }
            if (!near) continue;
            const std::size_t i = static_cast<std::size_t>(r * w + c);
            digit[i] = std::min(1.0f, ink[i] / core);
            if (!kept[i]) continue;
            ++area;
            // Sides of the pixel that border paper (or the image edge).
            perimeter += (r == 0 || !kept[i - static_cast<std::size_t>(w)]) +
                         (r == h - 1 || !kept[i + static_cast<std::size_t>(w)]) + (c == 0 || !kept[i - 1]) +
                         (c == w - 1 || !kept[i + 1]);
            top = std::min(top, r);
            bottom = std::max(bottom, r);
            left = std::min(left, c);
            right = std::max(right, c);
        }

    // 8. Stroke width: a band of length L and width s has area L s and perimeter about 2 L.
    const Index long_side = std::max(bottom - top + 1, right - left + 1);
    const double width = 2.0 * double(area) / double(std::max<Index>(perimeter, 1));
    if (width < digit_thin_stroke * double(long_side)) {
        const auto radius = static_cast<Index>(std::lround((digit_target_stroke * double(long_side) - width) / 2));
        max_filter(digit, h, w, radius);
        top = std::max<Index>(0, top - radius);
        left = std::max<Index>(0, left - radius);
        bottom = std::min(h - 1, bottom + radius);
        right = std::min(w - 1, right + radius);
    }

    // 9. Crop and scale the longer side to 20.
    const Index box_h = bottom - top + 1, box_w = right - left + 1;
    Tensor<float> crop(Shape{box_h, box_w});
    for (Index r = 0; r < box_h; ++r)
        for (Index c = 0; c < box_w; ++c)
            crop[r * box_w + c] = digit[static_cast<std::size_t>((top + r) * w + left + c)];
    const Index box_long = std::max(box_h, box_w);
    const Index out_h = std::max<Index>(1, std::lround(double(box_h) * double(digit_box) / double(box_long)));
    const Index out_w = std::max<Index>(1, std::lround(double(box_w) * double(digit_box) / double(box_long)));
    const Tensor<float> small = resize_area(crop, out_h, out_w);

    // 10. Centre of mass to the field's centre.
    double mass = 0, my = 0, mx = 0;
    for (Index r = 0; r < out_h; ++r)
        for (Index c = 0; c < out_w; ++c) {
            const double v = small[r * out_w + c];
            mass += v;
            my += v * (double(r) + 0.5);
            mx += v * (double(c) + 0.5);
        }
    const double half = double(digit_field) / 2;
    const Index oy = std::clamp<Index>(std::lround(half - my / mass), 0, digit_field - out_h);
    const Index ox = std::clamp<Index>(std::lround(half - mx / mass), 0, digit_field - out_w);
    Tensor<float> out(Shape{1, digit_field, digit_field}, 0.0f);
    for (Index r = 0; r < out_h; ++r)
        for (Index c = 0; c < out_w; ++c)
            out[(oy + r) * digit_field + ox + c] = std::clamp(small[r * out_w + c], 0.0f, 1.0f);
    return out;
}

}  // namespace lamina::image
