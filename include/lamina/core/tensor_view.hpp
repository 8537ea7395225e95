// lamina/core/tensor_view.hpp: a non-owning view of a whole tensor's buffer.
//
// Contract: TensorView<T, Device> is a pointer and a Shape (batch first,
// row-major), what backend operations take instead of owning tensors; T is
// const for inputs. A view does not own, allocate or resize: the tensor it
// came from (Tensor::view()) must outlive it and keep its shape meanwhile.
// Its data lives on Device: only a Cpu view may be dereferenced by host code,
// through operator[] and the Eigen maps matrix() (batch, features) and
// array() (flat), which assume the tensor's 64-byte aligned start.
#pragma once

#include "lamina/core/eigen.hpp"

#include <type_traits>

#include "lamina/core/device.hpp"
#include "lamina/core/shape.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class TensorView {
public:
    using value_type = std::remove_const_t<T>;
    using device_type = Device;

    TensorView(T* data, const Shape& shape) noexcept : data_(data), shape_(shape) {}
    // A view of const elements from one of mutable elements.
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
    TensorView(const TensorView<U, Device>& other) noexcept : data_(other.data()), shape_(other.shape()) {}

    T* data() const noexcept { return data_; }
    const Shape& shape() const noexcept { return shape_; }
    Index size() const noexcept { return shape_.size(); }
    Index rows() const noexcept { return shape_.rank() == 0 ? 1 : shape_[0]; }
    Index cols() const noexcept { return shape_.sample_size(); }

    // Host access: Cpu views only.
    T& operator[](Index i) const noexcept {
        static_assert(std::is_same_v<Device, Cpu>, "only a Cpu view can be read on the host");
        return data_[i];
    }
    T* begin() const noexcept {
        static_assert(std::is_same_v<Device, Cpu>, "only a Cpu view can be read on the host");
        return data_;
    }
    T* end() const noexcept { return begin() + size(); }
    auto matrix() const noexcept {
        static_assert(std::is_same_v<Device, Cpu>, "only a Cpu view can be read on the host");
        using Matrix = Eigen::Matrix<value_type, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        using Mapped = std::conditional_t<std::is_const_v<T>, const Matrix, Matrix>;
        return Eigen::Map<Mapped, Eigen::AlignedMax>(data_, rows(), cols());
    }
    auto array() const noexcept {
        static_assert(std::is_same_v<Device, Cpu>, "only a Cpu view can be read on the host");
        using Array = Eigen::Array<value_type, Eigen::Dynamic, 1>;
        using Mapped = std::conditional_t<std::is_const_v<T>, const Array, Array>;
        return Eigen::Map<Mapped, Eigen::AlignedMax>(data_, size());
    }

private:
    T* data_;
    Shape shape_;
};

}  // namespace lamina
