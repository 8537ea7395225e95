// The CUDA backend's per-index window, convolution-layout, metric and
// probability-loss arithmetic (backend/cuda/window_kernels.hpp,
// metric_kernels.hpp, loss_kernels.hpp), run on the CPU over every index, as a
// kernel would run it once per thread, against Backend<Cpu> on many window
// geometries: valid and same padding, even and odd sizes, strides that differ
// per axis, a kernel as large as its input, 1x1, one and three samples and
// channels. Max pooling, im2col and col2im must give the CPU's bits; sums that
// the CPU runs in another order (Eigen's GEMM and reductions) are compared
// with a tight tolerance.
#include <catch2/catch.hpp>

#include <lamina/backend/cuda/elementwise_kernels.hpp>
#include <lamina/backend/cuda/loss_kernels.hpp>
#include <lamina/backend/cuda/metric_kernels.hpp>
#include <lamina/backend/cuda/window_kernels.hpp>
#include <lamina/lamina.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

using namespace lamina;
namespace ck = lamina::cuda_kernels;

namespace {

// A sample's (H, W) and the window over it; channels and batch vary apart.
struct Geometry {
    Index h, w;
    Size2 kernel, strides;
    Padding padding;
};

const std::vector<Geometry> geometries{
    {8, 8, 2, 2, Padding::Valid},           // the CNNs' 2x2/2 pool, even
    {11, 11, 2, 2, Padding::Valid},         // odd: a row and a column no window covers
    {7, 10, 2, 2, Padding::Valid},          // odd by even
    {11, 11, 2, 2, Padding::Same},          // 2x2/2 with the last windows clipped
    {6, 7, 3, 1, Padding::Same},            // 3x3 stride 1 same: padding on every side
    {7, 7, 3, 2, Padding::Same},            // 3x3 stride 2 same, odd
    {8, 8, 3, 2, Padding::Same},            // 3x3 stride 2 same, even: padding after only
    {7, 9, {2, 3}, {2, 1}, Padding::Same},  // a 2x3 kernel, strides (2, 1)
    {9, 9, 3, 2, Padding::Valid},           // overlapping windows, all inside
    {10, 10, 3, 3, Padding::Valid},         // inside, last column uncovered
    {5, 4, {5, 4}, 1, Padding::Valid},      // kernel equal to the input
    {5, 4, {5, 4}, 1, Padding::Same},       // ... with same padding: 20 clipped windows
    {6, 5, 1, 1, Padding::Valid},           // 1x1
    {6, 5, 1, 2, Padding::Same},            // 1x1 stride 2
    {5, 5, 4, 2, Padding::Same},            // an even kernel with padding before and after
};

Window2D window(const Geometry& geo, Index channels) {
    return make_window("test", Shape{channels, geo.h, geo.w}, geo.kernel, geo.strides, geo.padding);
}

// Inputs for max pooling: random values, values from {0, -0, 1, 2} (ties
// everywhere, zeros of both signs) and ReLU outputs (many tied zeros).
enum class Fill { Random, Ties, Relu };

Tensor<float> random_tensor(const Shape& shape, Rng& rng, double lo = -3, double hi = 3, Fill fill = Fill::Random) {
    Tensor<float> t(shape);
    for (auto& v : t) {
        switch (fill) {
            case Fill::Random: v = float(rng.uniform(lo, hi)); break;
            case Fill::Ties: {
                const auto k = rng.below(4);
                v = k == 3 ? -0.0f : float(k);
                break;
            }
            case Fill::Relu: v = std::max(0.0f, float(rng.uniform(-1, 1))); break;
        }
    }
    return t;
}

void check_close(const Tensor<float>& got, const Tensor<float>& want, double epsilon = 1e-5, double margin = 1e-6) {
    REQUIRE(got.shape() == want.shape());
    for (Index i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i] == Approx(want[i]).epsilon(epsilon).margin(margin));
    }
}

void check_equal(const Tensor<float>& got, const Tensor<float>& want) {
    REQUIRE(got.shape() == want.shape());
    for (Index i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i] == want[i]);
    }
}

template <class F>
void for_each_index(Index n, F&& f) {
    for (Index i = 0; i < n; ++i) f(i);
}

std::string describe(const Geometry& geo) {
    return std::to_string(geo.h) + "x" + std::to_string(geo.w) + " kernel " + geo.kernel.str() + " strides " +
           geo.strides.str() + " " + to_string(geo.padding);
}

}  // namespace

TEST_CASE("CUDA pooling kernels, run per index on the CPU, match Backend<Cpu>", "[cuda_host]") {
    Rng rng(21);
    for (const auto& geo : geometries)
        for (Index batch : {1, 3})
            for (Index channels : {1, 3})
                for (Fill fill : {Fill::Random, Fill::Ties, Fill::Relu}) {
                    const Window2D g = window(geo, channels);
                    CAPTURE(describe(geo), batch, channels, int(fill));
                    const auto x = random_tensor(Shape{batch, channels, geo.h, geo.w}, rng, -3, 3, fill);
                    const auto dy = random_tensor(Shape{batch, channels, g.out_h, g.out_w}, rng);
                    const Index outputs = batch * channels * g.out_h * g.out_w;
                    for (PoolKind kind : {PoolKind::Max, PoolKind::Average}) {
                        CAPTURE(kind == PoolKind::Max ? "max" : "average");
                        Tensor<float> y_want(dy.shape()), y_got(dy.shape());
                        Backend<Cpu>::pool2d_forward(kind, g, x.cview(), y_want.view());
                        for_each_index(outputs,
                                       [&](Index o) { ck::pool_forward_at(kind, g, o, x.data(), y_got.data()); });

                        Tensor<float> dx_want(x.shape()), dx_got(x.shape(), 7.0f);  // written, not added to
                        Backend<Cpu>::pool2d_backward(kind, g, x.cview(), y_want.cview(), dy.cview(), dx_want.view());
                        for_each_index(x.size(), [&](Index i) {
                            ck::pool_backward_at(kind, g, i, x.data(), y_want.data(), dy.data(), dx_got.data());
                        });
                        if (kind == PoolKind::Max) {
                            // The same first maximum wins: the CPU's bits, ties included.
                            check_equal(y_got, y_want);
                            check_equal(dx_got, dx_want);
                        } else {
                            check_close(y_got, y_want, 1e-6, 1e-7);
                            check_close(dx_got, dx_want, 1e-6, 1e-7);
                        }
                    }
                }
}

TEST_CASE("CUDA global average pooling kernels, run per index on the CPU, match Backend<Cpu>", "[cuda_host]") {
    Rng rng(22);
    for (const auto& geo : geometries)
        for (Index batch : {1, 3})
            for (Index channels : {1, 3}) {
                CAPTURE(geo.h, geo.w, batch, channels);
                const Index plane = geo.h * geo.w, planes = batch * channels;
                const auto x = random_tensor(Shape{batch, channels, geo.h, geo.w}, rng);
                const auto dy = random_tensor(Shape{batch, channels}, rng);
                Tensor<float> y_want(dy.shape()), y_got(dy.shape());
                Backend<Cpu>::global_average_pool_forward(plane, x.cview(), y_want.view());
                for_each_index(planes, [&](Index p) { ck::global_average_pool_at(p, plane, x.data(), y_got.data()); });
                check_close(y_got, y_want);  // the CPU sums in Eigen's SIMD lanes

                Tensor<float> dx_want(x.shape()), dx_got(x.shape());
                Backend<Cpu>::global_average_pool_backward(plane, dy.cview(), dx_want.view());
                for_each_index(x.size(), [&](Index i) {
                    ck::global_average_pool_backward_at(i, plane, dy.data(), dx_got.data());
                });
                check_equal(dx_got, dx_want);
            }
}

TEST_CASE("CUDA im2col and col2im, run per index on the CPU, give the CPU's bits", "[cuda_host]") {
    Rng rng(23);
    for (const auto& geo : geometries)
        for (Index count : {1, 3})
            for (Index channels : {1, 3}) {
                const Window2D g = window(geo, channels);
                CAPTURE(describe(geo), count, channels);
                const Index rows = channels * g.k_h * g.k_w, ld = count * g.out_h * g.out_w;
                const auto x = random_tensor(Shape{count, channels, geo.h, geo.w}, rng);
                Tensor<float> cols_want(Shape{rows, ld}), cols_got(Shape{rows, ld}, 7.0f);
                backend::im2col(g, x.data(), count, cols_want.data());
                for_each_index(cols_got.size(),
                               [&](Index i) { ck::im2col_at(g, count, i, x.data(), cols_got.data()); });
                check_equal(cols_got, cols_want);

                const auto cols = random_tensor(Shape{rows, ld}, rng);
                Tensor<float> dx_want(x.shape(), 0.0f), dx_got(x.shape(), 7.0f);
                backend::col2im(g, cols.data(), count, dx_want.data());
                for_each_index(dx_got.size(), [&](Index i) { ck::col2im_at(g, count, i, cols.data(), dx_got.data()); });
                check_equal(dx_got, dx_want);
            }
}

TEST_CASE("CUDA convolution kernels composed with a GEMM match Backend<Cpu>::conv2d_forward and backward",
          "[cuda_host]") {
    Rng rng(24);
    for (const auto& geo : geometries)
        for (Index batch : {1, 3})
            for (Index channels : {1, 3})
                for (ActivationKind act : {ActivationKind::Linear, ActivationKind::ReLU, ActivationKind::Tanh}) {
                    const Window2D g = window(geo, channels);
                    const Index filters = channels == 1 ? 4 : 2;
                    const bool with_bias = act != ActivationKind::Tanh;
                    CAPTURE(describe(geo), batch, channels, filters, to_string(act), with_bias);
                    const Index P = g.out_h * g.out_w, ld = batch * P, rows = channels * g.k_h * g.k_w;
                    const auto x = random_tensor(Shape{batch, channels, geo.h, geo.w}, rng, -1, 1);
                    const auto kernel = random_tensor(Shape{filters, channels, g.k_h, g.k_w}, rng, -1, 1);
                    const auto bias = random_tensor(Shape{filters}, rng, -1, 1);
                    const float* b = with_bias ? bias.data() : nullptr;
                    const auto dy = random_tensor(Shape{batch, filters, g.out_h, g.out_w}, rng);

                    Backend<Cpu>::Conv2DWorkspace<float> ws;
                    Backend<Cpu>::conv2d_reserve(ws, g, filters, batch);
                    Tensor<float> y_want(dy.shape());
                    Backend<Cpu>::conv2d_forward(g, filters, act, x.cview(), kernel.cview(), b, y_want.view());
                    Tensor<float> dk_want(kernel.shape(), 0.25f), db_want(bias.shape(), 0.25f), dx_want(x.shape());
                    Backend<Cpu>::conv2d_backward(g, filters, act, ws, x.cview(), y_want.cview(), dy.cview(),
                                                  kernel.cview(), dk_want.view(), with_bias ? db_want.data() : nullptr,
                                                  dx_want.data());

                    // Forward: im2col, GEMM, the layout back to NCHW with the bias, the activation.
                    Tensor<float> cols(Shape{rows, ld}), out(Shape{filters, ld}), y_got(dy.shape());
                    for_each_index(cols.size(), [&](Index i) { ck::im2col_at(g, batch, i, x.data(), cols.data()); });
                    Backend<Cpu>::gemm(false, false, filters, ld, rows, 1.0f, kernel.data(), cols.data(), 0.0f,
                                       out.data());
                    for_each_index(y_got.size(), [&](Index i) {
                        ck::conv_output_at(i, filters, P, batch, out.data(), b, y_got.data());
                    });
                    for_each_index(y_got.size(), [&](Index i) { ck::activation_at(act, i, y_got.data()); });
                    check_close(y_got, y_want, 1e-5, 1e-5);

                    // Backward, from the CPU's y: dz in the GEMM's layout, its row sums,
                    // dW += dz cols^T, dcols = W^T dz, col2im.
                    Tensor<float> dz(Shape{filters, ld}), dk_got(kernel.shape(), 0.25f), db_got(bias.shape(), 0.25f);
                    for_each_index(y_want.size(), [&](Index i) {
                        ck::conv_output_gradient_at(act, i, filters, P, batch, y_want.data(), dy.data(), dz.data());
                    });
                    if (with_bias)
                        for_each_index(filters, [&](Index f) { ck::row_sum_at(f, dz.data(), ld, db_got.data()); });
                    Backend<Cpu>::gemm(false, true, filters, rows, ld, 1.0f, dz.data(), cols.data(), 1.0f,
                                       dk_got.data());
                    Tensor<float> dcols(Shape{rows, ld}), dx_got(x.shape(), 7.0f);
                    Backend<Cpu>::gemm(true, false, rows, ld, filters, 1.0f, kernel.data(), dz.data(), 0.0f,
                                       dcols.data());
                    for_each_index(dx_got.size(),
                                   [&](Index i) { ck::col2im_at(g, batch, i, dcols.data(), dx_got.data()); });
                    check_close(dk_got, dk_want, 1e-5, 1e-5);
                    check_close(db_got, db_want, 1e-5, 1e-5);
                    check_close(dx_got, dx_want, 1e-5, 1e-5);
                }
}

TEST_CASE("CUDA accuracy kernels, summed over every index on the CPU, match Backend<Cpu>::count_correct",
          "[cuda_host]") {
    Rng rng(25);
    const std::vector<std::pair<Index, Index>> shapes{{1, 1}, {1, 7}, {5, 1}, {3, 10}, {17, 33}, {64, 129}};
    for (const auto& shape : shapes) {
        const Index rows = shape.first, cols = shape.second;
        CAPTURE(rows, cols);
        Tensor<float> labels(Shape{rows});
        for (Index r = 0; r < rows; ++r) labels[r] = float(rng.below(std::uint64_t(cols)));
        // Tied scores pin the first-maximum rule; a 0/1 target for Binary.
        const auto tied = random_tensor(Shape{rows, cols}, rng, 0, 0, Fill::Ties);
        const auto tied_target = random_tensor(Shape{rows, cols}, rng, 0, 0, Fill::Ties);
        const auto scores = random_tensor(Shape{rows, cols}, rng, 0, 1);
        Tensor<float> binary(Shape{rows, cols});
        for (auto& v : binary) v = float(rng.below(2));
        const auto soft = random_tensor(Shape{rows, cols}, rng, 0, 1);  // thresholded at 0.5, not the threshold
        const auto onehot = datasets::to_categorical<float>(labels.cast<int>(), cols);
        struct Case {
            AccuracyKind kind;
            const Tensor<float>& pred;
            const Tensor<float>& target;
            float threshold;
        };
        for (const Case& c :
             {Case{AccuracyKind::SparseCategorical, tied, labels, 0.5f},
              Case{AccuracyKind::SparseCategorical, scores, labels, 0.5f},
              Case{AccuracyKind::Categorical, tied, tied_target, 0.5f},
              Case{AccuracyKind::Categorical, scores, onehot, 0.5f}, Case{AccuracyKind::Binary, scores, binary, 0.5f},
              Case{AccuracyKind::Binary, scores, binary, 0.3f}, Case{AccuracyKind::Binary, scores, soft, 0.3f},
              Case{AccuracyKind::None, scores, onehot, 0.5f}}) {
            CAPTURE(int(c.kind), c.threshold);
            const Index want = Backend<Cpu>::count_correct(c.kind, c.pred.cview(), c.target.cview(), c.threshold);
            Index got = 0;
            for_each_index(ck::accuracy_items(c.kind, rows, cols), [&](Index i) {
                got += ck::correct_at(c.kind, i, c.pred.data(), c.target.data(), cols, c.threshold);
            });
            CHECK(got == want);
        }
    }
}

TEST_CASE("CUDA probability cross-entropy kernels, run per row on the CPU, match Backend<Cpu>", "[cuda_host]") {
    Rng rng(26);
    const std::vector<std::pair<Index, Index>> shapes{{1, 1}, {1, 7}, {5, 1}, {3, 10}, {17, 33}, {64, 129}};
    const double eps = 1e-7;
    for (const auto& shape : shapes) {
        const Index rows = shape.first, cols = shape.second;
        const double B = double(rows);
        Tensor<float> labels(Shape{rows});
        for (Index r = 0; r < rows; ++r) labels[r] = float(rng.below(std::uint64_t(cols)));
        const auto onehot = datasets::to_categorical<float>(labels.cast<int>(), cols);
        const auto soft = random_tensor(Shape{rows, cols}, rng, 0, 1);
        // Softmax outputs, some saturated (classes clipped at eps or 1 - eps),
        // and unnormalised scores with an all-zero first row.
        auto probs = random_tensor(Shape{rows, cols}, rng, -20, 20);
        Backend<Cpu>::activation_forward(ActivationKind::Softmax, probs.cview(), probs.view());
        auto scores = random_tensor(Shape{rows, cols}, rng, 0, 2);
        if (rows > 1)
            for (Index k = 0; k < cols; ++k) scores[k] = 0.0f;
        for (const Tensor<float>* p : {&probs, &scores})
            for (bool sparse : {true, false})
                for (const Tensor<float>* target : {&onehot, &soft})
                    for (double ls : {0.0, 0.1, 1.0}) {  // label smoothing
                        if (sparse && target == &soft) continue;
                        CAPTURE(rows, cols, p == &probs, sparse, target == &soft, ls);
                        const float* t = sparse ? nullptr : target->data();
                        Tensor<float> g_want(p->shape()), g_got(p->shape());
                        const double l_want = Backend<Cpu>::probability_cross_entropy(
                            p->cview(), t, sparse, labels.cview(), g_want.data(), eps, nullptr, ls);
                        double l_got = 0;
                        for_each_index(rows, [&](Index r) {
                            l_got += ck::probability_cross_entropy_row(r, p->data(), t, sparse, labels.data(), cols,
                                                                       g_got.data(), eps, B, ls);
                        });
                        CHECK(l_got / B == Approx(l_want).epsilon(1e-6));
                        check_close(g_got, g_want);

                        Backend<Cpu>::softmax_logit_gradient(p->cview(), t, sparse, labels.cview(), g_want.view(), eps,
                                                             ls);
                        for_each_index(rows, [&](Index r) {
                            ck::softmax_logit_gradient_row(r, p->data(), t, sparse, labels.data(), cols, g_got.data(),
                                                           eps, B, ls);
                        });
                        check_close(g_got, g_want);
                    }
    }
}
