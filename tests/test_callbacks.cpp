// EarlyStopping against Keras's semantics, driven through a fake model.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <limits>
#include <memory>
#include <sstream>

#include "matchers.hpp"

using namespace lamina;

namespace {
// Records what the callback asks of the model; "weights" are the epoch number.
struct FakeModel : TrainingControl {
    bool stopped = false;
    int weights = 0;
    void stop_training() override { stopped = true; }
    bool stop_requested() const override { return stopped; }
    double learning_rate() const override { return 0.1; }
    void set_learning_rate(double) override {}
    std::any weights_snapshot() const override { return weights; }
    void restore_weights(const std::any& s) override { weights = std::any_cast<int>(s); }
};

// Feeds `values` as val_loss (or `key`) until the callback stops; returns the stopping epoch.
int drive(EarlyStopping& es, FakeModel& m, const std::vector<double>& values, const std::string& key = "val_loss") {
    es.on_train_begin(m, {});
    for (int e = 0; e < int(values.size()); ++e) {
        m.weights = e;
        es.on_epoch_end(m, e, {{key, values[std::size_t(e)]}, {"loss", 1.0}});
        if (m.stopped) return e;
    }
    return -1;
}
}  // namespace

TEST_CASE("EarlyStopping stops after `patience` epochs without improvement", "[callback][early_stopping]") {
    FakeModel m;
    EarlyStopping es(2);
    CHECK(drive(es, m, {1.0, 0.8, 0.9, 0.85, 0.7}) == 3);
    CHECK(es.best_epoch() == 1);
    CHECK(m.weights == 3);  // no restore requested
}

TEST_CASE("EarlyStopping restores the best epoch's weights", "[callback][early_stopping]") {
    FakeModel m;
    EarlyStopping es(2, /*restore_best_weights=*/true);
    CHECK(drive(es, m, {1.0, 0.5, 0.6, 0.7, 0.1}) == 3);
    CHECK(m.weights == 1);
}

TEST_CASE("EarlyStopping: patience 0, min_delta, max mode for accuracy, start_from_epoch", "[callback][early_stopping]") {
    FakeModel a;
    EarlyStopping immediate(0);
    CHECK(drive(immediate, a, {1.0, 1.0}) == 1);

    FakeModel b;
    EarlyStopping delta(1, false, "val_loss", 0.1);
    CHECK(drive(delta, b, {1.0, 0.95, 0.92}) == 1);  // 0.05 is not an improvement of more than 0.1

    FakeModel c;
    EarlyStopping acc(1, false, "val_accuracy");
    CHECK(drive(acc, c, {0.90, 0.95, 0.97, 0.96, 0.96}, "val_accuracy") == 3);

    FakeModel d;
    EarlyStopping late(0, false, "val_loss", 0, "auto", 3);
    CHECK(drive(late, d, {1.0, 2.0, 3.0, 4.0, 5.0}) == 4);
}

TEST_CASE("EarlyStopping rejects bad arguments and a missing monitor", "[callback][errors]") {
    REQUIRE_THROWS_AS(EarlyStopping(-1), ConfigError);
    REQUIRE_THROWS_AS(EarlyStopping(1, false, "val_loss", 0, "sideways"), ConfigError);
    FakeModel m;
    EarlyStopping es(1, false, "val_los");
    es.on_train_begin(m, {});
    REQUIRE_THROWS_MATCHES(es.on_epoch_end(m, 0, {{"val_loss", 1.0}}), ConfigError,
                           test::error(ErrorId::config_argument, {"'val_los'", "val_loss"}));
}

TEST_CASE("EarlyStopping inside fit ends training and keeps the best weights", "[callback][sequential]") {
    Rng rng(3);
    Tensor<float> x(Shape{200, 4});
    Tensor<int> y(Shape{200});
    for (Index i = 0; i < 200; ++i) {
        y[i] = int(rng.below(2));
        for (Index j = 0; j < 4; ++j) x(i, j) = float(rng.normal(y[i] ? 1 : -1, 3));  // noisy: validation loss turns up
    }
    Sequential<float> model("m", 1);
    model.add(Dense(64, "relu"));
    model.add(Dense(2));
    model.compile(Adam(0.05), SparseCategoricalCrossentropy(true), {"accuracy"});
    auto es = std::make_shared<EarlyStopping>(2, true);
    FitOptions<float> o;
    o.epochs = 60;
    o.verbose = 0;
    o.batch_size = 16;
    o.validation_split = 0.5;
    o.callbacks = {es};
    const History h = model.fit(x, y, o);
    REQUIRE(es->stopped_epoch() >= 0);
    CHECK(int(h.epoch.size()) == es->stopped_epoch() + 1);
    const auto& val = h.history.at("val_loss");
    CHECK(*std::min_element(val.begin(), val.end()) == Approx(val[std::size_t(es->best_epoch())]));
    // The restored weights reproduce the best epoch's validation loss.
    auto [loss, acc] = model.evaluate(x.slice_rows(100, 100), y.slice_rows(100, 100));
    CHECK(loss == Approx(val[std::size_t(es->best_epoch())]).epsilon(1e-5));
    CHECK(acc > 0.5);
}

TEST_CASE("TerminateOnNaN stops training at the first batch whose loss is not finite", "[callback][nan]") {
    FakeModel m;
    std::ostringstream out;
    TerminateOnNaN t(&out);
    t.on_train_begin(m, {});
    t.on_train_batch_end(m, 0, {{"loss", 0.5}});
    t.on_train_batch_end(m, 1, {{"loss", 1e30}});
    CHECK_FALSE(m.stopped);
    t.on_train_batch_end(m, 2, {{"loss", std::numeric_limits<double>::quiet_NaN()}});
    CHECK(m.stopped);
    CHECK(t.terminated());
    CHECK(t.batch() == 2);
    CHECK(out.str() == "Batch 2: Invalid loss, terminating training\n");

    // In a real fit: a learning rate this large sends the loss to infinity/NaN.
    Sequential<float> model("diverges", 1);
    model.add(Dense(8, Activation::ReLU));
    model.add(Dense(1));
    model.compile(SGD(1e6), MeanSquaredError());
    Tensor<float> x(Shape{64, 4}, 1.0f), y(Shape{64, 1}, 3.0f);
    for (Index i = 0; i < x.size(); ++i) x[i] = float(i % 7) - 3.0f;
    auto stop = std::make_shared<TerminateOnNaN>(nullptr);
    FitOptions<float> o;
    o.epochs = 50;
    o.batch_size = 8;
    o.verbose = 0;
    o.callbacks = {stop};
    const History h = model.fit(x, y, o);
    CHECK(stop->terminated());
    CHECK(h.epoch.size() < 50);
}
