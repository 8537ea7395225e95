// lamina/plot/svg.hpp: a Figure as a self-contained SVG document.
//
// Contract: to_svg(figure) returns an SVG 1.1 document (no scripts, no
// external references, no fonts to fetch: texts use the generic "monospace"
// family, sized so its glyphs cover the built-in font's 6-pixel advance)
// whose root <svg> has width, height and viewBox of the figure's pixels.
// Each Figure::Series becomes one <polyline class="series"> with exactly one
// "x,y" pair per point and a <title> naming it, followed by its markers as
// <circle> elements. Text is XML-escaped; bytes the built-in font cannot
// draw (control characters, non-ASCII) become '?', so the SVG shows what the
// PNG shows and is always well-formed. write_svg(path, figure) writes it
// like every picture (output.hpp): atomically, IoError(io_write) on failure.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <variant>

#include "lamina/plot/figure.hpp"
#include "lamina/plot/output.hpp"

namespace lamina::plot {

inline std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += (ch >= Font::first && ch <= Font::last) ? ch : '?';
        }
    }
    return out;
}

namespace detail {

// Shortest fixed-point text of a coordinate to 1/100 pixel: "12", "12.5", "12.25".
inline std::string svg_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", std::abs(v) < 0.005 ? 0.0 : v);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
}

inline std::string svg_colour(Rgb c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
    return buf;
}

}  // namespace detail

inline std::string to_svg(const Figure& f) {
    using detail::svg_colour;
    using detail::svg_number;
    const std::string w = std::to_string(f.width), h = std::to_string(f.height);
    std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + w + "\" height=\"" + h +
         "\" viewBox=\"0 0 " + w + " " + h + "\">\n";
    s += "<rect x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\" fill=\"" + svg_colour(f.background) + "\"/>\n";
    // Lines and points are pixel centres in a Figure; SVG puts pixel (x, y)'s centre at (x + 0.5, y + 0.5).
    const std::string centred = " transform=\"translate(0.5,0.5)\"";
    for (const auto& item : f.items) {
        if (const auto* r = std::get_if<Figure::Rect>(&item)) {
            s += "<rect x=\"" + svg_number(r->x) + "\" y=\"" + svg_number(r->y) + "\" width=\"" + svg_number(r->w) +
                 "\" height=\"" + svg_number(r->h) + "\" fill=\"" + svg_colour(r->fill) + "\"/>\n";
        } else if (const auto* l = std::get_if<Figure::Line>(&item)) {
            s += "<line" + centred + " x1=\"" + svg_number(l->x0) + "\" y1=\"" + svg_number(l->y0) + "\" x2=\"" +
                 svg_number(l->x1) + "\" y2=\"" + svg_number(l->y1) + "\" stroke=\"" + svg_colour(l->colour) +
                 "\" stroke-width=\"" + svg_number(l->width) + "\" stroke-linecap=\"round\"/>\n";
        } else if (const auto* series = std::get_if<Figure::Series>(&item)) {
            std::string points;
            for (const auto& p : series->points)
                points += (points.empty() ? "" : " ") + svg_number(p[0]) + "," + svg_number(p[1]);
            s += "<polyline class=\"series\"" + centred + " points=\"" + points + "\" fill=\"none\" stroke=\"" +
                 svg_colour(series->colour) + "\" stroke-width=\"" + svg_number(series->width) +
                 "\" stroke-linecap=\"round\" stroke-linejoin=\"round\"><title>" + xml_escape(series->name) +
                 "</title></polyline>\n";
            if (series->marker_radius > 0)
                for (const auto& p : series->points)
                    s += "<circle" + centred + " cx=\"" + svg_number(p[0]) + "\" cy=\"" + svg_number(p[1]) + "\" r=\"" +
                         svg_number(series->marker_radius) + "\" fill=\"" + svg_colour(series->colour) + "\"/>\n";
        } else if (const auto* t = std::get_if<Figure::Text>(&item)) {
            const char* anchor = t->anchor == Anchor::Start ? "start" : t->anchor == Anchor::Middle ? "middle" : "end";
            // The built-in glyphs stand 7 rows on their baseline; a
            // monospace font of 10 px per scale step has their 6-pixel advance.
            s += "<text x=\"" + svg_number(t->x) + "\" y=\"" + svg_number(t->y + text_height(t->scale)) +
                 "\" font-family=\"monospace\" font-size=\"" + std::to_string(10 * t->scale) + "\" text-anchor=\"" +
                 anchor + "\" fill=\"" + svg_colour(t->colour) + "\">" + xml_escape(t->text) + "</text>\n";
        }
    }
    s += "</svg>\n";
    return s;
}

inline void write_svg(const std::string& path, const Figure& figure) { write_file(path, to_svg(figure)); }

}  // namespace lamina::plot
