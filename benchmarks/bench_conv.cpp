// bench_conv: Conv2D and MaxPooling2D kernels at the shapes of mnist_cnn's
// `keras` network (batch 64), one epoch of that network on the 60,000 MNIST
// training images, and the machine's SGEMM peak measured in the same binary.
//
//   build/benchmarks/bench_conv                (OMP_NUM_THREADS=2)
//
// "GFLOP/s" counts 2 flops per multiply-add of the convolution itself
// (forward: N*F*OH*OW*C*KH*KW; backward: twice that with dx, once without).
// conv1: (1, 28, 28) -> 32 x 3x3 -> (32, 26, 26); the first layer, so
//        training never computes its dx; backward here is dW + db only.
// conv2: (32, 13, 13) -> 64 x 3x3 -> (64, 11, 11); backward is dW + db + dx.
#include "../examples/networks.hpp"
#include "bench_common.hpp"

using namespace lamina;
using bench::mnist;

namespace {

constexpr Index batch = 64;

struct Case {
    Shape sample;
    Index filters;
    bool needs_dx;
};

const Case conv1{Shape{1, 28, 28}, 32, false};
const Case conv2{Shape{32, 13, 13}, 64, true};

using Bench = bench::LayerFixture;

template <class Spec>
Bench make(const Spec& spec, const Shape& sample) {
    return bench::make_layer(spec, sample, batch);
}

double conv_flops(const Case& c, const Bench& b) {
    const Shape out = b.layer->output_shape();
    return 2.0 * double(batch) * double(out.size()) * double(c.sample[0]) * 9.0;
}

void BM_conv_forward(benchmark::State& state, const Case& c) {
    auto b = make(Conv2D(c.filters, 3, Activation::ReLU), c.sample);
    for (auto _ : state) {
        b.layer->forward(b.x, b.y, Mode::Training);
        benchmark::DoNotOptimize(b.y.data());
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(conv_flops(c, b) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_conv_backward(benchmark::State& state, const Case& c) {
    auto b = make(Conv2D(c.filters, 3, Activation::ReLU), c.sample);
    b.layer->forward(b.x, b.y, Mode::Training);
    for (auto _ : state) {
        b.layer->backward(b.x, b.y, b.dy, c.needs_dx ? &b.dx : nullptr);
        benchmark::DoNotOptimize(b.dx.data());
    }
    const double flops = conv_flops(c, b) * (c.needs_dx ? 2 : 1);
    state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_maxpool_forward(benchmark::State& state, const Shape& sample) {
    auto b = make(MaxPool2D(2), sample);
    for (auto _ : state) {
        b.layer->forward(b.x, b.y, Mode::Training);
        benchmark::DoNotOptimize(b.y.data());
    }
    state.SetBytesProcessed(state.iterations() * (b.x.size() + b.y.size()) * Index(sizeof(float)));
}

void BM_maxpool_backward(benchmark::State& state, const Shape& sample) {
    auto b = make(MaxPool2D(2), sample);
    b.layer->forward(b.x, b.y, Mode::Training);
    for (auto _ : state) {
        b.layer->backward(b.x, b.y, b.dy, &b.dx);
        benchmark::DoNotOptimize(b.dx.data());
    }
    state.SetBytesProcessed(state.iterations() * (2 * b.x.size() + b.y.size()) * Index(sizeof(float)));
}

// conv2's whole-batch GEMM as one Eigen call (64 x 288 x 7744), Eigen's own
// threading: the baseline the batch-split kernel has to beat.
void BM_conv2_gemm_eigen_threads(benchmark::State& state) {
    const Index m = 64, k = 288, n = batch * 121;
    Tensor<float> w(Shape{m, k}, 0.01f), cols(Shape{k, n}, 0.5f), out(Shape{m, n});
    for (auto _ : state) {
        Backend<Cpu>::gemm(false, false, m, n, k, 1.0f, w.data(), cols.data(), 0.0f, out.data());
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * double(m * n * k) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// One epoch of mnist_cnn --net keras: 938 steps of 64.
void BM_keras_cnn_epoch(benchmark::State& state) {
    const auto& data = mnist();
    Sequential<float> model("bench", 1);
    examples::add_cnn(model, "keras");
    examples::compile_cnn(model, "keras");
    FitOptions<float> o;
    o.epochs = 1;
    o.batch_size = 64;
    o.verbose = 0;
    for (auto _ : state) model.fit(data.train.x, data.train.y, o);
    state.SetItemsProcessed(state.iterations() * data.train.x.rows());
}

}  // namespace

BENCHMARK(bench::BM_sgemm_peak)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_conv2_gemm_eigen_threads)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_conv_forward, conv1, conv1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_conv_backward, conv1, conv1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_conv_forward, conv2, conv2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_conv_backward, conv2, conv2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_maxpool_forward, pool1, Shape{32, 26, 26})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_maxpool_backward, pool1, Shape{32, 26, 26})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_maxpool_forward, pool2, Shape{64, 11, 11})->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_maxpool_backward, pool2, Shape{64, 11, 11})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_keras_cnn_epoch)->Unit(benchmark::kMillisecond)->Iterations(1);

int main(int argc, char** argv) { return bench::run(argc, argv); }
