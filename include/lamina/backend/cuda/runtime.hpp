// lamina/backend/cuda/runtime.hpp: the CUDA runtime and cuBLAS, as lamina
// uses them: error checks, the stream and the cuBLAS handle.
//
// Contract: check(status, operation) turns a failed CUDA runtime or cuBLAS
// call into a lamina::Error that names lamina's operation and quotes CUDA's
// own name and text for the failure: out of memory is ConfigError
// (config_memory), no device or no usable driver DeviceError
// (device_unavailable), anything else DeviceError (device_failure). Nothing
// aborts. Every lamina operation runs on one stream, stream(), in order, so
// a buffer returned to the caching allocator (allocator.hpp) can be handed
// to the next operation without waiting; the host waits only where it reads
// a value (synchronize()). blas() is the cuBLAS handle bound to that stream,
// used under blas_mutex() since cuBLAS handles are not for concurrent use.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <mutex>
#include <string>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda {

[[noreturn]] inline void fail(cudaError_t status, const std::string& operation) {
    cudaGetLastError();  // clears the error unless it is sticky (then every later call reports it too)
    const std::string what =
        operation + ": CUDA error " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")";
    switch (status) {
        case cudaErrorMemoryAllocation: throw ConfigError(ErrorId::config_memory, what);
        case cudaErrorNoDevice:
        case cudaErrorInsufficientDriver:
        case cudaErrorInvalidDevice:
        case cudaErrorDevicesUnavailable:
        case cudaErrorInitializationError: throw DeviceError(ErrorId::device_unavailable, what);
        default: throw DeviceError(ErrorId::device_failure, what);
    }
}

inline void check(cudaError_t status, const std::string& operation) {
    if (status != cudaSuccess) fail(status, operation);
}

inline void check(cublasStatus_t status, const std::string& operation) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    const std::string what =
        operation + ": cuBLAS error " + cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")";
    if (status == CUBLAS_STATUS_ALLOC_FAILED) throw ConfigError(ErrorId::config_memory, what);
    if (status == CUBLAS_STATUS_NOT_INITIALIZED) throw DeviceError(ErrorId::device_unavailable, what);
    throw DeviceError(ErrorId::device_failure, what);
}

// How many CUDA devices the driver reports; 0 where there is no driver or GPU.
inline int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}

// Throws DeviceError(device_unavailable) with CUDA's reason where no GPU can be used.
inline void require_device() {
    int n = 0;
    check(cudaGetDeviceCount(&n), "looking for a CUDA device");
    if (n == 0) throw DeviceError(ErrorId::device_unavailable, "looking for a CUDA device: the driver reports none");
}

// "NVIDIA H100 80GB HBM3 (compute capability 9.0)" for the current device.
inline std::string device_description() {
    require_device();
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    cudaDeviceProp p{};
    check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
    return std::string(p.name) + " (compute capability " + std::to_string(p.major) + "." + std::to_string(p.minor) +
           ")";
}

namespace detail {
// Created on first use and never destroyed: the CUDA runtime may already be
// torn down when static destructors run, and destroying a stream or handle
// then fails. The driver reclaims both at process exit.
struct Context {
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    std::mutex blas_mutex;
    Context() {
        require_device();
        check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "creating lamina's CUDA stream");
        check(cublasCreate(&blas), "creating the cuBLAS handle");
        check(cublasSetStream(blas, stream), "binding cuBLAS to lamina's stream");
    }
};
inline Context& context() {
    static Context* c = new Context();  // NOLINT: leaked on purpose, see above
    return *c;
}
}  // namespace detail

inline cudaStream_t stream() { return detail::context().stream; }
inline cublasHandle_t blas() { return detail::context().blas; }
inline std::mutex& blas_mutex() { return detail::context().blas_mutex; }

// Queues a copy of n elements on lamina's stream (kind: cudaMemcpyHostToDevice,
// DeviceToHost or DeviceToDevice). The host may read what a copy to it wrote
// only after synchronize().
template <class T>
void copy_async(T* dst, const T* src, Index n, cudaMemcpyKind kind, const std::string& operation) {
    if (n > 0) check(cudaMemcpyAsync(dst, src, static_cast<std::size_t>(n) * sizeof(T), kind, stream()), operation);
}
// Queues the zeroing of n elements of device memory on lamina's stream.
template <class T>
void zero_async(T* dst, Index n, const std::string& operation) {
    if (n > 0) check(cudaMemsetAsync(dst, 0, static_cast<std::size_t>(n) * sizeof(T), stream()), operation);
}

// Waits for every operation queued so far; reports an asynchronous failure
// (a kernel that faulted) as the error of `operation`.
inline void synchronize(const std::string& operation) { check(cudaStreamSynchronize(stream()), operation); }

}  // namespace lamina::cuda
