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
//   best   3 x [Conv2D(32|64|128, 3, same, no bias) -> MaxPool2D(2)
//          -> BatchNormalization -> relu], the middle block (64) led by a
//          second Conv2D(64, 3, same, no bias) -> BatchNormalization -> relu;
//          -> Flatten
//          -> Dense(128, no bias) -> BatchNormalization -> relu -> Dropout(0.3)
//          -> Dense(10) logits; AdamW(weight_decay 5e-4) on a one-cycle
//          schedule peaking at 0.005 over the whole run;
//          SparseCategoricalCrossentropy(from_logits=true, label_smoothing=0.1);
//          20 epochs, batch 128, augmented on MNIST (docs/tutorial.md builds
//          it up from keras step by step).
//
// --augment 1 puts RandomRotation(0.03) -> RandomZoom(0.1) ->
// RandomTranslation(0.1, 0.1), constant fill, in front of any of them: they
// change the images in fit only. It is on by default for best on MNIST
// only: digits vary in slant, size and place, while Fashion-MNIST's items
// are centred and upright, and there it cost almost two points
// (docs/performance.md).
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
#include "distributed_flag.hpp"
#include "networks.hpp"
#include "onnx_flag.hpp"
#include "plot_flags.hpp"
#include "training_flags.hpp"

using namespace lamina;

namespace {

const char* usage =
    "usage: mnist_cnn [--net keras|deep|best] [--epochs N] [--batch-size B] [--dataset mnist|fashion]\n"
    "                 [--data DIR] [--seed S] [--threads T] [--verbose 0|1|2] [--normalize 0|1] [--augment 0|1]\n"
    "                 [--device cpu|cuda] [--distributed] [--save PATH] [--resume PATH] [--early-stopping N]\n"
    "                 [--checkpoint PATTERN] [--csv FILE] [--plots DIR] [--export-onnx PATH]\n"
    "Defaults follow each network's notebook (keras, deep) or docs/tutorial.md (best: 20 epochs, batch\n"
    "128), with inputs pixels / 255 (--normalize 1: notebook 003's per-column L2 normalisation).\n"
    "--augment 1 adds random rotations, zooms and shifts in training (the default for best on MNIST).\n"
    "--dataset mnist reads the bundled data/mnist; --dataset fashion reads Fashion-MNIST from\n"
    "/usr/share/datasets/fashion-mnist ('apt install dataset-fashion-mnist'); --data DIR reads the data\n"
    "set from DIR instead.\n"
    "--resume continues a --save'd or --checkpoint'ed run of the same --net up to --epochs in total.\n"
    "--distributed trains data-parallel on every process mpirun starts (a LAMINA_MPI=ON build), e.g.\n"
    "  mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1 mnist_cnn --distributed\n"
    "--export-onnx PATH writes the trained model as an ONNX file (a LAMINA_ONNX=ON build; docs/onnx.md).\n";

}  // namespace

int main(int argc, char** argv) {
    examples::Cli cli(argc, argv, usage,
                      examples::OnnxExport::names(examples::PlotFlags::names(
                          examples::TrainingFlags::names({"net", "epochs", "batch-size", "dataset", "data", "seed",
                                                          "threads", "verbose", "normalize", "augment", "device"}))),
                      {"distributed"});
    const std::string net = cli.get_choice("net", "keras", {"keras", "deep", "best"});
    const bool deep = net == "deep";  // the only one that holds out a validation set
    const int epochs = int(cli.get_int("epochs", net == "keras" ? 3 : deep ? 5 : 20, 0, 100000));
    const Index batch_size = cli.get_int("batch-size", net == "keras" ? 64 : deep ? 32 : 128, 1, 1 << 20);
    const examples::DatasetFlag dataset(cli, LAMINA_DEFAULT_DATA_DIR);
    const auto seed = static_cast<std::uint64_t>(cli.get_int("seed", 1, 0, (1LL << 62)));
    const int verbose = int(cli.get_int("verbose", 1, 0, 2));
    const bool normalize = cli.get_int("normalize", 0, 0, 1) != 0;
    const bool augment = cli.get_int("augment", net == "best" && !dataset.fashion(), 0, 1) != 0;
    if (cli.has("threads")) set_num_threads(int(cli.get_int("threads", 1, 1, 1024)));
    const examples::TrainingFlags training(cli);
    training.check_outputs(cli, /*validates=*/deep);
    const examples::PlotFlags plots(cli);
    const examples::OnnxExport onnx_export(cli);
    const examples::Device device(cli.get_choice("device", "cpu", {"cpu", "cuda"}));
    examples::Distributed distributed(cli.has("distributed"), argc, argv);

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
            examples::add_cnn(model, net, augment);
            model.build(mnist.train.x.shape().without_batch());
            // best's schedule spans the whole run (it holds out no validation rows).
            const Index rows = mnist.train.x.shape()[0];
            examples::compile_cnn(model, net, static_cast<long long>(epochs) * ((rows + batch_size - 1) / batch_size));
        }
        model.summary();

        FitOptions<float> options;
        options.epochs = epochs;
        options.batch_size = batch_size;
        options.verbose = verbose;
        options.seed = seed;
        if (deep) options.validation_split = 0.3;
        training.configure(options, model, /*validates=*/deep);
        options.distributed = distributed.communicator();
        distributed.training_starts();
        const auto [history, result] =
            device.fit_and_evaluate(model, mnist.train.x, mnist.train.y, options, mnist.test.x, mnist.test.y);
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
