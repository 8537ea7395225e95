// Data-parallel training over MPI: run by mpiexec with 2 ranks (ctest -L mpi).
// Every rank runs every test case; each compares what it trained against a
// model it trains alone, or against the other ranks.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <lamina/distributed/mpi.hpp>
#include <lamina/lamina.hpp>

#include "data_parallel_fixtures.hpp"
#include "matchers.hpp"
#include "temp_dir.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace lamina;
using test::dp::Data;
using test::dp::data;
using test::dp::noisy_model;
using test::dp::plain_model;

namespace {
distributed::Context* g_ctx = nullptr;
distributed::Context& ctx() { return *g_ctx; }

// How many ranks hold weights whose bits differ from rank 0's.
int ranks_differing_from_rank0(const Sequential<float>& m) {
    double differ = 0;
    for (auto w : m.get_weights()) {
        Tensor<float> root = w;
        ctx().broadcast(root.data(), std::size_t(root.size()) * sizeof(float), 0);
        if (std::memcmp(root.data(), w.data(), std::size_t(w.size()) * sizeof(float)) != 0) differ = 1;
    }
    ctx().allreduce_sum(&differ, 1);
    return int(differ);
}
double max_abs_difference(const Sequential<float>& a, const Sequential<float>& b) {
    return test::dp::max_abs_difference(a.get_weights(), b.get_weights());
}
FitOptions<float> options(int epochs, Index batch, bool distributed) {
    return test::dp::options(epochs, batch, distributed ? &ctx() : nullptr);
}
}  // namespace

TEST_CASE("2 ranks with half the batch each train the same weights as 1 process with the whole batch",
          "[mpi][data_parallel]") {
    REQUIRE(ctx().size() >= 2);
    // 249 rows in batches of 32: the last batch (25 rows) splits unevenly,
    // which the gradient weights must take into account.
    const Data d = data(249, 7);
    auto alone = plain_model(3);
    alone.fit(d.x, d.y, options(2, 32, false));
    auto together = plain_model(3);
    const History h = together.fit(d.x, d.y, options(2, 32, true));
    CHECK(max_abs_difference(alone, together) < 2e-5);
    CHECK(ranks_differing_from_rank0(together) == 0);
    // The epoch's loss and accuracy are those of every row, not this rank's.
    const auto single = alone.evaluate(d.x, d.y, 50);
    const auto shared = together.evaluate(d.x, d.y, 50, &ctx());
    CHECK(shared.accuracy() == Approx(single.accuracy()).margin(1.5 / 249));
    CHECK(shared.loss == Approx(single.loss).epsilon(1e-4));
    CHECK(h.history.at("accuracy").size() == 2);
}

TEST_CASE("a synchronised BatchNormalization on 2 ranks trains what 1 process trains with the whole batch",
          "[mpi][data_parallel]") {
    // 97 rows in batches of 32: the last batch of 1 row leaves rank 1 without any.
    const Data d = data(97, 16);
    auto alone = test::dp::synchronized_bn_model(8);
    alone.fit(d.x, d.y, options(2, 32, false));
    auto together = test::dp::synchronized_bn_model(8);
    together.fit(d.x, d.y, options(2, 32, true));
    CHECK(max_abs_difference(alone, together) < 5e-5);
    CHECK(ranks_differing_from_rank0(together) == 0);
}

TEST_CASE("evaluate with a communicator scores every row once and gives every rank the same result",
          "[mpi][data_parallel]") {
    const Data d = data(101, 8);
    auto m = plain_model(4);
    m.build(Shape{1, 6, 6});
    const auto alone = m.evaluate(d.x, d.y, 16);
    const auto shared = m.evaluate(d.x, d.y, 16, &ctx());
    CHECK(shared.accuracy() == alone.accuracy());
    CHECK(shared.loss == Approx(alone.loss).epsilon(1e-6));
}

TEST_CASE("Dropout and augmentation and BatchNormalization: every rank ends with rank 0's weights bit for bit",
          "[mpi][data_parallel]") {
    const Data d = data(200, 9);
    // Ranks built with other seeds start from rank 0's weights all the same.
    auto m = noisy_model(11 + std::uint64_t(ctx().rank()));
    m.fit(d.x, d.y, options(2, 20, true));
    CHECK(ranks_differing_from_rank0(m) == 0);
}

TEST_CASE("a distributed run resumes exactly from a checkpoint that loads in one process", "[mpi][data_parallel]") {
    const Data d = data(160, 10);
    auto straight = noisy_model(5);
    straight.fit(d.x, d.y, options(2, 16, true));

    // Rank 0 writes the file, in its own directory, which it names to the
    // others; they wait for the file, then every rank loads it.
    test::TempDir dir("mpi_resume");
    char path[4096] = {};
    std::snprintf(path, sizeof path, "%s", dir.file("after_one_epoch.lamina").c_str());
    ctx().broadcast(path, sizeof path, 0);
    auto first = noisy_model(5);
    first.fit(d.x, d.y, options(1, 16, true));
    if (ctx().primary()) first.save(path);
    double ready = 0;
    ctx().allreduce_sum(&ready, 1);
    auto resumed = Sequential<float>::load(path);
    auto o = options(2, 16, true);
    o.initial_epoch = resumed.epochs_completed();
    resumed.fit(d.x, d.y, o);
    CHECK(max_abs_difference(straight, resumed) == 0);
}

TEST_CASE("rank 0's callbacks stop training and set the learning rate on every rank", "[mpi][data_parallel]") {
    struct StopAfterOne : Callback {
        void on_epoch_end(TrainingControl& model, int epoch, const Logs&) override {
            model.set_learning_rate(0.001);
            if (epoch == 0) model.stop_training();
        }
    };
    const Data d = data(64, 12);
    auto m = plain_model(6);
    auto o = options(5, 16, true);
    if (ctx().primary()) o.callbacks.push_back(StopAfterOne{});  // only rank 0 has one
    const History h = m.fit(d.x, d.y, o);
    CHECK(h.epoch.size() == 1);
    CHECK(m.learning_rate() == 0.001);
    CHECK(ranks_differing_from_rank0(m) == 0);
}

TEST_CASE("a rank that fails mid-epoch stops every rank with an error", "[mpi][data_parallel][faults]") {
    const Data d = data(96, 13);
    Sequential<float> m("failing", 1);
    m.add(Flatten());
    m.add(std::make_unique<test::dp::FailingLayer>(ctx().rank() == 1, 3));
    m.add(Dense(3));
    m.compile(SGD(0.1), SparseCategoricalCrossentropy(true));
    if (ctx().rank() == 1) {
        CHECK_THROWS_MATCHES(m.fit(d.x, d.y, options(2, 16, true)), NumericError,
                             test::error(ErrorId::numeric_nonfinite, {"made to fail here"}));
    } else {
        CHECK_THROWS_MATCHES(m.fit(d.x, d.y, options(2, 16, true)), DistributedError,
                             test::error(ErrorId::distributed_peer, {"1 of the", "ranks failed in a training step"}));
    }
    // Every rank left fit at the same step: the next collective still pairs up.
    CHECK(ranks_differing_from_rank0(m) == 0);
}

TEST_CASE("ranks that pass different data or options are refused before training", "[mpi][data_parallel][faults]") {
    const Data d = data(64, 14);
    auto m = plain_model(2);
    auto o = options(1, ctx().rank() == 1 ? 8 : 16, true);
    if (ctx().rank() == 1) {
        CHECK_THROWS_MATCHES(m.fit(d.x, d.y, o), DistributedError,
                             test::error(ErrorId::distributed_mismatch, {"batch_size 8 here, 16 on rank 0"}));
    } else {
        CHECK_THROWS_MATCHES(m.fit(d.x, d.y, o), DistributedError,
                             test::error(ErrorId::distributed_peer, {"1 of the", "ranks failed"}));
    }
    // Wrong data on one rank fails its checks, and the others hear of it.
    Tensor<int> y = d.y;
    if (ctx().rank() == 1) y[0] = 7;
    auto bad = plain_model(2);
    if (ctx().rank() == 1) CHECK_THROWS_AS(bad.fit(d.x, y, options(1, 16, true)), ConfigError);
    else CHECK_THROWS_AS(bad.fit(d.x, y, options(1, 16, true)), DistributedError);
}

int main(int argc, char** argv) {
    // A short timeout: a failing check that leaves the ranks out of step
    // ends the run in seconds rather than hanging it.
    distributed::ContextOptions o;
    o.timeout_seconds = 60;
    distributed::Context context(argc, argv, o);
    g_ctx = &context;
    return Catch::Session().run(argc, argv);
}
