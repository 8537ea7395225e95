// Optimizer steps against Keras's update formulas, written out per scalar.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <cmath>
#include <vector>

using namespace lamina;

namespace {
// Three steps on a 4-element parameter with changing gradients.
const std::vector<double> w_start{0.5, -1.0, 2.0, 0.0};
std::vector<double> grads_at(int step) { return {0.1 * step, -0.3, 1.5 / step, step % 2 ? 0.2 : -0.4}; }

template <class Spec>
std::vector<double> run(const Spec& spec, int steps) {
    auto opt = spec.template make<double, Cpu>();
    Param<double> p;
    p.value = Tensor<double>(Shape{4}, {w_start[0], w_start[1], w_start[2], w_start[3]});
    p.grad = Tensor<double>(Shape{4});
    std::vector<Param<double>*> ps{&p};
    opt->build(ps);
    for (int t = 1; t <= steps; ++t) {
        const auto g = grads_at(t);
        for (Index i = 0; i < 4; ++i) p.grad[i] = g[std::size_t(i)];
        opt->step(ps);
    }
    return {p.value.begin(), p.value.end()};
}

void check_close(const std::vector<double>& got, const std::vector<double>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-12).margin(1e-14));
}
}  // namespace

TEST_CASE("SGD follows Keras: plain, momentum, nesterov", "[optimizer][sgd]") {
    for (double momentum : {0.0, 0.9}) {
        for (bool nesterov : {false, true}) {
            CAPTURE(momentum, nesterov);
            const double lr = 0.05;
            std::vector<double> w = w_start, m(4, 0.0);
            for (int t = 1; t <= 3; ++t) {
                const auto g = grads_at(t);
                for (std::size_t i = 0; i < 4; ++i) {
                    if (momentum == 0) {
                        w[i] -= lr * g[i];
                    } else {
                        m[i] = momentum * m[i] - lr * g[i];
                        w[i] += nesterov ? momentum * m[i] - lr * g[i] : m[i];
                    }
                }
            }
            check_close(run(SGD(lr, momentum, nesterov), 3), w);
        }
    }
}

TEST_CASE("Adam follows Keras, with and without amsgrad", "[optimizer][adam]") {
    for (bool amsgrad : {false, true}) {
        CAPTURE(amsgrad);
        const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
        std::vector<double> w = w_start, m(4, 0), v(4, 0), vhat(4, 0);
        for (int t = 1; t <= 3; ++t) {
            const auto g = grads_at(t);
            const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
            for (std::size_t i = 0; i < 4; ++i) {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                vhat[i] = std::max(vhat[i], v[i]);
                w[i] -= alpha * m[i] / (std::sqrt(amsgrad ? vhat[i] : v[i]) + eps);
            }
        }
        check_close(run(Adam(lr, b1, b2, eps, amsgrad), 3), w);
    }
}

TEST_CASE("RMSprop follows Keras: plain, centered, momentum", "[optimizer][rmsprop]") {
    for (bool centered : {false, true}) {
        for (double momentum : {0.0, 0.5}) {
            CAPTURE(centered, momentum);
            const double lr = 0.01, rho = 0.9, eps = 1e-7;
            std::vector<double> w = w_start, v(4, 0), mg(4, 0), mom(4, 0);
            for (int t = 1; t <= 3; ++t) {
                const auto g = grads_at(t);
                for (std::size_t i = 0; i < 4; ++i) {
                    v[i] = rho * v[i] + (1 - rho) * g[i] * g[i];
                    double denom = v[i];
                    if (centered) {
                        mg[i] = rho * mg[i] + (1 - rho) * g[i];
                        denom = v[i] - mg[i] * mg[i];
                    }
                    const double inc = lr * g[i] / std::sqrt(denom + eps);
                    if (momentum > 0) {
                        mom[i] = momentum * mom[i] + inc;
                        w[i] -= mom[i];
                    } else {
                        w[i] -= inc;
                    }
                }
            }
            check_close(run(RMSprop(lr, rho, momentum, eps, centered), 3), w);
        }
    }
}

TEST_CASE("Float Adam and RMSprop take 1 - beta and 1 - rho from the double value, as Keras", "[optimizer]") {
    // float(0.999) is 1.3e-8 above 0.999, so 1 - float(0.999) is 1.3e-5 off
    // (relative) from Keras's coefficient; 0.9999 makes it 1.7e-4.
    auto first_slot = [](auto spec) {
        auto opt = spec.template make<float, Cpu>();
        Param<float> p;
        p.value = Tensor<float>(Shape{3}, {1.0f, -2.0f, 0.5f});
        p.grad = Tensor<float>(Shape{3}, {0.3f, -1.7f, 2.5f});
        std::vector<Param<float>*> ps{&p};
        opt->build(ps);
        opt->step(ps);
        return std::pair<Tensor<float>, Tensor<float>>(p.grad, p.slots.back());
    };
    for (double beta_2 : {0.999, 0.9999}) {
        CAPTURE(beta_2);
        const auto [g, v] = first_slot(Adam(0.001, 0.9, beta_2));
        for (Index i = 0; i < 3; ++i)
            CHECK(double(v[i]) == Approx(double(g[i]) * double(g[i]) * (1 - beta_2)).epsilon(3e-7));
        const auto [g2, v2] = first_slot(RMSprop(0.001, beta_2));
        for (Index i = 0; i < 3; ++i)
            CHECK(double(v2[i]) == Approx(double(g2[i]) * double(g2[i]) * (1 - beta_2)).epsilon(3e-7));
    }
}

TEST_CASE("Optimizers have Keras's defaults and names", "[optimizer]") {
    CHECK(SGD().learning_rate.at(0) == 0.01);
    CHECK(Adam().learning_rate.at(0) == 0.001);
    CHECK(RMSprop().learning_rate.at(0) == 0.001);
    CHECK(Adam().epsilon == 1e-7);
    CHECK(RMSprop().rho == 0.9);
    CHECK((make_optimizer<float, Cpu>("Adam")->name() == "Adam"));
    CHECK((make_optimizer<float, Cpu>("sgd")->name() == "SGD"));
    CHECK((make_optimizer<float, Cpu>("rmsprop")->slot_names() == std::vector<std::string>{"velocity"}));
    REQUIRE_THROWS_AS((make_optimizer<float, Cpu>("adagrad")), ConfigError);
    REQUIRE_THROWS_AS((SGD(-1.0).make<float, Cpu>()), ConfigError);
    REQUIRE_THROWS_AS((Adam(0.001, 1.5).make<float, Cpu>()), ConfigError);
}

TEST_CASE("The learning rate can be changed between steps", "[optimizer]") {
    auto opt = SGD(0.1).make<double, Cpu>();
    Param<double> p;
    p.value = Tensor<double>(Shape{1}, {1.0});
    p.grad = Tensor<double>(Shape{1}, {1.0});
    std::vector<Param<double>*> ps{&p};
    opt->build(ps);
    opt->step(ps);
    opt->set_learning_rate(0.01);
    opt->step(ps);
    CHECK(p.value[0] == Approx(1.0 - 0.1 - 0.01));
    CHECK(opt->iterations() == 2);
    REQUIRE_THROWS_AS(opt->set_learning_rate(0.0), ConfigError);
}
