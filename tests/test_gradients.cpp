// Finite-difference gradient checks (double) for every layer and loss.
#include <catch2/catch.hpp>

#include "gradcheck.hpp"

using namespace lamina;
using gradcheck::built;
using gradcheck::random_tensor;

namespace {
constexpr double tolerance = 1e-6;
}  // namespace

TEST_CASE("Dense gradients match finite differences for every activation", "[gradient][dense]") {
    Rng rng(7);
    for (ActivationKind act : {ActivationKind::Linear, ActivationKind::ReLU, ActivationKind::Sigmoid,
                               ActivationKind::Tanh, ActivationKind::Softmax}) {
        for (Index batch : {1, 3}) {
            for (bool bias : {true, false}) {
                for (Index in : {1, 5}) {
                    CAPTURE(to_string(act), batch, bias, in);
                    auto layer = built(Dense(4, act, bias, Initializer::GlorotUniform, Initializer::GlorotUniform),
                                       Shape{in}, rng);
                    const auto r = gradcheck::check_layer(*layer, random_tensor(Shape{batch, in}, rng), rng);
                    CHECK(r.max_input_error <= tolerance);
                    CHECK(r.max_param_error <= tolerance);
                }
            }
        }
    }
}

TEST_CASE("Activation and Softmax layers' gradients match finite differences", "[gradient][activation]") {
    Rng rng(8);
    for (ActivationKind act : {ActivationKind::Linear, ActivationKind::ReLU, ActivationKind::Sigmoid,
                               ActivationKind::Tanh, ActivationKind::Softmax}) {
        for (Index batch : {1, 4}) {
            CAPTURE(to_string(act), batch);
            auto layer = built(Activation(act), Shape{6}, rng);
            const auto r = gradcheck::check_layer(*layer, random_tensor(Shape{batch, 6}, rng, -3, 3), rng);
            CHECK(r.max_input_error <= tolerance);
        }
    }
    auto softmax = built(Softmax(), Shape{5}, rng);
    CHECK(gradcheck::check_layer(*softmax, random_tensor(Shape{2, 5}, rng), rng).max_input_error <= tolerance);
}

TEST_CASE("Flatten passes gradients through unchanged", "[gradient][flatten]") {
    Rng rng(9);
    for (const Shape& s : {Shape{1, 3, 3}, Shape{2, 2, 5}, Shape{7}}) {
        auto layer = built(Flatten(), s, rng);
        CHECK(layer->output_shape() == Shape{s.size()});
        for (Index batch : {1, 2})
            CHECK(gradcheck::check_layer(*layer, random_tensor(s.with_batch(batch), rng), rng).max_input_error <=
                  tolerance);
    }
}

TEST_CASE("Dropout gradients match finite differences under a fixed mask", "[gradient][dropout]") {
    Rng rng(10);
    auto layer = built(Dropout(0.4), Shape{8}, rng);
    auto& dropout = dynamic_cast<DropoutLayer<double>&>(*layer);
    const auto state = dropout.rng().state();
    for (Index batch : {1, 5}) {
        const auto r = gradcheck::check_layer(*layer, random_tensor(Shape{batch, 8}, rng), rng,
                                              [&] { dropout.rng().set_state(state); });
        CHECK(r.max_input_error <= tolerance);
    }
}

TEST_CASE("Loss gradients match finite differences", "[gradient][loss]") {
    Rng rng(11);
    for (Index batch : {1, 4}) {
        CAPTURE(batch);
        const auto logits = random_tensor(Shape{batch, 5}, rng, -3, 3);
        Tensor<double> labels(Shape{batch});
        for (Index i = 0; i < batch; ++i) labels[i] = double(rng.below(5));
        Tensor<double> onehot(Shape{batch, 5}, 0.0);
        for (Index i = 0; i < batch; ++i) onehot(i, Index(labels[i])) = 1.0;
        // Probabilities strictly inside (eps, 1-eps), not normalised: checks Keras's renormalisation too.
        const auto probs = random_tensor(Shape{batch, 5}, rng, 0.05, 0.6);
        const auto unit = random_tensor(Shape{batch, 5}, rng, 0.05, 0.95);
        const auto binary = random_tensor(Shape{batch, 5}, rng, 0, 1);

        CHECK(gradcheck::check_loss(SparseCategoricalCrossentropyLoss<double>(true), logits, labels) <= tolerance);
        CHECK(gradcheck::check_loss(SparseCategoricalCrossentropyLoss<double>(false), probs, labels) <= tolerance);
        CHECK(gradcheck::check_loss(CategoricalCrossentropyLoss<double>(true), logits, onehot) <= tolerance);
        CHECK(gradcheck::check_loss(CategoricalCrossentropyLoss<double>(false), probs, onehot) <= tolerance);
        CHECK(gradcheck::check_loss(CategoricalCrossentropyLoss<double>(true), logits, unit) <= tolerance);
        CHECK(gradcheck::check_loss(BinaryCrossentropyLoss<double>(true), logits, binary) <= tolerance);
        CHECK(gradcheck::check_loss(BinaryCrossentropyLoss<double>(false), unit, binary) <= tolerance);
        CHECK(gradcheck::check_loss(MeanSquaredErrorLoss<double>(), logits, unit) <= tolerance);
    }
}

// The fused path (softmax output + cross-entropy on probabilities) hands the
// layer dL/dlogits; checked end to end through one SGD step: w1 = w0 - lr g.
TEST_CASE("Whole-model gradient through the fused softmax/cross-entropy path", "[gradient][sequential]") {
    Rng rng(12);
    const Index n = 6;
    auto x = random_tensor(Shape{n, 4}, rng);
    Tensor<int> y(Shape{n});
    for (Index i = 0; i < n; ++i) y[i] = int(rng.below(3));

    for (bool sparse : {true, false}) {
        CAPTURE(sparse);
        Sequential<double> model("m", 3);
        model.add(Dense(5, Activation::Tanh));
        model.add(Dense(3, Activation::Softmax));
        const double lr = 1e-3;
        Tensor<double> onehot(Shape{n, 3}, 0.0);
        for (Index i = 0; i < n; ++i) onehot(i, y[i]) = 1;
        auto compile = [&](Sequential<double>& m) {
            if (sparse) m.compile(SGD(lr), SparseCategoricalCrossentropy());
            else m.compile(SGD(lr), CategoricalCrossentropy());
        };
        compile(model);
        model.build(Shape{4});
        const auto w0 = model.get_weights();
        auto loss_at = [&](const std::vector<Tensor<double>>& w) {
            model.set_weights(w);
            return sparse ? model.evaluate(x, y, n).loss : model.evaluate(x, onehot, n).loss;
        };
        FitOptions<double> o;
        o.batch_size = n;
        o.verbose = 0;
        o.shuffle = false;
        if (sparse) model.fit(x, y, o);
        else model.fit(x, onehot, o);
        const auto w1 = model.get_weights();
        double worst = 0;
        for (std::size_t a = 0; a < w0.size(); ++a) {
            for (Index i = 0; i < w0[a].size(); ++i) {
                auto wp = w0, wm = w0;
                wp[a][i] += gradcheck::step;
                wm[a][i] -= gradcheck::step;
                const double numeric = (loss_at(wp) - loss_at(wm)) / (2 * gradcheck::step);
                const double analytic = (w0[a][i] - w1[a][i]) / lr;
                worst = std::max(worst, gradcheck::rel_error(analytic, numeric));
            }
        }
        // (w0 - w1) / lr loses ~1e-10 to rounding in the subtraction.
        CHECK(worst <= 1e-6);
    }
}
