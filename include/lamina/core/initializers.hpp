// lamina/core/initializers.hpp: Keras's weight initializers.
//
// Contract: initialize(tensor, init, fan_in, fan_out, rng) fills every
// element; the formulas are Keras's (glorot_uniform is the Dense default,
// he_normal draws from a truncated normal as Keras does).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

enum class Initializer { GlorotUniform, GlorotNormal, HeNormal, HeUniform, Zeros, Ones };

inline const char* to_string(Initializer init) {
    switch (init) {
        case Initializer::GlorotUniform: return "glorot_uniform";
        case Initializer::GlorotNormal: return "glorot_normal";
        case Initializer::HeNormal: return "he_normal";
        case Initializer::HeUniform: return "he_uniform";
        case Initializer::Zeros: return "zeros";
        case Initializer::Ones: return "ones";
    }
    return "?";
}

inline Initializer initializer_from_string(const std::string& name) {
    for (Initializer i : {Initializer::GlorotUniform, Initializer::GlorotNormal, Initializer::HeNormal,
                          Initializer::HeUniform, Initializer::Zeros, Initializer::Ones})
        if (name == to_string(i)) return i;
    throw ConfigError(ErrorId::config_unknown_name,
                      "unknown initializer '" + name +
                          "' (known: glorot_uniform, glorot_normal, he_normal, he_uniform, zeros, ones)");
}

// Host values; a device's backend initialises its tensors from these
// (Backend<Device>::initialize), so every device draws the same weights.
template <class T>
void initialize(TensorView<T, Cpu> w, Initializer init, Index fan_in, Index fan_out, Rng& rng) {
    const double in = static_cast<double>(fan_in), out = static_cast<double>(fan_out);
    switch (init) {
        case Initializer::Zeros: std::fill(w.data(), w.data() + w.size(), T(0)); return;
        case Initializer::Ones: std::fill(w.data(), w.data() + w.size(), T(1)); return;
        case Initializer::GlorotUniform: {
            const double limit = std::sqrt(6.0 / (in + out));
            for (T& v : w) v = static_cast<T>(rng.uniform(-limit, limit));
            return;
        }
        case Initializer::HeUniform: {
            const double limit = std::sqrt(6.0 / in);
            for (T& v : w) v = static_cast<T>(rng.uniform(-limit, limit));
            return;
        }
        // Keras divides by .87962566 so the truncated draw keeps the intended variance.
        case Initializer::GlorotNormal: {
            const double stddev = std::sqrt(2.0 / (in + out)) / .87962566103423978;
            for (T& v : w) v = static_cast<T>(rng.truncated_normal(stddev));
            return;
        }
        case Initializer::HeNormal: {
            const double stddev = std::sqrt(2.0 / in) / .87962566103423978;
            for (T& v : w) v = static_cast<T>(rng.truncated_normal(stddev));
            return;
        }
    }
}

template <class T>
void initialize(Tensor<T>& w, Initializer init, Index fan_in, Index fan_out, Rng& rng) {
    initialize(w.view(), init, fan_in, fan_out, rng);
}

}  // namespace lamina
