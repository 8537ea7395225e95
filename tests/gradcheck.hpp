// tests/gradcheck.hpp: finite-difference gradient checks in double.
//
// A layer is checked through the scalar L = sum(r * y) for a fixed random r,
// so dL/dy = r. Each input and parameter element is perturbed by +-h and the
// central difference is compared with backward()'s value:
//   rel = |analytic - numeric| / max(|analytic|, |numeric|, floor)
// The floor keeps gradients that are zero up to rounding from dividing by ~0.
#pragma once

#include <lamina/lamina.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

namespace gradcheck {

using lamina::Index;
using lamina::Rng;
using lamina::Shape;
using Tensor = lamina::Tensor<double>;

constexpr double step = 1e-6;
constexpr double floor = 1e-3;

inline double rel_error(double a, double n) { return std::abs(a - n) / std::max({std::abs(a), std::abs(n), floor}); }

inline Tensor random_tensor(const Shape& s, Rng& rng, double lo = -1, double hi = 1) {
    Tensor t(s);
    for (auto& v : t) v = rng.uniform(lo, hi);
    return t;
}

struct Result {
    double max_input_error = 0;
    double max_param_error = 0;
};

// A double-precision layer from a user-facing spec, named "under_test" (error
// messages in tests name it) and built for one sample of shape `sample`.
template <class Spec>
lamina::LayerPtr<double, lamina::Cpu> built(const Spec& spec, const Shape& sample, Rng& rng) {
    auto layer = spec.template make<double, lamina::Cpu>();
    layer->set_name("under_test");
    layer->build(sample, rng);
    return layer;
}

// before_forward() runs before every forward pass (Dropout resets its Rng there).
inline Result check_layer(
    lamina::Layer<double>& layer, const Tensor& x0, Rng& rng, const std::function<void()>& before_forward = [] {}) {
    const Index batch = x0.rows();
    const Shape out_shape = layer.output_shape().with_batch(batch);
    const Tensor r = random_tensor(out_shape, rng);
    Tensor x = x0, y(out_shape);
    auto objective = [&]() {
        before_forward();
        layer.forward(x, y, lamina::Mode::Training);
        double s = 0;
        for (Index i = 0; i < y.size(); ++i) s += r[i] * y[i];
        return s;
    };

    layer.reserve(batch);
    for (auto* p : layer.params()) p->grad.set_zero();
    objective();
    Tensor dx(x.shape());
    layer.backward(x, y, r, &dx);

    Result res;
    for (Index i = 0; i < x.size(); ++i) {
        const double keep = x[i];
        x[i] = keep + step;
        const double plus = objective();
        x[i] = keep - step;
        const double minus = objective();
        x[i] = keep;
        res.max_input_error = std::max(res.max_input_error, rel_error(dx[i], (plus - minus) / (2 * step)));
    }
    for (auto* p : layer.params()) {
        for (Index i = 0; i < p->value.size(); ++i) {
            const double keep = p->value[i];
            p->value[i] = keep + step;
            const double plus = objective();
            p->value[i] = keep - step;
            const double minus = objective();
            p->value[i] = keep;
            res.max_param_error = std::max(res.max_param_error, rel_error(p->grad[i], (plus - minus) / (2 * step)));
        }
    }
    return res;
}

// Central differences of loss.compute() in each element of pred.
inline Tensor loss_numeric_gradient(const lamina::Loss<double>& loss, Tensor pred, const Tensor& target) {
    Tensor g(pred.shape());
    for (Index i = 0; i < pred.size(); ++i) {
        const double keep = pred[i];
        pred[i] = keep + step;
        const double plus = loss.compute(pred, target, nullptr);
        pred[i] = keep - step;
        const double minus = loss.compute(pred, target, nullptr);
        pred[i] = keep;
        g[i] = (plus - minus) / (2 * step);
    }
    return g;
}

// Loss gradient dL/dpred against central differences of compute().
inline double check_loss(const lamina::Loss<double>& loss, const Tensor& pred0, const Tensor& target) {
    Tensor grad(pred0.shape());
    loss.compute(pred0, target, &grad);
    const Tensor numeric = loss_numeric_gradient(loss, pred0, target);
    double worst = 0;
    for (Index i = 0; i < pred0.size(); ++i) worst = std::max(worst, rel_error(grad[i], numeric[i]));
    return worst;
}

}  // namespace gradcheck
