// tests/onnx/torch_roundtrip.cpp: PyTorch's exported models
// (tests/onnx/torch_models.py) through lamina::onnx::load (ctest -L onnx).
//
//   onnx_torch_roundtrip MODELS_DIR MNIST_DIR
//
// For each model of MODELS_DIR/manifest.txt (its format is in
// torch_models.py): imports NAME.onnx, prints the layers lamina built,
// predicts NAME.input.f32 and compares with PyTorch's NAME.expected.f32
// (max |lamina - torch| <= 1e-5). A model PyTorch trained also carries its
// test accuracy and predicted labels: lamina scores the imported model on
// MNIST_DIR's 10,000 test images, and the accuracies must agree within
// 0.0005. Last, the imported W3 is compiled and fine-tuned for an epoch on
// 2,000 training images (it must score better on the test set than before),
// saved as a lamina model file and loaded back: the same predictions, bit
// for bit. Exit status: 0 when all hold, 1 otherwise, 77 (skipped) when
// MODELS_DIR/SKIPPED says why the export did not run.
#include <lamina/lamina.hpp>
#include <lamina/onnx/import.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "max_abs_difference.hpp"

namespace fs = std::filesystem;
using namespace lamina;
using test::max_abs_difference;

namespace {

constexpr double max_error = 1e-5;
constexpr double max_accuracy_gap = 0.0005;

struct Entry {
    std::string name;
    int opset = 0;
    Shape input, output;
    std::optional<double> accuracy;  // PyTorch's test accuracy, for a trained model
};

std::vector<Entry> read_manifest(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw IoError(ErrorId::io_open, "cannot open '" + path.string() + "': did onnx.torch_export run?");
    std::vector<Entry> entries;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        Entry e;
        Index n = 0, c = 0, h = 0, w = 0, outputs = 0;
        if (!(fields >> e.name >> e.opset >> n >> c >> h >> w >> outputs))
            throw FormatError(ErrorId::format_header, path.string() + ": cannot read the line '" + line + "'");
        e.input = Shape{n, c, h, w};
        e.output = Shape{n, outputs};
        if (double a = 0; fields >> a) e.accuracy = a;
        entries.push_back(e);
    }
    if (entries.empty()) throw FormatError(ErrorId::format_header, path.string() + " lists no model");
    return entries;
}

// A headerless float32 file of exactly `shape`'s size.
Tensor<float> read_floats(const fs::path& path, const Shape& shape) {
    Tensor<float> t(shape);
    const std::size_t bytes = static_cast<std::size_t>(t.size()) * sizeof(float);
    const auto data = io::read_file_bytes(path.string(), bytes, "torch_roundtrip");
    if (data.size() != bytes)
        throw FormatError(ErrorId::format_header, path.string() + " holds " + std::to_string(data.size()) +
                                                      " bytes, not the " + std::to_string(bytes) + " of " +
                                                      shape.str());
    std::memcpy(t.data(), data.data(), bytes);
    return t;
}

std::string layer_list(const Sequential<float>& model) {
    std::string out;
    for (std::size_t i = 0; i < model.size(); ++i) {
        const auto& layer = model.layer(i);
        std::string settings;
        for (const auto& [key, value] : layer.config())
            if (key == "units" || key == "filters" || key == "kernel_size" || key == "pool_size" ||
                (key == "activation" && value != "linear"))
                settings += (settings.empty() ? "" : ", ") + value;
        out += (i ? ", " : "") + layer.name() + " " + layer.type() + (settings.empty() ? "" : "(" + settings + ")");
    }
    return out;
}

// The argmax of each row of (N, classes) outputs.
std::vector<int> predicted_labels(const Tensor<float>& p) {
    std::vector<int> labels(static_cast<std::size_t>(p.rows()));
    for (Index r = 0; r < p.rows(); ++r) {
        const float* row = p.data() + r * p.cols();
        labels[static_cast<std::size_t>(r)] = static_cast<int>(std::max_element(row, row + p.cols()) - row);
    }
    return labels;
}

double accuracy_of(const std::vector<int>& labels, const Tensor<std::int32_t>& truth) {
    Index correct = 0;
    for (Index i = 0; i < truth.size(); ++i) correct += labels[static_cast<std::size_t>(i)] == truth.data()[i];
    return double(correct) / double(truth.size());
}

// The trained model scored on the test set as PyTorch scored it.
bool check_accuracy(const Sequential<float>& model, const Entry& e, const fs::path& dir,
                    const datasets::Dataset<float>& mnist) {
    const auto labels = predicted_labels(model.predict(mnist.test.x, 1000));
    const double accuracy = accuracy_of(labels, mnist.test.y);
    const auto torch_labels = io::read_file_bytes((dir / (e.name + ".labels.u8")).string(), 1 << 20, "torch_roundtrip");
    if (torch_labels.size() != labels.size()) {
        std::cout << "  FAILED: " << e.name << ".labels.u8 holds " << torch_labels.size() << " labels, not "
                  << labels.size() << "\n";
        return false;
    }
    std::size_t disagree = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) disagree += labels[i] != int(torch_labels[i]);
    std::printf("  test accuracy: lamina %.4f, PyTorch %.4f; %zu of %zu test images predicted differently\n", accuracy,
                *e.accuracy, disagree, labels.size());
    if (std::abs(accuracy - *e.accuracy) > max_accuracy_gap) {
        std::printf("  FAILED: the accuracies differ by more than %g\n", max_accuracy_gap);
        return false;
    }
    return true;
}

// The imported model trains and saves as any lamina model does.
bool check_fine_tune(Sequential<float> model, const fs::path& dir, const datasets::Dataset<float>& mnist) {
    const Index train = 2000, test = 1000;
    const Tensor<float> x_test = mnist.test.x.slice_rows(0, test);
    const Tensor<std::int32_t> y_test = mnist.test.y.slice_rows(0, test);
    const double before = accuracy_of(predicted_labels(model.predict(x_test)), y_test);
    model.compile(Adam(1e-3), SparseCategoricalCrossentropy(/*from_logits=*/true), {metrics::accuracy});
    FitOptions<float> options;
    options.epochs = 1;
    options.batch_size = 64;
    options.verbose = 0;
    options.seed = 1;
    model.fit(mnist.train.x.slice_rows(0, train), mnist.train.y.slice_rows(0, train), options);
    const Tensor<float> tuned = model.predict(x_test);
    const double after = accuracy_of(predicted_labels(tuned), y_test);
    const std::string file = (dir / "w3_finetuned.lamina").string();
    model.save(file);
    const Tensor<float> reloaded = Sequential<float>::load(file).predict(x_test);
    const double difference = max_abs_difference(tuned, reloaded);
    std::printf(
        "w3 fine-tuned one epoch on %lld training images: accuracy on %lld test images %.3f -> %.3f; "
        "saved to %s and loaded back: max difference %g\n",
        static_cast<long long>(train), static_cast<long long>(test), before, after, file.c_str(), difference);
    if (!(after > before)) std::cout << "  FAILED: fine-tuning did not raise the accuracy\n";
    if (difference != 0) std::cout << "  FAILED: the reloaded model predicts differently\n";
    return after > before && difference == 0;
}

int run(const fs::path& dir, const std::string& mnist_dir) {
    const auto entries = read_manifest(dir / "manifest.txt");
    std::optional<datasets::Dataset<float>> mnist;
    auto data = [&]() -> const datasets::Dataset<float>& {
        if (!mnist) mnist = datasets::load_mnist<float>(mnist_dir);
        return *mnist;
    };
    bool ok = true;
    std::optional<Sequential<float>> w3;
    for (const auto& e : entries) {
        std::cout << e.name << " (opset " << e.opset << ")\n";
        try {
            Sequential<float> model = lamina::onnx::load<float>((dir / (e.name + ".onnx")).string());
            std::cout << "  lamina: " << layer_list(model) << "\n";
            const Tensor<float> x = read_floats(dir / (e.name + ".input.f32"), e.input);
            const Tensor<float> expected = read_floats(dir / (e.name + ".expected.f32"), e.output);
            const double error = max_abs_difference(model.predict(x), expected);
            std::printf("  max |lamina - PyTorch| on %lld inputs: %.3g\n", static_cast<long long>(e.input[0]), error);
            if (error > max_error) {
                std::printf("  FAILED: above %g\n", max_error);
                ok = false;
            }
            if (e.accuracy) ok = check_accuracy(model, e, dir, data()) && ok;
            if (e.name == "w3") w3 = std::move(model);
        } catch (const Error& err) {
            std::cout << "  FAILED: " << err.what() << "\n";
            ok = false;
        }
    }
    if (!w3) {
        std::cout << "FAILED: the manifest has no w3 to fine-tune\n";
        return 1;
    }
    ok = check_fine_tune(std::move(*w3), dir, data()) && ok;
    std::cout << (ok ? "all models agree with PyTorch\n" : "FAILED\n");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: onnx_torch_roundtrip MODELS_DIR MNIST_DIR\n";
        return 2;
    }
    const fs::path dir = argv[1];
    if (std::ifstream skipped(dir / "SKIPPED"); skipped) {
        std::cout << skipped.rdbuf();
        return 77;
    }
    try {
        return run(dir, argv[2]);
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
