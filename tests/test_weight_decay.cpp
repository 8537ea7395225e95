// Decoupled weight decay (Keras 3's weight_decay on every optimizer, and
// AdamW): w -= w * lr * weight_decay before each update, with the rate of
// that update (a schedule's too); saved in model files and resumed exactly.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "resume_check.hpp"
#include "temp_dir.hpp"

using namespace lamina;

namespace {

Param<double> param(std::vector<double> w, std::vector<double> g) {
    Param<double> p;
    p.value = Tensor<double>(Shape{Index(w.size())});
    p.grad = Tensor<double>(Shape{Index(g.size())});
    std::copy(w.begin(), w.end(), p.value.begin());
    std::copy(g.begin(), g.end(), p.grad.begin());
    return p;
}

}  // namespace

TEST_CASE("SGD's weight decay shrinks the weights by lr * weight_decay before the step, as Keras 3",
          "[optimizer][weight_decay]") {
    auto p = param({1.0, -2.0, 0.0}, {0.5, 0.5, -1.0});
    auto sgd = SGD(0.1, 0.0, false, 0.01).make<double, Cpu>();
    sgd->build({&p});
    sgd->step({&p});
    // Keras 3: variable -= variable * weight_decay * lr; then variable -= lr * gradient.
    CHECK(p.value[0] == Approx(1.0 - 1.0 * 0.01 * 0.1 - 0.1 * 0.5));
    CHECK(p.value[1] == Approx(-2.0 + 2.0 * 0.01 * 0.1 - 0.1 * 0.5));
    CHECK(p.value[2] == Approx(0.1));
    // With a schedule, the decay uses the rate of the same update.
    auto q = param({1.0}, {0.0});
    auto scheduled = SGD(schedules::ExponentialDecay(0.1, 1, 0.5), 0.0, false, 0.5).make<double, Cpu>();
    scheduled->build({&q});
    scheduled->step({&q});
    scheduled->step({&q});
    CHECK(q.value[0] == Approx((1.0 - 0.05) * (1.0 - 0.025)));
    const SGD negative(0.1, 0.0, false, -0.1), whole(0.1, 0.0, false, 1.0);
    auto make = [](const SGD& spec) { return spec.make<double, Cpu>(); };
    CHECK_THROWS_AS(make(negative), ConfigError);
    CHECK_THROWS_AS(make(whole), ConfigError);
}

TEST_CASE("AdamW is Adam with decoupled weight decay, Keras's defaults and name", "[optimizer][weight_decay]") {
    const AdamW defaults;
    CHECK(defaults.weight_decay == 0.004);
    CHECK(defaults.learning_rate.at(0) == 0.001);
    CHECK((make_optimizer<float, Cpu>("adamw")->name() == "AdamW"));
    auto a = param({0.3, -0.7}, {0.2, -0.1}), b = a, plain = a;
    auto adamw = AdamW(0.01, 0.1).make<double, Cpu>();
    auto adam_wd = Adam(0.01, 0.9, 0.999, 1e-7, false, 0.1).make<double, Cpu>();
    auto adam = Adam(0.01).make<double, Cpu>();
    adamw->build({&a});
    adam_wd->build({&b});
    adam->build({&plain});
    for (int k = 0; k < 3; ++k) {
        adamw->step({&a});
        adam_wd->step({&b});
        adam->step({&plain});
    }
    for (Index i = 0; i < 2; ++i) {
        CHECK(a.value[i] == b.value[i]);
        CHECK(std::abs(a.value[i]) < std::abs(plain.value[i]));  // decayed towards 0
    }
    // Adam's first step moves each weight by lr (the normalised gradient is
    // +-1); AdamW's first step also shrinks it by lr * weight_decay first.
    auto c = param({0.5}, {1.0});
    auto one = AdamW(0.01, 0.1).make<double, Cpu>();
    one->build({&c});
    one->step({&c});
    CHECK(c.value[0] == Approx(0.5 * (1 - 0.01 * 0.1) - 0.01).epsilon(1e-6));
}

TEST_CASE("Weight decay and AdamW survive model files and resume exactly", "[optimizer][weight_decay][model_file]") {
    Rng rng(8);
    Tensor<float> x(Shape{64, 4});
    Tensor<int> y(Shape{64});
    for (Index i = 0; i < 64; ++i) {
        y[i] = int(i % 2);
        for (Index j = 0; j < 4; ++j) x[i * 4 + j] = float(rng.normal(y[i] ? 1.0 : -1.0, 1.0));
    }
    test::TempDir dir("weight_decay");
    auto check = [&](auto optimizer, const std::string& name) {
        CAPTURE(name);
        auto make = [&] {
            Sequential<float> m("wd", 5);
            m.add(Dense(6, "tanh"));
            m.add(Dense(2, "softmax"));
            m.compile(optimizer, "sparse_categorical_crossentropy");
            return m;
        };
        test::check_exact_resume(make, x, y, 16, dir.file("half.lamina"), [&](auto& loaded, auto& saved) {
            CHECK(loaded.optimizer().name() == name);
            CHECK(loaded.optimizer().weight_decay() == saved.optimizer().weight_decay());
        });
    };
    check(AdamW(schedules::CosineDecay(0.02, 16)), "AdamW");
    check(SGD(0.05, 0.9, true, 0.01), "SGD");
    check(RMSprop(0.01, 0.9, 0.0, 1e-7, false, 0.02), "RMSprop");
}
