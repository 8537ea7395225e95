// bench_allreduce: what a gradient sum costs between the ranks of an MPI job,
// whole and in the buckets a distributed fit uses (docs/distributed.md):
//
//   mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1 build-mpi/benchmarks/bench_allreduce
//
// For each size, 5 warm-up sums, then 30 timed ones, each after a barrier;
// rank 0 prints the min and median time and the bus bandwidth, the bytes
// each rank sends and receives in a ring allreduce, 2 (p - 1) / p x size,
// per second: the B of the scaling model.
#include <lamina/distributed/mpi.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace lamina;

namespace {
double seconds_per_sum(distributed::Context& ctx, std::vector<float>& data, std::size_t bucket_floats, int reps,
                       std::vector<double>& times) {
    times.clear();
    for (int r = 0; r < reps; ++r) {
        double sync = 0;
        ctx.allreduce_sum(&sync, 1);
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t first = 0; first < data.size(); first += bucket_floats)
            ctx.start_allreduce_sum(data.data() + first, std::min(bucket_floats, data.size() - first));
        ctx.wait_all();
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
    distributed::Context ctx(argc, argv);
    const std::size_t bucket_floats = ctx.bucket_bytes() / sizeof(float);
    if (ctx.primary())
        std::printf("%d ranks on %s; buckets of %zu bytes\n%12s %8s %14s %14s %12s\n", ctx.size(),
                    ctx.processor_name().c_str(), ctx.bucket_bytes(), "bytes", "buckets", "min (us)", "median (us)",
                    "bus GB/s");
    // 4 KB up to 40 MB; 900,136 bytes: the keras CNN's gradient (225,034 floats).
    for (const std::size_t bytes :
         {std::size_t(4096), std::size_t(65536), std::size_t(900136), std::size_t(4) << 20, std::size_t(40) << 20}) {
        std::vector<float> data(bytes / sizeof(float), 1.0f);
        std::vector<double> times;
        for (const bool bucketed : {false, true}) {
            const std::size_t per = bucketed ? bucket_floats : data.size();
            if (bucketed && per >= data.size()) continue;
            seconds_per_sum(ctx, data, per, 5, times);
            const double median = seconds_per_sum(ctx, data, per, 30, times);
            const double ring = 2.0 * (ctx.size() - 1) / ctx.size() * double(bytes);
            if (ctx.primary())
                std::printf("%12zu %8zu %14.1f %14.1f %12.2f\n", bytes, (data.size() + per - 1) / per,
                            times.front() * 1e6, median * 1e6, ring / median / 1e9);
        }
    }
    return 0;
}
