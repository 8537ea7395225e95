// io::load_image / load_image_from_memory / write_png: every format and
// channel count, EXIF orientation, and every bad input. All files are made
// here: PNG/BMP/TGA/JPEG by lamina's stb_image_write, GIF and 16-bit PNG
// byte by byte.
#include <catch2/catch.hpp>

#include "jpeg_fixtures.hpp"
#include "matchers.hpp"
#include "temp_dir.hpp"

#include <lamina/io/detail/stb_image_write.hpp>
#include <lamina/io/image.hpp>
#include <lamina/io/image_write.hpp>

#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using namespace lamina;
using test::TempDir;
using test::write_bytes;

namespace {

using Bytes = std::vector<std::uint8_t>;

// w x h x channels bytes, every value distinct enough to catch a layout mix-up.
Bytes pattern(int w, int h, int channels) {
    Bytes p(static_cast<std::size_t>(w * h * channels));
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
    return p;
}

void append(void* context, void* data, int size) { io::detail::append_bytes(context, data, size); }

Bytes encode(const std::string& format, const Bytes& pixels, int w, int h, int channels) {
    Bytes out;
    namespace s = io::detail::stbiw;
    int ok = 0;
    if (format == "png") ok = s::stbi_write_png_to_func(append, &out, w, h, channels, pixels.data(), w * channels);
    if (format == "bmp") ok = s::stbi_write_bmp_to_func(append, &out, w, h, channels, pixels.data());
    if (format == "tga") ok = s::stbi_write_tga_to_func(append, &out, w, h, channels, pixels.data());
    if (format == "jpg") ok = s::stbi_write_jpg_to_func(append, &out, w, h, channels, pixels.data(), 95);
    REQUIRE(ok == 1);
    return out;
}

// The (C, H, W) value of interleaved byte pixels.
float at(const Bytes& pixels, int w, int channels, int c, int r, int col) {
    return float(pixels[static_cast<std::size_t>((r * w + col) * channels + c)]) / 255.0f;
}

void be32(Bytes& b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

void png_chunk(Bytes& png, const char* type, const Bytes& data) {
    be32(png, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = png.size();
    png.insert(png.end(), type, type + 4);
    png.insert(png.end(), data.begin(), data.end());
    be32(png, static_cast<std::uint32_t>(crc32(0L, png.data() + start, static_cast<uInt>(png.size() - start))));
}

// A PNG's signature and IHDR chunk (bit depth, colour type; no interlace):
// the chunks after it are the caller's.
Bytes png_header(std::uint32_t w, std::uint32_t h, std::uint8_t depth, std::uint8_t type) {
    Bytes png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    Bytes ihdr;
    be32(ihdr, w);
    be32(ihdr, h);
    ihdr.insert(ihdr.end(), {depth, type, 0, 0, 0});
    png_chunk(png, "IHDR", ihdr);
    return png;
}

// A 16-bit PNG of colour type `type` (0 grey, 4 grey+alpha, 2 RGB, 6 RGBA).
Bytes png16(std::uint32_t w, std::uint32_t h, int type, const std::vector<std::uint16_t>& samples) {
    Bytes png = png_header(w, h, 16, static_cast<std::uint8_t>(type));
    const std::size_t per_row = samples.size() / h;
    Bytes raw;
    for (std::uint32_t r = 0; r < h; ++r) {
        raw.push_back(0);  // filter: none
        for (std::size_t i = 0; i < per_row; ++i) {
            const std::uint16_t v = samples[r * per_row + i];
            raw.push_back(static_cast<std::uint8_t>(v >> 8));
            raw.push_back(static_cast<std::uint8_t>(v));
        }
    }
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    Bytes z(size);
    REQUIRE(compress(z.data(), &size, raw.data(), static_cast<uLong>(raw.size())) == Z_OK);
    z.resize(size);
    png_chunk(png, "IDAT", z);
    png_chunk(png, "IEND", {});
    return png;
}

// n zero bytes as raw deflate blocks (no zlib header), ended by `flush`.
Bytes deflate_zeros(std::size_t n, int flush) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    const Bytes zeros(n);
    Bytes out, buffer(1 << 16);
    z.next_in = const_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(n);
    int rc = Z_OK;
    do {
        z.next_out = buffer.data();
        z.avail_out = static_cast<uInt>(buffer.size());
        rc = deflate(&z, flush);
        out.insert(out.end(), buffer.data(), buffer.data() + (buffer.size() - z.avail_out));
    } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    deflateEnd(&z);
    return out;
}

// A zlib stream of n zero bytes, made without holding them: a full flush
// leaves deflate with no history, so the bytes of one compressed MiB of
// zeros can be repeated (1 GiB takes 1 MB).
Bytes zlib_zeros(std::uint64_t n) {
    const std::size_t segment = std::size_t(1) << 20;
    Bytes z{0x78, 0xda};
    const Bytes block = deflate_zeros(segment, Z_FULL_FLUSH);
    for (std::uint64_t i = 0; i < n / segment; ++i) z.insert(z.end(), block.begin(), block.end());
    const Bytes tail = deflate_zeros(static_cast<std::size_t>(n % segment), Z_FINISH);
    z.insert(z.end(), tail.begin(), tail.end());
    be32(z, static_cast<std::uint32_t>((n % 65521) << 16 | 1));  // Adler-32 of zeros: a stays 1, b counts
    return z;
}

// A valid w x h PNG (no interlace) whose samples are all 0: its filtered rows
// are zero bytes only (filter 0, then zero samples). `extra` zero bytes follow
// the rows in the stream, which stb_image inflates too and then ignores.
Bytes zero_png(std::uint32_t w, std::uint32_t h, std::uint8_t depth, std::uint8_t type, std::uint64_t extra = 0) {
    const std::uint64_t channels = type == 2 ? 3 : type == 4 ? 2 : type == 6 ? 4 : 1;
    const std::uint64_t rows = ((std::uint64_t(w) * channels * depth + 7) / 8 + 1) * h;
    Bytes png = png_header(w, h, depth, type);
    png_chunk(png, "IDAT", zlib_zeros(rows + extra));
    png_chunk(png, "IEND", {});
    return png;
}

// A GIF of palette indices (< 4), colour `transparent` see-through (-1: none).
// LZW without compression: a clear code before every pixel code keeps the
// code table empty, so every code stays 3 bits wide.
Bytes gif(std::uint16_t w, std::uint16_t h, const Bytes& indices, const Bytes& palette, int transparent) {
    Bytes g{'G',
            'I',
            'F',
            '8',
            '9',
            'a',
            static_cast<std::uint8_t>(w),
            static_cast<std::uint8_t>(w >> 8),
            static_cast<std::uint8_t>(h),
            static_cast<std::uint8_t>(h >> 8),
            0x81,
            0,
            0};  // 4-colour global palette
    // push_back, not insert: g++ 12's -Warray-bounds misfires on inserting into short vectors.
    auto add = [&g](std::initializer_list<std::uint8_t> bytes) {
        for (std::uint8_t b : bytes) g.push_back(b);
    };
    for (std::uint8_t b : palette) g.push_back(b);
    if (transparent >= 0) add({0x21, 0xf9, 4, 1, 0, 0, static_cast<std::uint8_t>(transparent), 0});
    add({0x2c, 0, 0, 0, 0, static_cast<std::uint8_t>(w), static_cast<std::uint8_t>(w >> 8),
         static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(h >> 8), 0, 2});
    Bytes data;
    std::uint32_t bits = 0;
    int count = 0;
    auto put = [&](std::uint32_t code) {
        bits |= code << count;
        count += 3;
        while (count >= 8) {
            data.push_back(static_cast<std::uint8_t>(bits));
            bits >>= 8;
            count -= 8;
        }
    };
    for (std::uint8_t i : indices) {
        put(4);  // clear
        put(i);
    }
    put(5);  // end of information
    if (count > 0) data.push_back(static_cast<std::uint8_t>(bits));
    for (std::size_t i = 0; i < data.size(); i += 255) {
        const std::size_t n = std::min<std::size_t>(255, data.size() - i);
        g.push_back(static_cast<std::uint8_t>(n));
        g.insert(g.end(), data.begin() + static_cast<std::ptrdiff_t>(i),
                 data.begin() + static_cast<std::ptrdiff_t>(i + n));
    }
    g.push_back(0);
    g.push_back(0x3b);
    return g;
}

io::LoadImageOptions max_pixels(Index n) {
    io::LoadImageOptions o;
    o.max_pixels = n;
    return o;
}

io::LoadImageOptions max_bytes(Index n) {
    io::LoadImageOptions o;
    o.max_bytes = n;
    return o;
}

// `jpeg` with an APP1 segment holding EXIF orientation o in front.
Bytes with_exif_orientation(const Bytes& jpeg, std::uint8_t o, bool little_endian = true) {
    Bytes tiff = little_endian
                     ? Bytes{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, o, 0, 0, 0, 0, 0, 0, 0}
                     : Bytes{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0};
    // push_back, not insert, as in gif().
    Bytes app1{'E', 'x', 'i', 'f', 0, 0};
    for (std::uint8_t b : tiff) app1.push_back(b);
    Bytes out{0xff,
              0xd8,
              0xff,
              0xe1,
              static_cast<std::uint8_t>((app1.size() + 2) >> 8),
              static_cast<std::uint8_t>(app1.size() + 2)};
    for (std::uint8_t b : app1) out.push_back(b);
    for (std::size_t i = 2; i < jpeg.size(); ++i) out.push_back(jpeg[i]);
    return out;
}

Tensor<float> load(const Bytes& bytes, const std::string& name = "test") {
    return io::load_image_from_memory(bytes.data(), bytes.size(), name);
}

}  // namespace

TEST_CASE("load_image reads PNG, BMP and TGA losslessly as (C, H, W) in [0, 1]", "[image]") {
    TempDir dir("image_io");
    const int w = 5, h = 3;
    for (const std::string format : {"png", "bmp", "tga"})
        for (int channels = 1; channels <= 4; ++channels) {
            // stb_image_write stores BMP as RGB (alpha kept only with 4 channels)
            const int stored = format == "bmp" ? (channels == 4 ? 4 : 3) : channels;
            if (format == "bmp" && channels == 2) continue;  // grey+alpha has no BMP form
            INFO(format << " with " << channels << " channels");
            const Bytes pixels = pattern(w, h, channels);
            const std::string path = dir.file("img" + std::to_string(channels) + "." + format);
            write_bytes(path, encode(format, pixels, w, h, channels));
            const Tensor<float> image = io::load_image(path);
            REQUIRE(image.shape().str() == Shape{stored, h, w}.str());
            for (int c = 0; c < stored; ++c)
                for (int r = 0; r < h; ++r)
                    for (int col = 0; col < w; ++col) {
                        // Grey BMP is stored as R = G = B = grey.
                        const int source = channels == 1 ? 0 : c;
                        CHECK(image[(c * h + r) * w + col] == at(pixels, w, channels, source, r, col));
                    }
        }
}

TEST_CASE("load_image reads JPEG within JPEG's loss", "[image]") {
    // stb_image_write always writes three components (a grey input gives
    // R = G = B), so both inputs come back as (3, H, W).
    const int w = 16, h = 16;
    for (int channels : {1, 3}) {
        INFO(channels << " channels written");
        Bytes pixels(static_cast<std::size_t>(w * h * channels));
        // Smooth ramps: JPEG keeps them within a few levels.
        for (int r = 0; r < h; ++r)
            for (int col = 0; col < w; ++col)
                for (int c = 0; c < channels; ++c)
                    pixels[static_cast<std::size_t>((r * w + col) * channels + c)] =
                        static_cast<std::uint8_t>(40 + 8 * col + 4 * r + 30 * c);
        const Tensor<float> image = load(encode("jpg", pixels, w, h, channels));
        REQUIRE(image.shape().str() == Shape{3, h, w}.str());
        double error = 0;
        for (int c = 0; c < 3; ++c)
            for (int r = 0; r < h; ++r)
                for (int col = 0; col < w; ++col)
                    error +=
                        std::abs(image[(c * h + r) * w + col] - at(pixels, w, channels, channels == 1 ? 0 : c, r, col));
        CHECK(error / (w * h * 3) < 0.02);
    }
}

namespace {

// The ramps tests/jpeg_fixtures.hpp's files were made from (20 x 12).
int ramp_value(int channel, int r, int col) {
    switch (channel) {
        case 0: return 40 + 8 * col + 4 * r;
        case 1: return 60 + 6 * col + 2 * r;
        default: return 200 - 5 * col - 3 * r;
    }
}

}  // namespace

TEST_CASE("load_image reads greyscale and progressive JPEGs (libjpeg-turbo's)", "[image]") {
    // Greyscale JPEGs (one component, as scanners and many phones write
    // them) load as one channel; progressive ones decode like baseline ones.
    const int w = 20, h = 12;
    struct Case {
        const char* name;
        const Bytes& bytes;
        int channels;
    };
    for (const Case& k :
         {Case{"grey", jpeg_fixtures::grey, 1}, Case{"grey_progressive", jpeg_fixtures::grey_progressive, 1},
          Case{"rgb_progressive", jpeg_fixtures::rgb_progressive, 3}}) {
        INFO(k.name);
        const Tensor<float> image = load(k.bytes, std::string(k.name) + ".jpg");
        REQUIRE(image.shape().str() == Shape{k.channels, h, w}.str());
        double error = 0, worst = 0;
        for (int c = 0; c < k.channels; ++c)
            for (int r = 0; r < h; ++r)
                for (int col = 0; col < w; ++col) {
                    const double e = std::abs(image[(c * h + r) * w + col] - ramp_value(c, r, col) / 255.0);
                    error += e;
                    worst = std::max(worst, e);
                }
        CHECK(error / (w * h * k.channels) < 0.01);
        CHECK(worst < 0.05);
    }
}

TEST_CASE("load_image reads GIF as RGBA with its transparent colour", "[image]") {
    const Bytes palette{0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 255, 255};
    const Bytes indices{0, 1, 2, 3, 3, 2, 1, 0, 1, 1, 2, 2};  // 4 x 3
    const Tensor<float> image = load(gif(4, 3, indices, palette, 3), "tiny.gif");
    REQUIRE(image.shape().str() == Shape{4, 3, 4}.str());
    for (int i = 0; i < 12; ++i) {
        const int k = indices[static_cast<std::size_t>(i)];
        INFO("pixel " << i << ", palette index " << k);
        CHECK(image[3 * 12 + i] == (k == 3 ? 0.0f : 1.0f));  // alpha
        if (k == 3) continue;
        for (int c = 0; c < 3; ++c) CHECK(image[c * 12 + i] == float(palette[std::size_t(3 * k + c)]) / 255.0f);
    }
}

TEST_CASE("load_image reads 16-bit PNG, scaled by 65535", "[image]") {
    struct Case {
        int type, channels;
    };
    for (const Case k : {Case{0, 1}, Case{4, 2}, Case{2, 3}, Case{6, 4}}) {
        INFO("colour type " << k.type);
        std::vector<std::uint16_t> samples(static_cast<std::size_t>(3 * 2 * k.channels));
        for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<std::uint16_t>(i * 4099 + 1);
        samples[0] = 65535;
        const Tensor<float> image = load(png16(3, 2, k.type, samples));
        REQUIRE(image.shape().str() == Shape{k.channels, 2, 3}.str());
        for (int i = 0; i < 6; ++i)
            for (int c = 0; c < k.channels; ++c)
                CHECK(image[c * 6 + i] == float(samples[std::size_t(i * k.channels + c)]) / 65535.0f);
        CHECK(image[0] == 1.0f);
    }
}

TEST_CASE("load_image applies a JPEG's EXIF orientation", "[image]") {
    // 16 wide, 8 high: left half black, right half white.
    const int w = 16, h = 8;
    Bytes pixels(w * h);
    for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) pixels[std::size_t(r * w + c)] = c < 8 ? 0 : 255;
    const Bytes jpeg = encode("jpg", pixels, w, h, 1);
    auto mean = [](const Tensor<float>& t, Index r0, Index r1, Index c0, Index c1) {
        double s = 0;
        for (Index r = r0; r < r1; ++r)
            for (Index c = c0; c < c1; ++c) s += t[r * t.shape()[2] + c];
        return s / double((r1 - r0) * (c1 - c0));
    };
    // (3, ...): stb_image_write's JPEGs are always colour.
    const Tensor<float> upright = load(with_exif_orientation(jpeg, 1, true));
    REQUIRE(upright.shape().str() == Shape{3, 8, 16}.str());
    CHECK(mean(upright, 0, 8, 0, 8) < 0.1);
    // 6: the camera was turned clockwise; shown rotated 90 degrees clockwise,
    // the left (black) half becomes the top.
    for (bool little : {true, false}) {
        const Tensor<float> rotated = load(with_exif_orientation(jpeg, 6, little));
        REQUIRE(rotated.shape().str() == Shape{3, 16, 8}.str());
        CHECK(mean(rotated, 0, 8, 0, 8) < 0.1);
        CHECK(mean(rotated, 8, 16, 0, 8) > 0.9);
    }
    const Tensor<float> left = load(with_exif_orientation(jpeg, 8, true));  // 90 degrees counter-clockwise
    REQUIRE(left.shape().str() == Shape{3, 16, 8}.str());
    CHECK(mean(left, 8, 16, 0, 8) < 0.1);
    const Tensor<float> flipped = load(with_exif_orientation(jpeg, 3, true));  // 180 degrees
    REQUIRE(flipped.shape().str() == Shape{3, 8, 16}.str());
    CHECK(mean(flipped, 0, 8, 8, 16) < 0.1);
}

TEST_CASE("load_image: each EXIF orientation moves every pixel exactly", "[image]") {
    // stb decodes the same pixels whatever the EXIF segment says, so each
    // orientation must be an exact permutation of the upright image.
    const int w = 24, h = 16;
    const Bytes jpeg = encode("jpg", pattern(w, h, 3), w, h, 3);
    const Tensor<float> upright = load(with_exif_orientation(jpeg, 1));
    REQUIRE(upright.shape().str() == Shape{3, h, w}.str());
    for (std::uint8_t o = 1; o <= 8; ++o) {
        INFO("orientation " << int(o));
        const Tensor<float> shown = load(with_exif_orientation(jpeg, o, o % 2 == 0));
        const bool swap = o >= 5;
        const int sh = swap ? w : h, sw = swap ? h : w;
        REQUIRE(shown.shape().str() == Shape{3, sh, sw}.str());
        int wrong = 0;
        for (int c = 0; c < 3; ++c)
            for (int r = 0; r < sh; ++r)
                for (int col = 0; col < sw; ++col) {
                    // The stored (y, x) shown at (r, col): 5-8 transpose, then
                    // 2, 3, 7, 8 mirror left-right and 3, 4, 6, 7 top-bottom.
                    int y = swap ? col : r, x = swap ? r : col;
                    if (o == 2 || o == 3 || o == 7 || o == 8) x = w - 1 - x;
                    if (o == 3 || o == 4 || o == 6 || o == 7) y = h - 1 - y;
                    wrong += shown[(c * sh + r) * sw + col] != upright[(c * h + y) * w + x];
                }
        CHECK(wrong == 0);
    }
}

TEST_CASE("load_image: missing, empty, garbage and unsupported files", "[image]") {
    using test::error;
    TempDir dir("image_io_bad");
    CHECK_THROWS_MATCHES(io::load_image(dir.file("nope.png")), IoError,
                         error(ErrorId::io_open, {"nope.png", "no such file"}));
    CHECK_THROWS_MATCHES(io::load_image(dir.path().string()), IoError, error(ErrorId::io_open, {"directory"}));
    write_bytes(dir.file("empty.png"), {});
    CHECK_THROWS_MATCHES(io::load_image(dir.file("empty.png")), FormatError,
                         error(ErrorId::format_size, {"empty.png", "empty"}));
    write_bytes(dir.file("garbage.png"),
                Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', 1, 2, 3, 4, 5, 6, 7, 8});
    CHECK_THROWS_MATCHES(io::load_image(dir.file("garbage.png")), FormatError,
                         error(ErrorId::format_magic, {"garbage.png", "stb_image", "PNG, JPEG, BMP, GIF and TGA"}));
    const Bytes webp{'R', 'I', 'F', 'F', 0x24, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' '};
    CHECK_THROWS_MATCHES(load(webp, "photo.webp"), FormatError, error(ErrorId::format_magic, {"photo.webp", "WebP"}));
    const Bytes heic{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0};
    CHECK_THROWS_MATCHES(load(heic, "IMG_1.HEIC"), FormatError, error(ErrorId::format_magic, {"HEIC"}));
    CHECK_THROWS_MATCHES(io::load_image_from_memory(nullptr, 4), ConfigError,
                         error(ErrorId::config_argument, {"null"}));
    const Bytes png = encode("png", pattern(2, 2, 1), 2, 2, 1);
    CHECK_THROWS_MATCHES(io::load_image_from_memory(png.data(), png.size(), "x", max_pixels(0)), ConfigError,
                         error(ErrorId::config_argument, {"max_pixels"}));
}

TEST_CASE("load_image: every truncation of every format is an error", "[image]") {
    using test::error;
    const Bytes rgb = pattern(9, 7, 3);
    Bytes jpeg_pixels(16 * 16 * 3, 128);
    struct Case {
        std::string name;
        Bytes bytes;
    };
    const std::vector<Case> cases{{"png", encode("png", rgb, 9, 7, 3)},
                                  {"bmp", encode("bmp", rgb, 9, 7, 3)},
                                  {"tga", encode("tga", rgb, 9, 7, 3)},  // run-length encoded by default
                                  {"tga-raw",
                                   [&] {  // uncompressed: type 2
                                       io::detail::stbiw::stbi_write_tga_with_rle = 0;
                                       Bytes b = encode("tga", rgb, 9, 7, 3);
                                       io::detail::stbiw::stbi_write_tga_with_rle = 1;
                                       return b;
                                   }()},
                                  {"jpg", encode("jpg", jpeg_pixels, 16, 16, 3)},
                                  {"jpg-grey", jpeg_fixtures::grey},
                                  {"jpg-progressive", jpeg_fixtures::rgb_progressive},
                                  {"gif", gif(4, 3, Bytes(12, 1), Bytes(12, 200), -1)},
                                  {"png16", png16(3, 2, 2, std::vector<std::uint16_t>(18, 1000))}};
    for (const Case& k : cases) {
        INFO(k.name << ", " << k.bytes.size() << " bytes");
        REQUIRE_NOTHROW(load(k.bytes));
        // Every length from 1 byte to all but the last: formats differ in
        // which cut stb_image notices, lamina must notice them all. (A GIF
        // without its 1-byte trailer still holds its whole first frame.)
        const std::size_t whole = k.name == "gif" ? k.bytes.size() - 1 : k.bytes.size();
        for (std::size_t n = 1; n < whole; ++n) {
            INFO("cut to " << n << " bytes");
            const Bytes cut(k.bytes.begin(), k.bytes.begin() + static_cast<std::ptrdiff_t>(n));
            try {
                load(cut, "cut." + k.name);
                FAIL("a truncated file loaded");
            } catch (const FormatError& e) {
                CHECK_THAT(e, test::mentions({"cut." + k.name}));
                CHECK((e.id() == ErrorId::format_size || e.id() == ErrorId::format_header ||
                       e.id() == ErrorId::format_magic || e.id() == ErrorId::format_image_data));
            }
        }
        // The cut after the header is named as such.
        if (k.name != "gif") {
            const Bytes most(k.bytes.begin(), k.bytes.end() - 1);
            CHECK_THROWS_MATCHES(load(most, "most"), FormatError, error(ErrorId::format_size, {"truncated"}));
        }
    }
}

TEST_CASE("load_image: corrupt data, CRC errors and forged sizes", "[image]") {
    using test::error;
    // A flipped bit in a PNG's pixel data: its CRC no longer matches.
    Bytes png = encode("png", pattern(8, 8, 3), 8, 8, 3);
    const std::size_t idat = 8 + 25 + 8;  // signature, IHDR chunk, IDAT length + type
    png[idat + 5] ^= 0x10;
    CHECK_THROWS_MATCHES(load(png, "flip.png"), FormatError,
                         error(ErrorId::format_checksum, {"flip.png", "IDAT", "CRC"}));

    // Corrupt deflate data with a correct CRC gets past the walk; stb_image says what is wrong.
    Bytes raw{0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    Bytes bad = png_header(4, 4, 8, 0);
    png_chunk(bad, "IDAT", raw);
    png_chunk(bad, "IEND", {});
    CHECK_THROWS_MATCHES(load(bad, "bad-zlib.png"), FormatError,
                         error(ErrorId::format_image_data, {"bad-zlib.png", "stb_image"}));

    // A header declaring 10^9 pixels (40000 x 25000) is refused before any allocation.
    Bytes huge = png_header(40000, 25000, 8, 2);
    png_chunk(huge, "IDAT", raw);
    png_chunk(huge, "IEND", {});
    CHECK_THROWS_MATCHES(load(huge, "huge.png"), FormatError,
                         error(ErrorId::format_header, {"huge.png", "40000 x 25000", "1000000000", "max_pixels"}));
    // The largest a PNG header can declare: the product overflows a signed
    // 64-bit count (the fuzzer found this), the message gives it exactly.
    Bytes widest = png_header(0xffffffffu, 0xffffff0bu, 8, 0);
    png_chunk(widest, "IEND", {});
    CHECK_THROWS_MATCHES(
        load(widest, "widest.png"), FormatError,
        error(ErrorId::format_header, {"widest.png", "4294967295 x 4294967051", "18446743017147597045", "max_pixels"}));
    // The same for a BMP and a GIF header, and a caller's own lower limit.
    Bytes bmp = encode("bmp", pattern(4, 4, 3), 4, 4, 3);
    bmp[18] = 0x40, bmp[19] = 0x9c, bmp[20] = 0, bmp[21] = 0;  // width 40000
    bmp[22] = 0xa8, bmp[23] = 0x61, bmp[24] = 0, bmp[25] = 0;  // height 25000
    CHECK_THROWS_MATCHES(load(bmp, "huge.bmp"), FormatError, error(ErrorId::format_header, {"huge.bmp"}));
    Bytes g = gif(4, 3, Bytes(12, 1), Bytes(12, 200), -1);
    g[6] = g[7] = g[8] = g[9] = 0xff;  // 65535 x 65535
    CHECK_THROWS_MATCHES(load(g, "huge.gif"), FormatError, error(ErrorId::format_header, {"huge.gif"}));
    const Bytes ok = encode("png", pattern(10, 10, 1), 10, 10, 1);
    CHECK_THROWS_MATCHES(io::load_image_from_memory(ok.data(), ok.size(), "ten.png", max_pixels(99)), FormatError,
                         error(ErrorId::format_header, {"10 x 10", "99"}));
    CHECK(io::load_image_from_memory(ok.data(), ok.size(), "ten.png", max_pixels(100)).shape().str() ==
          Shape{1, 10, 10}.str());
}

TEST_CASE("load_image: an image needing more than max_bytes is refused before decoding", "[image]") {
    using test::error;
    // 1 MB that declares 11585 x 11585 16-bit RGBA pixels (within max_pixels):
    // stb's 8-byte pixels beside lamina's 16-byte floats need 3.0 GiB, more
    // than the default 2.5 GiB. Decoding it took 27 s and 5.0 GiB before the
    // limit existed; the refusal comes before stb_image allocates anything.
    const Bytes big = zero_png(11585, 11585, 16, 6);
    CHECK(big.size() < 1200000);
    CHECK_THROWS_MATCHES(load(big, "big.png"), FormatError,
                         error(ErrorId::format_header,
                               {"'big.png' is 11585 x 11585 pixels of 4 channels, 16 bits each", "3221093400 bytes",
                                "limit of 2684354560 bytes", "raise LoadImageOptions::max_bytes"}));

    // The same kind, small: 1000 x 1000 16-bit RGBA needs 24 bytes a pixel,
    // so it is refused where its 8-bit twin (20 bytes a pixel) fits, and a
    // limit raised to what it needs lets it through.
    const Bytes deep = zero_png(1000, 1000, 16, 6), shallow = zero_png(1000, 1000, 8, 6);
    CHECK_THROWS_MATCHES(io::load_image_from_memory(deep.data(), deep.size(), "deep.png", max_bytes(20000000)),
                         FormatError,
                         error(ErrorId::format_header,
                               {"1000 x 1000 pixels", "24000000 bytes", "limit of 20000000 bytes", "max_bytes"}));
    CHECK(
        io::load_image_from_memory(shallow.data(), shallow.size(), "shallow.png", max_bytes(20000000)).shape().str() ==
        Shape{4, 1000, 1000}.str());
    const Tensor<float> loaded = io::load_image_from_memory(deep.data(), deep.size(), "deep.png", max_bytes(24000000));
    REQUIRE(loaded.shape().str() == Shape{4, 1000, 1000}.str());
    CHECK(loaded[0] == 0.0f);
    CHECK(loaded[loaded.size() - 1] == 0.0f);

    // A stream longer than its header's rows: stb keeps inflating, doubling
    // its buffer, whatever the header says. 64 MiB after one pixel (64 KB of
    // file) grow its 2 bytes to 128 MiB, copied from 64 MiB: counted with
    // zlib before stb sees the file.
    const Bytes longer = zero_png(1, 1, 8, 0, std::uint64_t(64) << 20);
    CHECK(longer.size() < 70000);
    CHECK_THROWS_MATCHES(io::load_image_from_memory(longer.data(), longer.size(), "longer.png", max_bytes(128 << 20)),
                         FormatError,
                         error(ErrorId::format_header, {"longer.png", "1 x 1 pixels", "(192.19 MiB)", "max_bytes"}));
    CHECK(io::load_image_from_memory(longer.data(), longer.size(), "longer.png", max_bytes(200 << 20)).size() == 1);

    CHECK_THROWS_MATCHES(io::load_image_from_memory(deep.data(), deep.size(), "deep.png", max_bytes(0)), ConfigError,
                         error(ErrorId::config_argument, {"deep.png", "max_bytes"}));
}

TEST_CASE("load_image: every format's decoding is bounded by max_bytes", "[image]") {
    using test::error;
    // Whatever else stb needs, its 8-bit pixels beside lamina's floats take 5
    // bytes a sample: one byte less must be refused, the defaults must load.
    const int w = 64, h = 48;
    struct Case {
        std::string name;
        Bytes bytes;
        int channels;
    };
    std::vector<Case> cases;
    for (const std::string format : {"png", "bmp", "tga", "jpg"})
        for (int channels : {1, 3, 4}) {
            if (format == "jpg" && channels != 3) continue;  // stb_image_write's JPEGs are always colour
            if (format == "bmp" && channels != 4) continue;  // BMP stores 3 or 4 channels, stb reads back 3 or 4
            cases.push_back({"p." + format, encode(format, pattern(w, h, channels), w, h, channels), channels});
        }
    cases.push_back({"p.gif", gif(w, h, Bytes(std::size_t(w * h), 1), Bytes(12, 9), -1), 4});
    for (const Case& k : cases) {
        INFO(k.name << ", " << k.channels << " channels");
        const Tensor<float> image = io::load_image_from_memory(k.bytes.data(), k.bytes.size(), k.name);
        REQUIRE(image.shape()[0] == k.channels);
        const Index least = Index(w) * h * k.channels * 5;
        CHECK_THROWS_MATCHES(
            io::load_image_from_memory(k.bytes.data(), k.bytes.size(), k.name, max_bytes(least - 1)), FormatError,
            error(ErrorId::format_header, {k.name, std::to_string(w) + " x " + std::to_string(h), "max_bytes"}));
    }

    // An EXIF-rotated JPEG is turned while it is converted, into the one
    // float tensor: at 256 x 192 (where stb's planes need less) those 5 bytes
    // a sample are all the estimate asks for.
    const int pw = 256, ph = 192;
    const Bytes rotated = with_exif_orientation(encode("jpg", pattern(pw, ph, 3), pw, ph, 3), 6);
    const Index need = Index(pw) * ph * 3 * 5;
    CHECK(io::load_image_from_memory(rotated.data(), rotated.size(), "r.jpg", max_bytes(need)).shape().str() ==
          Shape{3, pw, ph}.str());
    CHECK_THROWS_MATCHES(io::load_image_from_memory(rotated.data(), rotated.size(), "r.jpg", max_bytes(need - 1)),
                         FormatError, error(ErrorId::format_header, {"r.jpg", "256 x 192"}));
}

TEST_CASE("load_image: max_bytes's default fits phone photos, not a 16-bit RGBA image of max_pixels", "[image]") {
    using io::detail::estimate_decode_bytes;
    using io::detail::ImageKind;
    const auto fits = [](std::uint64_t bytes) { return bytes <= std::uint64_t(io::default_max_image_bytes); };
    io::detail::PngLayout rgba8;
    rgba8.depth = 8, rgba8.color = 6, rgba8.interlaced = false, rgba8.idat_bytes = 200u << 20;
    io::detail::JpegLayout photo;
    photo.orientation = 6, photo.components = 3, photo.progressive = true;
    for (const auto& [w, h] : {std::pair<int, int>{4000, 3000}, {8000, 6000}}) {
        INFO(w << " x " << h);
        CHECK(fits(estimate_decode_bytes(ImageKind::png, w, h, 4, rgba8, {}).bytes));
        CHECK(fits(estimate_decode_bytes(ImageKind::jpeg, w, h, 3, {}, photo).bytes));
        CHECK(fits(estimate_decode_bytes(ImageKind::bmp, w, h, 4, {}, {}).bytes));
        CHECK(fits(estimate_decode_bytes(ImageKind::gif, w, h, 4, {}, {}).bytes));
    }
    // A 108-megapixel photo too, and any 8-bit RGBA image of up to max_pixels.
    CHECK(fits(estimate_decode_bytes(ImageKind::jpeg, 12000, 9000, 3, {}, photo).bytes));
    CHECK(fits(estimate_decode_bytes(ImageKind::png, 11585, 11585, 4, rgba8, {}).bytes));
    io::detail::PngLayout rgba16 = rgba8;
    rgba16.depth = 16;
    CHECK_FALSE(fits(estimate_decode_bytes(ImageKind::png, 11585, 11585, 4, rgba16, {}).bytes));
    // The largest header stb reads saturates instead of wrapping.
    CHECK(estimate_decode_bytes(ImageKind::bmp, 0x7fffffff, 0x7fffffff, 4, {}, {}).bytes ==
          std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("load_image: a JPEG Huffman table with more than 256 codes is refused before stb reads it", "[image]") {
    // stb_image 2.27 writes past its tables when the 16 code counts add up to
    // more than 256 (found by fuzz_image); lamina's walk refuses the file.
    using test::error;
    const Bytes jpg = encode("jpg", pattern(16, 16, 3), 16, 16, 3);
    std::size_t dht = 0;
    for (std::size_t i = 2; i + 1 < jpg.size() && !dht; ++i)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc4) dht = i;
    REQUIRE(dht > 0);
    REQUIRE(io::load_image_from_memory(jpg.data(), jpg.size(), "good.jpg").shape().str() == Shape{3, 16, 16}.str());

    Bytes forged = jpg;
    for (std::size_t i = 0; i < 16; ++i) forged[dht + 5 + i] = 0xff;  // marker, length, class/id, then the counts
    CHECK_THROWS_MATCHES(load(forged, "forged.jpg"), FormatError,
                         error(ErrorId::format_image_data, {"forged.jpg", "Huffman table", "4080 codes"}));

    // stb skips stray bytes between segments until the next 0xff; so does the walk.
    Bytes stray = forged;
    stray.insert(stray.begin() + std::ptrdiff_t(dht), {0x12, 0x34, 0x56});
    CHECK_THROWS_MATCHES(load(stray, "stray.jpg"), FormatError,
                         error(ErrorId::format_image_data, {"stray.jpg", "Huffman table"}));

    // stb takes fill bytes (0xff) before the start marker too; the walk
    // must see such a file (fuzz_image found one), and a good one still loads.
    Bytes filled = forged;
    filled.insert(filled.begin(), {0xff, 0xff});
    CHECK_THROWS_MATCHES(load(filled, "filled.jpg"), FormatError,
                         error(ErrorId::format_image_data, {"filled.jpg", "Huffman table", "4080 codes"}));
    Bytes good_filled = jpg;
    good_filled.insert(good_filled.begin(), 0xff);
    CHECK(io::load_image_from_memory(good_filled.data(), good_filled.size(), "filled.jpg").shape().str() ==
          Shape{3, 16, 16}.str());

    // stb reads a table's counts past the end of its segment, from whatever
    // follows, before it checks the length (fuzz_image found a table cut
    // after one count, followed by bytes adding up to 2004 codes): a table
    // must fit in its segment, counts and codes.
    auto cut_segment = [&](std::size_t length) {
        Bytes cut = jpg;
        cut[dht + 2] = std::uint8_t(length >> 8), cut[dht + 3] = std::uint8_t(length & 0xff);
        return cut;
    };
    CHECK_THROWS_MATCHES(load(cut_segment(2 + 1 + 8), "counts.jpg"), FormatError,
                         error(ErrorId::format_image_data, {"counts.jpg", "Huffman table", "16 code counts run past"}));
    CHECK_THROWS_MATCHES(load(cut_segment(2 + 17 + 1), "codes.jpg"), FormatError,
                         error(ErrorId::format_image_data, {"codes.jpg", "Huffman table", "holds only 1 more bytes"}));
}

TEST_CASE("load_image: a JPEG scan that uses a Huffman table no DHT defines is refused", "[image]") {
    // stb_image 2.27 decodes with an undefined table's uninitialised memory
    // and indexes far past its arrays (found by fuzz_image). Which tables a
    // scan uses follows stb: baseline, both; progressive DC, the DC table on
    // the first pass only; progressive AC, the AC table.
    using test::error;
    // Offsets of the scan headers (0xff 0xda; entropy data stuffs every 0xff).
    auto scans = [](const Bytes& jpg) {
        std::vector<std::size_t> at;
        for (std::size_t i = 2; i + 1 < jpg.size(); ++i)
            if (jpg[i] == 0xff && jpg[i + 1] == 0xda) at.push_back(i);
        return at;
    };
    // The table selector byte of a scan's first component, and its Ss.
    auto selector = [](std::size_t sos) { return sos + 6; };
    auto spectral_start = [](const Bytes& jpg, std::size_t sos) { return jpg[sos + 5 + 2 * jpg[sos + 4]]; };

    const Bytes baseline = encode("jpg", pattern(16, 16, 3), 16, 16, 3);
    REQUIRE(scans(baseline).size() == 1);
    Bytes bad = baseline;
    bad[selector(scans(baseline)[0])] = 0x02;  // DC 0, AC 2: stb_image_write defines tables 0 and 1
    CHECK_THROWS_MATCHES(load(bad, "ac.jpg"), FormatError,
                         error(ErrorId::format_image_data, {"ac.jpg", "scan at byte", "AC Huffman table 2",
                                                            "no table segment (DHT) before it defines"}));
    bad[selector(scans(baseline)[0])] = 0x30;
    CHECK_THROWS_MATCHES(load(bad, "dc.jpg"), FormatError,
                         error(ErrorId::format_image_data, {"dc.jpg", "DC Huffman table 3"}));

    // libjpeg's progressive file: DC scans first (AC table 0 not yet defined,
    // and not needed), then AC scans, each after the table it uses, then a
    // DC refinement that reads no table.
    const Bytes& progressive = jpeg_fixtures::rgb_progressive;
    const std::vector<std::size_t> at = scans(progressive);
    REQUIRE(at.size() == 10);
    REQUIRE(spectral_start(progressive, at[0]) == 0);
    REQUIRE(spectral_start(progressive, at[1]) == 1);
    REQUIRE(load(progressive).shape().str() == Shape{3, 12, 20}.str());
    Bytes dc = progressive;
    dc[selector(at[0])] = 0x20;
    CHECK_THROWS_MATCHES(load(dc, "dc.jpg"), FormatError, error(ErrorId::format_image_data, {"DC Huffman table 2"}));
    Bytes ac = progressive;
    ac[selector(at[1])] = 0x03;
    CHECK_THROWS_MATCHES(load(ac, "ac.jpg"), FormatError, error(ErrorId::format_image_data, {"AC Huffman table 3"}));
    std::size_t refinement = 0;
    for (std::size_t sos : at)
        if (spectral_start(progressive, sos) == 0 && sos != at[0]) refinement = sos;
    REQUIRE(refinement > 0);
    Bytes unused = progressive;
    unused[selector(refinement)] = 0x33;  // names undefined tables it never reads
    CHECK(load(unused).shape().str() == Shape{3, 12, 20}.str());
}

TEST_CASE("write_png round-trips through load_image", "[image]") {
    using test::error;
    TempDir dir("image_write");
    for (int channels = 1; channels <= 4; ++channels) {
        const Bytes pixels = pattern(7, 5, channels);
        const std::string path = dir.file("w" + std::to_string(channels) + ".png");
        io::write_png(path, pixels.data(), 7, 5, channels);
        const Tensor<float> image = io::load_image(path);
        REQUIRE(image.shape().str() == Shape{channels, 5, 7}.str());
        for (int c = 0; c < channels; ++c)
            for (int r = 0; r < 5; ++r)
                for (int col = 0; col < 7; ++col)
                    CHECK(image[(c * 5 + r) * 7 + col] == at(pixels, 7, channels, c, r, col));
        // The tensor overload writes the same image back.
        io::write_png(path, image);
        const Tensor<float> again = io::load_image(path);
        for (Index i = 0; i < image.size(); ++i) CHECK(again[i] == image[i]);
    }
    Tensor<float> odd(Shape{2, 2}, {-1.0f, 0.5f, 2.0f, std::nanf("")});
    io::write_png(dir.file("odd.png"), odd);
    const Tensor<float> clamped = io::load_image(dir.file("odd.png"));
    CHECK(clamped[0] == 0.0f);
    CHECK(clamped[1] == 128.0f / 255.0f);
    CHECK(clamped[2] == 1.0f);
    CHECK(clamped[3] == 0.0f);

    const Bytes one(4, 0);
    CHECK_THROWS_MATCHES(io::write_png(dir.file("x.png"), one.data(), 2, 2, 5), ConfigError,
                         error(ErrorId::config_argument, {"channels"}));
    CHECK_THROWS_MATCHES(io::write_png(dir.file("x.png"), one.data(), 0, 2, 1), ConfigError,
                         error(ErrorId::config_argument));
    CHECK_THROWS_MATCHES(io::write_png(dir.file("x.png"), Tensor<float>(Shape{5, 2, 2}, 0.0f)), ShapeError,
                         error(ErrorId::shape_rank));
    CHECK_THROWS_MATCHES(io::write_png(dir.file("no/such/dir/x.png"), one.data(), 2, 2, 1), IoError,
                         error(ErrorId::io_write, {"x.png"}));
}
