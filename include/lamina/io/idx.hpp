// lamina/io/idx.hpp: read and write IDX files (the MNIST file format).
//
// Contract: read_idx(path) reads an unsigned-byte IDX file, raw or gzipped
// (zlib tells them apart by content, not by name), and returns a
// Tensor<std::uint8_t> whose shape is the file's dimensions, rank 1 to 4:
// (N,) for label files, (N, rows, cols) for image files. write_idx(path, t)
// writes t as a raw (uncompressed) IDX file.
//
// read_idx_from_memory(data, size, name) reads the same bytes held in memory
// (an embedded file, a download, a fuzzer's input) with the same parser:
// it accepts exactly the inputs read_idx accepts and returns the same
// tensor. Its messages name `name` instead of a path, and it never raises
// IoError. When a gzipped input is bad in two ways at once (say a corrupt
// stream and a bad header) the two may report different ones: zlib's file
// reader decompresses ahead of what it was asked for and can meet the
// corrupt stream first.
//
// IDX layout, all integers big-endian: two zero bytes, a type byte (0x08 =
// unsigned byte, the only type lamina reads), a rank byte, rank uint32
// dimensions, then the elements in row-major order and nothing after them.
//
// Errors (every message names the file):
//   IoError     io_open       the file is missing, a directory, or cannot be opened
//   IoError     io_read       the operating system reports a read error
//   IoError     io_write      write_idx cannot create or write the file
//   FormatError format_magic  the first two bytes are not zero, or the type is not 0x08
//   FormatError format_header rank outside 1..4; a zero dimension other than the
//                             first (the sample count); more than 2^48 elements,
//                             in all or in one sample (so a (0, ...) header
//                             cannot declare an overflowing sample size either)
//   FormatError format_size   the header or the data ends early ("expected N bytes
//                             of data, got M"), or bytes follow the data
//   FormatError format_gzip   the gzip stream is corrupt (bad deflate data, CRC)
//   ShapeError  shape_rank    write_idx: a rank-0 tensor or a dimension >= 2^32
//   ConfigError config_argument read_idx_from_memory: null data with a nonzero size
//
// A corrupt header cannot make read_idx allocate much more than the file
// holds: a raw file's declared size is checked against its size on disk (or
// in memory) before any allocation, and a gzipped file's data is read into a
// buffer that starts at 64 MiB at most (and at most 1032 times the file's
// size, deflate's best ratio) and doubles only as decompressed data arrives.
// tests/fuzz/fuzz_idx.cpp holds both entry points to this.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::io {

namespace detail {

constexpr std::uint8_t idx_type_ubyte = 0x08;
// Far beyond any real IDX file, and small enough that the product of the
// dimensions can be formed without overflowing Index.
constexpr Index idx_max_elements = Index(1) << 48;
// First allocation for gzipped data, whose size is known only after reading it.
constexpr Index gz_initial_capacity = Index(64) << 20;
// Deflate's best case is about 1032:1 (zlib's FAQ), so an input of known size
// cannot inflate to more than this many times its size, header or not.
constexpr Index inflate_max_ratio = 1032;
// One gzread call moves at most this much; gzread counts in int.
constexpr std::size_t gz_max_chunk = std::size_t(1) << 30;

inline std::string quoted(const std::string& path) { return "'" + path + "'"; }

inline const char* idx_type_name(int type) {
    switch (type) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "int16";
        case 0x0C: return "int32";
        case 0x0D: return "float32";
        case 0x0E: return "float64";
        default: return "not an IDX type";
    }
}

inline std::string hex_byte(int b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", b & 0xff);
    return buf;
}

// A gzFile that closes itself on every path out, and turns zlib's error
// states into lamina errors naming the file.
class GzReader {
public:
    explicit GzReader(const std::string& path) : path_(path) {
        // gzopen reports only errno; ask the file system first for the two
        // common mistakes, so their messages do not depend on the C library.
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (status.type() == std::filesystem::file_type::not_found)
            throw IoError(ErrorId::io_open, "read_idx: cannot open " + quoted(path) + ": no such file");
        if (status.type() == std::filesystem::file_type::directory)
            throw IoError(ErrorId::io_open, "read_idx: cannot open " + quoted(path) + ": it is a directory");
        errno = 0;
        file_ = gzopen(path.c_str(), "rb");
        if (!file_) {
            const int err = errno;
            throw IoError(ErrorId::io_open, "read_idx: cannot open " + quoted(path) + ": " +
                                                (err ? std::strerror(err) : "gzopen failed"));
        }
        // Big buffers: zlib then refills its input 1 MiB at a time, and reads
        // larger than twice this go straight into the caller's buffer.
        gzbuffer(file_, 1u << 20);
    }
    ~GzReader() {
        if (file_) gzclose(file_);
    }
    GzReader(const GzReader&) = delete;
    GzReader& operator=(const GzReader&) = delete;

    // Reads up to n bytes; returns fewer only at the end of the data, after
    // which truncated() says whether a gzip stream was cut off.
    std::size_t read(void* buffer, std::size_t n) {
        auto* out = static_cast<unsigned char*>(buffer);
        std::size_t done = 0;
        while (done < n) {
            const auto chunk = static_cast<unsigned>(std::min(n - done, gz_max_chunk));
            errno = 0;
            const int got = gzread(file_, out + done, chunk);
            if (got < 0) fail();
            if (got == 0) {
                check_end();
                break;
            }
            done += static_cast<std::size_t>(got);
        }
        return done;
    }

    // Whether the file is read as is (not gzip); valid after the first read.
    bool direct() const { return gzdirect(file_) == 1; }
    bool truncated() const noexcept { return truncated_; }
    // The file's size, when it is a regular file (not a pipe).
    bool size(std::uintmax_t& bytes) const {
        std::error_code ec;
        bytes = std::filesystem::file_size(path_, ec);
        return !ec;
    }

private:
    [[noreturn]] void fail() const {
        const int saved_errno = errno;
        int code = Z_OK;
        std::string message = gzerror(file_, &code);
        // zlib prefixes its message with the path, which ours already names.
        if (message.compare(0, path_.size() + 2, path_ + ": ") == 0) message.erase(0, path_.size() + 2);
        if (code == Z_ERRNO)
            throw IoError(ErrorId::io_read, "read_idx: reading " + quoted(path_) +
                                                " failed: " + std::strerror(saved_errno ? saved_errno : EIO));
        if (code == Z_MEM_ERROR) throw std::bad_alloc();
        if (code == Z_DATA_ERROR)
            throw FormatError(ErrorId::format_gzip,
                              "read_idx: " + quoted(path_) + " is a corrupt gzip file: " + message);
        throw IoError(ErrorId::io_read, "read_idx: reading " + quoted(path_) + " failed: " + message);
    }
    // gzread returns 0 both at a clean end and when the compressed stream
    // stops before its end marker (Z_BUF_ERROR): tell the two apart.
    void check_end() {
        int code = Z_OK;
        gzerror(file_, &code);
        if (code == Z_BUF_ERROR) truncated_ = true;
        else if (code != Z_OK) fail();
    }

    std::string path_;
    gzFile file_ = nullptr;
    bool truncated_ = false;
};

// The in-memory twin of GzReader, with the rules of zlib's gzread: input
// that starts with the gzip magic (1f 8b) is inflated, member after member;
// bytes after a member that do not start another are ignored; anything else,
// a 1-byte input included, is read as is. Unlike gzread it inflates straight
// into the caller's buffer and never reads ahead.
class MemoryReader {
public:
    MemoryReader(const void* data, std::size_t size, const std::string& name)
        : data_(static_cast<const unsigned char*>(data)), size_(size), name_(name) {}
    ~MemoryReader() {
        if (inflating_) inflateEnd(&stream_);
    }
    MemoryReader(const MemoryReader&) = delete;
    MemoryReader& operator=(const MemoryReader&) = delete;

    std::size_t read(void* buffer, std::size_t n) {
        auto* out = static_cast<unsigned char*>(buffer);
        std::size_t done = 0;
        while (done < n) {
            if (mode_ == Mode::look && !look()) break;
            if (mode_ == Mode::copy) {
                const std::size_t k = std::min(n - done, size_ - pos_);
                if (k == 0) break;
                std::memcpy(out + done, data_ + pos_, k);
                pos_ += k;
                done += k;
                continue;
            }
            // gzread's "unexpected end of file": the stream stops before its end marker.
            if (pos_ == size_) {
                truncated_ = true;
                break;
            }
            // zlib's z_stream is not const-correct unless built with ZLIB_CONST.
            stream_.next_in = const_cast<Bytef*>(data_ + pos_);
            stream_.avail_in = static_cast<uInt>(std::min(size_ - pos_, gz_max_chunk));
            stream_.next_out = out + done;
            stream_.avail_out = static_cast<uInt>(std::min(n - done, gz_max_chunk));
            const uInt in_before = stream_.avail_in, out_before = stream_.avail_out;
            const int ret = inflate(&stream_, Z_NO_FLUSH);
            pos_ += in_before - stream_.avail_in;
            done += out_before - stream_.avail_out;
            if (ret == Z_STREAM_END) mode_ = Mode::look;
            else if (ret == Z_DATA_ERROR)
                throw FormatError(ErrorId::format_gzip, "read_idx: " + detail::quoted(name_) +
                                                            " is a corrupt gzip file: " +
                                                            (stream_.msg ? stream_.msg : "compressed data error"));
            else if (ret == Z_MEM_ERROR) throw std::bad_alloc();
            // With input and room for output inflate always moves; if it ever
            // did not, looping again would hang, so stop instead.
            else if ((ret != Z_OK && ret != Z_BUF_ERROR) ||
                     (stream_.avail_in == in_before && stream_.avail_out == out_before))
                throw FormatError(ErrorId::format_gzip, "read_idx: " + detail::quoted(name_) +
                                                            " is a corrupt gzip file: inflate returned " +
                                                            std::to_string(ret));
        }
        return done;
    }

    bool direct() const noexcept { return direct_; }
    bool truncated() const noexcept { return truncated_; }
    bool size(std::uintmax_t& bytes) const noexcept {
        bytes = size_;
        return true;
    }

private:
    enum class Mode { look, copy, gzip };

    // At the start and after each gzip member: decides how the rest is read.
    // False at the end of the input.
    bool look() {
        const std::size_t left = size_ - pos_;
        if (left == 0) return false;
        if (left >= 2 && data_[pos_] == 0x1f && data_[pos_ + 1] == 0x8b) {
            const int ret = inflating_ ? inflateReset(&stream_) : inflateInit2(&stream_, 15 + 16);  // gzip only
            if (ret == Z_MEM_ERROR) throw std::bad_alloc();
            if (ret != Z_OK)
                throw FormatError(ErrorId::format_gzip, "read_idx: " + detail::quoted(name_) +
                                                            ": zlib cannot start inflating (" + std::to_string(ret) +
                                                            ")");
            inflating_ = true;
            mode_ = Mode::gzip;
            direct_ = false;
            return true;
        }
        if (!direct_) {  // trailing garbage after a gzip member
            pos_ = size_;
            return false;
        }
        mode_ = Mode::copy;
        return true;
    }

    const unsigned char* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::string name_;
    Mode mode_ = Mode::look;
    bool direct_ = true;
    bool inflating_ = false;
    bool truncated_ = false;
    z_stream stream_{};
};

inline std::uint32_t read_be32(const unsigned char* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
}

inline void append_be32(std::vector<unsigned char>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

inline Shape make_shape(const std::array<Index, Shape::max_rank>& d, int rank) {
    switch (rank) {
        case 1: return Shape{d[0]};
        case 2: return Shape{d[0], d[1]};
        case 3: return Shape{d[0], d[1], d[2]};
        default: return Shape{d[0], d[1], d[2], d[3]};
    }
}

template <class Reader>
std::string ended_early(const std::string& path, const Reader& in) {
    return "read_idx: " + quoted(path) + " is truncated" +
           (in.truncated() ? std::string(" (its gzip stream ends early)") : std::string()) + ": ";
}

// Reads `count` data bytes when the stream's length is unknown (gzip, pipes):
// the buffer grows with the data actually read, never on the header's word.
// It starts small for a small input: a 30-byte .gz that claims 4 GiB gets
// 64 KiB, not 64 MiB (which made fuzzing, and any caller probing many small
// files, spend its time mapping and unmapping memory).
template <class Reader>
Tensor<std::uint8_t> read_growing(Reader& in, const std::string& path, Index count) {
    Index first = std::min(count, gz_initial_capacity);
    std::uintmax_t input_bytes = 0;
    if (in.size(input_bytes) && input_bytes < std::uintmax_t(gz_initial_capacity / inflate_max_ratio))
        first = std::min(first, std::max(Index(input_bytes) * inflate_max_ratio, Index(1) << 16));
    Tensor<std::uint8_t> data(Shape{first});
    Index have = 0;
    for (;;) {
        const auto want = static_cast<std::size_t>(data.size() - have);
        const auto got = static_cast<Index>(in.read(data.data() + have, want));
        have += got;
        if (have < data.size())
            throw FormatError(ErrorId::format_size, ended_early(path, in) + "expected " + std::to_string(count) +
                                                        " bytes of data, got " + std::to_string(have));
        if (have == count) return data;
        Tensor<std::uint8_t> bigger(Shape{std::min(count, 2 * data.size())});
        std::memcpy(bigger.data(), data.data(), static_cast<std::size_t>(have));
        data = std::move(bigger);
    }
}

// The IDX parser behind both entry points; `path` names the input in messages.
template <class Reader>
Tensor<std::uint8_t> read_idx_from(Reader& in, const std::string& path) {
    const std::string who = "read_idx: " + quoted(path);

    std::array<unsigned char, 4 + 4 * Shape::max_rank> header{};
    std::size_t got = in.read(header.data(), 4);
    if (got == 0 && !in.truncated())
        throw FormatError(ErrorId::format_size,
                          who + " is empty; an IDX file starts with a header of at least 8 bytes");
    if (got < 4)
        throw FormatError(ErrorId::format_size,
                          ended_early(path, in) + "expected at least 4 header bytes, got " + std::to_string(got));
    if (header[0] != 0 || header[1] != 0)
        throw FormatError(ErrorId::format_magic, who + " is not an IDX file: it starts with " + hex_byte(header[0]) +
                                                     " " + hex_byte(header[1]) +
                                                     "; IDX files start with two zero bytes");
    const int type = header[2];
    if (type != idx_type_ubyte)
        throw FormatError(ErrorId::format_magic, who + " holds IDX data type " + hex_byte(type) + " (" +
                                                     idx_type_name(type) +
                                                     "); lamina reads only unsigned-byte (0x08) IDX files");
    const int rank = header[3];
    if (rank < 1 || rank > Shape::max_rank)
        throw FormatError(ErrorId::format_header, who + " declares " + std::to_string(rank) +
                                                      " dimensions; lamina reads IDX files of rank 1 to 4");

    const std::size_t header_bytes = 4 + 4 * static_cast<std::size_t>(rank);
    got = in.read(header.data() + 4, header_bytes - 4);
    if (got < header_bytes - 4)
        throw FormatError(ErrorId::format_size, ended_early(path, in) + "expected " + std::to_string(header_bytes) +
                                                    " header bytes, got " + std::to_string(4 + got));

    std::array<Index, Shape::max_rank> dims{};
    std::string dims_text = "(";
    Index count = 1, per_sample = 1;
    bool too_many = false, sample_too_big = false, zero_inner = false;
    for (int i = 0; i < rank; ++i) {
        const Index d = read_be32(header.data() + 4 + 4 * i);
        dims[static_cast<std::size_t>(i)] = d;
        dims_text += (i ? ", " : "") + std::to_string(d);
        zero_inner = zero_inner || (i > 0 && d == 0);
        // Each d < 2^32, so the product is checked before it can overflow.
        too_many = too_many || (count > 0 && d > idx_max_elements / count);
        if (!too_many) count *= d;
        // With 0 samples the count stays 0 whatever follows, but the shape's
        // sample size (what every consumer of a batch multiplies out) must
        // still fit: (0, 2^32-1, 2^32-1, 2^32-1) overflows Index.
        if (i > 0) {
            sample_too_big = sample_too_big || d > idx_max_elements / std::max<Index>(per_sample, 1);
            if (!sample_too_big) per_sample *= d;
        }
    }
    dims_text += rank == 1 ? ",)" : ")";
    if (zero_inner)
        throw FormatError(ErrorId::format_header,
                          who + " declares dimensions " + dims_text + "; only the first (the sample count) may be 0");
    if (too_many || sample_too_big)
        throw FormatError(ErrorId::format_header, who + " declares dimensions " + dims_text +
                                                      ", more than 2^48 elements" + (too_many ? "" : " per sample") +
                                                      "; the header is corrupt");

    Tensor<std::uint8_t> data;
    std::uintmax_t file_size = 0;
    const bool size_known = in.size(file_size);
    if (in.direct() && size_known) {
        // Raw regular file: its size says at once whether the header is honest.
        const auto have = static_cast<Index>(file_size > header_bytes ? file_size - header_bytes : 0);
        if (have < count)
            throw FormatError(ErrorId::format_size, who + " is truncated: expected " + std::to_string(count) +
                                                        " bytes of data, got " + std::to_string(have));
        if (have > count)
            throw FormatError(ErrorId::format_size, who + " has " + std::to_string(have - count) +
                                                        " trailing bytes after the " + std::to_string(count) +
                                                        " bytes of data its header " + dims_text + " declares");
        data.resize(Shape{count});
        const auto read = static_cast<Index>(in.read(data.data(), static_cast<std::size_t>(count)));
        if (read < count)
            throw FormatError(ErrorId::format_size, who + " is truncated: expected " + std::to_string(count) +
                                                        " bytes of data, got " + std::to_string(read) +
                                                        " (did the file shrink while being read?)");
    } else {
        data = read_growing(in, path, count);
    }

    unsigned char extra = 0;
    if (in.read(&extra, 1) != 0)
        throw FormatError(ErrorId::format_size, who + " has trailing bytes after the " + std::to_string(count) +
                                                    " bytes of data its header " + dims_text + " declares");
    if (in.truncated())
        throw FormatError(ErrorId::format_size,
                          who +
                              " is truncated: its gzip stream ends early, after all the data but inside "
                              "its end marker (CRC and length)");
    data.reshape(make_shape(dims, rank));
    return data;
}

}  // namespace detail

// Reads an unsigned-byte IDX file, raw or gzip-compressed; see the top of this file.
inline Tensor<std::uint8_t> read_idx(const std::string& path) {
    detail::GzReader in(path);
    return detail::read_idx_from(in, path);
}

// Reads the `size` bytes at `data` as read_idx reads a file (raw or gzipped);
// messages name the input `name`. See the top of this file.
inline Tensor<std::uint8_t> read_idx_from_memory(const void* data, std::size_t size,
                                                 const std::string& name = "<memory>") {
    if (!data && size > 0)
        throw ConfigError(ErrorId::config_argument, "read_idx_from_memory: " + detail::quoted(name) +
                                                        ": data is null but size is " + std::to_string(size));
    detail::MemoryReader in(data, size, name);
    return detail::read_idx_from(in, name);
}

// Writes t as a raw IDX file (type 0x08, rank = t's rank); replaces `path`.
inline void write_idx(const std::string& path, const Tensor<std::uint8_t>& t) {
    using detail::quoted;
    const Shape& s = t.shape();
    if (s.rank() < 1)
        throw ShapeError(ErrorId::shape_rank,
                         "write_idx: " + quoted(path) + ": IDX needs rank 1 to 4, got shape " + s.str());
    std::vector<unsigned char> header{0, 0, detail::idx_type_ubyte, static_cast<unsigned char>(s.rank())};
    for (int i = 0; i < s.rank(); ++i) {
        if (s[i] > Index(std::numeric_limits<std::uint32_t>::max()))
            throw ShapeError(ErrorId::shape_rank, "write_idx: " + quoted(path) + ": dimension " + std::to_string(s[i]) +
                                                      " of shape " + s.str() + " does not fit IDX's 32 bits");
        detail::append_be32(header, static_cast<std::uint32_t>(s[i]));
    }

    struct Closer {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };
    auto fail = [&](int err) {
        throw IoError(ErrorId::io_write, "write_idx: cannot write " + quoted(path) + ": " + std::strerror(err));
    };
    errno = 0;
    std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "wb"));
    if (!file) fail(errno ? errno : EIO);
    const auto bytes = static_cast<std::size_t>(t.size());
    if (std::fwrite(header.data(), 1, header.size(), file.get()) != header.size() ||
        (bytes > 0 && std::fwrite(t.data(), 1, bytes, file.get()) != bytes))
        fail(errno ? errno : EIO);
    // fclose flushes the last buffer: a full disk shows up here, not above.
    if (std::fclose(file.release()) != 0) fail(errno ? errno : EIO);
}

}  // namespace lamina::io
