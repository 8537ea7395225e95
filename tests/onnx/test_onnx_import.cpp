// tests/onnx/test_onnx_import.cpp: lamina::onnx::load and from_model_proto:
// every exported network read back (same layers, names, predictions), the
// graphs PyTorch writes, and each refusal, malformed or hostile file.
// ONNX's own node tests run through the importer in conformance.cpp.
#include <lamina/lamina.hpp>
#include <lamina/onnx/export.hpp>
#include <lamina/onnx/import.hpp>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "matchers.hpp"
#include "max_abs_difference.hpp"
#include "onnx/onnx_networks.hpp"
#include "temp_dir.hpp"

using namespace lamina;
using test::max_abs_difference;

namespace {

std::string config_value(const LayerConfig& c, const std::string& key) {
    for (const auto& [k, v] : c)
        if (k == key) return v;
    return "";
}

// The layers export writes (inference leaves out Dropout and augmentation).
std::vector<std::size_t> exported_layers(const Sequential<float>& m) {
    std::vector<std::size_t> kept;
    for (std::size_t i = 0; i < m.size(); ++i) {
        const std::string t = m.layer(i).type();
        if (t != "Dropout" && t != "RandomTranslation" && t != "RandomRotation" && t != "RandomZoom") kept.push_back(i);
    }
    return kept;
}

void check_round_trip(const Sequential<float>& model, std::uint64_t seed) {
    const Sequential<float> back = lamina::onnx::from_model_proto(lamina::onnx::to_model_proto(model));
    const auto kept = exported_layers(model);
    REQUIRE(back.size() == kept.size());
    CHECK(back.input_shape() == model.input_shape());
    CHECK(back.output_shape() == model.output_shape());
    for (std::size_t j = 0; j < kept.size(); ++j) {
        const auto& a = model.layer(kept[j]);
        const auto& b = back.layer(j);
        INFO("layer " << a.name());
        CHECK(b.type() == a.type());
        CHECK(b.name() == a.name());
        // Settings that change what the layer computes; padding only where it pads
        // ("same" that pads nothing is "valid").
        for (const char* key : {"units", "activation", "use_bias", "filters", "kernel_size", "strides", "pool_size",
                                "epsilon", "momentum"})
            CHECK(config_value(b.config(), key) == config_value(a.config(), key));
    }
    const Tensor<float> x = onnx_tests::random_inputs(5, model.input_shape(), seed);
    const Tensor<float> expected = model.predict(x);
    const Tensor<float> got = back.predict(x);
    CHECK(max_abs_difference(expected, got) <= 1e-6);
}

// A model of one input (N, <sample>) and the nodes `add` writes; initializers by name.
struct ProtoBuilder {
    ::onnx::ModelProto m;
    ::onnx::GraphProto& g;
    explicit ProtoBuilder(const std::vector<std::int64_t>& sample, std::int64_t opset = 17,
                          ::onnx::TensorProto::DataType type = ::onnx::TensorProto::FLOAT)
        : g(*m.mutable_graph()) {
        m.set_ir_version(8);
        auto& o = *m.add_opset_import();
        o.set_version(opset);
        g.set_name("built");
        auto& in = *g.add_input();
        in.set_name("x");
        auto& t = *in.mutable_type()->mutable_tensor_type();
        t.set_elem_type(type);
        t.mutable_shape()->add_dim()->set_dim_param("N");
        for (const auto d : sample) t.mutable_shape()->add_dim()->set_dim_value(d);
    }
    ::onnx::NodeProto& node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                            const std::string& output) {
        auto& n = *g.add_node();
        n.set_op_type(op);
        n.set_name(name);
        for (const auto& i : inputs) n.add_input(i);
        n.add_output(output);
        return n;
    }
    ::onnx::TensorProto& weights(const std::string& name, const std::vector<std::int64_t>& dims,
                                 const std::vector<float>& values) {
        auto& t = *g.add_initializer();
        t.set_name(name);
        t.set_data_type(::onnx::TensorProto::FLOAT);
        for (const auto d : dims) t.add_dims(d);
        for (const auto v : values) t.add_float_data(v);
        return t;
    }
    ::onnx::TensorProto& ints(const std::string& name, const std::vector<std::int64_t>& values, bool scalar = false) {
        auto& t = *g.add_initializer();
        t.set_name(name);
        t.set_data_type(::onnx::TensorProto::INT64);
        if (!scalar) t.add_dims(std::int64_t(values.size()));
        for (const auto v : values) t.add_int64_data(v);
        return t;
    }
    ::onnx::ModelProto& output(const std::string& name) {
        g.add_output()->set_name(name);
        return m;
    }
};

void set_ints(::onnx::NodeProto& n, const std::string& name, std::vector<std::int64_t> v) {
    auto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::INTS);
    for (const auto x : v) a.add_ints(x);
}
void set_int(::onnx::NodeProto& n, const std::string& name, std::int64_t v) {
    auto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::INT);
    a.set_i(v);
}
void set_float(::onnx::NodeProto& n, const std::string& name, float v) {
    auto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::FLOAT);
    a.set_f(v);
}
void set_string(::onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(::onnx::AttributeProto::STRING);
    a.set_s(v);
}

std::vector<float> iota(std::size_t n, float scale = 0.1f) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = scale * float(int(i % 7) - 3);
    return v;
}

// A 3 x 3 convolution of 2 channels into 3 on (N, 2, 5, 5), for the attribute refusals.
ProtoBuilder conv_model() {
    ProtoBuilder b({2, 5, 5});
    b.weights("w", {3, 2, 3, 3}, iota(54));
    auto& n = b.node("Conv", "conv", {"x", "w"}, "y");
    set_ints(n, "kernel_shape", {3, 3});
    b.output("y");
    return b;
}

auto refused(const std::vector<std::string>& parts) { return test::error(ErrorId::format_unsupported, parts); }

}  // namespace

TEST_CASE("every exported network imports as the same layers, names and predictions") {
    std::uint64_t seed = 1;
    for (const auto& net : onnx_tests::onnx_test_networks()) {
        INFO(net.name);
        Sequential<float> model(net.name, seed);
        net.add(model);
        model.build(net.sample);
        onnx_tests::randomize_weights(model, seed + 100, net.kernel_scale);
        check_round_trip(model, seed + 200);
        ++seed;
    }
    const auto trained = Sequential<float>::load(LAMINA_MODELS_DIR "/mnist_cnn.lamina");
    check_round_trip(trained, 7);
}

TEST_CASE("onnx::load reads a file, and as double") {
    Sequential<float> model("file", 3);
    model.add(Conv2D(3, 3, Padding::Same, Activation::ReLU));
    model.add(MaxPooling2D(2));
    model.add(Flatten());
    model.add(Dense(4, Activation::Softmax));
    model.build(Shape{1, 8, 8});
    test::TempDir dir("onnx_import");
    const std::string path = dir.file("m.onnx");
    lamina::onnx::save(model, path);
    const Tensor<float> x = onnx_tests::random_inputs(3, model.input_shape(), 5);
    const auto back = lamina::onnx::load(path);
    CHECK(max_abs_difference(model.predict(x), back.predict(x)) == 0);
    CHECK(back.name() == "file");
    const auto twice = lamina::onnx::load<double>(path);
    Tensor<double> xd(x.shape());
    for (Index i = 0; i < x.size(); ++i) xd.data()[i] = x.data()[i];
    const Tensor<double> y = twice.predict(xd);
    const Tensor<float> expected = model.predict(x);
    for (Index i = 0; i < y.size(); ++i) CHECK(std::abs(y.data()[i] - expected.data()[i]) < 1e-6);

    CHECK_THROWS_MATCHES(lamina::onnx::load(dir.file("missing.onnx")), IoError,
                         test::error(ErrorId::io_open, {"missing.onnx"}));
    std::ofstream(dir.file("text.onnx")) << "this is not protobuf";
    CHECK_THROWS_MATCHES(lamina::onnx::load(dir.file("text.onnx")), FormatError,
                         test::error(ErrorId::format_header, {"text.onnx", "not an ONNX model"}));
    std::ofstream(dir.file("empty.onnx"));
    CHECK_THROWS_MATCHES(lamina::onnx::load(dir.file("empty.onnx")), FormatError,
                         test::error(ErrorId::format_header, {"empty.onnx", "0 bytes"}));
}

TEST_CASE("PyTorch's graphs: Gemm with transB, MatMul + Add, the dynamic-batch Reshape, Dropout") {
    // (N, 2, 3, 3) -> Conv 2x2 (pads 1, "same"? no: valid) -> Reshape(N, -1) from Shape/Gather/Unsqueeze/Concat
    // -> Gemm transB alpha 0.5 beta 2 -> Relu -> Dropout -> MatMul -> Add(bias, x) -> Softmax.
    ProtoBuilder b({2, 3, 3}, 13);
    b.weights("conv.weight", {2, 2, 2, 2}, iota(16));
    b.weights("conv.bias", {2}, {0.1f, -0.2f});
    set_ints(b.node("Conv", "/conv/Conv", {"x", "conv.weight", "conv.bias"}, "c"), "kernel_shape", {2, 2});
    b.node("Shape", "/Shape", {"c"}, "s");
    b.ints("zero", {0}, /*scalar=*/true);
    set_int(b.node("Gather", "/Gather", {"s", "zero"}, "n"), "axis", 0);
    b.ints("axes", {0});
    b.node("Unsqueeze", "/Unsqueeze", {"n", "axes"}, "n1");
    b.ints("minus_one", {-1});
    set_int(b.node("Concat", "/Concat", {"n1", "minus_one"}, "shape"), "axis", 0);
    b.node("Reshape", "/Reshape", {"c", "shape"}, "flat");  // (N, 8)
    b.weights("fc1.weight", {3, 8}, iota(24, 0.2f));        // (units, in): transB
    b.weights("fc1.bias", {3}, {0.5f, -0.5f, 0.25f});
    auto& gemm = b.node("Gemm", "/fc1/Gemm", {"flat", "fc1.weight", "fc1.bias"}, "h");
    set_int(gemm, "transB", 1);
    set_float(gemm, "alpha", 0.5f);
    set_float(gemm, "beta", 2.0f);
    b.node("Relu", "/act/Relu", {"h"}, "r");
    b.node("Dropout", "/drop/Dropout", {"r"}, "d");
    b.weights("fc2.weight_t", {3, 2}, {1, -1, 0.5f, 2, -0.5f, 0.25f});
    b.weights("fc2.bias", {2}, {0.125f, -0.125f});
    b.node("MatMul", "/fc2/MatMul", {"d", "fc2.weight_t"}, "m");
    b.node("Add", "/fc2/Add", {"fc2.bias", "m"}, "a");
    set_int(b.node("Softmax", "/softmax/Softmax", {"a"}, "y"), "axis", 1);
    const auto model = lamina::onnx::from_model_proto(b.output("y"));

    std::vector<std::string> types, names;
    for (std::size_t i = 0; i < model.size(); ++i) {
        types.push_back(model.layer(i).type());
        names.push_back(model.layer(i).name());
    }
    CHECK(types == std::vector<std::string>{"Conv2D", "Flatten", "Dense", "Activation", "Dropout", "Dense", "Softmax"});
    CHECK(names == std::vector<std::string>{"/conv", "/Reshape", "/fc1", "/act", "/drop", "/fc2", "/softmax"});

    // The same computation written out.
    const Tensor<float> x = onnx_tests::random_inputs(2, Shape{2, 3, 3}, 9);
    const Tensor<float> y = model.predict(x);
    const auto cw = iota(16), f1 = iota(24, 0.2f);
    const float cb[] = {0.1f, -0.2f}, b1[] = {0.5f, -0.5f, 0.25f}, w2[] = {1, -1, 0.5f, 2, -0.5f, 0.25f},
                b2[] = {0.125f, -0.125f};
    for (Index s = 0; s < 2; ++s) {
        float flat[8];
        for (int f = 0; f < 2; ++f)
            for (int i = 0; i < 2; ++i)
                for (int j = 0; j < 2; ++j) {
                    double acc = cb[f];
                    for (int c = 0; c < 2; ++c)
                        for (int u = 0; u < 2; ++u)
                            for (int v = 0; v < 2; ++v)
                                acc += double(cw[std::size_t(((f * 2 + c) * 2 + u) * 2 + v)]) *
                                       x.data()[s * 18 + c * 9 + (i + u) * 3 + (j + v)];
                    flat[f * 4 + i * 2 + j] = float(acc);
                }
        double h[3], logits[2];
        for (int u = 0; u < 3; ++u) {
            double acc = 0;
            for (int k = 0; k < 8; ++k) acc += double(f1[std::size_t(u * 8 + k)]) * flat[k];
            h[u] = std::max(0.0, 0.5 * acc + 2.0 * b1[u]);
        }
        for (int o = 0; o < 2; ++o) logits[o] = b2[o] + h[0] * w2[o] + h[1] * w2[2 + o] + h[2] * w2[4 + o];
        const double e0 = std::exp(logits[0]), e1 = std::exp(logits[1]);
        CHECK(std::abs(y.data()[s * 2] - e0 / (e0 + e1)) < 1e-5);
        CHECK(std::abs(y.data()[s * 2 + 1] - e1 / (e0 + e1)) < 1e-5);
    }
}

TEST_CASE("auto_pad SAME_UPPER and VALID are lamina's same and valid; count_include_pad without pads is lamina's") {
    ProtoBuilder b({1, 5, 5});
    b.weights("w", {2, 1, 3, 3}, iota(18));
    auto& conv = b.node("Conv", "conv", {"x", "w"}, "c");
    set_string(conv, "auto_pad", "SAME_UPPER");
    set_ints(conv, "strides", {2, 2});
    auto& pool = b.node("AveragePool", "pool", {"c"}, "p");
    set_string(pool, "auto_pad", "VALID");
    set_ints(pool, "kernel_shape", {2, 2});
    set_int(pool, "count_include_pad", 1);
    const auto model = lamina::onnx::from_model_proto(b.output("p"));
    CHECK(config_value(model.layer(0).config(), "padding") == "same");
    CHECK(config_value(model.layer(1).config(), "padding") == "valid");
    CHECK(model.output_shape() == Shape{2, 2, 2});
}

TEST_CASE("onnx::load refuses what lamina has no equivalent for, naming the node and what") {
    SECTION("an unknown operator") {
        ProtoBuilder b({4});
        b.node("Elu", "elu_1", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"node 'elu_1' (Elu)", "operator Elu is not supported"}));
    }
    SECTION("LogSoftmax") {
        ProtoBuilder b({4});
        b.node("LogSoftmax", "ls", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"node 'ls' (LogSoftmax)", "no log-softmax"}));
    }
    SECTION("Softmax over another axis than the features") {
        ProtoBuilder b({4});
        set_int(b.node("Softmax", "sm", {"x"}, "y"), "axis", 0);
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"node 'sm' (Softmax)", "axis 0"}));
    }
    SECTION("Conv attributes: dilations, group, asymmetric pads, SAME_LOWER, an unknown attribute") {
        auto b = conv_model();
        set_ints(*b.g.mutable_node(0), "dilations", {2, 2});
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.m), FormatError,
                             refused({"node 'conv' (Conv)", "dilations (2, 2)"}));
        auto g = conv_model();
        set_int(*g.g.mutable_node(0), "group", 2);
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(g.m), FormatError, refused({"node 'conv'", "group 2"}));
        auto p = conv_model();
        set_ints(*p.g.mutable_node(0), "pads", {1, 1, 0, 0});
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(p.m), FormatError,
                             refused({"node 'conv'", "pads (1, 1, 0, 0)", "(1, 1, 1, 1) (\"same\")"}));
        auto l = conv_model();
        set_ints(*l.g.mutable_node(0), "strides", {2, 2});
        set_string(*l.g.mutable_node(0), "auto_pad", "SAME_LOWER");
        auto& w = *l.g.mutable_initializer(0);  // 2 x 2 kernel: SAME_LOWER pads before, lamina after
        w.clear_dims();
        w.clear_float_data();
        for (const auto d : {3, 2, 2, 2}) w.add_dims(d);
        for (const auto v : iota(24)) w.add_float_data(v);
        l.g.mutable_node(0)->mutable_attribute(0)->set_ints(0, 2);
        l.g.mutable_node(0)->mutable_attribute(0)->set_ints(1, 2);
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(l.m), FormatError,
                             refused({"node 'conv'", "pads (1, 1, 0, 0)"}));
        auto u = conv_model();
        set_int(*u.g.mutable_node(0), "frobnicate", 1);
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(u.m), FormatError,
                             refused({"node 'conv'", "attribute 'frobnicate'"}));
    }
    SECTION("pooling: ceil_mode, count_include_pad with padding") {
        ProtoBuilder b({1, 5, 5});
        auto& n = b.node("MaxPool", "mp", {"x"}, "y");
        set_ints(n, "kernel_shape", {2, 2});
        set_int(n, "ceil_mode", 1);
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"node 'mp' (MaxPool)", "ceil_mode = 1"}));
        ProtoBuilder a({1, 5, 5});
        auto& m = a.node("AveragePool", "ap", {"x"}, "y");
        set_ints(m, "kernel_shape", {3, 3});
        set_ints(m, "pads", {1, 1, 1, 1});
        set_int(m, "count_include_pad", 1);
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(a.output("y")), FormatError,
                             refused({"node 'ap' (AveragePool)", "count_include_pad = 1"}));
    }
    SECTION("a branching graph") {
        ProtoBuilder b({4});
        b.node("Relu", "a", {"x"}, "r");
        b.node("Sigmoid", "b", {"x"}, "s");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("r")), FormatError,
                             refused({"'x' is read by 2 operators", "branches"}));
    }
    SECTION("two graph inputs, an int64 input, an input of rank 5 or of unknown size") {
        ProtoBuilder b({4});
        b.g.add_input()->CopyFrom(b.g.input(0));
        b.g.mutable_input(1)->set_name("x2");
        b.node("Relu", "r", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"more than one input ('x', 'x2')"}));
        ProtoBuilder i({4}, 17, ::onnx::TensorProto::INT64);
        i.node("Relu", "r", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(i.output("y")), FormatError,
                             refused({"the graph's input 'x' is int64"}));
        ProtoBuilder r({1, 2, 3, 4});
        r.node("Relu", "r", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(r.output("y")), FormatError, refused({"has rank 5"}));
        ProtoBuilder s({4, 4});
        s.g.mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_param(
            "W");
        s.node("Relu", "r", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(s.output("y")), FormatError,
                             refused({"dimension 2 has no fixed size"}));
    }
    SECTION("an opset outside 7 to 21, another domain") {
        ProtoBuilder b({4}, 6);
        b.node("Relu", "r", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError, refused({"opset 6"}));
        ProtoBuilder c({4}, 22);
        c.node("Relu", "r", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(c.output("y")), FormatError, refused({"opset 22"}));
        ProtoBuilder d({4});
        d.node("Relu", "r", {"x"}, "y").set_domain("com.microsoft");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(d.output("y")), FormatError,
                             refused({"node 'r' (Relu)", "domain 'com.microsoft'"}));
    }
    SECTION("weights: the wrong shape, another type, external data, a weight that is not a constant") {
        ProtoBuilder b({4});
        b.weights("w", {3, 2}, iota(6));
        b.node("Gemm", "fc", {"x", "w"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"node 'fc' (Gemm)", "weight 'w' is (3, 2)", "(4, units)"}));
        ProtoBuilder d({4});
        d.weights("w", {4, 2}, {}).set_data_type(::onnx::TensorProto::DOUBLE);
        d.node("Gemm", "fc", {"x", "w"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(d.output("y")), FormatError,
                             refused({"weight 'w' of node 'fc' (Gemm) is float64"}));
        ProtoBuilder e({4});
        auto& t = e.weights("w", {4, 2}, {});
        t.set_data_location(::onnx::TensorProto::EXTERNAL);
        e.node("Gemm", "fc", {"x", "w"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(e.output("y")), FormatError, refused({"external file"}));
        ProtoBuilder r({4});
        r.node("Shape", "shape", {"x"}, "s");
        r.node("MatMul", "mm", {"x", "s"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(r.output("y")), FormatError,
                             refused({"node 'mm' (MatMul)", "the weight 's' is not a constant"}));
    }
    SECTION("GlobalAveragePool not flattened, a Reshape that is not (N, -1), an Add that is not a bias") {
        ProtoBuilder b({2, 3, 3});
        b.node("GlobalAveragePool", "gap", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"(N, C, 1, 1)", "add a Flatten"}));
        ProtoBuilder r({2, 3, 3});
        r.ints("shape", {0, 3, 6});
        r.node("Reshape", "rs", {"x", "shape"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(r.output("y")), FormatError,
                             refused({"node 'rs' (Reshape)", "a reshape to (0, 3, 6)"}));
        ProtoBuilder a({3});
        a.weights("c", {3}, {1, 2, 3});
        a.node("Add", "add", {"x", "c"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(a.output("y")), FormatError,
                             refused({"node 'add' (Add)", "not the bias"}));
        ProtoBuilder f({2, 3});
        set_int(f.node("Flatten", "fl", {"x"}, "y"), "axis", 2);
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(f.output("y")), FormatError,
                             refused({"node 'fl' (Flatten)", "axis 2"}));
    }
    SECTION("BatchNormalization in training mode, Dropout's mask used") {
        ProtoBuilder b({2});
        for (const char* w : {"s", "b", "m", "v"}) b.weights(w, {2}, {1, 1});
        set_int(b.node("BatchNormalization", "bn", {"x", "s", "b", "m", "v"}, "y"), "training_mode", 1);
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"node 'bn' (BatchNormalization)", "training_mode = 1"}));
        ProtoBuilder d({2});
        d.node("Dropout", "do", {"x"}, "y").add_output("mask");
        d.g.add_output()->set_name("mask");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(d.output("y")), FormatError, refused({"2 outputs"}));
    }
}

TEST_CASE("onnx::load refuses malformed and hostile tensors before allocating") {
    SECTION("dims whose product overflows") {
        ProtoBuilder b({4});
        auto& t = b.weights("w", {std::int64_t(1) << 40, std::int64_t(1) << 40}, {});
        (void)t;
        b.node("MatMul", "mm", {"x", "w"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                             refused({"weight 'w' is (1099511627776, 1099511627776)"}));
        ProtoBuilder c({1, 5, 5});
        c.weights("w", {std::int64_t(1) << 41, 1, 1, 1}, {});
        c.weights("b", {std::int64_t(1) << 62}, {});
        c.node("Conv", "conv", {"x", "w", "b"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(c.output("y")), FormatError,
                             test::error(ErrorId::format_header, {"claim more than"}));
    }
    SECTION("raw_data shorter or longer than the dims say, float_data of the wrong count") {
        for (const std::size_t bytes : {std::size_t(0), std::size_t(28), std::size_t(36)}) {
            ProtoBuilder b({4});
            b.weights("w", {4, 2}, {}).set_raw_data(std::string(bytes, '\0'));
            b.node("MatMul", "mm", {"x", "w"}, "y");
            CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError,
                                 test::error(ErrorId::format_header, {"need 32 bytes of raw_data"}));
        }
        ProtoBuilder f({4});
        f.weights("w", {4, 2}, iota(7));
        f.node("MatMul", "mm", {"x", "w"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(f.output("y")), FormatError,
                             test::error(ErrorId::format_header, {"need 8 values, float_data has 7"}));
    }
    SECTION("a huge input, a negative dimension, a name nothing makes, no graph") {
        ProtoBuilder b({std::int64_t(1) << 30, std::int64_t(1) << 30, 4});
        b.node("Relu", "r", {"x"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(b.output("y")), FormatError, refused({"2^40 elements"}));
        ProtoBuilder n({4});
        n.weights("w", {-4, 2}, {});
        n.node("MatMul", "mm", {"x", "w"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(n.output("y")), FormatError, refused({"(-4, 2)"}));
        ProtoBuilder m({4});
        m.node("MatMul", "mm", {"x", "nowhere"}, "y");
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(m.output("y")), FormatError,
                             test::error(ErrorId::format_header, {"reads 'nowhere'"}));
        ::onnx::ModelProto empty;
        CHECK_THROWS_MATCHES(lamina::onnx::from_model_proto(empty), FormatError,
                             test::error(ErrorId::format_header, {"no graph"}));
    }
    SECTION("bytes that are not an ONNX model, null data") {
        const std::string junk = "\x0a\xff\xff\xff\xff\x0f";
        CHECK_THROWS_MATCHES(lamina::onnx::load_from_memory(junk.data(), junk.size()), FormatError,
                             test::error(ErrorId::format_header, {"not an ONNX model"}));
        CHECK_THROWS_AS(lamina::onnx::load_from_memory(nullptr, 4), ConfigError);
    }
}
