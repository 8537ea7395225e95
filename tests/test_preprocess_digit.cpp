// image::preprocess_digit: MNIST test digits disguised as photos, drawings
// and scans must come back as digits the bundled CNN (data/models) still
// recognises; blank and malformed inputs are errors. Also resize_area,
// remove_alpha and otsu_threshold on small known cases.
#include <catch2/catch.hpp>

#include "matchers.hpp"

#include <lamina/image/grey.hpp>
#include <lamina/image/preprocess_digit.hpp>
#include <lamina/image/resize.hpp>
#include <lamina/image/threshold.hpp>
#include <lamina/io/idx.hpp>
#include <lamina/model/predictions.hpp>
#include <lamina/model/sequential.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

using namespace lamina;

namespace {

constexpr Index digits = 500;

struct Mnist {
    Tensor<std::uint8_t> images;  // (N, 28, 28)
    Tensor<std::uint8_t> labels;  // (N,)
};

const Mnist& mnist_test() {
    static const Mnist m{io::read_idx(std::string(LAMINA_TEST_DATA_DIR) + "/t10k-images-idx3-ubyte.gz"),
                         io::read_idx(std::string(LAMINA_TEST_DATA_DIR) + "/t10k-labels-idx1-ubyte.gz")};
    return m;
}

const Sequential<float>& bundled_cnn() {
    static const Sequential<float> model =
        Sequential<float>::load(std::string(LAMINA_TEST_MODEL_DIR) + "/mnist_cnn.lamina");
    return model;
}

// Digit i as load_mnist gives it: 28 x 28, ink 1 on 0.
std::vector<float> digit(Index i) {
    const std::uint8_t* p = mnist_test().images.data() + i * 784;
    std::vector<float> d(784);
    for (std::size_t k = 0; k < 784; ++k) d[k] = float(p[k]) / 255.0f;
    return d;
}

// Bilinear enlargement of a 28 x 28 digit by `factor` (what a camera or a
// scanner sees: smooth edges, not blocks).
std::vector<float> enlarge(const std::vector<float>& d, int factor) {
    const int n = 28 * factor;
    std::vector<float> out(static_cast<std::size_t>(n * n));
    for (int r = 0; r < n; ++r)
        for (int c = 0; c < n; ++c) {
            const double y = std::clamp((r + 0.5) / factor - 0.5, 0.0, 27.0),
                         x = std::clamp((c + 0.5) / factor - 0.5, 0.0, 27.0);
            const int y0 = int(y), x0 = int(x), y1 = std::min(27, y0 + 1), x1 = std::min(27, x0 + 1);
            const double fy = y - y0, fx = x - x0;
            auto at = [&](int yy, int xx) { return double(d[std::size_t(yy * 28 + xx)]); };
            out[std::size_t(r * n + c)] = float((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                                                fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1)));
        }
    return out;
}

// Ink v in [0, 1] laid on paper: each channel paper + (pen - paper) v.
Tensor<float> on_paper(const std::vector<float>& v, Index side, std::vector<float> paper, std::vector<float> pen) {
    const auto channels = static_cast<Index>(paper.size());
    Tensor<float> img(Shape{channels, side, side});
    for (Index c = 0; c < channels; ++c)
        for (Index i = 0; i < side * side; ++i)
            img[c * side * side + i] =
                paper[std::size_t(c)] + (pen[std::size_t(c)] - paper[std::size_t(c)]) * v[std::size_t(i)];
    return img;
}

// Fraction of the first `digits` test digits the bundled CNN labels
// correctly after make(i) and preprocess_digit (or as they are, without make).
double recognition_rate(const std::function<Tensor<float>(Index)>& make) {
    Tensor<float> batch(Shape{digits, 1, 28, 28});
    for (Index i = 0; i < digits; ++i) {
        if (make) {
            const Tensor<float> x = image::preprocess_digit(make(i));
            REQUIRE(x.shape().str() == Shape{1, 28, 28}.str());
            std::copy(x.begin(), x.end(), batch.data() + i * 784);
        } else {
            const auto d = digit(i);
            std::copy(d.begin(), d.end(), batch.data() + i * 784);
        }
    }
    const Tensor<std::int32_t> predicted = argmax(bundled_cnn().predict(batch, 100));
    Index right = 0;
    for (Index i = 0; i < digits; ++i) right += predicted[i] == mnist_test().labels[i];
    return double(right) / double(digits);
}

}  // namespace

TEST_CASE("resize_area averages exactly the covered area", "[image][preprocess]") {
    Tensor<float> img(Shape{1, 2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
    const Tensor<float> half = image::resize_area(img, 1, 2);
    REQUIRE(half.shape().str() == Shape{1, 1, 2}.str());
    CHECK(half[0] == Approx((0 + 1 + 4 + 5) / 4.0));
    CHECK(half[1] == Approx((2 + 3 + 6 + 7) / 4.0));
    // 3 -> 2: the middle pixel is split between both outputs.
    Tensor<float> row(Shape{1, 3}, {0, 3, 6});
    const Tensor<float> two = image::resize_area(row, 1, 2);
    CHECK(two[0] == Approx((0 * 1.0 + 3 * 0.5) / 1.5));
    CHECK(two[1] == Approx((3 * 0.5 + 6 * 1.0) / 1.5));
    // Mean is kept whatever the sizes.
    Tensor<float> ramp(Shape{7, 13});
    for (Index i = 0; i < ramp.size(); ++i) ramp[i] = float(i % 13) / 12.0f;
    const Tensor<float> odd = image::resize_area(ramp, 5, 9);
    CHECK(odd.array().mean() == Approx(ramp.array().mean()).epsilon(1e-5));
    CHECK_THROWS_MATCHES(image::resize_area(ramp, 0, 3), ConfigError, test::error(ErrorId::config_argument));
}

TEST_CASE("remove_alpha composites tablet drawings over a contrasting background", "[image][preprocess]") {
    // Dark strokes (alpha 1) on a transparent canvas stored as black: white background.
    Tensor<float> dark(Shape{2, 1, 4}, {0, 0, 0, 0, /* alpha */ 1, 0, 0, 0});
    const Tensor<float> a = image::remove_alpha(dark);
    REQUIRE(a.shape().str() == Shape{1, 1, 4}.str());
    CHECK(a[0] == 0.0f);
    CHECK(a[1] == 1.0f);
    // White strokes on the same canvas: black background.
    Tensor<float> light(Shape{2, 1, 4}, {1, 0, 0, 0, /* alpha */ 1, 0, 0, 0});
    const Tensor<float> b = image::remove_alpha(light);
    CHECK(b[0] == 1.0f);
    CHECK(b[1] == 0.0f);
    // A mostly opaque picture with a hole: the hole takes the picture's mean.
    Tensor<float> hole(Shape{2, 1, 4}, {0.2f, 0.4f, 0.6f, 0.0f, /* alpha */ 1, 1, 1, 0});
    CHECK(image::remove_alpha(hole)[3] == Approx(0.4));
    CHECK(image::to_grey(Tensor<float>(Shape{3, 1, 1}, {1, 0, 0}))[0] == Approx(0.299));
}

TEST_CASE("otsu_threshold splits two clusters", "[image][preprocess]") {
    std::vector<float> v;
    for (int i = 0; i < 100; ++i) v.push_back(0.1f + 0.001f * float(i % 7));
    for (int i = 0; i < 30; ++i) v.push_back(0.8f + 0.001f * float(i % 5));
    const float t = image::otsu_threshold(v.data(), Index(v.size()));
    // Every split between the clusters is as good; the first is taken.
    CHECK(t > 0.106f);
    CHECK(t <= 0.8f);
    const std::vector<float> flat(10, 0.5f);
    const float single = image::otsu_threshold(flat.data(), 10);
    CHECK(single > 0.5f);  // nothing above
}

TEST_CASE("preprocess_digit gives MNIST samples the bundled CNN recognises", "[image][preprocess]") {
    const double untouched = recognition_rate(nullptr);
    std::cout << "preprocess_digit recognition on " << digits << " MNIST test digits (bundled CNN):\n"
              << "  untouched 28x28 digits" << std::string(35, ' ') << untouched << "\n";
    CHECK(untouched > 0.95);

    std::mt19937 rng(12345);
    struct Case {
        const char* name;
        std::function<Tensor<float>(Index)> make;
    };
    const std::vector<Case> cases{
        {"as is (white on black)", [](Index i) { return on_paper(digit(i), 28, {0}, {1}); }},
        {"dark on light", [](Index i) { return on_paper(digit(i), 28, {1}, {0}); }},
        {"shifted in a 48x40 field",
         [](Index i) {
             const auto d = digit(i);
             Tensor<float> img(Shape{1, 48, 40}, 1.0f);
             for (Index r = 0; r < 28; ++r)
                 for (Index c = 0; c < 28; ++c) img[(17 + r) * 40 + 3 + c] = 1.0f - d[std::size_t(r * 28 + c)];
             return img;
         }},
        {"enlarged 4x (112x112)", [](Index i) { return on_paper(enlarge(digit(i), 4), 112, {1}, {0}); }},
        {"enlarged 9x (252x252)", [](Index i) { return on_paper(enlarge(digit(i), 9), 252, {0.9f}, {0.2f}); }},
        {"noisy (sd 0.1 + 2% specks)",
         [&rng](Index i) {
             Tensor<float> img = on_paper(enlarge(digit(i), 4), 112, {0.92f}, {0.1f});
             std::normal_distribution<float> noise(0.0f, 0.1f);
             std::uniform_real_distribution<float> u(0.0f, 1.0f);
             for (float& v : img) {
                 v = std::clamp(v + noise(rng), 0.0f, 1.0f);
                 const float s = u(rng);
                 if (s < 0.01f) v = 0.0f;
                 else if (s < 0.02f) v = 1.0f;
             }
             return img;
         }},
        {"blue pen on yellowish paper (RGB)",
         [](Index i) {
             return on_paper(enlarge(digit(i), 4), 112, {0.96f, 0.93f, 0.8f}, {0.15f, 0.2f, 0.75f});
         }},
        {"red pen on white (RGB)",
         [](Index i) {
             return on_paper(enlarge(digit(i), 4), 112, {1, 1, 1}, {0.85f, 0.1f, 0.1f});
         }},
        {"uneven light (0.3 .. 1 gradient + shadow)",
         [](Index i) {
             Tensor<float> img = on_paper(enlarge(digit(i), 4), 112, {0.95f}, {0.05f});
             for (Index r = 0; r < 112; ++r)
                 for (Index c = 0; c < 112; ++c) {
                     const float ramp = 0.3f + 0.7f * float(r + c) / 222.0f;
                     const float shadow = c > 80 ? 0.75f : 1.0f;
                     img[r * 112 + c] *= ramp * shadow;
                 }
             return img;
         }},
        {"tablet drawing, dark strokes on transparent (RGBA)",
         [](Index i) {
             const auto v = enlarge(digit(i), 4);
             Tensor<float> img(Shape{4, 112, 112}, 0.0f);  // transparent pixels stored as black
             const Index plane = 112 * 112;
             for (Index k = 0; k < plane; ++k) {
                 const bool ink = v[std::size_t(k)] > 0;
                 img[k] = ink ? 0.1f : 0.0f;
                 img[plane + k] = ink ? 0.1f : 0.0f;
                 img[2 * plane + k] = ink ? 0.3f : 0.0f;
                 img[3 * plane + k] = v[std::size_t(k)];
             }
             return img;
         }},
        {"tablet drawing, white strokes on transparent (grey+alpha)",
         [](Index i) {
             const auto v = enlarge(digit(i), 4);
             Tensor<float> img(Shape{2, 112, 112}, 0.0f);
             for (Index k = 0; k < 112 * 112; ++k) {
                 img[k] = 1.0f;
                 img[112 * 112 + k] = v[std::size_t(k)];
             }
             return img;
         }},
    };
    for (const Case& k : cases) {
        const double rate = recognition_rate(k.make);
        const std::string name = k.name;
        std::cout << "  " << name << std::string(name.size() < 58 ? 58 - name.size() : 1, ' ') << rate << "\n";
        INFO(k.name << ": " << rate << " vs " << untouched << " untouched");
        CHECK(rate >= untouched - 0.02);
    }
}

TEST_CASE("preprocess_digit handles a 4000 x 3000 photo", "[image][preprocess]") {
    // Three digits, each filling the middle of a 12-megapixel RGB "photo" with
    // a light gradient and sensor noise.
    // Noise from a table: drawing 36 million normal samples would dominate the test's time.
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> table(65536);
    for (float& t : table) t = normal(rng);
    auto noise = [&table](Index k) {
        return table[static_cast<std::size_t>((std::uint64_t(k) * 2654435761u) >> 7) & 65535];
    };
    for (Index i : {0, 1, 2}) {
        const auto v = enlarge(digit(i), 50);  // 1400 x 1400
        const Index w = 4000, h = 3000, plane = w * h;
        Tensor<float> photo(Shape{3, h, w});
        const float paper[3] = {0.9f, 0.88f, 0.8f}, pen[3] = {0.1f, 0.1f, 0.2f};
        for (Index r = 0; r < h; ++r)
            for (Index c = 0; c < w; ++c) {
                const Index dr = r - 800, dc = c - 1300;
                const float ink = dr >= 0 && dr < 1400 && dc >= 0 && dc < 1400 ? v[std::size_t(dr * 1400 + dc)] : 0.0f;
                const float light = 0.5f + 0.5f * float(c) / float(w);
                for (Index ch = 0; ch < 3; ++ch)
                    photo[ch * plane + r * w + c] = std::clamp(
                        light * (paper[ch] + (pen[ch] - paper[ch]) * ink) + noise(ch * plane + r * w + c), 0.0f, 1.0f);
            }
        const auto start = std::chrono::steady_clock::now();
        Tensor<float> x = image::preprocess_digit(photo);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::cout << "preprocess_digit on a 4000x3000 RGB photo: " << ms << " ms\n";
        x.reshape(Shape{1, 1, 28, 28});
        CHECK(argmax(bundled_cnn().predict(x))[0] == mnist_test().labels[i]);
    }
}

TEST_CASE("preprocess_digit output: MNIST's layout", "[image][preprocess]") {
    const Tensor<float> x = image::preprocess_digit(on_paper(enlarge(digit(0), 3), 84, {1}, {0}));
    REQUIRE(x.shape().str() == Shape{1, 28, 28}.str());
    double mass = 0, my = 0, mx = 0;
    Index top = 28, bottom = -1, left = 28, right = -1;
    for (Index r = 0; r < 28; ++r)
        for (Index c = 0; c < 28; ++c) {
            const float v = x[r * 28 + c];
            CHECK((v >= 0.0f && v <= 1.0f));
            if (v <= 0) continue;
            mass += v, my += v * (r + 0.5), mx += v * (c + 0.5);
            top = std::min(top, r), bottom = std::max(bottom, r), left = std::min(left, c), right = std::max(right, c);
        }
    CHECK(std::max(bottom - top + 1, right - left + 1) == 20);
    CHECK(std::abs(my / mass - 14.0) <= 0.5);
    CHECK(std::abs(mx / mass - 14.0) <= 0.5);
    CHECK(*std::max_element(x.begin(), x.end()) == 1.0f);
    CHECK(x[0] == 0.0f);
}

TEST_CASE("preprocess_digit: blank, malformed and non-finite images are errors", "[image][preprocess]") {
    using test::error;
    CHECK_THROWS_MATCHES(image::preprocess_digit(Tensor<float>(Shape{1, 50, 60}, 1.0f)), ConfigError,
                         error(ErrorId::config_argument, {"holds no digit"}));
    CHECK_THROWS_MATCHES(image::preprocess_digit(Tensor<float>(Shape{3, 40, 40}, 0.0f)), ConfigError,
                         error(ErrorId::config_argument, {"holds no digit"}));
    CHECK_THROWS_MATCHES(image::preprocess_digit(Tensor<float>(Shape{4, 40, 40}, 0.0f)), ConfigError,
                         error(ErrorId::config_argument, {"holds no digit"}));  // fully transparent
    // Blank paper photographed: a gradient and faint sensor noise, no ink.
    std::mt19937 rng(1);
    std::normal_distribution<float> noise(0.0f, 0.01f);
    Tensor<float> paper(Shape{1, 120, 160});
    for (Index r = 0; r < 120; ++r)
        for (Index c = 0; c < 160; ++c) paper[r * 160 + c] = 0.5f + 0.4f * float(c) / 160.0f + noise(rng);
    CHECK_THROWS_MATCHES(image::preprocess_digit(paper), ConfigError,
                         error(ErrorId::config_argument, {"holds no digit"}));
    Tensor<float> nan(Shape{1, 28, 28}, 0.0f);
    nan[100] = std::nanf("");
    CHECK_THROWS_MATCHES(image::preprocess_digit(nan), NumericError, error(ErrorId::numeric_nonfinite, {"100"}));
    CHECK_THROWS_MATCHES(image::preprocess_digit(Tensor<float>(Shape{5, 28, 28}, 0.0f)), ShapeError,
                         error(ErrorId::shape_rank));
    CHECK_THROWS_MATCHES(image::preprocess_digit(Tensor<float>(Shape{1, 0, 28})), ShapeError,
                         error(ErrorId::shape_rank));
    // A single pixel is too little to stand out (under 0.5 % of the image)...
    Tensor<float> dot(Shape{1, 30, 30}, 1.0f);
    dot[15 * 30 + 15] = 0.0f;
    CHECK_THROWS_MATCHES(image::preprocess_digit(dot), ConfigError,
                         error(ErrorId::config_argument, {"holds no digit"}));
    // ... a 3 x 3 dot is a (tiny) digit, not a crash: scaled up to the 20-pixel box.
    for (Index r = 14; r <= 16; ++r)
        for (Index c = 14; c <= 16; ++c) dot[r * 30 + c] = 0.0f;
    const Tensor<float> x = image::preprocess_digit(dot);
    CHECK(x.shape().str() == Shape{1, 28, 28}.str());
    for (float v : x) CHECK(std::isfinite(v));
}
