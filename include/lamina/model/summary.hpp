// lamina/model/summary.hpp: Keras's model.summary() table.
//
// Contract: one row per layer "name (Type)", its output shape in Keras's
// "(None, ...)" notation (NCHW order for images), and its parameter count;
// then total / trainable / non-trainable counts with thousands separators.
// Text too long for its column wraps onto the next line, as in Keras.
#pragma once

#include <algorithm>
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

// One table row the way Keras's print_row lays it out: columns end at 29, 55
// and 65; text that does not fit its column (less two spaces) continues on
// the next line, so "max_pooling2d (MaxPooling2D)" prints its ")" below.
inline std::string summary_row(std::vector<std::string> fields) {
    static constexpr std::size_t positions[] = {29, 55, 65};
    std::string out;
    auto pending = [&] {
        for (const auto& f : fields)
            if (!f.empty()) return true;
        return false;
    };
    do {
        std::string line;
        for (std::size_t col = 0; col < fields.size(); ++col) {
            const std::size_t start = col ? positions[col - 1] : 0, space = col + 1 < fields.size() ? 2 : 0;
            const std::size_t cutoff = positions[col] - start - space;
            if (col == 0) line += " ";
            line += fields[col].substr(0, cutoff) + std::string(space, ' ');
            fields[col].erase(0, std::min(cutoff, fields[col].size()));
            if (line.size() < positions[col]) line.append(positions[col] - line.size(), ' ');
        }
        out += line + "\n";
    } while (pending());
    return out;
}

inline std::string summary_table(const std::string& model_name, const std::vector<SummaryRow>& rows) {
    const std::string rule(65, '_'), double_rule(65, '=');
    std::string s = "Model: \"" + model_name + "\"\n" + rule + "\n";
    s += summary_row({"Layer (type)", "Output Shape", "Param #"}) + double_rule + "\n";
    Index total = 0, trainable = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        s += summary_row({r.name + " (" + r.type + ")", r.output_shape, std::to_string(r.params)});
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
