// lamina/plot/confusion_matrix.hpp: counts of (true class, predicted class), as a table and a heatmap.
//
// Contract: confusion_matrix(labels, predicted, num_classes) returns
// (K, K) int64 counts, cm(t, p) = how many samples of true class t were
// predicted p, as tf.math.confusion_matrix; num_classes -1 means max label
// + 1. confusion_table(cm) is that matrix as aligned text, one row per true
// class with its total and recall, a row of column totals and precisions,
// and the accuracy. draw_confusion_matrix(cm) / plot_confusion_matrix(path,
// cm) is a PNG heatmap with the count in each cell: a cell's blue is the
// square root of its share of its row (the recall on the diagonal, the rate
// of that mistake elsewhere), so a good model has a dark diagonal whatever
// the class sizes, and a 1 % mistake still shows (as 0.1 of full blue);
// text is white on dark cells, black on light ones; confusion_layout() says
// where cells land. Each takes optional class names (sklearn's
// display_labels), shown instead of the class numbers; there must be K.
// Errors: ShapeError(shape_count) when the label counts differ, ShapeError
// for a cm that is not (K, K); ConfigError(config_label) for a label outside
// [0, K), naming it; ConfigError(config_argument) for num_classes < 1, a
// count of class names other than K, or, for the heatmap, above
// max_heatmap_classes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/plot/canvas.hpp"
#include "lamina/plot/labels.hpp"
#include "lamina/plot/png.hpp"

namespace lamina::plot {

template <class L, class P>
Tensor<std::int64_t> confusion_matrix(const Tensor<L>& labels, const Tensor<P>& predicted, Index num_classes = -1) {
    const std::string who = "confusion_matrix";
    const std::vector<Index> truth = detail::class_ids(who, "labels", labels);
    const std::vector<Index> guess = detail::class_ids(who, "predicted", predicted);
    if (truth.size() != guess.size())
        throw ShapeError(ErrorId::shape_count, who + ": " + std::to_string(truth.size()) + " labels but " +
                                                   std::to_string(guess.size()) + " predicted labels");
    if (num_classes == -1) {
        if (truth.empty())
            throw ConfigError(ErrorId::config_argument,
                              who + ": cannot infer num_classes from no labels; pass num_classes");
        num_classes =
            1 + std::max(*std::max_element(truth.begin(), truth.end()), *std::max_element(guess.begin(), guess.end()));
    }
    // 2^15 classes already make a 8 GiB matrix: far past any real use, and keeps K * K inside Index.
    if (num_classes < 1 || num_classes > (1 << 15))
        throw ConfigError(
            ErrorId::config_argument,
            who + ": num_classes must be in [1, 32768] (or -1 to infer it), got " + std::to_string(num_classes));
    Tensor<std::int64_t> cm(Shape{num_classes, num_classes}, 0);
    auto check = [&](const char* what, const std::vector<Index>& ids, std::size_t i) {
        if (ids[i] >= num_classes)
            throw ConfigError(ErrorId::config_label, who + ": " + what + "[" + std::to_string(i) +
                                                         "] = " + std::to_string(ids[i]) + " is outside [0, " +
                                                         std::to_string(num_classes) + ")");
    };
    for (std::size_t i = 0; i < truth.size(); ++i) {
        check("labels", truth, i);
        check("predicted", guess, i);
        ++cm(truth[i], guess[i]);
    }
    return cm;
}

namespace detail {

inline Index checked_classes(const std::string& who, const Tensor<std::int64_t>& cm) {
    const Shape& s = cm.shape();
    if (s.rank() != 2 || s[0] != s[1] || s[0] < 1)
        throw ShapeError(ErrorId::shape_rank, who + ": a confusion matrix is (K, K) with K >= 1, got shape " + s.str());
    for (Index i = 0; i < cm.size(); ++i)
        if (cm[i] < 0)
            throw ConfigError(ErrorId::config_argument,
                              who + ": count " + std::to_string(i) + " is negative (" + std::to_string(cm[i]) + ")");
    return s[0];
}

inline std::string percent(Index part, Index whole) {
    if (whole == 0) return "-";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * double(part) / double(whole));
    return buf;
}

inline std::string pad_left(const std::string& s, std::size_t width) {
    return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// The label of each class: its name when names are given, else its number.
inline std::vector<std::string> class_labels(const std::string& who, Index classes,
                                             const std::vector<std::string>& names) {
    if (!names.empty() && Index(names.size()) != classes)
        throw ConfigError(ErrorId::config_argument, who + ": " + std::to_string(names.size()) +
                                                        " class names for a confusion matrix of " +
                                                        std::to_string(classes) + " classes");
    if (!names.empty()) return names;
    std::vector<std::string> labels;
    for (Index k = 0; k < classes; ++k) labels.push_back(std::to_string(k));
    return labels;
}

inline std::size_t widest(const std::vector<std::string>& labels) {
    std::size_t w = 0;
    for (const auto& l : labels) w = std::max(w, l.size());
    return w;
}

}  // namespace detail

inline std::string confusion_table(const Tensor<std::int64_t>& cm, const std::vector<std::string>& class_names = {}) {
    const Index k = detail::checked_classes("confusion_table", cm);
    const std::vector<std::string> labels = detail::class_labels("confusion_table", k, class_names);
    std::vector<Index> row_total(std::size_t(k), 0), col_total(std::size_t(k), 0);
    Index total = 0, correct = 0;
    for (Index t = 0; t < k; ++t)
        for (Index p = 0; p < k; ++p) {
            row_total[std::size_t(t)] += cm(t, p);
            col_total[std::size_t(p)] += cm(t, p);
            total += cm(t, p);
            if (t == p) correct += cm(t, p);
        }
    // "100.00%" is the widest percentage; counts never exceed the total.
    const std::size_t w = std::max({std::to_string(total).size(), std::size_t(7), detail::widest(labels)}) + 1;
    const std::size_t head = std::max<std::size_t>(9, detail::widest(labels)) + 1;
    std::string s = "confusion matrix: rows are true classes, columns predicted classes\n";
    s += detail::pad_left("true\\pred", head);
    for (Index p = 0; p < k; ++p) s += detail::pad_left(labels[std::size_t(p)], w);
    s += " |" + detail::pad_left("total", w) + detail::pad_left("recall", w) + "\n";
    for (Index t = 0; t < k; ++t) {
        s += detail::pad_left(labels[std::size_t(t)], head);
        for (Index p = 0; p < k; ++p) s += detail::pad_left(std::to_string(cm(t, p)), w);
        s += " |" + detail::pad_left(std::to_string(row_total[std::size_t(t)]), w) +
             detail::pad_left(detail::percent(cm(t, t), row_total[std::size_t(t)]), w) + "\n";
    }
    s += std::string(head + w * std::size_t(k), '-') + "-+" + std::string(2 * w, '-') + "\n";
    s += detail::pad_left("total", head);
    for (Index p = 0; p < k; ++p) s += detail::pad_left(std::to_string(col_total[std::size_t(p)]), w);
    s += " |" + detail::pad_left(std::to_string(total), w) + "\n";
    s += detail::pad_left("precision", head);
    for (Index p = 0; p < k; ++p) s += detail::pad_left(detail::percent(cm(p, p), col_total[std::size_t(p)]), w);
    s += "\naccuracy " + detail::percent(correct, total) + " (" + std::to_string(correct) + " of " +
         std::to_string(total) + ")\n";
    return s;
}

// More would make cells too small for their counts.
inline constexpr Index max_heatmap_classes = 100;

struct ConfusionLayout {
    static constexpr int margin = 10;
    int classes = 0, cell = 0;
    int left = 0, top = 0;  // top-left corner of cell (0, 0)
    int width = 0, height = 0;
    int cell_x(Index predicted) const { return left + int(predicted) * cell; }
    int cell_y(Index truth) const { return top + int(truth) * cell; }
};

inline ConfusionLayout confusion_layout(Index classes, Index largest_count,
                                        const std::vector<std::string>& class_names = {}) {
    ConfusionLayout g;
    g.classes = int(classes);
    const std::vector<std::string> labels = detail::class_labels("confusion_layout", classes, class_names);
    int label_w = 0;
    for (const auto& l : labels) label_w = std::max(label_w, text_width(l));
    const int digits = int(std::to_string(largest_count).size());
    // Column labels sit above their cells, so a cell is as wide as its label.
    g.cell = std::max({32, text_width(std::string(std::size_t(digits), '0')) + 8, label_w + 6});
    g.left = ConfusionLayout::margin + Font::line_height + 6 + label_w + 6;
    // Title and subtitle, a gap, then "predicted" and the column labels.
    g.top = ConfusionLayout::margin + 2 * Font::line_height + 6 + 2 * Font::line_height + 6;
    g.width = g.left + g.classes * g.cell + 6 + text_width("100.00%") + ConfusionLayout::margin;
    g.height = g.top + g.classes * g.cell + 6 + Font::line_height + ConfusionLayout::margin;
    return g;
}

inline Canvas draw_confusion_matrix(const Tensor<std::int64_t>& cm, const std::vector<std::string>& class_names = {}) {
    const Index k = detail::checked_classes("plot_confusion_matrix", cm);
    const std::vector<std::string> labels = detail::class_labels("plot_confusion_matrix", k, class_names);
    if (k > max_heatmap_classes)
        throw ConfigError(ErrorId::config_argument,
                          "plot_confusion_matrix: " + std::to_string(k) + " classes are more than the " +
                              std::to_string(max_heatmap_classes) + " a heatmap shows legibly; use confusion_table()");
    Index largest = 0, total = 0, correct = 0;
    for (Index t = 0; t < k; ++t)
        for (Index p = 0; p < k; ++p) {
            largest = std::max(largest, cm(t, p));
            total += cm(t, p);
            if (t == p) correct += cm(t, p);
        }
    const ConfusionLayout g = confusion_layout(k, largest, class_names);
    const int m = ConfusionLayout::margin;
    const std::string title =
        "confusion matrix, " + std::to_string(total) + " samples, accuracy " + detail::percent(correct, total);
    const std::string subtitle = "colour: sqrt of the share of the true class's row";
    Canvas c(std::max({g.width, 2 * m + text_width(title), 2 * m + text_width(subtitle)}), g.height);
    c.text(m, m, title, colors::black);
    c.text(m, m + Font::line_height, subtitle, colors::grey);
    const int grid_w = int(k) * g.cell;
    c.text(g.left + (grid_w - text_width("predicted")) / 2, g.top - 2 * Font::line_height - 4, "predicted",
           colors::black);
    // "true" runs down the left edge one letter per line: the font has no rotation.
    const int grid_h = int(k) * g.cell;
    for (int i = 0; i < 4; ++i)
        c.text(m, g.top + grid_h / 2 - 2 * Font::line_height + i * Font::line_height, std::string(1, "true"[i]),
               colors::black);
    for (Index t = 0; t < k; ++t) {
        Index row = 0;
        for (Index p = 0; p < k; ++p) row += cm(t, p);
        const std::string& label = labels[std::size_t(t)];
        c.text(g.left - 6 - text_width(label), g.cell_y(t) + (g.cell - Font::glyph_height) / 2, label, colors::black);
        c.text(g.cell_x(t) + (g.cell - text_width(label)) / 2, g.top - Font::line_height - 2, label, colors::black);
        for (Index p = 0; p < k; ++p) {
            const double share = row > 0 ? double(cm(t, p)) / double(row) : 0.0;
            const Rgb fill = blues(std::sqrt(share));
            c.fill_rect(g.cell_x(p), g.cell_y(t), g.cell, g.cell, fill);
            const std::string count = std::to_string(cm(t, p));
            const bool dark = 0.299 * fill.r + 0.587 * fill.g + 0.114 * fill.b < 128;
            c.text(g.cell_x(p) + (g.cell - text_width(count)) / 2, g.cell_y(t) + (g.cell - Font::glyph_height) / 2,
                   count, dark ? colors::white : colors::black);
        }
        const std::string recall = detail::percent(cm(t, t), row);
        c.text(g.left + grid_w + 6, g.cell_y(t) + (g.cell - Font::glyph_height) / 2, recall, colors::black);
    }
    c.text(g.left + grid_w + 6, g.top - Font::line_height - 2, "recall", colors::black);
    for (int i = 0; i <= int(k); ++i) {
        c.fill_rect(g.left + i * g.cell, g.top, 1, grid_h + 1, colors::light_grey);
        c.fill_rect(g.left, g.top + i * g.cell, grid_w + 1, 1, colors::light_grey);
    }
    return c;
}

inline void plot_confusion_matrix(const std::string& path, const Tensor<std::int64_t>& cm,
                                  const std::vector<std::string>& class_names = {}) {
    write_png(path, draw_confusion_matrix(cm, class_names));
}

}  // namespace lamina::plot
