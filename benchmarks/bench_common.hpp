// benchmarks/bench_common.hpp: what every lamina benchmark shares: the MNIST
// training set, loaded once, the SGEMM peak every GFLOP/s figure is read
// against (Eigen on square matrices, with the same threads), a built layer
// with its buffers for per-layer timings, and main().
#pragma once

#include <algorithm>
#include <chrono>
#include <utility>

#include <benchmark/benchmark.h>

#include <lamina/lamina.hpp>

namespace bench {

inline const lamina::datasets::Dataset<float>& mnist() {
    static const auto data = lamina::datasets::load_mnist<float>(LAMINA_DEFAULT_DATA_DIR);
    return data;
}

// The reference every GFLOP/s is read against: Eigen's own product (its
// threading, its allocations), as a user of Eigen would write it.
inline void BM_sgemm_peak(benchmark::State& state) {
    const Eigen::Index n = state.range(0);
    Eigen::MatrixXf a = Eigen::MatrixXf::Constant(n, n, 1.0f), b = Eigen::MatrixXf::Constant(n, n, 0.5f), c(n, n);
    for (auto _ : state) {
        c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(n) * double(n) * double(n) / 1e9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

// The best GFLOP/s of Eigen's own 1024² product (as BM_sgemm_peak) over
// about half a second, measured on first use and cached: kernels timed later
// in the same process are read as a fraction of it. The best rather than the mean, because on a shared
// machine the mean mixes in other people's load and would flatter the kernels.
inline double sgemm_peak_gflops() {
    static const double peak = [] {
        using clock = std::chrono::steady_clock;
        const Eigen::Index n = 1024;
        Eigen::MatrixXf a = Eigen::MatrixXf::Constant(n, n, 1.0f), b = Eigen::MatrixXf::Constant(n, n, 0.5f), c(n, n);
        double best = 0;
        for (const auto stop = clock::now() + std::chrono::milliseconds(500); clock::now() < stop;) {
            const auto start = clock::now();
            c.noalias() = a * b;
            benchmark::DoNotOptimize(c.data());
            const double seconds = std::chrono::duration<double>(clock::now() - start).count();
            best = std::max(best, 2.0 * double(n) * double(n) * double(n) / seconds / 1e9);
        }
        return best;
    }();
    return peak;
}

// Runs body() once per iteration of the benchmark loop; when flops (per call)
// is positive, sets "GFLOP/s" and "of_peak" (that over sgemm_peak_gflops()).
// Both are timed here on the wall clock, which is what UseRealTime() reports,
// as plain numbers: Google Benchmark would print a rate counter with a "/s"
// that a fraction must not carry. The peak is measured, once, before timing.
template <class Body>
void time_loop(benchmark::State& state, double flops, Body&& body) {
    const double peak = flops > 0 ? sgemm_peak_gflops() : 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) body();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (flops <= 0) return;
    const double gflops = flops * double(state.iterations()) / seconds / 1e9;
    state.counters["GFLOP/s"] = gflops;
    state.counters["of_peak"] = gflops / peak;
}

// A layer built for `sample`, sized for `batch`, with random input x in
// [0, 1), random upstream gradient dy in [-1, 1), and room for y and dx:
// what a per-layer benchmark times forward()/backward() on.
struct LayerFixture {
    lamina::LayerPtr<float, lamina::Cpu> layer;
    lamina::Tensor<float> x, y, dy, dx;
};

inline LayerFixture make_layer(lamina::LayerPtr<float, lamina::Cpu> layer, const lamina::Shape& sample,
                               lamina::Index batch) {
    using namespace lamina;
    Rng rng(1);
    LayerFixture f{std::move(layer), {}, {}, {}, {}};
    f.layer->set_name("bench");
    const Shape out = f.layer->build(sample, rng);
    f.layer->reserve(batch);
    f.x = Tensor<float>(sample.with_batch(batch));
    for (auto& v : f.x) v = float(rng.uniform(0, 1));
    f.y = Tensor<float>(out.with_batch(batch));
    f.dy = Tensor<float>(out.with_batch(batch));
    for (auto& v : f.dy) v = float(rng.uniform(-1, 1));
    f.dx = Tensor<float>(sample.with_batch(batch));
    return f;
}

template <class Spec>
LayerFixture make_layer(const Spec& spec, const lamina::Shape& sample, lamina::Index batch) {
    return make_layer(spec.template make<float, lamina::Cpu>(), sample, batch);
}

// Google Benchmark's main, with lamina's build_info() in the context block so
// every result says which ISA, thread count and build type produced it.
inline int run(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::AddCustomContext("lamina", lamina::build_info());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // namespace bench
