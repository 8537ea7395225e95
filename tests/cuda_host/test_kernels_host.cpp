// The CUDA backend's per-index kernel arithmetic (backend/cuda/*_kernels.hpp),
// run on the CPU over every index, as a kernel would run it once per thread,
// against Backend<Cpu> on random data and awkward shapes (odd sizes, a
// single row, one column). These need no GPU and no CUDA compiler: the
// functions are plain C++ without nvcc. What only a GPU can check (launch
// configurations, reductions across threads) is not covered here.
#include <catch2/catch.hpp>

#include <lamina/backend/cuda/elementwise_kernels.hpp>
#include <lamina/backend/cuda/loss_kernels.hpp>
#include <lamina/backend/cuda/optimizer_kernels.hpp>
#include <lamina/backend/cuda/sum_kernels.hpp>
#include <lamina/lamina.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

using namespace lamina;
namespace ck = lamina::cuda_kernels;

namespace {

const std::vector<std::pair<Index, Index>> shapes{{1, 1}, {1, 7}, {5, 1}, {3, 10}, {17, 33}, {64, 129}};

Tensor<float> random_tensor(Index rows, Index cols, Rng& rng, double lo = -3, double hi = 3) {
    Tensor<float> t(Shape{rows, cols});
    for (auto& v : t) v = float(rng.uniform(lo, hi));
    return t;
}

void check_close(const Tensor<float>& got, const Tensor<float>& want) {
    REQUIRE(got.shape() == want.shape());
    for (Index i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i] == Approx(want[i]).epsilon(1e-5).margin(1e-6));
    }
}

template <class F>
void for_each_index(Index n, F&& f) {
    for (Index i = 0; i < n; ++i) f(i);
}

}  // namespace

TEST_CASE("CUDA element-wise kernels, run per index on the CPU, match Backend<Cpu>", "[cuda_host]") {
    Rng rng(11);
    for (const auto& shape : shapes) {
        const Index rows = shape.first, cols = shape.second;
        CAPTURE(rows, cols);
        const auto x = random_tensor(rows, cols, rng);
        const auto b = random_tensor(1, cols, rng).slice_rows(0, 1);
        Tensor<float> bias(Shape{cols});
        std::copy(b.begin(), b.end(), bias.begin());

        auto want = x, got = x;
        Backend<Cpu>::add_bias_rows(want.view(), bias.cview());
        for_each_index(got.size(), [&](Index i) { ck::add_bias_at(i, got.data(), bias.data(), cols); });
        check_close(got, want);

        Tensor<float> db_want(Shape{cols}, 0.5f), db_got(Shape{cols}, 0.5f);
        Backend<Cpu>::accumulate_column_sums(x.view(), db_want.view());
        for_each_index(cols, [&](Index c) { ck::column_sum_at(c, x.data(), rows, cols, db_got.data()); });
        check_close(db_got, db_want);

        for (auto kind : {ActivationKind::Linear, ActivationKind::ReLU, ActivationKind::Sigmoid, ActivationKind::Tanh,
                          ActivationKind::Softmax}) {
            CAPTURE(to_string(kind));
            // Out of place against the naive formulas, then in place (x is y) against that.
            Tensor<float> y_want(x.shape()), y_got(x.shape(), -7.0f), y_inplace = x;
            Backend<Cpu>::activation_forward(kind, x.view(), y_want.view());
            for (Index r = 0; r < rows; ++r) {
                double m = -1e300, sum = 0;
                for (Index c = 0; c < cols; ++c) m = std::max(m, double(x(r, c)));
                for (Index c = 0; c < cols; ++c) sum += std::exp(double(x(r, c)) - m);
                for (Index c = 0; c < cols; ++c) {
                    const double v = x(r, c);
                    double want = v;
                    if (kind == ActivationKind::ReLU) want = std::max(v, 0.0);
                    if (kind == ActivationKind::Sigmoid) want = 1 / (1 + std::exp(-v));
                    if (kind == ActivationKind::Tanh) want = std::tanh(v);
                    if (kind == ActivationKind::Softmax) want = std::exp(v - m) / sum;
                    CHECK(double(y_want(r, c)) == Approx(want).margin(1e-6));
                }
            }
            if (kind == ActivationKind::Softmax)
                for_each_index(rows, [&](Index r) { ck::softmax_row(r, x.data(), y_got.data(), cols); });
            else for_each_index(y_got.size(), [&](Index i) { ck::activation_at(kind, i, x.data(), y_got.data()); });
            check_close(y_got, y_want);
            if (kind == ActivationKind::Softmax)
                for_each_index(rows, [&](Index r) { ck::softmax_row(r, y_inplace.data(), y_inplace.data(), cols); });
            else for_each_index(y_inplace.size(), [&](Index i) { ck::activation_at(kind, i, y_inplace.data()); });
            check_close(y_inplace, y_want);
            auto cpu_inplace = x;
            Backend<Cpu>::activation_forward(kind, cpu_inplace.cview(), cpu_inplace.view());
            check_close(cpu_inplace, y_want);

            const auto dy = random_tensor(rows, cols, rng);
            Tensor<float> dz_want(x.shape()), dz_got(x.shape());
            Backend<Cpu>::activation_backward(kind, y_want.cview(), dy.view(), dz_want.view());
            if (kind == ActivationKind::Softmax)
                for_each_index(
                    rows, [&](Index r) { ck::softmax_backward_row(r, y_want.data(), dy.data(), dz_got.data(), cols); });
            else
                for_each_index(y_want.size(), [&](Index i) {
                    ck::activation_backward_at(kind, i, y_want.data(), dy.data(), dz_got.data());
                });
            check_close(dz_got, dz_want);
        }

        // The batch gather from a data set on the device: rows in a shuffled order.
        std::vector<Index> order(static_cast<std::size_t>(rows));
        for (Index r = 0; r < rows; ++r) order[std::size_t(r)] = (r * 7 + 3) % rows;
        Tensor<float> g_want(x.shape()), g_got(x.shape());
        Backend<Cpu>::gather_rows(x.data(), cols, order.data(), rows, g_want.data());
        for_each_index(g_got.size(), [&](Index i) { ck::gather_at(i, x.data(), cols, order.data(), g_got.data()); });
        check_close(g_got, g_want);
    }
}

TEST_CASE("CUDA optimizer kernels, run per index on the CPU, match Backend<Cpu>", "[cuda_host]") {
    Rng rng(12);
    for (const auto& shape : shapes) {
        const Index rows = shape.first, cols = shape.second;
        CAPTURE(rows, cols);
        const auto g = random_tensor(rows, cols, rng);
        auto state = [&] { return random_tensor(rows, cols, rng, 0, 1); };
        const auto w0 = random_tensor(rows, cols, rng), m0 = state(), v0 = state(), h0 = state();
        {
            auto w_want = w0, w_got = w0;
            Backend<Cpu>::decay_weights(w_want.view(), 0.003f);
            for_each_index(w_got.size(), [&](Index i) { ck::decay_weights_at(i, w_got.data(), 0.003f); });
            check_close(w_got, w_want);
        }
        for (bool nesterov : {false, true}) {
            auto w_want = w0, w_got = w0, m_want = m0, m_got = m0;
            Backend<Cpu>::sgd_update(w_want.view(), g.view(), m_want.data(), 0.05f, 0.9f, nesterov);
            for_each_index(w_got.size(), [&](Index i) {
                ck::sgd_at(i, w_got.data(), g.data(), m_got.data(), 0.05f, 0.9f, nesterov);
            });
            check_close(w_got, w_want);
            check_close(m_got, m_want);
        }
        for (bool amsgrad : {false, true}) {
            auto w_want = w0, w_got = w0, m_want = m0, m_got = m0, v_want = v0, v_got = v0, h_want = h0, h_got = h0;
            Backend<Cpu>::adam_update(w_want.view(), g.view(), m_want.view(), v_want.view(),
                                      amsgrad ? h_want.data() : nullptr, 0.01f, 0.1f, 0.001f, 1e-7f);
            for_each_index(w_got.size(), [&](Index i) {
                ck::adam_at(i, w_got.data(), g.data(), m_got.data(), v_got.data(), amsgrad ? h_got.data() : nullptr,
                            0.01f, 0.1f, 0.001f, 1e-7f);
            });
            check_close(w_got, w_want);
            check_close(v_got, v_want);
            check_close(h_got, h_want);
        }
        for (bool centered : {false, true}) {
            auto w_want = w0, w_got = w0, v_want = v0, v_got = v0, mg_want = m0, mg_got = m0, mo_want = h0, mo_got = h0;
            // Centered keeps v above mg^2 as real use does: v starts at 1 + state.
            v_want.array() += 1.0f;
            v_got.array() += 1.0f;
            Backend<Cpu>::rmsprop_update(w_want.view(), g.view(), v_want.view(), centered ? mg_want.data() : nullptr,
                                         mo_want.data(), 0.01f, 0.9f, 0.1f, 0.5f, 1e-7f);
            for_each_index(w_got.size(), [&](Index i) {
                ck::rmsprop_at(i, w_got.data(), g.data(), v_got.data(), centered ? mg_got.data() : nullptr,
                               mo_got.data(), 0.01f, 0.9f, 0.1f, 0.5f, 1e-7f);
            });
            check_close(w_got, w_want);
            check_close(mo_got, mo_want);
        }
    }
}

TEST_CASE("CUDA loss kernels, run per row or element on the CPU, match Backend<Cpu>", "[cuda_host]") {
    Rng rng(13);
    for (const auto& shape : shapes) {
        const Index rows = shape.first, cols = shape.second;
        CAPTURE(rows, cols);
        const auto z = random_tensor(rows, cols, rng, -20, 20);
        Tensor<float> labels(Shape{rows});
        for (Index r = 0; r < rows; ++r) labels[r] = float(rng.below(std::uint64_t(cols)));
        const auto onehot = datasets::to_categorical<float>(labels.cast<int>(), cols);
        const double B = double(rows), BK = double(rows * cols);

        Tensor<float> g_want(z.shape()), g_got(z.shape());
        double l_got = 0;
        for (double ls : {0.0, 0.1, 1.0}) {  // label smoothing
            CAPTURE(ls);
            const double l_want =
                Backend<Cpu>::sparse_softmax_cross_entropy(z.view(), labels.cview(), g_want.data(), nullptr, ls);
            l_got = 0;
            for_each_index(rows, [&](Index r) {
                l_got += ck::sparse_softmax_cross_entropy_row(r, z.data(), labels.data(), cols, g_got.data(), B, ls);
            });
            CHECK(l_got / B == Approx(l_want).epsilon(1e-6));
            check_close(g_got, g_want);

            const double d_want =
                Backend<Cpu>::softmax_cross_entropy(z.view(), onehot.view(), g_want.data(), nullptr, ls);
            l_got = 0;
            for_each_index(rows, [&](Index r) {
                l_got += ck::softmax_cross_entropy_row(r, z.data(), onehot.data(), cols, g_got.data(), B, ls);
            });
            CHECK(l_got / B == Approx(d_want).epsilon(1e-6));
            check_close(g_got, g_want);
        }

        const auto p = random_tensor(rows, cols, rng, 0, 1);
        for (bool from_logits : {true, false}) {
            const auto& pred = from_logits ? z : p;
            const double b_want =
                Backend<Cpu>::binary_cross_entropy(pred.view(), onehot.view(), from_logits, g_want.data(), 1e-7);
            l_got = 0;
            for_each_index(pred.size(), [&](Index i) {
                l_got +=
                    ck::binary_cross_entropy_at(i, pred.data(), onehot.data(), from_logits, g_got.data(), 1e-7, BK);
            });
            CHECK(l_got / BK == Approx(b_want).epsilon(1e-6));
            check_close(g_got, g_want);
        }

        const double s_want = Backend<Cpu>::mean_squared_error(p.view(), onehot.view(), g_want.data());
        l_got = 0;
        for_each_index(p.size(),
                       [&](Index i) { l_got += ck::squared_error_at(i, p.data(), onehot.data(), g_got.data(), BK); });
        CHECK(l_got / BK == Approx(s_want).epsilon(1e-5));
        check_close(g_got, g_want);
    }
}

TEST_CASE("The CUDA Dropout mask is counter-based: reproducible per key, fair, and different across keys",
          "[cuda_host]") {
    const Index n = 100000;
    const double rate = 0.3;
    const auto threshold = static_cast<std::uint64_t>(rate * 4294967296.0);
    const float scale = float(1 / (1 - rate));
    Tensor<float> a(Shape{n}), b(Shape{n}), c(Shape{n});
    for_each_index(n, [&](Index i) { ck::dropout_mask_at(i, 42, threshold, scale, a.data()); });
    for_each_index(n, [&](Index i) { ck::dropout_mask_at(i, 42, threshold, scale, b.data()); });
    for_each_index(n, [&](Index i) { ck::dropout_mask_at(i, 43, threshold, scale, c.data()); });
    Index kept = 0, same_as_other_key = 0;
    for (Index i = 0; i < n; ++i) {
        REQUIRE(a[i] == b[i]);
        REQUIRE((a[i] == 0.0f || a[i] == scale));
        kept += a[i] != 0.0f;
        same_as_other_key += a[i] == c[i];
    }
    // Binomial(n, 0.7): sd 145, so 5 sd is 725.
    CHECK(std::abs(double(kept) - 0.7 * double(n)) < 725);
    // Independent masks agree on 0.7^2 + 0.3^2 = 58 % of elements.
    CHECK(std::abs(double(same_as_other_key) / double(n) - 0.58) < 0.01);
}

TEST_CASE("The device sum's per-thread shares cover every value once, in a fixed order", "[cuda_host]") {
    for (Index n : {0, 1, 255, 256, 257, 1000, 4099}) {
        CAPTURE(n);
        std::vector<long long> values(static_cast<std::size_t>(n));
        for (Index i = 0; i < n; ++i) values[std::size_t(i)] = (i * 37 + 11) % 1001 - 500;
        long long want = 0, got = 0;
        for (long long v : values) want += v;
        // The block's tree: 256 shares, then halves added pairwise, as reduce.hpp's kernel does.
        std::vector<long long> shares(256);
        for (Index t = 0; t < 256; ++t) shares[std::size_t(t)] = ck::partial_sum_at(t, values.data(), n, Index(256));
        for (std::size_t half = 128; half > 0; half /= 2)
            for (std::size_t t = 0; t < half; ++t) shares[t] += shares[t + half];
        got = shares[0];
        CHECK(got == want);
    }
}
