// libFuzzer target for lamina/io/image.hpp and lamina/image/preprocess_digit.hpp.
// Each input is decoded with load_image_from_memory (stb_image behind
// lamina's own structure checks), with a pixel cap of 2^20 so that huge
// but valid headers are refused fast instead of decoded slowly; a decoded
// image must be (C, H, W) with C in 1..4 and every value finite in [0, 1],
// and then goes through preprocess_digit. A lamina::Error is the right
// answer to a bad input; anything else is a bug: a crash or sanitizer
// report, another exception type (std::bad_alloc included), a leak, or a
// decoded tensor out of its contract.
#include <lamina/image/preprocess_digit.hpp>
#include <lamina/io/image.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_image: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    lamina::Tensor<float> image;
    try {
        lamina::io::LoadImageOptions limits;
        limits.max_pixels = lamina::Index(1) << 20;
        image = lamina::io::load_image_from_memory(data, size, "fuzz", limits);
    } catch (const lamina::Error&) {
        return 0;
    }
    const lamina::Shape& s = image.shape();
    if (s.rank() != 3 || s[0] < 1 || s[0] > 4 || s[1] < 1 || s[2] < 1) fail("decoded shape out of contract");
    for (lamina::Index i = 0; i < image.size(); ++i)
        if (!(image[i] >= 0.0f && image[i] <= 1.0f)) fail("decoded value outside [0, 1] or not finite");
    try {
        const lamina::Tensor<float> digit = lamina::image::preprocess_digit(image);
        if (digit.size() != 28 * 28) fail("preprocess_digit did not return 28 x 28");
        for (lamina::Index i = 0; i < digit.size(); ++i)
            if (!std::isfinite(digit[i])) fail("preprocess_digit returned a non-finite value");
    } catch (const lamina::Error&) {
    }
    return 0;
}
