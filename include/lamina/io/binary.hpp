// lamina/io/binary.hpp: little-endian encoding for lamina's binary files.
//
// Contract: ByteWriter appends fixed-width little-endian integers, IEEE-754
// doubles, length-prefixed strings and typed tensors to a byte vector.
// ByteReader reads them back from a span it does not own and checks every
// read against the bytes that remain: a length, count or shape read from the
// data can never make it read past the end or allocate more than the data
// holds. Its errors are FormatError(format_size) for data that ends early and
// FormatError(format_header) for an impossible value, each naming `context`
// (the file) and the byte offset. Reading float64 data into a float tensor
// refuses values float cannot hold (see ByteReader::tensor).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::io {

// What a reader accepts, so that a writer can refuse the same (a file that
// saves but cannot load would replace a good checkpoint).
constexpr std::size_t max_string_bytes = std::size_t(1) << 16;
constexpr std::uint64_t max_dimension = std::uint64_t(1) << 40;

// Element type tags of stored tensors.
enum class DType : std::uint8_t { Float32 = 1, Float64 = 2 };

template <class T>
constexpr DType dtype_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "model files store float or double");
    return std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
}

class ByteWriter {
public:
    void u8(std::uint8_t v) { bytes_.push_back(v); }
    void u32(std::uint32_t v) { put_le(v); }
    void u64(std::uint64_t v) { put_le(v); }
    void i64(std::int64_t v) { put_le(static_cast<std::uint64_t>(v)); }
    void f64(double v) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        put_le(bits);
    }
    void raw(const void* data, std::size_t n) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        bytes_.insert(bytes_.end(), p, p + n);
    }
    void str(const std::string& s) {
        u32(static_cast<std::uint32_t>(s.size()));
        raw(s.data(), s.size());
    }
    void shape(const Shape& s) {
        u8(static_cast<std::uint8_t>(s.rank()));
        for (int i = 0; i < s.rank(); ++i) u64(static_cast<std::uint64_t>(s[i]));
    }
    // dtype, shape, then the elements little-endian.
    template <class T>
    void tensor(const Tensor<T>& t) {
        u8(static_cast<std::uint8_t>(dtype_of<T>()));
        shape(t.shape());
        const std::size_t at = bytes_.size();
        bytes_.resize(at + static_cast<std::size_t>(t.size()) * sizeof(T));
        if (is_little_endian()) {
            if (t.size() > 0) std::memcpy(bytes_.data() + at, t.data(), static_cast<std::size_t>(t.size()) * sizeof(T));
        } else {
            for (Index i = 0; i < t.size(); ++i) store_le(bytes_.data() + at + std::size_t(i) * sizeof(T), t[i]);
        }
    }

    // Overwrites 8 bytes at `offset` with v, little-endian (a length known only later).
    void patch_u64(std::size_t offset, std::uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes_[offset + std::size_t(i)] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    std::size_t size() const noexcept { return bytes_.size(); }
    std::vector<std::uint8_t>& bytes() noexcept { return bytes_; }

    static bool is_little_endian() {
        const std::uint16_t one = 1;
        std::uint8_t first;
        std::memcpy(&first, &one, 1);
        return first == 1;
    }

private:
    template <class U>
    void put_le(U v) {
        for (std::size_t i = 0; i < sizeof(U); ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    template <class T>
    static void store_le(std::uint8_t* dst, T v) {
        using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
        Bits b;
        std::memcpy(&b, &v, sizeof b);
        for (std::size_t i = 0; i < sizeof b; ++i) dst[i] = static_cast<std::uint8_t>(b >> (8 * i));
    }

    std::vector<std::uint8_t> bytes_;
};

class ByteReader {
public:
    ByteReader(const std::uint8_t* data, std::size_t size, std::string context, std::size_t base_offset = 0)
        : data_(data), size_(size), context_(std::move(context)), base_(base_offset) {}

    std::uint8_t u8() { return take(1)[0]; }
    std::uint32_t u32() { return static_cast<std::uint32_t>(get_le(4)); }
    std::uint64_t u64() { return get_le(8); }
    std::int64_t i64() { return static_cast<std::int64_t>(get_le(8)); }
    double f64() {
        const std::uint64_t bits = get_le(8);
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    const std::uint8_t* raw(std::size_t n) { return take(n); }
    std::string str(std::size_t max_length = max_string_bytes) {
        const std::uint32_t n = u32();
        if (n > max_length)
            fail_header("a string of " + std::to_string(n) + " bytes (at most " + std::to_string(max_length) +
                        " allowed)");
        const auto* p = take(n);
        return std::string(reinterpret_cast<const char*>(p), n);
    }
    // A count of items that each take at least `min_item_bytes`: bounded by
    // what remains, so a corrupt count cannot drive a huge reserve().
    std::uint32_t count(std::size_t min_item_bytes, const char* what) {
        const std::uint32_t n = u32();
        if (min_item_bytes > 0 && n > remaining() / min_item_bytes)
            fail_size(std::string(what) + " count " + std::to_string(n) + " needs more bytes than remain (" +
                      std::to_string(remaining()) + ")");
        return n;
    }
    Shape shape() {
        const std::uint8_t rank = u8();
        if (rank > Shape::max_rank) fail_header("tensor rank " + std::to_string(rank) + " (at most 4)");
        Shape s;
        for (int i = 0; i < rank; ++i) {
            const std::uint64_t d = u64();
            if (d > max_dimension) fail_header("dimension " + std::to_string(d) + " (at most 2^40)");
            s = append(s, static_cast<Index>(d));
        }
        return s;
    }
    // Reads a stored tensor of either dtype, converting to T; `what` names it
    // in errors ("dense_1/kernel"). float64 data read as float must fit: a
    // finite value above float's largest (it would become infinity) or a
    // nonzero one that rounds to zero is refused with FormatError(format_header)
    // naming `what`, the element and its value. Values that become subnormal
    // pass; stored NaN and infinities are kept as they are.
    template <class T>
    Tensor<T> tensor(const std::string& what = "tensor") {
        const std::size_t at = offset();
        const std::uint8_t tag = u8();
        if (tag != std::uint8_t(DType::Float32) && tag != std::uint8_t(DType::Float64))
            fail_header_at(at, "unknown tensor dtype " + std::to_string(tag) + " of " + what);
        const Shape s = shape();
        const std::size_t width = tag == std::uint8_t(DType::Float32) ? 4 : 8;
        // Shape() bounds each dimension by 2^40; check the product before forming it.
        std::uint64_t n = 1;
        for (int i = 0; i < s.rank(); ++i) {
            const auto d = static_cast<std::uint64_t>(s[i]);
            if (d != 0 && n > remaining() / width / d)
                fail_size(what + " " + s.str() + " needs more bytes than remain (" + std::to_string(remaining()) + ")");
            n *= d;
        }
        const std::size_t data_at = offset();
        const std::uint8_t* p = take(static_cast<std::size_t>(n) * width);
        Tensor<T> t(s);
        if (width == 4) {
            for (std::size_t i = 0; i < n; ++i) t[Index(i)] = static_cast<T>(load_le<float>(p + i * 4));
        } else if constexpr (std::is_same_v<T, float>) {
            for (std::size_t i = 0; i < n; ++i) {
                const double v = load_le<double>(p + i * 8);
                // Compared before converting: a double beyond float's range
                // has no float value to convert to.
                if (std::isfinite(v) && std::fabs(v) > double(std::numeric_limits<float>::max()))
                    fail_value(data_at + i * 8, what, i, v, "is beyond float's largest finite value 3.40282347e+38");
                t[Index(i)] = static_cast<float>(v);
                if (t[Index(i)] == 0.0f && v != 0.0)
                    fail_value(data_at + i * 8, what, i, v, "is nonzero but rounds to zero in float");
            }
        } else {
            for (std::size_t i = 0; i < n; ++i) t[Index(i)] = static_cast<T>(load_le<double>(p + i * 8));
        }
        return t;
    }

    std::size_t remaining() const noexcept { return size_ - pos_; }
    std::size_t offset() const noexcept { return base_ + pos_; }
    bool done() const noexcept { return pos_ == size_; }
    const std::string& context() const noexcept { return context_; }

    [[noreturn]] void fail_header(const std::string& what) const { fail_header_at(offset(), what); }
    [[noreturn]] void fail_header_at(std::size_t at, const std::string& what) const {
        throw FormatError(ErrorId::format_header, context_ + ": invalid " + what + " at byte " + std::to_string(at));
    }
    [[noreturn]] void fail_value(std::size_t at, const std::string& what, std::size_t element, double v,
                                 const char* why) const {
        std::ostringstream value;
        value.precision(9);
        value << v;
        throw FormatError(ErrorId::format_header, context_ + ": " + what + " element " + std::to_string(element) +
                                                      ", stored as float64 " + value.str() + ", " + why +
                                                      "; load the file as Sequential<double> (byte " +
                                                      std::to_string(at) + ")");
    }
    [[noreturn]] void fail_size(const std::string& what) const {
        throw FormatError(ErrorId::format_size, context_ + ": " + what + " at byte " + std::to_string(offset()));
    }

private:
    const std::uint8_t* take(std::size_t n) {
        if (n > remaining())
            fail_size("data ends early: " + std::to_string(n) + " bytes needed, " + std::to_string(remaining()) +
                      " left");
        const std::uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }
    std::uint64_t get_le(int width) {
        const std::uint8_t* p = take(std::size_t(width));
        std::uint64_t v = 0;
        for (int i = 0; i < width; ++i) v |= std::uint64_t(p[i]) << (8 * i);
        return v;
    }
    template <class F>
    static F load_le(const std::uint8_t* p) {
        using Bits = std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>;
        Bits b = 0;
        for (std::size_t i = 0; i < sizeof b; ++i) b |= Bits(p[i]) << (8 * i);
        F v;
        std::memcpy(&v, &b, sizeof v);
        return v;
    }
    static Shape append(const Shape& s, Index d) {
        switch (s.rank()) {
            case 0: return Shape{d};
            case 1: return Shape{s[0], d};
            case 2: return Shape{s[0], s[1], d};
            default: return Shape{s[0], s[1], s[2], d};
        }
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    std::string context_;
    std::size_t base_;
};

}  // namespace lamina::io
