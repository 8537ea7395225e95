// Data-parallel fit and evaluate (FitOptions::distributed), with the ranks
// as threads of this process (thread_group.hpp): the sharing of batches, the
// gradient sums, rank 0's callbacks and the failure paths, without MPI.
// tests/mpi/ runs the same over MPI with 2 processes.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include "data_parallel_fixtures.hpp"
#include "matchers.hpp"
#include "temp_dir.hpp"
#include "thread_group.hpp"

#include <cstring>
#include <string>
#include <vector>

using namespace lamina;

using namespace test::dp;

namespace {
void require_no_errors(const std::vector<std::exception_ptr>& errors) {
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}
}  // namespace

TEST_CASE("share: near-equal rows per rank, in rank order, the first ranks one more", "[distributed]") {
    using distributed::detail::share;
    const auto a = share(26, 0, 3), b = share(26, 1, 3), c = share(26, 2, 3);
    CHECK((a.offset == 0 && a.count == 9));
    CHECK((b.offset == 9 && b.count == 9));
    CHECK((c.offset == 18 && c.count == 8));
    CHECK(share(2, 2, 3).count == 0);
    CHECK(share(64, 1, 2).offset == 32);
}

TEST_CASE("fit over 3 ranks trains what 1 process trains with the whole batch, every rank the same bits",
          "[distributed]") {
    const Data d = data(250, 7);
    // 32: uneven shares in the last batch (26 rows: 9, 9, 8). 2: the third
    // rank never gets a row. Buckets of 1 KB: parameters span several.
    for (const Index batch : {Index(32), Index(2)}) {
        CAPTURE(batch);
        auto alone = plain_model(3);
        alone.fit(d.x, d.y, options(2, batch));
        test::ThreadGroup group(3);
        std::vector<Weights> weights(3);
        std::vector<History> histories(3);
        require_no_errors(group.run(
            [&](distributed::Communicator& comm) {
                // Other seeds on the other ranks: rank 0's weights are the start.
                auto m = plain_model(3 + std::uint64_t(comm.rank()));
                histories[std::size_t(comm.rank())] = m.fit(d.x, d.y, options(2, batch, &comm));
                weights[std::size_t(comm.rank())] = m.get_weights();
            },
            1024));
        CHECK(max_abs_difference(alone.get_weights(), weights[0]) < 2e-5);
        CHECK(max_abs_difference(alone.get_weights(), weights[0]) > 0);  // the sums do round differently
        CHECK(same_bits(weights[0], weights[1]));
        CHECK(same_bits(weights[0], weights[2]));
        // The epoch's accuracy counts every row once.
        const double acc = histories[1].history.at("accuracy").back();
        CHECK(acc == histories[0].history.at("accuracy").back());
        CHECK(acc * 250 == Approx(std::round(acc * 250)).margin(1e-6));
    }
}

TEST_CASE("a synchronised BatchNormalization over 3 ranks trains what 1 process trains with the whole batch",
          "[distributed][batch_normalization]") {
    // The whole batch's statistics in training, on conv maps and on flat
    // features. 130 rows in batches of 32 end with a batch of 2 rows: the
    // third rank has none, and must still join the exchanges. (Batches of
    // 2 throughout would leave training chaotic enough that rounding alone
    // makes one process and three ranks part within an epoch.)
    const Data d = data(130, 15);
    auto alone = synchronized_bn_model(8);
    alone.fit(d.x, d.y, options(2, 32));
    test::ThreadGroup group(3);
    std::vector<Weights> weights(3);
    require_no_errors(group.run([&](distributed::Communicator& comm) {
        auto m = synchronized_bn_model(8);
        m.fit(d.x, d.y, options(2, 32, &comm));
        weights[std::size_t(comm.rank())] = m.get_weights();
    }));
    // Moving statistics included: every rank updated them from the same global moments.
    CHECK(max_abs_difference(alone.get_weights(), weights[0]) < 5e-5);
    CHECK(same_bits(weights[0], weights[1]));
    CHECK(same_bits(weights[0], weights[2]));

    // Without synchronisation each rank normalises its own rows: other weights.
    auto unsynced = [](std::uint64_t seed) {
        Sequential<float> m("bn", seed);
        m.add(Conv2D(4, 3));
        m.add(BatchNormalization());
        m.add(Activation("relu"));
        m.add(Flatten());
        m.add(Dense(3));
        m.compile(SGD(0.05, 0.9), SparseCategoricalCrossentropy(true));
        return m;
    };
    auto unsynced_alone = unsynced(8);
    unsynced_alone.fit(d.x, d.y, options(1, 32));
    test::ThreadGroup pair(2);
    Weights rank0;
    require_no_errors(pair.run([&](distributed::Communicator& comm) {
        auto m = unsynced(8);
        m.fit(d.x, d.y, options(1, 32, &comm));
        if (comm.primary()) rank0 = m.get_weights();
    }));
    CHECK(max_abs_difference(unsynced_alone.get_weights(), rank0) > 1e-4);
}

TEST_CASE("evaluate with a communicator scores each rank's rows once, the whole set's result on every rank",
          "[distributed]") {
    const Data d = data(101, 8);
    auto m = plain_model(4);
    m.build(Shape{1, 6, 6});
    const auto alone = m.evaluate(d.x, d.y, 16);
    test::ThreadGroup group(2);
    std::vector<Evaluation> results(2);
    require_no_errors(group.run([&](distributed::Communicator& comm) {
        auto mine = plain_model(4);
        mine.build(Shape{1, 6, 6});
        results[std::size_t(comm.rank())] = mine.evaluate(d.x, d.y, 16, &comm);
    }));
    for (const auto& r : results) {
        CHECK(r.accuracy() == alone.accuracy());
        CHECK(r.loss == Approx(alone.loss).epsilon(1e-6));
    }
}

TEST_CASE("Dropout, augmentation and BatchNormalization draw per rank and end the same on every rank",
          "[distributed]") {
    const Data d = data(120, 9);
    test::ThreadGroup group(2);
    std::vector<Weights> weights(2);
    require_no_errors(group.run([&](distributed::Communicator& comm) {
        auto m = noisy_model(11);
        m.fit(d.x, d.y, options(2, 20, &comm));
        weights[std::size_t(comm.rank())] = m.get_weights();
    }));
    CHECK(same_bits(weights[0], weights[1]));
    // One process draws other masks than two ranks do: the weights differ.
    auto alone = noisy_model(11);
    alone.fit(d.x, d.y, options(2, 20));
    CHECK(max_abs_difference(alone.get_weights(), weights[0]) > 1e-4);
}

TEST_CASE("a distributed fit resumes exactly from rank 0's model file", "[distributed]") {
    const Data d = data(96, 10);
    test::TempDir dir("data_parallel_resume");
    const std::string path = dir.file("epoch1.lamina");
    test::ThreadGroup group(2);
    std::vector<Weights> straight(2), resumed(2);
    require_no_errors(group.run([&](distributed::Communicator& comm) {
        const auto r = std::size_t(comm.rank());
        auto a = noisy_model(5);
        a.fit(d.x, d.y, options(2, 16, &comm));
        straight[r] = a.get_weights();
        auto b = noisy_model(5);
        b.fit(d.x, d.y, options(1, 16, &comm));
        if (comm.primary()) b.save(path);
        double written = 0;
        comm.allreduce_sum(&written, 1);  // rank 0 has written the file
        auto c = Sequential<float>::load(path);
        auto o = options(2, 16, &comm);
        o.initial_epoch = c.epochs_completed();
        c.fit(d.x, d.y, o);
        resumed[r] = c.get_weights();
    }));
    CHECK(same_bits(straight[0], resumed[0]));
    CHECK(same_bits(straight[1], resumed[1]));
}

TEST_CASE("rank 0's callbacks stop training and set the learning rate on every rank", "[distributed]") {
    struct StopAfterOne : Callback {
        void on_epoch_end(TrainingControl& model, int epoch, const Logs&) override {
            model.set_learning_rate(0.001);
            if (epoch == 0) model.stop_training();
        }
    };
    const Data d = data(64, 12);
    test::ThreadGroup group(2);
    std::vector<double> rates(2);
    std::vector<std::size_t> epochs(2);
    require_no_errors(group.run([&](distributed::Communicator& comm) {
        auto m = plain_model(6);
        auto o = options(5, 16, &comm);
        if (comm.primary()) o.callbacks.push_back(StopAfterOne{});
        epochs[std::size_t(comm.rank())] = m.fit(d.x, d.y, o).epoch.size();
        rates[std::size_t(comm.rank())] = m.learning_rate();
    }));
    CHECK(epochs == std::vector<std::size_t>{1, 1});
    CHECK(rates == std::vector<double>{0.001, 0.001});
}

TEST_CASE("a rank that throws in a step, or in rank 0's callback, stops every rank with an error",
          "[distributed][errors]") {
    const Data d = data(96, 13);
    test::ThreadGroup group(3);
    auto errors = group.run([&](distributed::Communicator& comm) {
        Sequential<float> m("failing", 1);
        m.add(Flatten());
        m.add(std::make_unique<FailingLayer>(comm.rank() == 1, 3));
        m.add(Dense(3));
        m.compile(SGD(0.1), SparseCategoricalCrossentropy(true));
        m.fit(d.x, d.y, options(2, 16, &comm));
    });
    CHECK_THROWS_MATCHES(std::rethrow_exception(errors[1]), NumericError,
                         test::error(ErrorId::numeric_nonfinite, {"made to fail here"}));
    for (const std::size_t r : {0, 2})
        CHECK_THROWS_MATCHES(std::rethrow_exception(errors[r]), DistributedError,
                             test::error(ErrorId::distributed_peer, {"1 of the 3 ranks failed in a training step"}));

    struct Throws : Callback {
        void on_epoch_end(TrainingControl&, int, const Logs&) override {
            throw IoError(ErrorId::io_write, "callback: the disk is full");
        }
    };
    errors = group.run([&](distributed::Communicator& comm) {
        auto m = plain_model(1);
        auto o = options(3, 16, &comm);
        if (comm.primary()) o.callbacks.push_back(Throws{});
        m.fit(d.x, d.y, o);
    });
    CHECK_THROWS_MATCHES(std::rethrow_exception(errors[0]), IoError,
                         test::error(ErrorId::io_write, {"the disk is full"}));
    CHECK_THROWS_MATCHES(std::rethrow_exception(errors[1]), DistributedError,
                         test::error(ErrorId::distributed_peer, {"a callback failed on rank 0"}));
}

TEST_CASE("ranks that pass different options, models or data are refused before training", "[distributed][errors]") {
    const Data d = data(64, 14);
    test::ThreadGroup group(2);
    auto errors = group.run([&](distributed::Communicator& comm) {
        auto m = plain_model(2);
        m.fit(d.x, d.y, options(1, comm.rank() == 1 ? 8 : 16, &comm));
    });
    CHECK_THROWS_MATCHES(std::rethrow_exception(errors[1]), DistributedError,
                         test::error(ErrorId::distributed_mismatch, {"rank 1", "batch_size 8 here, 16 on rank 0"}));
    CHECK_THROWS_MATCHES(std::rethrow_exception(errors[0]), DistributedError,
                         test::error(ErrorId::distributed_peer, {"1 of the 2 ranks failed"}));

    errors = group.run([&](distributed::Communicator& comm) {
        Sequential<float> m("other", 1);
        m.add(Flatten());
        m.add(Dense(comm.rank() == 1 ? 5 : 4));
        m.add(Dense(3));
        m.compile(SGD(0.1), SparseCategoricalCrossentropy(true));
        m.fit(d.x, d.y, options(1, 16, &comm));
    });
    CHECK_THROWS_MATCHES(std::rethrow_exception(errors[1]), DistributedError,
                         test::error(ErrorId::distributed_mismatch, {"parameter arrays and sizes"}));

    // A label out of range on one rank only: its own check fails, the other hears of it.
    errors = group.run([&](distributed::Communicator& comm) {
        Tensor<int> y = d.y;
        if (comm.rank() == 1) y[0] = 7;
        auto m = plain_model(2);
        m.fit(d.x, y, options(1, 16, &comm));
    });
    CHECK_THROWS_AS(std::rethrow_exception(errors[1]), ConfigError);
    CHECK_THROWS_MATCHES(std::rethrow_exception(errors[0]), DistributedError,
                         test::error(ErrorId::distributed_peer, {"fit: 1 of the 2 ranks failed"}));
}

TEST_CASE("model files keep a BatchNormalization's synchronisation, and other layers' configs without the key",
          "[distributed][batch_normalization][model_file]") {
    Sequential<float> m("saved", 1);
    m.add(Flatten());
    m.add(Dense(4));
    m.add(BatchNormalization().synchronize_statistics());
    m.add(BatchNormalization());
    m.compile(SGD(0.1), SparseCategoricalCrossentropy(true));
    m.build(Shape{1, 6, 6});
    test::TempDir dir("sync_bn_file");
    const std::string path = dir.file("m.lamina");
    m.save(path);
    const auto loaded = Sequential<float>::load(path);
    auto has_key = [](const LayerConfig& c) {
        for (const auto& [k, v] : c)
            if (k == "synchronized") return v == "true";
        return false;
    };
    CHECK(has_key(loaded.layer(2).config()));
    CHECK_FALSE(has_key(loaded.layer(3).config()));
    CHECK(loaded.layer(3).config().size() == 5);  // momentum, epsilon, center, scale, trainable: as before
}
