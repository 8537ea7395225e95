// tests/onnx/export_networks.cpp: writes the models the ONNX checker and
// ONNX Runtime tests read (ctest -L onnx).
//
//   onnx_export_networks OUT_DIR MODEL_FILE
//   onnx_export_networks --corpus DIR       the seeds of tests/fuzz/corpus/onnx/
//
// For each network of onnx_networks.hpp (random weights) and for the trained
// MODEL_FILE (data/models/mnist_cnn.lamina), writes into OUT_DIR:
//   NAME.onnx            lamina::onnx::save's file
//   NAME.input.f32       a few random inputs, float32 little-endian, row-major
//   NAME.expected.f32    lamina's predict() for them
// and manifest.json, which lists each NAME with its input and output shapes.
#include <lamina/lamina.hpp>
#include <lamina/onnx/export.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "onnx/onnx_networks.hpp"

namespace {

void write_floats(const std::string& path, const lamina::Tensor<float>& t) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(t.size() * sizeof(float)));
    if (!f) throw lamina::IoError(lamina::ErrorId::io_write, "cannot write '" + path + "'");
}

std::string json_shape(const lamina::Shape& s) {
    std::string out = "[";
    for (int i = 0; i < s.rank(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

// Exports `model`, writes its test inputs and lamina's outputs, and returns its manifest entry.
std::string export_one(const std::string& dir, const std::string& name, const lamina::Sequential<float>& model,
                       std::uint64_t seed) {
    const lamina::Tensor<float> x = onnx_tests::random_inputs(3, model.input_shape(), seed);
    const lamina::Tensor<float> y = model.predict(x);
    lamina::onnx::save(model, dir + "/" + name + ".onnx");
    write_floats(dir + "/" + name + ".input.f32", x);
    write_floats(dir + "/" + name + ".expected.f32", y);
    std::cout << "exported " << name << ": input " << x.shape().str() << ", output " << y.shape().str() << "\n";
    return "  {\"name\": \"" + name + "\", \"input_shape\": " + json_shape(x.shape()) +
           ", \"output_shape\": " + json_shape(y.shape()) + "}";
}

}  // namespace

// Small files for the importer's fuzzer: every_layer at a small size, an MLP
// with a softmax, a CNN whose BatchNormalization follows a Conv2D.
int write_corpus(const std::string& dir) {
    using namespace lamina;
    Sequential<float> every("every_layer", 1);
    onnx_tests::add_every_layer(every);
    every.build(Shape{2, 15, 19});
    Sequential<float> mlp("mlp", 2);
    mlp.add(Flatten());
    mlp.add(Dense(6, Activation::ReLU));
    mlp.add(Dropout(0.2));
    mlp.add(Dense(3, Activation::Softmax));
    mlp.build(Shape{1, 3, 3});
    Sequential<float> cnn("cnn", 3);
    cnn.add(Conv2D(2, 3, Padding::Same));
    cnn.add(BatchNormalization());
    cnn.add(Activation(Activation::ReLU));
    cnn.add(MaxPooling2D(2));
    cnn.add(GlobalAveragePooling2D());
    cnn.add(Dense(2, Activation::Sigmoid));
    cnn.build(Shape{1, 6, 6});
    for (auto* m : {&every, &mlp, &cnn}) {
        onnx_tests::randomize_weights(*m, 7);
        lamina::onnx::save(*m, dir + "/" + m->name() + ".onnx");
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--corpus") {
        try {
            return write_corpus(argv[2]);
        } catch (const lamina::Error& e) {
            std::cerr << "error: " << e.what() << "\n";
            return 1;
        }
    }
    if (argc != 3) {
        std::cerr << "usage: onnx_export_networks OUT_DIR MODEL_FILE | --corpus DIR\n";
        return 2;
    }
    const std::string dir = argv[1];
    try {
        std::string manifest = "[\n";
        std::uint64_t seed = 1;
        for (const auto& net : onnx_tests::onnx_test_networks()) {
            lamina::Sequential<float> model(net.name, seed);
            net.add(model);
            model.build(net.sample);
            onnx_tests::randomize_weights(model, seed + 100, net.kernel_scale);
            manifest += export_one(dir, net.name, model, seed + 200) + ",\n";
            ++seed;
        }
        const auto trained = lamina::Sequential<float>::load(argv[2]);
        manifest += export_one(dir, "mnist_cnn_file", trained, seed + 200) + "\n]\n";
        std::ofstream(dir + "/manifest.json") << manifest;
    } catch (const lamina::Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
