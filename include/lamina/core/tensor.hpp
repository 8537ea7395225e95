// lamina/core/tensor.hpp: an owning, aligned, contiguous N-d array.
//
// Contract: Tensor<T, Cpu> owns one 64-byte aligned buffer in row-major
// (C) order plus a Shape (batch first). resize() reuses the buffer whenever
// the new size fits its capacity, so buffers sized once at build time serve
// every smaller batch without touching the heap. Arithmetic is done through
// Eigen::Map views (matrix(), array()), never by copying into Eigen types.
// Copies are deep; moves steal the buffer.
#pragma once

#include "lamina/core/eigen.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "lamina/core/device.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor_view.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class Tensor;

namespace detail {
struct AlignedFree {
    void operator()(void* p) const noexcept { std::free(p); }
};
// Elements this thread's tensors may still allocate; null: unlimited.
inline thread_local Index* allocation_budget = nullptr;
// Charges a tensor of `capacity` elements growing to `shape` to this thread's
// AllocationBudget, if there is one; every device's Tensor calls it.
inline void charge_allocation_budget(const Shape& shape, Index capacity) {
    if (!allocation_budget) return;
    Index& left = *allocation_budget;
    const Index n = shape.size_up_to(left + capacity);
    if (n < 0)
        throw ConfigError(ErrorId::config_argument, "a tensor of shape " + shape.str() +
                                                        " exceeds the allocation budget of " + std::to_string(left) +
                                                        " more elements");
    if (n > capacity) left -= n;
}

// The shape and capacity bookkeeping every device's Tensor shares (the CPU's
// here, the GPU's in backend/cuda/tensor.hpp). Derived supplies
// grow(n, shape): a buffer of at least n elements, or an Error; the old
// contents need not survive, as resize() promises nothing about them.
template <class Derived>
class TensorShape {
public:
    // Gives the tensor `shape`; allocates only when the buffer is too small.
    // Contents are unspecified after a resize that changes the size.
    void resize(const Shape& shape) {
        // Shapes with extents set one by one may not have been checked yet.
        const Index n = shape.size_up_to(std::numeric_limits<Index>::max());
        if (n < 0)
            throw ShapeError(ErrorId::shape_rank,
                             "Tensor: the number of elements of " + shape.str() + " overflows a 64-bit count");
        charge_allocation_budget(shape, capacity_);
        if (n > capacity_) {
            static_cast<Derived&>(*this).grow(n, shape);
            capacity_ = n;
        }
        shape_ = shape;
    }
    // Makes room for `n` elements now, so later resizes up to n never allocate.
    void reserve(Index n) {
        if (n > capacity_) {
            Shape keep = shape_;
            resize(Shape{n});
            shape_ = keep;
        }
    }
    // Same elements, new shape; the sizes must agree.
    void reshape(const Shape& shape) {
        if (shape.size() != size())
            throw ShapeError(ErrorId::shape_mismatch,
                             "Tensor::reshape: cannot view " + shape_.str() + " as " + shape.str());
        shape_ = shape;
    }

    const Shape& shape() const noexcept { return shape_; }
    Index size() const noexcept { return shape_.size(); }
    Index capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size() == 0; }
    // Rows = first dimension, the batch.
    Index rows() const noexcept { return shape_.rank() == 0 ? 1 : shape_[0]; }
    Index cols() const noexcept { return shape_.sample_size(); }

protected:
    void swap_shape(TensorShape& other) noexcept {
        std::swap(capacity_, other.capacity_);
        std::swap(shape_, other.shape_);
    }
    Shape shape_{0};  // a default tensor is empty: size 0, no buffer
    Index capacity_ = 0;
};
}  // namespace detail

// While one is alive, tensor allocations on this thread may take at most
// `elements` in all, or throw ConfigError(config_argument). Loading a model
// file builds its layers under a budget derived from the weights the file
// holds, so a corrupt or hostile architecture cannot exhaust memory.
class AllocationBudget {
public:
    explicit AllocationBudget(Index elements) : left_(elements), outer_(detail::allocation_budget) {
        detail::allocation_budget = &left_;
    }
    ~AllocationBudget() { detail::allocation_budget = outer_; }
    AllocationBudget(const AllocationBudget&) = delete;
    AllocationBudget& operator=(const AllocationBudget&) = delete;

private:
    Index left_;
    Index* outer_;
};

template <class T>
class Tensor<T, Cpu> : public detail::TensorShape<Tensor<T, Cpu>> {
    using Base = detail::TensorShape<Tensor<T, Cpu>>;
    friend Base;
    static_assert(std::is_trivially_copyable_v<T>,
                  "lamina::Tensor holds arithmetic types (float, double, int32_t, uint8_t)");

public:
    using value_type = T;
    using device_type = Cpu;
    static constexpr std::size_t alignment = 64;  // one cache line, one AVX-512 register

    using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using MatrixMap = Eigen::Map<RowMatrix, Eigen::AlignedMax>;
    using ConstMatrixMap = Eigen::Map<const RowMatrix, Eigen::AlignedMax>;
    using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::AlignedMax>;
    using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::AlignedMax>;

    Tensor() = default;
    explicit Tensor(const Shape& shape) { resize(shape); }
    Tensor(const Shape& shape, T fill_value) {
        resize(shape);
        fill(fill_value);
    }
    // Tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6}): values in row-major order.
    Tensor(const Shape& shape, std::initializer_list<T> values) {
        if (static_cast<Index>(values.size()) != shape.size())
            throw ShapeError(ErrorId::shape_mismatch, "Tensor: shape " + shape.str() + " needs " +
                                                          std::to_string(shape.size()) + " values, got " +
                                                          std::to_string(values.size()));
        resize(shape);
        std::copy(values.begin(), values.end(), data());
    }

    Tensor(const Tensor& other) { *this = other; }
    Tensor& operator=(const Tensor& other) {
        if (this != &other) {
            resize(other.shape_);
            if (size() > 0) std::memcpy(data(), other.data(), static_cast<std::size_t>(size()) * sizeof(T));
        }
        return *this;
    }
    Tensor(Tensor&& other) noexcept { swap(other); }
    Tensor& operator=(Tensor&& other) noexcept {
        swap(other);
        return *this;
    }
    void swap(Tensor& other) noexcept {
        std::swap(buffer_, other.buffer_);
        this->swap_shape(other);
    }

    using Base::capacity;
    using Base::cols;
    using Base::empty;
    using Base::reserve;
    using Base::reshape;
    using Base::resize;
    using Base::rows;
    using Base::shape;
    using Base::size;

    T* data() noexcept { return static_cast<T*>(buffer_.get()); }
    const T* data() const noexcept { return static_cast<const T*>(buffer_.get()); }
    T* begin() noexcept { return data(); }
    T* end() noexcept { return data() + size(); }
    const T* begin() const noexcept { return data(); }
    const T* end() const noexcept { return data() + size(); }

    T& operator[](Index i) noexcept { return data()[i]; }
    const T& operator[](Index i) const noexcept { return data()[i]; }
    // (row, col) of the (batch, features) matrix view.
    T& operator()(Index r, Index c) noexcept { return data()[r * cols() + c]; }
    const T& operator()(Index r, Index c) const noexcept { return data()[r * cols() + c]; }

    // Bounds-checked flat access for code that takes indices from users.
    T& at(Index i) {
        check_index(i);
        return data()[i];
    }
    const T& at(Index i) const {
        check_index(i);
        return data()[i];
    }

    void fill(T value) { std::fill(begin(), end(), value); }
    void set_zero() {
        if (size() > 0) std::memset(data(), 0, static_cast<std::size_t>(size()) * sizeof(T));
    }

    // Non-owning views, what backend operations take (tensor_view.hpp).
    TensorView<T, Cpu> view() noexcept { return {data(), shape_}; }
    TensorView<const T, Cpu> view() const noexcept { return {data(), shape_}; }
    TensorView<const T, Cpu> cview() const noexcept { return view(); }  // read-only, from a mutable tensor

    // (batch, features) row-major view: the shape every Dense kernel wants.
    MatrixMap matrix() noexcept { return MatrixMap(data(), rows(), cols()); }
    ConstMatrixMap matrix() const noexcept { return ConstMatrixMap(data(), rows(), cols()); }
    // Flat view for elementwise work.
    ArrayMap array() noexcept { return ArrayMap(data(), size()); }
    ConstArrayMap array() const noexcept { return ConstArrayMap(data(), size()); }

    template <class U>
    Tensor<U, Cpu> cast() const {
        Tensor<U, Cpu> out(shape_);
        std::transform(begin(), end(), out.begin(), [](T v) { return static_cast<U>(v); });
        return out;
    }

    // Copies rows [first, first + count) into a new tensor.
    Tensor slice_rows(Index first, Index count) const {
        if (first < 0 || count < 0 || first + count > rows())
            throw ShapeError(ErrorId::shape_index, "Tensor::slice_rows: rows [" + std::to_string(first) + ", " +
                                                       std::to_string(first + count) + ") outside a tensor of " +
                                                       std::to_string(rows()) + " rows");
        Shape s = shape_;
        s[0] = count;
        Tensor out(s);
        if (out.size() > 0)
            std::memcpy(out.data(), data() + first * cols(), static_cast<std::size_t>(out.size()) * sizeof(T));
        return out;
    }

private:
    using Base::shape_;

    void grow(Index n, const Shape& shape) {
        void* p = nullptr;
        if (static_cast<std::size_t>(n) <= max_bytes / sizeof(T))
            p = std::aligned_alloc(alignment, round_up(static_cast<std::size_t>(n) * sizeof(T)));
        if (!p)
            throw ConfigError(ErrorId::config_memory, "Tensor: cannot allocate " + shape.str() + ", " + byte_count(n) +
                                                          " of " + std::to_string(sizeof(T)) + "-byte elements");
        buffer_.reset(p);
    }
    // Leaves room for round_up() and for pointer differences within the buffer.
    static constexpr std::size_t max_bytes = std::numeric_limits<std::ptrdiff_t>::max() / 2;
    static std::string byte_count(Index n) {
        char text[32];
        std::snprintf(text, sizeof text, "%.3g GB", static_cast<double>(n) * sizeof(T) / 1e9);
        return text;
    }
    static std::size_t round_up(std::size_t bytes) {
        bytes = std::max<std::size_t>(bytes, 1);
        return (bytes + alignment - 1) / alignment * alignment;
    }
    void check_index(Index i) const {
        if (i < 0 || i >= size())
            throw ShapeError(ErrorId::shape_index,
                             "Tensor::at: index " + std::to_string(i) + " outside a tensor of shape " + shape_.str());
    }

    std::unique_ptr<void, detail::AlignedFree> buffer_;
};

}  // namespace lamina
