// lamina/plot/canvas.hpp: an RGB8 raster to draw lamina's pictures on.
//
// Contract: a Canvas is width x height pixels, 3 bytes each (R, G, B), rows
// top to bottom with no padding: pixels()[3 * (y * width + x)] is the red of
// (x, y), the layout PNG encoders take. Every drawing call clips to the
// canvas, so shapes may hang over an edge; coordinates of lines and circles
// are pixel centres (pixel (x, y) covers [x - 0.5, x + 0.5]). Sizes are
// checked once, in the constructor: 1..16384 per side and at most 2^26
// pixels (192 MiB), so no picture can ask for unbounded memory.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/plot/colormap.hpp"
#include "lamina/plot/font.hpp"

namespace lamina::plot {

class Canvas {
public:
    static constexpr int max_side = 16384;
    static constexpr long long max_pixels = 1LL << 26;

    Canvas(int width, int height, Rgb background = colors::white) : width_(width), height_(height) {
        if (width < 1 || height < 1 || width > max_side || height > max_side ||
            static_cast<long long>(width) * height > max_pixels)
            throw ConfigError(ErrorId::config_argument,
                              "Canvas: " + std::to_string(width) + " x " + std::to_string(height) +
                                  " pixels is outside 1..16384 per side and 2^26 pixels in all");
        pixels_.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
        fill_rect(0, 0, width, height, background);
    }

    int width() const noexcept { return width_; }
    int height() const noexcept { return height_; }
    const std::vector<std::uint8_t>& pixels() const noexcept { return pixels_; }

    bool contains(int x, int y) const noexcept { return x >= 0 && y >= 0 && x < width_ && y < height_; }
    // The colour at (x, y), which must lie on the canvas.
    Rgb pixel(int x, int y) const noexcept {
        const std::uint8_t* p = &pixels_[offset(x, y)];
        return {p[0], p[1], p[2]};
    }

    void set(int x, int y, Rgb c) noexcept {
        if (!contains(x, y)) return;
        std::uint8_t* p = &pixels_[offset(x, y)];
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
    }
    // Paints c over (x, y) with opacity alpha in [0, 1]: how antialiased edges fade out.
    void blend(int x, int y, Rgb c, double alpha) noexcept {
        if (!contains(x, y) || !(alpha > 0)) return;
        set(x, y, detail::mix(pixel(x, y), c, alpha));
    }

    void fill_rect(int x, int y, int w, int h, Rgb c) noexcept {
        const int x0 = std::max(x, 0), y0 = std::max(y, 0);
        const int x1 = std::min(x + std::max(w, 0), width_), y1 = std::min(y + std::max(h, 0), height_);
        for (int j = y0; j < y1; ++j)
            for (int i = x0; i < x1; ++i) set(i, j, c);
    }
    // The outline of (x, y, w, h), `thickness` pixels wide, drawn inside the rectangle.
    void stroke_rect(int x, int y, int w, int h, Rgb c, int thickness = 1) noexcept {
        const int t = std::min({thickness, w, h});
        fill_rect(x, y, w, t, c);
        fill_rect(x, y + h - t, w, t, c);
        fill_rect(x, y, t, h, c);
        fill_rect(x + w - t, y, t, h, c);
    }

    // An antialiased segment of the given width: each pixel near it is
    // covered by how far its centre lies inside the stroke, which gives
    // round caps and keeps thin curves smooth at any slope.
    void line(double x0, double y0, double x1, double y1, Rgb c, double width = 1.0) noexcept {
        const double r = width / 2;
        const int ix0 = static_cast<int>(std::floor(std::min(x0, x1) - r - 1)),
                  ix1 = static_cast<int>(std::ceil(std::max(x0, x1) + r + 1));
        const int iy0 = static_cast<int>(std::floor(std::min(y0, y1) - r - 1)),
                  iy1 = static_cast<int>(std::ceil(std::max(y0, y1) + r + 1));
        const double dx = x1 - x0, dy = y1 - y0, length2 = dx * dx + dy * dy;
        for (int y = std::max(iy0, 0); y <= std::min(iy1, height_ - 1); ++y)
            for (int x = std::max(ix0, 0); x <= std::min(ix1, width_ - 1); ++x) {
                const double t = length2 > 0 ? std::clamp(((x - x0) * dx + (y - y0) * dy) / length2, 0.0, 1.0) : 0.0;
                const double d = std::hypot(x - (x0 + t * dx), y - (y0 + t * dy));
                blend(x, y, c, std::clamp(r + 0.5 - d, 0.0, 1.0));
            }
    }
    // A filled, antialiased disc: a marker on a curve.
    void fill_circle(double cx, double cy, double radius, Rgb c) noexcept { line(cx, cy, cx, cy, c, 2 * radius); }

    // Draws a tile_w x tile_h tile with its top-left corner at (x, y), each
    // tile pixel as a scale x scale block (nearest neighbour, so digits and
    // 3x3 kernels stay crisp); colour_at(col, row) gives the tile's colours.
    template <class ColourAt>
    void blit(int x, int y, int tile_w, int tile_h, int scale, ColourAt&& colour_at) {
        for (int row = 0; row < tile_h; ++row)
            for (int col = 0; col < tile_w; ++col)
                fill_rect(x + col * scale, y + row * scale, scale, scale, colour_at(col, row));
    }

    // One line of text in the built-in font (font.hpp), its top-left corner
    // at (x, y); each font pixel is a scale x scale block.
    void text(int x, int y, std::string_view s, Rgb c, int scale = 1) noexcept {
        for (std::size_t k = 0; k < s.size(); ++k) {
            const int gx = x + static_cast<int>(k) * Font::advance * scale;
            for (int row = 0; row < Font::glyph_height; ++row)
                for (int col = 0; col < Font::glyph_width; ++col)
                    if (glyph_pixel(s[k], col, row)) fill_rect(gx + col * scale, y + row * scale, scale, scale, c);
        }
    }

private:
    std::size_t offset(int x, int y) const noexcept {
        return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(x)) * 3;
    }

    int width_, height_;
    std::vector<std::uint8_t> pixels_;
};

}  // namespace lamina::plot
