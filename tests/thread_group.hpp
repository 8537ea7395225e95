// A distributed::Communicator over the threads of one process: each thread
// is a rank with its own model. fit's data parallelism is tested with it in
// the ordinary test binary, without MPI (tests/mpi/ runs the real thing).
#pragma once

#include <lamina/distributed/communicator.hpp>

#include <condition_variable>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace test {

class ThreadGroup {
public:
    explicit ThreadGroup(int size) : size_(size), buffers_(std::size_t(size)) {}
    int size() const { return size_; }

    // Runs body(rank communicator) on `size` threads; returns each rank's exception, if any.
    template <class Body>
    std::vector<std::exception_ptr> run(Body body, std::size_t bucket_bytes = std::size_t(4) << 20);

    class Rank;

private:
    void barrier() {
        std::unique_lock<std::mutex> lock(mutex_);
        const long long generation = generation_;
        if (++arrived_ == size_) {
            arrived_ = 0;
            ++generation_;
            cv_.notify_all();
        } else {
            cv_.wait(lock, [&] { return generation != generation_; });
        }
    }

    int size_;
    std::vector<void*> buffers_;
    std::mutex mutex_;
    std::condition_variable cv_;
    int arrived_ = 0;
    long long generation_ = 0;
};

class ThreadGroup::Rank : public lamina::distributed::Communicator {
public:
    Rank(ThreadGroup& group, int rank, std::size_t bucket_bytes)
        : group_(group), rank_(rank), bucket_bytes_(bucket_bytes) {}
    int rank() const override { return rank_; }
    int size() const override { return group_.size(); }
    std::size_t bucket_bytes() const override { return bucket_bytes_; }

    void broadcast(void* data, std::size_t bytes, int root) override {
        group_.buffers_[std::size_t(rank_)] = data;
        group_.barrier();
        if (rank_ != root) std::memcpy(data, group_.buffers_[std::size_t(root)], bytes);
        group_.barrier();
    }
    void allreduce_sum(double* data, std::size_t n) override { sum(data, n); }
    // Started sums run in wait_all, in the order started: a valid schedule,
    // as the caller leaves the buffers alone until then.
    void start_allreduce_sum(float* data, std::size_t n) override {
        pending_.push_back([this, data, n] { sum(data, n); });
    }
    void start_allreduce_sum(double* data, std::size_t n) override {
        pending_.push_back([this, data, n] { sum(data, n); });
    }
    void wait_all() override {
        for (auto& f : pending_) f();
        pending_.clear();
    }
    long long started_sums() const { return started_; }

private:
    // Every rank adds the ranks' values in rank order: the same bits everywhere.
    template <class T>
    void sum(T* data, std::size_t n) {
        ++started_;
        group_.buffers_[std::size_t(rank_)] = data;
        group_.barrier();
        std::vector<T> total(n, T(0));
        for (int r = 0; r < group_.size(); ++r) {
            const T* part = static_cast<const T*>(group_.buffers_[std::size_t(r)]);
            for (std::size_t i = 0; i < n; ++i) total[i] += part[i];
        }
        group_.barrier();  // every rank has read every buffer
        std::memcpy(data, total.data(), n * sizeof(T));
    }

    ThreadGroup& group_;
    int rank_;
    std::size_t bucket_bytes_;
    std::vector<std::function<void()>> pending_;
    long long started_ = 0;
};

template <class Body>
std::vector<std::exception_ptr> ThreadGroup::run(Body body, std::size_t bucket_bytes) {
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(size_));
    std::vector<std::thread> threads;
    for (int r = 0; r < size_; ++r)
        threads.emplace_back([&, r] {
            Rank rank(*this, r, bucket_bytes);
            try {
                body(rank);
            } catch (...) {
                errors[std::size_t(r)] = std::current_exception();
            }
        });
    for (auto& t : threads) t.join();
    return errors;
}

}  // namespace test
