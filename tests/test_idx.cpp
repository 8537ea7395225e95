// io::read_idx / io::write_idx: round trips, raw and gzip, and every bad input.
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <lamina/io/idx.hpp>

#include "matchers.hpp"

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

using namespace lamina;
namespace fs = std::filesystem;

using test::TempDir;
using test::write_bytes;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_gz(const std::string& path, const Bytes& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    const int written = bytes.empty() ? 0 : gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    const int closed = gzclose(f);
    REQUIRE(written == static_cast<int>(bytes.size()));
    REQUIRE(closed == Z_OK);
}

// An IDX header (type byte and dims as given) followed by `data`.
Bytes idx_bytes(std::uint8_t type, const std::vector<std::uint32_t>& dims, const Bytes& data) {
    Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(d >> shift));
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

// Incompressible bytes, so cutting a .gz in half also cuts its data in half.
Bytes noise(std::size_t n) {
    std::mt19937 gen(7);
    Bytes b(n);
    for (auto& v : b) v = static_cast<std::uint8_t>(gen());
    return b;
}

Tensor<std::uint8_t> counting_tensor(const Shape& shape) {
    Tensor<std::uint8_t> t(shape);
    for (Index i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(i * 7 + 3);
    return t;
}

bool same(const Tensor<std::uint8_t>& a, const Tensor<std::uint8_t>& b) {
    return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

TEST_CASE("IDX: write_idx then read_idx returns the tensor, ranks 1 to 4, raw and gzip", "[io][idx]") {
    TempDir dir("idx");
    for (const Shape& shape : {Shape{5}, Shape{3, 4}, Shape{2, 3, 4}, Shape{2, 1, 3, 5}, Shape{0, 28, 28}}) {
        INFO("shape " << shape.str());
        const auto t = counting_tensor(shape);
        const std::string raw = dir.file("t.idx");
        io::write_idx(raw, t);
        CHECK(fs::file_size(raw) == 4 + 4 * std::uintmax_t(shape.rank()) + std::uintmax_t(shape.size()));
        CHECK(same(io::read_idx(raw), t));

        const std::string gz = dir.file("t.idx.gz");
        write_gz(gz, read_bytes(raw));
        CHECK(same(io::read_idx(gz), t));
    }
}

TEST_CASE("IDX: the real MNIST label file reads the same gzipped and raw", "[io][idx][mnist]") {
    const std::string gz = std::string(LAMINA_TEST_DATA_DIR) + "/train-labels-idx1-ubyte.gz";
    const auto labels = io::read_idx(gz);
    REQUIRE(labels.shape() == Shape{60000});
    CHECK(labels[0] == 5);

    TempDir dir("idx");
    const std::string raw = dir.file("train-labels-idx1-ubyte");
    io::write_idx(raw, labels);
    CHECK(fs::file_size(raw) == 60008);  // the size data/mnist/README.md gives for the original
    CHECK(same(io::read_idx(raw), labels));

    const auto images = io::read_idx(std::string(LAMINA_TEST_DATA_DIR) + "/t10k-images-idx3-ubyte.gz");
    CHECK(images.shape() == Shape{10000, 28, 28});
}

TEST_CASE("IDX: missing files and directories raise IoError io_open naming the path", "[io][idx][errors]") {
    TempDir dir("idx");
    const std::string missing = dir.file("no-such-file.gz");
    REQUIRE_THROWS_MATCHES(io::read_idx(missing), IoError, test::error(ErrorId::io_open, {missing, "no such file"}));
    fs::create_directory(dir.file("folder"));
    REQUIRE_THROWS_MATCHES(io::read_idx(dir.file("folder")), IoError,
                           test::error(ErrorId::io_open, {dir.file("folder"), "directory"}));
}

TEST_CASE("IDX: headers that are not IDX, or not unsigned bytes, raise format_magic", "[io][idx][errors]") {
    TempDir dir("idx");
    const std::string path = dir.file("bad.idx");
    const Bytes data(4, 1);

    Bytes wrong_magic = idx_bytes(0x08, {4}, data);
    wrong_magic[0] = 0x12;
    write_bytes(path, wrong_magic);
    REQUIRE_THROWS_MATCHES(io::read_idx(path), FormatError,
                           test::error(ErrorId::format_magic, {path, "not an IDX file", "0x12"}));

    write_bytes(path, idx_bytes(0x0D, {4}, Bytes(16, 0)));
    REQUIRE_THROWS_MATCHES(io::read_idx(path), FormatError,
                           test::error(ErrorId::format_magic, {path, "0x0d", "float32"}));

    write_bytes(path, idx_bytes(0x42, {4}, data));
    REQUIRE_THROWS_MATCHES(io::read_idx(path), FormatError, test::error(ErrorId::format_magic, {path, "0x42"}));

    // A valid gzip file whose content is not IDX.
    const std::string text_gz = dir.file("text.gz");
    write_gz(text_gz, Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
    REQUIRE_THROWS_MATCHES(io::read_idx(text_gz), FormatError,
                           test::error(ErrorId::format_magic, {text_gz, "not an IDX file"}));
}

TEST_CASE("IDX: impossible ranks and dimensions raise format_header before any allocation", "[io][idx][errors]") {
    TempDir dir("idx");
    const std::string path = dir.file("bad.idx");

    write_bytes(path, Bytes{0, 0, 8, 0, 1, 2, 3});
    REQUIRE_THROWS_MATCHES(io::read_idx(path), FormatError,
                           test::error(ErrorId::format_header, {path, "declares 0 dimensions"}));
    write_bytes(path, idx_bytes(0x08, {1, 1, 1, 1, 1}, Bytes{9}));
    REQUIRE_THROWS_MATCHES(io::read_idx(path), FormatError,
                           test::error(ErrorId::format_header, {path, "declares 5 dimensions"}));

    write_bytes(path, idx_bytes(0x08, {3, 0, 28}, {}));
    REQUIRE_THROWS_MATCHES(io::read_idx(path), FormatError,
                           test::error(ErrorId::format_header, {path, "(3, 0, 28)", "only the first"}));

    const std::uint32_t max = 0xFFFFFFFFu;
    write_bytes(path, idx_bytes(0x08, {max, max, max, max}, Bytes(10, 0)));
    REQUIRE_THROWS_MATCHES(io::read_idx(path), FormatError, test::error(ErrorId::format_header, {path, "2^48"}));
}

TEST_CASE("IDX: empty, cut and overlong files raise format_size with expected and actual sizes", "[io][idx][errors]") {
    TempDir dir("idx");
    const std::string raw = dir.file("bad.idx");
    const std::string gz = dir.file("bad.idx.gz");

    SECTION("empty file") {
        write_bytes(raw, {});
        REQUIRE_THROWS_MATCHES(io::read_idx(raw), FormatError, test::error(ErrorId::format_size, {raw, "empty"}));
        write_gz(gz, {});
        REQUIRE_THROWS_MATCHES(io::read_idx(gz), FormatError, test::error(ErrorId::format_size, {gz, "empty"}));
    }
    SECTION("header cut short") {
        Bytes b = idx_bytes(0x08, {10, 28, 28}, {});
        b.resize(10);
        write_bytes(raw, b);
        REQUIRE_THROWS_MATCHES(io::read_idx(raw), FormatError,
                               test::error(ErrorId::format_size, {raw, "expected 16 header bytes, got 10"}));
        write_bytes(raw, Bytes{0, 0});
        REQUIRE_THROWS_MATCHES(io::read_idx(raw), FormatError,
                               test::error(ErrorId::format_size, {raw, "expected at least 4 header bytes, got 2"}));
    }
    SECTION("data cut short") {
        write_bytes(raw, idx_bytes(0x08, {10, 28, 28}, Bytes(100, 1)));
        REQUIRE_THROWS_MATCHES(io::read_idx(raw), FormatError,
                               test::error(ErrorId::format_size, {raw, "expected 7840 bytes of data, got 100"}));
        write_gz(gz, idx_bytes(0x08, {10, 28, 28}, Bytes(100, 1)));
        REQUIRE_THROWS_MATCHES(io::read_idx(gz), FormatError,
                               test::error(ErrorId::format_size, {gz, "expected 7840 bytes of data, got 100"}));
    }
    SECTION("a header claiming 4 GiB over a few bytes of data") {
        // Raw: refused from the file size. Gzip: refused when the stream ends,
        // having allocated at most 64 MiB.
        write_bytes(raw, idx_bytes(0x08, {65536, 65536}, Bytes(5, 1)));
        REQUIRE_THROWS_MATCHES(io::read_idx(raw), FormatError,
                               test::error(ErrorId::format_size, {"expected 4294967296 bytes of data, got 5"}));
        write_gz(gz, idx_bytes(0x08, {65536, 65536}, Bytes(5, 1)));
        REQUIRE_THROWS_MATCHES(io::read_idx(gz), FormatError,
                               test::error(ErrorId::format_size, {"expected 4294967296 bytes of data, got 5"}));
    }
    SECTION("gzip stream cut in the middle of the data (a truncated download)") {
        write_gz(gz, idx_bytes(0x08, {100, 100}, noise(10000)));
        Bytes compressed = read_bytes(gz);
        compressed.resize(compressed.size() / 2);
        write_bytes(gz, compressed);
        REQUIRE_THROWS_MATCHES(
            io::read_idx(gz), FormatError,
            test::error(ErrorId::format_size, {gz, "gzip stream ends early", "expected 10000 bytes of data, got"}));
    }
    SECTION("gzip stream cut inside its end marker, after all the data") {
        write_gz(gz, idx_bytes(0x08, {100}, noise(100)));
        Bytes compressed = read_bytes(gz);
        compressed.resize(compressed.size() - 3);
        write_bytes(gz, compressed);
        REQUIRE_THROWS_MATCHES(io::read_idx(gz), FormatError, test::error(ErrorId::format_size, {gz, "end marker"}));
    }
    SECTION("trailing bytes after the data") {
        write_bytes(raw, idx_bytes(0x08, {4}, Bytes(7, 1)));
        REQUIRE_THROWS_MATCHES(io::read_idx(raw), FormatError,
                               test::error(ErrorId::format_size, {raw, "3 trailing bytes", "4 bytes of data"}));
        write_gz(gz, idx_bytes(0x08, {4}, Bytes(7, 1)));
        REQUIRE_THROWS_MATCHES(io::read_idx(gz), FormatError,
                               test::error(ErrorId::format_size, {gz, "trailing bytes", "4 bytes of data"}));
    }
}

TEST_CASE("IDX: corrupt gzip streams raise format_gzip", "[io][idx][errors]") {
    TempDir dir("idx");
    const std::string gz = dir.file("corrupt.gz");
    write_gz(gz, idx_bytes(0x08, {100}, noise(100)));
    const Bytes good = read_bytes(gz);
    REQUIRE(good.size() > 18);

    SECTION("invalid deflate block") {
        // gzopen writes a 10-byte gzip header; 0xff right after it declares the
        // final block with block type 3, which deflate reserves as invalid.
        Bytes b = good;
        b[10] = 0xff;
        write_bytes(gz, b);
        REQUIRE_THROWS_MATCHES(io::read_idx(gz), FormatError, test::error(ErrorId::format_gzip, {gz, "corrupt gzip"}));
    }
    SECTION("CRC mismatch") {
        Bytes b = good;
        b[b.size() - 8] ^= 0xff;  // the trailer: CRC-32 then length, 4 bytes each
        write_bytes(gz, b);
        REQUIRE_THROWS_MATCHES(io::read_idx(gz), FormatError, test::error(ErrorId::format_gzip, {gz, "corrupt gzip"}));
    }
}

TEST_CASE("IDX: write_idx reports unwritable paths and unsupported shapes", "[io][idx][errors]") {
    TempDir dir("idx");
    const std::string bad = dir.file("no-such-folder/out.idx");
    REQUIRE_THROWS_MATCHES(io::write_idx(bad, counting_tensor(Shape{3})), IoError,
                           test::error(ErrorId::io_write, {bad}));
    REQUIRE_THROWS_MATCHES(io::write_idx(dir.file("scalar.idx"), Tensor<std::uint8_t>(Shape{})), ShapeError,
                           test::error(ErrorId::shape_rank, {"scalar.idx"}));
}

// The bytes of a gzip file holding `bytes`.
Bytes gz_bytes(const TempDir& dir, const Bytes& bytes) {
    const std::string path = dir.file("scratch.gz");
    write_gz(path, bytes);
    return read_bytes(path);
}

TEST_CASE("IDX: read_idx_from_memory reads what read_idx reads, raw and gzip", "[io][idx]") {
    TempDir dir("idx");
    const auto t = counting_tensor(Shape{2, 3, 4});
    const std::string raw = dir.file("t.idx");
    io::write_idx(raw, t);
    const Bytes raw_bytes = read_bytes(raw);
    const Bytes gz = gz_bytes(dir, raw_bytes);
    CHECK(same(io::read_idx_from_memory(raw_bytes.data(), raw_bytes.size()), t));
    CHECK(same(io::read_idx_from_memory(gz.data(), gz.size()), t));

    // As zlib's gzread does with files: gzip members one after another make
    // one stream, and bytes after the last member that do not start another
    // one are ignored.
    const auto half = static_cast<std::ptrdiff_t>(raw_bytes.size() / 2);
    Bytes members = gz_bytes(dir, Bytes(raw_bytes.begin(), raw_bytes.begin() + half));
    const Bytes second = gz_bytes(dir, Bytes(raw_bytes.begin() + half, raw_bytes.end()));
    members.insert(members.end(), second.begin(), second.end());
    for (const Bytes& b : {members, [&] {
                               Bytes g = members;
                               g.insert(g.end(), {'x', 'y', 'z'});
                               return g;
                           }()}) {
        const std::string path = dir.file("members.gz");
        write_bytes(path, b);
        CHECK(same(io::read_idx(path), t));
        CHECK(same(io::read_idx_from_memory(b.data(), b.size()), t));
    }
}

TEST_CASE("IDX: read_idx_from_memory raises read_idx's errors, naming its input", "[io][idx][errors]") {
    TempDir dir("idx");
    const Bytes empty;
    REQUIRE_THROWS_MATCHES(io::read_idx_from_memory(empty.data(), 0, "labels"), FormatError,
                           test::error(ErrorId::format_size, {"'labels'", "empty"}));
    const Bytes wrong_type = idx_bytes(0x0D, {4}, Bytes(16, 0));
    REQUIRE_THROWS_MATCHES(io::read_idx_from_memory(wrong_type.data(), wrong_type.size()), FormatError,
                           test::error(ErrorId::format_magic, {"'<memory>'", "float32"}));
    const Bytes overlong = idx_bytes(0x08, {4}, Bytes(7, 1));
    REQUIRE_THROWS_MATCHES(io::read_idx_from_memory(overlong.data(), overlong.size(), "x"), FormatError,
                           test::error(ErrorId::format_size, {"3 trailing bytes", "4 bytes of data"}));

    Bytes cut = gz_bytes(dir, idx_bytes(0x08, {100, 100}, noise(10000)));
    cut.resize(cut.size() / 2);
    REQUIRE_THROWS_MATCHES(
        io::read_idx_from_memory(cut.data(), cut.size(), "x"), FormatError,
        test::error(ErrorId::format_size, {"gzip stream ends early", "expected 10000 bytes of data, got"}));
    Bytes end_marker = gz_bytes(dir, idx_bytes(0x08, {100}, noise(100)));
    end_marker.resize(end_marker.size() - 3);
    REQUIRE_THROWS_MATCHES(io::read_idx_from_memory(end_marker.data(), end_marker.size(), "x"), FormatError,
                           test::error(ErrorId::format_size, {"end marker"}));
    Bytes crc = gz_bytes(dir, idx_bytes(0x08, {100}, noise(100)));
    crc[crc.size() - 8] ^= 0xff;
    REQUIRE_THROWS_MATCHES(io::read_idx_from_memory(crc.data(), crc.size(), "x"), FormatError,
                           test::error(ErrorId::format_gzip, {"'x'", "corrupt gzip"}));

    REQUIRE_THROWS_MATCHES(io::read_idx_from_memory(nullptr, 10, "x"), ConfigError,
                           test::error(ErrorId::config_argument, {"null"}));
}

TEST_CASE("IDX: a file of 0 samples cannot declare a sample size beyond 2^48", "[io][idx][errors]") {
    // Found by tests/fuzz/fuzz_idx (UBSan): (0, 3235053526, 3227516928) holds
    // 0 bytes, so it passed the 2^48-element check, but its sample size
    // overflows Index in Shape::sample_size().
    TempDir dir("idx");
    const std::uint32_t max = 0xFFFFFFFFu;
    for (const Bytes& b :
         {idx_bytes(0x08, {0, 3235053526u, 3227516928u}, {}), idx_bytes(0x08, {0, max, max, max}, {})}) {
        const std::string path = dir.file("zero.idx");
        write_bytes(path, b);
        REQUIRE_THROWS_MATCHES(io::read_idx(path), FormatError,
                               test::error(ErrorId::format_header, {path, "2^48 elements per sample"}));
        REQUIRE_THROWS_MATCHES(io::read_idx_from_memory(b.data(), b.size()), FormatError,
                               test::error(ErrorId::format_header, {"2^48 elements per sample"}));
    }
    // 0 samples of an ordinary size are still fine.
    const Bytes ok = idx_bytes(0x08, {0, 28, 28}, {});
    CHECK(io::read_idx_from_memory(ok.data(), ok.size()).shape() == Shape{0, 28, 28});
}
