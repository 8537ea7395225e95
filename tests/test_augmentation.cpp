// The image augmentation layers RandomTranslation, RandomRotation and
// RandomZoom (layers/random_affine.hpp) on the CPU: the identity outside
// training and with zero factors, exact shifts under every fill mode, a
// quarter turn, a 2x zoom against bilinear values worked out by hand, the
// drawn maps within their ranges, seeded and resumable draws, the warp's
// gradient, model files, and every refused argument.
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gradcheck.hpp"
#include "resume_check.hpp"
#include "temp_dir.hpp"

using namespace lamina;

namespace {

const char* const fill_modes[] = {"reflect", "wrap", "constant", "nearest"};
const char* const interpolations[] = {"bilinear", "nearest"};

Tensor<float> random_images(const Shape& shape, std::uint64_t seed) {
    Tensor<float> x(shape);
    Rng rng(seed);
    for (auto& v : x) v = float(rng.uniform());
    return x;
}

// in[r][c] = 1 + 4r + c: every pixel of a 4x4 image tells where it came from.
Tensor<float> numbered_4x4(Index batch = 1) {
    Tensor<float> x(Shape{batch, 1, 4, 4});
    for (Index i = 0; i < x.size(); ++i) x[i] = float(1 + i % 16);
    return x;
}

// The layer of `spec`, built for samples of `sample`, named "under_test".
template <class Spec>
LayerPtr<float, Cpu> built(const Spec& spec, const Shape& sample, std::uint64_t seed = 1) {
    auto layer = spec.template make<float, Cpu>();
    layer->set_name("under_test");
    Rng rng(seed);
    layer->build(sample, rng);
    return layer;
}

Tensor<float> train_forward(Layer<float>& layer, const Tensor<float>& x) {
    Tensor<float> y(x.shape());
    layer.reserve(x.rows());
    layer.forward(x, y, Mode::Training);
    return y;
}

bool same_bits(const Tensor<float>& a, const Tensor<float>& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())) == 0;
}

void check_values(const Tensor<float>& got, const std::vector<float>& want, double margin) {
    REQUIRE(got.size() == Index(want.size()));
    for (Index i = 0; i < got.size(); ++i) {
        CAPTURE(i / 4, i % 4);
        CHECK(got[i] == Approx(want[std::size_t(i)]).margin(margin));
    }
}

const RandomAffineLayer<float>& affine(const Layer<float>& layer) {
    return dynamic_cast<const RandomAffineLayer<float>&>(layer);
}

}  // namespace

TEST_CASE("Augmentation layers are the identity in predict and evaluate", "[augmentation]") {
    const auto x = random_images(Shape{20, 1, 9, 7}, 1);
    Tensor<float> y(Shape{20});
    for (Index i = 0; i < 20; ++i) y[i] = float(i % 3);
    Sequential<float> augmented("a", 3), plain("p", 3);
    augmented.add(RandomRotation(0.2)).add(RandomZoom(0.3)).add(RandomTranslation(0.3, 0.3, "constant"));
    augmented.add(Flatten()).add(Dense(3, "softmax"));
    plain.add(Flatten()).add(Dense(3, "softmax"));
    augmented.compile(SGD(0.1), "sparse_categorical_crossentropy", {metrics::accuracy});
    plain.compile(SGD(0.1), "sparse_categorical_crossentropy", {metrics::accuracy});
    augmented.build(Shape{1, 9, 7});
    plain.build(Shape{1, 9, 7});
    plain.set_weights(augmented.get_weights());
    CHECK(same_bits(augmented.predict(x), plain.predict(x)));
    const auto a = augmented.evaluate(x, y), p = plain.evaluate(x, y);
    CHECK(a.loss == p.loss);
    CHECK(a.accuracy() == p.accuracy());
    // ... and each layer alone, as infer() and as forward() in inference.
    for (std::size_t i = 0; i < 3; ++i) {
        Tensor<float> out(x.shape());
        augmented.layer(i).forward(x, out, Mode::Inference);
        CHECK(same_bits(out, x));
    }
}

TEST_CASE("Zero factors leave every image as it is in training", "[augmentation]") {
    const auto x = random_images(Shape{5, 3, 6, 9}, 2);
    for (const char* fill : fill_modes)
        for (const char* interpolation : interpolations) {
            CAPTURE(fill, interpolation);
            CHECK(same_bits(train_forward(*built(RandomTranslation(0, 0, fill, interpolation), Shape{3, 6, 9}), x), x));
            CHECK(same_bits(train_forward(*built(RandomRotation(0, fill, interpolation), Shape{3, 6, 9}), x), x));
            CHECK(same_bits(train_forward(*built(RandomZoom(0, 0.0, fill, interpolation), Shape{3, 6, 9}), x), x));
        }
}

TEST_CASE("RandomTranslation by whole pixels shifts the image and fills by each mode", "[augmentation]") {
    // width_factor 0.5 of 4 columns: 2 to the right; height_factor -0.25 of
    // 4 rows: 1 up. Output (r, c) reads input (r + 1, c - 2): columns -2 and
    // -1 and row 4 are outside.
    const auto x = numbered_4x4(2);
    const std::vector<std::pair<const char*, std::vector<float>>> cases{
        // reflect: column -2 -> 1, -1 -> 0; row 4 -> 3
        {"reflect", {6, 5, 5, 6, 10, 9, 9, 10, 14, 13, 13, 14, 14, 13, 13, 14}},
        // wrap: column -2 -> 2, -1 -> 3; row 4 -> 0
        {"wrap", {7, 8, 5, 6, 11, 12, 9, 10, 15, 16, 13, 14, 3, 4, 1, 2}},
        // nearest: columns -2, -1 -> 0; row 4 -> 3
        {"nearest", {5, 5, 5, 6, 9, 9, 9, 10, 13, 13, 13, 14, 13, 13, 13, 14}},
        // constant: fill_value -1 outside
        {"constant", {-1, -1, 5, 6, -1, -1, 9, 10, -1, -1, 13, 14, -1, -1, -1, -1}},
    };
    for (const auto& [fill, want] : cases)
        for (const char* interpolation : interpolations) {
            CAPTURE(fill, interpolation);
            auto layer =
                built(RandomTranslation({-0.25, -0.25}, {0.5, 0.5}, fill, interpolation, -1.0), Shape{1, 4, 4});
            const auto y = train_forward(*layer, x);
            REQUIRE(y.size() == 32);
            for (Index i = 0; i < 32; ++i) {  // both samples drew the same shift
                CAPTURE(i / 16, i % 16 / 4, i % 4);
                CHECK(y[i] == want[std::size_t(i % 16)]);
            }
        }
}

TEST_CASE("RandomRotation by a quarter turn permutes the pixels, counter-clockwise for positive factors",
          "[augmentation]") {
    // A quarter turn counter-clockwise (numpy's rot90): out[r][c] = in[c][3 - r];
    // clockwise: out[r][c] = in[3 - c][r].
    const auto x = numbered_4x4();
    for (const char* interpolation : interpolations)
        for (double turn : {0.25, -0.25}) {
            CAPTURE(interpolation, turn);
            std::vector<float> want(16);
            for (Index r = 0; r < 4; ++r)
                for (Index c = 0; c < 4; ++c)
                    want[std::size_t(r * 4 + c)] = turn > 0 ? x[c * 4 + (3 - r)] : x[(3 - c) * 4 + r];
            const auto y =
                train_forward(*built(RandomRotation({turn, turn}, "constant", interpolation, -9.0), Shape{1, 4, 4}), x);
            check_values(y, want, 1e-5);
        }
    // Half a turn of a 3x5 image about its centre (1, 2): out[r][c] = in[2 - r][4 - c].
    Tensor<float> wide(Shape{1, 1, 3, 5});
    for (Index i = 0; i < 15; ++i) wide[i] = float(i * i % 7);
    const auto y = train_forward(*built(RandomRotation({0.5, 0.5}), Shape{1, 3, 5}), wide);
    for (Index r = 0; r < 3; ++r)
        for (Index c = 0; c < 5; ++c) CHECK(y[r * 5 + c] == Approx(wide[(2 - r) * 5 + (4 - c)]).margin(1e-5));
}

TEST_CASE("RandomZoom by 2x in and out gives the bilinear values worked out by hand", "[augmentation]") {
    Tensor<float> x(Shape{1, 1, 4, 4}, {0, 1, 4, 9, 2, 3, 8, 1, 5, 7, 6, 2, 9, 4, 0, 3});
    // Zoom in 2x (factor -0.5: scale 0.5 about (1.5, 1.5)): output (r, c)
    // reads (0.75 + r/2, 0.75 + c/2); (0, 0) reads (0.75, 0.75):
    //   0.0625 * 0 + 0.1875 * 1 + 0.1875 * 2 + 0.5625 * 3 = 2.25.
    const std::vector<float> zoom_in{2.25,   3.625, 5.875, 6.0,    3.6875, 4.875,  6.625,  5.9375,
                                     5.5625, 6.125, 6.375, 5.3125, 6.1875, 5.8125, 4.9375, 3.9375};
    check_values(train_forward(*built(RandomZoom({-0.5, -0.5}), Shape{1, 4, 4}), x), zoom_in, 1e-5);
    // Zoom out 2x (factor 1: scale 2): (r, c) reads (2r - 1.5, 2c - 1.5); only
    // (0.5, 0.5), (0.5, 2.5), (2.5, 0.5), (2.5, 2.5) lie inside, e.g. (0.5, 0.5):
    //   (0 + 1 + 2 + 3) / 4 = 1.5; the rest is the fill value.
    const std::vector<float> zoom_out{-1, -1, -1, -1, -1, 1.5, 5.5, -1, -1, 6.25, 2.75, -1, -1, -1, -1, -1};
    check_values(
        train_forward(*built(RandomZoom({1.0, 1.0}, std::nullopt, "constant", "bilinear", -1.0), Shape{1, 4, 4}), x),
        zoom_out, 1e-5);
    // Height and width apart: rows zoomed in 2x, columns as they are.
    const auto rows = train_forward(*built(RandomZoom({-0.5, -0.5}, FactorRange{0, 0}), Shape{1, 4, 4}), x);
    for (Index c = 0; c < 4; ++c)  // row 0 reads row 0.75
        CHECK(rows[c] == Approx(0.25 * x[c] + 0.75 * x[4 + c]).margin(1e-5));
}

TEST_CASE("Drawn maps cover their factor ranges uniformly", "[augmentation]") {
    const Index n = 4000;
    const Shape sample{1, 6, 10};
    const auto x = random_images(sample.with_batch(n), 3);
    // lower, upper, min, max and mean of the values `of` reads from each row.
    auto check_range = [&](const Layer<float>& layer, double lower, double upper, auto of) {
        const auto& t = affine(layer).transforms();
        REQUIRE(t.rows() == n);
        double lo = 1e9, hi = -1e9, sum = 0;
        for (Index i = 0; i < n; ++i) {
            const double v = of(t.data() + i * warp_transform_size);
            lo = std::min(lo, v), hi = std::max(hi, v), sum += v;
        }
        const double width = upper - lower;
        CHECK(lo >= lower - 1e-6);
        CHECK(hi <= upper + 1e-6);
        CHECK(lo <= lower + 0.01 * width);
        CHECK(hi >= upper - 0.01 * width);
        CHECK(sum / double(n) == Approx((lower + upper) / 2).margin(0.03 * width));
    };
    {
        auto layer = built(RandomTranslation({-0.2, 0.3}, 0.1), sample);
        train_forward(*layer, x);
        check_range(*layer, -0.2, 0.3, [](const float* t) { return -t[5] / 6.0; });   // rows
        check_range(*layer, -0.1, 0.1, [](const float* t) { return -t[2] / 10.0; });  // columns
        check_range(*layer, 1, 1, [](const float* t) { return double(t[0] * t[4]); });
    }
    {
        auto layer = built(RandomRotation({-0.1, 0.05}), sample);
        train_forward(*layer, x);
        const double two_pi = 6.283185307179586;
        check_range(*layer, -0.1, 0.05, [&](const float* t) { return std::atan2(t[3], t[0]) / two_pi; });
        // About the centre (4.5, 2.5): the centre maps to itself.
        check_range(*layer, 4.5, 4.5, [](const float* t) { return t[0] * 4.5 + t[1] * 2.5 + t[2]; });
        check_range(*layer, 2.5, 2.5, [](const float* t) { return t[3] * 4.5 + t[4] * 2.5 + t[5]; });
    }
    {
        auto layer = built(RandomZoom(0.2), sample);
        train_forward(*layer, x);
        check_range(*layer, 0.8, 1.2, [](const float* t) { return t[4]; });
        check_range(*layer, 0, 0, [](const float* t) { return t[0] - t[4]; });  // aspect kept
        auto apart = built(RandomZoom({-0.3, 0}, FactorRange{0.1, 0.5}), sample);
        train_forward(*apart, x);
        check_range(*apart, 0.7, 1.0, [](const float* t) { return t[4]; });
        check_range(*apart, 1.1, 1.5, [](const float* t) { return t[0]; });
    }
}

TEST_CASE("Augmentation draws follow the model's seed, and training resumes exactly from a file",
          "[augmentation][resume]") {
    const auto x = random_images(Shape{48, 1, 8, 8}, 4);
    Tensor<float> y(Shape{48});
    for (Index i = 0; i < 48; ++i) y[i] = float(i % 4);
    auto make = [](std::uint64_t seed) {
        return [seed] {
            Sequential<float> m("aug", seed);
            m.add(RandomRotation(0.1, "constant"))
                .add(RandomZoom(0.2, FactorRange{-0.1, 0.1}, "reflect", "nearest"))
                .add(RandomTranslation(0.2, 0.1, "wrap", "bilinear", 0.5))
                .add(Conv2D(3, 3, Activation::ReLU))
                .add(Flatten())
                .add(Dense(4, "softmax"));
            m.compile(Adam(0.01), "sparse_categorical_crossentropy", {metrics::accuracy});
            return m;
        };
    };
    auto augmented = [&](std::uint64_t seed) {
        auto m = make(seed)();
        m.build(Shape{1, 8, 8});
        Tensor<float> a(x.shape()), b(x.shape()), c(x.shape());
        for (std::size_t i = 0; i < 3; ++i) m.layer(i).reserve(48);
        m.layer(0).forward(x, a, Mode::Training);
        m.layer(1).forward(a, b, Mode::Training);
        m.layer(2).forward(b, c, Mode::Training);
        return c;
    };
    const auto a = augmented(5), b = augmented(5), c = augmented(6);
    CHECK(same_bits(a, b));
    CHECK_FALSE(same_bits(a, c));
    CHECK_FALSE(same_bits(a, x));

    test::TempDir dir("augmentation");
    test::check_exact_resume(make(7), x, y, 16, dir.file("half.lamina"), [](auto& loaded, auto& saved) {
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(loaded.layer(i).type() == saved.layer(i).type());
            CHECK(loaded.layer(i).config() == saved.layer(i).config());
            CHECK(loaded.layer(i).state() == saved.layer(i).state());
        }
    });
}

TEST_CASE("The warp's backward is its transpose: finite differences under fixed maps", "[augmentation][gradient]") {
    Rng rng(8);
    for (const char* fill : fill_modes)
        for (const char* interpolation : interpolations) {
            CAPTURE(fill, interpolation);
            auto check = [&](auto spec) {
                auto layer = gradcheck::built(spec, Shape{2, 5, 6}, rng);
                auto& random = dynamic_cast<RandomAffineLayer<double>&>(*layer);
                const auto state = random.rng().state();
                const auto r = gradcheck::check_layer(*layer, gradcheck::random_tensor(Shape{3, 2, 5, 6}, rng), rng,
                                                      [&] { random.rng().set_state(state); });
                CHECK(r.max_input_error <= 1e-6);
            };
            check(RandomTranslation(0.4, 0.4, fill, interpolation, 0.3));
            check(RandomRotation(0.5, fill, interpolation, 0.3));
            check(RandomZoom(0.6, FactorRange{-0.5, 0.2}, fill, interpolation, 0.3));
        }
}

TEST_CASE("Augmentation configs round-trip through make_layer and model files", "[augmentation][model_file]") {
    const std::vector<LayerPtr<float, Cpu>> layers = [] {
        std::vector<LayerPtr<float, Cpu>> v;
        v.push_back(RandomTranslation({-0.2, 0.3}, 0.1, "constant", "nearest", 0.25).make<float, Cpu>());
        v.push_back(RandomRotation(1.0 / 3, "wrap").make<float, Cpu>());
        v.push_back(RandomZoom(0.2).make<float, Cpu>());
        v.push_back(RandomZoom({-0.9, 1}, FactorRange{0, 0.1}, "nearest", "bilinear", -2).make<float, Cpu>());
        return v;
    }();
    for (const auto& layer : layers) {
        CAPTURE(layer->type());
        const auto copy = make_layer<float>(layer->type(), "copy", layer->config());
        CHECK(copy->type() == layer->type());
        CHECK(copy->config() == layer->config());
    }
    CHECK(layers[0]->config() == LayerConfig{{"height_factor", "(-0.2, 0.3)"},
                                             {"width_factor", "(-0.1, 0.1)"},
                                             {"fill_mode", "constant"},
                                             {"interpolation", "nearest"},
                                             {"fill_value", "0.25"}});
    CHECK(layers[2]->config().at(1) == std::pair<std::string, std::string>{"width_factor", "none"});
    // Defaults are Keras's.
    CHECK(layers[1]->config().at(2) == std::pair<std::string, std::string>{"interpolation", "bilinear"});
    CHECK(layers[2]->config().at(2) == std::pair<std::string, std::string>{"fill_mode", "reflect"});
    CHECK(layers[2]->config().at(4) == std::pair<std::string, std::string>{"fill_value", "0"});
}

TEST_CASE("Augmentation layers refuse bad factors, modes, shapes and state, naming the layer and the key",
          "[augmentation][errors]") {
    auto config_error = [](auto spec, const Shape& sample, const std::string& key) {
        CAPTURE(key);
        try {
            built(spec, sample);
            FAIL("no error");
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            CAPTURE(what);
            CHECK(what.find("'under_test'") != std::string::npos);
            CHECK(what.find(key) != std::string::npos);
        }
    };
    const Shape s{1, 8, 8};
    config_error(RandomTranslation(1.5, 0.1), s, "height_factor");
    config_error(RandomTranslation(0.1, {-1.01, 0}), s, "width_factor");
    config_error(RandomTranslation({0.3, 0.2}, 0.1), s, "height_factor");
    config_error(RandomTranslation(0.1, {0, std::nan("")}), s, "width_factor");
    config_error(RandomRotation(-1.2), s, "factor");
    config_error(RandomRotation({0.5, -0.5}), s, "factor");
    config_error(RandomZoom({-1, 0}), s, "height_factor");
    config_error(RandomZoom(0.1, FactorRange{0, 1.5}), s, "width_factor");
    config_error(RandomZoom(0.1, std::nullopt, "mirror"), s, "fill_mode");
    config_error(RandomTranslation(0.1, 0.1, "reflect", "bicubic"), s, "interpolation");
    config_error(RandomRotation(0.1, "Constant"), s, "fill_mode");
    // Edges Keras allows.
    CHECK_NOTHROW(built(RandomTranslation({-1, 1}, 1), s));
    CHECK_NOTHROW(built(RandomRotation({-1, 1}), s));
    CHECK_NOTHROW(built(RandomZoom({-0.99, 1}), s));

    for (const Shape& bad : {Shape{64}, Shape{8, 8}}) {
        CAPTURE(bad.str());
        try {
            built(RandomRotation(0.1), bad);
            FAIL("no error");
        } catch (const ShapeError& e) {
            CHECK(std::string(e.what()).find("RandomRotation 'under_test'") != std::string::npos);
        }
    }

    auto config_text_error = [](const std::string& type, LayerConfig config, const std::string& key) {
        CAPTURE(type, key);
        try {
            make_layer<float>(type, "from_file", config);
            FAIL("no error");
        } catch (const ConfigError& e) {
            const std::string what = e.what();
            CAPTURE(what);
            CHECK(what.find("'from_file'") != std::string::npos);
            CHECK(what.find("'" + key + "'") != std::string::npos);
        }
    };
    const LayerConfig good{
        {"factor", "(-0.1, 0.1)"}, {"fill_mode", "reflect"}, {"interpolation", "bilinear"}, {"fill_value", "0"}};
    CHECK_NOTHROW(make_layer<float>("RandomRotation", "from_file", good));
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{{"factor", "(2, 3)"},
                                                                                     {"factor", "0.1"},
                                                                                     {"factor", "(0.1, -0.1)"},
                                                                                     {"factor", "(0.1,0.2)"},
                                                                                     {"factor", "(0.1, 0.2) "},
                                                                                     {"fill_mode", "mirror"},
                                                                                     {"interpolation", "area"},
                                                                                     {"fill_value", "zero"}}) {
        LayerConfig c = good;
        for (auto& kv : c)
            if (kv.first == key) kv.second = value;
        config_text_error("RandomRotation", c, key);
    }
    config_text_error("RandomZoom",
                      {{"height_factor", "(-1, 0)"},
                       {"width_factor", "none"},
                       {"fill_mode", "reflect"},
                       {"interpolation", "bilinear"},
                       {"fill_value", "0"}},
                      "height_factor");
    config_text_error("RandomZoom",
                      {{"height_factor", "(0, 0)"},
                       {"width_factor", "None"},
                       {"fill_mode", "reflect"},
                       {"interpolation", "bilinear"},
                       {"fill_value", "0"}},
                      "width_factor");

    auto layer = built(RandomZoom(0.1), s);
    CHECK_THROWS_AS(layer->set_state({1, 2, 3}), ConfigError);
}
