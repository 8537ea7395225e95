// Learning-rate schedules: Keras's formulas (and PyTorch's OneCycleLR), how
// optimizers use them (the rate of an update is the schedule at the
// iterations before it), model files, exact resume, and misuse.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "resume_check.hpp"
#include "temp_dir.hpp"

using namespace lamina;
namespace sch = lamina::schedules;

TEST_CASE("ExponentialDecay and PiecewiseConstantDecay follow Keras's formulas", "[schedules]") {
    const sch::ExponentialDecay smooth(0.1, 10, 0.5), stairs(0.1, 10, 0.5, true);
    CHECK(smooth(0) == Approx(0.1));
    CHECK(smooth(5) == Approx(0.1 * std::sqrt(0.5)));
    CHECK(smooth(10) == Approx(0.05));
    CHECK(stairs(15) == Approx(0.05));
    CHECK(stairs(20) == Approx(0.025));
    // Keras: values[0] while step <= boundaries[0], ...
    const sch::PiecewiseConstantDecay piecewise({100, 200}, {1.0, 0.5, 0.1});
    CHECK(piecewise(0) == 1.0);
    CHECK(piecewise(100) == 1.0);
    CHECK(piecewise(101) == 0.5);
    CHECK(piecewise(200) == 0.5);
    CHECK(piecewise(201) == 0.1);
    CHECK_THROWS_AS(sch::PiecewiseConstantDecay({1, 2}, {1.0, 0.5}), ConfigError);
    CHECK_THROWS_AS(sch::PiecewiseConstantDecay({2, 1}, {1.0, 0.5, 0.1}), ConfigError);
    CHECK_THROWS_AS(sch::ExponentialDecay(0.1, 0, 0.5), ConfigError);
}

TEST_CASE("CosineDecay follows Keras, with and without warmup", "[schedules]") {
    const sch::CosineDecay cosine(0.1, 100), floor(0.1, 100, 0.1);
    CHECK(cosine(0) == Approx(0.1));
    CHECK(cosine(50) == Approx(0.05));
    CHECK(cosine(100) == Approx(0.0).margin(1e-15));
    CHECK(cosine(1000) == Approx(0.0).margin(1e-15));
    CHECK(floor(100) == Approx(0.01));
    CHECK(floor(25) == Approx(0.1 * (0.9 * 0.5 * (1 + std::cos(std::acos(-1.0) / 4)) + 0.1)));
    // Keras 3: linear warmup from initial_learning_rate to warmup_target, then the cosine from the target.
    const sch::CosineDecay warm(0.0, 100, 0.0, 0.2, 10);
    CHECK(warm(0) == 0.0);
    CHECK(warm(5) == Approx(0.1));
    CHECK(warm(10) == Approx(0.2));
    CHECK(warm(60) == Approx(0.1));
    CHECK(warm(110) == Approx(0.0).margin(1e-15));
    CHECK_THROWS_AS(sch::CosineDecay(0.0, 100), ConfigError);
}

TEST_CASE("OneCycle follows PyTorch's OneCycleLR with cosine annealing", "[schedules]") {
    // torch.optim.lr_scheduler.OneCycleLR(max_lr=1, total_steps=100): lr after k scheduler steps.
    const sch::OneCycle one(1.0, 100);
    CHECK(one(0) == Approx(0.04));
    CHECK(one(29) == Approx(1.0));
    CHECK(one(99) == Approx(0.04 / 1e4));
    CHECK(one(1000) == Approx(0.04 / 1e4));
    const double pi = std::acos(-1.0);
    CHECK(one(10) == Approx(1.0 + (0.04 - 1.0) * 0.5 * (1 + std::cos(pi * 10 / 29))));
    CHECK(one(64) == Approx(4e-6 + (1.0 - 4e-6) * 0.5 * (1 + std::cos(pi * 35 / 70))));
    double previous = one(29);
    for (long long k = 30; k < 100; ++k) {
        CHECK(one(k) < previous);
        previous = one(k);
    }
}

TEST_CASE("An optimizer's update uses the schedule at the iterations before it", "[schedules][optimizer]") {
    const sch::ExponentialDecay decay(0.1, 1, 0.5);
    SGDOptimizer<double> sgd(decay, 0.0, false);
    Param<double> p;
    p.value = Tensor<double>(Shape{1}, {1.0});
    p.grad = Tensor<double>(Shape{1}, {1.0});
    sgd.build({&p});
    CHECK(sgd.learning_rate() == Approx(0.1));
    for (int k = 0; k < 3; ++k) sgd.step({&p});
    CHECK(p.value[0] == Approx(1.0 - (0.1 + 0.05 + 0.025)));
    CHECK(sgd.learning_rate() == Approx(0.0125));  // the next update's
    CHECK_THROWS_AS(sgd.set_learning_rate(0.01), ConfigError);
    try {
        sgd.set_learning_rate(0.01);
    } catch (const ConfigError& e) {
        CHECK(e.id() == ErrorId::config_state);
        CHECK(std::string(e.what()).find("ExponentialDecay") != std::string::npos);
    }
}

TEST_CASE("Schedules survive model files and resume exactly; callbacks that set the rate are refused",
          "[schedules][model_file]") {
    Rng rng(4);
    Tensor<float> x(Shape{96, 5});
    Tensor<int> y(Shape{96});
    for (Index i = 0; i < 96; ++i) {
        y[i] = int(i % 3);
        for (Index j = 0; j < 5; ++j) x[i * 5 + j] = float(rng.normal(j == y[i] ? 1.0 : 0.0, 1.0));
    }
    const std::vector<LearningRate> rates{sch::ExponentialDecay(0.05, 4, 0.7, true),
                                          sch::PiecewiseConstantDecay({5, 10}, {0.05, 0.02, 0.01}),
                                          sch::CosineDecay(0.0, 20, 0.05, 0.05, 4), sch::OneCycle(0.05, 24)};
    test::TempDir dir("schedules");
    for (const auto& rate : rates) {
        CAPTURE(rate.schedule()->name());
        auto make = [&] {
            Sequential<float> m("s", 3);
            m.add(Dense(8, "relu"));
            m.add(Dense(3, "softmax"));
            m.compile(Adam(rate), "sparse_categorical_crossentropy", {metrics::accuracy});
            return m;
        };
        // 6 steps an epoch
        test::check_exact_resume(make, x, y, 16, dir.file("half.lamina"), [&](auto& loaded, auto& saved) {
            REQUIRE(loaded.optimizer().learning_rate_schedule());
            CHECK(loaded.optimizer().learning_rate_schedule()->name() == rate.schedule()->name());
            CHECK(loaded.optimizer().learning_rate() == saved.optimizer().learning_rate());
        });
    }
    Sequential<float> m("s", 1);
    m.add(Dense(3, "softmax"));
    m.compile(SGD(sch::CosineDecay(0.1, 10)), "sparse_categorical_crossentropy");
    FitOptions<float> o;
    o.verbose = 0;
    o.callbacks.push_back(std::make_shared<LearningRateScheduler>([](int, double lr) { return lr / 2; }));
    CHECK_THROWS_AS(m.fit(x, y, o), ConfigError);
}

namespace {
OptimizerPtr<float, Cpu> make_sgd(const std::string& name, const std::vector<std::pair<std::string, double>>& config) {
    return make_optimizer<float, Cpu>(name, config);
}
}  // namespace

TEST_CASE("make_optimizer reads schedules back and refuses broken ones", "[schedules][optimizer]") {
    const auto adam = Adam(sch::CosineDecay(0.1, 100, 0.1, 0.3, 10)).make<float, Cpu>();
    const auto again = make_sgd(adam->name(), adam->config());
    for (long long k : {0, 5, 10, 50, 200})
        CHECK(again->learning_rate_schedule()->operator()(k) == adam->learning_rate_schedule()->operator()(k));
    using Config = std::vector<std::pair<std::string, double>>;
    const std::vector<Config> broken{
        {{"learning_rate_schedule:Warp", 1}},  // no such schedule
        {{"learning_rate_schedule:ExponentialDecay", 1},
         {"learning_rate:initial_learning_rate", 0.1},
         {"learning_rate:decay_steps", 10},
         {"learning_rate:decay_rate", 0.5},
         {"learning_rate", 0.1}},             // a number and a schedule
        {{"learning_rate:decay_steps", 10}},  // settings without a schedule
        {{"learning_rate_schedule:PiecewiseConstantDecay", 1},
         {"learning_rate:boundary_0", 5},
         {"learning_rate:value_0", 0.1},
         {"learning_rate:value_2", 0.1}},  // numbered with a gap
        {{"learning_rate_schedule:CosineDecay", 1}, {"learning_rate:decay_steps", -1}},
    };
    for (const auto& config : broken) {
        CAPTURE(config.front().first);
        CHECK_THROWS_AS(make_sgd("SGD", config), ConfigError);
    }
    const Config plain{{"learning_rate", 0.5}};
    CHECK(make_sgd("SGD", plain)->learning_rate() == 0.5);
}
