// lamina/plot/digit_grid.hpp: a grid of images with their labels, misclassified ones in red.
//
// Contract: plot_digits(path, images, labels[, predicted][, which], columns)
// writes a PNG of images (N, 1, H, W), (N, H, W) or (N, D) with D a square
// (784 -> 28 x 28), `columns` per row, each under its label: "7" without
// predictions, "7" when predicted right and "7>1" (true>predicted) in red
// inside a red frame when wrong. `which` picks and orders the images shown
// (default: all N, at most max_digits). Each image is scaled by its own
// maximum, so 0 is white and the brightest pixel black, as matplotlib's
// cmap="binary" shows MNIST; that also shows images normalised to other
// ranges (tf.keras.utils.normalize). Every image pixel is a scale x scale
// block (default 2). draw_digits() returns the Canvas instead of writing it;
// digit_grid_layout() says where each tile lands, for callers and tests.
// Errors: ShapeError for an image shape it cannot show or label counts that
// differ from N, ConfigError for bad columns/scale, an index in `which`
// outside [0, N) (shape_index), or more than max_digits images.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/plot/canvas.hpp"
#include "lamina/plot/labels.hpp"
#include "lamina/plot/png.hpp"

namespace lamina::plot {

// A grid of ~70-pixel cells stays a picture, not a poster; pass a `which` for more.
inline constexpr Index max_digits = 1024;

struct DigitGridLayout {
    static constexpr int margin = 8;   // around the grid
    static constexpr int padding = 5;  // between a tile and its cell's edge; the red frame lies inside it
    static constexpr int frame = 3;    // red frame width
    static constexpr int label_scale = 2;
    int count = 0, columns = 0, rows = 0;
    int tile_w = 0, tile_h = 0;  // on the canvas: image pixels x scale
    int cell_w = 0, cell_h = 0;
    int top = 0;  // y of the first row of cells (below the header line, if any)

    int width() const { return 2 * margin + columns * cell_w; }
    int height() const { return top + rows * cell_h + margin; }
    int cell_x(int i) const { return margin + (i % columns) * cell_w; }
    int cell_y(int i) const { return top + (i / columns) * cell_h; }
    int tile_x(int i) const { return cell_x(i) + (cell_w - tile_w) / 2; }
    int tile_y(int i) const { return cell_y(i) + padding; }
    int label_y(int i) const { return tile_y(i) + tile_h + padding; }
};

// count tiles of image_w x image_h pixels shown at `scale`, labels up to
// label_chars characters wide, and a header line when `header`.
inline DigitGridLayout digit_grid_layout(int count, int columns, int image_w, int image_h, int scale, int label_chars,
                                         bool header) {
    DigitGridLayout g;
    g.count = count;
    g.columns = std::max(1, std::min(columns, count));
    g.rows = (count + g.columns - 1) / g.columns;
    g.tile_w = image_w * scale;
    g.tile_h = image_h * scale;
    const int label_w = (label_chars * Font::advance - 1) * DigitGridLayout::label_scale;
    g.cell_w = std::max(g.tile_w + 2 * DigitGridLayout::padding, label_w + 2 * DigitGridLayout::padding);
    g.cell_h = g.tile_h + 3 * DigitGridLayout::padding + text_height(DigitGridLayout::label_scale);
    g.top = DigitGridLayout::margin + (header ? Font::line_height + DigitGridLayout::padding : 0);
    return g;
}

namespace detail {

// (H, W) of one image of `images`, or a ShapeError saying which shapes work.
inline std::pair<Index, Index> digit_image_size(const Shape& s) {
    auto fail = [&] {
        throw ShapeError(ErrorId::shape_rank,
                         "plot_digits: images must be greyscale (N, 1, H, W), (N, H, W) or (N, D) "
                         "with D a square number, got shape " +
                             s.str());
    };
    if (s.rank() == 4 && s[1] == 1) return {s[2], s[3]};
    if (s.rank() == 3) return {s[1], s[2]};
    if (s.rank() == 2) {
        const auto side = static_cast<Index>(std::llround(std::sqrt(double(s[1]))));
        if (side * side == s[1]) return {side, side};
    }
    fail();
    return {0, 0};
}

template <class T, class L, class P>
Canvas draw_digits(const Tensor<T>& images, const Tensor<L>& labels, const Tensor<P>* predicted,
                   const std::vector<Index>* which, int columns, int scale) {
    const std::string who = "plot_digits";
    // Plain variables, not a structured binding: C++17 lambdas cannot capture those.
    const std::pair<Index, Index> size = digit_image_size(images.shape());
    const Index h = size.first, w = size.second;
    const Index n = images.rows();
    if (columns < 1 || columns > max_digits)
        throw ConfigError(ErrorId::config_argument, who + ": columns must be in [1, " + std::to_string(max_digits) +
                                                        "], got " + std::to_string(columns));
    if (scale < 1 || scale > 16)
        throw ConfigError(ErrorId::config_argument, who + ": scale must be in [1, 16], got " + std::to_string(scale));
    if (h < 1 || w < 1 || h * scale > 1024 || w * scale > 1024)
        throw ShapeError(ErrorId::shape_rank, who + ": images of " + std::to_string(h) + " x " + std::to_string(w) +
                                                  " pixels at scale " + std::to_string(scale) +
                                                  " do not fit a tile of at most 1024 x 1024");
    const std::vector<Index> truth = class_ids(who, "labels", labels);
    if (Index(truth.size()) != n)
        throw ShapeError(ErrorId::shape_count,
                         who + ": " + std::to_string(n) + " images but " + std::to_string(truth.size()) + " labels");
    std::vector<Index> guess;
    if (predicted) {
        guess = class_ids(who, "predicted", *predicted);
        if (Index(guess.size()) != n)
            throw ShapeError(ErrorId::shape_count, who + ": " + std::to_string(n) + " images but " +
                                                       std::to_string(guess.size()) + " predicted labels");
    }
    std::vector<Index> shown;
    if (which) {
        shown = *which;
        for (std::size_t k = 0; k < shown.size(); ++k)
            if (shown[k] < 0 || shown[k] >= n)
                throw ShapeError(ErrorId::shape_index, who + ": which[" + std::to_string(k) +
                                                           "] = " + std::to_string(shown[k]) + " is outside the " +
                                                           std::to_string(n) + " images");
    } else {
        for (Index i = 0; i < n; ++i) shown.push_back(i);
    }
    if (shown.empty()) throw ConfigError(ErrorId::config_argument, who + ": no images to show");
    if (Index(shown.size()) > max_digits)
        throw ConfigError(ErrorId::config_argument, who + ": " + std::to_string(shown.size()) +
                                                        " images are more than the " + std::to_string(max_digits) +
                                                        " one grid shows; pick some with `which`");

    auto label_of = [&](Index i) {
        const std::string t = std::to_string(truth[std::size_t(i)]);
        if (!predicted || guess[std::size_t(i)] == truth[std::size_t(i)]) return t;
        return t + ">" + std::to_string(guess[std::size_t(i)]);
    };
    int label_chars = 1, wrong = 0;
    for (Index i : shown) {
        label_chars = std::max(label_chars, int(label_of(i).size()));
        if (predicted && guess[std::size_t(i)] != truth[std::size_t(i)]) ++wrong;
    }
    const DigitGridLayout g =
        digit_grid_layout(int(shown.size()), columns, int(w), int(h), scale, label_chars, predicted != nullptr);
    Canvas c(g.width(), g.height());
    if (predicted)
        c.text(DigitGridLayout::margin, DigitGridLayout::margin,
               "true>predicted, red: misclassified (" + std::to_string(wrong) + " of " + std::to_string(shown.size()) +
                   " shown)",
               colors::black);
    const Index pixels = h * w;
    for (int k = 0; k < g.count; ++k) {
        const Index i = shown[std::size_t(k)];
        const T* img = images.data() + i * pixels;
        double top = 0;
        for (Index p = 0; p < pixels; ++p)
            if (std::isfinite(double(img[p]))) top = std::max(top, double(img[p]));
        const double norm = top > 0 ? 1.0 / top : 0.0;
        c.blit(g.tile_x(k), g.tile_y(k), int(w), int(h), scale,
               [&](int col, int row) { return binary(double(img[Index(row) * w + col]) * norm); });
        const bool miss = predicted && guess[std::size_t(i)] != truth[std::size_t(i)];
        if (miss)
            c.stroke_rect(g.tile_x(k) - DigitGridLayout::frame, g.tile_y(k) - DigitGridLayout::frame,
                          g.tile_w + 2 * DigitGridLayout::frame, g.tile_h + 2 * DigitGridLayout::frame, colors::red,
                          DigitGridLayout::frame);
        const std::string label = label_of(i);
        c.text(g.cell_x(k) + (g.cell_w - text_width(label, DigitGridLayout::label_scale)) / 2, g.label_y(k), label,
               miss ? colors::red : colors::black, DigitGridLayout::label_scale);
    }
    return c;
}

}  // namespace detail

template <class T, class L>
Canvas draw_digits(const Tensor<T>& images, const Tensor<L>& labels, int columns = 10, int scale = 2) {
    return detail::draw_digits<T, L, L>(images, labels, nullptr, nullptr, columns, scale);
}
template <class T, class L, class P>
Canvas draw_digits(const Tensor<T>& images, const Tensor<L>& labels, const Tensor<P>& predicted, int columns = 10,
                   int scale = 2) {
    return detail::draw_digits(images, labels, &predicted, static_cast<const std::vector<Index>*>(nullptr), columns,
                               scale);
}
template <class T, class L, class P>
Canvas draw_digits(const Tensor<T>& images, const Tensor<L>& labels, const Tensor<P>& predicted,
                   const std::vector<Index>& which, int columns = 10, int scale = 2) {
    return detail::draw_digits(images, labels, &predicted, &which, columns, scale);
}

template <class T, class L>
void plot_digits(const std::string& path, const Tensor<T>& images, const Tensor<L>& labels, int columns = 10) {
    write_png(path, draw_digits(images, labels, columns));
}
template <class T, class L, class P>
void plot_digits(const std::string& path, const Tensor<T>& images, const Tensor<L>& labels, const Tensor<P>& predicted,
                 int columns = 10) {
    write_png(path, draw_digits(images, labels, predicted, columns));
}
template <class T, class L, class P>
void plot_digits(const std::string& path, const Tensor<T>& images, const Tensor<L>& labels, const Tensor<P>& predicted,
                 const std::vector<Index>& which, int columns = 10) {
    write_png(path, draw_digits(images, labels, predicted, which, columns));
}

// Which images a digit grid of `count` should show: the first `count`, with
// up to half of them replaced by the first misclassified ones, in index
// order. Mistakes are what one looks at such a grid for, and the correct
// ones around them show what the network does get right.
template <class L, class P>
std::vector<Index> digits_to_show(const Tensor<L>& labels, const Tensor<P>& predicted, Index count) {
    const std::vector<Index> truth = detail::class_ids("digits_to_show", "labels", labels);
    const std::vector<Index> guess = detail::class_ids("digits_to_show", "predicted", predicted);
    if (truth.size() != guess.size())
        throw ShapeError(ErrorId::shape_count, "digits_to_show: " + std::to_string(truth.size()) + " labels but " +
                                                   std::to_string(guess.size()) + " predicted labels");
    if (count < 1)
        throw ConfigError(ErrorId::config_argument, "digits_to_show: count must be >= 1, got " + std::to_string(count));
    count = std::min(count, Index(truth.size()));
    std::vector<Index> wrong, right;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        auto& list = truth[i] == guess[i] ? right : wrong;
        if (Index(list.size()) < count) list.push_back(Index(i));
    }
    // Half mistakes, or more when there are too few correct ones to fill the grid.
    const Index right_count = Index(right.size());
    wrong.resize(std::size_t(std::min(Index(wrong.size()), std::max(count / 2, count - right_count))));
    right.resize(std::size_t(std::min(right_count, count - Index(wrong.size()))));
    std::vector<Index> shown = wrong;
    shown.insert(shown.end(), right.begin(), right.end());
    std::sort(shown.begin(), shown.end());
    return shown;
}

}  // namespace lamina::plot
