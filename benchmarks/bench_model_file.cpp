// Model files: how long save() and load() take for the example networks, and
// how much of a save is the fsync that makes it crash-safe.
//
//   BM_encode_decode        decoding bytes already in memory (parse + CRC-32)
//   BM_save                 save(): encode, write a temporary, fsync, rename, fsync the directory
//   BM_load                 load(): read, decode, rebuild the layers, restore optimizer state
// Each reports bytes/s over the file's size. Files go to $TMPDIR (default /tmp).
#include <cstdio>
#include <filesystem>
#include <string>

#include "../examples/networks.hpp"
#include "bench_common.hpp"

namespace {

using namespace lamina;

// 0: keras128 MLP (101,770 weights), 1: Keras's MNIST CNN (225,034 weights); both with Adam's slots.
Sequential<float> network(int which) {
    Sequential<float> m("bench", 1);
    if (which == 0) {
        examples::add_mlp(m, "keras128");
        examples::compile_mlp(m, "keras128", "adam");
    } else {
        examples::add_cnn(m, "keras");
        examples::compile_cnn(m, "keras");
    }
    m.build(Shape{1, 28, 28});
    return m;
}
const char* label(int which) { return which == 0 ? "keras128" : "keras_cnn"; }

std::string temp_path(const char* name) {
    return (std::filesystem::temp_directory_path() / (std::string("lamina_bench_") + name + ".lamina")).string();
}

void BM_save(benchmark::State& state) {
    const auto model = network(int(state.range(0)));
    const std::string path = temp_path("save");
    for (auto _ : state) model.save(path);
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(std::filesystem::file_size(path)));
    state.SetLabel(label(int(state.range(0))));
    std::filesystem::remove(path);
}

void BM_load(benchmark::State& state) {
    const std::string path = temp_path("load");
    network(int(state.range(0))).save(path);
    for (auto _ : state) benchmark::DoNotOptimize(Sequential<float>::load(path));
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(std::filesystem::file_size(path)));
    state.SetLabel(label(int(state.range(0))));
    std::filesystem::remove(path);
}

void BM_encode_decode(benchmark::State& state) {
    const std::string path = temp_path("codec");
    network(int(state.range(0))).save(path);
    const auto bytes = io::read_file_bytes(path);
    for (auto _ : state) benchmark::DoNotOptimize(io::decode_model_file<float>(bytes, "bench"));
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes.size()));
    state.SetLabel(std::string(label(int(state.range(0)))) + " decode only");
    std::filesystem::remove(path);
}

}  // namespace

BENCHMARK(BM_save)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_encode_decode)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) { return bench::run(argc, argv); }
