// examples/distributed_flag.hpp: --distributed, data-parallel training over
// MPI for the examples (docs/distributed.md):
//
//   mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1 build/examples/mnist_cnn --distributed
//
// Every rank loads the data and builds the same model; fit and evaluate
// share each batch among the ranks. Rank 0 alone prints, saves, plots and
// runs the callbacks (checkpoints, CSV log). The MPI path exists where the
// examples were built with LAMINA_MPI=ON (which sets LAMINA_EXAMPLES_MPI);
// elsewhere --distributed is refused up front.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <streambuf>

#include <lamina/lamina.hpp>
#if LAMINA_EXAMPLES_MPI
#include <lamina/distributed/mpi.hpp>
#endif

namespace examples {

class Distributed {
public:
    static constexpr const char* usage = "--distributed";

    // Starts MPI where asked (exits with status 1 and lamina's error where
    // this build has none), and silences std::cout on every rank but 0.
    Distributed(bool on, int& argc, char**& argv) {
        if (!on) return;
#if LAMINA_EXAMPLES_MPI
        try {
            context_ = std::make_unique<lamina::distributed::Context>(argc, argv);
        } catch (const lamina::Error& e) {
            std::cerr << "error: " << e.what() << "\n";
            std::exit(1);
        }
        if (!context_->primary()) quiet_.emplace(std::cout);
#else
        (void)argc;
        (void)argv;
        std::cerr << "error: "
                  << lamina::DistributedError(lamina::ErrorId::distributed_unavailable,
                                              "--distributed: this build has no MPI; configure with -DLAMINA_MPI=ON "
                                              "(needs Open MPI: libopenmpi-dev, openmpi-bin; docs/distributed.md)")
                         .what()
                  << "\n";
        std::exit(1);
#endif
        training_starts();
    }

    // What fit and evaluate take: nullptr without --distributed.
    lamina::distributed::Communicator* communicator() const {
#if LAMINA_EXAMPLES_MPI
        return context_.get();
#else
        return nullptr;
#endif
    }
    // Whether this process prints and writes files: rank 0, or the only one.
    bool primary() const {
        const auto* c = communicator();
        return !c || c->primary();
    }

    // Marks the start of training: report() covers what follows.
    void training_starts() {
        start_ = std::chrono::steady_clock::now();
#if LAMINA_EXAMPLES_MPI
        if (context_) context_->reset_stats();
#endif
    }
    // "distributed: 2 ranks; waited ... s in the collectives" on rank 0.
    void report() const {
#if LAMINA_EXAMPLES_MPI
        if (!context_) return;
        const auto& s = context_->stats();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        std::cout << "distributed: " << context_->size() << " ranks; waited " << s.wait_seconds << " s in "
                  << s.collectives << " collectives (" << s.bytes / 1e6 << " MB per rank), "
                  << 100.0 * s.wait_seconds / seconds << " % of the " << seconds << " s of training and evaluation\n";
#endif
    }

private:
    // Drops what is written to a stream for as long as it lives.
    class Quiet {
    public:
        explicit Quiet(std::ostream& s) : stream_(s), old_(s.rdbuf(&null_)) {}
        ~Quiet() { stream_.rdbuf(old_); }

    private:
        struct Null : std::streambuf {
            int overflow(int c) override { return c; }
        } null_;
        std::ostream& stream_;
        std::streambuf* old_;
    };

#if LAMINA_EXAMPLES_MPI
    std::unique_ptr<lamina::distributed::Context> context_;
#endif
    std::optional<Quiet> quiet_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace examples
