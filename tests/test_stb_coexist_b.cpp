// Second stb coexistence TU (see test_stb_coexist_a.cpp): the program includes
// stb's declarations only, and calls the implementation of test_stb_coexist_a.cpp.
//   stb_image:       lamina first, then the program's <stb_image.h>
//   stb_image_write: the program's <stb_image_write.h> first, then lamina
#include <lamina/io/image.hpp>

#include <stb_image.h>
#include <stb_image_write.h>

#include <lamina/io/image_write.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

TEST_CASE("stb coexistence: the program's stb declarations around lamina's", "[image][stb]") {
    const std::vector<std::uint8_t> pixels{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120};  // 2 x 2 RGB
    std::vector<std::uint8_t> png;
    auto append = [](void* context, void* data, int size) {
        auto* out = static_cast<std::vector<std::uint8_t>*>(context);
        out->insert(out->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
    };
    REQUIRE(stbi_write_png_to_func(append, &png, 2, 2, 3, pixels.data(), 6) == 1);
    int w = 0, h = 0, c = 0;
    stbi_uc* mine = stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &w, &h, &c, 0);
    REQUIRE(mine != nullptr);
    CHECK((w == 2 && h == 2 && c == 3));
    const auto image = lamina::io::load_image_from_memory(png.data(), png.size());
    REQUIRE(image.shape() == lamina::Shape{3, 2, 2});
    for (int i = 0; i < 4; ++i)
        for (int ch = 0; ch < 3; ++ch) CHECK(image[ch * 4 + i] == float(mine[i * 3 + ch]) / 255.0f);
    stbi_image_free(mine);
}
