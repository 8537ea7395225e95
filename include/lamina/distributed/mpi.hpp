// lamina/distributed/mpi.hpp: a Communicator over MPI, for data-parallel
// training across processes and machines (the optional lamina::mpi
// component: CMake's LAMINA_MPI, MPI::MPI_CXX; docs/distributed.md).
//
//   lamina::distributed::Context ctx(argc, argv);   // MPI_Init; MPI_Finalize at scope exit
//   options.distributed = &ctx;                      // fit(x, y, options)
//   model.evaluate(x_test, y_test, 128, &ctx);
//
// Every collective waits at most ContextOptions::timeout_seconds for the
// other ranks: a rank that died or hangs makes the others throw
// DistributedError (distributed_peer) instead of waiting for ever, and the
// Context then ends the whole job (MPI_Abort) rather than MPI_Finalize,
// which would wait for the missing rank too.
#pragma once

// MPI's C interface only: the C++ bindings that MPI 3 removed, which Open
// MPI still declares unless told not to, trip -Wcast-function-type.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/distributed/communicator.hpp"

namespace lamina::distributed {

struct ContextOptions {
    double timeout_seconds = 120;                     // per collective, waiting for the other ranks
    std::size_t bucket_bytes = std::size_t(4) << 20;  // gradient bytes per started sum
};

// Time spent waiting in collectives, for the overhead a user pays.
struct CommunicationStats {
    long long collectives = 0;  // sums and broadcasts finished
    double bytes = 0;           // their payload, per rank
    double wait_seconds = 0;    // in wait_all and the blocking calls: the part not hidden behind backward
};

class Context final : public Communicator {
public:
    // Initialises MPI unless the program already did (then it also
    // finalises it); lamina talks on its own duplicate of MPI_COMM_WORLD.
    Context(int& argc, char**& argv, ContextOptions options = {}) : options_(options) { init(&argc, &argv); }
    explicit Context(ContextOptions options = {}) : options_(options) { init(nullptr, nullptr); }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    ~Context() override {
        if (broken_) MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Comm_free(&comm_);
        if (owns_mpi_) MPI_Finalize();
    }

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    std::size_t bucket_bytes() const override { return options_.bucket_bytes; }
    const ContextOptions& options() const noexcept { return options_; }
    const CommunicationStats& stats() const noexcept { return stats_; }
    void reset_stats() noexcept { stats_ = {}; }
    // This machine's name, as MPI knows it.
    std::string processor_name() const {
        char name[MPI_MAX_PROCESSOR_NAME];
        int length = 0;
        MPI_Get_processor_name(name, &length);
        return std::string(name, static_cast<std::size_t>(length));
    }

    void broadcast(void* data, std::size_t bytes, int root) override {
        for (std::size_t done = 0; done < bytes;) {  // MPI counts are ints
            const int n = static_cast<int>(std::min<std::size_t>(bytes - done, std::size_t(1) << 30));
            requests_.emplace_back();
            check(MPI_Ibcast(static_cast<char*>(data) + done, n, MPI_BYTE, root, comm_, &requests_.back()),
                  "MPI_Ibcast");
            done += std::size_t(n);
        }
        stats_.bytes += double(bytes);
        wait_all();
    }
    void allreduce_sum(double* data, std::size_t n) override {
        start_allreduce_sum(data, n);
        wait_all();
    }
    void start_allreduce_sum(float* data, std::size_t n) override { start(data, n, MPI_FLOAT, sizeof(float)); }
    void start_allreduce_sum(double* data, std::size_t n) override { start(data, n, MPI_DOUBLE, sizeof(double)); }

    void wait_all() override {
        if (requests_.empty()) return;
        using clock = std::chrono::steady_clock;
        const auto begin = clock::now();
        const auto deadline = begin + std::chrono::duration<double>(options_.timeout_seconds);
        for (long long polls = 0;; ++polls) {
            int done = 0;
            check(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE),
                  "MPI_Testall");
            if (done) break;
            // Polling drives MPI's progress; after a while, sleep between polls
            // so that a long wait (a slow rank) leaves the core to others.
            if (polls > 100000) std::this_thread::sleep_for(std::chrono::microseconds(100));
            if ((polls & 255) == 0 && clock::now() > deadline) {
                broken_ = true;
                throw DistributedError(ErrorId::distributed_peer,
                                       "rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
                                           ": no answer from the other ranks for " +
                                           std::to_string(options_.timeout_seconds) +
                                           " s (ContextOptions::timeout_seconds): a rank died, hangs, or called "
                                           "the collectives in another order; the job is aborted");
            }
        }
        stats_.collectives += static_cast<long long>(requests_.size());
        stats_.wait_seconds += std::chrono::duration<double>(clock::now() - begin).count();
        requests_.clear();
    }

    // Ends every rank of the job at once (MPI_Abort), with `code` as the exit status.
    [[noreturn]] void abort(int code) {
        MPI_Abort(MPI_COMM_WORLD, code);
        std::abort();
    }

private:
    void init(int* argc, char*** argv) {
        if (!(options_.timeout_seconds > 0))
            throw ConfigError(ErrorId::config_argument, "distributed::Context: timeout_seconds must be > 0, got " +
                                                            std::to_string(options_.timeout_seconds));
        if (options_.bucket_bytes < 1024)
            throw ConfigError(ErrorId::config_argument, "distributed::Context: bucket_bytes must be >= 1024, got " +
                                                            std::to_string(options_.bucket_bytes));
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (!initialized) {
            // Only the thread that called fit talks to MPI: OpenMP's workers never do.
            int provided = 0;
            check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            owns_mpi_ = true;
        }
        check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
        // Errors come back as codes, which check() turns into DistributedError.
        MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &size_);
    }
    void start(void* data, std::size_t n, MPI_Datatype type, std::size_t element) {
        for (std::size_t done = 0; done < n;) {
            const int count = static_cast<int>(std::min<std::size_t>(n - done, std::size_t(1) << 30));
            requests_.emplace_back();
            check(MPI_Iallreduce(MPI_IN_PLACE, static_cast<char*>(data) + done * element, count, type, MPI_SUM, comm_,
                                 &requests_.back()),
                  "MPI_Iallreduce");
            done += std::size_t(count);
        }
        stats_.bytes += double(n * element);
    }
    void check(int code, const char* what) {
        if (code == MPI_SUCCESS) return;
        char text[MPI_MAX_ERROR_STRING];
        int length = 0;
        MPI_Error_string(code, text, &length);
        broken_ = true;
        throw DistributedError(ErrorId::distributed_failure, std::string(what) + " failed on rank " +
                                                                 std::to_string(rank_) + ": " +
                                                                 std::string(text, static_cast<std::size_t>(length)));
    }

    ContextOptions options_;
    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0, size_ = 1;
    bool owns_mpi_ = false;
    bool broken_ = false;
    std::vector<MPI_Request> requests_;
    CommunicationStats stats_;
};

}  // namespace lamina::distributed
