// lamina/layers/random_translation.hpp: Keras's RandomTranslation.
//
// Contract: in training each sample (C, H, W) moves by dy = u_h * H rows and
// dx = u_w * W columns, u_h uniform in height_factor's range and u_w in
// width_factor's (drawn in that order); positive shifts move the image down
// and right, as in Keras. Output pixel (x, y) reads the input at
// (x - dx, y - dy). Factors lie in [-1, 1] (fractions of the height and
// width). In inference the identity; the rest is layers/random_affine.hpp's.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/random_affine.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class RandomTranslationLayer : public RandomAffineLayer<T, Device> {
public:
    RandomTranslationLayer(FactorRange height_factor, FactorRange width_factor, WarpSettings settings)
        : RandomAffineLayer<T, Device>(std::move(settings)), height_(height_factor), width_(width_factor) {}

    std::string type() const override { return "RandomTranslation"; }

protected:
    void draw(Rng& rng, double* map) const override {
        const Warp2D& g = this->warp();
        const double dy = rng.uniform(height_.lower, height_.upper) * double(g.height);
        const double dx = rng.uniform(width_.lower, width_.upper) * double(g.width);
        const double m[warp_transform_size] = {1, 0, -dx, 0, 1, -dy};
        std::copy(m, m + warp_transform_size, map);
    }
    void check_factors() const override {
        this->check_factor("height_factor", height_, false);
        this->check_factor("width_factor", width_, false);
    }
    LayerConfig factor_config() const override {
        return {{"height_factor", height_.str()}, {"width_factor", width_.str()}};
    }

private:
    FactorRange height_, width_;
};

// Keras's layers.RandomTranslation(height_factor, width_factor,
// fill_mode="reflect", interpolation="bilinear", fill_value=0.0); the seed is
// the model's. RandomTranslation(0.1, 0.1, "constant") shifts by up to 10 %
// either way and fills with zeros.
struct RandomTranslation {
    FactorRange height_factor, width_factor;
    std::string fill_mode, interpolation;
    double fill_value;
    std::string name;

    RandomTranslation(FactorRange height_factor_, FactorRange width_factor_, std::string fill_mode_ = "reflect",
                      std::string interpolation_ = "bilinear", double fill_value_ = 0.0, std::string name_ = {})
        : height_factor(height_factor_),
          width_factor(width_factor_),
          fill_mode(std::move(fill_mode_)),
          interpolation(std::move(interpolation_)),
          fill_value(fill_value_),
          name(std::move(name_)) {}

    // Model files: the layer's type() and the inverse of its config().
    static constexpr const char* config_type = "RandomTranslation";
    static RandomTranslation from_config(detail::ConfigReader& c) {
        const FactorRange h = c.parsed("height_factor", factor_range_from_string);
        const FactorRange w = c.parsed("width_factor", factor_range_from_string);
        for (const auto& [key, r] : {std::pair{"height_factor", h}, std::pair{"width_factor", w}}) {
            const std::string problem = detail::factor_range_problem(r, false);
            if (!problem.empty()) c.bad(key, problem);
        }
        const WarpSettings s = WarpSettings::from_config(c);
        return RandomTranslation(h, w, s.fill_mode, s.interpolation, s.fill_value);
    }
    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<RandomTranslationLayer<T, Device>>(
            height_factor, width_factor, WarpSettings{fill_mode, interpolation, fill_value});
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
