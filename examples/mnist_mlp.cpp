// mnist_mlp: the multi-layer perceptrons of the Keras MNIST notebooks, in C++.
//
//   keras128  Flatten -> Dense(128, relu) -> Dropout(0.2) -> Dense(10) logits;
//             Adam; SparseCategoricalCrossentropy(from_logits=true); 5 epochs, batch 32
//             (the TensorFlow beginner notebook, reported 97.70 %).
//   dense512  Dense(512, relu) -> Dense(10, softmax); RMSprop; CategoricalCrossentropy
//             on to_categorical labels; 10 epochs, batch 128 (reported 98.07 %).
//   mlp300    Dense(300, relu) -> Dense(100, relu) -> Dense(10, softmax); SGD;
//             30 epochs, batch 32; the first 5,000 training images are the
//             validation set (reported 97.9 % validation accuracy).
//
// --dataset fashion trains the same networks on Fashion-MNIST instead
// (dataset_flag.hpp). The last line is always "test_accuracy=A test_loss=L"
// so scripts can read it.
#include <lamina/lamina.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <tuple>
#include <utility>

#include "cli.hpp"
#include "dataset_flag.hpp"
#include "device_flag.hpp"
#include "distributed_flag.hpp"
#include "networks.hpp"
#include "onnx_flag.hpp"
#include "plot_flags.hpp"
#include "training_flags.hpp"

using namespace lamina;

namespace {

const char* usage =
    "usage: mnist_mlp [--net keras128|dense512|mlp300] [--epochs N] [--batch-size B]\n"
    "                 [--optimizer sgd|adam|rmsprop] [--dataset mnist|fashion] [--data DIR] [--seed S]\n"
    "                 [--threads T] [--verbose 0|1|2] [--device cpu|cuda] [--distributed]\n"
    "                 [--save PATH] [--resume PATH] [--early-stopping N] [--checkpoint PATTERN] [--csv FILE]\n"
    "                 [--plots DIR] [--export-onnx PATH]\n"
    "Defaults follow each network's notebook. --dataset mnist reads the bundled data/mnist; --dataset fashion\n"
    "reads Fashion-MNIST from /usr/share/datasets/fashion-mnist ('apt install dataset-fashion-mnist');\n"
    "--data DIR reads the data set from DIR instead.\n"
    "--resume continues a --save'd or --checkpoint'ed run of the same --net up to --epochs in total.\n"
    "--distributed trains data-parallel on every process mpirun starts (a LAMINA_MPI=ON build), e.g.\n"
    "  mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1 mnist_mlp --distributed\n"
    "--export-onnx PATH writes the trained model as an ONNX file (a LAMINA_ONNX=ON build; docs/onnx.md).\n";

struct NetDefaults {
    int epochs;
    Index batch_size;
    std::string optimizer;
};

NetDefaults defaults_for(const std::string& net) {
    if (net == "dense512") return {10, 128, "rmsprop"};
    if (net == "mlp300") return {30, 32, "sgd"};
    return {5, 32, "adam"};
}

}  // namespace

int main(int argc, char** argv) {
    examples::Cli cli(
        argc, argv, usage,
        examples::OnnxExport::names(examples::PlotFlags::names(examples::TrainingFlags::names(
            {"net", "epochs", "batch-size", "optimizer", "dataset", "data", "seed", "threads", "verbose", "device"}))),
        {"distributed"});
    const std::string net = cli.get_choice("net", "keras128", {"keras128", "dense512", "mlp300"});
    const NetDefaults d = defaults_for(net);
    const int epochs = int(cli.get_int("epochs", d.epochs, 0, 100000));
    const Index batch_size = cli.get_int("batch-size", d.batch_size, 1, 1 << 20);
    const std::string optimizer = cli.get_choice("optimizer", d.optimizer, {"sgd", "adam", "rmsprop"});
    const examples::DatasetFlag dataset(cli, LAMINA_DEFAULT_DATA_DIR);
    const auto seed = static_cast<std::uint64_t>(cli.get_int("seed", 1, 0, (1LL << 62)));
    const int verbose = int(cli.get_int("verbose", 1, 0, 2));
    if (cli.has("threads")) set_num_threads(int(cli.get_int("threads", 1, 1, 1024)));
    const examples::TrainingFlags training(cli);
    training.check_outputs(cli, /*validates=*/net == "mlp300");
    const examples::PlotFlags plots(cli);
    const examples::OnnxExport onnx_export(cli);
    const examples::Device device(cli.get_choice("device", "cpu", {"cpu", "cuda"}));
    examples::Distributed distributed(cli.has("distributed"), argc, argv);

    try {
        std::cout << build_info() << "; device " << device.describe() << "\n";
        auto mnist = dataset.load();
        std::cout << dataset.title() << ": train " << mnist.train.x.shape().str() << ", test "
                  << mnist.test.x.shape().str() << "\n";

        auto resumed = training.resumed();
        Sequential<float> model = resumed ? std::move(*resumed) : Sequential<float>("sequential", seed);
        if (!resumed) {
            examples::add_mlp(model, net);
            model.build(mnist.train.x.shape().without_batch());
            examples::compile_mlp(model, net, optimizer);
        }
        model.summary();

        FitOptions<float> options;
        options.epochs = epochs;
        options.batch_size = batch_size;
        options.verbose = verbose;
        options.seed = seed;
        training.configure(options, model, /*validates=*/net == "mlp300");
        options.distributed = distributed.communicator();
        distributed.training_starts();

        Evaluation result;
        History history;
        if (net == "dense512") {
            const auto y_train = datasets::to_categorical<float>(mnist.train.y, 10);
            const auto y_test = datasets::to_categorical<float>(mnist.test.y, 10);
            std::tie(history, result) =
                device.fit_and_evaluate(model, mnist.train.x, y_train, options, mnist.test.x, y_test);
        } else if (net == "mlp300") {
            // As the notebook: the first 5,000 training images validate, the rest train.
            auto split = datasets::validation_from_start(mnist.train.x, mnist.train.y, Index(5000));
            options.validation_data.emplace(std::move(split.x_val), std::move(split.y_val));
            std::tie(history, result) =
                device.fit_and_evaluate(model, split.x_train, split.y_train, options, mnist.test.x, mnist.test.y);
        } else {
            std::tie(history, result) =
                device.fit_and_evaluate(model, mnist.train.x, mnist.train.y, options, mnist.test.x, mnist.test.y);
        }
        distributed.report();
        if (distributed.primary()) {  // every rank holds the same model and results
            training.save_if_asked(model);
            plots.write(model, history, mnist.test.x, mnist.test.y);
            onnx_export.write_if_asked(model);
            std::printf("test_accuracy=%.4f test_loss=%.4f\n", result.accuracy(), result.loss);
        }
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
