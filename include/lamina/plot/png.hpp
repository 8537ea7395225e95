// lamina/plot/png.hpp: a Canvas as a PNG file.
//
// Contract: encode_png(canvas) returns the bytes of an 8-bit RGB PNG
// (colour type 2) of the canvas's size; write_png(path, canvas) writes them
// with write_file (output.hpp): atomically, IoError(io_write) naming the path
// on failure. The encoding is lamina/io/image_write.hpp's, so stb_image_write
// is compiled in once, privately, however many pictures a program draws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lamina/io/image_write.hpp"
#include "lamina/plot/canvas.hpp"
#include "lamina/plot/output.hpp"

namespace lamina::plot {

inline std::vector<std::uint8_t> encode_png(const Canvas& canvas) {
    return io::encode_png(canvas.pixels().data(), canvas.width(), canvas.height(), 3);
}

inline void write_png(const std::string& path, const Canvas& canvas) { write_file(path, encode_png(canvas)); }

}  // namespace lamina::plot
