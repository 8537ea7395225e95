// lamina/distributed/communicator.hpp: what data-parallel training needs
// from the processes it runs in, and nothing of how they talk.
//
// fit(x, y, {.distributed = &comm}) and evaluate(x, y, batch, &comm) take
// any Communicator; lamina/distributed/mpi.hpp (the optional lamina::mpi
// component) implements it over MPI. The core needs no MPI: a program that
// never names a communicator trains in one process as before.
//
// Contract: every rank calls the collectives in the same order with the same
// sizes; each returns (or, for the started sums, wait_all returns) with the
// same bits on every rank. A failure, or no answer from another rank within
// the implementation's timeout, throws DistributedError.
#pragma once

#include <cstddef>

namespace lamina::distributed {

class Communicator {
public:
    virtual ~Communicator() = default;

    virtual int rank() const = 0;
    virtual int size() const = 0;
    // Rank 0 writes files and prints; the others train silently.
    bool primary() const { return rank() == 0; }

    // `bytes` bytes at `data` from rank `root` to every rank.
    virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
    // The element-wise sum over the ranks, in place, on every rank.
    virtual void allreduce_sum(double* data, std::size_t n) = 0;
    // Starts an element-wise sum in place and returns at once: `data` stays
    // untouched until wait_all(), which finishes every sum started so far.
    // Gradients go through these, while backward is still running.
    virtual void start_allreduce_sum(float* data, std::size_t n) = 0;
    virtual void start_allreduce_sum(double* data, std::size_t n) = 0;
    virtual void wait_all() = 0;

    // The most gradient bytes one started sum carries: large enough to keep
    // the per-call latency small, small enough that the first sums start
    // early in backward and that no single message meets a slow algorithm.
    virtual std::size_t bucket_bytes() const { return std::size_t(4) << 20; }
};

}  // namespace lamina::distributed
