// lamina/distributed/data_parallel.hpp: the pieces of synchronous data
// parallelism that Sequential::fit and evaluate use when given a
// Communicator (docs/distributed.md).
//
// Every rank holds the whole model and walks the same shuffled order of the
// training rows; each takes its own share of every global batch, computes
// the gradient of its share, and the ranks sum those gradients, each
// weighted by its share of the batch, so that every rank holds the gradient
// of the whole batch, bit for bit the same, and takes the same optimizer
// step. The sums go in buckets of at most Communicator::bucket_bytes(),
// started as soon as backward has finished the layers they hold.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "lamina/backend/backend.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/distributed/communicator.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina::distributed::detail {

// Rank `rank`'s rows of a global batch of `count`: near-equal shares in
// rank order, the first count % size ranks one row more.
struct Share {
    Index offset = 0;
    Index count = 0;
};
inline Share share(Index count, int rank, int size) {
    const Index base = count / size, extra = count % size;
    return {rank * base + std::min<Index>(rank, extra), base + (rank < extra ? 1 : 0)};
}

// Once every rank knows how many failed (`failures`, this one's `error`
// included): a rank that failed rethrows its own error, the others throw one
// that says so (`during`: " in a training step", or nothing).
inline void stop_if_any_failed(const std::exception_ptr& error, long long failures, int size, const std::string& what,
                               const char* during = "") {
    if (error) std::rethrow_exception(error);
    if (failures > 0)
        throw DistributedError(ErrorId::distributed_peer,
                               what + ": " + std::to_string(failures) + " of the " + std::to_string(size) +
                                   " ranks failed" + during +
                                   ", so this one stops too (the failed ranks' errors say why)");
}

// Every rank learns whether any rank failed, so that no rank is left waiting
// in a collective the failed one will never join.
inline void agree(Communicator& comm, const std::exception_ptr& error, const std::string& what) {
    double failed = error ? 1 : 0;
    comm.allreduce_sum(&failed, 1);
    stop_if_any_failed(error, static_cast<long long>(failed), comm.size(), what);
}

// Rank 0's bytes of `t` to every rank, through the host.
template <class T, class Device>
void broadcast_tensor(Communicator& comm, Tensor<T, Device>& t, std::vector<T>& host) {
    host.resize(static_cast<std::size_t>(t.size()));
    Backend<Device>::download(t.data(), t.size(), host.data());
    comm.broadcast(host.data(), host.size() * sizeof(T), 0);
    Backend<Device>::upload(host.data(), t.size(), t.data());
}

// Each rank's training generators (Dropout, augmentation) drawn afresh, at
// the start of each epoch, from the model's generator, which every rank
// shares, and the rank: different numbers on every rank, the same ones in
// every run, and after a resume too, as model files keep the model's
// generator. The model's generator is read, not advanced, so the shuffled
// order stays the one a single process would draw.
template <class T, class Device>
void reseed_generators(const std::vector<LayerPtr<T, Device>>& layers, const Rng& model_rng, int rank) {
    Rng copy = model_rng;
    const std::uint64_t seed = copy.next_u64() ^ 0x6c616d696e612e64ULL;  // not the next shuffle's first draw
    for (std::size_t i = 0; i < layers.size(); ++i)
        if (Rng* g = layers[i]->generator())  // seed() mixes its argument: distinct inputs, unrelated streams
            g->seed(seed ^ (std::uint64_t(i) << 40) ^ std::uint64_t(rank));
}

// The training parameters' gradients, summed over the ranks in buckets.
template <class T, class Device>
class GradientBuckets {
public:
    // Buckets in backward order (last layer first), of at most max_bytes
    // each; a parameter larger than that spans several. `layer_params[i]`
    // is layer i's first parameter in `params`. Parameters not trainable
    // now get no gradient and travel in no bucket.
    void plan(const std::vector<Param<T, Device>*>& params, const std::vector<std::size_t>& layer_params,
              std::size_t max_bytes) {
        buckets_.clear();
        const Index cap = std::max<Index>(1, Index(max_bytes / sizeof(T)));
        Bucket current;
        auto close = [&] {
            if (!current.segments.empty()) buckets_.push_back(std::move(current));
            current = Bucket{};
        };
        for (std::size_t layer = layer_params.size() - 1; layer-- > 0;)
            for (std::size_t k = layer_params[layer]; k < layer_params[layer + 1]; ++k) {
                Param<T, Device>* p = params[k];
                if (!p->trainable) continue;
                for (Index offset = 0; offset < p->grad.size();) {
                    if (current.size == cap) close();
                    const Index n = std::min(p->grad.size() - offset, cap - current.size);
                    current.segments.push_back({p, offset, n});
                    current.size += n;
                    current.first_layer = layer;
                    offset += n;
                }
            }
        close();
        // The last bucket also carries each rank's step status (0 or 1), so
        // a failed step costs no collective of its own.
        if (buckets_.empty()) buckets_.emplace_back();
        for (auto& b : buckets_) b.data.assign(static_cast<std::size_t>(b.size), T(0));
        buckets_.back().data.push_back(T(0));
    }

    // A step's gradients, `weight` = this rank's rows / the batch's rows.
    void begin_step(T weight) {
        weight_ = weight;
        next_ = 0;
    }
    // Backward has finished layer `layer`: start every bucket it completes.
    // The last bucket waits for finish(), which knows the step's status.
    void layer_done(std::size_t layer, Communicator& comm) {
        while (next_ + 1 < buckets_.size() && layer <= buckets_[next_].first_layer)
            start(buckets_[next_++], comm, false);
    }
    // Starts the buckets not started yet (after a failure, with zeros), waits
    // for all, and leaves every rank's gradients equal to the batch's.
    // Returns how many ranks failed this step.
    long long finish(Communicator& comm, bool failed) {
        while (next_ < buckets_.size()) start(buckets_[next_++], comm, failed);
        comm.wait_all();
        const long long failures = static_cast<long long>(buckets_.back().data.back());
        if (failures > 0) return failures;
        for (auto& b : buckets_) {
            Index pos = 0;
            for (const auto& s : b.segments) {
                Backend<Device>::upload(b.data.data() + pos, s.count, s.param->grad.data() + s.offset);
                pos += s.count;
            }
        }
        return 0;
    }
    std::size_t count() const noexcept { return buckets_.size(); }

private:
    struct Segment {
        Param<T, Device>* param;
        Index offset, count;
    };
    struct Bucket {
        std::vector<Segment> segments;
        Index size = 0;
        std::size_t first_layer = 0;  // the lowest layer it holds: ready once backward passed it
        std::vector<T> data;
    };

    void start(Bucket& b, Communicator& comm, bool failed) {
        Index pos = 0;
        for (const auto& s : b.segments) {
            T* dst = b.data.data() + pos;
            if (failed) {
                std::fill(dst, dst + s.count, T(0));
            } else {
                Backend<Device>::download(s.param->grad.data() + s.offset, s.count, dst);
                for (Index i = 0; i < s.count; ++i) dst[i] *= weight_;
            }
            pos += s.count;
        }
        if (&b == &buckets_.back()) b.data.back() = failed ? T(1) : T(0);
        comm.start_allreduce_sum(b.data.data(), b.data.size());
    }

    std::vector<Bucket> buckets_;
    std::size_t next_ = 0;
    T weight_ = T(1);
};

}  // namespace lamina::distributed::detail
