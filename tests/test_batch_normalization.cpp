// BatchNormalization: forward in training and inference mode against a naive
// double-precision loop written from the definition, backward against finite
// differences and a case worked by hand, the moving statistics against their
// recurrence, a frozen layer in fit, summary counts, model files (round trip,
// exact resume, format versions) and the errors.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "gradcheck.hpp"
#include "matchers.hpp"
#include "resume_check.hpp"
#include "temp_dir.hpp"

using namespace lamina;

namespace {

Tensor<float> random_tensor(const Shape& s, Rng& rng, double lo = -2, double hi = 3) {
    Tensor<float> t(s);
    for (auto& v : t) v = float(rng.uniform(lo, hi));
    return t;
}

// The per-sample shape's channel count and positions per channel.
struct Layout {
    Index rows, channels, plane;
};
Layout layout_of(const Shape& batch_shape) {
    const Index rows = batch_shape[0], channels = batch_shape[1];
    return {rows, channels, batch_shape.size() / (rows * channels)};
}

// Mean and biased variance per channel, in double, straight from the definition.
void naive_moments(const Tensor<float>& x, std::vector<double>& mean, std::vector<double>& var) {
    const auto [rows, channels, plane] = layout_of(x.shape());
    mean.assign(std::size_t(channels), 0.0);
    var.assign(std::size_t(channels), 0.0);
    for (Index c = 0; c < channels; ++c) {
        double s = 0;
        for (Index n = 0; n < rows; ++n)
            for (Index p = 0; p < plane; ++p) s += x[(n * channels + c) * plane + p];
        const double m = s / double(rows * plane);
        double q = 0;
        for (Index n = 0; n < rows; ++n)
            for (Index p = 0; p < plane; ++p)
                q += (x[(n * channels + c) * plane + p] - m) * (x[(n * channels + c) * plane + p] - m);
        mean[std::size_t(c)] = m;
        var[std::size_t(c)] = q / double(rows * plane);
    }
}

std::vector<double> naive_normalize(const Tensor<float>& x, const std::vector<double>& mean,
                                    const std::vector<double>& var, const std::vector<double>& gamma,
                                    const std::vector<double>& beta, double eps) {
    const auto [rows, channels, plane] = layout_of(x.shape());
    std::vector<double> y(std::size_t(x.size()));
    for (Index n = 0; n < rows; ++n)
        for (Index c = 0; c < channels; ++c)
            for (Index p = 0; p < plane; ++p) {
                const Index i = (n * channels + c) * plane + p;
                const auto k = std::size_t(c);
                y[std::size_t(i)] = gamma[k] * (x[i] - mean[k]) / std::sqrt(var[k] + eps) + beta[k];
            }
    return y;
}

std::vector<double> values(const Tensor<float>& t) { return {t.begin(), t.end()}; }

void check_close(const Tensor<float>& got, const std::vector<double>& want, double tol = 1e-5) {
    REQUIRE(std::size_t(got.size()) == want.size());
    double worst = 0;
    for (Index i = 0; i < got.size(); ++i)
        worst = std::max(
            worst, std::abs(double(got[i]) - want[std::size_t(i)]) / std::max(1.0, std::abs(want[std::size_t(i)])));
    CAPTURE(worst);
    CHECK(worst <= tol);
}

// gamma, beta and the moving statistics of a built layer set to values far from their initial ones.
void randomize_params(Layer<float>& layer, Rng& rng) {
    for (auto* p : layer.params())
        for (auto& v : p->value)
            v = p->name == "moving_variance" ? float(rng.uniform(0.2, 3)) : float(rng.uniform(-1.5, 1.5));
}

}  // namespace

TEST_CASE("BatchNormalization forward: batch statistics in training, moving ones in inference, as defined",
          "[batch_normalization]") {
    Rng rng(11);
    // (N, C, H, W) small and large enough to be split across threads, and flat (N, F).
    for (const Shape& sample : {Shape{3, 4, 5}, Shape{16, 16, 16}, Shape{7}}) {
        CAPTURE(sample.str());
        for (const double eps : {1e-3, 0.5}) {
            Sequential<float> model("m", 1);
            model.add(BatchNormalization(0.9, eps));
            model.build(sample);
            auto& layer = model.layer(0);
            randomize_params(layer, rng);
            const auto x = random_tensor(sample.with_batch(8), rng);
            const auto w = layer.get_weights();  // gamma, beta, moving mean, moving variance
            const auto gamma = values(w[0]), beta = values(w[1]), mm = values(w[2]), mv = values(w[3]);

            // Inference: the moving statistics, unchanged.
            Tensor<float> y(x.shape());
            layer.infer(x, y);
            check_close(y, naive_normalize(x, mm, mv, gamma, beta, eps));
            check_close(model.predict(x, 3), naive_normalize(x, mm, mv, gamma, beta, eps));
            layer.forward(x, y, Mode::Inference);
            check_close(y, naive_normalize(x, mm, mv, gamma, beta, eps));
            CHECK(values(layer.get_weights()[2]) == mm);

            // Training: the batch's statistics, and the moving ones move toward them.
            std::vector<double> mean, var;
            naive_moments(x, mean, var);
            layer.forward(x, y, Mode::Training);
            check_close(y, naive_normalize(x, mean, var, gamma, beta, eps));
            std::vector<double> want_mm, want_mv;
            for (std::size_t c = 0; c < mean.size(); ++c) {
                want_mm.push_back(mm[c] * 0.9 + mean[c] * 0.1);
                want_mv.push_back(mv[c] * 0.9 + var[c] * 0.1);
            }
            check_close(layer.get_weights()[2], want_mm);
            check_close(layer.get_weights()[3], want_mv);
        }
    }
}

TEST_CASE("BatchNormalization without center or scale: no beta, no gamma", "[batch_normalization]") {
    Rng rng(12);
    for (const bool center : {false, true})
        for (const bool scale : {false, true}) {
            CAPTURE(center, scale);
            Sequential<float> model("m", 1);
            model.add(BatchNormalization(0.99, 1e-3, center, scale));
            model.build(Shape{3, 2, 2});
            auto& layer = model.layer(0);
            std::vector<std::string> names;
            for (const auto* p : std::as_const(layer).params()) names.push_back(p->name);
            std::vector<std::string> want;
            if (scale) want.push_back("gamma");
            if (center) want.push_back("beta");
            want.push_back("moving_mean");
            want.push_back("moving_variance");
            CHECK(names == want);
            randomize_params(layer, rng);
            const auto x = random_tensor(Shape{5, 3, 2, 2}, rng);
            const auto w = layer.get_weights();
            const std::vector<double> ones(3, 1.0), zeros(3, 0.0);
            const auto gamma = scale ? values(w[0]) : ones;
            const auto beta = center ? values(w[scale ? 1 : 0]) : zeros;
            std::vector<double> mean, var;
            naive_moments(x, mean, var);
            Tensor<float> y(x.shape());
            layer.forward(x, y, Mode::Training);
            check_close(y, naive_normalize(x, mean, var, gamma, beta, 1e-3));
        }
}

TEST_CASE("BatchNormalization backward: a case worked by hand", "[batch_normalization]") {
    // x = (1, 3), one feature, gamma 1, beta 0, epsilon 1: mean 2, variance 1,
    // inv = 1/sqrt(2), xhat = (-inv, inv), y = xhat. dy = (1, 0):
    // dbeta = 1, dgamma = -inv,
    // dx = inv * (dy - mean(dy) - xhat * mean(dy * xhat)) = inv * (1/4, -1/4).
    Sequential<double> model("m", 1);
    model.add(BatchNormalization(0.99, 1.0));
    model.build(Shape{1});
    auto& layer = model.layer(0);
    Tensor<double> x(Shape{2, 1}), y(Shape{2, 1}), dy(Shape{2, 1}), dx(Shape{2, 1});
    x[0] = 1, x[1] = 3, dy[0] = 1, dy[1] = 0;
    layer.forward(x, y, Mode::Training);
    const double inv = 1 / std::sqrt(2.0);
    CHECK(y[0] == Approx(-inv).epsilon(1e-12));
    CHECK(y[1] == Approx(inv).epsilon(1e-12));
    for (auto* p : layer.params()) p->grad.set_zero();
    layer.backward(x, y, dy, &dx);
    CHECK(dx[0] == Approx(inv / 4).epsilon(1e-12));
    CHECK(dx[1] == Approx(-inv / 4).epsilon(1e-12));
    CHECK(layer.params()[0]->grad[0] == Approx(-inv).epsilon(1e-12));  // gamma
    CHECK(layer.params()[1]->grad[0] == Approx(1.0).epsilon(1e-12));   // beta
    // Moving statistics: 0.99 * (0, 1) + 0.01 * (2, 1).
    CHECK(layer.params()[2]->value[0] == Approx(0.02).epsilon(1e-12));
    CHECK(layer.params()[3]->value[0] == Approx(1.0).epsilon(1e-12));

    // Frozen: the affine map with the moving statistics, dx = gamma * dy / sqrt(var + eps).
    layer.set_trainable(false);
    layer.forward(x, y, Mode::Training);
    const double mm = layer.params()[2]->value[0], s = 1 / std::sqrt(layer.params()[3]->value[0] + 1.0);
    CHECK(y[0] == Approx((1 - mm) * s).epsilon(1e-12));
    layer.backward(x, y, dy, &dx);
    CHECK(dx[0] == Approx(s).epsilon(1e-12));
    CHECK(dx[1] == Approx(0.0).margin(1e-15));
}

TEST_CASE("BatchNormalization backward keeps float precision when the mean is large against the spread",
          "[batch_normalization][gradients]") {
    // x = 1e5 + noise of spread 1: a float holds x to about 0.004, and dx,
    // of order 1, must not lose more than rounding to that (forms such as
    // a * x + b, with b near -a * mean, cancel 1e5-sized terms).
    Rng rng(11);
    const Shape shape{64, 2, 7, 7};
    Tensor<float> x(shape), dy = random_tensor(shape, rng, -1, 1), y(shape), dx(shape);
    for (auto& v : x) v = float(1e5 + rng.uniform(-1.7, 1.7));
    Sequential<float> model("m", 1);
    model.add(BatchNormalization());
    model.build(Shape{2, 7, 7});
    auto& layer = model.layer(0);
    randomize_params(layer, rng);
    layer.forward(x, y, Mode::Training);
    for (auto* p : layer.params()) p->grad.set_zero();
    layer.backward(x, y, dy, &dx);

    // dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat)), in double
    // from the float inputs, with the batch's own moments; the mean rounded to
    // float as the layer keeps it (its rounding, up to 0.004 here, is the
    // inputs' own precision, not the formula's).
    std::vector<double> mean, var;
    naive_moments(x, mean, var);
    for (auto& m : mean) m = double(float(m));
    const auto [rows, channels, plane] = layout_of(shape);
    const double count = double(rows * plane), eps = 1e-3;
    std::vector<double> want(std::size_t(x.size()));
    for (Index c = 0; c < channels; ++c) {
        const auto k = std::size_t(c);
        const double inv = 1 / std::sqrt(var[k] + eps), gamma = layer.params()[0]->value[c];
        double sum_dy = 0, sum_dy_xhat = 0;
        for (Index n = 0; n < rows; ++n)
            for (Index p = 0; p < plane; ++p) {
                const Index i = (n * channels + c) * plane + p;
                sum_dy += dy[i];
                sum_dy_xhat += dy[i] * (x[i] - mean[k]) * inv;
            }
        for (Index n = 0; n < rows; ++n)
            for (Index p = 0; p < plane; ++p) {
                const Index i = (n * channels + c) * plane + p;
                want[std::size_t(i)] =
                    gamma * inv * (dy[i] - sum_dy / count - (x[i] - mean[k]) * inv * sum_dy_xhat / count);
            }
    }
    check_close(dx, want, 1e-5);
}

TEST_CASE("BatchNormalization backward agrees with finite differences", "[batch_normalization][gradients]") {
    Rng rng(13);
    for (const Shape& sample : {Shape{3, 4, 5}, Shape{6}}) {
        for (const bool center : {true, false})
            for (const bool scale : {true, false}) {
                CAPTURE(sample.str(), center, scale);
                auto layer = gradcheck::built(BatchNormalization(0.9, 1e-3, center, scale), sample, rng);
                for (auto* p : layer->params())
                    if (p->name == "gamma" || p->name == "beta")
                        for (auto& v : p->value) v = rng.uniform(-1.5, 1.5);
                const auto x = gradcheck::random_tensor(sample.with_batch(4), rng, -2, 2);
                // The moving statistics do not enter a training forward: numeric and
                // analytic gradients of them are both zero.
                const auto r = gradcheck::check_layer(*layer, x, rng);
                // dL/dx is what is left after subtracting the batch's mean terms:
                // the differences' rounding is larger relative to it than elsewhere.
                CHECK(r.max_input_error < 1e-5);
                CHECK(r.max_param_error < 1e-6);
            }
    }
    SECTION("frozen: the affine map of the moving statistics") {
        auto layer = gradcheck::built(BatchNormalization(0.9, 1e-3), Shape{3, 2, 3}, rng);
        for (auto* p : layer->params())
            for (auto& v : p->value) v = p->name == "moving_variance" ? rng.uniform(0.3, 2) : rng.uniform(-1, 1);
        layer->set_trainable(false);
        gradcheck::Tensor x = gradcheck::random_tensor(Shape{4, 3, 2, 3}, rng), y(x.shape()), dx(x.shape());
        const auto r = gradcheck::random_tensor(x.shape(), rng);
        auto objective = [&] {
            layer->forward(x, y, Mode::Training);
            double s = 0;
            for (Index i = 0; i < y.size(); ++i) s += r[i] * y[i];
            return s;
        };
        objective();
        for (auto* p : layer->params()) p->grad.set_zero();
        layer->backward(x, y, r, &dx);
        double worst = 0;
        auto check = [&](double& v, double analytic) {
            const double keep = v;
            v = keep + gradcheck::step;
            const double plus = objective();
            v = keep - gradcheck::step;
            const double minus = objective();
            v = keep;
            worst = std::max(worst, gradcheck::rel_error(analytic, (plus - minus) / (2 * gradcheck::step)));
        };
        for (Index i = 0; i < x.size(); ++i) check(x[i], dx[i]);
        for (auto* p : layer->params())
            if (p->trainable == false && (p->name == "gamma" || p->name == "beta"))
                for (Index i = 0; i < p->value.size(); ++i) check(p->value[i], p->grad[i]);
        CHECK(worst < 1e-6);
    }
}

TEST_CASE("BatchNormalization's moving statistics follow Keras's recurrence through fit", "[batch_normalization]") {
    // BN first, one full batch per step, no shuffle: every step sees the same
    // batch, so moving_k = m * moving_{k-1} + (1 - m) * batch statistic.
    Rng rng(14);
    const auto x = random_tensor(Shape{12, 2, 3, 3}, rng, 1, 4);
    Tensor<int> y(Shape{12});
    for (Index i = 0; i < 12; ++i) y[i] = int(i % 2);
    Sequential<float> model("m", 1);
    model.add(BatchNormalization(0.8)).add(Flatten()).add(Dense(2));
    model.compile(SGD(0.1), SparseCategoricalCrossentropy(true));
    FitOptions<float> o;
    o.epochs = 5;
    o.batch_size = 12;
    o.shuffle = false;
    o.verbose = 0;
    model.fit(x, y, o);
    std::vector<double> mean, var;
    naive_moments(x, mean, var);
    std::vector<double> mm(2, 0.0), mv(2, 1.0);
    for (int step = 0; step < 5; ++step)
        for (std::size_t c = 0; c < 2; ++c) {
            mm[c] = mm[c] * 0.8 + mean[c] * 0.2;
            mv[c] = mv[c] * 0.8 + var[c] * 0.2;
        }
    const auto w = model.get_weights();
    check_close(w[2], mm);
    check_close(w[3], mv);
    // gamma and beta trained; a BN first in the model needs no dx.
    CHECK(values(w[0]) != std::vector<double>(2, 1.0));
}

TEST_CASE("A frozen BatchNormalization runs in inference mode in fit and keeps gamma, beta and its statistics",
          "[batch_normalization]") {
    Rng rng(15);
    const auto x = random_tensor(Shape{32, 6}, rng);
    Tensor<int> y(Shape{32});
    for (Index i = 0; i < 32; ++i) y[i] = int(x[i * 6] > 0.5f);
    FitOptions<float> o;
    o.epochs = 2;
    o.batch_size = 8;
    o.verbose = 0;

    SECTION("frozen from the spec, after a trainable Dense") {
        Sequential<float> model("m", 1);
        model.add(Dense(4)).add(BatchNormalization().frozen()).add(Dense(2));
        model.compile(Adam(0.01), SparseCategoricalCrossentropy(true));
        model.build(Shape{6});
        randomize_params(model.layer(1), rng);
        const auto before = model.get_weights();
        model.fit(x, y, o);
        const auto after = model.get_weights();
        for (std::size_t i = 2; i < 6; ++i) CHECK(values(after[i]) == values(before[i]));  // BN's four
        CHECK(values(after[0]) != values(before[0]));  // gradients reached the Dense before it
        CHECK(!model.layer(1).trainable());
    }
    SECTION("set_trainable(false) after a fit, and back") {
        Sequential<float> model("m", 1);
        model.add(BatchNormalization()).add(Dense(2));
        model.compile(Adam(0.01), SparseCategoricalCrossentropy(true));
        model.fit(x, y, o);
        model.layer(0).set_trainable(false);
        const auto before = model.get_weights();
        model.fit(x, y, o);
        const auto frozen = model.get_weights();
        for (std::size_t i = 0; i < 4; ++i) CHECK(values(frozen[i]) == values(before[i]));
        CHECK(values(frozen[4]) != values(before[4]));
        // Training output equals inference output while frozen.
        Tensor<float> a(x.shape()), b(x.shape());
        model.layer(0).forward(x, a, Mode::Training);
        model.layer(0).infer(x, b);
        CHECK(values(a) == values(b));
        model.layer(0).set_trainable(true);
        model.fit(x, y, o);
        const auto thawed = model.get_weights();
        for (std::size_t i = 0; i < 4; ++i) CHECK(values(thawed[i]) != values(frozen[i]));
    }
    SECTION("summary counts the moving statistics, and frozen gamma and beta, as non-trainable") {
        Sequential<float> model("m", 1);
        model.add(Conv2D(4, 3)).add(BatchNormalization()).add(Activation("relu"));
        model.add(Flatten()).add(Dense(3)).add(BatchNormalization().frozen());
        model.build(Shape{2, 5, 5});
        // Conv2D 4*2*3*3 + 4 = 76; BN(4) 16; Dense 36*3 + 3 = 111; BN(3) 12.
        const std::string s = model.summary_string();
        CHECK_THAT(s, Catch::Contains("Total params: 215"));
        CHECK_THAT(s, Catch::Contains("Trainable params: 195"));
        CHECK_THAT(s, Catch::Contains("Non-trainable params: 20"));
        CHECK_THAT(s, Catch::Contains("batch_normalization (BatchN"));
        CHECK_THAT(s, Catch::Contains("batch_normalization_1 (Batc"));
    }
}

TEST_CASE("BatchNormalization in model files: moving statistics and trainable kept, exact resume",
          "[batch_normalization][model_file]") {
    test::TempDir dir("batch_normalization");
    Rng rng(16);
    auto x = random_tensor(Shape{40, 2, 6, 6}, rng, 0, 1);
    Tensor<int> y(Shape{40});
    for (Index i = 0; i < 40; ++i) {
        y[i] = int(i % 3);
        x[i * 72 + y[i] * 10] += 2.0f;
    }
    auto make = [] {
        Sequential<float> m("bn", 3);
        m.add(Conv2D(3, 3)).add(BatchNormalization(0.9)).add(Activation("relu")).add(Flatten());
        m.add(Dropout(0.2)).add(Dense(8)).add(BatchNormalization(0.95, 1e-2, true, false).frozen()).add(Dense(3));
        m.compile(Adam(0.01), SparseCategoricalCrossentropy(true), {metrics::accuracy});
        return m;
    };
    test::check_exact_resume(make, x, y, 8, dir.file("resume.lamina"),
                             [&](Sequential<float>& loaded, const Sequential<float>& saved) {
                                 const auto a = loaded.get_weights(), b = saved.get_weights();
                                 REQUIRE(a.size() == b.size());
                                 for (std::size_t i = 0; i < a.size(); ++i) CHECK(values(a[i]) == values(b[i]));
                                 CHECK(loaded.layer(1).trainable());
                                 CHECK(!loaded.layer(6).trainable());
                                 CHECK(loaded.layer(6).config() == saved.layer(6).config());
                                 CHECK(values(loaded.predict(x)) == values(saved.predict(x)));
                                 CHECK(loaded.summary_string() == saved.summary_string());
                             });
    // The moving statistics moved in training, and the file kept them.
    auto m = make();
    FitOptions<float> o;
    o.verbose = 0;
    m.fit(x, y, o);
    CHECK(values(m.get_weights()[4]) != std::vector<double>(3, 0.0));
    m.save_weights(dir.file("w.lamina"));
    auto other = make();
    other.load_weights(dir.file("w.lamina"));
    CHECK(values(other.predict(x)) == values(m.predict(x)));
    // Into a model whose BatchNormalization is frozen (fine-tuning): trainable is no weight's business.
    auto frozen = make();
    frozen.build(x.shape().without_batch());
    frozen.layer(1).set_trainable(false);
    frozen.load_weights(dir.file("w.lamina"));
    CHECK(values(frozen.predict(x)) == values(m.predict(x)));
    CHECK(!frozen.layer(1).trainable());
    // ... but a different momentum is another layer.
    auto different = [] {
        Sequential<float> d("bn", 3);
        d.add(Conv2D(3, 3)).add(BatchNormalization(0.5)).add(Activation("relu")).add(Flatten());
        d.add(Dropout(0.2)).add(Dense(8)).add(BatchNormalization(0.95, 1e-2, true, false).frozen()).add(Dense(3));
        return d;
    }();
    different.build(x.shape().without_batch());
    REQUIRE_THROWS_MATCHES(different.load_weights(dir.file("w.lamina")), FormatError,
                           test::error(ErrorId::format_architecture, {"layer 1", "different config"}));
}

TEST_CASE("Model files: version 2 is written, version 1 still loads, version 3 is refused",
          "[batch_normalization][model_file]") {
    test::TempDir dir("bn_versions");
    Sequential<float> m("v", 1);
    m.add(Flatten()).add(Dense(3));
    m.compile("sgd", SparseCategoricalCrossentropy(true));
    m.build(Shape{2, 2});
    const std::string path = dir.file("m.lamina");
    m.save(path);
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 32);
    CHECK(bytes[8] == 2);
    CHECK(bytes[9] == 0);
    auto with_version = [&](std::uint8_t v) {
        auto b = bytes;
        b[8] = v;
        // The CRC-32 covers the header: recompute it, as a version-1 writer would have.
        const auto crc = std::uint32_t(crc32(0L, b.data(), uInt(b.size() - 4)));
        for (int k = 0; k < 4; ++k) b[b.size() - 4 + std::size_t(k)] = std::uint8_t(crc >> (8 * k));
        return b;
    };
    const auto v1 = with_version(1);
    const auto loaded = Sequential<float>::load_from_memory(v1.data(), v1.size(), "version 1");
    const auto a = loaded.get_weights(), b = m.get_weights();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(values(a[i]) == values(b[i]));
    const auto v3 = with_version(3);
    REQUIRE_THROWS_MATCHES(Sequential<float>::load_from_memory(v3.data(), v3.size(), "version 3"), FormatError,
                           test::error(ErrorId::format_version, {"version 3", "versions 1 to 2"}));
}

TEST_CASE("BatchNormalization's errors name the layer", "[batch_normalization][errors]") {
    auto build = [](BatchNormalization spec, Shape sample) {
        Sequential<float> m("m", 1);
        m.add(spec);
        m.build(sample);
    };
    REQUIRE_THROWS_MATCHES(
        build(BatchNormalization(1.0), Shape{3}), ConfigError,
        test::error(ErrorId::config_argument, {"BatchNormalization 'batch_normalization'", "momentum", "[0, 1)"}));
    REQUIRE_THROWS_MATCHES(build(BatchNormalization(-0.1), Shape{3}), ConfigError,
                           test::error(ErrorId::config_argument, {"momentum"}));
    REQUIRE_THROWS_MATCHES(
        build(BatchNormalization(0.9, 0.0), Shape{3}), ConfigError,
        test::error(ErrorId::config_argument, {"BatchNormalization 'batch_normalization'", "epsilon", "> 0"}));
    REQUIRE_THROWS_MATCHES(build(BatchNormalization(0.9, std::nan("")), Shape{3}), ConfigError,
                           test::error(ErrorId::config_argument, {"epsilon"}));
    REQUIRE_THROWS_MATCHES(
        build(BatchNormalization(), Shape{3, 4}), ShapeError,
        test::error(ErrorId::shape_rank, {"BatchNormalization 'batch_normalization'", "(None, 3, 4)"}));
    // A model file's config is checked the same way.
    auto from = [](LayerConfig c) { return make_layer<float>("BatchNormalization", "bn", c); };
    const LayerConfig good{
        {"momentum", "0.99"}, {"epsilon", "0.001"}, {"center", "true"}, {"scale", "true"}, {"trainable", "false"}};
    CHECK(!from(good)->trainable());
    auto bad_momentum = good;
    bad_momentum[0].second = "1";
    REQUIRE_THROWS_MATCHES(from(bad_momentum), ConfigError,
                           test::error(ErrorId::config_argument, {"BatchNormalization 'bn'", "momentum"}));
    auto no_trainable = good;
    no_trainable.pop_back();
    REQUIRE_THROWS_MATCHES(from(no_trainable), ConfigError,
                           test::error(ErrorId::config_argument, {"'trainable' is missing"}));
}

namespace {

// Every layer's inference pass in turn, without folding.
Tensor<float> unfolded_predict(const Sequential<float>& model, const Tensor<float>& x) {
    Tensor<float> in = x;
    for (std::size_t i = 0; i < model.size(); ++i) {
        const auto& layer = model.layer(i);
        Tensor<float> out(layer.output_shape().with_batch(x.rows()));
        layer.infer(in, out);
        in = std::move(out);
    }
    return in;
}

// Equal to rounding: relative to the outputs' own scale, where values cancel to near zero.
void check_same_to_rounding(const Tensor<float>& got, const Tensor<float>& want) {
    REQUIRE(got.shape() == want.shape());
    double scale = 1e-6, worst = 0;
    for (float v : want) scale = std::max(scale, double(std::abs(v)));
    for (Index i = 0; i < got.size(); ++i)
        worst =
            std::max(worst, std::abs(double(got[i]) - double(want[i])) / std::max(std::abs(double(want[i])), scale));
    CAPTURE(worst);
    CHECK(worst <= 1e-5);
}

}  // namespace

TEST_CASE("predict folds a BatchNormalization into the Dense or Conv2D before it", "[batch_normalization][fold]") {
    Rng rng(17);
    auto build = [&](auto& m) {
        m.add(Conv2D(4, 3, "same")).add(BatchNormalization()).add(Activation("relu")).add(Flatten());
        m.add(Dense(6, Activation::Linear, /*use_bias=*/false)).add(BatchNormalization(0.9, 1e-2, false, true));
        m.add(Dense(5, "relu")).add(BatchNormalization()).add(Dense(3));
        m.build(Shape{2, 5, 5});
        for (std::size_t i : {1, 5, 7}) randomize_params(m.layer(i), rng);
    };

    SECTION("which pairs fold") {
        std::vector<LayerPtr<float>> layers;
        Rng init(1);
        Shape s{2, 5, 5};
        auto add = [&](auto spec) {
            layers.push_back(spec.template make<float, Cpu>());
            layers.back()->set_name("l" + std::to_string(layers.size()));
            s = layers.back()->build(s, init);
        };
        add(Conv2D(4, 3, "same"));
        add(BatchNormalization());
        add(Activation("relu"));
        add(Flatten());
        add(Dense(6, "relu"));  // an activation between: no fold
        add(BatchNormalization());
        add(Dense(6, Activation::Linear, false));
        add(BatchNormalization());
        add(BatchNormalization());  // only the first of two folds
        const auto plan = detail::make_inference_plan(layers, 0);
        REQUIRE(plan.steps.size() == 7);
        CHECK(plan.folded.size() == 2);
        CHECK(plan.steps[0] == plan.folded[0].get());
        CHECK(plan.steps[0]->type() == "Conv2D");
        CHECK(plan.steps[3] == layers[4].get());
        CHECK(plan.steps[4] == layers[5].get());
        CHECK(plan.steps[5] == plan.folded[1].get());
        CHECK(plan.folded[1]->params().size() == 2);  // the folded Dense has a bias
        CHECK(plan.steps[6] == layers[8].get());
    }
    SECTION("folded predict and evaluate equal the unfolded passes, and follow the weights") {
        Sequential<float> model("fold", 1);
        build(model);
        model.compile(Adam(0.01), SparseCategoricalCrossentropy(true));
        const auto x = random_tensor(Shape{23, 2, 5, 5}, rng, -1, 1);
        Tensor<int> y(Shape{23});
        for (Index i = 0; i < 23; ++i) y[i] = int(i % 3);
        check_same_to_rounding(model.predict(x, 7), unfolded_predict(model, x));

        // set_weights: new moving statistics.
        auto w = model.get_weights();
        for (auto& t : w)
            for (auto& v : t) v = v * 1.5f + 0.1f;
        model.set_weights(w);
        check_same_to_rounding(model.predict(x, 7), unfolded_predict(model, x));

        // Training moves everything; evaluate's loss follows too.
        FitOptions<float> o;
        o.verbose = 0;
        o.batch_size = 8;
        o.epochs = 3;
        o.validation_data.emplace(x, y);
        const auto history = model.fit(x, y, o);
        // Each epoch's validation ran the weights of its own epoch.
        CHECK(history.history.at("val_loss").back() == model.evaluate(x, y, 8).loss);
        const auto after_fit = unfolded_predict(model, x);
        check_same_to_rounding(model.predict(x), after_fit);
        const double loss = model.evaluate(x, y).loss;
        double want = 0;
        for (Index n = 0; n < 23; ++n) {
            const float* z = after_fit.data() + n * 3;
            const double m = std::max({z[0], z[1], z[2]});
            want += std::log(std::exp(z[0] - m) + std::exp(z[1] - m) + std::exp(z[2] - m)) + m - z[y[n]];
        }
        CHECK(loss == Approx(want / 23).epsilon(1e-5));

        // A parameter changed in place through the layer.
        model.layer(1).params()[2]->value[0] += 3.0f;
        check_same_to_rounding(model.predict(x), unfolded_predict(model, x));

        // From many threads at once, right after a change.
        model.set_weights(w);
        const auto want_now = unfolded_predict(model, x);
        std::vector<Tensor<float>> got(4);
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < got.size(); ++t) threads.emplace_back([&, t] { got[t] = model.predict(x, 5); });
        for (auto& t : threads) t.join();
        for (const auto& g : got) {
            check_same_to_rounding(g, want_now);
            CHECK(values(g) == values(got[0]));
        }

        // A loaded model and the model moved to the same device fold the same.
        test::TempDir dir("bn_fold");
        model.save(dir.file("m.lamina"));
        const auto loaded = Sequential<float>::load(dir.file("m.lamina"));
        CHECK(values(loaded.predict(x, 5)) == values(got[0]));
        CHECK(values(model.to<Cpu>().predict(x, 5)) == values(got[0]));
    }
}
