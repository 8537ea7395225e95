// lamina/onnx/export.hpp: a built Sequential<float> as an ONNX model file.
//
// Contract: lamina::onnx::save(model, path) writes the model's inference
// graph as ONNX (IR version 8, default-domain opset 17), atomically
// (io/atomic_file.hpp); to_model_proto(model) returns the same message
// without writing it. The graph has one input "input" (N, <input shape>) and
// one output, named after the last exported layer, (N, <output shape>),
// float32, with the batch dimension symbolic ("N"). NCHW throughout: lamina's
// layout is ONNX's. Each layer becomes nodes named after the layer, whose
// output tensor carries the layer's name; weights are initializers
// "<layer>/<param>" ("dense/kernel", "batch_normalization/moving_mean"):
//   Flatten                  Flatten(axis=1)
//   Dense                    Gemm(x, kernel (in, units)[, bias])
//   Conv2D                   Conv(x, kernel (F, C, KH, KW) = OIHW[, bias]), pads from "same"
//   MaxPooling2D             MaxPool (padding never wins a max)
//   AveragePooling2D         AveragePool, count_include_pad=0 (lamina averages in-bounds values)
//   GlobalAveragePooling2D   GlobalAveragePool, then Flatten(axis=1): (N, C), as Keras
//   Activation               Relu | Sigmoid | Tanh | Identity (linear)
//   Softmax                  Softmax(axis=-1)
//   BatchNormalization       BatchNormalization (inference: moving statistics, epsilon,
//                            momentum);
//                            gamma 1 and beta 0 where the layer has none
// A Dense or Conv2D activation other than linear becomes a node of its own
// after the layer's ("<layer>/preactivation" between them). Dropout and the
// augmentation layers (RandomTranslation, RandomRotation, RandomZoom) do
// nothing at inference and are left out.
// Errors: an unbuilt model (ConfigError config_state), a layer type with no
// ONNX form or two tensors of one name (ConfigError config_unknown_name /
// config_argument), a file that cannot be written (IoError io_write). A
// Sequential<double> does not compile: ONNX files here hold float32.
// Needs Debian's libonnx-dev and libprotobuf-dev: link lamina::onnx (CMake),
// which defines ONNX_ML and ONNX_NAMESPACE for <onnx/onnx_pb.h>.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lamina/core/activation_kind.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/window.hpp"
#include "lamina/io/atomic_file.hpp"
#include "lamina/layers/layer_factory.hpp"
#include "lamina/model/sequential.hpp"
#include "lamina/onnx/proto.hpp"

namespace lamina::onnx {

namespace detail {

// Builds one graph: nodes, initializers, and the check that no two tensors
// share a name (a user may name a layer "input" or "dense/kernel").
class GraphWriter {
public:
    explicit GraphWriter(::onnx::GraphProto& graph) : graph_(graph) {}

    // Claims `name` for a tensor; `who` is the layer that asks.
    const std::string& claim(const std::string& name, const std::string& who) {
        if (!names_.insert(name).second)
            throw ConfigError(ErrorId::config_argument,
                              "onnx::save: " + who + ": the ONNX graph already has a tensor named '" + name +
                                  "'; give the layer another name (Layer::set_name, or .named() on its spec)");
        return name;
    }

    ::onnx::NodeProto& node(const std::string& op, const std::string& name, std::initializer_list<std::string> inputs,
                            const std::string& output) {
        ::onnx::NodeProto& n = *graph_.add_node();
        n.set_op_type(op);
        n.set_name(name);
        for (const auto& in : inputs) n.add_input(in);
        n.add_output(output);
        return n;
    }

    // A float initializer of shape `dims` from `values` (row-major).
    const std::string& initializer(const std::string& name, const std::string& who, const std::vector<Index>& dims,
                                   const float* values) {
        claim(name, who);
        ::onnx::TensorProto& t = *graph_.add_initializer();
        t.set_name(name);
        t.set_data_type(::onnx::TensorProto::FLOAT);
        Index count = 1;
        for (const Index d : dims) {
            t.add_dims(d);
            count *= d;
        }
        t.mutable_float_data()->Add(values, values + count);
        return name;
    }
    const std::string& initializer(const std::string& name, const std::string& who, const Tensor<float>& value) {
        std::vector<Index> dims;
        for (int i = 0; i < value.shape().rank(); ++i) dims.push_back(value.shape()[i]);
        return initializer(name, who, dims, value.data());
    }

    void value_info(::onnx::ValueInfoProto& v, const std::string& name, const Shape& sample) {
        v.set_name(name);
        auto& tensor = *v.mutable_type()->mutable_tensor_type();
        tensor.set_elem_type(::onnx::TensorProto::FLOAT);
        auto& shape = *tensor.mutable_shape();
        shape.add_dim()->set_dim_param("N");
        for (int i = 0; i < sample.rank(); ++i) shape.add_dim()->set_dim_value(sample[i]);
    }

private:
    ::onnx::GraphProto& graph_;
    std::set<std::string> names_;
};

inline void set_ints(::onnx::NodeProto& n, const char* name, std::initializer_list<std::int64_t> values) {
    auto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::INTS);
    for (const auto v : values) a.add_ints(v);
}
inline void set_int(::onnx::NodeProto& n, const char* name, std::int64_t value) {
    auto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::INT);
    a.set_i(value);
}
inline void set_float(::onnx::NodeProto& n, const char* name, float value) {
    auto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::FLOAT);
    a.set_f(value);
}

// The element-wise operator of an activation; Identity for linear.
inline const char* activation_op(ActivationKind kind) {
    switch (kind) {
        case ActivationKind::Linear: return "Identity";
        case ActivationKind::ReLU: return "Relu";
        case ActivationKind::Sigmoid: return "Sigmoid";
        case ActivationKind::Tanh: return "Tanh";
        case ActivationKind::Softmax: return "Softmax";
    }
    return "Identity";
}

// Window attributes shared by Conv and the pools: pads [top, left, bottom,
// right] as TensorFlow's "same" places them (core/window.hpp).
inline void set_window(::onnx::NodeProto& n, const Window2D& g) {
    const Index total_h = std::max<Index>((g.out_h - 1) * g.s_h + g.k_h - g.in_h, 0);
    const Index total_w = std::max<Index>((g.out_w - 1) * g.s_w + g.k_w - g.in_w, 0);
    set_ints(n, "kernel_shape", {g.k_h, g.k_w});
    set_ints(n, "strides", {g.s_h, g.s_w});
    set_ints(n, "pads", {g.pad_top, g.pad_left, total_h - g.pad_top, total_w - g.pad_left});
}

// The tensor a Dense or Conv2D's linear part writes: the layer's own name
// when it has no activation, else "<layer>/preactivation", which the fused
// activation's node (fused_activation) reads to write the layer's name.
inline std::string linear_output(GraphWriter& w, const std::string& name, const std::string& who,
                                 ActivationKind activation) {
    return w.claim(activation == ActivationKind::Linear ? name : name + "/preactivation", who);
}
inline void fused_activation(GraphWriter& w, const std::string& name, const std::string& who, ActivationKind activation,
                             const std::string& preactivation) {
    if (activation == ActivationKind::Linear) return;
    auto& n =
        w.node(activation_op(activation), name + "/" + activation_op(activation), {preactivation}, w.claim(name, who));
    if (activation == ActivationKind::Softmax) set_int(n, "axis", -1);
}

// Appends one layer's nodes reading tensor `x`; returns the tensor it
// produces (`x` itself for a layer that inference skips).
template <class Device>
std::string add_layer(GraphWriter& w, const Layer<float, Device>& layer,
                      const std::map<std::string, Tensor<float>>& weights, const std::string& x) {
    const std::string type = layer.type();
    const std::string& name = layer.name();
    const std::string who = type + " '" + name + "'";
    const LayerConfig layer_config = layer.config();  // the reader keeps a reference
    lamina::detail::ConfigReader config(type, name, layer_config);
    auto weight = [&](const char* param) -> const Tensor<float>* {
        const auto it = weights.find(param);
        return it == weights.end() ? nullptr : &it->second;
    };
    auto param_input = [&](const char* param) { return w.initializer(name + "/" + param, who, *weight(param)); };

    if (type == "Dropout" || type == "RandomTranslation" || type == "RandomRotation" || type == "RandomZoom") return x;
    if (type == "Flatten") {
        set_int(w.node("Flatten", name, {x}, w.claim(name, who)), "axis", 1);
        return name;
    }
    if (type == "Activation" || type == "Softmax") {
        const ActivationKind kind = config.parsed("activation", activation_from_string);
        auto& n = w.node(activation_op(kind), name, {x}, w.claim(name, who));
        if (kind == ActivationKind::Softmax) set_int(n, "axis", -1);
        return name;
    }
    if (type == "Dense") {
        const Dense spec = Dense::from_config(config);
        const std::string kernel = param_input("kernel");
        const std::string linear = linear_output(w, name, who, spec.activation.kind);
        if (weight("bias")) w.node("Gemm", name + "/Gemm", {x, kernel, param_input("bias")}, linear);
        else w.node("Gemm", name + "/Gemm", {x, kernel}, linear);
        fused_activation(w, name, who, spec.activation.kind, linear);
        return name;
    }
    if (type == "Conv2D") {
        const Conv2D spec = Conv2D::from_config(config);
        const Window2D g = make_window(who, layer.input_shape(), spec.kernel_size, spec.strides, spec.padding);
        const std::string kernel = param_input("kernel");
        const std::string linear = linear_output(w, name, who, spec.activation.kind);
        auto& n = weight("bias") ? w.node("Conv", name + "/Conv", {x, kernel, param_input("bias")}, linear)
                                 : w.node("Conv", name + "/Conv", {x, kernel}, linear);
        set_window(n, g);
        set_ints(n, "dilations", {1, 1});
        set_int(n, "group", 1);
        fused_activation(w, name, who, spec.activation.kind, linear);
        return name;
    }
    if (type == "MaxPooling2D" || type == "AveragePooling2D") {
        const bool max = type == "MaxPooling2D";
        const auto spec = AveragePooling2D::from_config(config);  // MaxPooling2D's config reads the same
        const Window2D g =
            make_window(who, layer.input_shape(), spec.pool_size, spec.strides.value_or(spec.pool_size), spec.padding);
        auto& n = w.node(max ? "MaxPool" : "AveragePool", name, {x}, w.claim(name, who));
        set_window(n, g);
        if (!max) set_int(n, "count_include_pad", 0);
        return name;
    }
    if (type == "GlobalAveragePooling2D") {
        const std::string pooled = w.claim(name + "/pooled", who);
        w.node("GlobalAveragePool", name + "/GlobalAveragePool", {x}, pooled);
        set_int(w.node("Flatten", name + "/Flatten", {pooled}, w.claim(name, who)), "axis", 1);
        return name;
    }
    if (type == "BatchNormalization") {
        const double epsilon = config.number("epsilon");
        const Tensor<float>& mean = *weight("moving_mean");
        const Index channels = mean.size();
        const std::string scale = weight("gamma")
                                      ? param_input("gamma")
                                      : w.initializer(name + "/gamma", who, {channels},
                                                      std::vector<float>(std::size_t(channels), 1.0f).data());
        const std::string shift = weight("beta")
                                      ? param_input("beta")
                                      : w.initializer(name + "/beta", who, {channels},
                                                      std::vector<float>(std::size_t(channels), 0.0f).data());
        auto& n =
            w.node("BatchNormalization", name,
                   {x, scale, shift, param_input("moving_mean"), param_input("moving_variance")}, w.claim(name, who));
        set_float(n, "epsilon", static_cast<float>(epsilon));
        // ONNX's momentum is Keras's (moving = momentum * moving + (1 - momentum) * batch):
        // unused at inference, it lets import give the layer back as it was.
        set_float(n, "momentum", static_cast<float>(config.number("momentum")));
        return name;
    }
    throw ConfigError(ErrorId::config_unknown_name,
                      "onnx::save: " + who + ": layer type '" + type +
                          "' has no ONNX form (exported: Flatten, Dense, Conv2D, MaxPooling2D, AveragePooling2D, "
                          "GlobalAveragePooling2D, Activation, Softmax, BatchNormalization; left out: Dropout, "
                          "RandomTranslation, RandomRotation, RandomZoom)");
}

}  // namespace detail

// The model's inference graph as an ONNX ModelProto (see the contract above).
template <class T, class Device>
::onnx::ModelProto to_model_proto(const Sequential<T, Device>& model) {
    static_assert(std::is_same_v<T, float>,
                  "lamina::onnx exports Sequential<float> models only: ONNX files here hold float32 weights");
    if (!model.built())
        throw ConfigError(ErrorId::config_state, "onnx::save: the model '" + model.name() +
                                                     "' is not built yet, so it has no weights to export; call "
                                                     "build(Shape{...}) or fit() first");
    ::onnx::ModelProto proto;
    proto.set_ir_version(ir_version);
    proto.set_producer_name("lamina");
    auto& opset = *proto.add_opset_import();
    opset.set_domain("");
    opset.set_version(opset_version);
    ::onnx::GraphProto& graph = *proto.mutable_graph();
    graph.set_name(model.name());
    detail::GraphWriter w(graph);

    w.value_info(*graph.add_input(), w.claim("input", "the graph's input"), model.input_shape());
    // Host copies, layer by layer in params() order: the weights of any device.
    const std::vector<Tensor<float>> weights = model.get_weights();
    std::size_t next = 0;
    std::string x = "input";
    for (std::size_t i = 0; i < model.size(); ++i) {
        const Layer<float, Device>& layer = model.layer(i);
        std::map<std::string, Tensor<float>> layer_weights;
        for (const auto* p : layer.params()) layer_weights.emplace(p->name, weights.at(next++));
        x = detail::add_layer(w, layer, layer_weights, x);
    }
    // A model that inference reduces to nothing still has a node making its output.
    if (x == "input") {
        w.node("Identity", "output", {x}, w.claim("output", "the graph's output"));
        x = "output";
    }
    w.value_info(*graph.add_output(), x, model.output_shape());
    return proto;
}

// Writes the model as an ONNX file at `path`, atomically.
template <class T, class Device>
void save(const Sequential<T, Device>& model, const std::string& path) {
    const ::onnx::ModelProto proto = to_model_proto(model);
    std::string bytes;
    if (!proto.SerializeToString(&bytes))
        throw IoError(ErrorId::io_write, "onnx::save: cannot save '" + path +
                                             "': protobuf cannot serialise the model (an ONNX file holds at most "
                                             "2 GiB of weights without external data)");
    io::write_file_atomically(path, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

}  // namespace lamina::onnx
