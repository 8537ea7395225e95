// Sequential: building, validation errors, fit/evaluate/predict, determinism, callbacks.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include "matchers.hpp"

#include <cstring>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

using namespace lamina;

namespace {
// Two Gaussian-ish blobs per class on 3 classes: learnable in a few epochs.
struct Toy {
    Tensor<float> x;
    Tensor<int> y;
};
Toy toy(Index n, std::uint64_t seed) {
    Rng rng(seed);
    Toy t{Tensor<float>(Shape{n, 2, 2}), Tensor<int>(Shape{n})};
    for (Index i = 0; i < n; ++i) {
        const int c = int(rng.below(3));
        t.y[i] = c;
        for (Index j = 0; j < 4; ++j) t.x[i * 4 + j] = float(rng.normal(j == c ? 2.0 : 0.0, 0.5));
    }
    return t;
}
FitOptions<float> quiet(int epochs, Index batch) {
    FitOptions<float> o;
    o.epochs = epochs;
    o.batch_size = batch;
    o.verbose = 0;
    return o;
}
Sequential<float> small_model(std::uint64_t seed) {
    Sequential<float> m("small", seed);
    m.add(Flatten());
    m.add(Dense(16, Activation::ReLU));
    m.add(Dropout(0.25));
    m.add(Dense(3));
    m.compile(Adam(0.01), SparseCategoricalCrossentropy(true), {metrics::accuracy});
    return m;
}
}  // namespace

TEST_CASE("summary() prints Keras's table for the keras128 network", "[sequential][summary]") {
    Sequential<float> model;
    model.add(Flatten());
    model.add(Dense(128, Activation::ReLU));
    model.add(Dropout(0.2));
    model.add(Dense(10));
    REQUIRE_THROWS_AS(model.summary_string(), ConfigError);  // not built yet
    model.build(Shape{1, 28, 28});
    const std::string s = model.summary_string();
    CHECK_THAT(s, Catch::Matchers::StartsWith("Model: \"sequential\"\n"));
    CHECK_THAT(s, Catch::Matchers::Contains(" Layer (type)                Output Shape              Param #   \n"));
    CHECK_THAT(s, Catch::Matchers::Contains(" flatten (Flatten)           (None, 784)               0         \n"));
    CHECK_THAT(s, Catch::Matchers::Contains(" dense (Dense)               (None, 128)               100480    \n"));
    CHECK_THAT(s, Catch::Matchers::Contains(" dropout (Dropout)           (None, 128)               0         \n"));
    CHECK_THAT(s, Catch::Matchers::Contains(" dense_1 (Dense)             (None, 10)                1290      \n"));
    CHECK_THAT(
        s, Catch::Matchers::Contains("Total params: 101,770\nTrainable params: 101,770\nNon-trainable params: 0\n"));
    CHECK(model.count_params() == 101770);
}

TEST_CASE("Layers are reachable by index and by name", "[sequential]") {
    Sequential<float> model;
    model.add(Dense(4).named("hidden"));
    model.add(Dense(2));
    CHECK(model.layer(0).name() == "hidden");
    CHECK(model.get_layer("dense").type() == "Dense");
    REQUIRE_THROWS_MATCHES(model.get_layer("nope"), ConfigError, test::mentions({"hidden, dense"}));
    REQUIRE_THROWS_AS(model.layer(2), ShapeError);
    REQUIRE_THROWS_AS(model.add(Dense(3).named("hidden")), ConfigError);
}

TEST_CASE("Shape mismatches are reported at build time, naming the layer", "[sequential][errors]") {
    Sequential<float> model;
    model.add(Dense(10));
    REQUIRE_THROWS_MATCHES(model.build(Shape{1, 28, 28}), ShapeError,
                           test::error(ErrorId::shape_mismatch, {"Dense 'dense'", "(None, 1, 28, 28)", "Flatten"}));
    Sequential<float> soft;
    soft.add(Softmax());
    REQUIRE_THROWS_MATCHES(soft.build(Shape{2, 3}), ShapeError, test::mentions({"Softmax 'softmax'"}));
    Sequential<float> bad_units;
    bad_units.add(Dense(0));
    REQUIRE_THROWS_MATCHES(bad_units.build(Shape{3}), ConfigError, test::mentions({"units must be >= 1"}));
    Sequential<float> bad_rate;
    bad_rate.add(Dropout(1.0));
    REQUIRE_THROWS_AS(bad_rate.build(Shape{3}), ConfigError);
    REQUIRE_THROWS_AS(Dense(3, "swish"), ConfigError);
}

TEST_CASE("fit, evaluate and predict reject bad arguments with precise errors", "[sequential][errors]") {
    auto data = toy(64, 1);
    Sequential<float> uncompiled;
    uncompiled.add(Flatten());
    uncompiled.add(Dense(3));
    REQUIRE_THROWS_MATCHES(uncompiled.fit(data.x, data.y, quiet(1, 8)), ConfigError,
                           test::error(ErrorId::config_state));

    auto model = small_model(1);
    REQUIRE_THROWS_MATCHES(model.fit(data.x, data.y.slice_rows(0, 63), quiet(1, 8)), ShapeError,
                           test::error(ErrorId::shape_count));
    REQUIRE_THROWS_MATCHES(model.fit(data.x, data.y, quiet(1, 0)), ConfigError, test::error(ErrorId::config_argument));
    auto split = quiet(1, 8);
    split.validation_split = 1.0;
    REQUIRE_THROWS_MATCHES(model.fit(data.x, data.y, split), ConfigError, test::error(ErrorId::config_argument));

    auto labels = data.y;
    labels[5] = 3;
    REQUIRE_THROWS_MATCHES(model.fit(data.x, labels, quiet(1, 8)), ConfigError,
                           test::error(ErrorId::config_label, {"index 5"}));

    auto nan_x = data.x;
    nan_x[4 * 7 + 1] = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_MATCHES(model.fit(nan_x, data.y, quiet(1, 8)), NumericError,
                           test::error(ErrorId::numeric_nonfinite, {"sample 7"}));

    auto inf_y_x = data.x;
    inf_y_x[0] = -std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_MATCHES(model.fit(inf_y_x, data.y, quiet(1, 8)), NumericError,
                           test::error(ErrorId::numeric_nonfinite, {"-inf", "sample 0"}));
    auto inf_val = quiet(1, 8);
    inf_val.validation_data.emplace(inf_y_x, data.y);
    REQUIRE_THROWS_MATCHES(model.fit(data.x, data.y, inf_val), NumericError,
                           test::error(ErrorId::numeric_nonfinite, {"validation_data"}));

    REQUIRE_THROWS_MATCHES(model.fit(Tensor<float>(Shape{0, 2, 2}), Tensor<int>(Shape{0}), quiet(1, 8)), ConfigError,
                           test::mentions({"no samples"}));

    // A loss that does not fit the output: one-hot targets of the wrong width,
    // class ids for a per-pixel output.
    Sequential<float> onehot("onehot", 1);
    onehot.add(Flatten()).add(Dense(3, "softmax"));
    onehot.compile("adam", "categorical_crossentropy");
    REQUIRE_THROWS_MATCHES(onehot.fit(data.x, datasets::to_categorical<float>(data.y, 4), quiet(1, 8)), ShapeError,
                           test::error(ErrorId::shape_mismatch, {"categorical_crossentropy", "(64, 3)"}));
    Sequential<float> spatial("spatial", 1);
    spatial.add(Conv2D(3, 1));
    spatial.compile("adam", "sparse_categorical_crossentropy");
    Tensor<float> images(Shape{4, 1, 2, 2});
    images.set_zero();
    REQUIRE_THROWS_MATCHES(spatial.fit(images, Tensor<int>(Shape{4}), quiet(1, 2)), ShapeError,
                           test::error(ErrorId::shape_mismatch, {"sparse_categorical_crossentropy", "Flatten"}));
    // No training happened in any of the failures above.
    CHECK(model.epochs_completed() == 0);
    model.fit(data.x, data.y, quiet(1, 8));  // builds the model for (2, 2) samples
    REQUIRE_THROWS_MATCHES(model.predict(Tensor<float>(Shape{3, 5})), ShapeError, test::error(ErrorId::shape_mismatch));
    REQUIRE_THROWS_MATCHES(model.evaluate(Tensor<float>(Shape{3, 2, 3}), Tensor<int>(Shape{3})), ShapeError,
                           test::mentions({"(None, 2, 2)"}));
    REQUIRE_THROWS_AS(model.predict(data.x, 0), ConfigError);

    auto w = model.get_weights();
    REQUIRE(w.size() == 4);
    w.pop_back();
    REQUIRE_THROWS_MATCHES(model.set_weights(w), ShapeError, test::error(ErrorId::shape_weights));
    w = model.get_weights();
    w[1] = Tensor<float>(Shape{15});
    REQUIRE_THROWS_MATCHES(model.set_weights(w), ShapeError, test::mentions({"(16,)"}));
}

TEST_CASE("A model that is not built has no weights, and empty data is refused", "[sequential][errors]") {
    Sequential<float> model;
    model.add(Dense(16, Activation::ReLU));
    model.add(Dense(10));
    model.compile("adam", SparseCategoricalCrossentropy(true));
    CHECK(model.get_weights().empty());  // Keras returns [] too
    CHECK(model.layer(0).get_weights().empty());
    CHECK(model.count_params() == 0);
    REQUIRE_THROWS_MATCHES(model.set_weights({}), ConfigError, test::error(ErrorId::config_state, {"not built"}));
    REQUIRE_THROWS_MATCHES(model.fit(Tensor<float>{}, Tensor<int>{}, quiet(1, 8)), ShapeError,
                           test::error(ErrorId::shape_rank, {"x must be (samples, ...)", "(0,)"}));
    REQUIRE_THROWS_MATCHES(model.predict(Tensor<float>{}), ShapeError, test::error(ErrorId::shape_rank));
    CHECK_FALSE(model.built());
    model.build(Shape{4});
    CHECK(model.get_weights().size() == 4);
}

TEST_CASE("A layer too large for memory and a null activation are lamina errors naming the layer",
          "[sequential][errors]") {
    Sequential<float> wide;
    wide.add(Dense(Index(1) << 31));
    REQUIRE_THROWS_MATCHES(wide.build(Shape{784}), ConfigError,
                           test::error(ErrorId::config_memory, {"Dense 'dense'", "(784, 2147483648)", "GB"}));
    CHECK_FALSE(wide.built());
    const char* no_name = nullptr;
    REQUIRE_THROWS_MATCHES(Dense(16, no_name), ConfigError, test::error(ErrorId::config_argument, {"null"}));
    REQUIRE_THROWS_MATCHES(Dense(16, std::string("rleu")), ConfigError,
                           test::error(ErrorId::config_unknown_name, {"'rleu'", "relu"}));
}

TEST_CASE("predict and evaluate on a model not built yet build it once, from many threads at once",
          "[sequential][threads]") {
    auto data = toy(40, 3);
    auto reference = small_model(9);
    const auto expected = reference.predict(data.x, 8);
    for (int trial = 0; trial < 50; ++trial) {
        auto model = small_model(9);
        std::vector<Tensor<float>> results(8);
        std::vector<double> losses(8);
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < results.size(); ++t)
            threads.emplace_back([&, t] {
                if (t % 2) losses[t] = model.evaluate(data.x, data.y, 8).loss;
                results[t] = model.predict(data.x, 8);
            });
        for (auto& t : threads) t.join();
        REQUIRE(model.built());
        for (const auto& r : results) {
            REQUIRE(r.shape() == expected.shape());
            CHECK(std::memcmp(r.data(), expected.data(), sizeof(float) * std::size_t(r.size())) == 0);
        }
        for (std::size_t t = 1; t < losses.size(); t += 2) CHECK(losses[t] == losses[1]);
    }
}

TEST_CASE("Training lowers the loss and records Keras's history keys", "[sequential][fit]") {
    auto data = toy(600, 2);
    auto model = small_model(2);
    auto options = quiet(8, 32);
    options.validation_split = 0.2;
    const History h = model.fit(data.x, data.y, options);
    REQUIRE(h.epoch.size() == 8);
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"}) REQUIRE(h.history.at(key).size() == 8);
    CHECK(h.history.at("loss").back() < 0.5 * h.history.at("loss").front());
    CHECK(h.last("val_accuracy") > 0.9);
    CHECK(h.params.steps == 15);  // 480 training samples / 32

    auto [loss, accuracy] = model.evaluate(data.x, data.y);
    CHECK(accuracy > 0.9);
    CHECK(loss < h.history.at("loss").front());
    const auto p = model.predict(data.x);
    CHECK(p.shape() == Shape{600, 3});
}

TEST_CASE("Same seed and thread count give bit-identical weights", "[sequential][determinism]") {
    auto data = toy(300, 3);
    auto train = [&](std::uint64_t seed) {
        auto m = small_model(seed);
        m.fit(data.x, data.y, quiet(2, 16));
        return m.get_weights();
    };
    const auto a = train(11), b = train(11), c = train(12);
    bool all_equal = true, any_diff = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        all_equal = all_equal && std::memcmp(a[i].data(), b[i].data(), std::size_t(a[i].size()) * sizeof(float)) == 0;
        any_diff = any_diff || std::memcmp(a[i].data(), c[i].data(), std::size_t(a[i].size()) * sizeof(float)) != 0;
    }
    CHECK(all_equal);
    CHECK(any_diff);
}

TEST_CASE("Callbacks see every epoch and batch and can stop training or change the rate", "[sequential][callback]") {
    auto data = toy(100, 4);
    auto model = small_model(4);
    auto counter = std::make_shared<LambdaCallback>();
    int epochs = 0, batches = 0;
    counter->epoch_end = [&](int, const Logs& logs) {
        ++epochs;
        CHECK(logs.count("loss") == 1);
    };
    counter->batch_end = [&](long long, const Logs&) { ++batches; };
    auto options = quiet(3, 25);
    options.callbacks = {counter};
    model.fit(data.x, data.y, options);
    CHECK(epochs == 3);
    CHECK(batches == 12);

    struct StopAfterTwo : Callback {
        void on_epoch_end(TrainingControl& m, int epoch, const Logs&) override {
            m.set_learning_rate(0.5 * m.learning_rate());
            if (epoch == 1) m.stop_training();
        }
    };
    options.callbacks = {StopAfterTwo()};
    const double lr = model.learning_rate();
    const History h = model.fit(data.x, data.y, options);
    CHECK(h.epoch.size() == 2);
    CHECK(model.learning_rate() == Approx(lr / 4));
}

TEST_CASE("fit flushes denormals on its thread and in its parallel regions, and restores the mode after",
          "[sequential][denormals]") {
    const int before = get_num_threads();
    set_num_threads(2);
    auto data = toy(64, 4);
    auto model = small_model(4);
    auto probe = std::make_shared<LambdaCallback>();
    int batches = 0, flushed = 0;
    probe->batch_end = [&](long long, const Logs&) {
        ++batches;
        int ran[2] = {0, 0}, team[2] = {0, 0};
        backend::parallel_blocks(2, [&](int t, Index, Index) {
            ran[t] = 1;
            team[t] = denormals_flushed_here() ? 1 : 0;
        });
        if (denormals_flushed_here() && team[0] == ran[0] && team[1] == ran[1]) ++flushed;
    };
    auto options = quiet(1, 16);
    options.callbacks = {probe};
    REQUIRE_FALSE(denormals_flushed_here());
    model.fit(data.x, data.y, options);
    CHECK(batches == 4);
#if defined(__SSE__) || defined(_M_X64)
    CHECK(flushed == batches);
#else
    CHECK(flushed == 0);
#endif
    CHECK_FALSE(denormals_flushed_here());
    set_num_threads(before);
}

TEST_CASE("String optimizers and losses compile as in Keras", "[sequential]") {
    auto data = toy(64, 5);
    Sequential<float> model;
    model.add(Flatten());
    model.add(Dense(3, "softmax"));
    model.compile("rmsprop", "sparse_categorical_crossentropy", {"accuracy"});
    model.fit(data.x, data.y, quiet(1, 16));
    CHECK(model.optimizer().name() == "RMSprop");
    REQUIRE_THROWS_AS(model.compile("adagrad", "mse"), ConfigError);
    model.compile("adamw", "mse");
    CHECK(model.optimizer().name() == "AdamW");
    REQUIRE_THROWS_AS(model.compile("adam", "mse", {"f1"}), ConfigError);
}

TEST_CASE("Progress lines follow Keras's format", "[progress]") {
    std::ostringstream lines;
    ProgressBar per_epoch(1875, 2, false, lines);
    per_epoch.finish({{"loss", 0.29604}, {"accuracy", 0.914}});
    CHECK_THAT(lines.str(), Catch::Matchers::Matches(
                                R"(1875/1875 - \d+s - loss: 0\.2960 - accuracy: 0\.9140 - \d+s/epoch - \d+us/step\n)"));

    std::ostringstream tty;
    ProgressBar bar(4, 1, true, tty);
    bar.update(4, {{"loss", 1.0}});
    bar.finish({{"loss", 1.0}, {"val_loss", 2.0}});
    CHECK_THAT(tty.str(), Catch::Matchers::Contains("\r4/4 [==============================] - 0s "));
    CHECK_THAT(tty.str(), Catch::Matchers::EndsWith("- loss: 1.0000 - val_loss: 2.0000\n"));

    // Training stopped after step 2 of 200 with a NaN loss (sign bit set).
    std::ostringstream stopped_line, stopped_tty;
    ProgressBar stopped(200, 2, false, stopped_line);
    stopped.finish({{"loss", -std::numeric_limits<double>::quiet_NaN()}}, 2);
    CHECK_THAT(stopped_line.str(), Catch::Matchers::StartsWith("  2/200 - ") && Catch::Matchers::Contains("loss: nan"));
    ProgressBar stopped_bar(200, 1, true, stopped_tty);
    stopped_bar.update(2, {{"loss", 1.0}});
    stopped_bar.finish({{"loss", std::numeric_limits<double>::quiet_NaN()}}, 2);
    CHECK_THAT(stopped_tty.str(), Catch::Matchers::EndsWith("- loss: nan\n") && !Catch::Matchers::Contains("200/200"));
    CHECK_THAT(stopped_tty.str(), Catch::Matchers::Contains("  2/200 [.............................."));

    std::ostringstream silent;
    ProgressBar none(4, 0, true, silent);
    none.update(2, {});
    none.finish({});
    CHECK(silent.str().empty());
}

TEST_CASE("softmax and argmax turn predictions into answers", "[predictions]") {
    const Tensor<double> logits(Shape{2, 3}, {1.0, 3.0, 2.0, 0.0, 0.0, 0.0});
    const auto p = softmax(logits);
    CHECK(p(0, 1) == Approx(std::exp(3.0) / (std::exp(1.0) + std::exp(3.0) + std::exp(2.0))));
    CHECK(p(1, 2) == Approx(1.0 / 3));
    const auto ids = argmax(logits);
    CHECK(ids[0] == 1);
    CHECK(ids[1] == 0);
}

TEST_CASE("Compiling again starts the new optimizer from fresh state, as Keras does", "[sequential][optimizer]") {
    auto data = toy(200, 5);
    auto model = small_model(5);  // compiled with Adam
    model.compile(SGD(0.1, 0.9), SparseCategoricalCrossentropy());
    model.fit(data.x, data.y, quiet(2, 32));
    // A momentum buffer from SGD must not become RMSprop's mean square (it
    // holds negative values: sqrt of them made every loss NaN before).
    model.compile(RMSprop(), SparseCategoricalCrossentropy(), {metrics::accuracy});
    for (std::size_t i = 0; i < model.size(); ++i)
        for (const auto* p : model.layer(i).params())
            for (const auto& slot : p->slots)
                for (float v : slot) REQUIRE(v == 0.0f);
    const History h = model.fit(data.x, data.y, quiet(2, 32));
    for (double loss : h.history.at("loss")) CHECK(std::isfinite(loss));
}
