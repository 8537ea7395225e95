// lamina/io/image.hpp: read PNG, JPEG, BMP, GIF and TGA files into tensors.
//
// Contract: load_image(path) decodes an image file (stb_image) and returns
// a Tensor<float> of shape (C, H, W): channels first like the rest of
// lamina, C as stored in the file (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA;
// GIF always decodes to 4, palette PNGs to 3 or 4), values in [0, 1]
// (8-bit samples / 255, 16-bit PNG samples / 65535), alpha not
// premultiplied. A JPEG's EXIF orientation is applied, so a phone photo
// comes out the way viewers show it; an animated GIF gives its first frame.
// load_image_from_memory(data, size, name) decodes bytes already in memory
// with the same checks; its messages name `name` and it never raises IoError.
//
// Safety: the header's dimensions are read first, and an image of more than
// `max_pixels` pixels (default 2^27, 134 million, whose RGBA float tensor is
// 2 GiB) is refused before anything is allocated, so a forged 10^9-pixel
// header costs nothing. Before decoding, the file's
// structure is walked (PNG chunks and their CRCs, JPEG segments up to an
// end marker, GIF blocks of the first frame, BMP and TGA pixel data sizes):
// stb_image decodes a cut-off BMP or TGA without complaint (missing pixels
// become 0), lamina calls every cut-off file truncated. The walk also gives
// what decoding will hold at once (size, channels, bit depth, PNG
// interlacing, JPEG components): an image needing more than `max_bytes`
// (default 2.5 GiB) is refused before stb_image allocates anything, since a
// 1 MB PNG can declare 134 million 16-bit RGBA pixels, or hold a stream that
// inflates to 1 GB (counted with zlib when it could pass the limit).
//
// Errors (every message names the file and, where stb_image failed, its reason):
//   IoError     io_open       the file is missing, a directory, or cannot be opened
//   IoError     io_read       the operating system reports a read error
//   FormatError format_size   the file is empty, truncated, or larger than 2 GiB (stb's limit)
//   FormatError format_magic  not a PNG/JPEG/BMP/GIF/TGA file (WebP, TIFF, HEIC, ...
//                             are named when recognised)
//   FormatError format_header the header is invalid (zero size, bad fields), declares
//                             more than max_pixels pixels, or needs more than max_bytes
//   FormatError format_checksum a PNG chunk's CRC-32 does not match (critical chunks)
//   FormatError format_image_data the pixel data cannot be decoded: corrupt, or a variant
//                             stb_image does not support (12-bit or arithmetic JPEG, RLE BMP)
//   ConfigError config_argument load_image_from_memory: null data with a nonzero size;
//                             max_pixels or max_bytes < 1
//   std::bad_alloc            the decoder ran out of memory
//
// stb_image is compiled into each translation unit privately
// (lamina/io/detail/stb_image.hpp explains how): a program may use stb_image
// itself, before or after including lamina, with its own
// STB_IMAGE_IMPLEMENTATION, and gets no duplicate symbols.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/io/detail/stb_image.hpp"

namespace lamina::io {

// Pixels (width x height) load_image accepts by default: 2^27, about 134
// million (a 108-megapixel phone photo fits; its RGBA float tensor is 2 GiB).
constexpr Index default_max_image_pixels = Index(1) << 27;

// Bytes load_image may hold at once by default: 2.5 GiB, what an 8-bit RGBA
// image of default_max_image_pixels needs (stb_image's pixels, 1 byte per
// sample, beside lamina's float tensor, 4 bytes per sample). A 16-bit PNG
// needs 6 bytes per sample, so an RGBA one is refused above about 112 million
// pixels unless max_bytes is raised.
constexpr Index default_max_image_bytes = 20 * default_max_image_pixels;

// load_image's limits on untrusted input; both are checked from the header,
// before stb_image allocates anything. An aggregate: C++20 code can write
// load_image(path, {.max_bytes = Index(8) << 30}).
struct LoadImageOptions {
    Index max_pixels = default_max_image_pixels;  // width x height
    Index max_bytes = default_max_image_bytes;    // decoding's peak memory (estimate_decode_bytes)
};

namespace detail {

enum class ImageKind { png, jpeg, gif, bmp, other };

inline std::string image_who(const std::string& name) { return "load_image: '" + name + "'"; }

inline std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
inline std::uint32_t le32(const std::uint8_t* p) {
    return std::uint32_t(p[3]) << 24 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[1]) << 8 | p[0];
}
inline unsigned be16(const std::uint8_t* p) { return unsigned(p[0]) << 8 | p[1]; }
inline unsigned le16(const std::uint8_t* p) { return unsigned(p[1]) << 8 | p[0]; }

inline bool starts_with(const std::uint8_t* d, std::size_t n, const char* sig, std::size_t len, std::size_t at = 0) {
    return n >= at + len && std::memcmp(d + at, sig, len) == 0;
}

// stb_image takes any run of 0xff bytes followed by 0xd8 as a JPEG's start
// (fill bytes may precede every marker), so lamina's walk must see every
// file stb would decode as a JPEG. Returns the offset just past the 0xd8,
// 0 when the data is no JPEG.
inline std::size_t jpeg_start(const std::uint8_t* d, std::size_t n) {
    std::size_t i = 0;
    while (i < n && d[i] == 0xff) ++i;
    return i >= 1 && i < n && d[i] == 0xd8 ? i + 1 : 0;
}

inline ImageKind sniff_image(const std::uint8_t* d, std::size_t n) {
    if (starts_with(d, n, "\x89PNG\r\n\x1a\n", 8)) return ImageKind::png;
    if (jpeg_start(d, n) != 0) return ImageKind::jpeg;
    if (starts_with(d, n, "GIF87a", 6) || starts_with(d, n, "GIF89a", 6)) return ImageKind::gif;
    if (starts_with(d, n, "BM", 2)) return ImageKind::bmp;
    return ImageKind::other;  // TGA has no signature: stb_image recognises it by its header
}

// Formats people try that stb_image does not read; naming them beats "unknown image type".
inline const char* unsupported_format_name(const std::uint8_t* d, std::size_t n) {
    if (starts_with(d, n, "RIFF", 4) && starts_with(d, n, "WEBP", 4, 8)) return "WebP";
    if (starts_with(d, n, "II*\0", 4) || starts_with(d, n, "MM\0*", 4)) return "TIFF";
    if (starts_with(d, n, "ftypheic", 8, 4) || starts_with(d, n, "ftypheix", 8, 4) ||
        starts_with(d, n, "ftypmif1", 8, 4) || starts_with(d, n, "ftyphevc", 8, 4))
        return "HEIC/HEIF";
    if (starts_with(d, n, "ftypavif", 8, 4)) return "AVIF";
    if (starts_with(d, n, "8BPS", 4)) return "Photoshop (PSD)";
    if (starts_with(d, n, "qoif", 4)) return "QOI";
    if (starts_with(d, n, "#?RADIANCE", 10) || starts_with(d, n, "#?RGBE", 6)) return "Radiance HDR";
    if (n >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '7') return "PNM (PBM/PGM/PPM)";
    if (starts_with(d, n, "%PDF", 4)) return "PDF";
    if (starts_with(d, n, "<svg", 4) || starts_with(d, n, "<?xml", 5)) return "SVG/XML";
    if (starts_with(d, n, "\x1f\x8b", 2)) return "gzip";
    return nullptr;
}

// The size a PNG, GIF or BMP header declares, read without stb_image:
// stb refuses some huge headers with a misleading "unknown image type",
// and lamina's limit should be what the message explains.
inline bool declared_size(const std::uint8_t* d, std::size_t n, ImageKind kind, Index& w, Index& h) {
    if (kind == ImageKind::png && n >= 24 && std::memcmp(d + 12, "IHDR", 4) == 0) {
        w = be32(d + 16), h = be32(d + 20);
        return true;
    }
    if (kind == ImageKind::gif && n >= 10) {
        w = le16(d + 6), h = le16(d + 8);
        return true;
    }
    if (kind == ImageKind::bmp && n >= 26 && le32(d + 14) >= 40) {
        w = std::abs(Index(static_cast<std::int32_t>(le32(d + 18))));
        h = std::abs(Index(static_cast<std::int32_t>(le32(d + 22))));
        return true;
    }
    return false;
}

// w and h come from 32-bit header fields, so their product fits in 64
// unsigned bits even when a forged header declares 2^32-1 x 2^32-1.
inline void check_pixel_count(Index w, Index h, Index max_pixels, const std::string& who) {
    const std::uint64_t pixels = static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h);
    if (pixels > static_cast<std::uint64_t>(max_pixels))
        throw FormatError(ErrorId::format_header, who + " declares " + std::to_string(w) + " x " + std::to_string(h) +
                                                      " = " + std::to_string(pixels) +
                                                      " pixels, more than the limit of " + std::to_string(max_pixels) +
                                                      " (load_image's max_pixels)");
}

// The structural walks below answer one question stb_image does not:
// does the file end where its own structure says it ends? They return an
// empty string when the data is complete (or when it is malformed in a way
// stb_image reports better), else what is missing.

// What decoding a PNG allocates depends on more than its size: what the
// walk sees on the way (estimate_decode_bytes).
struct PngLayout {
    // Until an IHDR is seen, the most expensive kind there is.
    unsigned depth = 16, color = 6;
    bool interlaced = true;
    bool transparency = false;     // a tRNS chunk: stb adds an alpha channel to grey and RGB
    std::uint64_t idat_bytes = 0;  // stb_image concatenates the IDAT chunks before inflating
    bool iphone = false;           // a CgBI chunk: raw deflate, no zlib header
    // What the IDAT stream inflates to, when known; the rows the header
    // promises when not (estimate_decode_bytes).
    std::uint64_t inflated = 0;
};

inline std::string check_png(const std::uint8_t* d, std::size_t n, const std::string& who, PngLayout& layout) {
    std::size_t pos = 8;
    for (;;) {
        if (n - pos < 12) return "it ends inside a chunk header at byte " + std::to_string(pos) + ", before IEND";
        const std::uint32_t length = be32(d + pos);
        const std::uint8_t* type = d + pos + 4;
        if (length > n - pos - 12)
            return "chunk '" + std::string(reinterpret_cast<const char*>(type), 4) + "' at byte " +
                   std::to_string(pos) + " declares " + std::to_string(length) + " bytes, only " +
                   std::to_string(n - pos - 12) + " follow";
        // Critical chunks (upper-case first letter) must be intact, as libpng
        // requires; stb_image never looks at CRCs.
        if ((type[0] & 0x20) == 0) {
            const auto crc = static_cast<std::uint32_t>(crc32(crc32(0L, nullptr, 0), type, length + 4));
            const std::uint32_t stored = be32(d + pos + 8 + length);
            if (crc != stored) {
                char buf[96];
                std::snprintf(buf, sizeof buf, "stored CRC-32 0x%08x, computed 0x%08x", unsigned(stored),
                              unsigned(crc));
                throw FormatError(ErrorId::format_checksum, who + " is a corrupt PNG: chunk '" +
                                                                std::string(reinterpret_cast<const char*>(type), 4) +
                                                                "' at byte " + std::to_string(pos) + " has " + buf);
            }
        }
        if (std::memcmp(type, "IHDR", 4) == 0 && length == 13)
            layout.depth = type[12], layout.color = type[13], layout.interlaced = type[16] != 0;
        if (std::memcmp(type, "tRNS", 4) == 0) layout.transparency = true;
        if (std::memcmp(type, "CgBI", 4) == 0) layout.iphone = true;
        if (std::memcmp(type, "IDAT", 4) == 0) layout.idat_bytes += length;
        if (std::memcmp(type, "IEND", 4) == 0) return {};
        pos += 12 + length;
    }
}

// The value of EXIF tag 0x0112 (orientation, 1..8) in an APP1 payload, or 1.
inline int exif_orientation(const std::uint8_t* p, std::size_t n) {
    if (n < 14 || std::memcmp(p, "Exif\0\0", 6) != 0) return 1;
    const std::uint8_t* t = p + 6;
    const std::size_t tn = n - 6;
    const bool little = t[0] == 'I' && t[1] == 'I';
    if (!little && !(t[0] == 'M' && t[1] == 'M')) return 1;
    auto u16 = [&](std::size_t at) { return little ? le16(t + at) : be16(t + at); };
    auto u32 = [&](std::size_t at) { return little ? le32(t + at) : be32(t + at); };
    const std::size_t ifd = u32(4);
    if (ifd > tn - 2 || tn < 8) return 1;
    const std::size_t entries = u16(ifd);
    for (std::size_t i = 0; i < entries; ++i) {
        const std::size_t e = ifd + 2 + 12 * i;
        if (e > tn - 12) return 1;
        if (u16(e) == 0x0112 && u16(e + 2) == 3) {
            const unsigned v = u16(e + 8);
            return v >= 1 && v <= 8 ? int(v) : 1;
        }
    }
    return 1;
}

// stb_image 2.27 (Debian's) trusts a Huffman table's 16 code counts: a
// table declaring more than 256 codes makes it write past its 257-entry
// arrays (found by fuzz_image). The spec allows at most 256 symbols. stb
// also builds a table before it notices that the table overruns its
// segment, reading the counts from whatever follows, so a table must fit.
// defined[class][id] records each table read (class 0 DC, 1 AC; ids 0-3, the
// ones stb accepts), for the scans after it (JpegTables).
inline void check_jpeg_huffman_tables(const std::uint8_t* d, std::size_t begin, std::size_t end, const std::string& who,
                                      bool (&defined)[2][4]) {
    const auto corrupt = [&](std::size_t at, const std::string& what) {
        return FormatError(ErrorId::format_image_data,
                           who + " has a corrupt JPEG Huffman table at byte " + std::to_string(at) + ": " + what);
    };
    for (std::size_t p = begin; p < end;) {
        if (end - p < 17)
            throw corrupt(p, "its 16 code counts run past the end of its segment (byte " + std::to_string(end) + ")");
        std::size_t codes = 0;
        for (std::size_t i = 1; i <= 16; ++i) codes += d[p + i];
        if (codes > 256) throw corrupt(p, "it declares " + std::to_string(codes) + " codes, at most 256 exist");
        if (codes > end - p - 17)
            throw corrupt(p, "it declares " + std::to_string(codes) + " codes, its segment holds only " +
                                 std::to_string(end - p - 17) + " more bytes");
        const int tc = d[p] >> 4, th = d[p] & 15;
        if (tc <= 1 && th <= 3) defined[tc][th] = true;
        p += 17 + codes;
    }
}

// stb_image 2.27 also decodes a scan with whatever Huffman table its
// selector names, defined or not: an undefined one is uninitialised memory,
// and its garbage offsets index the 257-entry tables far out of bounds
// (found by fuzz_image; stb 2.28 added a bounds check). So the walk records
// which tables the DHT segments before each scan defined
// (check_jpeg_huffman_tables fills `defined`), and refuses a
// scan that uses another. What a scan uses follows stb's decoder: baseline
// scans the DC and AC tables of each component; progressive DC scans the DC
// table on their first pass only (refinements read raw bits), AC scans the
// AC table on every pass.
struct JpegTables {
    bool defined[2][4] = {};  // [class: 0 DC, 1 AC][id]
    bool progressive = false;

    // The scan header at [begin, end) (after the length field); throws if the
    // scan needs a table no DHT has defined. Malformed headers are left to stb.
    void check_scan(const std::uint8_t* d, std::size_t begin, std::size_t end, const std::string& who) const {
        if (end - begin < 1) return;
        const std::size_t ns = d[begin];
        if (ns < 1 || ns > 4 || end - begin < 1 + 2 * ns + 3) return;
        const std::size_t params = begin + 1 + 2 * ns;
        const int ss = d[params], ah = d[params + 2] >> 4;
        const bool uses_dc = !progressive || (ss == 0 && ah == 0);
        const bool uses_ac = !progressive || ss > 0;
        for (std::size_t c = 0; c < ns; ++c) {
            const int td = d[begin + 2 + 2 * c] >> 4, ta = d[begin + 2 + 2 * c] & 15;
            if (td > 3 || ta > 3) return;  // stb: "bad DC huff" / "bad AC huff"
            const char* kind = nullptr;
            int id = 0;
            if (uses_dc && !defined[0][td]) kind = "DC", id = td;
            else if (uses_ac && !defined[1][ta]) kind = "AC", id = ta;
            if (kind)
                throw FormatError(ErrorId::format_image_data, who + " is a corrupt JPEG: the scan at byte " +
                                                                  std::to_string(begin - 4) + " decodes component " +
                                                                  std::to_string(d[begin + 1 + 2 * c]) + " with " +
                                                                  kind + " Huffman table " + std::to_string(id) +
                                                                  ", which no table segment (DHT) before it defines");
        }
    }
};

// What the JPEG walk learns for decoding: the EXIF orientation, and what
// stb_image's buffers depend on (estimate_decode_bytes), from the first frame
// header, the one stb decodes. Until one is seen, the most expensive kind.
struct JpegLayout {
    int orientation = 1;
    int components = 4;
    bool progressive = true;
    bool frame_seen = false;
};

inline std::string check_jpeg(const std::uint8_t* d, std::size_t n, JpegLayout& layout, const std::string& who) {
    int& orientation = layout.orientation;
    std::size_t pos = jpeg_start(d, n);
    JpegTables tables;
    for (;;) {
        while (pos < n && d[pos] == 0xff && pos + 1 < n && d[pos + 1] == 0xff) ++pos;  // fill bytes
        if (n - pos < 2) return "it ends at byte " + std::to_string(pos) + ", before the image data";
        // Not a marker: stb_image skips bytes until the next 0xff, so the walk
        // does too, or a table stb reads later would go unchecked.
        if (d[pos] != 0xff) {
            ++pos;
            continue;
        }
        const int marker = d[pos + 1];
        pos += 2;
        if (marker == 0xd9) return {};                                       // EOI before any scan
        if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;  // no length field
        if (n - pos < 2) return "it ends inside the header of segment 0xff" + std::to_string(marker);
        const std::size_t length = be16(d + pos);
        if (length < 2) return {};
        if (length > n - pos)
            return "segment at byte " + std::to_string(pos - 2) + " declares " + std::to_string(length) +
                   " bytes, only " + std::to_string(n - pos) + " follow";
        if (marker == 0xe1 && orientation == 1) orientation = exif_orientation(d + pos + 2, length - 2);
        if (marker == 0xc4) check_jpeg_huffman_tables(d, pos + 2, pos + length, who, tables.defined);
        if (marker == 0xc0 || marker == 0xc1 || marker == 0xc2) {
            tables.progressive = marker == 0xc2;
            if (!layout.frame_seen && length >= 8) {
                layout.frame_seen = true;
                layout.components = d[pos + 7];
                layout.progressive = tables.progressive;
            }
        }
        if (marker == 0xda) tables.check_scan(d, pos + 2, pos + length, who);
        pos += length;
        if (marker == 0xda) {
            // Entropy-coded data holds 0xff only as 0xff 0x00 (a stuffed byte) or
            // 0xff 0xd0-0xd7 (restart markers); any other 0xff pair is the next
            // marker: the end (0xd9), or a progressive JPEG's next tables and
            // scan, which are walked (and their Huffman tables checked) in turn.
            std::size_t i = pos;
            while (i + 1 < n &&
                   !(d[i] == 0xff && d[i + 1] != 0x00 && d[i + 1] != 0xff && !(d[i + 1] >= 0xd0 && d[i + 1] <= 0xd7)))
                ++i;
            if (i + 1 >= n) return "its image data has no end marker (0xff 0xd9)";
            if (d[i + 1] == 0xd9) return {};
            pos = i;
        }
    }
}

inline std::string check_gif(const std::uint8_t* d, std::size_t n) {
    auto ended = [&](std::size_t at) { return "it ends at byte " + std::to_string(at) + ", inside its first frame"; };
    if (n < 13) return ended(n);
    std::size_t pos = 13;
    if (d[10] & 0x80) pos += 3u << ((d[10] & 7) + 1);
    auto skip_sub_blocks = [&]() {
        for (;;) {
            if (pos >= n) return false;
            const std::size_t len = d[pos++];
            if (len == 0) return true;
            if (len > n - pos) return false;
            pos += len;
        }
    };
    for (;;) {
        if (pos >= n) return ended(n);
        const int block = d[pos++];
        if (block == 0x21) {  // extension: label, then sub-blocks
            if (++pos > n || !skip_sub_blocks()) return ended(n);
        } else if (block == 0x2c) {  // image descriptor, local palette, LZW size, data
            if (n - pos < 9) return ended(n);
            const int flags = d[pos + 8];
            pos += 9;
            if (flags & 0x80) pos += 3u << ((flags & 7) + 1);
            if (++pos > n || !skip_sub_blocks()) return ended(n);
            return {};
        } else {
            return {};  // trailer or garbage: stb_image reports it
        }
    }
}

inline std::string check_bmp(const std::uint8_t* d, std::size_t n) {
    if (n < 26) return "it ends inside its header";
    const std::uint32_t offset = le32(d + 10);
    const std::uint32_t dib = le32(d + 14);
    std::int64_t w = 0, h = 0;
    unsigned bpp = 0, compression = 0;
    if (dib == 12) {
        w = le16(d + 18);
        h = le16(d + 20);
        bpp = le16(d + 24);
    } else {
        if (n < 34) return "it ends inside its header";
        w = static_cast<std::int32_t>(le32(d + 18));
        h = static_cast<std::int32_t>(le32(d + 22));
        bpp = le16(d + 28);
        compression = le32(d + 30);
    }
    // Only uncompressed (0) and bit-field (3) BMPs have a fixed size; stb reads no other.
    if ((compression != 0 && compression != 3) || w <= 0 || bpp == 0 || bpp > 32) return {};
    const std::int64_t row = (w * bpp + 31) / 32 * 4;
    const std::int64_t need = std::int64_t(offset) + row * (h < 0 ? -h : h);
    if (need > static_cast<std::int64_t>(n))
        return "its " + std::to_string(w) + " x " + std::to_string(h < 0 ? -h : h) + " pixels need " +
               std::to_string(need) + " bytes, the file has " + std::to_string(n);
    return {};
}

inline std::string check_tga(const std::uint8_t* d, std::size_t n) {
    if (n < 18) return "it ends inside its header";
    const int type = d[2];
    const std::int64_t w = le16(d + 12), h = le16(d + 14);
    const std::int64_t bytes = (d[16] + 7) / 8;
    std::int64_t pos = 18 + d[0];
    if (d[1]) pos += std::int64_t(le16(d + 5)) * ((d[7] + 7) / 8);
    const auto size = static_cast<std::int64_t>(n);
    auto short_by = [&](std::int64_t need) {
        return "its " + std::to_string(w) + " x " + std::to_string(h) + " pixels need " + std::to_string(need) +
               " bytes, the file has " + std::to_string(n);
    };
    if (type == 1 || type == 2 || type == 3) {
        const std::int64_t need = pos + w * h * bytes;
        return need > size ? short_by(need) : std::string();
    }
    if (type == 9 || type == 10 || type == 11) {
        // Run-length packets: a header byte, then one pixel (run) or count pixels (raw).
        for (std::int64_t done = 0; done < w * h;) {
            if (pos >= size)
                return "its run-length data ends after " + std::to_string(done) + " of " + std::to_string(w * h) +
                       " pixels";
            const int header = d[pos++];
            const std::int64_t count = (header & 0x7f) + 1;
            pos += header & 0x80 ? bytes : count * bytes;
            if (pos > size)
                return "its run-length data ends after " + std::to_string(done) + " of " + std::to_string(w * h) +
                       " pixels";
            done += count;
        }
    }
    return {};
}

// stb's interleaved (H, W, C) samples into lamina's planar (C, H, W)
// floats, value(sample) each, with EXIF orientation o (1..8) applied on
// the way: out is (C, W, H) for o >= 5. Orienting while converting spares
// a second float tensor, the largest buffer decoding holds.
template <class Sample, class Value>
void to_planar(const Sample* in, Index c_n, Index h, Index w, int o, Value value, float* out) {
    const bool swap = o >= 5;
    const Index oh = swap ? w : h, ow = swap ? h : w, plane = h * w;
    if (o == 1) {
        for (Index i = 0; i < plane; ++i)
            for (Index c = 0; c < c_n; ++c) out[c * plane + i] = value(in[i * c_n + c]);
        return;
    }
    for (Index r = 0; r < oh; ++r)
        for (Index col = 0; col < ow; ++col) {
            // The stored pixel (sr, sc) that lands at displayed (r, col).
            Index sr = r, sc = col;
            switch (o) {
                case 2: sc = w - 1 - col; break;
                case 3:
                    sr = h - 1 - r;
                    sc = w - 1 - col;
                    break;
                case 4: sr = h - 1 - r; break;
                case 5:
                    sr = col;
                    sc = r;
                    break;
                case 6:
                    sr = h - 1 - col;
                    sc = r;
                    break;
                case 7:
                    sr = h - 1 - col;
                    sc = w - 1 - r;
                    break;
                case 8:
                    sr = col;
                    sc = w - 1 - r;
                    break;
                default: break;
            }
            const Sample* px = in + (sr * w + sc) * c_n;
            for (Index c = 0; c < c_n; ++c) out[c * plane + r * ow + col] = value(px[c]);
        }
}

// A byte count that stops at 2^64 - 1 instead of wrapping: headers declare
// sides up to 2^31 and a caller may raise max_pixels as far as it likes, so
// a product of a few factors can pass 2^64.
struct ByteCount {
    std::uint64_t n;
    ByteCount(std::uint64_t v) : n(v) {}  // NOLINT: implicit, so that counts mix with plain sizes
};
inline ByteCount operator+(ByteCount a, ByteCount b) { return a.n > UINT64_MAX - b.n ? UINT64_MAX : a.n + b.n; }
inline ByteCount operator*(ByteCount a, ByteCount b) {
    return b.n != 0 && a.n > UINT64_MAX / b.n ? UINT64_MAX : a.n * b.n;
}
inline ByteCount max(ByteCount a, ByteCount b) { return a.n < b.n ? b : a; }

// The filtered rows of a well-formed PNG stream: per row a filter byte and
// the packed samples; an interlaced image has them for each of its 7 passes.
inline ByteCount png_filtered_bytes(std::uint64_t w, std::uint64_t h, unsigned depth, unsigned samples,
                                    bool interlaced) {
    const auto rows = [&](std::uint64_t pw, std::uint64_t ph) {
        return pw == 0 ? ByteCount(0) : ByteCount((pw * samples * depth + 7) / 8 + 1) * ph;
    };
    if (!interlaced) return rows(w, h);
    // Adam7: each pass's first column and row, and its steps.
    static constexpr unsigned x0[] = {0, 4, 0, 2, 0, 1, 0}, y0[] = {0, 0, 4, 0, 2, 0, 1};
    static constexpr unsigned dx[] = {8, 8, 4, 4, 2, 2, 1}, dy[] = {8, 8, 8, 4, 4, 2, 2};
    ByteCount total = 0;
    for (int p = 0; p < 7; ++p)
        total = total +
                rows(w > x0[p] ? (w - x0[p] + dx[p] - 1) / dx[p] : 0, h > y0[p] ? (h - y0[p] + dy[p] - 1) / dy[p] : 0);
    return total;
}

// Deflate's densest code gives 258 bytes for 2 bits: a stream inflates to at
// most 1032 times its size.
constexpr std::uint64_t deflate_max_ratio = 1032;

// The bytes a PNG's IDAT stream inflates to, counted with zlib and kept
// nowhere, stopping once the count passes `cap`. stb_image keeps inflating
// past the rows its header promises, so a 1 MB stream makes it allocate 1 GB
// whatever the header says. On corrupt data zlib stops, and stb would stop
// at the same place, except on a few codes zlib refuses and stb accepts
// (incomplete Huffman codes): so after an error the bound stays deflate's
// ratio.
inline std::uint64_t png_inflated_bytes(const std::uint8_t* d, std::size_t n, bool iphone, std::uint64_t cap,
                                        std::uint64_t idat_bytes) {
    z_stream z{};
    // Raw deflate: stb checks the zlib header itself (and ignores its window
    // size, which zlib refuses above 32 KiB); CgBI files have no header.
    if (inflateInit2(&z, -15) != Z_OK) throw std::bad_alloc();
    struct End {
        z_stream& z;
        ~End() { inflateEnd(&z); }
    } end{z};
    std::uint8_t scratch[1 << 15];
    std::uint64_t count = 0;
    std::size_t header = iphone ? 0 : 2;
    for (std::size_t pos = 8; n - pos >= 12;) {
        const std::uint32_t length = be32(d + pos);
        if (std::memcmp(d + pos + 4, "IEND", 4) == 0) break;
        if (std::memcmp(d + pos + 4, "IDAT", 4) == 0) {
            const std::size_t skip = std::min<std::size_t>(header, length);
            header -= skip;
            z.next_in = const_cast<Bytef*>(d + pos + 8 + skip);
            z.avail_in = static_cast<uInt>(length - skip);
            while (z.avail_in > 0) {
                z.next_out = scratch;
                z.avail_out = sizeof scratch;
                const int rc = inflate(&z, Z_NO_FLUSH);
                count += sizeof scratch - z.avail_out;
                if (count > cap || rc == Z_STREAM_END) return count;
                if (rc == Z_BUF_ERROR) break;  // no progress possible: the next chunk's bytes are needed
                if (rc != Z_OK) return idat_bytes * deflate_max_ratio + deflate_max_ratio;
            }
        }
        pos += 12 + length;
    }
    // Inflate may hold output back until it is given room.
    for (;;) {
        z.next_out = scratch;
        z.avail_out = sizeof scratch;
        const int rc = inflate(&z, Z_SYNC_FLUSH);
        count += sizeof scratch - z.avail_out;
        if (count > cap || rc != Z_OK || z.avail_out != 0) return count;
    }
}

struct DecodeCost {
    std::uint64_t bytes;  // the peak estimate
    int channels;         // what stb_image gives, per pixel
    int bits;             // per sample out of stb_image: 8, or 16 for a 16-bit PNG
};

// An upper bound of the bytes decoding a well-formed w x h image holds at
// once, from what the header and the walk saw, following stb_image 2.27's
// allocations. Two stages: stb's own buffers while it decodes (ending with
// its pixels), then its pixels beside lamina's float tensor (4 bytes per
// sample). The input bytes are the caller's and not counted.
inline DecodeCost estimate_decode_bytes(ImageKind kind, std::uint64_t w, std::uint64_t h, int info_channels,
                                        const PngLayout& png, const JpegLayout& jpeg) {
    const ByteCount pixels = ByteCount(w) * h;
    DecodeCost cost{0, info_channels, 8};
    ByteCount decoder = 64 << 10;  // stb's decoder state: a JPEG's is 18 KiB, a GIF's 35 KiB
    switch (kind) {
        case ImageKind::png: {
            // Samples per pixel in the compressed rows (a palette index is one
            // sample) and out of stb's unfiltering (tRNS adds alpha to grey and
            // RGB), then after a palette's colours are looked up.
            const unsigned raw_n = png.color == 3 ? 1u : (png.color & 2 ? 3u : 1u) + (png.color & 4 ? 1u : 0u);
            const unsigned out_n = raw_n + (png.transparency && png.color != 3 && !(png.color & 4) ? 1u : 0u);
            const unsigned pal_n = png.transparency ? 4u : 3u;
            cost.channels = int(png.color == 3 ? pal_n : out_n);
            cost.bits = png.depth == 16 ? 16 : 8;
            // stb gathers the IDAT chunks into a buffer that doubles (at most
            // twice their size), then inflates them into a buffer sized by its
            // guess of the filtered rows (a filter byte before each row),
            // doubled for as long as the stream goes on (an interlaced image's
            // passes hold more than the guess); realloc's old and new blocks
            // both live while it copies.
            const ByteCount gathered = max(4096, ByteCount(png.idat_bytes) * 2);
            const ByteCount guess = ByteCount((w * png.depth + 7) / 8) * h * raw_n + h;
            const ByteCount stream = max(png.inflated, png_filtered_bytes(w, h, png.depth, raw_n, png.interlaced));
            ByteCount inflated = guess;
            while (inflated.n < stream.n && inflated.n != UINT64_MAX) inflated = inflated * 2;
            const ByteCount inflating = inflated.n > guess.n ? inflated + inflated.n / 2 : inflated;
            // Unfiltering writes the pixels beside the inflated rows (interlaced:
            // each pass into its own buffer, then into the final one); a palette
            // image's indices are then looked up into a new buffer.
            const ByteCount unfiltered = pixels * out_n * (cost.bits / 8);
            const ByteCount unfiltering =
                inflated + unfiltered + (png.interlaced ? unfiltered : 0) + (png.color == 3 ? pixels * pal_n : 0);
            decoder = decoder + max(gathered + inflating, unfiltering);
            break;
        }
        case ImageKind::jpeg: {
            // A plane per component, padded to whole MCUs (at most 32 pixels a
            // side), for progressive JPEGs a plane of 16-bit coefficients too,
            // and a line buffer; the interleaved output is written while they live.
            const ByteCount plane = ByteCount(w + 31) * (h + 31) + 15;
            const ByteCount per_component = (jpeg.progressive ? plane * 3 : plane) + w + 3;
            decoder = decoder + per_component * unsigned(jpeg.components) + pixels * unsigned(cost.channels) + 1;
            break;
        }
        case ImageKind::gif:
            // The canvas and the background the next frame would start from,
            // 4 bytes per pixel each, and which pixels the frame drew, 1. Every
            // frame of an animation lies within the canvas (stb refuses others),
            // and lamina decodes the first.
            cost.channels = 4;
            decoder = decoder + pixels * 9;
            break;
        case ImageKind::bmp:
        case ImageKind::other:
            // BMP and TGA decode straight into the output; a TGA's palette (up
            // to 65535 colours of 4 bytes) lives beside it.
            decoder = decoder + pixels * unsigned(cost.channels) + (65536 * 4);
            break;
    }
    const ByteCount converting = pixels * unsigned(cost.channels) * (unsigned(cost.bits) / 8 + 4);
    cost.bytes = max(decoder, converting).n;
    return cost;
}

// 3221093400 -> "3.00 GiB", for the reader of a message beside the exact count.
inline std::string human_bytes(std::uint64_t bytes) {
    const char* unit = bytes >= (1ull << 30) ? "GiB" : bytes >= (1ull << 20) ? "MiB" : "KiB";
    const double scale = double(bytes >= (1ull << 30) ? 1ull << 30 : bytes >= (1ull << 20) ? 1ull << 20 : 1ull << 10);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f %s", double(bytes) / scale, unit);
    return buf;
}

inline void check_decode_bytes(const DecodeCost& cost, Index w, Index h, Index max_bytes, const std::string& who) {
    if (cost.bytes <= static_cast<std::uint64_t>(max_bytes)) return;
    throw FormatError(
        ErrorId::format_header,
        who + " is " + std::to_string(w) + " x " + std::to_string(h) + " pixels of " + std::to_string(cost.channels) +
            (cost.channels == 1 ? " channel, " : " channels, ") + std::to_string(cost.bits) +
            " bits each: decoding it needs up to " + std::to_string(cost.bytes) + " bytes (" + human_bytes(cost.bytes) +
            "), more than the limit of " + std::to_string(max_bytes) + " bytes (" +
            human_bytes(static_cast<std::uint64_t>(max_bytes)) + "); to load it, raise LoadImageOptions::max_bytes");
}

struct StbFree {
    void operator()(void* p) const noexcept { stbi::lamina_stbi_image_free(p); }
};

inline Tensor<float> decode_image(const std::uint8_t* d, std::size_t n, const std::string& name,
                                  const LoadImageOptions& options) {
    const std::string who = image_who(name);
    const Index max_pixels = options.max_pixels;
    if (max_pixels < 1)
        throw ConfigError(ErrorId::config_argument,
                          who + ": max_pixels must be >= 1, got " + std::to_string(max_pixels));
    if (options.max_bytes < 1)
        throw ConfigError(ErrorId::config_argument,
                          who + ": max_bytes must be >= 1, got " + std::to_string(options.max_bytes));
    if (n == 0) throw FormatError(ErrorId::format_size, who + " is empty (0 bytes)");
    if (n > static_cast<std::size_t>(INT_MAX))
        throw FormatError(ErrorId::format_size,
                          who + " holds " + std::to_string(n) + " bytes; stb_image reads images of at most 2 GiB");
    const int len = static_cast<int>(n);
    if (const char* other = unsupported_format_name(d, n))
        throw FormatError(ErrorId::format_magic,
                          who + " is a " + std::string(other) + " file; load_image reads PNG, JPEG, BMP, GIF and TGA");

    const ImageKind kind = sniff_image(d, n);
    Index declared_w = 0, declared_h = 0;
    if (declared_size(d, n, kind, declared_w, declared_h)) check_pixel_count(declared_w, declared_h, max_pixels, who);

    // JPEG's walk runs before any stb call: stb_image_info already reads the
    // Huffman tables that come before the frame header.
    JpegLayout jpeg;
    if (kind == ImageKind::jpeg)
        if (const std::string missing = check_jpeg(d, n, jpeg, who); !missing.empty())
            throw FormatError(ErrorId::format_size, who + " is truncated: " + missing);

    int w = 0, h = 0, channels = 0;
    if (!stbi::lamina_stbi_info_from_memory(d, len, &w, &h, &channels)) {
        const std::string reason = stbi::lamina_stbi_failure_reason();
        if (kind == ImageKind::other)
            throw FormatError(ErrorId::format_magic, who + " is not an image load_image can read (stb_image: " +
                                                         reason + "); it reads PNG, JPEG, BMP, GIF and TGA");
        throw FormatError(ErrorId::format_header, who + " has an invalid header (stb_image: " + reason + ")");
    }
    if (w < 1 || h < 1)
        throw FormatError(ErrorId::format_header,
                          who + " declares " + std::to_string(w) + " x " + std::to_string(h) + " pixels");
    check_pixel_count(w, h, max_pixels, who);

    std::string missing;
    PngLayout png;
    switch (kind) {
        case ImageKind::png: missing = check_png(d, n, who, png); break;
        case ImageKind::jpeg: break;  // walked before stb_image_info, above
        case ImageKind::gif: missing = check_gif(d, n); break;
        case ImageKind::bmp: missing = check_bmp(d, n); break;
        case ImageKind::other: missing = check_tga(d, n); break;
    }
    if (!missing.empty()) throw FormatError(ErrorId::format_size, who + " is truncated: " + missing);
    const auto estimate = [&] {
        return estimate_decode_bytes(kind, std::uint64_t(w), std::uint64_t(h), channels, png, jpeg);
    };
    check_decode_bytes(estimate(), w, h, options.max_bytes, who);
    if (kind == ImageKind::png) {
        // The header's rows fit; a longer stream would too if deflate's
        // densest code could not outgrow the limit. Otherwise count it.
        png.inflated = png.idat_bytes * deflate_max_ratio + deflate_max_ratio;
        if (estimate().bytes > static_cast<std::uint64_t>(options.max_bytes)) {
            png.inflated =
                png_inflated_bytes(d, n, png.iphone, static_cast<std::uint64_t>(options.max_bytes), png.idat_bytes);
            check_decode_bytes(estimate(), w, h, options.max_bytes, who);
        }
    }

    const bool sixteen = stbi::lamina_stbi_is_16_bit_from_memory(d, len) != 0;
    std::unique_ptr<void, StbFree> pixels(
        sixteen ? static_cast<void*>(stbi::lamina_stbi_load_16_from_memory(d, len, &w, &h, &channels, 0))
                : static_cast<void*>(stbi::lamina_stbi_load_from_memory(d, len, &w, &h, &channels, 0)));
    if (!pixels) {
        const std::string reason = stbi::lamina_stbi_failure_reason();
        if (reason == "outofmem") throw std::bad_alloc();
        throw FormatError(ErrorId::format_image_data, who + " cannot be decoded (stb_image: " + reason + ")");
    }

    // stb gives interleaved (H, W, C); lamina wants planar (C, H, W).
    const int o = jpeg.orientation;
    Tensor<float> image(o >= 5 ? Shape{channels, w, h} : Shape{channels, h, w});
    if (sixteen) {
        to_planar(
            static_cast<const std::uint16_t*>(pixels.get()), channels, h, w, o,
            [](std::uint16_t v) { return float(v) / 65535.0f; }, image.data());
    } else {
        std::array<float, 256> scale{};
        for (int v = 0; v < 256; ++v) scale[static_cast<std::size_t>(v)] = float(v) / 255.0f;
        to_planar(
            static_cast<const std::uint8_t*>(pixels.get()), channels, h, w, o,
            [&scale](std::uint8_t v) { return scale[v]; }, image.data());
    }
    return image;
}

inline std::vector<std::uint8_t> read_image_file(const std::string& path) {
    const std::string who = image_who(path);
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found)
        throw IoError(ErrorId::io_open, "load_image: cannot open '" + path + "': no such file");
    if (status.type() == std::filesystem::file_type::directory)
        throw IoError(ErrorId::io_open, "load_image: cannot open '" + path + "': it is a directory");
    struct Closer {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };
    errno = 0;
    std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
    if (!file)
        throw IoError(ErrorId::io_open,
                      "load_image: cannot open '" + path + "': " + (errno ? std::strerror(errno) : "fopen failed"));
    std::vector<std::uint8_t> bytes;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) {
        if (size > static_cast<std::uintmax_t>(INT_MAX))
            throw FormatError(ErrorId::format_size, who + " holds " + std::to_string(size) +
                                                        " bytes; stb_image reads images of at most 2 GiB");
        bytes.reserve(static_cast<std::size_t>(size));
    }
    std::uint8_t buffer[1 << 16];
    for (;;) {
        const std::size_t got = std::fread(buffer, 1, sizeof buffer, file.get());
        bytes.insert(bytes.end(), buffer, buffer + got);
        if (got < sizeof buffer) break;
        if (bytes.size() > static_cast<std::size_t>(INT_MAX))
            throw FormatError(ErrorId::format_size, who + " holds more than 2 GiB; stb_image's limit");
    }
    if (std::ferror(file.get()))
        throw IoError(ErrorId::io_read,
                      "load_image: reading '" + path + "' failed: " + std::strerror(errno ? errno : EIO));
    return bytes;
}

}  // namespace detail

// Decodes the image file at `path` into a (C, H, W) float tensor in [0, 1];
// see the top of this file.
inline Tensor<float> load_image(const std::string& path, const LoadImageOptions& options = {}) {
    const auto bytes = detail::read_image_file(path);
    return detail::decode_image(bytes.data(), bytes.size(), path, options);
}

// load_image for `size` bytes at `data`; messages name the input `name`.
inline Tensor<float> load_image_from_memory(const void* data, std::size_t size, const std::string& name = "<memory>",
                                            const LoadImageOptions& options = {}) {
    if (!data && size > 0)
        throw ConfigError(ErrorId::config_argument,
                          "load_image_from_memory: '" + name + "': data is null but size is " + std::to_string(size));
    return detail::decode_image(static_cast<const std::uint8_t*>(data), size, name, options);
}

}  // namespace lamina::io
