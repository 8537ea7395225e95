// lamina/core/warp.hpp: the geometry of an affine image warp (the image
// augmentation layers RandomTranslation, RandomRotation, RandomZoom).
//
// Contract: a warp maps each output pixel (x, y) of an NCHW sample (C, H, W)
// to the source coordinate
//   sx = a0 x + a1 y + a2,  sy = b0 x + b1 y + b2
// (the inverse map, Keras's affine_transform row [a0 a1 a2 b0 b1 b2]), one
// row of six numbers per sample, and reads the input there:
//   bilinear  the four pixels around (sx, sy), weighted by distance;
//   nearest   the pixel at (floor(sx + 0.5), floor(sy + 0.5)).
// A pixel index outside the sample is replaced per axis by the fill mode,
// as Keras 3's numpy and JAX backends pad the image before interpolating:
//   reflect   (d c b a | a b c d | d c b a), about the edge of the last pixel
//   wrap      (a b c d | a b c d | a b c d)
//   nearest   (a a a a | a b c d | d d d d)
//   constant  (k k k k | a b c d | k k k k), k = fill_value
// Warp2D is a plain struct, so kernels take it by value.
#pragma once

#include <string>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"

namespace lamina {

enum class FillMode { Reflect, Wrap, Constant, Nearest };
enum class Interpolation { Bilinear, Nearest };

inline const char* to_string(FillMode m) {
    switch (m) {
        case FillMode::Reflect: return "reflect";
        case FillMode::Wrap: return "wrap";
        case FillMode::Constant: return "constant";
        case FillMode::Nearest: return "nearest";
    }
    return "?";
}

inline FillMode fill_mode_from_string(const std::string& name) {
    for (FillMode m : {FillMode::Reflect, FillMode::Wrap, FillMode::Constant, FillMode::Nearest})
        if (name == to_string(m)) return m;
    throw ConfigError(ErrorId::config_unknown_name,
                      "unknown fill_mode '" + name + "' (expected \"reflect\", \"wrap\", \"constant\" or \"nearest\")");
}

inline const char* to_string(Interpolation i) { return i == Interpolation::Bilinear ? "bilinear" : "nearest"; }

inline Interpolation interpolation_from_string(const std::string& name) {
    if (name == "bilinear") return Interpolation::Bilinear;
    if (name == "nearest") return Interpolation::Nearest;
    throw ConfigError(ErrorId::config_unknown_name,
                      "unknown interpolation '" + name + "' (expected \"bilinear\" or \"nearest\")");
}

struct Warp2D {
    Index channels, height, width;  // each sample (C, H, W), the same in and out
    FillMode fill;
    Interpolation interpolation;
    double fill_value;  // read outside the sample under FillMode::Constant
};

// Values per sample in a batch of transforms (N, 6): a0 a1 a2 b0 b1 b2.
inline constexpr Index warp_transform_size = 6;

}  // namespace lamina
