// lamina/plot/training_curves.hpp: a History's loss and metrics per epoch, as Keras users plot it.
//
// Contract: plot_training_curves(path, history) writes a PNG or an SVG
// (chosen by the extension, .png or .svg; any other is a ConfigError) with
// one panel per quantity: "loss" first, then each metric ("accuracy", ...)
// in the History's key order. A panel holds up to two series, "train" (the
// key) and "validation" ("val_" + key), one point per epoch, on axes with
// round-number ticks; epochs are numbered from 1, as fit() prints them.
// Panels sit two to a row, each panel_width x panel_height pixels.
// Values that are not finite (a diverged loss) are left out of their series,
// so a series may hold fewer points than there are epochs; all other series
// hold exactly one point per epoch. training_curves_figure() returns the
// Figure (figure.hpp) both outputs are drawn from.
// Errors (ConfigError, config_argument): a History without epochs, or with a
// key whose value count differs from its epoch count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/model/history.hpp"
#include "lamina/plot/figure.hpp"
#include "lamina/plot/png.hpp"
#include "lamina/plot/svg.hpp"

namespace lamina::plot {

namespace detail {

// Axis ticks at multiples of 1, 2 or 5 x 10^k that cover [lo, hi].
struct Ticks {
    double lo = 0, hi = 1, step = 1;
    std::vector<double> values;
    int decimals = 0;
};

inline double nice_step(double raw) {
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / magnitude;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
}

inline Ticks nice_ticks(double lo, double hi, int target = 5, double min_step = 0) {
    Ticks t;
    if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
    // A flat series (one epoch, or a constant) still needs an axis around it.
    if (hi - lo <= 1e-9 * std::max(std::abs(lo), std::abs(hi))) {
        const double pad = std::max(std::abs(hi) * 0.05, 1e-3);
        lo -= pad;
        hi += pad;
    }
    t.step = std::max(nice_step((hi - lo) / target), min_step);
    t.lo = std::floor(lo / t.step) * t.step;
    t.hi = std::ceil(hi / t.step) * t.step;
    // Counted, not accumulated: a step below the values' precision cannot loop forever.
    const auto count = std::min<long long>(std::llround((t.hi - t.lo) / t.step), 20);
    for (long long k = 0; k <= count; ++k) t.values.push_back(t.lo + double(k) * t.step);
    t.decimals = std::max(0, int(-std::floor(std::log10(t.step) + 1e-9)));
    return t;
}

inline std::string tick_label(double v, int decimals) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 12), std::abs(v) < 1e-12 ? 0.0 : v);
    return buf;
}

}  // namespace detail

inline constexpr int panel_width = 420;
inline constexpr int panel_height = 300;

inline Figure training_curves_figure(const History& history) {
    const std::string who = "plot_training_curves";
    const std::size_t epochs = history.epoch.size();
    if (epochs == 0 || history.history.empty())
        throw ConfigError(ErrorId::config_argument,
                          who + ": the History holds no epochs (fit() ran none: epochs <= initial_epoch?)");
    std::vector<std::string> panels;
    for (const auto& [key, values] : history.history) {
        if (values.size() != epochs)
            throw ConfigError(ErrorId::config_argument, who + ": History key '" + key + "' has " +
                                                            std::to_string(values.size()) + " values for " +
                                                            std::to_string(epochs) + " epochs");
        const std::string base = key.rfind("val_", 0) == 0 ? key.substr(4) : key;
        if (std::find(panels.begin(), panels.end(), base) == panels.end()) panels.push_back(base);
    }
    std::stable_partition(panels.begin(), panels.end(), [](const std::string& k) { return k == "loss"; });

    const int columns = std::min<int>(2, int(panels.size()));
    const int rows = (int(panels.size()) + columns - 1) / columns;
    Figure f;
    f.width = columns * panel_width;
    f.height = rows * panel_height;

    const double first_epoch = history.epoch.front() + 1, last_epoch = history.epoch.back() + 1;
    const detail::Ticks xt = epochs <= 12 ? detail::Ticks{} : detail::nice_ticks(first_epoch, last_epoch, 6, 1.0);
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const std::string& name = panels[p];
        const double px = double(int(p) % columns) * panel_width, py = double(int(p) / columns) * panel_height;
        const double left = px + 64, right = px + panel_width - 18, top = py + 34, bottom = py + panel_height - 44;

        struct Source {
            std::string key, label;
            Rgb colour;
        };
        std::vector<Source> sources;
        if (history.history.count(name)) sources.push_back({name, "train", colors::blue});
        if (history.history.count("val_" + name)) sources.push_back({"val_" + name, "validation", colors::orange});

        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const auto& s : sources)
            for (double v : history.history.at(s.key))
                if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        const detail::Ticks yt = detail::nice_ticks(lo, hi);

        auto x_of = [&](double e) {
            if (last_epoch == first_epoch) return (left + right) / 2;
            return left + 10 + (e - first_epoch) / (last_epoch - first_epoch) * (right - left - 20);
        };
        auto y_of = [&](double v) { return bottom - (v - yt.lo) / (yt.hi - yt.lo) * (bottom - top); };

        f.add(Figure::Text{(left + right) / 2, py + 10, name, colors::black, 2, Anchor::Middle});
        for (double v : yt.values) {
            const double y = std::round(y_of(v));
            f.add(Figure::Line{left, y, right, y, colors::light_grey, 1.0});
            f.add(Figure::Line{left - 4, y, left, y, colors::black, 1.0});
            f.add(Figure::Text{left - 7, y - 3, detail::tick_label(v, yt.decimals), colors::black, 1, Anchor::End});
        }
        std::vector<double> x_ticks;
        if (epochs <= 12) {
            for (int e : history.epoch) x_ticks.push_back(e + 1);
        } else {
            for (double v : xt.values)
                if (v >= first_epoch && v <= last_epoch) x_ticks.push_back(v);
        }
        for (double e : x_ticks) {
            const double x = std::round(x_of(e));
            f.add(Figure::Line{x, bottom, x, bottom + 4, colors::black, 1.0});
            f.add(Figure::Text{x, bottom + 8, detail::tick_label(e, 0), colors::black, 1, Anchor::Middle});
        }
        f.add(Figure::Text{(left + right) / 2, bottom + 24, "epoch", colors::black, 1, Anchor::Middle});
        f.add(Figure::Line{left, top, right, top, colors::black, 1.0});
        f.add(Figure::Line{left, bottom, right, bottom, colors::black, 1.0});
        f.add(Figure::Line{left, top, left, bottom, colors::black, 1.0});
        f.add(Figure::Line{right, top, right, bottom, colors::black, 1.0});

        bool ends_high = false;
        for (const auto& s : sources) {
            Figure::Series series{name + " (" + s.label + ")", {}, s.colour};
            const auto& values = history.history.at(s.key);
            for (std::size_t i = 0; i < epochs; ++i)
                if (std::isfinite(values[i])) series.points.push_back({x_of(history.epoch[i] + 1), y_of(values[i])});
            if (!series.points.empty()) ends_high = ends_high || series.points.back()[1] < (top + bottom) / 2;
            f.add(std::move(series));
        }
        // The legend goes where the curves are not: the last epochs of a
        // loss are low, of an accuracy high.
        const double legend_w = 100, legend_h = 8 + 14 * double(sources.size());
        const double lx = right - legend_w - 8, ly = ends_high ? bottom - legend_h - 8 : top + 8;
        f.add(Figure::Rect{lx, ly, legend_w, legend_h, colors::light_grey});
        f.add(Figure::Rect{lx + 1, ly + 1, legend_w - 2, legend_h - 2, colors::white});
        for (std::size_t k = 0; k < sources.size(); ++k) {
            const double y = ly + 8 + 14 * double(k);
            f.add(Figure::Line{lx + 8, y, lx + 28, y, sources[k].colour, 2.0});
            f.add(Figure::Text{lx + 34, y - 3, sources[k].label, colors::black, 1, Anchor::Start});
        }
    }
    return f;
}

inline void plot_training_curves(const std::string& path, const History& history) {
    const std::string ext = lower_extension(path);
    if (ext != ".png" && ext != ".svg")
        throw ConfigError(ErrorId::config_argument, "plot_training_curves: '" + path + "' ends in '" + ext +
                                                        "'; the curves are written as .png or .svg");
    const Figure f = training_curves_figure(history);
    if (ext == ".png") write_png(path, rasterize(f));
    else write_svg(path, f);
}

}  // namespace lamina::plot
