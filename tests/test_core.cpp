// Shape, Tensor, Rng, initializers, errors, threads.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "matchers.hpp"

using namespace lamina;

TEST_CASE("Shape: rank, size, batch handling, printing", "[core][shape]") {
    const Shape s{60000, 1, 28, 28};
    CHECK(s.rank() == 4);
    CHECK(s.size() == 60000 * 784);
    CHECK(s.sample_size() == 784);
    CHECK(s.without_batch() == Shape{1, 28, 28});
    CHECK(Shape{784}.with_batch(32) == Shape{32, 784});
    CHECK(s.str() == "(60000, 1, 28, 28)");
    CHECK(Shape{128}.keras_str() == "(None, 128)");
    CHECK(Shape{0, 784}.sample_size() == 784);
    REQUIRE_THROWS_AS((Shape{1, 2, 3, 4, 5}), ShapeError);
    REQUIRE_THROWS_AS((Shape{2, -1}), ShapeError);
    REQUIRE_THROWS_AS(s.with_batch(1), ShapeError);
}

TEST_CASE("Tensor: aligned buffer, capacity reuse, Eigen views, deep copies", "[core][tensor]") {
    Tensor<float> t(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % Tensor<float>::alignment == 0);
    CHECK(t(1, 2) == 6);
    CHECK(t.matrix().rows() == 2);
    CHECK(t.matrix().row(1).sum() == 15);
    CHECK(t.array().sum() == 21);

    const float* before = t.data();
    t.resize(Shape{1, 3});  // smaller: same buffer
    CHECK(t.data() == before);
    t.reserve(1000);
    const float* reserved = t.data();
    t.resize(Shape{10, 100});
    CHECK(t.data() == reserved);

    Tensor<float> a(Shape{2, 2}, 1.0f);
    Tensor<float> b = a;
    b[0] = 5;
    CHECK(a[0] == 1);
    Tensor<float> c = std::move(b);
    CHECK(c[0] == 5);

    CHECK(a.cast<double>()[3] == 1.0);
    auto rows = Tensor<int>(Shape{4, 2}, {0, 1, 2, 3, 4, 5, 6, 7}).slice_rows(1, 2);
    CHECK(rows.shape() == Shape{2, 2});
    CHECK(rows[0] == 2);
    REQUIRE_THROWS_AS(rows.slice_rows(1, 5), ShapeError);
    REQUIRE_THROWS_AS(a.at(4), ShapeError);
    REQUIRE_THROWS_AS(a.reshape(Shape{3}), ShapeError);
    REQUIRE_THROWS_AS((Tensor<float>(Shape{2}, {1, 2, 3})), ShapeError);
}

TEST_CASE("Tensor: a default tensor is empty, and every use of it is valid or an error", "[core][tensor]") {
    Tensor<float> empty;
    CHECK(empty.size() == 0);
    CHECK(empty.empty());
    CHECK(empty.rows() == 0);
    CHECK(empty.shape() == Shape{0});
    Tensor<float> copy = empty;  // copies allocate nothing and read nothing
    CHECK(copy.size() == 0);
    copy = Tensor<float>(Shape{2}, 1.0f);
    copy = empty;
    CHECK(copy.size() == 0);
    std::vector<Tensor<float>> several(3);
    auto copies = several;
    CHECK(copies[2].size() == 0);
    empty.fill(1.0f);
    empty.set_zero();
    CHECK(empty.array().sum() == 0);
    REQUIRE_THROWS_MATCHES(empty.at(0), ShapeError, test::error(ErrorId::shape_index, {"index 0", "(0,)"}));
    CHECK(empty.cast<double>().size() == 0);
    // A rank-0 shape is a scalar: one element, with a buffer.
    Tensor<float> scalar{Shape{}};
    CHECK(scalar.size() == 1);
    scalar.at(0) = 3;
    CHECK(scalar[0] == 3);
}

TEST_CASE("Shape and Tensor: sizes that overflow are refused", "[core][tensor]") {
    const Index big = Index(1) << 62;
    REQUIRE_THROWS_MATCHES((Shape{big, 4}), ShapeError, test::error(ErrorId::shape_rank, {"overflows"}));
    REQUIRE_THROWS_MATCHES((Shape{big, 2, 2}), ShapeError, test::error(ErrorId::shape_rank, {"overflows"}));
    REQUIRE_THROWS_MATCHES(Shape{big}.with_batch(4), ShapeError, test::error(ErrorId::shape_rank, {"overflows"}));
    // Within Index, but no buffer of that many floats can exist.
    REQUIRE_THROWS_MATCHES((Tensor<float>(Shape{Index(1) << 61})), ConfigError,
                           test::error(ErrorId::config_memory, {"(2305843009213693952,)", "cannot allocate"}));
    Shape s{2, 3};
    s[0] = big;  // mutable extents: the tensor checks again
    s[1] = 4;
    Tensor<float> t;
    REQUIRE_THROWS_AS(t.resize(s), ShapeError);
    CHECK(t.size() == 0);
}

TEST_CASE("Rng: reproducible, uniform and normal moments, state round trip", "[core][random]") {
    Rng a(123), b(123), c(124);
    CHECK(a.next_u64() == b.next_u64());
    CHECK(a.next_u64() != c.next_u64());

    Rng r(1);
    double sum = 0, sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const double z = r.normal();
        sum += z;
        sq += z * z;
    }
    CHECK(std::abs(sum / n) < 0.01);
    CHECK(std::abs(sq / n - 1) < 0.02);

    double usum = 0;
    for (int i = 0; i < n; ++i) usum += r.uniform();
    CHECK(std::abs(usum / n - 0.5) < 0.005);

    for (int i = 0; i < 1000; ++i) CHECK(r.below(7) < 7);
    for (int i = 0; i < 1000; ++i) CHECK(std::abs(r.truncated_normal(1.0)) <= 2.0);

    const auto s = r.state();
    const auto first = r.next_u64();
    r.set_state(s);
    CHECK(r.next_u64() == first);
}

TEST_CASE("Initializers: Keras's ranges and variances", "[core][init]") {
    Rng rng(5);
    Tensor<double> w(Shape{400, 300});
    initialize(w, Initializer::GlorotUniform, 400, 300, rng);
    const double limit = std::sqrt(6.0 / 700);
    CHECK(w.array().abs().maxCoeff() <= limit);
    CHECK(w.array().abs().maxCoeff() > 0.99 * limit);

    initialize(w, Initializer::HeNormal, 400, 300, rng);
    const double var = w.array().square().mean();
    CHECK(var == Approx(2.0 / 400).epsilon(0.03));
    CHECK(w.array().abs().maxCoeff() <= 2 * std::sqrt(2.0 / 400) / .87962566103423978 + 1e-12);

    initialize(w, Initializer::HeUniform, 400, 300, rng);
    CHECK(w.array().abs().maxCoeff() <= std::sqrt(6.0 / 400));

    initialize(w, Initializer::Zeros, 400, 300, rng);
    CHECK(w.array().abs().maxCoeff() == 0);
    CHECK(initializer_from_string("he_normal") == Initializer::HeNormal);
    REQUIRE_THROWS_AS(initializer_from_string("orthogonal"), ConfigError);
}

TEST_CASE("Errors carry stable ids in their messages", "[core][error]") {
    try {
        throw ShapeError(ErrorId::shape_mismatch, "Dense 'dense': bad");
    } catch (const Error& e) {
        CHECK(e.id() == ErrorId::shape_mismatch);
        CHECK(std::string(e.what()) == "[lamina.shape.201] Dense 'dense': bad");
    }
    CHECK(std::string(error_category(ErrorId::numeric_nonfinite)) == "numeric");
}

TEST_CASE("Thread count can be set and read", "[core][threads]") {
    const int before = get_num_threads();
    set_num_threads(1);
    CHECK(get_num_threads() == 1);
    set_num_threads(before);
    REQUIRE_THROWS_AS(set_num_threads(0), ConfigError);
    CHECK(build_info().find("simd") != std::string::npos);
}

TEST_CASE("gemm: a row vector times a large matrix, split across threads, equals its definition and one thread's bits",
          "[core][gemm][threads]") {
    // A batch-1 Dense layer's product: C (1, n) = alpha * a (1, k) * B (k, n)
    // + beta * C, its columns split across two threads where k*n is large.
    const int before = get_num_threads();
    Rng rng(43);
    for (const Index n : {200, 128, 40})
        for (const bool trans_a : {false, true})
            for (const float beta : {0.0f, 1.0f}) {
                const Index k = 1700;
                CAPTURE(n, trans_a, beta);
                std::vector<float> a(static_cast<std::size_t>(k)), b(static_cast<std::size_t>(k * n)),
                    c0(static_cast<std::size_t>(n));
                for (auto& v : a) v = float(rng.uniform(-1, 1));
                for (auto& v : b) v = float(rng.uniform(-1, 1));
                for (auto& v : c0) v = float(rng.uniform(-1, 1));
                std::vector<float> one = c0, two = c0;
                set_num_threads(1);
                backend::gemm(Cpu{}, trans_a, false, 1, n, k, 0.5f, a.data(), b.data(), beta, one.data());
                set_num_threads(2);
                backend::gemm(Cpu{}, trans_a, false, 1, n, k, 0.5f, a.data(), b.data(), beta, two.data());
                CHECK(one == two);
                double worst = 0;
                for (Index j = 0; j < n; ++j) {
                    double want = double(beta) * c0[std::size_t(j)];
                    for (Index p = 0; p < k; ++p) want += 0.5 * double(a[std::size_t(p)]) * b[std::size_t(p * n + j)];
                    worst = std::max(worst, std::abs(want - two[std::size_t(j)]));
                }
                CHECK(worst < 1e-4);
            }
    set_num_threads(before);
}

namespace {

// tiny * 0.5, computed at run time: a denormal, or 0 where denormals are flushed.
float halve_at_run_time(float tiny) {
    volatile float a = tiny, half = 0.5f;
    return a * half;
}

// Whether every thread of one of lamina's parallel regions flushes denormals.
bool lamina_region_flushes() {
    int ran[2] = {0, 0}, flushing[2] = {0, 0};
    backend::parallel_blocks(2, [&](int t, Index, Index) {
        ran[t] = 1;
        flushing[t] = denormals_flushed_here() ? 1 : 0;
    });
    return flushing[0] == ran[0] && flushing[1] == ran[1];
}

// Whether the second thread of a plain OpenMP region (not lamina's) flushes.
bool other_worker_flushes() {
    int flushing = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(2)
    if (omp_get_thread_num() == 1) flushing = denormals_flushed_here() ? 1 : 0;
#endif
    return flushing == 1;
}

}  // namespace

TEST_CASE("FlushDenormals flushes on its thread and in lamina's parallel regions, and restores both",
          "[core][denormals]") {
    const int before = get_num_threads();
    set_num_threads(2);
    const float tiny = 2e-38f;  // normal; half of it is not
    REQUIRE_FALSE(denormals_flushed_here());
    REQUIRE(halve_at_run_time(tiny) > 0.0f);
    CHECK_FALSE(lamina_region_flushes());
#if defined(__SSE__) || defined(_M_X64)
    {
        const FlushDenormals outer;
        CHECK(denormals_flushed_here());
        CHECK(halve_at_run_time(tiny) == 0.0f);
        CHECK(lamina_region_flushes());
        {
            const FlushDenormals inner;
            CHECK(lamina_region_flushes());
        }
        // The inner one leaves the restoring to the outer one.
        CHECK(denormals_flushed_here());
        CHECK(lamina_region_flushes());
    }
    CHECK_FALSE(denormals_flushed_here());
    CHECK(halve_at_run_time(tiny) > 0.0f);
    CHECK_FALSE(lamina_region_flushes());
    // Nor does the user's own OpenMP code on the same worker threads flush
    // afterwards. (Inside the guard it may: LLVM's OpenMP runtime copies the
    // opening thread's MXCSR to the workers of every region, GCC's does not.)
    CHECK_FALSE(other_worker_flushes());

    set_flush_denormals(false);
    {
        const FlushDenormals off;
        CHECK_FALSE(denormals_flushed_here());
        CHECK(halve_at_run_time(tiny) > 0.0f);
    }
    set_flush_denormals(true);
#else
    {
        // Without SSE's MXCSR nothing changes.
        const FlushDenormals none;
        CHECK_FALSE(denormals_flushed_here());
    }
#endif
    set_num_threads(before);
}
