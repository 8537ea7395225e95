// bench_mlp_epoch: one training epoch of the notebook MLPs on the full
// 60,000-image MNIST training set, plus the machine's SGEMM peak measured by
// Eigen in the same binary (so each result can be read as a fraction of it).
//
//   build/benchmarks/bench_mlp_epoch --benchmark_min_time=1   (OMP_NUM_THREADS=2)
//
// W1 keras128: Flatten-Dense(128, relu)-Dropout(0.2)-Dense(10), Adam, batch 32.
// W2 dense512: Flatten-Dense(512, relu)-Dense(10, softmax), RMSprop, batch 128.
// mlp300:      Flatten-Dense(300)-Dense(100)-Dense(10, softmax), SGD, batch 32.
// Counters: epoch time is the benchmark time; "GFLOP/s" counts the GEMM work
// of forward + backward (2 flops per multiply-add).
#include "../examples/networks.hpp"
#include "bench_common.hpp"

using namespace lamina;
using bench::mnist;

namespace {

// dense512's CategoricalCrossentropy wants one-hot targets, as in its notebook.
const Tensor<float>& one_hot_train_labels() {
    static const auto y = datasets::to_categorical<float>(mnist().train.y, 10);
    return y;
}

template <class Setup, class Labels>
void run_epoch(benchmark::State& state, Setup setup, const Labels& y, Index batch, double flops_per_sample) {
    const auto& data = mnist();
    Sequential<float> model("bench", 1);
    setup(model);
    FitOptions<float> o;
    o.epochs = 1;
    o.batch_size = batch;
    o.verbose = 0;
    model.fit(data.train.x, y, o);  // warm-up: builds, sizes buffers, faults pages in
    for (auto _ : state) model.fit(data.train.x, y, o);
    state.counters["GFLOP/s"] = benchmark::Counter(flops_per_sample * double(data.train.x.rows()) / 1e9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(state.iterations() * data.train.x.rows());
}

void BM_W1_keras128_epoch(benchmark::State& state) {
    // forward 1x, dW 1x (no dx for the first layer), dW + dx for the second.
    const double macs = 784.0 * 128 * 2 + 128.0 * 10 * 3;
    run_epoch(
        state,
        [](Sequential<float>& m) {
            examples::add_mlp(m, "keras128");
            examples::compile_mlp(m, "keras128", "adam");
        },
        mnist().train.y, 32, 2 * macs);
}

void BM_W2_dense512_epoch(benchmark::State& state) {
    const double macs = 784.0 * 512 * 2 + 512.0 * 10 * 3;
    run_epoch(
        state,
        [](Sequential<float>& m) {
            examples::add_mlp(m, "dense512");
            examples::compile_mlp(m, "dense512", "rmsprop");
        },
        one_hot_train_labels(), 128, 2 * macs);
}

void BM_mlp300_epoch(benchmark::State& state) {
    const double macs = 784.0 * 300 * 2 + (300.0 * 100 + 100.0 * 10) * 3;
    run_epoch(
        state,
        [](Sequential<float>& m) {
            examples::add_mlp(m, "mlp300");
            examples::compile_mlp(m, "mlp300", "sgd");
        },
        mnist().train.y, 32, 2 * macs);
}

// The two GEMMs that dominate W2: forward x(128x784).W(784x512) and dW = x^T dz.
void BM_dense512_forward_gemm(benchmark::State& state) {
    Tensor<float> x(Shape{128, 784}, 0.5f), w(Shape{784, 512}, 0.01f), y(Shape{128, 512});
    for (auto _ : state) {
        Backend<Cpu>::gemm(false, false, 128, 512, 784, 1.0f, x.data(), w.data(), 0.0f, y.data());
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * 128 * 784 * 512 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_dense512_weight_gradient_gemm(benchmark::State& state) {
    Tensor<float> x(Shape{128, 784}, 0.5f), dz(Shape{128, 512}, 0.01f), dw(Shape{784, 512}, 0.0f);
    for (auto _ : state) {
        Backend<Cpu>::gemm(true, false, 784, 512, 128, 1.0f, x.data(), dz.data(), 1.0f, dw.data());
        benchmark::DoNotOptimize(dw.data());
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * 128 * 784 * 512 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// The same two products as Eigen expressions on row-major maps (Eigen's own
// threading and packing buffers): what Backend<Cpu>::gemm replaced, kept as its
// yardstick.
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void BM_dense512_forward_eigen_product(benchmark::State& state) {
    Tensor<float> x(Shape{128, 784}, 0.5f), w(Shape{784, 512}, 0.01f), y(Shape{128, 512});
    Eigen::Map<const RowMatrix> X(x.data(), 128, 784), W(w.data(), 784, 512);
    Eigen::Map<RowMatrix> Y(y.data(), 128, 512);
    for (auto _ : state) {
        Y.noalias() = X * W;
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * 128 * 784 * 512 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_dense512_weight_gradient_eigen_product(benchmark::State& state) {
    Tensor<float> x(Shape{128, 784}, 0.5f), dz(Shape{128, 512}, 0.01f), dw(Shape{784, 512}, 0.0f);
    Eigen::Map<const RowMatrix> X(x.data(), 128, 784), DZ(dz.data(), 128, 512);
    Eigen::Map<RowMatrix> DW(dw.data(), 784, 512);
    for (auto _ : state) {
        DW.noalias() += X.transpose() * DZ;
        benchmark::DoNotOptimize(dw.data());
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * 128 * 784 * 512 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_lamina_gemm_square(benchmark::State& state) {
    const Index n = state.range(0);
    Tensor<float> a(Shape{n, n}, 1.0f), b(Shape{n, n}, 0.5f), c(Shape{n, n});
    for (auto _ : state) {
        Backend<Cpu>::gemm(false, false, n, n, n, 1.0f, a.data(), b.data(), 0.0f, c.data());
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(n) * double(n) * double(n) / 1e9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(bench::BM_sgemm_peak)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_dense512_forward_gemm)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dense512_weight_gradient_gemm)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dense512_forward_eigen_product)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_dense512_weight_gradient_eigen_product)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lamina_gemm_square)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_W1_keras128_epoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_W2_dense512_epoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_mlp300_epoch)->Unit(benchmark::kMillisecond)->MinTime(2.0);

int main(int argc, char** argv) { return bench::run(argc, argv); }
