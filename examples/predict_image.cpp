// predict_image: classify pictures of handwritten digits with a saved model.
//
//   predict_image MODEL IMAGE... [--save-preprocessed DIR]
//
// Each IMAGE (PNG, JPEG, BMP, GIF, TGA: a photo of a digit on paper, a
// drawing, an MNIST-like crop) is loaded with io::load_image, turned into an
// MNIST sample with image::preprocess_digit (docs/images.md gives the
// recipe), and classified by MODEL: a file written by Sequential::save (e.g.
// the bundled data/models/mnist_cnn.lamina), or, in a build with
// LAMINA_ONNX=ON, an ONNX file (NAME.onnx, read by lamina::onnx::load:
// lamina's own export, PyTorch's torch.onnx.export, docs/onnx.md) whose input
// is (N, 1, 28, 28). One line per image, in the order given:
//
//   digit.png: 7 (0.981), 1 (0.012), 2 (0.004)
//
// the three likeliest digits with their probabilities. A model whose last
// layer ends in softmax already outputs probabilities; otherwise its outputs
// are logits and go through softmax here.
//
// --save-preprocessed DIR writes each network input as a 28 x 28 grey PNG,
// DIR/<image file name without extension>.png, to see what the model saw.
//
// Errors: a model that cannot be loaded (an .onnx file in a build without
// ONNX among them) or whose input is not (1, 28, 28) prints "error:
// <message>" and exits with status 1 before any image. An image that cannot
// be read or holds no digit prints "error: <message>" on stderr in place of
// its line, the other images are still classified, and the exit status is 1
// at the end. Bad arguments print the usage and exit with status 2.
#include <lamina/images.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#if LAMINA_EXAMPLES_ONNX
#include <lamina/onnx/import.hpp>
#endif

#include "device_flag.hpp"

using namespace lamina;

namespace {

const char* usage =
    "usage: predict_image MODEL IMAGE... [--save-preprocessed DIR] [--device cpu|cuda]\n"
    "Classifies pictures of handwritten digits (PNG, JPEG, BMP, GIF, TGA) with a model saved by\n"
    "Sequential::save, e.g. data/models/mnist_cnn.lamina, or an ONNX file (MODEL.onnx; builds with\n"
    "-DLAMINA_ONNX=ON). Prints 'IMAGE: d (p), d (p), d (p)', the three likeliest digits.\n"
    "--save-preprocessed DIR writes each 28x28 network input as DIR/NAME.png.\n";

[[noreturn]] void usage_error(const std::string& message) {
    std::cerr << "error: " << message << "\n\n" << usage;
    std::exit(2);
}

// Whether the model's outputs are already probabilities: a final softmax,
// as a Dense(..., softmax) or a Softmax layer.
bool ends_in_softmax(const Sequential<float>& model) {
    const auto& last = model.layer(model.size() - 1);
    if (last.type() == "Softmax") return true;
    for (const auto& [key, value] : last.config())
        if (key == "activation" && value == "softmax") return true;
    return false;
}

// A lamina model file, or an ONNX file by its .onnx extension (ONNX files
// have no magic number to tell them by).
Sequential<float> load_model(const std::string& path) {
    if (std::filesystem::path(path).extension() != ".onnx") return Sequential<float>::load(path);
#if LAMINA_EXAMPLES_ONNX
    return lamina::onnx::load<float>(path);
#else
    throw ConfigError(ErrorId::config_argument, "model '" + path +
                                                    "' is an ONNX file, which this build does not read; configure "
                                                    "with -DLAMINA_ONNX=ON (needs libonnx-dev, libprotobuf-dev; "
                                                    "docs/onnx.md)");
#endif
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> positional;
    std::string save_dir, device_name = "cpu";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            return 0;
        }
        if (arg == "--save-preprocessed") {
            if (i + 1 >= argc) usage_error("missing value after --save-preprocessed");
            save_dir = argv[++i];
        } else if (arg == "--device") {
            if (i + 1 >= argc) usage_error("missing value after --device");
            device_name = argv[++i];
            if (device_name != "cpu" && device_name != "cuda")
                usage_error("--device must be cpu or cuda, got '" + device_name + "'");
        } else if (arg.size() > 1 && arg[0] == '-' && arg[1] == '-') {
            usage_error("unknown argument '" + arg + "'");
        } else {
            positional.push_back(arg);
        }
    }
    if (positional.size() < 2) usage_error("need a model file and at least one image");
    const examples::Device device(device_name);

    Sequential<float> model;
    bool softmax_inside = false;
    try {
        model = load_model(positional[0]);
        if (model.input_shape() != Shape{1, 28, 28})
            throw ShapeError(ErrorId::shape_mismatch, "model '" + positional[0] + "' takes samples of shape " +
                                                          model.input_shape().str() +
                                                          ", not the (1, 28, 28) of a preprocessed digit");
        softmax_inside = ends_in_softmax(model);
        if (!save_dir.empty()) std::filesystem::create_directories(save_dir);
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    } catch (const std::filesystem::filesystem_error& e) {
        std::cerr << "error: cannot create '" << save_dir << "': " << e.code().message() << "\n";
        return 1;
    }

    std::function<Tensor<float>(const Tensor<float>&)> predict;
    try {
        predict = device.predictor(model);
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    int status = 0;
    for (std::size_t k = 1; k < positional.size(); ++k) {
        const std::string& path = positional[k];
        try {
            Tensor<float> x = image::preprocess_digit(io::load_image(path));  // (1, 28, 28)
            if (!save_dir.empty())
                io::write_png((std::filesystem::path(save_dir) / std::filesystem::path(path).stem()).string() + ".png",
                              x);
            x.reshape(Shape{1, 1, 28, 28});
            Tensor<float> p = predict(x);  // (1, classes)
            if (!softmax_inside) p = softmax(p);
            std::vector<Index> order(static_cast<std::size_t>(p.cols()));
            std::iota(order.begin(), order.end(), Index(0));
            const auto shown = std::min<std::size_t>(3, order.size());
            std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                              [&](Index a, Index b) { return p[a] > p[b]; });
            std::string line = path + ":";
            for (std::size_t j = 0; j < shown; ++j) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%s %lld (%.3f)", j ? "," : "", static_cast<long long>(order[j]),
                              double(p[order[j]]));
                line += buf;
            }
            std::cout << line << std::endl;
        } catch (const Error& e) {
            std::cerr << "error: " << e.what() << std::endl;
            status = 1;
        }
    }
    return status;
}
