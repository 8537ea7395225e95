// lamina/plot/plot_model.hpp: Keras's plot_model(model, to_file, show_shapes=True), as a Graphviz DOT file.
//
// Contract: plot_model(model, path, show_shapes = true) writes a DOT
// digraph named after the model: an "input" node with the sample shape,
// then one box per layer, "name (Type)" with, when show_shapes, its input
// and output shapes in Keras's "(None, ...)" notation and its parameter
// count, and an edge from each node to the next. `dot -Tpng model.dot -o
// model.png` draws it (lamina does not run Graphviz). Node ids are
// "input" and "layer_<i>", so names never need to be identifiers; names and
// labels are DOT-escaped (quotes, backslashes, line breaks). model_dot()
// returns the text. The model must be built: ConfigError(config_state).
#pragma once

#include <string>

#include "lamina/core/error.hpp"
#include "lamina/model/sequential.hpp"
#include "lamina/model/summary.hpp"
#include "lamina/plot/output.hpp"

namespace lamina::plot {

// A DOT double-quoted string's contents: `"` and `\` escaped, line breaks as "\n".
inline std::string dot_escape(const std::string& s) {
    std::string out;
    for (const char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\', out += ch;
        else if (ch == '\n') out += "\\n";
        else if (ch == '\r') continue;
        else out += ch;
    }
    return out;
}

template <class T, class Device>
std::string model_dot(const Sequential<T, Device>& model, bool show_shapes = true) {
    if (!model.built())
        throw ConfigError(ErrorId::config_state, "plot_model: the model '" + model.name() +
                                                     "' is not built yet; call build(Shape{...}) or fit() first");
    // Each label line is escaped on its own; "\n" between them is DOT's centred line break.
    std::string s = "digraph \"" + dot_escape(model.name()) + "\" {\n";
    s +=
        "  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f0f0f0\", fontname=\"Helvetica\"];\n";
    std::string label = "input";
    if (show_shapes) label += "\\n" + dot_escape(model.input_shape().keras_str());
    s += "  input [label=\"" + label + "\", fillcolor=\"#ffffff\"];\n";
    for (std::size_t i = 0; i < model.size(); ++i) {
        const auto& l = model.layer(i);
        label = dot_escape(l.name() + " (" + l.type() + ")");
        if (show_shapes)
            label += "\\ninput: " + dot_escape(l.input_shape().keras_str()) +
                     "\\noutput: " + dot_escape(l.output_shape().keras_str()) +
                     "\\nparams: " + with_thousands(l.count_params());
        s += "  layer_" + std::to_string(i) + " [label=\"" + label + "\"];\n";
    }
    for (std::size_t i = 0; i < model.size(); ++i)
        s += "  " + (i == 0 ? std::string("input") : "layer_" + std::to_string(i - 1)) + " -> layer_" +
             std::to_string(i) + ";\n";
    s += "}\n";
    return s;
}

template <class T, class Device>
void plot_model(const Sequential<T, Device>& model, const std::string& path, bool show_shapes = true) {
    write_file(path, model_dot(model, show_shapes));
}

}  // namespace lamina::plot
