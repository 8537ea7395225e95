// lamina/layers/random_zoom.hpp: Keras's RandomZoom.
//
// Contract: in training each sample (C, H, W) is scaled about its centre
// (cx, cy) = ((W - 1) / 2, (H - 1) / 2): output pixel (x, y) reads the input
// at (cx + zw (x - cx), cy + zh (y - cy)) with zh = 1 + u_h, u_h uniform in
// height_factor's range, and zw = 1 + u_w from width_factor's, drawn after
// u_h; without a width_factor zw = zh, which keeps the aspect ratio. As in
// Keras a positive factor zooms out (the image shrinks), a negative one zooms
// in; factors lie in (-1, 1]. In inference the identity; the rest is
// layers/random_affine.hpp's.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "lamina/layers/random_affine.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class RandomZoomLayer : public RandomAffineLayer<T, Device> {
public:
    RandomZoomLayer(FactorRange height_factor, std::optional<FactorRange> width_factor, WarpSettings settings)
        : RandomAffineLayer<T, Device>(std::move(settings)), height_(height_factor), width_(width_factor) {}

    std::string type() const override { return "RandomZoom"; }

protected:
    void draw(Rng& rng, double* map) const override {
        const Warp2D& g = this->warp();
        const double zh = 1 + rng.uniform(height_.lower, height_.upper);
        const double zw = width_ ? 1 + rng.uniform(width_->lower, width_->upper) : zh;
        const double cx = double(g.width - 1) / 2, cy = double(g.height - 1) / 2;
        const double m[warp_transform_size] = {zw, 0, cx * (1 - zw), 0, zh, cy * (1 - zh)};
        std::copy(m, m + warp_transform_size, map);
    }
    void check_factors() const override {
        this->check_factor("height_factor", height_, true);
        if (width_) this->check_factor("width_factor", *width_, true);
    }
    LayerConfig factor_config() const override {
        return {{"height_factor", height_.str()}, {"width_factor", width_ ? width_->str() : "none"}};
    }

private:
    FactorRange height_;
    std::optional<FactorRange> width_;
};

// Keras's layers.RandomZoom(height_factor, width_factor=None,
// fill_mode="reflect", interpolation="bilinear", fill_value=0.0); the seed is
// the model's. RandomZoom(0.1) scales by a factor in [0.9, 1.1], the same for
// both axes.
struct RandomZoom {
    FactorRange height_factor;
    std::optional<FactorRange> width_factor;
    std::string fill_mode, interpolation;
    double fill_value;
    std::string name;

    RandomZoom(FactorRange height_factor_, std::optional<FactorRange> width_factor_ = std::nullopt,
               std::string fill_mode_ = "reflect", std::string interpolation_ = "bilinear", double fill_value_ = 0.0,
               std::string name_ = {})
        : height_factor(height_factor_),
          width_factor(width_factor_),
          fill_mode(std::move(fill_mode_)),
          interpolation(std::move(interpolation_)),
          fill_value(fill_value_),
          name(std::move(name_)) {}

    // RandomZoom({-0.2, 0.1}): a braced pair alone would also read as the
    // two factors of a RandomZoom to copy; this overload is the exact match.
    RandomZoom(const double (&height_factor_)[2], std::optional<FactorRange> width_factor_ = std::nullopt,
               std::string fill_mode_ = "reflect", std::string interpolation_ = "bilinear", double fill_value_ = 0.0,
               std::string name_ = {})
        : RandomZoom(FactorRange(height_factor_[0], height_factor_[1]), width_factor_, std::move(fill_mode_),
                     std::move(interpolation_), fill_value_, std::move(name_)) {}

    // Model files: the layer's type() and the inverse of its config();
    // width_factor "none" is Keras's None.
    static constexpr const char* config_type = "RandomZoom";
    static RandomZoom from_config(detail::ConfigReader& c) {
        const FactorRange h = c.parsed("height_factor", factor_range_from_string);
        const std::optional<FactorRange> w = c.parsed("width_factor", [](const std::string& text) {
            return text == "none" ? std::nullopt : std::optional<FactorRange>(factor_range_from_string(text));
        });
        std::string problem = detail::factor_range_problem(h, true);
        if (!problem.empty()) c.bad("height_factor", problem);
        if (w && !(problem = detail::factor_range_problem(*w, true)).empty()) c.bad("width_factor", problem);
        const WarpSettings s = WarpSettings::from_config(c);
        return RandomZoom(h, w, s.fill_mode, s.interpolation, s.fill_value);
    }
    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<RandomZoomLayer<T, Device>>(height_factor, width_factor,
                                                                  WarpSettings{fill_mode, interpolation, fill_value});
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
