// lamina/core/window.hpp: the geometry of a 2-D sliding window (convolution,
// pooling) over NCHW samples, with Keras's "valid" and "same" padding.
//
// Contract: make_window(who, input (C, H, W), kernel, strides, padding)
// returns the output size and the zero padding before the first row/column:
//   valid: out = floor((in - k) / s) + 1, no padding; k > in is a ShapeError.
//   same:  out = ceil(in / s); total padding max((out - 1) * s + k - in, 0),
//          of which floor(total / 2) goes before (top/left), the rest after,
//          exactly as TensorFlow pads.
// Errors name the layer through `who` ("Conv2D 'conv2d'").
#pragma once

#include <algorithm>
#include <string>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"

namespace lamina {

enum class Padding { Valid, Same };

inline const char* to_string(Padding p) { return p == Padding::Valid ? "valid" : "same"; }

inline Padding padding_from_string(const std::string& name) {
    if (name == "valid") return Padding::Valid;
    if (name == "same") return Padding::Same;
    throw ConfigError(ErrorId::config_unknown_name, "unknown padding '" + name + "' (expected \"valid\" or \"same\")");
}

// A padding argument: Padding::Same, or Keras's string "same" / "valid".
struct PaddingArg {
    Padding value;
    PaddingArg(Padding p) : value(p) {}  // NOLINT(google-explicit-constructor): Keras's enum-or-string
    PaddingArg(const char* name)
        : value(padding_from_string(name ? name : "")) {}                      // NOLINT(google-explicit-constructor)
    PaddingArg(const std::string& name) : value(padding_from_string(name)) {}  // NOLINT(google-explicit-constructor)
    operator Padding() const { return value; }                                 // NOLINT(google-explicit-constructor)
};

inline bool is_padding_name(const std::string& name) { return name == "valid" || name == "same"; }

// Two numbers, one per spatial axis; one number means the same for both,
// as Keras's kernel_size=3 means (3, 3).
struct Size2 {
    Index h, w;
    Size2(Index both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor): Keras's int-or-tuple
    Size2(Index h_, Index w_) : h(h_), w(w_) {}
    std::string str() const { return "(" + std::to_string(h) + ", " + std::to_string(w) + ")"; }
};

struct Window2D {
    Index channels, in_h, in_w;  // input sample (C, H, W)
    Index k_h, k_w, s_h, s_w;    // kernel and strides
    Index out_h, out_w;
    Index pad_top, pad_left;  // zero rows/columns before the input
    Index in_plane() const { return in_h * in_w; }
    Index out_plane() const { return out_h * out_w; }
    // Input values one window covers across all channels: the rows of the
    // im2col matrix a convolution multiplies by its kernel.
    Index patch_size() const { return channels * k_h * k_w; }
};

// True when every window lies inside the input: no padding, no clipping (every
// "valid" window). Pooling and im2col/col2im take their plain loops then.
// (The CUDA kernels keep a host-device twin in backend/cuda/window_kernels.hpp.)
inline bool windows_inside(const Window2D& g) {
    return g.pad_top == 0 && g.pad_left == 0 && (g.out_h - 1) * g.s_h + g.k_h <= g.in_h &&
           (g.out_w - 1) * g.s_w + g.k_w <= g.in_w;
}

inline Window2D make_window(const std::string& who, const Shape& input, Size2 kernel, Size2 strides, Padding padding) {
    if (kernel.h < 1 || kernel.w < 1)
        throw ConfigError(ErrorId::config_argument, who + ": kernel/pool size must be >= 1, got " + kernel.str());
    if (strides.h < 1 || strides.w < 1)
        throw ConfigError(ErrorId::config_argument, who + ": strides must be >= 1, got " + strides.str());
    if (input.rank() != 3)
        throw ShapeError(ErrorId::shape_rank, who + ": expects samples (channels, height, width), got " +
                                                  input.keras_str() + "; images are NCHW, e.g. (None, 1, 28, 28)");
    Window2D g{};
    g.channels = input[0];
    g.in_h = input[1];
    g.in_w = input[2];
    g.k_h = kernel.h;
    g.k_w = kernel.w;
    g.s_h = strides.h;
    g.s_w = strides.w;
    if (padding == Padding::Valid) {
        if (kernel.h > g.in_h || kernel.w > g.in_w)
            throw ShapeError(ErrorId::shape_mismatch, who + ": window " + kernel.str() + " is larger than its input " +
                                                          input.keras_str() + " with padding \"valid\"");
        g.out_h = (g.in_h - kernel.h) / strides.h + 1;
        g.out_w = (g.in_w - kernel.w) / strides.w + 1;
    } else {
        g.out_h = (g.in_h + strides.h - 1) / strides.h;
        g.out_w = (g.in_w + strides.w - 1) / strides.w;
        g.pad_top = std::max<Index>((g.out_h - 1) * strides.h + kernel.h - g.in_h, 0) / 2;
        g.pad_left = std::max<Index>((g.out_w - 1) * strides.w + kernel.w - g.in_w, 0) / 2;
    }
    return g;
}

}  // namespace lamina
