// lamina/onnx/import.hpp: an ONNX model file as a built Sequential.
//
// Contract: lamina::onnx::load<T>(path), load_from_memory<T>(data, size,
// source) and from_model_proto<T>(proto, source) return a built
// Sequential<T> (float or double) holding the graph's weights, whose
// predict() computes what the graph computes. The graph must be a chain: one
// float32 input (N, <sample>) with a sample of rank 1 to 3 and known sizes
// (the batch N may be symbolic), each operator reading the previous one's
// output plus constants (initializers, Constant nodes, shapes worked out from
// Shape/Gather/Unsqueeze/Concat), one output. Default-domain opsets 7 to 21.
//   Gemm, MatMul (+ Add of a bias)   Dense (kernel (in, units); transB and alpha/beta applied)
//   Conv                             Conv2D (group 1, dilation 1, pads that are "valid" or "same")
//   MaxPool, AveragePool             MaxPooling2D, AveragePooling2D (likewise; ceil_mode 0; the
//                                    average excludes padding, as lamina's does)
//   GlobalAveragePool + Flatten      GlobalAveragePooling2D ((N, C), as Keras)
//   Flatten (axis 1), Reshape (N, -1) Flatten
//   Relu, Sigmoid, Tanh, Softmax     Activation / Softmax (softmax over the last axis of (N, D))
//   BatchNormalization (inference)   BatchNormalization (moving statistics, epsilon, momentum)
//   Dropout, Identity                Dropout (inference: nothing), Activation("linear")
// Names come from the nodes, without a trailing "/<operator>": the nodes
// "dense/Gemm" and "dense/Relu" (export.hpp's form of Dense(.., "relu"))
// become one Dense named "dense" with that activation; an activation node of
// another name becomes an Activation layer of its own.
// Errors: the file cannot be read (IoError io_open / io_read); more than
// 2 GiB (FormatError format_size); not an ONNX model, or inconsistent
// (tensor data shorter or longer than its dims say, a name no node produces:
// FormatError format_header); anything lamina has no exact equivalent for
// (FormatError format_unsupported, naming the node, its operator and what is
// unsupported). Every size is checked against the data that holds it before
// anything is allocated.
#pragma once

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lamina/core/activation_kind.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/window.hpp"
#include "lamina/io/atomic_file.hpp"
#include "lamina/layers/layer_factory.hpp"
#include "lamina/model/sequential.hpp"
#include "lamina/onnx/proto.hpp"

namespace lamina::onnx {

inline constexpr std::int64_t min_import_opset = 7;
inline constexpr std::int64_t max_import_opset = 21;
// protobuf parses messages of at most 2 GiB; larger models keep their
// weights in external data files, which import does not read.
inline constexpr std::size_t max_import_bytes = std::size_t(INT_MAX);

namespace detail {

// One element of a shape worked out from the graph: a number, or the batch
// size (which predict() decides).
struct Dim {
    std::int64_t value = 0;
    bool batch = false;
    bool operator==(const Dim& o) const { return batch == o.batch && (batch || value == o.value); }
};
struct ShapeValue {
    std::vector<Dim> dims;
    bool scalar = false;  // a 0-d tensor (Gather with a scalar index)
};

// What one lamina layer will be: its spec, its name, its weights in params() order.
using LayerSpec = std::variant<Dense, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten,
                               Activation, BatchNormalization, Dropout>;
struct PendingLayer {
    LayerSpec spec;
    std::string name;
    std::vector<Tensor<float>> weights;
    std::string output;         // the ONNX tensor it writes
    bool bias_pending = false;  // a MatMul's Dense, which an Add may give a bias
    bool fused = false;         // an activation has been folded in
};

inline const char* type_name(int t) {
    switch (t) {
        case ::onnx::TensorProto::FLOAT: return "float32";
        case ::onnx::TensorProto::UINT8: return "uint8";
        case ::onnx::TensorProto::INT8: return "int8";
        case ::onnx::TensorProto::UINT16: return "uint16";
        case ::onnx::TensorProto::INT16: return "int16";
        case ::onnx::TensorProto::INT32: return "int32";
        case ::onnx::TensorProto::INT64: return "int64";
        case ::onnx::TensorProto::STRING: return "string";
        case ::onnx::TensorProto::BOOL: return "bool";
        case ::onnx::TensorProto::FLOAT16: return "float16";
        case ::onnx::TensorProto::DOUBLE: return "float64";
        case ::onnx::TensorProto::UINT32: return "uint32";
        case ::onnx::TensorProto::UINT64: return "uint64";
        case ::onnx::TensorProto::BFLOAT16: return "bfloat16";
        default: return "an unknown data type";
    }
}

// The double a float attribute was written from: its shortest decimal form
// (export's 0.001 comes back as 0.001, not 0.0010000000474974513).
inline double shortest_double(float f) {
    char text[32];
    for (int digits = 1; digits <= 9; ++digits) {
        std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(f));
        if (std::strtof(text, nullptr) == f) break;
    }
    return std::strtod(text, nullptr);
}

inline std::string join(const std::vector<std::int64_t>& v) {
    std::string s = "(";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + (v.size() == 1 ? ",)" : ")");
}

class Importer {
public:
    Importer(const ::onnx::ModelProto& model, std::string source) : model_(model), source_(std::move(source)) {}

    template <class T>
    Sequential<T> run() {
        check_model();
        const ::onnx::GraphProto& g = model_.graph();
        for (const auto& t : g.initializer()) {
            if (t.name().empty()) malformed("an initializer has no name");
            if (!constants_.emplace(t.name(), &t).second) malformed("two initializers are named '" + t.name() + "'");
        }
        for (const auto& n : g.node())
            for (const auto& in : n.input())
                if (!in.empty() && n.op_type() != "Shape") ++data_consumers_[in];
        read_input();
        for (const auto& n : g.node()) node(n);
        finish();

        Sequential<T> model(g.name().empty() ? "sequential" : g.name());
        std::set<std::string> names;
        for (auto& p : layers_) {
            LayerPtr<T, Cpu> layer = std::visit([](const auto& s) { return s.template make<T, Cpu>(); }, p.spec);
            // A name two nodes would give (or none) is left to Sequential's own naming.
            if (!p.name.empty() && names.insert(p.name).second) layer->set_name(p.name);
            model.add(std::move(layer));
        }
        model.build(input_sample_);
        std::vector<Tensor<T>> weights;
        for (const auto& p : layers_)
            for (const auto& w : p.weights) weights.push_back(w.template cast<T>());
        model.set_weights(weights);
        return model;
    }

private:
    // ---- errors
    [[noreturn]] void malformed(const std::string& what) const {
        throw FormatError(ErrorId::format_header, "onnx::load: " + source_ + ": " + what);
    }
    [[noreturn]] void unsupported(const std::string& what) const {
        throw FormatError(ErrorId::format_unsupported, "onnx::load: " + source_ + ": " + what);
    }
    static std::string node_who(const ::onnx::NodeProto& n) { return "node '" + n.name() + "' (" + n.op_type() + ")"; }
    [[noreturn]] void refuse(const ::onnx::NodeProto& n, const std::string& what) const {
        unsupported(node_who(n) + ": " + what);
    }

    // ---- the model as a whole
    void check_model() {
        if (!model_.has_graph()) malformed("the model has no graph (not an ONNX model file?)");
        if (model_.ir_version() < 3)
            unsupported("IR version " + std::to_string(model_.ir_version()) + "; lamina reads IR version 3 and later");
        bool found = false;
        for (const auto& o : model_.opset_import()) {
            if (!o.domain().empty() && o.domain() != "ai.onnx") continue;  // a node using it is refused
            found = true;
            opset_ = o.version();
        }
        if (!found) unsupported("the model imports no default-domain (ai.onnx) opset");
        if (opset_ < min_import_opset || opset_ > max_import_opset)
            unsupported("opset " + std::to_string(opset_) + " of the default domain; lamina reads opsets " +
                        std::to_string(min_import_opset) + " to " + std::to_string(max_import_opset));
        const auto& g = model_.graph();
        if (g.output_size() != 1)
            unsupported("the graph has " + std::to_string(g.output_size()) +
                        " outputs; a Sequential has one (a chain of operators)");
        if (g.sparse_initializer_size() > 0) unsupported("sparse initializers");
    }

    void read_input() {
        const auto& g = model_.graph();
        const ::onnx::ValueInfoProto* input = nullptr;
        for (const auto& v : g.input()) {
            if (constants_.count(v.name())) continue;  // an initializer listed as an input (IR < 4): a constant
            if (input)
                unsupported("the graph has more than one input ('" + input->name() + "', '" + v.name() +
                            "'); a Sequential has one, and its weights are initializers");
            input = &v;
        }
        if (!input) unsupported("the graph has no input other than initializers");
        const std::string who = "the graph's input '" + input->name() + "'";
        if (!input->type().has_tensor_type()) unsupported(who + " is not a tensor");
        const auto& tt = input->type().tensor_type();
        if (tt.elem_type() != ::onnx::TensorProto::FLOAT)
            unsupported(who + " is " + type_name(tt.elem_type()) + "; lamina reads float32");
        if (!tt.has_shape()) unsupported(who + " has no shape; lamina needs (N, <sample sizes>)");
        const int rank = tt.shape().dim_size();
        if (rank < 2 || rank > 4)
            unsupported(who + " has rank " + std::to_string(rank) +
                        "; lamina reads (N, features), (N, C, L) or (N, C, H, W)");
        const auto& d0 = tt.shape().dim(0);
        if (d0.has_dim_value()) fixed_batch_ = d0.dim_value();
        std::vector<std::int64_t> sample;
        for (int i = 1; i < rank; ++i) {
            const auto& d = tt.shape().dim(i);
            if (!d.has_dim_value() || d.dim_value() < 1)
                unsupported(who + ": dimension " + std::to_string(i) +
                            " has no fixed size of at least 1; only the batch (the first) may be symbolic");
            sample.push_back(d.dim_value());
        }
        x_ = input->name();
        onnx_sample_ = sample;
        input_sample_ = to_shape(sample, who);
        chain_.insert(x_);
        chain_shapes_[x_] = sample;
    }

    // A sample's sizes as a Shape, refused beyond 2^40 elements (Shape's own bound) before use.
    Shape to_shape(const std::vector<std::int64_t>& dims, const std::string& who) const {
        if (dims.size() > 3)
            unsupported(who + ": a sample of rank " + std::to_string(dims.size()) + "; lamina's is 1 to 3");
        std::int64_t n = 1;
        for (const auto d : dims) {
            if (d < 1 || d > (std::int64_t(1) << 40) / n)
                unsupported(who + ": a sample of shape " + join(dims) + "; lamina's samples hold 1 to 2^40 elements");
            n *= d;
        }
        Shape s;
        if (dims.size() == 1) s = Shape{dims[0]};
        if (dims.size() == 2) s = Shape{dims[0], dims[1]};
        if (dims.size() == 3) s = Shape{dims[0], dims[1], dims[2]};
        return s;
    }

    void finish() {
        const auto& out = model_.graph().output(0);
        if (out.name() != x_) {
            if (constants_.count(out.name()) || shape_values_.count(out.name()))
                unsupported("the graph's output '" + out.name() + "' is a constant; lamina computes it from the input");
            if (!chain_.count(out.name())) malformed("the graph's output '" + out.name() + "' is made by no node");
            unsupported("the graph's output '" + out.name() + "' is not the last operator's ('" + x_ +
                        "'): the graph is not a chain");
        }
        if (gap_unflattened_)
            unsupported(
                "the graph ends with GlobalAveragePool's (N, C, 1, 1); lamina's GlobalAveragePooling2D "
                "returns (N, C): add a Flatten after it");
        if (out.type().has_tensor_type() && out.type().tensor_type().elem_type() != ::onnx::TensorProto::FLOAT)
            unsupported("the graph's output '" + out.name() + "' is " +
                        type_name(out.type().tensor_type().elem_type()) + "; lamina computes float32");
        if (layers_.empty()) layers_.push_back({Activation(ActivationKind::Linear), "", {}, x_});
    }

    // ---- attributes
    struct Attributes {
        const ::onnx::NodeProto& n;
        const Importer& im;
        std::set<std::string> known;

        const ::onnx::AttributeProto* find(const std::string& name) {
            known.insert(name);
            for (const auto& a : n.attribute())
                if (a.name() == name) return &a;
            return nullptr;
        }
        std::int64_t i(const std::string& name, std::int64_t fallback) {
            const auto* a = find(name);
            if (!a) return fallback;
            if (a->type() != ::onnx::AttributeProto::INT) im.refuse(n, "attribute " + name + " is not an int");
            return a->i();
        }
        float f(const std::string& name, float fallback) {
            const auto* a = find(name);
            if (!a) return fallback;
            if (a->type() != ::onnx::AttributeProto::FLOAT) im.refuse(n, "attribute " + name + " is not a float");
            return a->f();
        }
        std::string s(const std::string& name, const std::string& fallback) {
            const auto* a = find(name);
            if (!a) return fallback;
            if (a->type() != ::onnx::AttributeProto::STRING) im.refuse(n, "attribute " + name + " is not a string");
            return a->s();
        }
        std::vector<std::int64_t> ints(const std::string& name, std::vector<std::int64_t> fallback) {
            const auto* a = find(name);
            if (!a) return fallback;
            if (a->type() != ::onnx::AttributeProto::INTS) im.refuse(n, "attribute " + name + " is not a list of ints");
            return {a->ints().begin(), a->ints().end()};
        }
        // After reading every attribute the operator has: any other is one lamina does not know.
        void done() const {
            for (const auto& a : n.attribute())
                if (!known.count(a.name())) im.refuse(n, "attribute '" + a.name() + "' is not supported");
        }
    };

    // ---- constants
    const ::onnx::TensorProto* constant(const std::string& name) const {
        const auto it = constants_.find(name);
        return it == constants_.end() ? nullptr : it->second;
    }

    // The element count of `t`'s dims, refused beyond `limit` without overflowing.
    std::int64_t element_count(const ::onnx::TensorProto& t, const std::string& who, std::int64_t limit) const {
        std::int64_t n = 1;
        for (const auto d : t.dims()) {
            if (d < 0) malformed(who + ": a negative dimension " + std::to_string(d));
            if (d != 0 && n > limit / d)
                malformed(who + ": dims " + join({t.dims().begin(), t.dims().end()}) + " claim more than " +
                          std::to_string(limit) + " elements");
            n *= d;
        }
        return n;
    }
    void check_storage(const ::onnx::TensorProto& t, const std::string& who) const {
        if (t.data_location() == ::onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
            unsupported(who + ": its data is in an external file, which lamina does not read");
        if (t.has_segment()) unsupported(who + ": a segmented tensor");
    }

    // A float32 constant's values, its dims checked against the data before allocating.
    Tensor<float> floats(const ::onnx::TensorProto& t, const std::string& who) const {
        check_storage(t, who);
        if (t.data_type() != ::onnx::TensorProto::FLOAT)
            unsupported(who + " is " + type_name(t.data_type()) + "; lamina reads float32 weights");
        const std::int64_t n = element_count(t, who, std::int64_t(1) << 40);
        std::vector<std::int64_t> dims(t.dims().begin(), t.dims().end());
        if (t.has_raw_data()) {
            if (t.raw_data().size() != std::uint64_t(n) * 4)
                malformed(who + ": dims " + join(dims) + " need " + std::to_string(n * 4) +
                          " bytes of raw_data, it has " + std::to_string(t.raw_data().size()));
        } else if (t.float_data_size() != n) {
            malformed(who + ": dims " + join(dims) + " need " + std::to_string(n) + " values, float_data has " +
                      std::to_string(t.float_data_size()));
        }
        Tensor<float> out(Shape{n});
        if (t.has_raw_data()) {
            const auto* bytes = reinterpret_cast<const unsigned char*>(t.raw_data().data());
            for (std::int64_t i = 0; i < n; ++i) {  // little-endian, whatever the host's order
                const std::uint32_t u = std::uint32_t(bytes[4 * i]) | std::uint32_t(bytes[4 * i + 1]) << 8 |
                                        std::uint32_t(bytes[4 * i + 2]) << 16 | std::uint32_t(bytes[4 * i + 3]) << 24;
                std::memcpy(out.data() + i, &u, 4);
            }
        } else {
            std::copy(t.float_data().begin(), t.float_data().end(), out.data());
        }
        return out;
    }
    std::vector<std::int64_t> dims_of(const ::onnx::TensorProto& t) const { return {t.dims().begin(), t.dims().end()}; }

    // A small integer constant (shapes, indices, axes).
    std::vector<std::int64_t> integers(const ::onnx::TensorProto& t, const std::string& who) const {
        check_storage(t, who);
        const std::int64_t n = element_count(t, who, 64);
        const int type = t.data_type();
        if (type != ::onnx::TensorProto::INT64 && type != ::onnx::TensorProto::INT32)
            unsupported(who + " is " + type_name(type) + "; shapes and indices here are int64 or int32");
        const std::size_t width = type == ::onnx::TensorProto::INT64 ? 8 : 4;
        std::vector<std::int64_t> v;
        if (t.has_raw_data()) {
            if (t.raw_data().size() != std::size_t(n) * width)
                malformed(who + ": " + std::to_string(n) + " elements need " + std::to_string(n * std::int64_t(width)) +
                          " bytes of raw_data, it has " + std::to_string(t.raw_data().size()));
            const auto* b = reinterpret_cast<const unsigned char*>(t.raw_data().data());
            for (std::int64_t i = 0; i < n; ++i) {
                std::uint64_t u = 0;
                for (std::size_t k = 0; k < width; ++k) u |= std::uint64_t(b[std::size_t(i) * width + k]) << (8 * k);
                if (width == 4) u = std::uint64_t(std::int64_t(std::int32_t(std::uint32_t(u))));
                v.push_back(std::int64_t(u));
            }
        } else if (type == ::onnx::TensorProto::INT64) {
            if (t.int64_data_size() != n)
                malformed(who + ": " + std::to_string(n) + " elements, int64_data has " +
                          std::to_string(t.int64_data_size()));
            v.assign(t.int64_data().begin(), t.int64_data().end());
        } else {
            if (t.int32_data_size() != n)
                malformed(who + ": " + std::to_string(n) + " elements, int32_data has " +
                          std::to_string(t.int32_data_size()));
            v.assign(t.int32_data().begin(), t.int32_data().end());
        }
        return v;
    }

    // A shape-like input: a Shape-derived value, or an integer constant.
    ShapeValue shape_value(const ::onnx::NodeProto& n, const std::string& name) const {
        const auto it = shape_values_.find(name);
        if (it != shape_values_.end()) return it->second;
        const auto* t = constant(name);
        if (!t) {
            if (chain_.count(name))
                refuse(n, "input '" + name + "' is computed from the graph's input; lamina needs a constant here");
            malformed(node_who(n) + " reads '" + name + "', which no earlier node, initializer or input makes");
        }
        ShapeValue v;
        v.scalar = t->dims_size() == 0;
        if (t->dims_size() > 1)
            refuse(n, "input '" + name + "' has rank " + std::to_string(t->dims_size()) + "; a shape is 1-d");
        for (const auto e : integers(*t, "'" + name + "' (read by " + node_who(n) + ")")) v.dims.push_back({e, false});
        return v;
    }

    // ---- the walk
    void node(const ::onnx::NodeProto& n) {
        if (!n.domain().empty() && n.domain() != "ai.onnx")
            refuse(n, "operator domain '" + n.domain() + "'; lamina reads the default domain");
        if (n.output_size() < 1 || n.output(0).empty()) malformed(node_who(n) + " has no output");
        const std::string& op = n.op_type();
        if (op == "Constant") return constant_node(n);
        // PyTorch passes some weights through Identity: the same constant under another name.
        if (op == "Identity" && n.input_size() == 1 && constant(n.input(0))) {
            Attributes a{n, *this, {}};
            a.done();
            constants_[n.output(0)] = constant(n.input(0));
            return;
        }
        if (op == "Shape" || op == "Gather" || op == "Unsqueeze" || op == "Concat") {
            bool reads_chain = false;
            for (const auto& in : n.input()) reads_chain = reads_chain || chain_.count(in);
            if (op == "Shape" || !reads_chain) return shape_node(n);
        }
        data_node(n);
    }

    void constant_node(const ::onnx::NodeProto& n) {
        Attributes a{n, *this, {}};
        const std::string& out = n.output(0);
        if (const auto* v = a.find("value")) {
            if (v->type() != ::onnx::AttributeProto::TENSOR) refuse(n, "attribute value is not a tensor");
            constants_[out] = &v->t();
        } else if (const auto* vi = a.find("value_ints")) {
            ShapeValue s;
            for (const auto e : vi->ints()) s.dims.push_back({e, false});
            shape_values_[out] = s;
        } else if (const auto* v1 = a.find("value_int")) {
            shape_values_[out] = ShapeValue{{{v1->i(), false}}, true};
        } else if (const auto* vf = a.find("value_float")) {
            owned_.emplace_back();
            owned_.back().set_data_type(::onnx::TensorProto::FLOAT);
            owned_.back().add_float_data(vf->f());
            constants_[out] = &owned_.back();
        } else if (const auto* vfs = a.find("value_floats")) {
            owned_.emplace_back();
            owned_.back().set_data_type(::onnx::TensorProto::FLOAT);
            owned_.back().add_dims(vfs->floats_size());
            *owned_.back().mutable_float_data() = vfs->floats();
            constants_[out] = &owned_.back();
        } else {
            refuse(n, "a constant other than a tensor, ints or floats (sparse, strings)");
        }
        a.done();
    }

    void shape_node(const ::onnx::NodeProto& n) {
        const std::string& op = n.op_type();
        Attributes a{n, *this, {}};
        ShapeValue out;
        if (n.input_size() < 1) malformed(node_who(n) + " has no input");
        if (op == "Shape") {
            const auto it = chain_shapes_.find(n.input(0));
            if (it == chain_shapes_.end()) {
                if (constant(n.input(0))) refuse(n, "the shape of a constant");
                malformed(node_who(n) + " reads '" + n.input(0) +
                          "', which no earlier node, initializer or input makes");
            }
            std::vector<Dim> dims{{fixed_batch_, true}};
            for (const auto d : it->second) dims.push_back({d, false});
            const auto rank = std::int64_t(dims.size());
            auto clamp = [&](std::int64_t i) {
                return std::min(std::max(i < 0 ? i + rank : i, std::int64_t(0)), rank);
            };
            const std::int64_t start = clamp(a.i("start", 0)), end = clamp(a.i("end", rank));
            for (std::int64_t i = start; i < end; ++i) out.dims.push_back(dims[std::size_t(i)]);
        } else if (op == "Gather") {
            if (n.input_size() != 2) malformed(node_who(n) + " needs 2 inputs");
            if (a.i("axis", 0) != 0) refuse(n, "axis other than 0 on a shape");
            const ShapeValue data = shape_value(n, n.input(0));
            const ShapeValue index = shape_value(n, n.input(1));
            if (data.scalar) refuse(n, "gathering from a scalar");
            out.scalar = index.scalar;
            for (const auto& i : index.dims) {
                const auto size = std::int64_t(data.dims.size());
                if (i.batch || i.value < -size || i.value >= size)
                    refuse(n,
                           "index " + std::to_string(i.value) + " out of range for a shape of " + std::to_string(size));
                out.dims.push_back(data.dims[std::size_t(i.value < 0 ? i.value + size : i.value)]);
            }
        } else if (op == "Unsqueeze") {
            std::vector<std::int64_t> axes;
            if (opset_ >= 13) {
                if (n.input_size() != 2) refuse(n, "Unsqueeze without axes");
                for (const auto& d : shape_value(n, n.input(1)).dims) axes.push_back(d.value);
            } else {
                axes = a.ints("axes", {});
            }
            out = shape_value(n, n.input(0));
            if (!out.scalar || axes.size() != 1 || (axes[0] != 0 && axes[0] != -1))
                refuse(n, "only a scalar made 1-d (axes (0,)) is supported on shapes");
            out.scalar = false;
        } else {  // Concat
            if (a.i("axis", 0) != 0 && a.i("axis", 0) != -1) refuse(n, "axis other than 0 on shapes");
            for (const auto& in : n.input()) {
                const ShapeValue v = shape_value(n, in);
                if (v.scalar) refuse(n, "concatenating scalars");
                out.dims.insert(out.dims.end(), v.dims.begin(), v.dims.end());
            }
            if (out.dims.size() > 64) refuse(n, "a shape of more than 64 elements");
        }
        a.done();
        shape_values_[n.output(0)] = out;
    }

    // The node's other inputs, each a constant.
    const ::onnx::TensorProto& const_input(const ::onnx::NodeProto& n, int i, const char* what) const {
        const std::string& name = n.input(i);
        if (const auto* t = constant(name)) return *t;
        if (chain_.count(name) || shape_values_.count(name))
            refuse(n, std::string(what) + " '" + name +
                          "' is not a constant (an initializer): lamina's weights are fixed");
        malformed(node_who(n) + " reads '" + name + "', which no earlier node, initializer or input makes");
    }

    void data_node(const ::onnx::NodeProto& n) {
        const std::string& op = n.op_type();
        if (n.input_size() < 1 || n.input(0).empty()) malformed(node_who(n) + " has no input");
        // Add may carry the chain in either input (PyTorch writes Add(bias, x) too).
        int data_input = 0;
        if (op == "Add" && n.input_size() == 2 && n.input(1) == x_) data_input = 1;
        const std::string& in = n.input(data_input);
        if (in != x_) {
            if (chain_.count(in))
                unsupported(node_who(n) + " reads '" + in +
                            "', which another operator already reads: the graph "
                            "branches, and a Sequential is a chain");
            if (constant(in) || shape_values_.count(in)) refuse(n, "an operator on constants only");
            malformed(node_who(n) + " reads '" + in + "', which no earlier node, initializer or input makes");
        }
        if (data_consumers_[x_] > 1)
            unsupported("'" + x_ + "' is read by " + std::to_string(data_consumers_[x_]) +
                        " operators: the graph branches, and a Sequential is a chain");
        for (int i = 1; i < n.output_size(); ++i) {
            const std::string& extra = n.output(i);
            bool used = data_consumers_.count(extra) && data_consumers_.at(extra) > 0;
            for (const auto& o : model_.graph().output()) used = used || o.name() == extra;
            if (!extra.empty() && used)
                refuse(n, "its output " + std::to_string(i) + " ('" + extra +
                              "') is used; lamina computes only the first");
        }
        if (gap_unflattened_ && op != "Flatten" && op != "Reshape")
            refuse(n,
                   "it follows GlobalAveragePool, whose (N, C, 1, 1) lamina's GlobalAveragePooling2D gives as "
                   "(N, C): only Flatten or Reshape (N, -1) may come next");

        const std::string name = layer_name(n);
        const std::string& out = n.output(0);
        std::vector<std::int64_t> sample = onnx_sample_;  // the output's, updated below
        Attributes a{n, *this, {}};

        if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Softmax") {
            ActivationKind kind = op == "Relu"      ? ActivationKind::ReLU
                                  : op == "Sigmoid" ? ActivationKind::Sigmoid
                                  : op == "Tanh"    ? ActivationKind::Tanh
                                                    : ActivationKind::Softmax;
            if (kind == ActivationKind::Softmax) {
                const std::int64_t rank = std::int64_t(sample.size()) + 1;
                std::int64_t axis = a.i("axis", opset_ >= 13 ? -1 : 1);
                if (axis < 0) axis += rank;
                if (rank != 2 || axis != 1)
                    refuse(n, "softmax over axis " + std::to_string(a.i("axis", opset_ >= 13 ? -1 : 1)) +
                                  " of a rank-" + std::to_string(rank) +
                                  " tensor; lamina's Softmax takes (N, features) over the features");
            }
            a.done();
            if (fuse_activation(name, kind, out)) return advance(out, sample);
            emit(Activation(kind), name, {}, out);
        } else if (op == "Identity") {
            a.done();
            emit(Activation(ActivationKind::Linear), name, {}, out);
        } else if (op == "Dropout") {
            double rate = 0.5;
            if (opset_ < 12) {
                rate = a.f("ratio", 0.5f);
            } else {
                if (n.input_size() > 1 && !n.input(1).empty()) {
                    const Tensor<float> r = floats(const_input(n, 1, "ratio"), "ratio of " + node_who(n));
                    if (r.size() != 1) refuse(n, "a ratio of more than one value");
                    rate = r.data()[0];
                }
                if (n.input_size() > 2 && !n.input(2).empty())
                    refuse(n, "a training_mode input (lamina's import is for inference)");
                a.i("seed", 0);
            }
            if (!(rate >= 0.0 && rate < 1.0)) refuse(n, "ratio " + std::to_string(rate) + " outside [0, 1)");
            a.done();
            emit(Dropout(rate), name, {}, out);
        } else if (op == "Flatten" || op == "Reshape") {
            flatten_node(n, a, name, out);
            return;
        } else if (op == "Gemm" || op == "MatMul") {
            dense_node(n, a, name, out);
            return;
        } else if (op == "Add") {
            bias_node(n, data_input, name, out);
            return;
        } else if (op == "Conv") {
            conv_node(n, a, name, out);
            return;
        } else if (op == "MaxPool" || op == "AveragePool") {
            pool_node(n, a, name, out);
            return;
        } else if (op == "GlobalAveragePool") {
            if (sample.size() != 3)
                refuse(n, "an input of rank " + std::to_string(sample.size() + 1) + "; lamina pools (N, C, H, W)");
            a.done();
            emit(GlobalAveragePooling2D(), name, {}, out);
            gap_unflattened_ = true;
            return advance(out, {sample[0], 1, 1});
        } else if (op == "BatchNormalization") {
            batch_norm_node(n, a, name, out);
            return;
        } else if (op == "LogSoftmax") {
            refuse(n, "lamina has no log-softmax activation");
        } else {
            refuse(n,
                   "operator " + op +
                       " is not supported (lamina reads Gemm, MatMul + Add, Conv, MaxPool, "
                       "AveragePool, GlobalAveragePool, Flatten, Reshape, Relu, Sigmoid, Tanh, Softmax, "
                       "BatchNormalization, Dropout, Identity, and Constant/Shape/Gather/Unsqueeze/Concat on shapes)");
        }
        advance(out, sample);
    }

    // The layer name of a node: its own, less a trailing "/<operator>" ("dense/Gemm" -> "dense").
    static std::string layer_name(const ::onnx::NodeProto& n) {
        const std::string suffix = "/" + n.op_type();
        const std::string& s = n.name();
        if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0)
            return s.substr(0, s.size() - suffix.size());
        return s;
    }

    void emit(LayerSpec spec, const std::string& name, std::vector<Tensor<float>> weights, const std::string& out) {
        layers_.push_back({std::move(spec), name, std::move(weights), out});
    }

    void advance(const std::string& out, const std::vector<std::int64_t>& sample) {
        if (chain_.count(out) || constants_.count(out) || shape_values_.count(out))
            malformed("two nodes write the tensor '" + out + "'");
        x_ = out;
        chain_.insert(out);
        onnx_sample_ = sample;
        chain_shapes_[out] = sample;
    }

    // An activation node named after the Dense or Conv2D just before it (export.hpp's "dense/Relu"
    // after "dense/Gemm") becomes that layer's activation.
    bool fuse_activation(const std::string& name, ActivationKind kind, const std::string& out) {
        if (layers_.empty() || name.empty()) return false;
        PendingLayer& last = layers_.back();
        if (last.name != name || last.fused || last.output != x_) return false;
        if (auto* d = std::get_if<Dense>(&last.spec)) d->activation = Activation(kind);
        else if (auto* c = std::get_if<Conv2D>(&last.spec); c && kind != ActivationKind::Softmax)
            c->activation = Activation(kind);
        else return false;
        last.fused = true;
        last.bias_pending = false;
        last.output = out;
        return true;
    }

    void flatten_node(const ::onnx::NodeProto& n, Attributes& a, const std::string& name, const std::string& out) {
        const std::int64_t rank = std::int64_t(onnx_sample_.size()) + 1;
        std::int64_t count = 1;
        for (const auto d : onnx_sample_) count *= d;
        if (n.op_type() == "Flatten") {
            std::int64_t axis = a.i("axis", 1);
            if (axis < 0) axis += rank;
            if (axis != 1)
                refuse(n, "axis " + std::to_string(a.i("axis", 1)) + " of a rank-" + std::to_string(rank) +
                              " tensor; lamina flattens each sample: axis 1");
        } else {
            if (n.input_size() != 2) malformed(node_who(n) + " needs 2 inputs (opset 5 and later)");
            const bool allow_zero = a.i("allowzero", 0) != 0;
            const ShapeValue target = shape_value(n, n.input(1));
            std::vector<Dim> t = target.dims;
            for (std::size_t i = 0; i < t.size(); ++i)
                if (!t[i].batch && t[i].value == 0 && !allow_zero) {
                    if (i == 0) t[i] = {fixed_batch_, true};
                    else if (i <= onnx_sample_.size()) t[i] = {onnx_sample_[i - 1], false};
                }
            auto is_batch = [&](const Dim& d) { return d.batch || (fixed_batch_ > 0 && d.value == fixed_batch_); };
            const bool flat =
                t.size() == 2 && ((is_batch(t[0]) && !t[1].batch && (t[1].value == -1 || t[1].value == count)) ||
                                  (!t[0].batch && t[0].value == -1 && !t[1].batch && t[1].value == count));
            if (!flat) {
                std::string s;
                for (const auto& d : target.dims)
                    s += (s.empty() ? "" : ", ") + (d.batch ? "N" : std::to_string(d.value));
                refuse(
                    n, "a reshape to (" + s + ") of a tensor (N" + [&] {
                        std::string r;
                        for (const auto d : onnx_sample_) r += ", " + std::to_string(d);
                        return r;
                    }() + "); lamina reshapes only to (N, -1), which is Flatten");
            }
        }
        a.done();
        const bool absorbed = gap_unflattened_ && !layers_.empty() && layers_.back().name == name && !name.empty();
        gap_unflattened_ = false;
        if (absorbed) layers_.back().output = out;  // export.hpp's "gap/Flatten" after "gap/GlobalAveragePool"
        else emit(Flatten(), name, {}, out);
        advance(out, {count});
    }

    void dense_node(const ::onnx::NodeProto& n, Attributes& a, const std::string& name, const std::string& out) {
        const bool gemm = n.op_type() == "Gemm";
        if (n.input_size() < 2 || n.input_size() > 3 || (!gemm && n.input_size() != 2))
            malformed(node_who(n) + " has " + std::to_string(n.input_size()) + " inputs");
        if (onnx_sample_.size() != 1)
            refuse(n, "an input of rank " + std::to_string(onnx_sample_.size() + 1) +
                          "; lamina's Dense takes (N, features): flatten first");
        const std::int64_t in = onnx_sample_[0];
        float alpha = 1, beta = 1;
        bool trans_b = false;
        if (gemm) {
            alpha = a.f("alpha", 1.0f);
            beta = a.f("beta", 1.0f);
            if (a.i("transA", 0) != 0) refuse(n, "transA = 1: lamina's Dense multiplies the input as it is");
            trans_b = a.i("transB", 0) != 0;
        }
        a.done();
        const ::onnx::TensorProto& b = const_input(n, 1, "the weight");
        const std::string bwho = "weight '" + n.input(1) + "' of " + node_who(n);
        const auto dims = dims_of(b);
        if (dims.size() != 2 || dims[trans_b ? 1 : 0] != in)
            refuse(n, "weight '" + n.input(1) + "' is " + join(dims) + "; with an input of " + std::to_string(in) +
                          " features it must be " +
                          (trans_b ? "(units, " + std::to_string(in) + ")" : "(" + std::to_string(in) + ", units)"));
        const std::int64_t units = dims[trans_b ? 0 : 1];
        if (units < 1) refuse(n, "a weight of no units");
        const Tensor<float> w = floats(b, bwho);
        Tensor<float> kernel(Shape{in, units});  // lamina's (in, units)
        for (std::int64_t i = 0; i < in; ++i)
            for (std::int64_t u = 0; u < units; ++u)
                kernel.data()[i * units + u] = alpha * w.data()[trans_b ? u * in + i : i * units + u];
        std::vector<Tensor<float>> weights{std::move(kernel)};
        const bool has_bias = gemm && n.input_size() == 3 && !n.input(2).empty();
        if (has_bias) weights.push_back(bias(n, const_input(n, 2, "the bias"), n.input(2), units, beta));
        Dense spec(units, Activation::Linear, has_bias);
        emit(spec, name, std::move(weights), out);
        layers_.back().bias_pending = !has_bias;
        advance(out, {units});
    }

    // A bias of `units` values from a constant of shape (), (1,), (units,) or (1, units), times `scale`.
    Tensor<float> bias(const ::onnx::NodeProto& n, const ::onnx::TensorProto& c, const std::string& cname,
                       std::int64_t units, float scale) const {
        const auto dims = dims_of(c);
        std::int64_t count = 1;
        for (const auto d : dims)
            count = d < 0 || count > (std::int64_t(1) << 40) / std::max<std::int64_t>(d, 1) ? -1 : count * d;
        const bool shaped = (dims.size() <= 1 || (dims.size() == 2 && dims[0] == 1)) && (count == 1 || count == units);
        if (!shaped)
            refuse(n, "bias '" + cname + "' is " + join(dims) + "; lamina's bias is one value per unit: (" +
                          std::to_string(units) + ",), (1, " + std::to_string(units) + ") or one value");
        const Tensor<float> v = floats(c, "bias '" + cname + "' of " + node_who(n));
        Tensor<float> out(Shape{units});
        for (std::int64_t u = 0; u < units; ++u) out.data()[u] = scale * v.data()[count == 1 ? 0 : u];
        return out;
    }

    void bias_node(const ::onnx::NodeProto& n, int data_input, const std::string& name, const std::string& out) {
        if (n.input_size() != 2) malformed(node_who(n) + " needs 2 inputs");
        Attributes a{n, *this, {}};
        a.done();
        PendingLayer* last = layers_.empty() ? nullptr : &layers_.back();
        if (!last || !last->bias_pending || last->output != x_)
            refuse(n,
                   "an Add that is not the bias of the MatMul or Gemm just before it: lamina adds constants only "
                   "as a Dense's bias");
        const int other = 1 - data_input;
        auto& dense = std::get<Dense>(last->spec);
        last->weights.push_back(bias(n, const_input(n, other, "the bias"), n.input(other), dense.units, 1.0f));
        dense.use_bias = true;
        last->bias_pending = false;
        last->output = out;
        if (last->name.empty()) last->name = name;
        advance(out, onnx_sample_);
    }

    // The window of a Conv or pool as lamina's valid or same padding, or refused.
    Padding window(const ::onnx::NodeProto& n, Attributes& a, Size2 kernel, Size2 strides) const {
        const std::int64_t h = onnx_sample_[1], w = onnx_sample_[2];
        const std::string auto_pad = a.s("auto_pad", "NOTSET");
        std::vector<std::int64_t> pads = a.ints("pads", {0, 0, 0, 0});
        if (pads.size() != 4) refuse(n, "pads " + join(pads) + "; a 2-d window has 4");
        if (auto_pad == "VALID") {
            pads = {0, 0, 0, 0};
        } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
            const std::int64_t th =
                std::max<std::int64_t>(((h + strides.h - 1) / strides.h - 1) * strides.h + kernel.h - h, 0);
            const std::int64_t tw =
                std::max<std::int64_t>(((w + strides.w - 1) / strides.w - 1) * strides.w + kernel.w - w, 0);
            const bool upper = auto_pad == "SAME_UPPER";
            pads = {upper ? th / 2 : th - th / 2, upper ? tw / 2 : tw - tw / 2, 0, 0};
            pads[2] = th - pads[0];
            pads[3] = tw - pads[1];
        } else if (auto_pad != "NOTSET") {
            refuse(n, "auto_pad " + auto_pad);
        }
        const Shape sample = to_shape(onnx_sample_, node_who(n));
        if (pads == std::vector<std::int64_t>{0, 0, 0, 0}) {
            if (kernel.h > h || kernel.w > w)
                refuse(n, "a window " + kernel.str() + " larger than its unpadded input (" + std::to_string(h) + ", " +
                              std::to_string(w) + ")");
            return Padding::Valid;
        }
        const Window2D g = make_window(node_who(n), sample, kernel, strides, Padding::Same);
        const Index total_h = std::max<Index>((g.out_h - 1) * g.s_h + g.k_h - g.in_h, 0);
        const Index total_w = std::max<Index>((g.out_w - 1) * g.s_w + g.k_w - g.in_w, 0);
        const std::vector<std::int64_t> same{g.pad_top, g.pad_left, total_h - g.pad_top, total_w - g.pad_left};
        if (pads != same)
            refuse(n, "pads " + join(pads) + " (top, left, bottom, right) on (" + std::to_string(h) + ", " +
                          std::to_string(w) + "): lamina pads none (\"valid\") or " + join(same) + " (\"same\")");
        return Padding::Same;
    }

    std::pair<Size2, Size2> kernel_strides(const ::onnx::NodeProto& n, Attributes& a,
                                           std::vector<std::int64_t> fallback_kernel) const {
        const auto k = a.ints("kernel_shape", std::move(fallback_kernel));
        const auto s = a.ints("strides", {1, 1});
        const auto d = a.ints("dilations", {1, 1});
        if (k.size() != 2) refuse(n, "kernel_shape " + join(k) + "; lamina's windows are 2-d");
        if (s.size() != 2) refuse(n, "strides " + join(s) + "; a 2-d window has 2");
        if (d != std::vector<std::int64_t>{1, 1}) refuse(n, "dilations " + join(d) + "; lamina's are (1, 1)");
        for (const auto v : {k[0], k[1], s[0], s[1]})
            if (v < 1 || v > (std::int64_t(1) << 31)) refuse(n, "kernel_shape " + join(k) + ", strides " + join(s));
        return {Size2(k[0], k[1]), Size2(s[0], s[1])};
    }

    void conv_node(const ::onnx::NodeProto& n, Attributes& a, const std::string& name, const std::string& out) {
        if (n.input_size() < 2 || n.input_size() > 3)
            malformed(node_who(n) + " has " + std::to_string(n.input_size()) + " inputs");
        if (onnx_sample_.size() != 3)
            refuse(n, "an input of rank " + std::to_string(onnx_sample_.size() + 1) +
                          "; lamina's Conv2D takes (N, C, H, W)");
        const ::onnx::TensorProto& wt = const_input(n, 1, "the weight");
        const auto dims = dims_of(wt);
        if (a.i("group", 1) != 1)
            refuse(n, "group " + std::to_string(a.i("group", 1)) + "; lamina's Conv2D has group 1");
        if (dims.size() != 4)
            refuse(n, "weight '" + n.input(1) + "' is " + join(dims) + "; a 2-d convolution's is (F, C, KH, KW)");
        const auto [kernel, strides] = kernel_strides(n, a, {dims[2], dims[3]});
        if (kernel.h != dims[2] || kernel.w != dims[3])
            refuse(n, "kernel_shape " + kernel.str() + " differs from the weight's " + join(dims));
        if (dims[1] != onnx_sample_[0] || dims[0] < 1)
            refuse(n, "weight '" + n.input(1) + "' is " + join(dims) + " on an input of " +
                          std::to_string(onnx_sample_[0]) + " channels");
        const Padding padding = window(n, a, kernel, strides);
        a.done();
        std::vector<Tensor<float>> weights{floats(wt, "weight '" + n.input(1) + "' of " + node_who(n))};
        weights[0].reshape(Shape{dims[0], dims[1], dims[2], dims[3]});  // OIHW: lamina's own layout
        const bool has_bias = n.input_size() == 3 && !n.input(2).empty();
        if (has_bias) {
            const auto& bt = const_input(n, 2, "the bias");
            if (dims_of(bt) != std::vector<std::int64_t>{dims[0]})
                refuse(n, "bias '" + n.input(2) + "' is " + join(dims_of(bt)) + "; it must be (" +
                              std::to_string(dims[0]) + ",)");
            weights.push_back(floats(bt, "bias '" + n.input(2) + "' of " + node_who(n)));
        }
        const Window2D g = make_window(node_who(n), to_shape(onnx_sample_, node_who(n)), kernel, strides, padding);
        emit(Conv2D(dims[0], kernel, strides, padding, Activation::Linear, has_bias), name, std::move(weights), out);
        advance(out, {dims[0], g.out_h, g.out_w});
    }

    void pool_node(const ::onnx::NodeProto& n, Attributes& a, const std::string& name, const std::string& out) {
        const bool max = n.op_type() == "MaxPool";
        if (onnx_sample_.size() != 3)
            refuse(n, "an input of rank " + std::to_string(onnx_sample_.size() + 1) + "; lamina pools (N, C, H, W)");
        if (!a.find("kernel_shape")) malformed(node_who(n) + " has no kernel_shape");
        const auto [kernel, strides] = kernel_strides(n, a, {});
        if (a.i("ceil_mode", 0) != 0) refuse(n, "ceil_mode = 1; lamina's windows round the output size down");
        if (max && a.i("storage_order", 0) != 0) refuse(n, "storage_order = 1");
        const Padding padding = window(n, a, kernel, strides);
        if (!max && a.i("count_include_pad", 0) != 0 && padding == Padding::Same)
            refuse(n, "count_include_pad = 1 with padding: lamina averages the in-bounds values only");
        a.done();
        const Window2D g = make_window(node_who(n), to_shape(onnx_sample_, node_who(n)), kernel, strides, padding);
        if (max) emit(MaxPooling2D(kernel, strides, padding), name, {}, out);
        else emit(AveragePooling2D(kernel, strides, padding), name, {}, out);
        advance(out, {onnx_sample_[0], g.out_h, g.out_w});
    }

    void batch_norm_node(const ::onnx::NodeProto& n, Attributes& a, const std::string& name, const std::string& out) {
        if (n.input_size() != 5) malformed(node_who(n) + " has " + std::to_string(n.input_size()) + " inputs, not 5");
        if (onnx_sample_.size() != 1 && onnx_sample_.size() != 3)
            refuse(n, "an input of rank " + std::to_string(onnx_sample_.size() + 1) +
                          "; lamina normalises (N, C) or (N, C, H, W)");
        const float epsilon = a.f("epsilon", 1e-5f);
        const float momentum = a.f("momentum", 0.9f);
        if (opset_ < 9 && a.i("spatial", 1) != 1) refuse(n, "spatial = 0");
        if (opset_ >= 14 && a.i("training_mode", 0) != 0) refuse(n, "training_mode = 1 (batch statistics)");
        a.done();
        if (!(epsilon > 0)) refuse(n, "epsilon " + std::to_string(epsilon) + "; lamina's is > 0");
        if (!(momentum >= 0 && momentum < 1)) refuse(n, "momentum " + std::to_string(momentum) + " outside [0, 1)");
        const std::int64_t c = onnx_sample_[0];
        std::vector<Tensor<float>> weights;
        const char* what[] = {"scale", "bias", "mean", "variance"};
        for (int i = 1; i <= 4; ++i) {
            const auto& t = const_input(n, i, what[i - 1]);
            if (dims_of(t) != std::vector<std::int64_t>{c})
                refuse(n, std::string(what[i - 1]) + " '" + n.input(i) + "' is " + join(dims_of(t)) + "; it must be (" +
                              std::to_string(c) + ",)");
            weights.push_back(floats(t, std::string(what[i - 1]) + " '" + n.input(i) + "' of " + node_who(n)));
        }
        // lamina's order: gamma, beta, moving_mean, moving_variance: ONNX's.
        emit(BatchNormalization(shortest_double(momentum), shortest_double(epsilon)), name, std::move(weights), out);
        advance(out, onnx_sample_);
    }

    const ::onnx::ModelProto& model_;
    std::string source_;
    std::int64_t opset_ = 0;
    std::int64_t fixed_batch_ = 0;  // the input's batch size where the graph fixes it, else 0
    std::map<std::string, const ::onnx::TensorProto*> constants_;
    std::deque<::onnx::TensorProto> owned_;  // Constant nodes' value_float(s)
    std::map<std::string, ShapeValue> shape_values_;
    std::map<std::string, int> data_consumers_;
    std::set<std::string> chain_;  // every tensor the chain has made, the input first
    std::map<std::string, std::vector<std::int64_t>> chain_shapes_;
    std::string x_;                          // the chain's current tensor
    std::vector<std::int64_t> onnx_sample_;  // its shape without the batch
    Shape input_sample_;
    bool gap_unflattened_ = false;  // x_ is GlobalAveragePool's (N, C, 1, 1)
    std::vector<PendingLayer> layers_;
};

}  // namespace detail

// The model in `proto`; `source` names it in error messages.
template <class T = float>
Sequential<T> from_model_proto(const ::onnx::ModelProto& proto, const std::string& source = "ModelProto") {
    return detail::Importer(proto, source).run<T>();
}

// The model in the `size` bytes at `data` (an ONNX file's contents).
template <class T = float>
Sequential<T> load_from_memory(const void* data, std::size_t size, const std::string& source = "memory") {
    if (!data && size > 0)
        throw ConfigError(ErrorId::config_argument,
                          "onnx::load_from_memory: null data of " + std::to_string(size) + " bytes");
    if (size > max_import_bytes)
        throw FormatError(ErrorId::format_size, "onnx::load: " + source + " holds " + std::to_string(size) +
                                                    " bytes; protobuf reads ONNX files of at most 2 GiB");
    ::onnx::ModelProto proto;
    if (size == 0 || !proto.ParseFromArray(data, static_cast<int>(size)))
        throw FormatError(ErrorId::format_header, "onnx::load: " + source +
                                                      " is not an ONNX model (protobuf cannot parse its " +
                                                      std::to_string(size) + " bytes as a ModelProto)");
    return from_model_proto<T>(proto, source);
}

// The model in the ONNX file at `path`.
template <class T = float>
Sequential<T> load(const std::string& path) {
    const std::vector<std::uint8_t> bytes = io::read_file_bytes(path, max_import_bytes, "onnx::load");
    return load_from_memory<T>(bytes.data(), bytes.size(), "'" + path + "'");
}

}  // namespace lamina::onnx
