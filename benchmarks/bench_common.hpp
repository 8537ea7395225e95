// benchmarks/bench_common.hpp: what every lamina benchmark shares: the MNIST
// training set, loaded once, the SGEMM peak every GFLOP/s figure is read
// against (Eigen on square matrices, with the same threads), and main().
#pragma once

#include <benchmark/benchmark.h>

#include <lamina/lamina.hpp>

namespace bench {

inline const lamina::datasets::Dataset<float>& mnist() {
    static const auto data = lamina::datasets::load_mnist<float>(LAMINA_DEFAULT_DATA_DIR);
    return data;
}

inline void BM_sgemm_peak(benchmark::State& state) {
    using namespace lamina;
    const Index n = state.range(0);
    Tensor<float> a(Shape{n, n}, 1.0f), b(Shape{n, n}, 0.5f), c(Shape{n, n});
    for (auto _ : state) {
        backend::gemm(Cpu{}, false, false, n, n, n, 1.0f, a.data(), b.data(), 0.0f, c.data());
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(n) * double(n) * double(n) / 1e9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
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
