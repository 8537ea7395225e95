// tests/onnx/conformance.cpp: ONNX's own node tests (Debian's
// libonnx-testdata) through lamina::onnx's importer.
//
//   onnx_conformance NODE_DIR
//
// For each test directory under NODE_DIR (/usr/share/libonnx-testdata/data/node)
// of an operator the importer reads, loads model.onnx, imports it, runs
// predict on test_data_set_0/input_0.pb and compares with output_0.pb:
// |lamina - reference| <= 1e-5 + 1e-5 |reference| for every element. The
// tests give weights (a Conv's W, a Gemm's B and C) as graph inputs with
// values in input_1.pb, ...; lamina's weights are constants, so those inputs
// become initializers holding the test's values before import. Prints per
// operator how many tests passed, were refused (each with the importer's
// reason) or came out wrong. Exit status: 1 if any is wrong or none passed,
// 77 (skipped) when NODE_DIR does not exist, 0 otherwise.
#include <lamina/lamina.hpp>
#include <lamina/onnx/import.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Operators the importer reads, each with the test-name prefixes that exercise it.
const std::vector<std::pair<std::string, std::vector<std::string>>> operators = {
    {"Conv", {"test_conv_"}},
    {"MaxPool", {"test_maxpool_"}},
    {"AveragePool", {"test_averagepool_"}},
    {"GlobalAveragePool", {"test_globalaveragepool"}},
    {"Gemm", {"test_gemm_"}},
    {"MatMul", {"test_matmul_"}},
    {"Add", {"test_add"}},
    {"Relu", {"test_relu"}},
    {"Sigmoid", {"test_sigmoid"}},
    {"Tanh", {"test_tanh"}},
    {"Softmax", {"test_softmax_"}},
    {"LogSoftmax", {"test_logsoftmax_"}},
    {"Flatten", {"test_flatten_"}},
    {"Reshape", {"test_reshape_"}},
    {"Dropout", {"test_dropout_"}},
    {"BatchNormalization", {"test_batchnorm_"}},
    {"Identity", {"test_identity"}},
};

::onnx::TensorProto read_tensor(const fs::path& path) {
    const auto bytes = lamina::io::read_file_bytes(path.string(), lamina::onnx::max_import_bytes, "conformance");
    ::onnx::TensorProto t;
    if (!t.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        throw lamina::FormatError(lamina::ErrorId::format_header, "cannot parse " + path.string());
    return t;
}

// A float32 TensorProto's values (raw_data or float_data) and dims.
std::vector<float> float_values(const ::onnx::TensorProto& t, const std::string& who) {
    if (t.data_type() != ::onnx::TensorProto::FLOAT)
        throw lamina::FormatError(lamina::ErrorId::format_unsupported,
                                  who + " is not float32 (data type " + std::to_string(t.data_type()) + ")");
    std::vector<float> v;
    if (t.has_raw_data()) {
        v.resize(t.raw_data().size() / 4);
        std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
    } else {
        v.assign(t.float_data().begin(), t.float_data().end());
    }
    return v;
}

struct Outcome {
    enum Kind { Passed, Refused, Wrong } kind;
    std::string detail;
};

Outcome run_test(const fs::path& dir) {
    const auto model_bytes =
        lamina::io::read_file_bytes((dir / "model.onnx").string(), lamina::onnx::max_import_bytes, "conformance");
    ::onnx::ModelProto model;
    if (!model.ParseFromArray(model_bytes.data(), static_cast<int>(model_bytes.size())))
        return {Outcome::Wrong, "model.onnx does not parse"};
    const fs::path data = dir / "test_data_set_0";
    // Inputs after the first become initializers holding the test's values.
    auto& graph = *model.mutable_graph();
    for (int i = 1; i < graph.input_size(); ++i) {
        const fs::path file = data / ("input_" + std::to_string(i) + ".pb");
        if (!fs::exists(file)) continue;  // an optional input left out
        ::onnx::TensorProto t = read_tensor(file);
        t.set_name(graph.input(i).name());
        *graph.add_initializer() = t;
    }
    std::optional<lamina::Sequential<float>> imported;
    try {
        imported.emplace(lamina::onnx::from_model_proto(model, dir.filename().string()));
    } catch (const lamina::Error& e) {
        return {Outcome::Refused, e.message()};
    }
    try {
        const ::onnx::TensorProto in = read_tensor(data / "input_0.pb");
        const ::onnx::TensorProto out = read_tensor(data / "output_0.pb");
        const std::vector<float> x_values = float_values(in, "input_0.pb");
        const std::vector<float> expected = float_values(out, "output_0.pb");
        if (in.dims_size() < 2) return {Outcome::Wrong, "imported, but input_0.pb has rank < 2"};
        lamina::Tensor<float> x(imported->input_shape().with_batch(in.dims(0)));
        if (std::size_t(x.size()) != x_values.size())
            return {Outcome::Wrong, "imported with input " + x.shape().str() + ", but input_0.pb holds " +
                                        std::to_string(x_values.size()) + " values"};
        std::copy(x_values.begin(), x_values.end(), x.data());
        const lamina::Tensor<float> y = imported->predict(x);
        std::vector<std::int64_t> y_dims, ref_dims(out.dims().begin(), out.dims().end());
        for (int i = 0; i < y.shape().rank(); ++i) y_dims.push_back(y.shape()[i]);
        if (y_dims != ref_dims || expected.size() != std::size_t(y.size()))
            return {Outcome::Wrong, "output " + y.shape().str() + ", the reference's has " +
                                        std::to_string(out.dims_size()) + " dims and " +
                                        std::to_string(expected.size()) + " values"};
        double worst = 0;
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const double d = std::abs(double(y.data()[i]) - double(expected[i]));
            if (!(d <= 1e-5 + 1e-5 * std::abs(double(expected[i]))))
                return {Outcome::Wrong, "element " + std::to_string(i) + ": lamina " + std::to_string(y.data()[i]) +
                                            ", reference " + std::to_string(expected[i])};
            worst = std::max(worst, d);
        }
        char text[64];
        std::snprintf(text, sizeof text, "max abs difference %.2g", worst);
        return {Outcome::Passed, text};
    } catch (const lamina::Error& e) {
        return {Outcome::Wrong, std::string("imported, then failed: ") + e.what()};
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: onnx_conformance NODE_DIR\n";
        return 2;
    }
    const fs::path root = argv[1];
    if (!fs::is_directory(root)) {
        std::cout << "skipped: no ONNX node tests at " << root.string()
                  << " (Debian: apt-get install libonnx-testdata; scripts/install-deps.sh --with-onnx)\n";
        return 77;
    }
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory()) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());

    int total_passed = 0, total_wrong = 0, total_refused = 0;
    std::cout << "ONNX node tests through lamina::onnx::from_model_proto (" << root.string() << ")\n";
    std::string table;
    for (const auto& [op, prefixes] : operators) {
        int passed = 0, refused = 0, wrong = 0;
        for (const auto& dir : dirs) {
            const std::string name = dir.filename().string();
            bool match = false;
            for (const auto& p : prefixes) match = match || name.rfind(p, 0) == 0;
            // test_add_* are Add; test_conv_* excludes ConvInteger/ConvTranspose by the underscore.
            if (!match) continue;
            const Outcome o = run_test(dir);
            const char* kind = o.kind == Outcome::Passed ? "passed" : o.kind == Outcome::Refused ? "refused" : "WRONG";
            std::cout << "  " << op << "  " << name << ": " << kind << ": " << o.detail << "\n";
            (o.kind == Outcome::Passed ? passed : o.kind == Outcome::Refused ? refused : wrong)++;
        }
        char line[128];
        std::snprintf(line, sizeof line, "%-20s %6d %7d %5d\n", op.c_str(), passed, refused, wrong);
        table += line;
        total_passed += passed;
        total_refused += refused;
        total_wrong += wrong;
    }
    std::cout << "\noperator             passed refused wrong\n"
              << table << "total                " << total_passed << " passed, " << total_refused << " refused, "
              << total_wrong << " wrong\n";
    if (total_wrong > 0) return 1;
    if (total_passed == 0) {
        std::cout << "no test passed: the runner or the data is broken\n";
        return 1;
    }
    return 0;
}
