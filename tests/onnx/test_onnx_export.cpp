// tests/onnx/test_onnx_export.cpp: lamina::onnx::save's file read back with
// ONNX's protobuf classes (its graph, attributes and weights), and its errors.
// ONNX's checker and ONNX Runtime judge the same files in check_models.py and
// compare_onnxruntime.js (ctest -L onnx).
#include <lamina/lamina.hpp>
#include <lamina/onnx/export.hpp>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "matchers.hpp"
#include "temp_dir.hpp"

using namespace lamina;

namespace {

::onnx::ModelProto read_model(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ::onnx::ModelProto m;
    REQUIRE(m.ParseFromString(bytes));
    return m;
}

const ::onnx::NodeProto& node_named(const ::onnx::ModelProto& m, const std::string& name) {
    for (const auto& n : m.graph().node())
        if (n.name() == name) return n;
    FAIL("no node named " << name);
    throw;
}

std::vector<std::int64_t> ints(const ::onnx::NodeProto& n, const std::string& attribute) {
    for (const auto& a : n.attribute())
        if (a.name() == attribute) return {a.ints().begin(), a.ints().end()};
    return {};
}
std::int64_t int_attribute(const ::onnx::NodeProto& n, const std::string& attribute) {
    for (const auto& a : n.attribute())
        if (a.name() == attribute) return a.i();
    return -1;
}

const ::onnx::TensorProto& initializer(const ::onnx::ModelProto& m, const std::string& name) {
    for (const auto& t : m.graph().initializer())
        if (t.name() == name) return t;
    FAIL("no initializer named " << name);
    throw;
}

std::vector<std::string> dims(const ::onnx::ValueInfoProto& v) {
    std::vector<std::string> out;
    for (const auto& d : v.type().tensor_type().shape().dim())
        out.push_back(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()));
    return out;
}

// A layer that no exporter knows.
class Unknown : public Layer<float> {
public:
    std::string type() const override { return "Unknown"; }
    Shape build(const Shape& input, Rng&) override { return this->finish_build(input, input); }
    void infer(const TensorType& x, TensorType& y) const override { Backend<Cpu>::copy(x.view(), y.view()); }
    void backward(const TensorType&, const TensorType&, const TensorType&, TensorType*) override {}
};

}  // namespace

TEST_CASE("an exported CNN is lamina's graph: opset, shapes, windows, weights") {
    Sequential<float> model("cnn", 3);
    model.add(Conv2D(2, 3, 2, Padding::Same, Activation::ReLU));  // (1, 9, 8) -> (2, 5, 4)
    model.add(Dropout(0.5));
    model.add(AveragePooling2D(2, 2, Padding::Same));  // -> (2, 3, 2)
    model.add(MaxPooling2D(2, 1));                     // -> (2, 2, 1)
    model.add(Flatten());
    model.add(Dense(3, Activation::Softmax));
    model.build(Shape{1, 9, 8});
    test::TempDir dir("onnx_export");
    const std::string path = dir.file("cnn.onnx");
    lamina::onnx::save(model, path);

    const ::onnx::ModelProto m = read_model(path);
    CHECK(m.ir_version() == 8);
    REQUIRE(m.opset_import_size() == 1);
    CHECK(m.opset_import(0).domain().empty());
    CHECK(m.opset_import(0).version() == 17);
    CHECK(m.graph().name() == "cnn");
    CHECK(dims(m.graph().input(0)) == std::vector<std::string>{"N", "1", "9", "8"});
    CHECK(m.graph().output(0).name() == "dense");
    CHECK(dims(m.graph().output(0)) == std::vector<std::string>{"N", "3"});

    std::vector<std::string> ops;
    for (const auto& n : m.graph().node()) ops.push_back(n.op_type());
    CHECK(ops == std::vector<std::string>{"Conv", "Relu", "AveragePool", "MaxPool", "Flatten", "Gemm",
                                          "Softmax"});  // no Dropout

    // "same" with stride 2: out = ceil(9/2) = 5 rows, (5-1)*2 + 3 - 9 = 2 padded (1 + 1);
    // ceil(8/2) = 4 columns, (4-1)*2 + 3 - 8 = 1 padded, after (TensorFlow's rule).
    const auto& conv = node_named(m, "conv2d/Conv");
    CHECK(ints(conv, "kernel_shape") == std::vector<std::int64_t>{3, 3});
    CHECK(ints(conv, "strides") == std::vector<std::int64_t>{2, 2});
    CHECK(ints(conv, "pads") == std::vector<std::int64_t>{1, 0, 1, 1});
    CHECK(conv.input(0) == "input");
    CHECK(node_named(m, "conv2d/Relu").output(0) == "conv2d");
    // The pool reads the convolution: Dropout is left out.
    const auto& average = node_named(m, "average_pooling2d");
    CHECK(average.input(0) == "conv2d");
    CHECK(int_attribute(average, "count_include_pad") == 0);
    // (5, 4) pooled 2 by 2, "same": 3 rows (1 padded after), 2 columns (none).
    CHECK(ints(average, "pads") == std::vector<std::int64_t>{0, 0, 1, 0});
    CHECK(ints(node_named(m, "max_pooling2d"), "strides") == std::vector<std::int64_t>{1, 1});
    CHECK(ints(node_named(m, "max_pooling2d"), "pads") == std::vector<std::int64_t>{0, 0, 0, 0});
    CHECK(int_attribute(node_named(m, "dense/Softmax"), "axis") == -1);

    // Weights as lamina holds them: OIHW and (in, units), row-major.
    const auto weights = model.get_weights();
    const auto& kernel = initializer(m, "conv2d/kernel");
    CHECK(std::vector<std::int64_t>(kernel.dims().begin(), kernel.dims().end()) ==
          std::vector<std::int64_t>{2, 1, 3, 3});
    CHECK(std::vector<float>(kernel.float_data().begin(), kernel.float_data().end()) ==
          std::vector<float>(weights[0].data(), weights[0].data() + weights[0].size()));
    const auto& dense = initializer(m, "dense/kernel");
    CHECK(std::vector<std::int64_t>(dense.dims().begin(), dense.dims().end()) == std::vector<std::int64_t>{4, 3});
    CHECK(std::vector<float>(dense.float_data().begin(), dense.float_data().end()) ==
          std::vector<float>(weights[2].data(), weights[2].data() + weights[2].size()));
}

TEST_CASE("BatchNormalization exports its moving statistics, and ones and zeros for a missing gamma and beta") {
    Sequential<float> model("bn", 1);
    model.add(Dense(2, Activation::Linear, /*use_bias=*/false));
    model.add(BatchNormalization(0.9, 0.25, /*center=*/false, /*scale=*/false));
    model.build(Shape{3});
    auto w = model.get_weights();
    w[1].data()[0] = 0.5f;  // moving_mean
    w[2].data()[1] = 4.0f;  // moving_variance
    model.set_weights(w);
    const ::onnx::ModelProto m = lamina::onnx::to_model_proto(model);

    const auto& bn = node_named(m, "batch_normalization");
    CHECK(bn.op_type() == "BatchNormalization");
    REQUIRE(bn.input_size() == 5);
    CHECK(bn.input(0) == "dense");
    CHECK(bn.attribute(0).name() == "epsilon");
    CHECK(bn.attribute(0).f() == 0.25f);
    const auto& gamma = initializer(m, bn.input(1));
    CHECK(std::vector<float>(gamma.float_data().begin(), gamma.float_data().end()) == std::vector<float>{1, 1});
    const auto& beta = initializer(m, bn.input(2));
    CHECK(std::vector<float>(beta.float_data().begin(), beta.float_data().end()) == std::vector<float>{0, 0});
    const auto& mean = initializer(m, bn.input(3));
    CHECK(std::vector<float>(mean.float_data().begin(), mean.float_data().end()) == std::vector<float>{0.5f, 0});
    const auto& variance = initializer(m, bn.input(4));
    CHECK(std::vector<float>(variance.float_data().begin(), variance.float_data().end()) ==
          std::vector<float>{1, 4.0f});
    // No bias: Gemm takes two inputs.
    CHECK(node_named(m, "dense/Gemm").input_size() == 2);
}

TEST_CASE("lamina::onnx::save refuses an unbuilt model") {
    Sequential<float> model("unbuilt");
    model.add(Dense(2));
    test::TempDir dir("onnx_export");
    CHECK_THROWS_MATCHES(lamina::onnx::save(model, dir.file("m.onnx")), ConfigError,
                         test::error(ErrorId::config_state, {"onnx::save: ", "'unbuilt' is not built yet"}));
    CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("lamina::onnx::save to a path it cannot write is an IoError, and leaves no file") {
    Sequential<float> model;
    model.add(Dense(2));
    model.build(Shape{3});
    test::TempDir dir("onnx_export");
    CHECK_THROWS_MATCHES(lamina::onnx::save(model, dir.file("missing/m.onnx")), IoError,
                         test::error(ErrorId::io_write, {"missing/m.onnx"}));
    CHECK_THROWS_MATCHES(lamina::onnx::save(model, dir.path().string()), IoError,
                         test::error(ErrorId::io_write, {"is a directory"}));
    CHECK(std::filesystem::is_empty(dir.path()));

    // Over an existing file: replaced whole, no temporary left.
    const std::string path = dir.file("m.onnx");
    std::ofstream(path) << "old";
    lamina::onnx::save(model, path);
    CHECK(read_model(path).graph().node_size() == 1);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator{}) == 1);
}

TEST_CASE("lamina::onnx::save names a layer it cannot export, and a name two tensors would share") {
    Sequential<float> model("custom");
    model.add(Dense(2));
    model.add(std::make_unique<Unknown>());
    model.build(Shape{3});
    const std::string name = model.layer(1).name();
    CHECK_THROWS_MATCHES(lamina::onnx::to_model_proto(model), ConfigError,
                         test::error(ErrorId::config_unknown_name, {"Unknown '" + name + "'", "no ONNX form"}));

    Sequential<float> clash("clash");
    clash.add(Dense(2).named("input"));
    clash.build(Shape{3});
    CHECK_THROWS_MATCHES(lamina::onnx::to_model_proto(clash), ConfigError,
                         test::error(ErrorId::config_argument, {"Dense 'input'", "a tensor named 'input'"}));
    // A fused activation's output carries the layer's name too.
    Sequential<float> twice("twice");
    twice.add(Dense(2, Activation::ReLU).named("dense/kernel"));
    twice.add(Dense(2, Activation::ReLU).named("dense"));
    twice.build(Shape{3});
    CHECK_THROWS_MATCHES(lamina::onnx::to_model_proto(twice), ConfigError,
                         test::error(ErrorId::config_argument, {"Dense 'dense'", "a tensor named 'dense/kernel'"}));
}

TEST_CASE("a model that inference reduces to nothing exports an Identity") {
    Sequential<float> model;
    model.add(Dropout(0.5));
    model.build(Shape{4});
    const ::onnx::ModelProto m = lamina::onnx::to_model_proto(model);
    REQUIRE(m.graph().node_size() == 1);
    CHECK(m.graph().node(0).op_type() == "Identity");
    CHECK(m.graph().output(0).name() == "output");
    CHECK(dims(m.graph().output(0)) == std::vector<std::string>{"N", "4"});
}
