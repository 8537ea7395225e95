// The CUDA backend's affine warp (backend/cuda/warp_kernels.hpp), run on the
// CPU over every index and plane, as kernels would run it once per thread,
// against Backend<Cpu>: every fill mode and interpolation, maps that stay
// inside the image, reach far outside it (several periods of wrap and
// reflect), rotate, shear, mirror and shrink to a point, samples of one row
// or one column, one and three samples and channels, float and double.
#include <catch2/catch.hpp>

#include <lamina/backend/cuda/warp_kernels.hpp>
#include <lamina/lamina.hpp>

#include <cmath>
#include <vector>

using namespace lamina;
namespace ck = lamina::cuda_kernels;

namespace {

struct Size {
    Index h, w;
};

// Maps a0 a1 a2 b0 b1 b2 beyond what the layers draw, each sample its own.
std::vector<double> random_map(Rng& rng, const Size& s) {
    switch (rng.below(4)) {
        case 0: return {1, 0, rng.uniform(-3, 3) * double(s.w), 0, 1, rng.uniform(-3, 3) * double(s.h)};
        case 1: {
            const double a = rng.uniform(-3.2, 3.2), c = std::cos(a), n = std::sin(a);
            return {c, -n, rng.uniform(-2, 2), n, c, rng.uniform(-2, 2)};
        }
        case 2:
            return {rng.uniform(-2, 2), rng.uniform(-1, 1), rng.uniform(-5, 5),
                    rng.uniform(-1, 1), rng.uniform(-2, 2), rng.uniform(-5, 5)};
        default: return {0, 0, rng.uniform(-4, 4), 0, 0, rng.uniform(-4, 4)};  // every pixel reads one point
    }
}

template <class T>
void check_warp(Rng& rng, const Size& s, Index batch, Index channels, FillMode fill, Interpolation interpolation) {
    const Warp2D g{channels, s.h, s.w, fill, interpolation, -0.75};
    Tensor<T> transforms(Shape{batch, warp_transform_size});
    for (Index n = 0; n < batch; ++n) {
        const auto m = random_map(rng, s);
        for (Index k = 0; k < warp_transform_size; ++k) transforms[n * warp_transform_size + k] = T(m[k]);
    }
    Tensor<T> x(Shape{batch, channels, s.h, s.w}), dy(x.shape());
    for (auto& v : x) v = T(rng.uniform(-2, 2));
    for (auto& v : dy) v = T(rng.uniform(-1, 1));

    Tensor<T> y_want(x.shape()), y_got(x.shape());
    Backend<Cpu>::affine_warp(g, transforms.cview(), x.cview(), y_want.view());
    for (Index i = 0; i < y_got.size(); ++i) ck::affine_warp_at(g, i, transforms.data(), x.data(), y_got.data());

    Tensor<T> dx_want(x.shape()), dx_got(x.shape(), T(7));  // written, not added to
    Backend<Cpu>::affine_warp_backward(g, transforms.cview(), dy.cview(), dx_want.view());
    for (Index p = 0; p < batch * channels; ++p)
        ck::affine_warp_backward_plane(g, p, transforms.data(), dy.data(), dx_got.data());

    // The same arithmetic in the same order: equal up to the compiler's
    // freedom to fuse multiply-adds.
    const double eps = std::is_same_v<T, float> ? 1e-5 : 1e-12;
    for (Index i = 0; i < x.size(); ++i) {
        CAPTURE(i);
        CHECK(double(y_got[i]) == Approx(double(y_want[i])).epsilon(eps).margin(eps));
        CHECK(double(dx_got[i]) == Approx(double(dx_want[i])).epsilon(eps).margin(eps));
    }
}

}  // namespace

TEST_CASE("CUDA affine warp kernels, run per index on the CPU, match Backend<Cpu>", "[cuda_host][warp]") {
    Rng rng(31);
    for (const Size& s : {Size{7, 5}, Size{8, 8}, Size{1, 6}, Size{5, 1}, Size{1, 1}})
        for (Index batch : {1, 3})
            for (Index channels : {1, 3})
                for (FillMode fill : {FillMode::Reflect, FillMode::Wrap, FillMode::Constant, FillMode::Nearest})
                    for (Interpolation interpolation : {Interpolation::Bilinear, Interpolation::Nearest}) {
                        CAPTURE(s.h, s.w, batch, channels, to_string(fill), to_string(interpolation));
                        check_warp<float>(rng, s, batch, channels, fill, interpolation);
                        check_warp<double>(rng, s, batch, channels, fill, interpolation);
                    }
}
