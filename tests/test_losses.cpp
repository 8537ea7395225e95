// Loss values against hand-computed references, and numerical stability.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include "gradcheck.hpp"
#include "matchers.hpp"
#include "resume_check.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace lamina;

TEST_CASE("Cross-entropy values match the textbook formulas", "[loss]") {
    const Tensor<double> logits(Shape{2, 3}, {1.0, 2.0, 3.0, 0.5, 0.5, -1.0});
    const Tensor<double> labels(Shape{2}, {2.0, 0.0});
    auto lse = [](double a, double b, double c) { return std::log(std::exp(a) + std::exp(b) + std::exp(c)); };
    const double expected = ((lse(1, 2, 3) - 3) + (lse(0.5, 0.5, -1) - 0.5)) / 2;
    CHECK(SparseCategoricalCrossentropyLoss<double>(true).compute(logits, labels, nullptr) == Approx(expected));
    const Tensor<double> onehot(Shape{2, 3}, {0, 0, 1, 1, 0, 0});
    CHECK(CategoricalCrossentropyLoss<double>(true).compute(logits, onehot, nullptr) == Approx(expected));

    const Tensor<double> probs(Shape{1, 3}, {0.2, 0.3, 0.5});
    CHECK(SparseCategoricalCrossentropyLoss<double>(false).compute(probs, Tensor<double>(Shape{1}, {1.0}), nullptr) ==
          Approx(-std::log(0.3)));
    const Tensor<double> soft(Shape{1, 3}, {0.1, 0.6, 0.3});
    CHECK(CategoricalCrossentropyLoss<double>(false).compute(probs, soft, nullptr) ==
          Approx(-(0.1 * std::log(0.2) + 0.6 * std::log(0.3) + 0.3 * std::log(0.5))));
}

TEST_CASE("Binary cross-entropy and MSE values", "[loss]") {
    const Tensor<double> p(Shape{1, 2}, {0.8, 0.3});
    const Tensor<double> y(Shape{1, 2}, {1.0, 0.0});
    CHECK(BinaryCrossentropyLoss<double>(false).compute(p, y, nullptr) == Approx(-(std::log(0.8) + std::log(0.7)) / 2));
    const Tensor<double> z(Shape{1, 2}, {2.0, -1.0});
    auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
    CHECK(BinaryCrossentropyLoss<double>(true).compute(z, y, nullptr) ==
          Approx(-(std::log(sig(2)) + std::log(1 - sig(-1))) / 2));
    CHECK(MeanSquaredErrorLoss<double>().compute(p, y, nullptr) == Approx((0.04 + 0.09) / 2));
}

TEST_CASE("Losses stay finite for logits of +-1e4 and probabilities of 0 and 1", "[loss][stability]") {
    const Tensor<float> logits(Shape{2, 3}, {1e4f, -1e4f, 0.0f, -1e4f, -1e4f, 1e4f});
    const Tensor<float> labels(Shape{2}, {1.0f, 2.0f});
    Tensor<float> grad(Shape{2, 3});
    const float l = SparseCategoricalCrossentropyLoss<float>(true).compute(logits, labels, &grad);
    CHECK(std::isfinite(l));
    CHECK(l == Approx(1e4f));  // first row: logsumexp = 1e4, true logit -1e4 -> 2e4; second row 0
    CHECK(grad.array().isFinite().all());

    const Tensor<float> onehot(Shape{2, 3}, {0, 1, 0, 0, 0, 1});
    CHECK(std::isfinite(CategoricalCrossentropyLoss<float>(true).compute(logits, onehot, &grad)));
    CHECK(grad.array().isFinite().all());
    CHECK(std::isfinite(BinaryCrossentropyLoss<float>(true).compute(logits, onehot, &grad)));
    CHECK(grad.array().isFinite().all());

    const Tensor<float> extreme(Shape{2, 3}, {0, 1, 0, 1, 0, 0});
    CHECK(std::isfinite(CategoricalCrossentropyLoss<float>(false).compute(extreme, onehot, &grad)));
    CHECK(grad.array().isFinite().all());
    CHECK(std::isfinite(SparseCategoricalCrossentropyLoss<float>(false).compute(extreme, labels, &grad)));
    CHECK(grad.array().isFinite().all());
    CHECK(std::isfinite(BinaryCrossentropyLoss<float>(false).compute(extreme, onehot, &grad)));
    CHECK(grad.array().isFinite().all());
}

TEST_CASE(
    "Softmax + cross-entropy on probabilities: the logit gradient is the gradient of the reported loss, "
    "saturated or not",
    "[loss][stability]") {
    // Keras's JAX and PyTorch backends: the loss clips q = p / sum(p) to
    // [1e-7, 1 - 1e-7], and the gradient is that clipped loss's exact
    // gradient. Checked against central differences of compute() through
    // the softmax, with logits far from the clipping thresholds.
    auto softmax = [](const std::vector<double>& z) {
        Tensor<double> p(Shape{1, Index(z.size())});
        double m = *std::max_element(z.begin(), z.end()), s = 0;
        for (double v : z) s += std::exp(v - m);
        for (std::size_t k = 0; k < z.size(); ++k) p[Index(k)] = std::exp(z[k] - m) / s;
        return p;
    };
    const std::vector<std::vector<double>> rows{
        {1.0, 2.0, 0.5, -1.0},    // nothing saturated
        {30.0, 0.0, -2.0, 1.0},   // the true class (1) below 1e-7: clipped
        {0.0, 25.0, -3.0, -1.0},  // the true class above 1 - 1e-7: clipped
    };
    const std::vector<std::vector<double>> targets{{0, 1, 0, 0}, {0.2, 0.5, 0.3, 0}};
    for (const auto& z : rows)
        for (const auto& y : targets) {
            CAPTURE(z, y);
            const Tensor<double> target(Shape{1, 4}, {y[0], y[1], y[2], y[3]});
            const CategoricalCrossentropyLoss<double> loss(false);
            Tensor<double> dz(Shape{1, 4});
            REQUIRE(loss.logit_gradient(softmax(z), target, dz));
            for (std::size_t k = 0; k < 4; ++k) {
                const double h = 1e-5;
                auto plus = z, minus = z;
                plus[k] += h;
                minus[k] -= h;
                const double numeric =
                    (loss.compute(softmax(plus), target, nullptr) - loss.compute(softmax(minus), target, nullptr)) /
                    (2 * h);
                CHECK(dz[Index(k)] == Approx(numeric).margin(1e-7));
            }
            if (y[1] == 1) {  // the sparse loss agrees with the one-hot one
                Tensor<double> sparse_dz(Shape{1, 4});
                SparseCategoricalCrossentropyLoss<double>(false).logit_gradient(
                    softmax(z), Tensor<double>(Shape{1}, {1.0}), sparse_dz);
                for (Index k = 0; k < 4; ++k) CHECK(sparse_dz[k] == Approx(dz[k]).margin(1e-15));
            }
        }
}

TEST_CASE("Losses reject targets of the wrong shape or range", "[loss][errors]") {
    SparseCategoricalCrossentropyLoss<float> sparse(true);
    REQUIRE_THROWS_MATCHES(sparse.check_targets(Shape{10}, Tensor<float>(Shape{2}, {3.0f, 10.0f})), ConfigError,
                           test::error(ErrorId::config_label, {"label 10", "index 1"}));
    REQUIRE_THROWS_AS(sparse.check_targets(Shape{10}, Tensor<float>(Shape{1}, {-1.0f})), ConfigError);
    REQUIRE_THROWS_AS(sparse.check_targets(Shape{10}, Tensor<float>(Shape{1}, {2.5f})), ConfigError);
    REQUIRE_THROWS_AS(sparse.check_targets(Shape{1, 28, 28}, Tensor<float>(Shape{1}, {0.0f})), ShapeError);
    CategoricalCrossentropyLoss<float> cat(false);
    REQUIRE_THROWS_MATCHES(cat.check_targets(Shape{10}, Tensor<float>(Shape{4, 9})), ShapeError,
                           test::error(ErrorId::shape_mismatch, {"(4, 10)"}));
    REQUIRE_THROWS_AS(BinaryCrossentropyLoss<float>(false).check_targets(Shape{1}, Tensor<float>(Shape{1, 1}, {2.0f})),
                      ConfigError);
    REQUIRE_THROWS_AS((make_loss<float, Cpu>("hinge")), ConfigError);
    CHECK((make_loss<float, Cpu>("mse")->name() == "mean_squared_error"));
}

namespace {

// Random logits (B, K) with their softmax, labels and one-hot targets, and
// soft (non one-hot) targets, for the label-smoothing tests.
struct SmoothingCase {
    static constexpr Index B = 4, K = 5;
    Tensor<double> z{Shape{B, K}}, p{Shape{B, K}}, labels{Shape{B}}, onehot{Shape{B, K}}, soft{Shape{B, K}};
    explicit SmoothingCase(std::uint64_t seed) {
        Rng rng(seed);
        for (auto& v : z) v = rng.uniform(-3, 3);
        for (Index r = 0; r < B; ++r) {
            labels[r] = double(rng.below(K));
            double m = z[r * K], s = 0, t = 0;
            for (Index k = 1; k < K; ++k) m = std::max(m, z[r * K + k]);
            for (Index k = 0; k < K; ++k) s += std::exp(z[r * K + k] - m);
            for (Index k = 0; k < K; ++k) {
                p[r * K + k] = std::exp(z[r * K + k] - m) / s;
                onehot[r * K + k] = k == Index(labels[r]) ? 1.0 : 0.0;
                soft[r * K + k] = rng.uniform(0, 1);
                t += soft[r * K + k];
            }
            for (Index k = 0; k < K; ++k) soft[r * K + k] /= t;
        }
    }
};

// The definition, in double: y' = y (1 - ls) + ls / K, and the batch mean of
// -sum_k y'_k log q_k, with q = softmax(pred) from logits, else pred / sum(pred)
// clipped to [1e-7, 1 - 1e-7].
double smoothed_reference(const Tensor<double>& pred, const Tensor<double>& y, bool from_logits, double ls) {
    const Index B = pred.shape()[0], K = pred.shape()[1];
    double total = 0;
    for (Index r = 0; r < B; ++r) {
        double s = 0;
        for (Index k = 0; k < K; ++k) s += from_logits ? std::exp(pred[r * K + k]) : pred[r * K + k];
        for (Index k = 0; k < K; ++k) {
            const double target = y[r * K + k] * (1 - ls) + ls / double(K);
            const double q =
                from_logits ? std::exp(pred[r * K + k]) / s : std::clamp(pred[r * K + k] / s, 1e-7, 1 - 1e-7);
            total -= target * std::log(q);
        }
    }
    return total / double(B);
}

void check_same(const Tensor<double>& got, const Tensor<double>& want, double margin) {
    REQUIRE(got.shape() == want.shape());
    for (Index i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i] == Approx(want[i]).margin(margin));
    }
}

}  // namespace

TEST_CASE("Label smoothing: values match the definition, from logits and from probabilities", "[loss][smoothing]") {
    const SmoothingCase c(21);
    for (double ls : {0.0, 0.1, 0.35, 1.0}) {
        CAPTURE(ls);
        for (bool from_logits : {true, false}) {
            CAPTURE(from_logits);
            const auto& pred = from_logits ? c.z : c.p;
            const double want = smoothed_reference(pred, c.onehot, from_logits, ls);
            CHECK(SparseCategoricalCrossentropyLoss<double>(from_logits, ls).compute(pred, c.labels, nullptr) ==
                  Approx(want).epsilon(1e-12));
            CHECK(CategoricalCrossentropyLoss<double>(from_logits, ls).compute(pred, c.onehot, nullptr) ==
                  Approx(want).epsilon(1e-12));
            CHECK(CategoricalCrossentropyLoss<double>(from_logits, ls).compute(pred, c.soft, nullptr) ==
                  Approx(smoothed_reference(pred, c.soft, from_logits, ls)).epsilon(1e-12));
        }
    }
    // Keras's worked example: ls = 0.2, K = 2 makes the targets 0.1 and 0.9.
    const Tensor<double> probs(Shape{1, 2}, {0.3, 0.7});
    CHECK(CategoricalCrossentropyLoss<double>(false, 0.2)
              .compute(probs, Tensor<double>(Shape{1, 2}, {0.0, 1.0}), nullptr) ==
          Approx(-(0.1 * std::log(0.3) + 0.9 * std::log(0.7))));
    // Smoothing changes the value: the tests above can tell it apart.
    CHECK(SparseCategoricalCrossentropyLoss<double>(true, 0.1).compute(c.z, c.labels, nullptr) !=
          Approx(SparseCategoricalCrossentropyLoss<double>(true).compute(c.z, c.labels, nullptr)).epsilon(1e-6));
}

TEST_CASE("Label smoothing: gradients match finite differences, on every path", "[loss][smoothing]") {
    const SmoothingCase c(22);
    for (double ls : {0.1, 0.6, 1.0}) {
        CAPTURE(ls);
        for (bool from_logits : {true, false}) {
            CAPTURE(from_logits);
            const auto& pred = from_logits ? c.z : c.p;
            Tensor<double> grad(pred.shape());
            const SparseCategoricalCrossentropyLoss<double> sparse(from_logits, ls);
            sparse.compute(pred, c.labels, &grad);
            check_same(grad, gradcheck::loss_numeric_gradient(sparse, pred, c.labels), 1e-7);
            const CategoricalCrossentropyLoss<double> dense(from_logits, ls);
            for (const auto* y : {&c.onehot, &c.soft}) {
                dense.compute(pred, *y, &grad);
                check_same(grad, gradcheck::loss_numeric_gradient(dense, pred, *y), 1e-7);
            }
        }
        // The fast path: dL/dlogits handed through a softmax layer is the
        // gradient of the probability loss with respect to the logits.
        for (const auto* y : {&c.onehot, &c.soft}) {
            const CategoricalCrossentropyLoss<double> dense(false, ls);
            Tensor<double> dz(c.z.shape());
            REQUIRE(dense.logit_gradient(c.p, *y, dz));
            const CategoricalCrossentropyLoss<double> on_logits(true, ls);
            check_same(dz, gradcheck::loss_numeric_gradient(on_logits, c.z, *y), 1e-7);
        }
        Tensor<double> dz(c.z.shape());
        REQUIRE(SparseCategoricalCrossentropyLoss<double>(false, ls).logit_gradient(c.p, c.labels, dz));
        check_same(dz,
                   gradcheck::loss_numeric_gradient(SparseCategoricalCrossentropyLoss<double>(true, ls), c.z, c.labels),
                   1e-7);
    }
}

TEST_CASE("Label smoothing: sparse and one-hot agree, and so do the logit and probability paths", "[loss][smoothing]") {
    const SmoothingCase c(23);
    for (double ls : {0.0, 0.2, 1.0}) {
        CAPTURE(ls);
        Tensor<double> g_sparse(c.z.shape()), g_dense(c.z.shape());
        for (bool from_logits : {true, false}) {
            CAPTURE(from_logits);
            const auto& pred = from_logits ? c.z : c.p;
            const double sparse =
                SparseCategoricalCrossentropyLoss<double>(from_logits, ls).compute(pred, c.labels, &g_sparse);
            const double dense = CategoricalCrossentropyLoss<double>(from_logits, ls).compute(pred, c.onehot, &g_dense);
            CHECK(sparse == Approx(dense).epsilon(1e-13));
            check_same(g_sparse, g_dense, 1e-13);
        }
        // Logits z and their softmax p give the same loss; the logit gradient
        // of the probability loss is the logits loss's gradient.
        Tensor<double> g_logits(c.z.shape()), dz_sparse(c.z.shape()), dz_dense(c.z.shape());
        const double on_logits = CategoricalCrossentropyLoss<double>(true, ls).compute(c.z, c.onehot, &g_logits);
        CHECK(CategoricalCrossentropyLoss<double>(false, ls).compute(c.p, c.onehot, nullptr) ==
              Approx(on_logits).epsilon(1e-12));
        CHECK(SparseCategoricalCrossentropyLoss<double>(false, ls).compute(c.p, c.labels, nullptr) ==
              Approx(on_logits).epsilon(1e-12));
        SparseCategoricalCrossentropyLoss<double>(false, ls).logit_gradient(c.p, c.labels, dz_sparse);
        CategoricalCrossentropyLoss<double>(false, ls).logit_gradient(c.p, c.onehot, dz_dense);
        check_same(dz_sparse, g_logits, 1e-13);
        check_same(dz_dense, g_logits, 1e-13);
    }
}

TEST_CASE("Label smoothing outside [0, 1] is a ConfigError naming the loss and the key", "[loss][smoothing][errors]") {
    for (double bad : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
        CAPTURE(bad);
        REQUIRE_THROWS_MATCHES(CategoricalCrossentropyLoss<float>(false, bad), ConfigError,
                               test::error(ErrorId::config_argument, {"categorical_crossentropy", "label_smoothing"}));
        REQUIRE_THROWS_MATCHES(
            SparseCategoricalCrossentropyLoss<float>(true, bad), ConfigError,
            test::error(ErrorId::config_argument, {"sparse_categorical_crossentropy", "label_smoothing"}));
        REQUIRE_THROWS_MATCHES((make_loss<float, Cpu>("categorical_crossentropy", {{"label_smoothing", bad}})),
                               ConfigError,
                               test::error(ErrorId::config_argument, {"categorical_crossentropy", "label_smoothing"}));
    }
    Sequential<float> model("m");
    model.add(Dense(3, "softmax"));
    REQUIRE_THROWS_MATCHES(model.compile("adam", SparseCategoricalCrossentropy(false, 2.0)), ConfigError,
                           test::error(ErrorId::config_argument, {"sparse_categorical_crossentropy", "got 2"}));
    // Only the categorical losses have the setting.
    REQUIRE_THROWS_MATCHES((make_loss<float, Cpu>("binary_crossentropy", {{"label_smoothing", 0.1}})), ConfigError,
                           test::error(ErrorId::config_argument, {"unknown setting 'label_smoothing'"}));
    CHECK(CategoricalCrossentropyLoss<float>(false, 1.0).label_smoothing() == 1.0);
    CHECK(CategoricalCrossentropyLoss<float>(false).config() ==
          std::vector<std::pair<std::string, double>>{{"from_logits", 0.0}});
}

TEST_CASE("Label smoothing survives model files and resumes exactly", "[loss][smoothing][model_file]") {
    Rng rng(9);
    Tensor<float> x(Shape{64, 4});
    Tensor<int> y(Shape{64});
    for (Index i = 0; i < 64; ++i) {
        y[i] = int(i % 3);
        for (Index j = 0; j < 4; ++j) x[i * 4 + j] = float(rng.normal(double(y[i]) - 1.0, 1.0));
    }
    const auto onehot = datasets::to_categorical<float>(y, 3);
    test::TempDir dir("label_smoothing");
    auto check = [&](auto loss, auto plain, const char* last, const auto& targets, double ls) {
        CAPTURE(last, ls);
        auto make_with = [&](auto l) {
            Sequential<float> m("ls", 5);
            m.add(Dense(6, "tanh"));
            m.add(Dense(3, last));
            m.compile(Adam(0.02), l);
            return m;
        };
        auto make = [&] { return make_with(loss); };
        test::check_exact_resume(make, x, targets, 16, dir.file("half.lamina"), [&](auto& loaded, auto& saved) {
            CHECK(loaded.loss().name() == saved.loss().name());
            CHECK(loaded.loss().config() == saved.loss().config());
            const auto config = loaded.loss().config();
            CHECK(std::find(config.begin(), config.end(), std::pair<std::string, double>{"label_smoothing", ls}) !=
                  config.end());
        });
        // The smoothing reaches training: without it the weights differ.
        FitOptions<float> o;
        o.batch_size = 16;
        o.verbose = 0;
        o.epochs = 1;
        auto with = make_with(loss), without = make_with(plain);
        with.fit(x, targets, o);
        without.fit(x, targets, o);
        CHECK(with.get_weights().back()[0] != without.get_weights().back()[0]);
    };
    check(SparseCategoricalCrossentropy(false, 0.1), SparseCategoricalCrossentropy(false), "softmax", y, 0.1);
    check(SparseCategoricalCrossentropy(true, 0.25), SparseCategoricalCrossentropy(true), "linear", y, 0.25);
    check(CategoricalCrossentropy(false, 0.3), CategoricalCrossentropy(false), "softmax", onehot, 0.3);
    check(CategoricalCrossentropy(true, 0.05), CategoricalCrossentropy(true), "linear", onehot, 0.05);
}
