// lamina/layers/random_rotation.hpp: Keras's RandomRotation.
//
// Contract: in training each sample (C, H, W) turns about its centre
// (cx, cy) = ((W - 1) / 2, (H - 1) / 2) by the angle 2 pi u, u uniform in
// factor's range (a fraction of a full turn, in [-1, 1]); a positive angle
// turns the image counter-clockwise as it is shown (row 0 at the top), as in
// Keras. Output pixel (x, y) reads the input at
//   (cx + cos a (x - cx) - sin a (y - cy),  cy + sin a (x - cx) + cos a (y - cy)),
// Keras's affine matrix for an angle a. In inference the identity; the rest
// is layers/random_affine.hpp's.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/random_affine.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class RandomRotationLayer : public RandomAffineLayer<T, Device> {
public:
    RandomRotationLayer(FactorRange factor, WarpSettings settings)
        : RandomAffineLayer<T, Device>(std::move(settings)), factor_(factor) {}

    std::string type() const override { return "RandomRotation"; }

protected:
    void draw(Rng& rng, double* map) const override {
        const Warp2D& g = this->warp();
        const double two_pi = 6.283185307179586476925286766559;
        const double angle = rng.uniform(factor_.lower, factor_.upper) * two_pi;
        const double c = std::cos(angle), s = std::sin(angle);
        const double cx = double(g.width - 1) / 2, cy = double(g.height - 1) / 2;
        const double m[warp_transform_size] = {c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy};
        std::copy(m, m + warp_transform_size, map);
    }
    void check_factors() const override { this->check_factor("factor", factor_, false); }
    LayerConfig factor_config() const override { return {{"factor", factor_.str()}}; }

private:
    FactorRange factor_;
};

// Keras's layers.RandomRotation(factor, fill_mode="reflect",
// interpolation="bilinear", fill_value=0.0); the seed is the model's.
// RandomRotation(0.03) turns by up to 0.03 of a turn (10.8 degrees) either way.
struct RandomRotation {
    FactorRange factor;
    std::string fill_mode, interpolation;
    double fill_value;
    std::string name;

    RandomRotation(FactorRange factor_, std::string fill_mode_ = "reflect", std::string interpolation_ = "bilinear",
                   double fill_value_ = 0.0, std::string name_ = {})
        : factor(factor_),
          fill_mode(std::move(fill_mode_)),
          interpolation(std::move(interpolation_)),
          fill_value(fill_value_),
          name(std::move(name_)) {}

    // Model files: the layer's type() and the inverse of its config().
    static constexpr const char* config_type = "RandomRotation";
    static RandomRotation from_config(detail::ConfigReader& c) {
        const FactorRange f = c.parsed("factor", factor_range_from_string);
        const std::string problem = detail::factor_range_problem(f, false);
        if (!problem.empty()) c.bad("factor", problem);
        const WarpSettings s = WarpSettings::from_config(c);
        return RandomRotation(f, s.fill_mode, s.interpolation, s.fill_value);
    }
    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<RandomRotationLayer<T, Device>>(
            factor, WarpSettings{fill_mode, interpolation, fill_value});
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
