// The callbacks against Keras's semantics, driven through a fake model, and
// inside real fits.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "matchers.hpp"
#include "temp_dir.hpp"

using namespace lamina;

namespace {
// Records what the callback asks of the model; "weights" are the epoch number.
struct FakeModel : TrainingControl {
    bool stopped = false;
    int weights = 0;
    void stop_training() override { stopped = true; }
    bool stop_requested() const override { return stopped; }
    double lr = 0.1;
    std::vector<double> lr_set;  // every set_learning_rate value, in order
    double learning_rate() const override { return lr; }
    void set_learning_rate(double v) override {
        // As lamina's optimizers: a callback must never hand them a rate <= 0.
        if (!(v > 0)) throw ConfigError(ErrorId::config_argument, "FakeModel: learning_rate must be > 0");
        lr = v;
        lr_set.push_back(v);
    }
    std::any weights_snapshot() const override { return weights; }
    void restore_weights(const std::any& s) override { weights = std::any_cast<int>(s); }
    mutable std::vector<std::pair<std::string, bool>> saves;  // (path, weights_only) per save_model call
    void save_model(const std::string& path, bool weights_only) const override {
        saves.emplace_back(path, weights_only);
    }
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

TEST_CASE("EarlyStopping: patience 0, min_delta, max mode for accuracy, start_from_epoch",
          "[callback][early_stopping]") {
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

    // A second fit starts afresh: the first run's best does not carry over.
    FakeModel e, f;
    EarlyStopping reused(1);
    CHECK(drive(reused, e, {0.5, 0.6, 0.7}) == 1);
    CHECK(drive(reused, f, {1.0, 1.1, 1.2}) == 1);
    CHECK(reused.best() == 1.0);
    CHECK(reused.best_epoch() == 0);
}

TEST_CASE("EarlyStopping takes Keras's keyword arguments: verbose prints, baseline gates the patience",
          "[callback][early_stopping]") {
    FakeModel m;
    std::ostringstream out;
    EarlyStoppingOptions o;
    o.patience = 2;
    o.verbose = 1;
    o.restore_best_weights = true;
    EarlyStopping es(o, &out);
    CHECK(drive(es, m, {1.0, 0.5, 0.6, 0.7, 0.1}) == 3);
    es.on_train_end(m, {});
    CHECK(m.weights == 1);
    CHECK(out.str() == "Restoring model weights from the end of the best epoch: 2.\nEpoch 4: early stopping\n");

    std::ostringstream silent_out;
    FakeModel quiet_model;
    EarlyStopping silent(EarlyStoppingOptions{"val_loss", 0, 2, 0, "auto", std::nullopt, true, 0}, &silent_out);
    drive(silent, quiet_model, {1.0, 0.5, 0.6, 0.7, 0.1});
    silent.on_train_end(quiet_model, {});
    CHECK(silent_out.str().empty());

    // Improvements that stay above the baseline of 0.3 do not reset the
    // wait: training stops an epoch earlier than without a baseline.
    EarlyStoppingOptions with_baseline;
    with_baseline.patience = 2;
    with_baseline.baseline = 0.3;
    FakeModel b, b2;
    EarlyStopping gated(with_baseline), ungated(2);
    CHECK(drive(gated, b, {1.0, 0.9, 0.95, 0.95, 0.95}) == 2);
    CHECK(gated.best() == 0.9);
    CHECK(drive(ungated, b2, {1.0, 0.9, 0.95, 0.95, 0.95}) == 3);
    FakeModel c;
    EarlyStopping passed(with_baseline);
    CHECK(drive(passed, c, {0.29, 0.28, 0.285, 0.285, 0.285}) == 3);

    // The positional form takes verbose last.
    std::ostringstream positional_out;
    FakeModel d;
    EarlyStopping positional(EarlyStoppingOptions{"val_loss", 0, 0, 1, "auto", std::nullopt, false, 0},
                             &positional_out);
    CHECK(drive(positional, d, {1.0, 2.0}) == 1);
    positional.on_train_end(d, {});
    CHECK(positional_out.str() == "Epoch 2: early stopping\n");
    REQUIRE_THROWS_MATCHES(EarlyStopping(1, false, "val_loss", 0, "auto", 0, 3), ConfigError,
                           test::error(ErrorId::config_argument, {"verbose"}));
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

namespace {
// Everything written to std::cout while it lives.
class CoutCapture {
public:
    CoutCapture() : old_(std::cout.rdbuf(out_.rdbuf())) {}
    ~CoutCapture() { std::cout.rdbuf(old_); }
    CoutCapture(const CoutCapture&) = delete;
    CoutCapture& operator=(const CoutCapture&) = delete;
    std::string str() const { return out_.str(); }

private:
    std::ostringstream out_;
    std::streambuf* old_;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts(1);
    for (const char c : s) {
        if (c == sep) parts.emplace_back();
        else parts.back() += c;
    }
    return parts;
}

// Feeds `values` as `key` to a ReduceLROnPlateau; returns the fake model's rate after each epoch.
std::vector<double> plateau(ReduceLROnPlateau& r, const std::vector<double>& values,
                            const std::string& key = "val_loss") {
    FakeModel m;
    r.on_train_begin(m, {});
    std::vector<double> rates;
    for (int e = 0; e < int(values.size()); ++e) {
        r.on_epoch_end(m, e, {{key, values[std::size_t(e)]}, {"loss", 1.0}});
        rates.push_back(m.lr);
    }
    return rates;
}

void check_rates(const std::vector<double>& got, const std::vector<double>& expected) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("epoch " << i);
        CHECK(got[i] == Approx(expected[i]).epsilon(1e-12));
    }
}
}  // namespace

TEST_CASE("After TerminateOnNaN the progress line shows the step where training stopped and nan", "[callback][nan]") {
    Sequential<float> model("diverges", 1);
    model.add(Dense(8, Activation::ReLU));
    model.add(Dense(1));
    model.compile(SGD(1e30), MeanSquaredError());
    Tensor<float> x(Shape{1600, 4}), y(Shape{1600, 1}, 3.0f);
    for (Index i = 0; i < x.size(); ++i) x[i] = float(i % 7) - 3.0f;
    auto stop = std::make_shared<TerminateOnNaN>(nullptr);
    FitOptions<float> o;
    o.batch_size = 8;  // 200 steps
    o.verbose = 2;
    o.callbacks = {stop};
    std::string printed;
    {
        CoutCapture capture;
        model.fit(x, y, o);
        printed = capture.str();
    }
    REQUIRE(stop->terminated());
    REQUIRE(stop->batch() < 199);
    const std::string steps = std::to_string(stop->batch() + 1) + "/200";
    INFO(printed);
    CHECK_THAT(printed, Catch::Contains(steps + " - "));
    CHECK_THAT(printed, !Catch::Contains("200/200"));
    CHECK_THAT(printed, Catch::Contains("loss: nan") || Catch::Contains("loss: inf"));
    CHECK_THAT(printed, !Catch::Contains("-nan"));
}

// ---- Monitor (shared by EarlyStopping, ModelCheckpoint, ReduceLROnPlateau) ----

TEST_CASE("Monitor picks the direction from the mode and the key, and reports a missing key", "[callback][monitor]") {
    CHECK_FALSE(Monitor("T", "val_loss", "auto").maximize());
    CHECK(Monitor("T", "val_accuracy", "auto").maximize());
    CHECK(Monitor("T", "auc", "auto").maximize());
    CHECK(Monitor("T", "val_loss", "max").maximize());
    CHECK_FALSE(Monitor("T", "accuracy", "min").maximize());

    Monitor m("T", "val_loss", "min", 0.1);
    CHECK(m.best() == std::numeric_limits<double>::infinity());
    CHECK(m.improves(1.0));
    m.set_best(1.0);
    CHECK_FALSE(m.improves(0.95));  // within min_delta
    CHECK(m.improves(0.85));
    CHECK_FALSE(m.improves(std::numeric_limits<double>::quiet_NaN()));
    m.reset();
    CHECK(m.best() == std::numeric_limits<double>::infinity());

    Monitor acc("T", "val_accuracy", "auto", 0.0, 0.9);  // baseline
    CHECK(acc.best() == 0.9);
    CHECK_FALSE(acc.improves(0.9));
    CHECK(acc.improves(0.91));

    CHECK(m.value({{"val_loss", 0.5}}) == 0.5);
    REQUIRE_THROWS_MATCHES(m.value({{"loss", 0.5}, {"accuracy", 0.7}}), ConfigError,
                           test::error(ErrorId::config_argument, {"T: monitor 'val_loss'", "(accuracy, loss)"}));
    REQUIRE_THROWS_MATCHES(Monitor("T", "loss", "up"), ConfigError,
                           test::error(ErrorId::config_argument, {"T: mode", "'up'"}));
    REQUIRE_THROWS_MATCHES(Monitor("T", "loss", "min", -0.5), ConfigError,
                           test::error(ErrorId::config_argument, {"min_delta", "-0.5"}));
    REQUIRE_THROWS_MATCHES(Monitor("T", "loss", "min", 0.0, std::numeric_limits<double>::quiet_NaN()), ConfigError,
                           test::error(ErrorId::config_argument, {"nan"}));
}

// ---- format_filepath ----

TEST_CASE("format_filepath fills {epoch} (1-based) and log keys as Python's str.format", "[callback][checkpoint]") {
    const Logs logs{{"loss", 0.1 + 0.2}, {"val_loss", 0.123456}, {"accuracy", 0.5}, {"neg", -1.5}, {"tiny", 1.5e-7}};
    // Expected strings are what Python 3 prints for the same format.
    CHECK(format_filepath("ckpt-{epoch:02d}-{val_loss:.4f}.lamina", 4, logs) == "ckpt-05-0.1235.lamina");
    CHECK(format_filepath("{epoch}", 0, logs) == "1");
    CHECK(format_filepath("{epoch}", 11, logs) == "12");
    CHECK(format_filepath("{epoch:03}|{epoch:4d}|{epoch:.2f}|{epoch:e}|{epoch:g}", 6, logs) ==
          "007|   7|7.00|7.000000e+00|7");
    CHECK(format_filepath("{loss}", 0, logs) == "0.30000000000000004");
    CHECK(format_filepath("{tiny}|{accuracy}", 0, logs) == "1.5e-07|0.5");
    CHECK(format_filepath("{loss:.2e}|{tiny:.2e}", 0, logs) == "3.00e-01|1.50e-07");
    CHECK(format_filepath("{val_loss:.3}|{accuracy:.3}|{val_loss:.3g}", 0, logs) == "0.123|0.5|0.123");
    CHECK(format_filepath("{one:.3}|{one:.3g}|{big:.3}|{big:.4}", 0, {{"one", 1.0}, {"big", 100.0}}) ==
          "1.0|1|1e+02|100.0");
    CHECK(format_filepath("{neg:08.2f}|{neg:8.2f}|{accuracy:f}", 0, logs) == "-0001.50|   -1.50|0.500000");
    CHECK(format_filepath("{{epoch}}-{{{epoch}}}", 2, logs) == "{epoch}-{3}");
    CHECK(format_filepath("no fields.lamina", 2, logs) == "no fields.lamina");
    CHECK(format_filepath("{nan:.2f}-{inf}", 0,
                          {{"nan", std::nan("")}, {"inf", -std::numeric_limits<double>::infinity()}}) == "nan--inf");
    // Python's str(): fixed notation up to 1e16, shortest round-trip digits.
    CHECK(detail::python_str(1e16) == "1e+16");
    CHECK(detail::python_str(1e15) == "1000000000000000.0");
    CHECK(detail::python_str(123.0) == "123.0");
    CHECK(detail::python_str(0.0001) == "0.0001");
    CHECK(detail::python_str(1e-5) == "1e-05");
    CHECK(detail::python_str(-0.0) == "-0.0");
    CHECK(detail::python_str(1.7976931348623157e308) == "1.7976931348623157e+308");
}

TEST_CASE("format_filepath rejects unknown keys, unsupported specs and unbalanced braces",
          "[callback][checkpoint][errors]") {
    const Logs logs{{"loss", 0.5}, {"val_loss", 0.25}};
    REQUIRE_THROWS_MATCHES(
        format_filepath("ckpt-{val_los:.2f}", 0, logs), ConfigError,
        test::error(ErrorId::config_argument, {"'ckpt-{val_los:.2f}'", "{val_los}", "epoch, loss, val_loss"}));
    const auto rejects = [&](const std::string& pattern, const std::string& why) {
        INFO(pattern);
        REQUIRE_THROWS_MATCHES(format_filepath(pattern, 0, logs), ConfigError,
                               test::error(ErrorId::config_argument, {"'" + pattern + "'", why}));
    };
    rejects("{loss:d}", "'d' needs an integer");
    rejects("{epoch:.2d}", "no precision");
    rejects("{epoch:.2}", "no precision");
    rejects("{loss:>8}", "unsupported spec ':>8'");
    rejects("{loss:+.2f}", "unsupported spec");
    rejects("{loss:.2x}", "unsupported spec");
    rejects("{loss:.f}", "not followed by a precision");
    rejects("{loss:1234}", "more than three digits");
    rejects("{loss!r}", "conversions");
    rejects("ckpt-{}", "without a name");
    rejects("ckpt-{epoch", "not closed");
    rejects("ckpt-{epoch:{w}}", "not closed");
    rejects("ckpt-}", "single '}'");
    rejects("ckpt-{epoch}}", "single '}'");
}

// ---- ModelCheckpoint ----

TEST_CASE("ModelCheckpoint saves every epoch to the formatted path", "[callback][checkpoint]") {
    FakeModel m;
    ModelCheckpoint ckpt("ckpt-{epoch:02d}-{loss:.2f}.lamina");
    ckpt.on_train_begin(m, {});
    for (int e = 0; e < 3; ++e) ckpt.on_epoch_end(m, e, {{"loss", 1.0 / (e + 1)}});
    REQUIRE(m.saves.size() == 3);
    CHECK(m.saves[0] == std::make_pair(std::string("ckpt-01-1.00.lamina"), false));
    CHECK(m.saves[1] == std::make_pair(std::string("ckpt-02-0.50.lamina"), false));
    CHECK(m.saves[2] == std::make_pair(std::string("ckpt-03-0.33.lamina"), false));
    CHECK(ckpt.saves() == 3);
    CHECK(ckpt.last_path() == "ckpt-03-0.33.lamina");

    FakeModel w;
    ModelCheckpoint weights("w.lamina", "val_loss", 0, false, /*save_weights_only=*/true);
    weights.on_epoch_end(w, 0, {{"loss", 1.0}});  // no val_loss needed when every epoch is saved
    REQUIRE(w.saves.size() == 1);
    CHECK(w.saves[0] == std::make_pair(std::string("w.lamina"), true));
}

TEST_CASE("ModelCheckpoint with save_best_only saves improvements only, in min and max mode",
          "[callback][checkpoint]") {
    const auto saved_epochs = [](ModelCheckpoint& c, const std::vector<double>& values, const std::string& key) {
        FakeModel m;
        c.on_train_begin(m, {});
        for (int e = 0; e < int(values.size()); ++e)
            c.on_epoch_end(m, e, {{key, values[std::size_t(e)]}, {"loss", 9.0}});
        std::vector<std::string> paths;
        for (const auto& [path, weights_only] : m.saves) paths.push_back(path);
        return paths;
    };
    using V = std::vector<std::string>;

    ModelCheckpoint loss("e{epoch}", "val_loss", 0, true);
    CHECK(saved_epochs(loss, {1.0, 0.8, 0.8, 0.9, 0.5}, "val_loss") == V{"e1", "e2", "e5"});  // equal is no improvement
    CHECK(loss.best() == 0.5);

    ModelCheckpoint acc("e{epoch}", "val_accuracy", 0, true);  // auto: max for accuracy
    CHECK(saved_epochs(acc, {0.5, 0.7, 0.6, 0.7, 0.9}, "val_accuracy") == V{"e1", "e2", "e5"});

    ModelCheckpoint max("e{epoch}", "score", 0, true, false, "max");
    CHECK(saved_epochs(max, {3, 1, 4, 1, 5}, "score") == V{"e1", "e3", "e5"});
    ModelCheckpoint min("e{epoch}", "score", 0, true, false, "min");
    CHECK(saved_epochs(min, {3, 1, 4, 1, 5}, "score") == V{"e1", "e2"});

    ModelCheckpoint threshold("e{epoch}", "val_loss", 0, true, false, "auto", "epoch", 0.7);
    CHECK(saved_epochs(threshold, {1.0, 0.8, 0.6, 0.65, 0.5}, "val_loss") == V{"e3", "e5"});

    // As in Keras, the best value outlives fit(): a second run saves only what beats it.
    CHECK(saved_epochs(loss, {0.7, 0.4, 0.45}, "val_loss") == V{"e2"});
    CHECK(loss.saves() == 4);
}

TEST_CASE("ModelCheckpoint verbose 1 prints Keras's messages", "[callback][checkpoint]") {
    FakeModel m;
    ModelCheckpoint best("best.lamina", "val_loss", 1, true);
    ModelCheckpoint every("e{epoch}.lamina", "val_loss", 1);
    CoutCapture out;
    best.on_epoch_end(m, 0, {{"val_loss", 0.5}});
    best.on_epoch_end(m, 1, {{"val_loss", 0.6}});
    best.on_epoch_end(m, 2, {{"val_loss", 0.25}});
    every.on_epoch_end(m, 0, {{"val_loss", 0.5}});
    CHECK(out.str() ==
          "\nEpoch 1: val_loss improved from inf to 0.50000, saving model to best.lamina\n"
          "\nEpoch 1: finished saving model to best.lamina\n"
          "\nEpoch 2: val_loss did not improve from 0.50000\n"
          "\nEpoch 3: val_loss improved from 0.50000 to 0.25000, saving model to best.lamina\n"
          "\nEpoch 3: finished saving model to best.lamina\n"
          "\nEpoch 1: saving model to e1.lamina\n"
          "\nEpoch 1: finished saving model to e1.lamina\n");
}

TEST_CASE("ModelCheckpoint creates the checkpoint's directory", "[callback][checkpoint]") {
    test::TempDir dir("callbacks");
    FakeModel m;
    ModelCheckpoint ckpt(dir.file("run/e{epoch}/model.lamina"));
    ckpt.on_epoch_end(m, 1, {{"loss", 1.0}});
    REQUIRE(m.saves.size() == 1);
    CHECK(m.saves[0].first == dir.file("run/e2/model.lamina"));
    CHECK(std::filesystem::is_directory(dir.path() / "run" / "e2"));

    std::ofstream(dir.file("blocker")) << "a file, not a directory";
    ModelCheckpoint blocked(dir.file("blocker/model.lamina"));
    REQUIRE_THROWS_MATCHES(blocked.on_epoch_end(m, 0, {{"loss", 1.0}}), IoError,
                           test::error(ErrorId::io_write, {"blocker", "model.lamina"}));
    CHECK(m.saves.size() == 1);
}

TEST_CASE("ModelCheckpoint rejects bad arguments, patterns and a missing monitor", "[callback][checkpoint][errors]") {
    REQUIRE_THROWS_MATCHES(ModelCheckpoint("m.lamina", "val_loss", 0, false, false, "auto", "batch"), ConfigError,
                           test::error(ErrorId::config_argument, {"save_freq", "'batch'"}));
    REQUIRE_THROWS_MATCHES(ModelCheckpoint("m.lamina", "val_loss", 0, true, false, "largest"), ConfigError,
                           test::error(ErrorId::config_argument, {"ModelCheckpoint: mode", "'largest'"}));
    REQUIRE_THROWS_MATCHES(ModelCheckpoint(""), ConfigError, test::error(ErrorId::config_argument, {"filepath"}));
    // Syntax is checked at construction, before any training.
    REQUIRE_THROWS_MATCHES(ModelCheckpoint("m-{epoch.lamina"), ConfigError,
                           test::error(ErrorId::config_argument, {"ModelCheckpoint", "'m-{epoch.lamina'"}));
    REQUIRE_THROWS_MATCHES(ModelCheckpoint("m-{loss:d}.lamina"), ConfigError,
                           test::error(ErrorId::config_argument, {"'d' needs an integer"}));

    FakeModel m;
    ModelCheckpoint best("m.lamina", "val_los", 0, true);
    REQUIRE_THROWS_MATCHES(
        best.on_epoch_end(m, 0, {{"loss", 1.0}, {"val_loss", 1.0}}), ConfigError,
        test::error(ErrorId::config_argument, {"ModelCheckpoint: monitor 'val_los'", "loss, val_loss"}));
    ModelCheckpoint named("m-{val_accuracy:.2f}.lamina");
    REQUIRE_THROWS_MATCHES(named.on_epoch_end(m, 0, {{"loss", 1.0}}), ConfigError,
                           test::error(ErrorId::config_argument, {"{val_accuracy}", "epoch, loss"}));
    CHECK(m.saves.empty());
}

// ---- CSVLogger ----

TEST_CASE("CSVLogger writes a header of sorted keys, then one flushed row per epoch", "[callback][csv]") {
    test::TempDir dir("callbacks");
    const std::string path = dir.file("log.csv");
    FakeModel m;
    CSVLogger csv(path);
    csv.on_train_begin(m, {});
    csv.on_epoch_end(m, 0, {{"val_loss", 0.5}, {"loss", 0.1 + 0.2}, {"accuracy", 0.75}});
    // Readable before training ends: flushed after every epoch.
    CHECK(read_text(path) == "epoch,accuracy,loss,val_loss\n0,0.75,0.30000000000000004,0.5\n");
    // Columns are fixed by the first epoch: a missing key is NA, a new one is not written.
    csv.on_epoch_end(m, 1, {{"loss", 1e-5}, {"accuracy", 1.0}, {"val_accuracy", 0.5}});
    csv.on_epoch_end(m, 2, {{"loss", std::nan("")}, {"accuracy", 0.0}, {"val_loss", 2.0}});
    csv.on_train_end(m, {});
    CHECK(read_text(path) ==
          "epoch,accuracy,loss,val_loss\n"
          "0,0.75,0.30000000000000004,0.5\n"
          "1,1.0,1e-05,NA\n"
          "2,0.0,nan,2.0\n");

    // A second fit without append starts the file again; the epoch written is fit()'s index.
    csv.on_train_begin(m, {});
    csv.on_epoch_end(m, 5, {{"loss", 0.25}});
    csv.on_train_end(m, {});
    CHECK(read_text(path) == "epoch,loss\n5,0.25\n");
}

TEST_CASE("CSVLogger appends to an existing file without repeating the header", "[callback][csv]") {
    test::TempDir dir("callbacks");
    FakeModel m;
    const auto run = [&](CSVLogger& csv, int first_epoch, int epochs) {
        csv.on_train_begin(m, {});
        for (int e = first_epoch; e < first_epoch + epochs; ++e) csv.on_epoch_end(m, e, {{"loss", 1.0 / (e + 1)}});
        csv.on_train_end(m, {});
    };
    const std::string path = dir.file("log.csv");
    CSVLogger first(path);
    run(first, 0, 2);
    CSVLogger more(path, ',', /*append=*/true);
    run(more, 2, 2);
    CHECK(read_text(path) == "epoch,loss\n0,1.0\n1,0.5\n2,0.3333333333333333\n3,0.25\n");

    // Appending to a missing or empty file writes the header.
    CSVLogger missing(dir.file("new.csv"), ',', true);
    run(missing, 0, 1);
    CHECK(read_text(dir.file("new.csv")) == "epoch,loss\n0,1.0\n");
    std::ofstream(dir.file("empty.csv")).close();
    CSVLogger empty(dir.file("empty.csv"), ',', true);
    run(empty, 0, 1);
    CHECK(read_text(dir.file("empty.csv")) == "epoch,loss\n0,1.0\n");
}

TEST_CASE("CSVLogger uses the separator and quotes fields as Python's csv module", "[callback][csv]") {
    test::TempDir dir("callbacks");
    FakeModel m;
    CSVLogger tsv(dir.file("log.tsv"), '\t');
    tsv.on_train_begin(m, {});
    tsv.on_epoch_end(m, 0, {{"loss", 0.5}, {"accuracy", 0.25}});
    tsv.on_train_end(m, {});
    CHECK(read_text(dir.file("log.tsv")) == "epoch\taccuracy\tloss\n0\t0.25\t0.5\n");

    CSVLogger semi(dir.file("log.csv"), ';');
    semi.on_train_begin(m, {});
    semi.on_epoch_end(m, 0, {{"a;b", 0.5}, {"say \"hi\"", 1.0}});
    semi.on_train_end(m, {});
    CHECK(read_text(dir.file("log.csv")) == "epoch;\"a;b\";\"say \"\"hi\"\"\"\n0;0.5;1.0\n");
}

TEST_CASE("CSVLogger reports a file it cannot open and bad arguments", "[callback][csv][errors]") {
    test::TempDir dir("callbacks");
    FakeModel m;
    const std::string path = dir.file("no_such_dir/log.csv");
    CSVLogger csv(path);
    REQUIRE_THROWS_MATCHES(csv.on_train_begin(m, {}), IoError, test::error(ErrorId::io_write, {"'" + path + "'"}));
    REQUIRE_THROWS_MATCHES(csv.on_epoch_end(m, 0, {{"loss", 1.0}}), ConfigError,
                           test::error(ErrorId::config_state, {"before on_train_begin"}));
    REQUIRE_THROWS_MATCHES(CSVLogger(dir.file("a.csv"), '"'), ConfigError,
                           test::error(ErrorId::config_argument, {"separator"}));
    REQUIRE_THROWS_MATCHES(CSVLogger(dir.file("a.csv"), '\n'), ConfigError,
                           test::error(ErrorId::config_argument, {"separator"}));
    REQUIRE_THROWS_MATCHES(CSVLogger(""), ConfigError, test::error(ErrorId::config_argument, {"filename"}));
}

// ---- LearningRateScheduler ----

TEST_CASE("LearningRateScheduler sets schedule(epoch, lr) at the start of each epoch", "[callback][lr]") {
    FakeModel m;
    std::vector<std::pair<int, double>> calls;
    LearningRateScheduler s([&](int epoch, double lr) {
        calls.emplace_back(epoch, lr);
        return epoch < 2 ? lr : lr * 0.5;
    });
    s.on_train_begin(m, {});
    for (int e = 0; e < 4; ++e) s.on_epoch_begin(m, e, {});
    CHECK(calls == std::vector<std::pair<int, double>>{{0, 0.1}, {1, 0.1}, {2, 0.1}, {3, 0.05}});
    CHECK(m.lr_set == std::vector<double>{0.1, 0.1, 0.05, 0.025});
    // The epoch continues fit()'s numbering (initial_epoch), and the message is Keras's.
    LearningRateScheduler verbose([](int epoch, double) { return 0.001 * epoch; }, 1);
    CoutCapture out;
    verbose.on_epoch_begin(m, 7, {});
    CHECK(m.lr == Approx(0.007));
    CHECK(out.str() == "\nEpoch 8: LearningRateScheduler setting learning rate to 0.007.\n");
}

TEST_CASE("LearningRateScheduler rejects a schedule result that is not a finite rate > 0", "[callback][lr][errors]") {
    FakeModel m;
    for (const double bad : {0.0, -0.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
        LearningRateScheduler s([bad](int epoch, double lr) { return epoch == 3 ? bad : lr; });
        s.on_epoch_begin(m, 2, {});
        INFO(bad);
        REQUIRE_THROWS_MATCHES(s.on_epoch_begin(m, 3, {}), ConfigError,
                               test::error(ErrorId::config_argument, {"LearningRateScheduler", "epoch 3",
                                                                      "returned " + detail::python_str(bad)}));
        CHECK(m.lr == 0.1);  // untouched
    }
    REQUIRE_THROWS_MATCHES(LearningRateScheduler(nullptr), ConfigError,
                           test::error(ErrorId::config_argument, {"schedule"}));
}

// ---- ReduceLROnPlateau (expected rates: Keras's algorithm run in Python on the same values) ----

TEST_CASE("ReduceLROnPlateau reduces the rate after `patience` epochs without improvement", "[callback][lr]") {
    ReduceLROnPlateau r("val_loss", 0.5, 2);
    check_rates(plateau(r, {1.0, 0.9, 0.95, 0.92, 0.91, 0.8, 0.85, 0.86, 0.87}),
                {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025});
    CHECK(r.best() == 0.8);

    ReduceLROnPlateau zero("val_loss", 0.5, 0);  // every epoch without improvement reduces
    check_rates(plateau(zero, {1.0, 1.0, 0.5, 0.6, 0.7}), {0.1, 0.05, 0.05, 0.025, 0.0125});

    ReduceLROnPlateau delta("val_loss", 0.5, 1);  // min_delta 1e-4: 0.99995 is no improvement on 1.0
    check_rates(plateau(delta, {1.0, 0.99995, 0.9, 0.89999, 0.89998}), {0.1, 0.05, 0.05, 0.025, 0.0125});

    ReduceLROnPlateau acc("val_accuracy", 0.5, 1);  // auto: max for accuracy
    check_rates(plateau(acc, {0.5, 0.6, 0.6, 0.7, 0.65, 0.64}, "val_accuracy"), {0.1, 0.1, 0.05, 0.05, 0.025, 0.0125});

    ReduceLROnPlateau max("loss", 0.5, 1, 0, "max");
    check_rates(plateau(max, {0.5, 0.4, 0.3}, "loss"), {0.1, 0.05, 0.025});

    // on_train_begin resets best and wait: the same values give the same rates again.
    check_rates(plateau(zero, {1.0, 1.0, 0.5, 0.6, 0.7}), {0.1, 0.05, 0.05, 0.025, 0.0125});
}

TEST_CASE("ReduceLROnPlateau waits out the cooldown and stops at min_lr", "[callback][lr]") {
    ReduceLROnPlateau cool("val_loss", 0.5, 1, 0, "auto", 1e-4, /*cooldown=*/2);
    check_rates(plateau(cool, std::vector<double>(10, 1.0)),
                {0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625, 0.00625, 0.003125});
    // An improvement during cooldown still becomes the best.
    check_rates(plateau(cool, {1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9}), {0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125});
    CHECK(cool.best() == 0.5);

    ReduceLROnPlateau floor("val_loss", 0.1, 1, 0, "auto", 1e-4, 0, /*min_lr=*/0.0005);
    check_rates(plateau(floor, std::vector<double>(8, 1.0)),
                {0.1, 0.01, 0.001, 0.0005, 0.0005, 0.0005, 0.0005, 0.0005});

    FakeModel m;  // already at the floor: never set, and the wait keeps growing as in Keras
    m.lr = 0.0005;
    floor.on_train_begin(m, {});
    for (int e = 0; e < 4; ++e) floor.on_epoch_end(m, e, {{"val_loss", 1.0}});
    CHECK(m.lr_set.empty());
    CHECK(floor.wait() == 3);
}

TEST_CASE("ReduceLROnPlateau verbose 1 prints Keras's message", "[callback][lr]") {
    FakeModel m;
    ReduceLROnPlateau r("val_loss", 0.5, 0, 1);
    r.on_train_begin(m, {});
    CoutCapture out;
    r.on_epoch_end(m, 0, {{"val_loss", 1.0}});
    r.on_epoch_end(m, 1, {{"val_loss", 1.0}});
    CHECK(out.str() == "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.05.\n");
}

TEST_CASE("ReduceLROnPlateau rejects bad arguments and a missing monitor", "[callback][lr][errors]") {
    for (const double factor : {1.0, 1.5, 0.0, -0.1, std::nan("")}) {
        INFO(factor);
        REQUIRE_THROWS_MATCHES(ReduceLROnPlateau("val_loss", factor), ConfigError,
                               test::error(ErrorId::config_argument, {"factor", detail::python_str(factor)}));
    }
    REQUIRE_THROWS_MATCHES(ReduceLROnPlateau("val_loss", 0.1, -1), ConfigError,
                           test::error(ErrorId::config_argument, {"patience", "-1"}));
    REQUIRE_THROWS_MATCHES(ReduceLROnPlateau("val_loss", 0.1, 10, 0, "auto", 1e-4, -2), ConfigError,
                           test::error(ErrorId::config_argument, {"cooldown", "-2"}));
    REQUIRE_THROWS_MATCHES(ReduceLROnPlateau("val_loss", 0.1, 10, 0, "auto", 1e-4, 0, -0.5), ConfigError,
                           test::error(ErrorId::config_argument, {"min_lr", "-0.5"}));
    REQUIRE_THROWS_MATCHES(ReduceLROnPlateau("val_loss", 0.1, 10, 0, "auto", -1e-4), ConfigError,
                           test::error(ErrorId::config_argument, {"min_delta"}));
    REQUIRE_THROWS_MATCHES(ReduceLROnPlateau("val_loss", 0.1, 10, 0, "down"), ConfigError,
                           test::error(ErrorId::config_argument, {"ReduceLROnPlateau: mode", "'down'"}));
    FakeModel m;
    ReduceLROnPlateau r;
    r.on_train_begin(m, {});
    REQUIRE_THROWS_MATCHES(
        r.on_epoch_end(m, 0, {{"loss", 1.0}, {"accuracy", 0.5}}), ConfigError,
        test::error(ErrorId::config_argument, {"ReduceLROnPlateau: monitor 'val_loss'", "accuracy, loss"}));
}

// ---- In a real fit ----

TEST_CASE("CSVLogger, LearningRateScheduler and ReduceLROnPlateau inside fit", "[callback][sequential][csv][lr]") {
    Rng rng(5);
    Tensor<float> x(Shape{64, 3});
    Tensor<int> y(Shape{64});
    for (Index i = 0; i < 64; ++i) {
        y[i] = int(rng.below(2));
        for (Index j = 0; j < 3; ++j) x(i, j) = float(rng.normal(y[i] ? 1 : -1, 1));
    }
    Sequential<float> model("lr", 2);
    model.add(Dense(8, "relu"));
    model.add(Dense(2));
    model.compile(SGD(0.1), SparseCategoricalCrossentropy(true), {"accuracy"});

    test::TempDir dir("callbacks");
    const std::string path = dir.file("training.csv");
    // The schedule halves the rate at epoch 3. With a min_delta no change can beat, every epoch
    // after the first is a plateau, so the reductions do not depend on how training goes:
    // epoch 1 reduces (0.1 -> 0.05), cooldown covers 2, epoch 3 reduces (0.025 -> 0.0125),
    // cooldown covers 4, epoch 5 reduces to the floor (0.00625 -> min_lr 0.01).
    std::vector<double> rates;
    LambdaCallback record;
    record.epoch_end = [&](int, const Logs&) { rates.push_back(model.learning_rate()); };
    FitOptions<float> o;
    o.epochs = 6;
    o.batch_size = 16;
    o.verbose = 0;
    o.validation_split = 0.25;
    o.callbacks = {
        CSVLogger(path), LearningRateScheduler([](int epoch, double lr) { return epoch == 3 ? lr / 2 : lr; }),
        ReduceLROnPlateau("val_loss", 0.5, 1, 0, "min", /*min_delta=*/1e9, /*cooldown=*/2, /*min_lr=*/0.01), record};
    const History h = model.fit(x, y, o);

    check_rates(rates, {0.1, 0.05, 0.05, 0.0125, 0.0125, 0.01});
    CHECK(model.learning_rate() == 0.01);

    const std::string text = read_text(path);
    const auto lines = split(text, '\n');
    REQUIRE(lines.size() == 8);  // header, 6 epochs, and the empty string after the last "\n"
    CHECK(lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss");
    CHECK(lines[7].empty());
    const std::vector<std::string> keys{"accuracy", "loss", "val_accuracy", "val_loss"};
    for (std::size_t e = 0; e < 6; ++e) {
        const auto fields = split(lines[e + 1], ',');
        REQUIRE(fields.size() == 5);
        CHECK(fields[0] == std::to_string(e));
        for (std::size_t k = 0; k < keys.size(); ++k) {
            INFO("epoch " << e << " " << keys[k]);
            CHECK(std::stod(fields[k + 1]) == h.history.at(keys[k])[e]);  // exact: Python's str() round-trips
        }
    }
}
