// Conv2D, MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D:
// forward values against naive loops written here, gradients against finite
// differences (double), and the errors of bad configurations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "gradcheck.hpp"
#include "matchers.hpp"

using namespace lamina;
using gradcheck::built;
using gradcheck::random_tensor;

namespace {
constexpr double tolerance = 1e-6;

Tensor<double> run(Layer<double>& layer, const Tensor<double>& x) {
    Tensor<double> y(layer.output_shape().with_batch(x.rows()));
    layer.reserve(x.rows());
    layer.forward(x, y, Mode::Training);
    return y;
}

// TensorFlow's padding: total = max((out - 1) * s + k - in, 0), floor(total / 2) before.
Index pad_before(Index in, Index k, Index s, bool same, Index& out) {
    if (!same) {
        out = (in - k) / s + 1;
        return 0;
    }
    out = (in + s - 1) / s;
    return std::max<Index>((out - 1) * s + k - in, 0) / 2;
}

// The convolution straight from its definition, kernel (F, C, KH, KW).
Tensor<double> naive_conv(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>* b, Index s, bool same,
                          bool relu) {
    const Index n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
    const Index f = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
    Index oh, ow;
    const Index pt = pad_before(h, kh, s, same, oh), pl = pad_before(wd, kw, s, same, ow);
    Tensor<double> y(Shape{n, f, oh, ow});
    for (Index a = 0; a < n; ++a)
        for (Index o = 0; o < f; ++o)
            for (Index oy = 0; oy < oh; ++oy)
                for (Index ox = 0; ox < ow; ++ox) {
                    double sum = b ? (*b)[o] : 0.0;
                    for (Index ch = 0; ch < c; ++ch)
                        for (Index i = 0; i < kh; ++i)
                            for (Index j = 0; j < kw; ++j) {
                                const Index iy = oy * s - pt + i, ix = ox * s - pl + j;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                sum += w[((o * c + ch) * kh + i) * kw + j] * x[((a * c + ch) * h + iy) * wd + ix];
                            }
                    y[((a * f + o) * oh + oy) * ow + ox] = relu ? std::max(sum, 0.0) : sum;
                }
    return y;
}

// Pooling from its definition: windows clipped to the input.
Tensor<double> naive_pool(const Tensor<double>& x, Index k, Index s, bool same, bool max) {
    const Index n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    Index oh, ow;
    const Index pt = pad_before(h, k, s, same, oh), pl = pad_before(w, k, s, same, ow);
    Tensor<double> y(Shape{n, c, oh, ow});
    for (Index p = 0; p < n * c; ++p)
        for (Index oy = 0; oy < oh; ++oy)
            for (Index ox = 0; ox < ow; ++ox) {
                double best = -std::numeric_limits<double>::infinity(), sum = 0;
                Index count = 0;
                for (Index i = 0; i < k; ++i)
                    for (Index j = 0; j < k; ++j) {
                        const Index iy = oy * s - pt + i, ix = ox * s - pl + j;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                        const double v = x[(p * h + iy) * w + ix];
                        best = std::max(best, v);
                        sum += v;
                        ++count;
                    }
                y[(p * oh + oy) * ow + ox] = max ? best : sum / double(count);
            }
    return y;
}

double max_abs_diff(const Tensor<double>& a, const Tensor<double>& b) {
    REQUIRE(a.shape() == b.shape());
    double d = 0;
    for (Index i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
}
}  // namespace

TEST_CASE("Conv2D forward equals the naive convolution", "[conv2d]") {
    Rng rng(21);
    for (Index stride : {1, 2})
        for (bool same : {false, true})
            for (Index channels : {1, 3})
                for (Index batch : {1, 3})
                    for (bool bias : {true, false})
                        for (Size2 kernel : {Size2(3, 2), Size2(3, 3)})
                            // Odd and even sides; output rows narrower and wider
                            // than a SIMD vector (im2col copies whole rows).
                            for (Index width : {6, 11, 21, 40}) {
                                CAPTURE(stride, same, channels, batch, bias, kernel.str(), width);
                                const Shape sample{channels, 7, width};
                                auto layer = built(
                                    Conv2D(4, kernel, stride, same ? Padding::Same : Padding::Valid, Activation::ReLU,
                                           bias, Initializer::GlorotUniform, Initializer::GlorotUniform),
                                    sample, rng);
                                const auto x = random_tensor(sample.with_batch(batch), rng);
                                const auto& weights = layer->params()[0]->value;
                                const Tensor<double>* b = bias ? &layer->params()[1]->value : nullptr;
                                CHECK(max_abs_diff(run(*layer, x), naive_conv(x, weights, b, stride, same, true)) <
                                      1e-12);
                            }
}

namespace {
// A first layer's output, dL/dW and dL/db (its backward asked for no dx,
// a path the finite-difference checks never take) against their
// definitions, dz = dy * act'(from y): one input channel and 3x3 as in
// MNIST by default (a small patch: the direct kernel, conv2d_direct.hpp).
template <class T>
void check_first_layer_gradients(ActivationKind act, bool same, bool bias, Index batch, Index width, double tol,
                                 Index channels = 1, Index k = 3) {
    CAPTURE(to_string(act), same, bias, batch, width, sizeof(T), channels, k);
    Rng rng(31);
    auto layer = Conv2D(3, k, 1, same ? Padding::Same : Padding::Valid, act, bias, Initializer::GlorotUniform,
                        Initializer::GlorotUniform)
                     .make<T, Cpu>();
    const Shape sample{channels, 7, width};
    layer->build(sample, rng);
    const auto xd = random_tensor(sample.with_batch(batch), rng);
    const Tensor<T> x = xd.template cast<T>();
    Tensor<T> y(layer->output_shape().with_batch(batch));
    layer->reserve(batch);
    layer->forward(x, y, Mode::Training);
    const Tensor<T> dy = random_tensor(y.shape(), rng).template cast<T>();

    // Forward against the naive convolution, at T's precision.
    const Tensor<double> w = layer->params()[0]->value.template cast<double>();
    Tensor<double> b;
    if (bias) b = layer->params()[1]->value.template cast<double>();
    const Tensor<double> want_y = naive_conv(x.template cast<double>(), w, bias ? &b : nullptr, 1, same, false);
    for (Index k = 0; k < y.size(); ++k) {
        double v = want_y[k];
        if (act == ActivationKind::ReLU) v = std::max(v, 0.0);
        if (act == ActivationKind::Sigmoid) v = 1 / (1 + std::exp(-v));
        if (act == ActivationKind::Tanh) v = std::tanh(v);
        REQUIRE(std::abs(double(y[k]) - v) <= tol);
    }

    for (auto* p : layer->params()) p->grad.set_zero();
    layer->backward(x, y, dy, nullptr);
    const Index oh = y.shape()[2], ow = y.shape()[3], taps = channels * k * k;
    Index unused;
    const Index pt = pad_before(7, k, 1, same, unused), pl = pad_before(width, k, 1, same, unused);
    // The sums' tolerance scales with the size of what they add (up to
    // 1,155 terms here): float's rounding grows with the terms, not the total.
    std::vector<double> dw(std::size_t(3 * taps), 0.0), db(3, 0.0), dw_scale(std::size_t(3 * taps), 1.0),
        db_scale(3, 1.0);
    for (Index n = 0; n < batch; ++n)
        for (Index f = 0; f < 3; ++f)
            for (Index oy = 0; oy < oh; ++oy)
                for (Index ox = 0; ox < ow; ++ox) {
                    const Index at = ((n * 3 + f) * oh + oy) * ow + ox;
                    const double yv = y[at], d = dy[at];
                    double dz = d;
                    if (act == ActivationKind::ReLU) dz = yv > 0 ? d : 0;
                    if (act == ActivationKind::Sigmoid) dz = d * yv * (1 - yv);
                    if (act == ActivationKind::Tanh) dz = d * (1 - yv * yv);
                    db[std::size_t(f)] += dz;
                    db_scale[std::size_t(f)] += std::abs(dz);
                    for (Index c = 0; c < channels; ++c)
                        for (Index i = 0; i < k; ++i)
                            for (Index j = 0; j < k; ++j) {
                                const Index iy = oy - pt + i, ix = ox - pl + j;
                                if (iy < 0 || iy >= 7 || ix < 0 || ix >= width) continue;
                                const double term = dz * double(x[((n * channels + c) * 7 + iy) * width + ix]);
                                const auto t = std::size_t(f * taps + (c * k + i) * k + j);
                                dw[t] += term;
                                dw_scale[t] += std::abs(term);
                            }
                }
    const auto& dkernel = layer->params()[0]->grad;
    for (Index k = 0; k < dkernel.size(); ++k)
        CHECK(std::abs(double(dkernel[k]) - dw[std::size_t(k)]) <= tol * dw_scale[std::size_t(k)]);
    if (bias) {
        const auto& dbias = layer->params()[1]->grad;
        for (Index k = 0; k < 3; ++k)
            CHECK(std::abs(double(dbias[k]) - db[std::size_t(k)]) <= tol * db_scale[std::size_t(k)]);
    }
}
}  // namespace

TEST_CASE("A first Conv2D layer (no dx): output, dW and db equal their definitions", "[conv2d]") {
    for (ActivationKind act :
         {ActivationKind::Linear, ActivationKind::ReLU, ActivationKind::Sigmoid, ActivationKind::Tanh})
        for (bool same : {false, true})
            for (bool bias : {true, false})
                for (Index batch : {1, 5})
                    // Rows shorter than, as long as and longer than a SIMD
                    // vector of floats or doubles, odd and even.
                    for (Index width : {3, 8, 16, 18, 33}) {
                        check_first_layer_gradients<double>(act, same, bias, batch, width, 1e-12);
                        check_first_layer_gradients<float>(act, same, bias, batch, width, 2e-5);
                    }
    // Other small patches: 3 channels of 3x3 (an RGB first layer, the
    // largest patch the direct kernel takes), 2x2 and 5x5 (a tap count that
    // is not a multiple of 9), and 2 channels of 5x5 (past it: im2col + GEMM).
    struct Patch {
        Index channels, k;
    };
    for (const Patch p : {Patch{3, 3}, Patch{1, 2}, Patch{1, 5}, Patch{2, 5}})
        for (bool same : {false, true})
            for (Index width : {5, 17, 33}) {
                check_first_layer_gradients<double>(ActivationKind::ReLU, same, true, 3, width, 1e-12, p.channels, p.k);
                check_first_layer_gradients<float>(ActivationKind::Tanh, same, false, 2, width, 2e-5, p.channels, p.k);
            }
}

namespace {
// A 3x3 stride-1 layer deep enough for the GEMM paths (Winograd's at a
// batch of two or more, im2col's at one): y, dW, db and dx against their
// definitions, each tolerance scaled by the sum of the magnitudes of the
// terms added (float's rounding grows with those, not with the total).
template <class T>
void check_deep_layer(Index channels, Index filters, Index height, Index width, bool same, Index batch,
                      ActivationKind act, double tol) {
    CAPTURE(channels, filters, height, width, same, batch, to_string(act), sizeof(T));
    Rng rng(43);
    auto layer = Conv2D(filters, 3, 1, same ? Padding::Same : Padding::Valid, act, true, Initializer::GlorotUniform,
                        Initializer::GlorotUniform)
                     .make<T, Cpu>();
    const Shape sample{channels, height, width};
    layer->build(sample, rng);
    // The bias away from 0, so that a bias the transform lost would show.
    for (auto& v : layer->params()[1]->value) v = T(0.25);
    const Tensor<T> x = random_tensor(sample.with_batch(batch), rng).template cast<T>();
    Tensor<T> y(layer->output_shape().with_batch(batch));
    layer->reserve(batch);
    layer->forward(x, y, Mode::Training);
    const Tensor<T> dy = random_tensor(y.shape(), rng).template cast<T>();
    Tensor<T> dx(x.shape());
    for (auto* p : layer->params()) p->grad.set_zero();
    layer->backward(x, y, dy, &dx);

    const auto& w = layer->params()[0]->value;
    const Index oh = y.shape()[2], ow = y.shape()[3], C = channels, F = filters;
    Index unused;
    const Index pt = pad_before(height, 3, 1, same, unused), pl = pad_before(width, 3, 1, same, unused);
    auto input = [&](Index n, Index c, Index iy, Index ix) {
        return iy < 0 || iy >= height || ix < 0 || ix >= width ? 0.0
                                                               : double(x[((n * C + c) * height + iy) * width + ix]);
    };
    std::vector<double> dw(std::size_t(w.size()), 0.0), dw_scale(dw.size(), 1.0), db(std::size_t(F), 0.0),
        db_scale(db.size(), 1.0), want_dx(std::size_t(x.size()), 0.0), dx_scale(want_dx.size(), 1.0);
    for (Index n = 0; n < batch; ++n)
        for (Index f = 0; f < F; ++f)
            for (Index oy = 0; oy < oh; ++oy)
                for (Index ox = 0; ox < ow; ++ox) {
                    double z = 0.25, scale = 0.25;
                    for (Index c = 0; c < C; ++c)
                        for (Index i = 0; i < 3; ++i)
                            for (Index j = 0; j < 3; ++j) {
                                const double term =
                                    double(w[((f * C + c) * 3 + i) * 3 + j]) * input(n, c, oy - pt + i, ox - pl + j);
                                z += term;
                                scale += std::abs(term);
                            }
                    const Index at = ((n * F + f) * oh + oy) * ow + ox;
                    double want = z, dz = double(dy[at]);
                    if (act == ActivationKind::ReLU) {
                        want = std::max(z, 0.0);
                        dz = y[at] > 0 ? dz : 0.0;
                    }
                    if (act == ActivationKind::Tanh) {
                        want = std::tanh(z);
                        dz *= 1 - double(y[at]) * double(y[at]);
                    }
                    if (act == ActivationKind::Sigmoid) {
                        want = 1 / (1 + std::exp(-z));
                        dz *= double(y[at]) * (1 - double(y[at]));
                    }
                    REQUIRE(std::abs(double(y[at]) - want) <= tol * scale);
                    db[std::size_t(f)] += dz;
                    db_scale[std::size_t(f)] += std::abs(dz);
                    for (Index c = 0; c < C; ++c)
                        for (Index i = 0; i < 3; ++i)
                            for (Index j = 0; j < 3; ++j) {
                                const Index iy = oy - pt + i, ix = ox - pl + j;
                                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                                const auto k = std::size_t(((f * C + c) * 3 + i) * 3 + j);
                                const double wterm = dz * input(n, c, iy, ix);
                                dw[k] += wterm;
                                dw_scale[k] += std::abs(wterm);
                                const auto at_x = std::size_t(((n * C + c) * height + iy) * width + ix);
                                const double xterm = dz * double(w[Index(k)]);
                                want_dx[at_x] += xterm;
                                dx_scale[at_x] += std::abs(xterm);
                            }
                }
    for (Index k = 0; k < x.size(); ++k)
        REQUIRE(std::abs(double(dx[k]) - want_dx[std::size_t(k)]) <= tol * dx_scale[std::size_t(k)]);
    const auto& dkernel = layer->params()[0]->grad;
    for (Index k = 0; k < dkernel.size(); ++k)
        REQUIRE(std::abs(double(dkernel[k]) - dw[std::size_t(k)]) <= tol * dw_scale[std::size_t(k)]);
    const auto& dbias = layer->params()[1]->grad;
    for (Index k = 0; k < F; ++k)
        REQUIRE(std::abs(double(dbias[k]) - db[std::size_t(k)]) <= tol * db_scale[std::size_t(k)]);
}
}  // namespace

TEST_CASE("A deep 3x3 Conv2D (Winograd at batches of two or more): y, dW, db and dx equal their definitions",
          "[conv2d][winograd]") {
    struct Case {
        Index channels, filters, height, width;
    };
    // Channel and filter counts under, at and past a SIMD vector (4 to 16
    // floats), outputs of odd and even sides (a tile's overhang), planes
    // smaller than a vector (no block transposes), and the Keras CNN's conv2.
    for (const Case c : {Case{4, 3, 5, 6}, Case{5, 9, 7, 7}, Case{8, 8, 3, 4}, Case{17, 20, 6, 11},
                         Case{32, 64, 13, 13}, Case{16, 33, 9, 16}, Case{3, 4, 8, 8}})
        for (bool same : {false, true})
            for (Index batch : {1, 2, 5}) {
                check_deep_layer<double>(c.channels, c.filters, c.height, c.width, same, batch, ActivationKind::ReLU,
                                         1e-13);
                check_deep_layer<float>(c.channels, c.filters, c.height, c.width, same, batch, ActivationKind::Tanh,
                                        1e-5);
            }
    // Activations that are applied after the output transform.
    for (ActivationKind act : {ActivationKind::Linear, ActivationKind::Sigmoid})
        check_deep_layer<float>(6, 10, 9, 9, true, 3, act, 1e-5);
}

TEST_CASE("Conv2D gradients match finite differences", "[gradient][conv2d]") {
    Rng rng(22);
    for (Index stride : {1, 2})
        for (bool same : {false, true})
            for (Index channels : {1, 3})
                for (Index batch : {1, 3})
                    for (bool bias : {true, false}) {
                        CAPTURE(stride, same, channels, batch, bias);
                        auto layer = built(Conv2D(2, 3, stride, same ? Padding::Same : Padding::Valid, Activation::Tanh,
                                                  bias, Initializer::GlorotUniform, Initializer::GlorotUniform),
                                           Shape{channels, 5, 6}, rng);
                        const auto r =
                            gradcheck::check_layer(*layer, random_tensor(Shape{batch, channels, 5, 6}, rng), rng);
                        CHECK(r.max_input_error <= tolerance);
                        CHECK(r.max_param_error <= tolerance);
                    }
}

TEST_CASE("Conv2D gradients hold for every element-wise activation and a 1x1 kernel", "[gradient][conv2d]") {
    Rng rng(23);
    for (ActivationKind act :
         {ActivationKind::Linear, ActivationKind::ReLU, ActivationKind::Sigmoid, ActivationKind::Tanh}) {
        CAPTURE(to_string(act));
        auto layer = built(Conv2D(3, 2, 1, Padding::Valid, act), Shape{2, 4, 3}, rng);
        const auto r = gradcheck::check_layer(*layer, random_tensor(Shape{2, 2, 4, 3}, rng), rng);
        CHECK(r.max_input_error <= tolerance);
        CHECK(r.max_param_error <= tolerance);
    }
    auto pointwise = built(Conv2D(2, 1), Shape{3, 3, 3}, rng);
    const auto r = gradcheck::check_layer(*pointwise, random_tensor(Shape{2, 3, 3, 3}, rng), rng);
    CHECK(r.max_input_error <= tolerance);
    CHECK(r.max_param_error <= tolerance);
}

TEST_CASE("Conv2D: shapes, parameter counts and Keras's fans", "[conv2d]") {
    Rng rng(24);
    auto valid = built(Conv2D(32, 3, Activation::ReLU), Shape{1, 28, 28}, rng);
    CHECK(valid->output_shape() == Shape{32, 26, 26});
    CHECK(valid->count_params() == 32 * 9 + 32);
    auto same = built(Conv2D(8, 3, 2, Padding::Same), Shape{3, 7, 7}, rng);
    CHECK(same->output_shape() == Shape{8, 4, 4});
    auto wide = built(Conv2D(4, {1, 5}, {1, 2}, Padding::Valid), Shape{2, 3, 11}, rng);
    CHECK(wide->output_shape() == Shape{4, 3, 4});
    // glorot_uniform's limit sqrt(6 / (fan_in + fan_out)) with fans C*k*k and F*k*k.
    const double limit = std::sqrt(6.0 / (1 * 9 + 32 * 9));
    const auto& k = valid->params()[0]->value;
    CHECK(k.shape() == Shape{32, 1, 3, 3});
    double biggest = 0;
    for (double v : k) biggest = std::max(biggest, std::abs(v));
    CHECK(biggest <= limit);
    CHECK(biggest > 0.8 * limit);
}

TEST_CASE("Conv2D and pooling reject bad configurations, naming the layer", "[conv2d][errors]") {
    Rng rng(25);
    auto build = [&](auto spec, const Shape& s) { built(spec, s, rng); };
    CHECK_THROWS_MATCHES(build(Conv2D(4, 5), Shape{1, 4, 9}), ShapeError,
                         test::error(ErrorId::shape_mismatch, {"Conv2D 'under_test'", "(5, 5)", "larger"}));
    CHECK_THROWS_MATCHES(build(Conv2D(0, 3), Shape{1, 8, 8}), ConfigError,
                         test::error(ErrorId::config_argument, {"Conv2D 'under_test'", "filters"}));
    CHECK_THROWS_MATCHES(build(Conv2D(4, 0), Shape{1, 8, 8}), ConfigError,
                         test::error(ErrorId::config_argument, {"Conv2D 'under_test'", "kernel"}));
    CHECK_THROWS_MATCHES(build(Conv2D(4, 3, Size2(0)), Shape{1, 8, 8}), ConfigError,
                         test::error(ErrorId::config_argument, {"Conv2D 'under_test'", "strides"}));
    CHECK_THROWS_MATCHES(build(Conv2D(4, 3), Shape{784}), ShapeError,
                         test::error(ErrorId::shape_rank, {"Conv2D 'under_test'", "(None, 784)", "NCHW"}));
    CHECK_THROWS_MATCHES(build(Conv2D(4, 3, Activation::Softmax), Shape{1, 8, 8}), ConfigError,
                         test::error(ErrorId::config_argument, {"Conv2D 'under_test'", "softmax"}));
    CHECK_THROWS_MATCHES(build(MaxPool2D(3), Shape{2, 2, 8}), ShapeError,
                         test::error(ErrorId::shape_mismatch, {"MaxPooling2D 'under_test'", "larger"}));
    CHECK_THROWS_MATCHES(build(AveragePooling2D(2), Shape{8, 8}), ShapeError,
                         test::error(ErrorId::shape_rank, {"AveragePooling2D 'under_test'"}));
    CHECK_THROWS_MATCHES(build(GlobalAveragePooling2D(), Shape{8}), ShapeError,
                         test::error(ErrorId::shape_rank, {"GlobalAveragePooling2D 'under_test'"}));
    CHECK_THROWS_MATCHES(padding_from_string("full"), ConfigError,
                         test::error(ErrorId::config_unknown_name, {"full", "valid", "same"}));
    // In a model, a mismatch is reported at build time with the layer's name.
    Sequential<float> model;
    model.add(Flatten());
    model.add(Conv2D(4, 3).named("conv_after_flatten"));
    CHECK_THROWS_MATCHES(model.build(Shape{1, 28, 28}), ShapeError, test::mentions({"conv_after_flatten"}));
}

TEST_CASE("Max and average pooling equal their definitions, odd sizes and same padding included", "[pooling]") {
    Rng rng(26);
    for (Index k : {2, 3})
        for (Index s : {1, 2, 3})
            for (bool same : {false, true}) {
                CAPTURE(k, s, same);
                const Shape sample{2, 7, 5};
                const auto x = random_tensor(sample.with_batch(3), rng);
                auto maxpool = built(MaxPool2D(k, s, same ? Padding::Same : Padding::Valid), sample, rng);
                CHECK(max_abs_diff(run(*maxpool, x), naive_pool(x, k, s, same, true)) == 0.0);
                auto avgpool = built(AveragePooling2D(k, s, same ? Padding::Same : Padding::Valid), sample, rng);
                CHECK(max_abs_diff(run(*avgpool, x), naive_pool(x, k, s, same, false)) < 1e-12);
            }
    auto pool = built(MaxPool2D(), Shape{1, 5, 5}, rng);  // strides default to the pool size
    CHECK(pool->output_shape() == Shape{1, 2, 2});
}

TEST_CASE("Pooling gradients match finite differences; max-pool ties go to the first maximum", "[gradient][pooling]") {
    Rng rng(27);
    for (Index k : {2, 3})
        for (Index s : {1, 2})
            for (bool same : {false, true})
                for (Index batch : {1, 2}) {
                    CAPTURE(k, s, same, batch);
                    const Padding pad = same ? Padding::Same : Padding::Valid;
                    // Distinct values: finite differences are only defined away from ties.
                    auto x = random_tensor(Shape{batch, 2, 5, 5}, rng);
                    auto maxpool = built(MaxPool2D(k, s, pad), Shape{2, 5, 5}, rng);
                    CHECK(gradcheck::check_layer(*maxpool, x, rng).max_input_error <= tolerance);
                    auto avgpool = built(AveragePooling2D(k, s, pad), Shape{2, 5, 5}, rng);
                    CHECK(gradcheck::check_layer(*avgpool, x, rng).max_input_error <= tolerance);
                }
    auto global = built(GlobalAveragePooling2D(), Shape{3, 4, 5}, rng);
    CHECK(global->output_shape() == Shape{3});
    CHECK(gradcheck::check_layer(*global, random_tensor(Shape{2, 3, 4, 5}, rng), rng).max_input_error <= tolerance);

    // Ties: a plane of equal values sends each window's gradient to its first element only.
    auto tied = built(MaxPool2D(2), Shape{1, 4, 4}, rng);
    const Tensor<double> x(Shape{1, 1, 4, 4}, 1.0);
    const auto y = run(*tied, x);
    const Tensor<double> dy(y.shape(), 1.0);
    Tensor<double> dx(x.shape());
    tied->backward(x, y, dy, &dx);
    double total = 0;
    for (double v : dx) total += v;
    CHECK(total == 4.0);
    CHECK(dx[0] == 1.0);  // window (0, 0): first element
    CHECK(dx[1] == 0.0);
    CHECK(dx[2] == 1.0);  // window (0, 1)
    CHECK(dx[5] == 0.0);
    CHECK(dx[8] == 1.0);   // window (1, 0)
    CHECK(dx[10] == 1.0);  // window (1, 1)
}

TEST_CASE("2x2 pooling backward: max's first maximum wins among many ties, uncovered inputs get 0", "[pooling]") {
    // The 2x2/stride-2 kernels against naive loops: max's (write-once, the
    // winner found by comparing the forward's maxima bit for bit) and
    // average's write-once one. Values from {-0, +0, 1, 2} tie often (as
    // ReLU's zeros do; -0 and +0 are equal, so the first of them wins), odd
    // sizes leave a row or column no window covers, and dx starts full of
    // NaN so that every element must be written.
    Rng rng(31);
    const std::vector<Shape> samples{Shape{3, 5, 5},  Shape{2, 4, 6},  Shape{1, 7, 3},
                                     Shape{2, 5, 17}, Shape{1, 6, 26}, Shape{1, 3, 40}};
    for (const Shape& sample : samples) {
        CAPTURE(sample.str());
        const Index h = sample[1], w = sample[2], oh = h / 2, ow = w / 2;
        {
            auto avg = built(AveragePooling2D(2), sample, rng);
            Tensor<double> x(sample.with_batch(2));
            for (double& v : x) v = rng.uniform(-1.0, 1.0);
            const auto y = run(*avg, x);
            Tensor<double> dy(y.shape());
            for (double& v : dy) v = rng.uniform(0.5, 1.5);
            Tensor<double> dx(x.shape(), std::numeric_limits<double>::quiet_NaN());
            avg->backward(x, y, dy, &dx);
            Tensor<double> expected_y(y.shape(), 0.0), expected_dx(x.shape(), 0.0);
            for (Index plane = 0; plane < 2 * sample[0]; ++plane)
                for (Index oy = 0; oy < oh; ++oy)
                    for (Index ox = 0; ox < ow; ++ox) {
                        const Index o = (plane * oh + oy) * ow + ox;
                        for (Index i = 0; i < 2; ++i)
                            for (Index j = 0; j < 2; ++j) {
                                const Index at = plane * h * w + (2 * oy + i) * w + 2 * ox + j;
                                expected_y[o] += x[at] / 4;
                                expected_dx[at] += dy[o] / 4;
                            }
                    }
            CHECK(max_abs_diff(y, expected_y) < 1e-15);
            for (Index i = 0; i < x.size(); ++i) {
                CAPTURE(i);
                CHECK(dx[i] == expected_dx[i]);
            }
        }
        auto pool = built(MaxPool2D(2), sample, rng);
        Tensor<double> x(sample.with_batch(2));
        for (double& v : x) {
            v = std::floor(rng.uniform(0.0, 3.0));
            if (v == 0.0 && rng.uniform() < 0.5) v = -0.0;
        }
        const auto y = run(*pool, x);
        Tensor<double> dy(y.shape());
        for (double& v : dy) v = rng.uniform(0.5, 1.5);
        Tensor<double> dx(x.shape(), std::numeric_limits<double>::quiet_NaN());
        pool->backward(x, y, dy, &dx);

        Tensor<double> expected(x.shape(), 0.0);
        for (Index plane = 0; plane < 2 * sample[0]; ++plane)
            for (Index oy = 0; oy < oh; ++oy)
                for (Index ox = 0; ox < ow; ++ox) {
                    Index best = -1;
                    for (Index i = 0; i < 2; ++i)
                        for (Index j = 0; j < 2; ++j) {
                            const Index at = plane * h * w + (2 * oy + i) * w + 2 * ox + j;
                            if (best < 0 || x[at] > x[best]) best = at;
                        }
                    expected[best] += dy[(plane * oh + oy) * ow + ox];
                }
        for (Index i = 0; i < x.size(); ++i) {
            CAPTURE(i);
            CHECK(dx[i] == expected[i]);
        }
    }
}

TEST_CASE("GlobalAveragePooling2D averages each plane", "[pooling]") {
    Rng rng(28);
    auto layer = built(GlobalAveragePooling2D(), Shape{2, 2, 3}, rng);
    const Tensor<double> x(Shape{1, 2, 2, 3}, {1, 2, 3, 4, 5, 6, -1, -1, -1, -1, -1, 5});
    const auto y = run(*layer, x);
    CHECK(y[0] == Approx(3.5));
    CHECK(y[1] == Approx(0.0).margin(1e-15));
}

TEST_CASE("Conv2D results do not depend on how the batch is split across threads", "[conv2d][determinism]") {
    // The same samples in a batch of 5 and one at a time give the same outputs
    // and, summed, the same kernel gradient (up to the summation order).
    Rng rng(29);
    auto layer = built(Conv2D(3, 3, 1, Padding::Same, Activation::ReLU), Shape{2, 6, 6}, rng);
    const auto x = random_tensor(Shape{5, 2, 6, 6}, rng);
    const auto y = run(*layer, x);
    const auto dy = random_tensor(y.shape(), rng);
    auto* kernel = layer->params()[0];
    kernel->grad.set_zero();
    Tensor<double> dx(x.shape());
    layer->backward(x, y, dy, &dx);
    const Tensor<double> whole = kernel->grad;
    kernel->grad.set_zero();
    for (Index i = 0; i < 5; ++i) {
        const auto xi = x.slice_rows(i, 1), dyi = dy.slice_rows(i, 1);
        const auto yi = run(*layer, xi);
        CHECK(max_abs_diff(yi, y.slice_rows(i, 1)) == 0.0);
        Tensor<double> dxi(xi.shape());
        layer->backward(xi, yi, dyi, &dxi);
        CHECK(max_abs_diff(dxi, dx.slice_rows(i, 1)) < 1e-12);
    }
    CHECK(max_abs_diff(kernel->grad, whole) < 1e-12);
}

TEST_CASE("Conv2D on a batch of one splits its filters across threads: the definition, and one thread's bits",
          "[conv2d][threads][determinism]") {
    // Large enough that a batch of one is split across two threads; filter
    // counts that are and are not multiples of the split's unit of 4.
    const int before = get_num_threads();
    Rng rng(37);
    struct Case {
        Index filters, channels, height, width, kernel, stride;
        bool same, bias;
    };
    for (const Case c : {Case{32, 1, 28, 28, 3, 1, false, true}, Case{64, 32, 13, 13, 3, 1, false, true},
                         Case{18, 8, 17, 20, 3, 2, true, false}, Case{13, 8, 16, 15, 5, 1, true, true}}) {
        CAPTURE(c.filters, c.channels, c.height, c.width, c.kernel, c.stride, c.same, c.bias);
        const Shape sample{c.channels, c.height, c.width};
        const auto spec = Conv2D(c.filters, c.kernel, c.stride, c.same ? Padding::Same : Padding::Valid,
                                 Activation::ReLU, c.bias, Initializer::GlorotUniform, Initializer::GlorotUniform);
        auto layer = built(spec, sample, rng);
        const auto x = random_tensor(sample.with_batch(1), rng);
        const auto& w = layer->params()[0]->value;
        const Tensor<double>* b = c.bias ? &layer->params()[1]->value : nullptr;
        set_num_threads(2);
        CHECK(max_abs_diff(run(*layer, x), naive_conv(x, w, b, c.stride, c.same, true)) < 1e-12);

        // In float, two threads give the bits that one gives.
        Rng frng(41);
        auto flayer = spec.make<float, Cpu>();
        flayer->build(sample, frng);
        const Tensor<float> xf = x.cast<float>();
        Tensor<float> one(flayer->output_shape().with_batch(1)), two(one.shape());
        set_num_threads(1);
        flayer->reserve(1);
        flayer->infer(xf, one);
        set_num_threads(2);
        flayer->reserve(1);
        flayer->infer(xf, two);
        CHECK(std::equal(one.begin(), one.end(), two.begin()));
        CHECK(std::count(one.begin(), one.end(), 0.0f) < one.size());  // not all cut off by the ReLU
    }
    set_num_threads(before);
}

TEST_CASE("summary() shows conv models' NCHW shapes and parameter counts", "[conv2d][summary]") {
    Sequential<float> model;
    model.add(Conv2D(32, 3, Activation::ReLU));
    model.add(MaxPool2D(2));
    model.add(Conv2D(64, 3, Activation::ReLU));
    model.add(MaxPool2D(2));
    model.add(Flatten());
    model.add(Dense(128, Activation::ReLU));
    model.add(Dense(10));
    model.build(Shape{1, 28, 28});
    const std::string s = model.summary_string();
    CHECK_THAT(s, Catch::Contains(" conv2d (Conv2D)             (None, 32, 26, 26)        320       \n"));
    // Keras wraps what does not fit the first column onto the next line.
    CHECK_THAT(s, Catch::Contains(" max_pooling2d (MaxPooling2D  (None, 32, 13, 13)       0         \n"
                                  " )                                                               \n"));
    CHECK_THAT(s, Catch::Contains(" conv2d_1 (Conv2D)           (None, 64, 11, 11)        18496     \n"));
    CHECK_THAT(s, Catch::Contains("(None, 64, 5, 5)") && Catch::Contains("(None, 1600)") && Catch::Contains("204928"));
    CHECK_THAT(s, Catch::Contains("Total params: 225,034"));
}

TEST_CASE("Conv2D and pooling take Keras's spellings: padding as a string, pool_size as {2, 2}", "[conv2d]") {
    const auto same = Conv2D(32, 3, "same");
    CHECK(same.padding == Padding::Same);
    CHECK(same.activation.kind == ActivationKind::Linear);
    const auto relu = Conv2D(32, 3, "relu");
    CHECK(relu.padding == Padding::Valid);
    CHECK(relu.activation.kind == ActivationKind::ReLU);
    const auto both = Conv2D(32, 3, "same", "relu");
    CHECK((both.padding == Padding::Same && both.activation.kind == ActivationKind::ReLU));
    const auto strided = Conv2D(32, 3, 2, "same", "relu");
    CHECK((strided.strides.h == 2 && strided.padding == Padding::Same));
    CHECK(Conv2D(32, 3, 2).strides.w == 2);
    CHECK(Conv2D(32, 3, std::string("same")).padding == Padding::Same);
    CHECK(Conv2D(32, {3, 5}, Padding::Same, Activation::Tanh).kernel_size.w == 5);
    REQUIRE_THROWS_MATCHES(Conv2D(32, 3, "smae"), ConfigError, test::error(ErrorId::config_unknown_name, {"'smae'"}));
    REQUIRE_THROWS_MATCHES(Conv2D(32, 3, 1, "full"), ConfigError,
                           test::error(ErrorId::config_unknown_name, {"padding 'full'"}));

    const auto pool = MaxPooling2D({2, 2});
    CHECK((pool.pool_size.h == 2 && pool.pool_size.w == 2 && !pool.strides));
    CHECK(MaxPooling2D({3}).pool_size.w == 3);
    CHECK(AveragePooling2D({2, 3}).pool_size.w == 3);
    CHECK(MaxPooling2D(2, 1, "same").padding == Padding::Same);
    CHECK(MaxPooling2D({2, 2}, {1, 1}, "same").strides->h == 1);
    REQUIRE_THROWS_MATCHES(MaxPooling2D({2, 2, 2}), ConfigError, test::error(ErrorId::config_argument, {"pool_size"}));

    Sequential<float> model("keras_spelling", 1);
    model.add(Conv2D(4, 3, "same", "relu"));
    model.add(MaxPooling2D({2, 2}));
    model.add(Flatten());
    model.build(Shape{1, 8, 8});
    CHECK(model.output_shape() == Shape{64});
}

namespace {
struct FirstTestBuffer;
struct SecondTestBuffer;
}  // namespace

TEST_CASE("Per-thread scratch buffers are keyed by type: each tag has its own", "[conv2d][scratch]") {
    float* a = backend::scratch<float, FirstTestBuffer>(100);
    float* b = backend::scratch<float, SecondTestBuffer>(100);
    CHECK(a != b);
    CHECK(backend::scratch<float, FirstTestBuffer>(50) == a);  // only grows: the same buffer
    a[99] = 1.0f;
    b[99] = 2.0f;
    CHECK(a[99] == 1.0f);
    // Another thread has its own.
    float* other = nullptr;
    std::thread([&] { other = backend::scratch<float, FirstTestBuffer>(100); }).join();
    CHECK(other != a);
}

TEST_CASE("predict on a CNN is safe from many threads at once", "[conv2d][threads]") {
    // Conv2D keeps its column workspaces per thread (infer is const), so
    // concurrent predict calls must neither race nor disturb each other.
    Sequential<float> model("cnn", 4);
    model.add(Conv2D(8, 3, 1, Padding::Same, Activation::ReLU));
    model.add(MaxPool2D(2));
    model.add(Conv2D(8, 3, Activation::ReLU));
    model.add(GlobalAveragePooling2D());
    model.add(Dense(3));
    model.build(Shape{2, 10, 10});
    Rng rng(30);
    Tensor<float> x(Shape{20, 2, 10, 10});
    for (auto& v : x) v = float(rng.uniform(-1, 1));
    const auto expected = model.predict(x, 7);

    std::vector<Tensor<float>> results(8);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t)
        threads.emplace_back([&, t] {
            for (int round = 0; round < 5; ++round) results[t] = model.predict(x, Index(3 + t));
        });
    for (auto& t : threads) t.join();
    for (const auto& r : results) {
        REQUIRE(r.shape() == expected.shape());
        float worst = 0;
        for (Index i = 0; i < r.size(); ++i) worst = std::max(worst, std::abs(r[i] - expected[i]));
        CHECK(worst <= 1e-5f);  // batch sizes differ, so GEMM blocking (and rounding) may too
    }
}
