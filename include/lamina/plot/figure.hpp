// lamina/plot/figure.hpp: a picture as a list of shapes, drawn the same to PNG and to SVG.
//
// Contract: a Figure is width x height pixels on a background, holding
// filled rectangles, line segments, data series (polylines with round
// markers at their points) and one-line texts in the built-in font, drawn
// in the order they were added (later ones on top) whatever the output:
// rasterize() (here) paints them onto a Canvas, to_svg() (svg.hpp) writes
// them as SVG elements, so the PNG and the SVG of a figure show the same.
// Coordinates are pixels, y down; rectangles cover [x, x + w) x [y, y + h);
// lines and points are pixel centres. A text's y is the top of its glyphs
// and its x the start, middle or end of the line, as its anchor says.
#pragma once

#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lamina/plot/canvas.hpp"
#include "lamina/plot/colormap.hpp"
#include "lamina/plot/font.hpp"

namespace lamina::plot {

enum class Anchor { Start, Middle, End };

struct Figure {
    struct Rect {
        double x, y, w, h;
        Rgb fill;
    };
    struct Line {
        double x0, y0, x1, y1;
        Rgb colour;
        double width = 1.0;
    };
    struct Series {
        std::string name;                           // "loss (train)": the SVG element's <title>
        std::vector<std::array<double, 2>> points;  // (x, y) pixel centres, in drawing order
        Rgb colour;
        double width = 2.0;
        double marker_radius = 3.0;  // 0: no markers
    };
    struct Text {
        double x, y;
        std::string text;
        Rgb colour = colors::black;
        int scale = 1;
        Anchor anchor = Anchor::Start;
    };

    using Item = std::variant<Rect, Line, Series, Text>;

    int width = 0, height = 0;
    Rgb background = colors::white;
    std::vector<Item> items;

    void add(Item item) { items.push_back(std::move(item)); }
};

// Left edge of a text drawn with this anchor at x.
inline double text_left(const Figure::Text& t) {
    const double w = text_width(t.text, t.scale);
    return t.anchor == Anchor::Start ? t.x : t.anchor == Anchor::Middle ? t.x - w / 2 : t.x - w;
}

inline Canvas rasterize(const Figure& f) {
    Canvas c(f.width, f.height, f.background);
    for (const auto& item : f.items) {
        if (const auto* r = std::get_if<Figure::Rect>(&item)) {
            c.fill_rect(int(std::lround(r->x)), int(std::lround(r->y)), int(std::lround(r->w)), int(std::lround(r->h)),
                        r->fill);
        } else if (const auto* l = std::get_if<Figure::Line>(&item)) {
            c.line(l->x0, l->y0, l->x1, l->y1, l->colour, l->width);
        } else if (const auto* s = std::get_if<Figure::Series>(&item)) {
            for (std::size_t i = 1; i < s->points.size(); ++i)
                c.line(s->points[i - 1][0], s->points[i - 1][1], s->points[i][0], s->points[i][1], s->colour, s->width);
            if (s->marker_radius > 0)
                for (const auto& p : s->points) c.fill_circle(p[0], p[1], s->marker_radius, s->colour);
        } else if (const auto* t = std::get_if<Figure::Text>(&item)) {
            c.text(int(std::lround(text_left(*t))), int(std::lround(t->y)), t->text, t->colour, t->scale);
        }
    }
    return c;
}

}  // namespace lamina::plot
