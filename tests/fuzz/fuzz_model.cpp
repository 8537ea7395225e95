// libFuzzer target for the model loader (lamina/io/model_file.hpp and
// Sequential::load_from_memory, which load() uses). A lamina::Error is the
// right answer to a bad input; anything else is a bug in the loader: a crash
// or sanitizer report, another exception type (std::bad_alloc from a size
// the file made up included), a leak, or an allocation beyond libFuzzer's
// -rss_limit_mb / -malloc_limit_mb.
//
// Random mutations almost never keep the trailing CRC-32 and the declared
// body length right, so the harness repairs both before loading: the
// fuzzer's effort goes into the section parser and the architecture checks
// behind them (the checksum and length checks themselves are exercised by
// tests/test_model_file.cpp). Inputs shorter than the 28-byte frame go in
// unchanged. Models that load are run once on a zero sample when their
// activations are small, so a layer that accepted impossible settings shows.
#include <lamina/lamina.hpp>

#include "predict_small_model.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> bytes(data, data + size);
    if (size >= lamina::io::model_header_bytes + lamina::io::model_trailer_bytes) {
        const std::uint64_t body = size - lamina::io::model_header_bytes - lamina::io::model_trailer_bytes;
        for (int i = 0; i < 8; ++i) bytes[16 + std::size_t(i)] = std::uint8_t(body >> (8 * i));
        const std::uint32_t crc = lamina::io::detail::crc32_of(bytes.data(), size - 4);
        for (int i = 0; i < 4; ++i) bytes[size - 4 + std::size_t(i)] = std::uint8_t(crc >> (8 * i));
    }
    try {
        auto model = lamina::Sequential<float>::load_from_memory(bytes.data(), bytes.size(), "fuzz input");
        fuzz::predict_if_small(model);
    } catch (const lamina::Error&) {
        // the documented outcome for a bad file
    }
    return 0;
}
