// One of three translation units proving that lamina's private copies of
// stb_image and stb_image_write (lamina/io/detail/) coexist with a program
// that uses stb itself. This one is the program's stb implementation TU:
//   stb_image:       lamina first, then the program's STB_IMAGE_IMPLEMENTATION
//   stb_image_write: the program's STB_IMAGE_WRITE_IMPLEMENTATION first, then lamina
// It defines the global, extern stbi_* and stbi_write_* symbols that
// test_stb_coexist_b.cpp calls; test_stb_coexist_c.cpp holds the other orders.
#include <lamina/io/image.hpp>

#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <lamina/io/image_write.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace {

void append(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    out->insert(out->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
}

}  // namespace

TEST_CASE("stb coexistence: lamina before the program's stb_image implementation", "[image][stb]") {
    const std::vector<std::uint8_t> pixels{0, 60, 120, 180, 240, 255};  // 3 x 2 grey
    std::vector<std::uint8_t> png;
    // The program's own stb_image_write (global, extern) encodes ...
    REQUIRE(stbi_write_png_to_func(append, &png, 3, 2, 1, pixels.data(), 3) == 1);
    // ... the program's own stb_image decodes ...
    int w = 0, h = 0, c = 0;
    stbi_uc* mine = stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &w, &h, &c, 0);
    REQUIRE(mine != nullptr);
    CHECK(std::vector<std::uint8_t>(mine, mine + 6) == pixels);
    stbi_image_free(mine);
    // ... and lamina's copies give the same, here and through its own writer.
    const auto image = lamina::io::load_image_from_memory(png.data(), png.size());
    REQUIRE(image.shape() == lamina::Shape{1, 2, 3});
    for (int i = 0; i < 6; ++i) CHECK(image[i] == float(pixels[std::size_t(i)]) / 255.0f);
    const auto again = lamina::io::encode_png(pixels.data(), 3, 2, 1);
    const auto decoded = lamina::io::load_image_from_memory(again.data(), again.size());
    for (int i = 0; i < 6; ++i) CHECK(decoded[i] == image[i]);
}
