// lamina/backend/cuda/tensor.hpp: Tensor<T, Cuda>, a tensor in GPU memory.
//
// Contract: the owning tensor of core/tensor.hpp with its buffer in device
// memory from the caching allocator (allocator.hpp): the same shape
// bookkeeping (detail::TensorShape: overflow checks, AllocationBudget,
// resize/reserve/reshape, a resize within capacity never allocates), deep
// copies (device to device) and moves. Its elements cannot be read by host code: there is no
// operator[], no Eigen map; views (TensorView<T, Cuda>) go to Backend<Cuda>,
// and to_host() / to_device() copy between the host and the GPU.
#pragma once

#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "lamina/backend/cuda/allocator.hpp"
#include "lamina/backend/cuda/device.hpp"
#include "lamina/backend/cuda/runtime.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

template <class T>
class Tensor<T, Cuda> : public detail::TensorShape<Tensor<T, Cuda>> {
    using Base = detail::TensorShape<Tensor<T, Cuda>>;
    friend Base;
    static_assert(std::is_trivially_copyable_v<T>,
                  "lamina::Tensor holds arithmetic types (float, double, int32_t, uint8_t)");

public:
    using value_type = T;
    using device_type = Cuda;

    Tensor() = default;
    explicit Tensor(const Shape& shape) { resize(shape); }
    Tensor(const Tensor& other) { *this = other; }
    Tensor& operator=(const Tensor& other) {
        if (this != &other) {
            resize(other.shape_);
            cuda::copy_async(data(), other.data(), size(), cudaMemcpyDeviceToDevice, "copying a CUDA tensor");
        }
        return *this;
    }
    Tensor(Tensor&& other) noexcept { swap(other); }
    Tensor& operator=(Tensor&& other) noexcept {
        swap(other);
        return *this;
    }
    void swap(Tensor& other) noexcept {
        buffer_.swap(other.buffer_);
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

    // Device pointers: for Backend<Cuda> and kernels, never for host reads.
    T* data() noexcept { return buffer_.data(); }
    const T* data() const noexcept { return buffer_.data(); }

    void set_zero() { cuda::zero_async(data(), size(), "zeroing a CUDA tensor"); }

    TensorView<T, Cuda> view() noexcept { return {data(), shape_}; }
    TensorView<const T, Cuda> view() const noexcept { return {data(), shape_}; }
    TensorView<const T, Cuda> cview() const noexcept { return view(); }

    // A copy of the host tensor on the GPU, and back.
    static Tensor from_host(const Tensor<T, Cpu>& host) {
        Tensor t(host.shape());
        cuda::copy_async(t.data(), host.data(), t.size(), cudaMemcpyHostToDevice, "copying a tensor to the GPU");
        return t;
    }
    Tensor<T, Cpu> to_host() const {
        Tensor<T, Cpu> h(shape_);
        if (size() > 0) {
            cuda::copy_async(h.data(), data(), size(), cudaMemcpyDeviceToHost, "copying a tensor from the GPU");
            cuda::synchronize("copying a tensor from the GPU");
        }
        return h;
    }

private:
    using Base::shape_;

    void grow(Index n, const Shape& shape) {
        if (static_cast<std::size_t>(n) > max_bytes / sizeof(T))
            throw ConfigError(ErrorId::config_memory, "Tensor: cannot allocate " + shape.str() + " on the GPU");
        buffer_ = cuda::DeviceBuffer<T>(static_cast<std::size_t>(n),
                                        "Tensor<" + std::string(type_name()) + ", Cuda> of shape " + shape.str());
    }
    static constexpr std::size_t max_bytes = std::numeric_limits<std::ptrdiff_t>::max() / 2;
    static const char* type_name() {
        if constexpr (std::is_same_v<T, float>) return "float";
        else if constexpr (std::is_same_v<T, double>) return "double";
        else return "T";
    }

    cuda::DeviceBuffer<T> buffer_;
};

// Host <-> GPU copies of a whole tensor.
template <class T>
Tensor<T, Cuda> to_device(const Tensor<T, Cpu>& host) {
    return Tensor<T, Cuda>::from_host(host);
}
template <class T>
Tensor<T, Cpu> to_host(const Tensor<T, Cuda>& device) {
    return device.to_host();
}

}  // namespace lamina
