// lamina/backend/cuda/allocator.hpp: a caching allocator for device memory.
//
// Contract: allocate(bytes) returns device memory (cudaMalloc, never managed
// memory) of at least `bytes`, rounded to a size class; deallocate() keeps
// the block in a free list of its class for the next request of that class
// instead of calling cudaFree, which synchronises the whole device. Since
// every lamina operation runs on one stream in order (runtime.hpp), a block
// freed while kernels that use it are still queued can be handed to the
// next operation at once: that operation is queued after them. When
// cudaMalloc runs out of memory the cache is released and the request
// retried once; a second failure is ConfigError(config_memory) quoting
// CUDA's message. Thread-safe. Training allocates only while buffers grow,
// so after the first step every request is served from the cache.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "lamina/backend/cuda/runtime.hpp"

namespace lamina::cuda {

class DeviceAllocator {
public:
    static DeviceAllocator& instance() {
        static DeviceAllocator* a =
            new DeviceAllocator();  // NOLINT: outlives static destructors, as runtime.hpp's context
        return *a;
    }

    // 512-byte classes up to 1 MiB, then 1 MiB classes: at most 1/2 wasted
    // for tiny blocks and under 1 MiB for big ones.
    static std::size_t size_class(std::size_t bytes) {
        constexpr std::size_t small = 512, big = std::size_t(1) << 20;
        if (bytes == 0) bytes = 1;
        const std::size_t unit = bytes <= big ? small : big;
        return (bytes + unit - 1) / unit * unit;
    }

    void* allocate(std::size_t bytes, const std::string& what) {
        const std::size_t size = size_class(bytes);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = free_.find(size);
            if (it != free_.end() && !it->second.empty()) {
                void* p = it->second.back();
                it->second.pop_back();
                cached_ -= size;
                in_use_ += size;
                return p;
            }
        }
        detail::context();  // a clear "no CUDA device" before cudaMalloc's own words
        void* p = nullptr;
        cudaError_t status = cudaMalloc(&p, size);
        if (status == cudaErrorMemoryAllocation) {
            cudaGetLastError();
            release_cached();
            status = cudaMalloc(&p, size);
        }
        if (status != cudaSuccess) fail(status, what + ": cudaMalloc of " + std::to_string(size) + " bytes");
        std::lock_guard<std::mutex> lock(mutex_);
        in_use_ += size;
        return p;
    }

    void deallocate(void* p, std::size_t bytes) noexcept {
        if (!p) return;
        const std::size_t size = size_class(bytes);
        std::lock_guard<std::mutex> lock(mutex_);
        try {
            free_[size].push_back(p);
        } catch (...) {
            cudaFree(p);  // no room to remember it: give it back instead
            in_use_ -= size;
            return;
        }
        in_use_ -= size;
        cached_ += size;
    }

    // Returns every cached block to CUDA, after the queued work that may use them.
    void release_cached() noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        if (cached_ == 0) return;
        cudaDeviceSynchronize();
        for (auto& [size, blocks] : free_)
            for (void* p : blocks) cudaFree(p);
        free_.clear();
        cached_ = 0;
    }

    std::size_t bytes_in_use() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return in_use_;
    }
    std::size_t bytes_cached() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return cached_;
    }

private:
    DeviceAllocator() = default;
    mutable std::mutex mutex_;
    std::map<std::size_t, std::vector<void*>> free_;
    std::size_t in_use_ = 0, cached_ = 0;
};

// One block of device memory for `n` elements of T, back to the cache when destroyed.
template <class T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(std::size_t n, const std::string& what)
        : data_(static_cast<T*>(DeviceAllocator::instance().allocate(n * sizeof(T), what))), n_(n) {}
    DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        swap(o);
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { DeviceAllocator::instance().deallocate(data_, n_ * sizeof(T)); }
    void swap(DeviceBuffer& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(n_, o.n_);
    }
    T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return n_; }

private:
    T* data_ = nullptr;
    std::size_t n_ = 0;
};

}  // namespace lamina::cuda
