// lamina/core/shape.hpp: up to four dimensions, batch first.
//
// Contract: a Shape holds rank 0..4 non-negative extents: (N, D) for dense
// data, (N, C, H, W) for images. Layers describe one sample without the batch
// dimension (their build() input); tensors carry the batch in dims[0].
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

#include "lamina/core/error.hpp"

namespace lamina {

using Index = std::int64_t;

class Shape {
public:
    static constexpr int max_rank = 4;

    Shape() = default;
    Shape(std::initializer_list<Index> dims) {
        if (dims.size() > max_rank)
            throw ShapeError(ErrorId::shape_rank,
                             "Shape: rank " + std::to_string(dims.size()) + " exceeds the maximum of 4");
        for (Index d : dims) {
            if (d < 0) throw ShapeError(ErrorId::shape_rank, "Shape: negative dimension " + std::to_string(d));
            dims_[static_cast<std::size_t>(rank_++)] = d;
        }
        check_size("Shape");
    }

    int rank() const noexcept { return rank_; }
    Index operator[](int i) const noexcept { return dims_[static_cast<std::size_t>(i)]; }
    Index& operator[](int i) noexcept { return dims_[static_cast<std::size_t>(i)]; }

    // Number of elements; 1 for rank 0 (a scalar). The constructors and
    // with_batch() refuse shapes whose size overflows Index, so this cannot;
    // code that sets extents through operator[] checks with size_up_to().
    Index size() const noexcept {
        Index n = 1;
        for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
        return n;
    }

    // Number of elements, or -1 when it exceeds `limit`; never overflows,
    // so it is safe on shapes computed from untrusted sizes.
    Index size_up_to(Index limit) const noexcept {
        Index n = 1;
        for (int i = 0; i < rank_; ++i) {
            const Index d = dims_[static_cast<std::size_t>(i)];
            if (d != 0 && n > limit / d) return -1;
            n *= d;
        }
        return n <= limit ? n : -1;
    }

    // Elements per sample: the product of all dims but the first.
    Index sample_size() const noexcept {
        Index n = 1;
        for (int i = 1; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
        return n;
    }

    // A new shape with `batch` prepended (layer shapes are per sample).
    Shape with_batch(Index batch) const {
        if (rank_ == max_rank)
            throw ShapeError(ErrorId::shape_rank, "Shape " + str() + " has no room for a batch dimension");
        Shape s;
        s.rank_ = rank_ + 1;
        s.dims_[0] = batch;
        for (int i = 0; i < rank_; ++i) s.dims_[static_cast<std::size_t>(i + 1)] = dims_[static_cast<std::size_t>(i)];
        s.check_size("Shape::with_batch");
        return s;
    }

    // This shape without its first (batch) dimension.
    Shape without_batch() const {
        Shape s;
        if (rank_ == 0) return s;
        s.rank_ = rank_ - 1;
        for (int i = 1; i < rank_; ++i) s.dims_[static_cast<std::size_t>(i - 1)] = dims_[static_cast<std::size_t>(i)];
        return s;
    }

    // "(60000, 1, 28, 28)"
    std::string str() const {
        std::string s = "(";
        for (int i = 0; i < rank_; ++i) {
            if (i) s += ", ";
            s += std::to_string(dims_[static_cast<std::size_t>(i)]);
        }
        if (rank_ == 1) s += ",";
        return s + ")";
    }

    // Keras's per-sample notation with an unknown batch: "(None, 784)".
    std::string keras_str() const {
        std::string s = "(None";
        for (int i = 0; i < rank_; ++i) s += ", " + std::to_string(dims_[static_cast<std::size_t>(i)]);
        return s + ")";
    }

    friend bool operator==(const Shape& a, const Shape& b) noexcept {
        if (a.rank_ != b.rank_) return false;
        for (int i = 0; i < a.rank_; ++i)
            if (a.dims_[static_cast<std::size_t>(i)] != b.dims_[static_cast<std::size_t>(i)]) return false;
        return true;
    }
    friend bool operator!=(const Shape& a, const Shape& b) noexcept { return !(a == b); }

private:
    void check_size(const char* where) const {
        if (size_up_to(std::numeric_limits<Index>::max()) < 0)
            throw ShapeError(ErrorId::shape_rank,
                             std::string(where) + ": the number of elements of " + str() + " overflows a 64-bit count");
    }

    std::array<Index, max_rank> dims_{};
    int rank_ = 0;
};

}  // namespace lamina
