// lamina/model/build_state.hpp: whether a model is built, safe to ask from many threads.
//
// Contract: built() may be called from any thread at any time; set() is
// called once, by the thread that holds mutex(), after everything built()
// promises is in place. predict() and evaluate() are const and may run in
// many threads at once on a model that is not built yet: the first to take
// the mutex builds it, the others wait and then see it built. Movable
// (Sequential::load returns a model by value), although a mutex is not: a
// model being moved is not in use by another thread.
#pragma once

#include <atomic>
#include <mutex>

namespace lamina::detail {

class BuildState {
public:
    BuildState() = default;
    BuildState(BuildState&& other) noexcept : built_(other.built()) {}
    BuildState& operator=(BuildState&& other) noexcept {
        built_.store(other.built(), std::memory_order_release);
        return *this;
    }

    bool built() const noexcept { return built_.load(std::memory_order_acquire); }
    void set() noexcept { built_.store(true, std::memory_order_release); }
    std::mutex& mutex() const noexcept { return mutex_; }

private:
    std::atomic<bool> built_{false};
    mutable std::mutex mutex_;
};

}  // namespace lamina::detail
