// lamina/plot/weight_tiles.hpp: what a first layer looks for, its weights drawn as image tiles.
//
// Contract: plot_weights(path, layer, image_shape) writes a PNG with one
// tile per unit and input channel:
//   Dense   kernel (in, units): unit u's column of `in` weights, laid out as
//           the image its inputs came from, image_shape (C, H, W) or (H, W)
//           with C * H * W == in; left empty, in must be a square (784 ->
//           28 x 28). A unit's C channels sit side by side.
//   Conv2D  kernel (F, C, KH, KW): filter f's KH x KW kernel per channel.
// Colours: each unit (filter) is divided by its own largest |w|, then blue
// (-1) -> white (0) -> red (+1) (colormap.hpp's diverging): a tile shows the
// pattern a unit responds to (red: ink there excites it, blue: inhibits),
// not how strong the unit is compared with the others. Tiles are scaled up
// with nearest neighbour to about 56 pixels, or 28 when there are more than
// 64 (a Dense(128) picture stays under 500 pixels wide).
// plot_first_layer_weights(path, model) does this for the model's first
// Dense or Conv2D layer, taking the image shape from the model's input when
// only Flatten-like layers come before it. draw_weights() returns the
// Canvas; weight_tiles_layout() says where each tile lands.
// Errors: ConfigError(config_argument) for a layer of another type or
// without a kernel, or more than max_weight_tiles tiles;
// ConfigError(config_state) for an unbuilt model; ShapeError(shape_mismatch)
// for an image_shape that does not hold the unit's inputs.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/model/sequential.hpp"
#include "lamina/plot/canvas.hpp"
#include "lamina/plot/png.hpp"

namespace lamina::plot {

// Dense(4096) on MNIST would already be a 3800 x 3800 picture.
inline constexpr Index max_weight_tiles = 4096;

struct WeightTilesLayout {
    static constexpr int margin = 8;
    static constexpr int gap = 2;  // grey between tiles, so white (zero) tiles keep their edges
    int units = 0, channels = 0, columns = 0, rows = 0;
    int tile_w = 0, tile_h = 0, scale = 1;  // tile_w, tile_h: on the canvas
    int top = 0;
    int block_w() const { return channels * (tile_w + gap) + gap; }
    int block_h() const { return tile_h + 2 * gap; }
    int width() const { return 2 * margin + columns * block_w(); }
    int height() const { return top + rows * block_h() + margin; }
    int tile_x(int unit, int channel) const {
        return margin + (unit % columns) * block_w() + gap + channel * (tile_w + gap);
    }
    int tile_y(int unit) const { return top + (unit / columns) * block_h() + gap; }
};

inline WeightTilesLayout weight_tiles_layout(int units, int channels, int h, int w) {
    WeightTilesLayout g;
    g.units = units;
    g.channels = channels;
    const int target = units * channels > 64 ? 28 : 56;
    g.scale = std::max(1, std::min(16, target / std::max(h, w)));
    g.tile_w = w * g.scale;
    g.tile_h = h * g.scale;
    // About twice as wide as tall for single-channel tiles: 32 filters make 8 x 4.
    g.columns = std::max(1, std::min(units, int(std::lround(std::sqrt(2.0 * units / channels)))));
    g.rows = (units + g.columns - 1) / g.columns;
    g.top = WeightTilesLayout::margin + 2 * Font::line_height + 4;
    return g;
}

template <class T>
Canvas draw_weights(const Layer<T>& layer, Shape image_shape = {}) {
    const std::string who = "plot_weights: " + layer.type() + " '" + layer.name() + "'";
    const bool dense = layer.type() == "Dense", conv = layer.type() == "Conv2D";
    if (!dense && !conv)
        throw ConfigError(ErrorId::config_argument, who + ": weights are drawn for Dense and Conv2D layers only");
    const Tensor<T>* kernel = nullptr;
    const std::vector<const Param<T>*> params = layer.params();
    for (const auto* p : params)
        if (p->name == "kernel") kernel = &p->value;
    if (!layer.built() || !kernel || kernel->empty())
        throw ConfigError(ErrorId::config_state, who + " has no kernel yet; build the model first");

    const Shape& ks = kernel->shape();
    Index units, channels, h, w;
    if (conv) {
        units = ks[0], channels = ks[1], h = ks[2], w = ks[3];  // (F, C, KH, KW)
    } else {
        const Index in = ks[0];
        units = ks[1];  // (in, units)
        if (image_shape.rank() == 0) {
            const auto side = static_cast<Index>(std::llround(std::sqrt(double(in))));
            if (side * side != in)
                throw ShapeError(
                    ErrorId::shape_mismatch,
                    who + " has " + std::to_string(in) +
                        " inputs, not a square image; pass the image shape they come from, e.g. Shape{1, 28, 28}");
            image_shape = Shape{1, side, side};
        }
        if (image_shape.rank() == 2) image_shape = Shape{1, image_shape[0], image_shape[1]};
        if (image_shape.rank() != 3 || image_shape.size() != in)
            throw ShapeError(ErrorId::shape_mismatch, who + ": image shape " + image_shape.str() +
                                                          " does not hold its " + std::to_string(in) +
                                                          " inputs; pass (C, H, W) or (H, W)");
        channels = image_shape[0], h = image_shape[1], w = image_shape[2];
    }
    if (units * channels > max_weight_tiles || h > 1024 || w > 1024)
        throw ConfigError(ErrorId::config_argument,
                          who + ": " + std::to_string(units) + " units x " + std::to_string(channels) +
                              " channels of " + std::to_string(h) + " x " + std::to_string(w) + " are more than the " +
                              std::to_string(max_weight_tiles) + " tiles of at most 1024 x 1024 one picture shows");

    const WeightTilesLayout g = weight_tiles_layout(int(units), int(channels), int(h), int(w));
    const std::string title = layer.name() + " (" + layer.type() + ") kernel: " + std::to_string(units) +
                              (dense ? " units" : " filters") + " x " + std::to_string(channels) + " channel" +
                              (channels == 1 ? "" : "s") + ", " + std::to_string(h) + "x" + std::to_string(w);
    const std::string legend = "blue < 0 < red, each tile scaled to its own max |w|";
    const int m = WeightTilesLayout::margin;
    Canvas c(std::max({g.width(), 2 * m + text_width(title), 2 * m + text_width(legend)}), g.height());
    c.text(m, m, title, colors::black);
    c.text(m, m + Font::line_height, legend, colors::grey);
    // The weight of unit u, channel ch, pixel (row, col) in either layout.
    auto weight = [&](Index u, Index ch, Index row, Index col) -> double {
        if (conv) return double((*kernel)[((u * channels + ch) * h + row) * w + col]);
        return double((*kernel)[((ch * h + row) * w + col) * units + u]);
    };
    for (Index u = 0; u < units; ++u) {
        double top = 0;
        for (Index ch = 0; ch < channels; ++ch)
            for (Index row = 0; row < h; ++row)
                for (Index col = 0; col < w; ++col) {
                    const double v = std::abs(weight(u, ch, row, col));
                    if (std::isfinite(v)) top = std::max(top, v);
                }
        const double norm = top > 0 ? 1.0 / top : 0.0;
        const int bx = g.tile_x(int(u), 0) - WeightTilesLayout::gap, by = g.tile_y(int(u)) - WeightTilesLayout::gap;
        c.fill_rect(bx, by, g.block_w(), g.block_h(), colors::grey);
        for (Index ch = 0; ch < channels; ++ch)
            c.blit(g.tile_x(int(u), int(ch)), g.tile_y(int(u)), int(w), int(h), g.scale,
                   [&](int col, int row) { return diverging(weight(u, ch, row, col) * norm); });
    }
    return c;
}

template <class T>
void plot_weights(const std::string& path, const Layer<T>& layer, const Shape& image_shape = {}) {
    write_png(path, draw_weights(layer, image_shape));
}

// The model's first Dense or Conv2D layer, and the image shape its inputs
// come from (empty when that is the layer's own input, as for Conv2D).
template <class T>
std::pair<const Layer<T>*, Shape> first_weighted_layer(const Sequential<T>& model) {
    if (!model.built())
        throw ConfigError(ErrorId::config_state,
                          "plot_first_layer_weights: the model '" + model.name() + "' is not built yet");
    for (std::size_t i = 0; i < model.size(); ++i) {
        const Layer<T>& l = model.layer(i);
        if (l.type() != "Dense" && l.type() != "Conv2D") continue;
        const Shape& model_in = model.input_shape();
        // Flatten, Dropout and friends keep the input's elements in order;
        // only then is a Dense's input still the model's image.
        const bool image_in = l.type() == "Dense" && model_in.rank() >= 2 && l.input_shape().size() == model_in.size();
        return {&l, image_in ? model_in : Shape{}};
    }
    throw ConfigError(ErrorId::config_argument,
                      "plot_first_layer_weights: the model '" + model.name() + "' has no Dense or Conv2D layer");
}

template <class T>
void plot_first_layer_weights(const std::string& path, const Sequential<T>& model) {
    const auto [layer, image_shape] = first_weighted_layer(model);
    plot_weights(path, *layer, image_shape);
}

}  // namespace lamina::plot
