// lamina/io/image_write.hpp: write 8-bit PNG files.
//
// Contract:
//   encode_png(pixels, width, height, channels) -> the bytes of a PNG file
//   write_png(path, pixels, width, height, channels) writes them to `path`
//   write_png(path, image)  image: Tensor<float> (C, H, W) or (H, W), values in
//                           [0, 1] (clamped; NaN writes 0), C = 1 grey, 2 grey +
//                           alpha, 3 RGB, 4 RGBA: the layout load_image returns
// `pixels` are interleaved rows, top row first: height rows of width *
// channels bytes. write_png replaces `path` atomically
// (io::write_file_atomically): a crash leaves the old file or the new one.
// Compression is zlib's (level 8). stb_image_write is compiled in privately
// (lamina/io/detail/stb_image_write.hpp), so programs using stb themselves
// link cleanly.
//
// Errors:
//   ConfigError config_argument  null pixels, width/height < 1 or > 2^24, channels not 1..4
//   ShapeError  shape_rank       write_png(path, image): image not (C, H, W) or (H, W) with C in 1..4
//   IoError     io_write         the file cannot be written (the message names the path and step)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/io/atomic_file.hpp"
#include "lamina/io/detail/stb_image_write.hpp"

namespace lamina::io {

namespace detail {

inline void append_bytes(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    const auto* p = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), p, p + size);
}

}  // namespace detail

inline std::vector<std::uint8_t> encode_png(const std::uint8_t* pixels, Index width, Index height, int channels) {
    // stb_image_write counts bytes in int: 2^24 x 2^24 would overflow, so
    // the product is bounded too.
    constexpr Index max_side = Index(1) << 24;
    if (channels < 1 || channels > 4)
        throw ConfigError(ErrorId::config_argument,
                          "encode_png: channels must be 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA), got " +
                              std::to_string(channels));
    if (width < 1 || height < 1 || width > max_side || height > max_side ||
        width * height * channels > (Index(1) << 30))
        throw ConfigError(ErrorId::config_argument, "encode_png: " + std::to_string(width) + " x " +
                                                        std::to_string(height) + " x " + std::to_string(channels) +
                                                        " is outside 1 x 1 .. 2^30 bytes");
    if (!pixels) throw ConfigError(ErrorId::config_argument, "encode_png: pixels is null");
    std::vector<std::uint8_t> bytes;
    const int w = static_cast<int>(width), h = static_cast<int>(height);
    if (!detail::stbiw::stbi_write_png_to_func(detail::append_bytes, &bytes, w, h, channels, pixels, w * channels))
        throw std::bad_alloc();  // stb_image_write fails only when malloc does
    return bytes;
}

inline void write_png(const std::string& path, const std::uint8_t* pixels, Index width, Index height, int channels) {
    write_file_atomically(path, encode_png(pixels, width, height, channels));
}

inline void write_png(const std::string& path, const Tensor<float>& image) {
    const Shape& s = image.shape();
    const bool planar = s.rank() == 3 && s[0] >= 1 && s[0] <= 4;
    if (!planar && s.rank() != 2)
        throw ShapeError(
            ErrorId::shape_rank,
            "write_png: '" + path + "': expects an image (C, H, W) with C in 1..4 or (H, W), got " + s.str());
    const Index channels = planar ? s[0] : 1, h = s[s.rank() - 2], w = s[s.rank() - 1];
    const Index plane = h * w;
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(plane * channels));
    for (Index i = 0; i < plane; ++i)
        for (Index c = 0; c < channels; ++c) {
            const float v = image[c * plane + i];
            // !(v > 0) also catches NaN.
            pixels[static_cast<std::size_t>(i * channels + c)] =
                !(v > 0.0f) ? 0 : static_cast<std::uint8_t>(std::lround(std::min(v, 1.0f) * 255.0f));
        }
    write_png(path, pixels.data(), w, h, static_cast<int>(channels));
}

}  // namespace lamina::io
