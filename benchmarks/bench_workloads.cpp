// bench_workloads: lamina's side of benchmarks/compare_pytorch.py. Trains one
// of issue 5's workloads with the examples' exact settings, times every epoch,
// scores the test set, then times inference at batch 1 and batch 1000, and
// prints one JSON object per line for the script to read.
//
//   bench_workloads --workload keras128|dense512|keras_cnn [--epochs N] [--seed S]
//                   [--data DIR] [--latency-images N]
//
// W1 keras128: examples/networks.hpp's keras128, Adam, batch 32 (5 epochs)
// W2 dense512: dense512, RMSprop, one-hot targets, batch 128 (10 epochs)
// W3 keras_cnn: the keras CNN, Adam(1e-3), batch 64 (3 epochs)
// Inference is Sequential::predict, as a user calls it: batch 1 is one call
// per test image (median and mean latency over --latency-images calls), batch
// 1000 is predict(first 1000 test images, 1000) repeated for about a second.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include "../examples/cli.hpp"
#include "../examples/networks.hpp"

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

std::string json_list(const std::vector<double>& v) {
    std::string s = "[";
    char buf[32];
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%s%.6f", i ? ", " : "", v[i]);
        s += buf;
    }
    return s + "]";
}

}  // namespace

int main(int argc, char** argv) {
    const char* usage =
        "usage: bench_workloads --workload keras128|dense512|keras_cnn [--epochs N] [--seed S] [--data DIR]\n"
        "                       [--latency-images N]\n";
    try {
        examples::Cli cli(argc, argv, usage, {"workload", "epochs", "seed", "data", "latency-images"});
        const std::string name = cli.get_choice("workload", "keras_cnn", {"keras128", "dense512", "keras_cnn"});
        const Workload w = workload_of(name);
        const int epochs = int(cli.get_int("epochs", w.epochs, 1, 1000));
        const auto seed = std::uint64_t(cli.get_int("seed", 1, 0, 1LL << 62));
        const Index latency_images = cli.get_int("latency-images", 2000, 10, 10000);
        const auto mnist = datasets::load_mnist<float>(cli.get("data", LAMINA_DEFAULT_DATA_DIR));

        Sequential<float> model(name, seed);
        if (name == "keras_cnn") {
            examples::add_cnn(model, "keras");
            examples::compile_cnn(model, "keras");
        } else {
            examples::add_mlp(model, name);
            examples::compile_mlp(model, name, name == "keras128" ? "adam" : "rmsprop");
        }
        model.build(mnist.train.x.shape().without_batch());

        auto timer = std::make_shared<EpochTimer>();
        FitOptions<float> options;
        options.epochs = epochs;
        options.batch_size = w.batch;
        options.verbose = 0;
        options.seed = seed;  // as the examples do: the same seed gives their exact run
        options.callbacks.push_back(timer);
        Evaluation result;
        if (name == "dense512") {
            model.fit(mnist.train.x, datasets::to_categorical(mnist.train.y, 10), options);
            result = model.evaluate(mnist.test.x, datasets::to_categorical(mnist.test.y, 10));
        } else {
            model.fit(mnist.train.x, mnist.train.y, options);
            result = model.evaluate(mnist.test.x, mnist.test.y);
        }

        // Batch 1: one predict() per image, each its own call.
        std::vector<double> latencies;
        latencies.reserve(std::size_t(latency_images));
        for (Index i = 0; i < latency_images; ++i) {
            const Tensor<float> one = mnist.test.x.slice_rows(i % mnist.test.x.rows(), 1);
            const auto t0 = Clock::now();
            const Tensor<float> p = model.predict(one, 1);
            latencies.push_back(seconds_since(t0));
            if (p.size() != 10) throw ShapeError(ErrorId::shape_mismatch, "bench_workloads: unexpected output size");
        }
        std::sort(latencies.begin(), latencies.end());
        const double median_latency = latencies[latencies.size() / 2];
        const double mean_latency = std::accumulate(latencies.begin(), latencies.end(), 0.0) / double(latencies.size());

        // Batch 1000: repeated for at least a second after one warm-up call.
        const Tensor<float> thousand = mnist.test.x.slice_rows(0, 1000);
        model.predict(thousand, 1000);
        int calls = 0;
        const auto t0 = Clock::now();
        while (calls < 3 || seconds_since(t0) < 1.0) {
            model.predict(thousand, 1000);
            ++calls;
        }
        const double batch1000 = seconds_since(t0) / calls;

        std::printf(
            "{\"framework\": \"lamina\", \"workload\": \"%s\", \"threads\": %d, \"epoch_seconds\": %s, "
            "\"test_accuracy\": %.4f, \"test_loss\": %.4f, \"batch1_median_s\": %.8f, \"batch1_mean_s\": %.8f, "
            "\"batch1000_s\": %.6f, \"build\": \"%s\"}\n",
            name.c_str(), get_num_threads(), json_list(timer->times).c_str(), result.accuracy(), result.loss,
            median_latency, mean_latency, batch1000, build_info().c_str());
        return 0;
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
