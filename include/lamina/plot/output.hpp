// lamina/plot/output.hpp: how every picture reaches its file.
//
// Contract: write_file(path, bytes) replaces `path` atomically (a crash
// leaves the old file or the new one, never half a picture) and throws
// IoError(io_write) naming the path when it cannot: a missing directory, a
// directory in the way, a full disk. lower_extension("a/b.PNG") is ".png";
// a name without a dot in its last component has the extension "".
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "lamina/io/atomic_file.hpp"

namespace lamina::plot {

inline void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    io::write_file_atomically(path, bytes);
}

inline void write_file(const std::string& path, const std::string& text) {
    write_file(path, std::vector<std::uint8_t>(text.begin(), text.end()));
}

inline std::string lower_extension(const std::string& path) {
    const auto slash = path.find_last_of('/');
    const auto dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    std::string ext = path.substr(dot);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return ext;
}

}  // namespace lamina::plot
