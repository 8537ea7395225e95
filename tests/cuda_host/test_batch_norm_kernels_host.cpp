// The CUDA backend's batch normalisation arithmetic (backend/cuda/batch_norm_kernels.hpp),
// run on the CPU over every index, against Backend<Cpu>: the per-channel
// sums as batch_norm_reduce.hpp's blocks take them (each of 256 threads'
// parts, then the halving of the partial sums), the forward and dx per
// element, the parameter gradients and moving statistics per channel. Shapes:
// feature maps of odd sizes, flat features, one sample, one channel, a
// channel with fewer values than a block has threads and one with more.
#include <catch2/catch.hpp>

#include <lamina/backend/cuda/batch_norm_kernels.hpp>
#include <lamina/lamina.hpp>

#include <vector>

using namespace lamina;
namespace ck = lamina::cuda_kernels;

namespace {

constexpr Index block = 256;  // batch_norm_reduce.hpp's channel_threads

Tensor<float> random_tensor(const Shape& s, Rng& rng, double lo, double hi) {
    Tensor<float> t(s);
    for (auto& v : t) v = float(rng.uniform(lo, hi));
    return t;
}

// A block's reduction: the threads' parts, then halving as in shared memory.
double block_sum(const std::vector<double>& parts) {
    std::vector<double> p = parts;
    for (Index half = block / 2; half > 0; half /= 2)
        for (Index t = 0; t < half; ++t) p[std::size_t(t)] += p[std::size_t(t + half)];
    return p[0];
}

void check_close(const Tensor<float>& got, const Tensor<float>& want, double epsilon = 1e-5, double margin = 1e-6) {
    REQUIRE(got.shape() == want.shape());
    for (Index i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i] == Approx(want[i]).epsilon(epsilon).margin(margin));
    }
}

}  // namespace

TEST_CASE("CUDA batch normalisation kernels, run per index on the CPU, match Backend<Cpu>", "[cuda_host]") {
    Rng rng(31);
    for (const Shape& shape : {Shape{4, 3, 5, 7}, Shape{1, 2, 3, 3}, Shape{9, 1, 6, 6}, Shape{37, 11}, Shape{1, 5},
                               Shape{300, 2}, Shape{3, 4, 17, 17}}) {
        CAPTURE(shape.str());
        const Index rows = shape[0], channels = shape[1], plane = shape.size() / (rows * channels),
                    count = rows * plane;
        const auto x = random_tensor(shape, rng, -2, 5);
        const auto dy = random_tensor(shape, rng, -1, 1);
        const auto gamma = random_tensor(Shape{channels}, rng, -1.5, 1.5);
        const auto beta = random_tensor(Shape{channels}, rng, -1, 1);
        const float eps = 1e-3f;

        // Moments: one block per channel.
        Tensor<float> mean_want(Shape{channels}), var_want(Shape{channels});
        Backend<Cpu>::batch_norm_moments(x.cview(), channels, mean_want.data(), var_want.data());
        Tensor<float> mean(Shape{channels}), var(Shape{channels});
        for (Index c = 0; c < channels; ++c) {
            std::vector<double> parts(std::size_t(block), 0.0);
            for (Index t = 0; t < block; ++t)
                parts[std::size_t(t)] = ck::channel_sum_part(t, block, c, x.data(), count, channels, plane);
            const double m = block_sum(parts) / double(count);
            for (Index t = 0; t < block; ++t)
                parts[std::size_t(t)] =
                    ck::channel_squared_deviation_part(t, block, c, x.data(), m, count, channels, plane);
            mean[c] = float(m);
            var[c] = float(block_sum(parts) / double(count));
        }
        check_close(mean, mean_want);
        check_close(var, var_want);

        // Forward with and without gamma and beta.
        for (const bool affine : {true, false}) {
            CAPTURE(affine);
            const float* g = affine ? gamma.data() : nullptr;
            const float* b = affine ? beta.data() : nullptr;
            Tensor<float> y_want(shape), y(shape);
            Backend<Cpu>::batch_norm_forward(x.cview(), channels, mean_want.data(), var_want.data(), g, b, eps,
                                             y_want.view());
            for (Index i = 0; i < x.size(); ++i)
                ck::batch_norm_forward_at(i, x.data(), channels, plane, mean_want.data(), var_want.data(), g, b, eps,
                                          y.data());
            check_close(y, y_want);
        }

        // Backward with batch and with fixed statistics; gradients added to what is there.
        for (const bool batch_statistics : {true, false}) {
            CAPTURE(batch_statistics);
            Tensor<float> dg_want(Shape{channels}, 0.5f), db_want(Shape{channels}, -0.25f), dx_want(shape);
            Backend<Cpu>::batch_norm_backward(x.cview(), dy.cview(), channels, mean_want.data(), var_want.data(),
                                              gamma.data(), eps, batch_statistics, dg_want.data(), db_want.data(),
                                              dx_want.data());
            Tensor<float> dg(Shape{channels}, 0.5f), db(Shape{channels}, -0.25f), dx(shape, 9.0f);
            std::vector<double> sums(std::size_t(2 * channels));
            for (Index c = 0; c < channels; ++c) {
                std::vector<double> a(static_cast<std::size_t>(block)), b(static_cast<std::size_t>(block));
                const float inv = ck::batch_norm_inverse_std(var_want[c], eps);
                for (Index t = 0; t < block; ++t)
                    ck::channel_gradient_parts(t, block, c, x.data(), dy.data(), mean_want[c], inv, count, channels,
                                               plane, a[std::size_t(t)], b[std::size_t(t)]);
                sums[std::size_t(c)] = block_sum(a);
                sums[std::size_t(channels + c)] = block_sum(b);
                ck::batch_norm_parameter_gradient_at(c, channels, sums.data(), dg.data(), db.data());
            }
            for (Index i = 0; i < x.size(); ++i)
                ck::batch_norm_dx_at(i, x.data(), dy.data(), channels, plane, count, mean_want.data(), var_want.data(),
                                     gamma.data(), eps, batch_statistics, sums.data(), dx.data());
            check_close(dg, dg_want);
            check_close(db, db_want);
            // dx of batch statistics is what is left after subtracting two means: a margin for that.
            check_close(dx, dx_want, 1e-4, 1e-5);
        }

        // Moving statistics.
        const auto mm0 = random_tensor(Shape{channels}, rng, -1, 1), mv0 = random_tensor(Shape{channels}, rng, 0.5, 2);
        auto mm_want = mm0, mv_want = mv0, mm = mm0, mv = mv0;
        Backend<Cpu>::batch_norm_update_moving(channels, mean_want.data(), var_want.data(), 0.9, mm_want.data(),
                                               mv_want.data());
        for (Index c = 0; c < channels; ++c)
            ck::batch_norm_moving_at(c, mean_want.data(), var_want.data(), 0.9f, float(1.0 - 0.9), mm.data(),
                                     mv.data());
        check_close(mm, mm_want, 1e-7, 0);
        check_close(mv, mv_want, 1e-7, 0);
    }
}
