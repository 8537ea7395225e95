// libFuzzer target for the ONNX importer (lamina/onnx/import.hpp,
// lamina::onnx::load_from_memory, which load() uses). A lamina::Error is the
// right answer to a bad input; anything else is a bug in the importer: a
// crash or sanitizer report, another exception type (std::bad_alloc from a
// size the file made up included), a leak, or an allocation beyond
// libFuzzer's -rss_limit_mb / -malloc_limit_mb. Models that import are run
// once on a zero sample when their activations are small, so a layer built
// from impossible settings shows.
// Built only in a LAMINA_ONNX=ON build (it links lamina::onnx); its seeds,
// corpus/onnx/, are lamina::onnx::save's files (onnx_export_networks --corpus).
#include <lamina/lamina.hpp>
#include <lamina/onnx/import.hpp>

#include "predict_small_model.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto model = lamina::onnx::load_from_memory(data, size, "fuzz input");
        fuzz::predict_if_small(model);
    } catch (const lamina::Error&) {
        // the documented outcome for a bad file
    }
    return 0;
}
