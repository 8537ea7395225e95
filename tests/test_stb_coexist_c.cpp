// Third stb coexistence TU (see test_stb_coexist_a.cpp): the program compiles
// its own static copies here, with a configuration of its own (PNG only).
//   stb_image:       the program's STB_IMAGE_STATIC implementation first, then lamina
//   stb_image_write: lamina first, then the program's STB_IMAGE_WRITE_STATIC implementation
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb_image.h>

#include <lamina/io/image.hpp>
#include <lamina/io/image_write.hpp>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

// lamina's header restored the program's configuration...
#ifndef STBI_NO_JPEG
#error "lamina/io/image.hpp lost the program's STBI_ONLY_PNG configuration"
#endif

TEST_CASE("stb coexistence: the program's static stb copies and lamina's in one TU", "[image][stb]") {
    // ... and kept its own: lamina reads BMP although this TU's stb reads PNG only.
    const std::vector<std::uint8_t> pixels{255, 0, 0, 0, 255, 0};  // 2 x 1 RGB
    int length = 0;
    unsigned char* png = stbi_write_png_to_mem(pixels.data(), 6, 2, 1, 3, &length);
    REQUIRE(png != nullptr);
    int w = 0, h = 0, c = 0;
    stbi_uc* mine = stbi_load_from_memory(png, length, &w, &h, &c, 0);
    REQUIRE(mine != nullptr);
    CHECK(std::vector<std::uint8_t>(mine, mine + 6) == pixels);
    stbi_image_free(mine);
    STBIW_FREE(png);

    std::vector<std::uint8_t> bmp;
    auto append = [](void* context, void* data, int size) {
        auto* out = static_cast<std::vector<std::uint8_t>*>(context);
        out->insert(out->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
    };
    REQUIRE(stbi_write_bmp_to_func(append, &bmp, 2, 1, 3, pixels.data()) == 1);
    CHECK(stbi_load_from_memory(bmp.data(), static_cast<int>(bmp.size()), &w, &h, &c, 0) == nullptr);
    const auto image = lamina::io::load_image_from_memory(bmp.data(), bmp.size(), "two.bmp");
    REQUIRE(image.shape() == lamina::Shape{3, 1, 2});
    CHECK(image[0] == 1.0f);  // R of the red pixel
    CHECK(image[3] == 1.0f);  // G of the green pixel
}
