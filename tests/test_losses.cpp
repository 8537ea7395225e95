// Loss values against hand-computed references, and numerical stability.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include "matchers.hpp"

#include <algorithm>
#include <cmath>
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
