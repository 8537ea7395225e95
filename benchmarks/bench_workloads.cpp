// bench_workloads: lamina's side of benchmarks/compare_pytorch.py. Trains one
// of the compared workloads with the examples' exact settings, times every epoch,
// scores the test set, then times inference at batch 1 and batch 1000, and
// prints one JSON object per line for the script to read.
//
//   bench_workloads --workload keras128|dense512|keras_cnn [--epochs N] [--seed S]
//                   [--data DIR] [--latency-images N] [--batch-size B]
//                   [--inference-batch N] [--device cpu|cuda]
//
// W1 keras128: examples/networks.hpp's keras128, Adam, batch 32 (5 epochs)
// W2 dense512: dense512, RMSprop, one-hot targets, batch 128 (10 epochs)
// W3 keras_cnn: the keras CNN, Adam(1e-3), batch 64 (3 epochs)
// Inference is Sequential::predict, as a user calls it: batch 1 is one call
// per test image (median and mean latency over --latency-images calls, and
// images/s at the median), the large batch is predict(first N test images,
// N), N = --inference-batch (default 1000), repeated for about a second.
// --device cuda trains and predicts with Sequential<float, Cuda> (a build
// with LAMINA_CUDA).
// Last, after everything timed, the CPU's SGEMM peak with the same threads
// (bench::sgemm_peak_gflops(), best of 0.5 s of 1024^3 products), and the
// workload's training FLOPs per epoch: epoch time / (FLOPs / peak) is how far
// an epoch is from the GEMM floor on this machine at this moment.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include "../examples/cli.hpp"
#include "../examples/networks.hpp"
#include "bench_common.hpp"
#if LAMINA_BENCH_CUDA
#include <lamina/cuda.hpp>
#endif

using namespace lamina;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Epoch wall times, as fit() runs them (the gather, the step, the metrics).
struct EpochTimer : Callback {
    Clock::time_point start;
    std::vector<double> times;
    void on_epoch_begin(TrainingControl&, int, const Logs&) override { start = Clock::now(); }
    void on_epoch_end(TrainingControl&, int, const Logs&) override { times.push_back(seconds_since(start)); }
};

struct Workload {
    int epochs;
    Index batch;
};

Workload workload_of(const std::string& name) {
    if (name == "keras128") return {5, 32};
    if (name == "dense512") return {10, 128};
    return {3, 64};  // keras_cnn
}

// One Dense or Conv2D layer as the GEMMs it runs per sample:
// `positions` output positions (1 for Dense, out_h * out_w for Conv2D), each
// a dot product of `fan_in` inputs (Dense: input features; Conv2D: k * k *
// in_channels) with each of `units` kernels (Dense units, Conv2D filters).
struct GemmLayer {
    double positions, fan_in, units;
    bool first;  // the model's first such layer: no dx to compute
};

// The workloads' Dense/Conv2D layers, with the shapes of examples/networks.hpp
// on 28x28x1 MNIST images (a 3x3 valid convolution takes 28 to 26, 13 to 11;
// MaxPool2D(2) 26 to 13, 11 to 5; 5 * 5 * 64 = 1600).
std::vector<GemmLayer> gemm_layers(const std::string& name) {
    if (name == "keras128") return {{1, 784, 128, true}, {1, 128, 10, false}};
    if (name == "dense512") return {{1, 784, 512, true}, {1, 512, 10, false}};
    return {{26 * 26, 3 * 3 * 1, 32, true},  // keras_cnn
            {11 * 11, 3 * 3 * 32, 64, false},
            {1, 1600, 128, false},
            {1, 128, 10, false}};
}

// Training FLOPs of one epoch in its GEMMs. Over the SGEMM peak they give the
// epoch's floor: the time its products alone would take at the peak
// (activations, pooling, the loss and the optimizer are not counted):
//   samples * sum over layers of 2 * positions * fan_in * units * (first ? 2 : 3)
// 2 flops per multiply-add; per layer three products of that size: forward
// (y = x W), the kernel gradient (dW = x^T dy) and the input gradient
// (dx = dy W^T), which the first layer skips. With 60,000 samples:
//   keras128:  60000 * 2 * (784*128*2 + 128*10*3)                                =  24.5 GFLOP
//   dense512:  60000 * 2 * (784*512*2 + 512*10*3)                                =  98.2 GFLOP
//   keras_cnn: 60000 * 2 * (676*9*32*2 + 121*288*64*3 + 1600*128*3 + 128*10*3) = 923.8 GFLOP
double training_flops_per_epoch(const std::string& name, double samples) {
    double per_sample = 0;
    for (const GemmLayer& l : gemm_layers(name))
        per_sample += 2.0 * l.positions * l.fan_in * l.units * (l.first ? 2 : 3);
    return samples * per_sample;
}

// The table above must describe the network that is trained: its kernels and
// biases add up to the model's parameter count.
template <class Model>
void check_gemm_layers(const std::string& name, const Model& model) {
    double params = 0;
    for (const GemmLayer& l : gemm_layers(name)) params += l.fan_in * l.units + l.units;
    if (params != double(model.count_params()))
        throw ConfigError(ErrorId::config_argument, "bench_workloads: the FLOP table of " + name + " has " +
                                                        std::to_string(static_cast<long long>(params)) +
                                                        " parameters, the model " +
                                                        std::to_string(static_cast<long long>(model.count_params())));
}

std::string json_list(const std::vector<double>& v) {
    std::string s = "[";
    char buf[32];
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%s%.6f", i ? ", " : "", v[i]);
        s += buf;
    }
    return s + "]";
}

struct Settings {
    std::string name;
    int epochs;
    Index batch, latency_images, inference_batch;
    std::uint64_t seed;
    std::string data, device;
};

template <class Device>
int run(const Settings& s) {
    const auto mnist = datasets::load_mnist<float>(s.data);
    Sequential<float, Device> model(s.name, s.seed);
    if (s.name == "keras_cnn") {
        examples::add_cnn(model, "keras");
        examples::compile_cnn(model, "keras");
    } else {
        examples::add_mlp(model, s.name);
        examples::compile_mlp(model, s.name, s.name == "keras128" ? "adam" : "rmsprop");
    }
    model.build(mnist.train.x.shape().without_batch());
    check_gemm_layers(s.name, model);

    auto timer = std::make_shared<EpochTimer>();
    FitOptions<float> options;
    options.epochs = s.epochs;
    options.batch_size = s.batch;
    options.verbose = 0;
    options.seed = s.seed;  // as the examples do: the same seed gives their exact run
    options.callbacks.push_back(timer);
    Evaluation result;
    if (s.name == "dense512") {
        model.fit(mnist.train.x, datasets::to_categorical(mnist.train.y, 10), options);
        result = model.evaluate(mnist.test.x, datasets::to_categorical(mnist.test.y, 10));
    } else {
        model.fit(mnist.train.x, mnist.train.y, options);
        result = model.evaluate(mnist.test.x, mnist.test.y);
    }

    // Batch 1: one predict() per image, each its own call.
    std::vector<double> latencies;
    latencies.reserve(std::size_t(s.latency_images));
    for (Index i = 0; i < s.latency_images; ++i) {
        const Tensor<float> one = mnist.test.x.slice_rows(i % mnist.test.x.rows(), 1);
        const auto t0 = Clock::now();
        const Tensor<float> p = model.predict(one, 1);
        latencies.push_back(seconds_since(t0));
        if (p.size() != 10) throw ShapeError(ErrorId::shape_mismatch, "bench_workloads: unexpected output size");
    }
    std::sort(latencies.begin(), latencies.end());
    const double median_latency = latencies[latencies.size() / 2];
    const double mean_latency = std::accumulate(latencies.begin(), latencies.end(), 0.0) / double(latencies.size());

    // The large batch: repeated for at least a second after one warm-up call.
    const Tensor<float> many = mnist.test.x.slice_rows(0, s.inference_batch);
    model.predict(many, s.inference_batch);
    int calls = 0;
    const auto t0 = Clock::now();
    while (calls < 3 || seconds_since(t0) < 1.0) {
        model.predict(many, s.inference_batch);
        ++calls;
    }
    const double batch_seconds = seconds_since(t0) / calls;

    // After everything timed, so that it does not warm or heat what the epochs measure.
    const double peak = bench::sgemm_peak_gflops();
    const double flops = training_flops_per_epoch(s.name, double(mnist.train.x.rows()));

    std::printf(
        "{\"framework\": \"lamina\", \"workload\": \"%s\", \"device\": \"%s\", \"threads\": %d, "
        "\"batch_size\": %lld, \"epoch_seconds\": %s, \"test_accuracy\": %.4f, \"test_loss\": %.4f, "
        "\"batch1_median_s\": %.8f, \"batch1_mean_s\": %.8f, \"batch1_images_per_s\": %.0f, "
        "\"inference_batch\": %lld, "
        "\"batch%lld_s\": %.6f, \"sgemm_peak_gflops\": %.2f, \"train_flops_per_epoch\": %.6g, "
        "\"build\": \"%s\"}\n",
        s.name.c_str(), s.device.c_str(), get_num_threads(), static_cast<long long>(s.batch),
        json_list(timer->times).c_str(), result.accuracy(), result.loss, median_latency, mean_latency,
        1.0 / median_latency, static_cast<long long>(s.inference_batch), static_cast<long long>(s.inference_batch),
        batch_seconds, peak, flops, build_info().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const char* usage =
        "usage: bench_workloads --workload keras128|dense512|keras_cnn [--epochs N] [--seed S] [--data DIR]\n"
        "                       [--latency-images N] [--batch-size B] [--inference-batch N] [--device cpu|cuda]\n";
    try {
        examples::Cli cli(
            argc, argv, usage,
            {"workload", "epochs", "seed", "data", "latency-images", "batch-size", "inference-batch", "device"});
        Settings s;
        s.name = cli.get_choice("workload", "keras_cnn", {"keras128", "dense512", "keras_cnn"});
        const Workload w = workload_of(s.name);
        s.epochs = int(cli.get_int("epochs", w.epochs, 1, 1000));
        s.batch = cli.get_int("batch-size", w.batch, 1, 60000);
        s.seed = std::uint64_t(cli.get_int("seed", 1, 0, 1LL << 62));
        s.latency_images = cli.get_int("latency-images", 2000, 10, 10000);
        s.inference_batch = cli.get_int("inference-batch", 1000, 1, 10000);
        s.data = cli.get("data", LAMINA_DEFAULT_DATA_DIR);
        s.device = cli.get_choice("device", "cpu", {"cpu", "cuda"});
        if (s.device == "cpu") return run<Cpu>(s);
#if LAMINA_BENCH_CUDA
        return run<Cuda>(s);
#else
        throw DeviceError(ErrorId::device_unavailable,
                          "--device cuda: this build has no CUDA backend; configure with -DLAMINA_CUDA=ON");
#endif
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
