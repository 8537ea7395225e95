// Loss values against hand-computed references, and numerical stability.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include "matchers.hpp"

#include <cmath>

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
    CHECK(BinaryCrossentropyLoss<double>(false).compute(p, y, nullptr) ==
          Approx(-(std::log(0.8) + std::log(0.7)) / 2));
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
