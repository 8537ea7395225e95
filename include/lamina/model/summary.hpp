// lamina/model/summary.hpp: Keras's model.summary() table.
//
// Contract: one row per layer "name (Type)", its output shape in Keras's
// "(None, ...)" notation (NCHW order for images), and its parameter count;
// then total / trainable / non-trainable counts with thousands separators.
#pragma once

#include <string>
#include <vector>

#include "lamina/core/shape.hpp"

namespace lamina {

struct SummaryRow {
    std::string name, type, output_shape;
    Index params = 0;
    Index trainable = 0;
};

inline std::string with_thousands(Index n) {
    std::string s = std::to_string(n);
    for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(std::size_t(i), ",");
    return s;
}

inline std::string summary_table(const std::string& model_name, const std::vector<SummaryRow>& rows) {
    auto cell = [](std::string text, std::size_t width) {
        if (text.size() + 1 > width) return text + " ";  // never truncate: names must stay readable
        return text + std::string(width - text.size(), ' ');
    };
    const std::string rule(65, '_'), double_rule(65, '=');
    std::string s = "Model: \"" + model_name + "\"\n" + rule + "\n";
    s += " " + cell("Layer (type)", 28) + cell("Output Shape", 26) + cell("Param #", 10) + "\n" + double_rule + "\n";
    Index total = 0, trainable = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        s += " " + cell(r.name + " (" + r.type + ")", 28) + cell(r.output_shape, 26) + cell(std::to_string(r.params), 10) + "\n";
        if (i + 1 < rows.size()) s += "\n";
        total += r.params;
        trainable += r.trainable;
    }
    s += double_rule + "\n";
    s += "Total params: " + with_thousands(total) + "\n";
    s += "Trainable params: " + with_thousands(trainable) + "\n";
    s += "Non-trainable params: " + with_thousands(total - trainable) + "\n" + rule + "\n";
    return s;
}

}  // namespace lamina
