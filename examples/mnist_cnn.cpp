// mnist_cnn: convolutional networks on MNIST, past 99 %.
//
//   keras  Conv2D(32, 3, relu) -> MaxPool2D(2) -> Conv2D(64, 3, relu) -> MaxPool2D(2)
//          -> Flatten -> Dense(128, relu) -> Dense(10) logits; Adam(1e-3);
//          SparseCategoricalCrossentropy(from_logits=true); 3 epochs, batch 64
//          (the Keras documentation's simple MNIST convnet, shortened).
//   deep   3 x [Conv2D(64, 3) -> Activation(relu) -> MaxPool2D(2)] -> Flatten
//          -> Dense(64, relu) -> Dense(32, relu) -> Dense(10, softmax); Adam;
//          SparseCategoricalCrossentropy; 5 epochs, batch 32, validation_split
//          0.3 (notebook 003). The notebook's "valid" padding shrinks
//          28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1 and leaves 64 features (97.6 %
//          measured); "same" convolutions keep 28 -> 14 -> 7 -> 3 and 576
//          features, which is what lamina runs.
//
// Inputs are pixels / 255 for both networks. --normalize 1 applies the
// notebook's tf.keras.utils.normalize(x, axis=1) instead (each image column
// scaled to unit L2 norm), which costs the deep network about half a point
// of test accuracy (docs/performance.md).
//
// --dataset fashion trains the same networks on Fashion-MNIST instead
// (dataset_flag.hpp). The last line is always "test_accuracy=A test_loss=L"
// so scripts can read it.
#include <lamina/lamina.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <utility>

#include "cli.hpp"
#include "dataset_flag.hpp"
#include "device_flag.hpp"
#include "networks.hpp"
#include "plot_flags.hpp"
#include "training_flags.hpp"

using namespace lamina;

namespace {

const char* usage =
    "usage: mnist_cnn [--net keras|deep] [--epochs N] [--batch-size B] [--dataset mnist|fashion] [--data DIR]\n"
    "                 [--seed S] [--threads T] [--verbose 0|1|2] [--normalize 0|1] [--device cpu|cuda]\n"
    "                 [--save PATH] [--resume PATH] [--early-stopping N] [--checkpoint PATTERN] [--csv FILE]\n"
    "                 [--plots DIR]\n"
    "Defaults follow each network's notebook, with inputs pixels / 255 (--normalize 1: notebook 003's\n"
    "per-column L2 normalisation). --dataset mnist reads the bundled data/mnist; --dataset fashion reads\n"
    "Fashion-MNIST from /usr/share/datasets/fashion-mnist ('apt install dataset-fashion-mnist');\n"
    "--data DIR reads the data set from DIR instead.\n"
    "--resume continues a --save'd or --checkpoint'ed run of the same --net up to --epochs in total.\n";

}  // namespace

int main(int argc, char** argv) {
    examples::Cli cli(
        argc, argv, usage,
        examples::PlotFlags::names(examples::TrainingFlags::names(
            {"net", "epochs", "batch-size", "dataset", "data", "seed", "threads", "verbose", "normalize", "device"})));
    const std::string net = cli.get_choice("net", "keras", {"keras", "deep"});
    const bool keras = net == "keras";
    const int epochs = int(cli.get_int("epochs", keras ? 3 : 5, 0, 100000));
    const Index batch_size = cli.get_int("batch-size", keras ? 64 : 32, 1, 1 << 20);
    const examples::DatasetFlag dataset(cli, LAMINA_DEFAULT_DATA_DIR);
    const auto seed = static_cast<std::uint64_t>(cli.get_int("seed", 1, 0, (1LL << 62)));
    const int verbose = int(cli.get_int("verbose", 1, 0, 2));
    const bool normalize = cli.get_int("normalize", 0, 0, 1) != 0;
    if (cli.has("threads")) set_num_threads(int(cli.get_int("threads", 1, 1, 1024)));
    const examples::TrainingFlags training(cli);
    training.check_outputs(cli, /*validates=*/!keras);
    const examples::PlotFlags plots(cli);
    const examples::Device device(cli.get_choice("device", "cpu", {"cpu", "cuda"}));

    try {
        std::cout << build_info() << "; device " << device.describe() << "\n";
        auto mnist = dataset.load();
        std::cout << dataset.title() << ": train " << mnist.train.x.shape().str() << ", test "
                  << mnist.test.x.shape().str() << "\n";
        if (normalize) {
            // The notebook's normalize(x, axis=1) on (N, 28, 28) is axis 2 of (N, 1, 28, 28).
            mnist.train.x = datasets::normalize(mnist.train.x, 2);
            mnist.test.x = datasets::normalize(mnist.test.x, 2);
        }

        auto resumed = training.resumed();
        Sequential<float> model = resumed ? std::move(*resumed) : Sequential<float>("sequential", seed);
        if (!resumed) {
            examples::add_cnn(model, net);
            model.build(mnist.train.x.shape().without_batch());
            examples::compile_cnn(model, net);
        }
        model.summary();

        FitOptions<float> options;
        options.epochs = epochs;
        options.batch_size = batch_size;
        options.verbose = verbose;
        options.seed = seed;
        if (!keras) options.validation_split = 0.3;
        training.configure(options, model, /*validates=*/!keras);
        const auto [history, result] =
            device.fit_and_evaluate(model, mnist.train.x, mnist.train.y, options, mnist.test.x, mnist.test.y);
        training.save_if_asked(model);
        plots.write(model, history, mnist.test.x, mnist.test.y);
        std::printf("test_accuracy=%.4f test_loss=%.4f\n", result.accuracy(), result.loss);
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
