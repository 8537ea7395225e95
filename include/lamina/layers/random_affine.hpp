// lamina/layers/random_affine.hpp: what the image augmentation layers
// (RandomTranslation, RandomRotation, RandomZoom) share.
//
// Contract: input (None, C, H, W) -> output of the same shape; any other
// rank is a ShapeError naming the layer. In training (forward with
// Mode::Training, i.e. in fit) each sample is warped by its own random affine
// map (core/warp.hpp: interpolation, fill modes); in inference (infer(),
// predict, evaluate) the layer is the identity. A derived layer only says how
// it draws one sample's inverse map (output pixel -> source coordinate) and
// which factors it checks. Maps are drawn on the host from the layer's own
// Rng, seeded from the model's generator at build, sample after sample, so
// both devices draw the same maps, and state() (the generator) makes a saved
// model resume bit for bit. Workspace: the batch's maps (batch, 6) on the
// host and on the device, sized in reserve(). backward() is the warp's
// transpose (Backend::affine_warp_backward), needed only when a layer with
// parameters comes before this one.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "lamina/backend/backend.hpp"
#include "lamina/core/warp.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

// A random factor's range, Keras's float-or-tuple: one number f means
// [-|f|, |f|], a pair {lower, upper} that range (lower <= upper).
struct FactorRange {
    double lower, upper;
    FactorRange(double f) : lower(-std::abs(f)), upper(std::abs(f)) {}  // NOLINT(google-explicit-constructor)
    FactorRange(double lower_, double upper_) : lower(lower_), upper(upper_) {}
    // "(-0.1, 0.1)": how configs write it.
    std::string str() const { return "(" + config_number(lower) + ", " + config_number(upper) + ")"; }
};

// Reads FactorRange::str()'s text back.
inline FactorRange factor_range_from_string(const std::string& text) {
    const char* s = text.c_str();
    char* end = nullptr;
    const double lower = s[0] == '(' ? std::strtod(s + 1, &end) : 0;
    bool ok = s[0] == '(' && end != s + 1 && end[0] == ',' && end[1] == ' ';
    double upper = 0;
    if (ok) {
        const char* b = end + 2;
        upper = std::strtod(b, &end);
        ok = end != b && end[0] == ')' && end[1] == '\0';
    }
    if (!ok)
        throw ConfigError(ErrorId::config_argument, "must be a pair like (-0.1, 0.1) of numbers, got '" + text + "'");
    return FactorRange(lower, upper);
}

namespace detail {

// Why a factor range is refused, or empty. Keras refuses translation and
// rotation factors outside [-1, 1] and zoom factors outside (-1, 1] (the zoom
// 1 + f must stay positive); lamina also refuses lower > upper, which Keras
// silently sorts.
inline std::string factor_range_problem(const FactorRange& r, bool zoom) {
    if (!(r.lower <= r.upper)) return "must have lower <= upper, got " + r.str();
    if (!(r.lower >= -1.0) || !(r.upper <= 1.0) || (zoom && r.lower == -1.0))
        return std::string("must lie in ") + (zoom ? "(-1, 1]" : "[-1, 1]") + ", got " + r.str();
    return {};
}

}  // namespace detail

// The settings every augmentation layer shares, as Keras names them.
struct WarpSettings {
    std::string fill_mode = "reflect";
    std::string interpolation = "bilinear";
    double fill_value = 0.0;

    // Model files: the keys the layers' config() writes after their factors.
    void add_to(LayerConfig& c) const {
        c.emplace_back("fill_mode", fill_mode);
        c.emplace_back("interpolation", interpolation);
        c.emplace_back("fill_value", config_number(fill_value));
    }
    static WarpSettings from_config(detail::ConfigReader& c) {
        WarpSettings s;
        s.fill_mode = to_string(c.parsed("fill_mode", fill_mode_from_string));
        s.interpolation = to_string(c.parsed("interpolation", interpolation_from_string));
        s.fill_value = c.number("fill_value");
        return s;
    }
};

template <class T, class Device = Cpu>
class RandomAffineLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;

    explicit RandomAffineLayer(WarpSettings settings) : settings_(std::move(settings)) {}

    Shape build(const Shape& input, Rng& rng) override {
        if (input.rank() != 3)
            throw ShapeError(
                ErrorId::shape_rank,
                this->who() + ": expects image samples (C, H, W), channels first, got " + input.keras_str());
        check_factors();
        g_.channels = input[0];
        g_.height = input[1];
        g_.width = input[2];
        g_.fill = parse("fill_mode", settings_.fill_mode, fill_mode_from_string);
        g_.interpolation = parse("interpolation", settings_.interpolation, interpolation_from_string);
        g_.fill_value = settings_.fill_value;
        rng_.seed(rng.next_u64());
        return this->finish_build(input, input);
    }
    void reserve(Index batch) override {
        host_.reserve(batch * warp_transform_size);
        transforms_.reserve(batch * warp_transform_size);
    }

    void infer(const TensorType& x, TensorType& y) const override { y = x; }

    void forward(const TensorType& x, TensorType& y, Mode mode) override {
        if (mode == Mode::Inference) {
            active_ = false;
            infer(x, y);
            return;
        }
        active_ = true;
        const Index batch = x.rows();
        host_.resize(Shape{batch, warp_transform_size});
        double map[warp_transform_size];
        for (Index n = 0; n < batch; ++n) {
            draw(rng_, map);
            for (Index k = 0; k < warp_transform_size; ++k) host_[n * warp_transform_size + k] = T(map[k]);
        }
        transforms_.resize(host_.shape());
        Backend<Device>::upload(host_.data(), host_.size(), transforms_.data());
        Backend<Device>::affine_warp(g_, transforms_.cview(), x.view(), y.view());
    }

    void backward(const TensorType&, const TensorType&, const TensorType& dy, TensorType* dx) override {
        if (!dx) return;
        if (active_) Backend<Device>::affine_warp_backward(g_, transforms_.cview(), dy.view(), dx->view());
        else *dx = dy;
    }

    LayerConfig config() const override {
        LayerConfig c = factor_config();
        settings_.add_to(c);
        return c;
    }
    std::vector<std::uint64_t> state() const override { return rng_words(rng_); }
    void set_state(const std::vector<std::uint64_t>& words) override { set_rng_words(rng_, words, this->who()); }

    Rng& rng() noexcept { return rng_; }
    Rng* generator() noexcept override { return &rng_; }
    const Warp2D& warp() const noexcept { return g_; }
    // The last training batch's maps (batch, 6), a0 a1 a2 b0 b1 b2 per sample.
    const Tensor<T, Cpu>& transforms() const noexcept { return host_; }

protected:
    // One sample's inverse map (core/warp.hpp's a0 a1 a2 b0 b1 b2) from rng,
    // for the sample size in warp().
    virtual void draw(Rng& rng, double* map) const = 0;
    // Throws ConfigError naming the layer and the factor that is out of range.
    virtual void check_factors() const = 0;
    // The factors as config() writes them, before the shared settings.
    virtual LayerConfig factor_config() const = 0;

    void check_factor(const char* key, const FactorRange& r, bool zoom) const {
        const std::string problem = detail::factor_range_problem(r, zoom);
        if (!problem.empty()) throw ConfigError(ErrorId::config_argument, this->who() + ": " + key + " " + problem);
    }

private:
    template <class Parse>
    auto parse(const char* key, const std::string& text, Parse parse_text) const {
        try {
            return parse_text(text);
        } catch (const Error& e) {
            throw ConfigError(e.id(), this->who() + ": " + key + ": " + e.message());
        }
    }

    WarpSettings settings_;
    Warp2D g_{};
    Rng rng_;
    Tensor<T, Cpu> host_;    // (batch, 6): the maps as drawn
    TensorType transforms_;  // (batch, 6): the same on the device
    bool active_ = false;
};

}  // namespace lamina
