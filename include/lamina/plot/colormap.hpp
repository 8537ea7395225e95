// lamina/plot/colormap.hpp: colours and the value -> colour maps of lamina's pictures.
//
// Contract: every map takes a value, clamps it to its documented range (NaN
// counts as the range's low end) and returns an RGB8 colour; none allocates.
//   binary(v)     v in [0, 1]: white -> black, matplotlib's cmap="binary",
//                 the notebooks' way of showing digits (ink dark on paper).
//   blues(v)      v in [0, 1]: white -> dark blue, for heatmaps.
//   diverging(v)  v in [-1, 1]: blue (-1) -> white (0) -> red (+1), for
//                 weights, whose sign matters as much as their size.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lamina::plot {

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
    friend constexpr bool operator==(Rgb x, Rgb y) noexcept { return x.r == y.r && x.g == y.g && x.b == y.b; }
    friend constexpr bool operator!=(Rgb x, Rgb y) noexcept { return !(x == y); }
};

namespace colors {
inline constexpr Rgb white{255, 255, 255};
inline constexpr Rgb black{0, 0, 0};
inline constexpr Rgb grey{128, 128, 128};
inline constexpr Rgb light_grey{220, 220, 220};
inline constexpr Rgb red{214, 39, 40};
// matplotlib's first two series colours ("C0", "C1"), which Keras users know
// from pd.DataFrame(history.history).plot().
inline constexpr Rgb blue{31, 119, 180};
inline constexpr Rgb orange{255, 127, 14};
}  // namespace colors

namespace detail {
inline double clamp_unit(double v) noexcept { return std::isnan(v) ? 0.0 : std::clamp(v, 0.0, 1.0); }
inline std::uint8_t channel(double v) noexcept { return static_cast<std::uint8_t>(std::lround(clamp_unit(v) * 255.0)); }
inline Rgb mix(Rgb a, Rgb b, double t) noexcept {
    t = clamp_unit(t);
    return {channel((a.r + (b.r - a.r) * t) / 255.0), channel((a.g + (b.g - a.g) * t) / 255.0),
            channel((a.b + (b.b - a.b) * t) / 255.0)};
}
}  // namespace detail

inline Rgb binary(double v) noexcept {
    const std::uint8_t grey = detail::channel(1.0 - detail::clamp_unit(v));
    return {grey, grey, grey};
}

inline Rgb blues(double v) noexcept { return detail::mix(colors::white, Rgb{8, 48, 107}, v); }

inline Rgb diverging(double v) noexcept {
    if (std::isnan(v)) v = -1.0;
    v = std::clamp(v, -1.0, 1.0);
    return v < 0 ? detail::mix(colors::white, Rgb{33, 102, 172}, -v) : detail::mix(colors::white, Rgb{178, 24, 43}, v);
}

}  // namespace lamina::plot
