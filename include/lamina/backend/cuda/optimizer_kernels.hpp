// lamina/backend/cuda/optimizer_kernels.hpp: the CUDA backend's parameter
// updates and Dropout mask, one function per element.
//
// Contract: the update rules of backend/cpu/optimizers.hpp (Keras 3's), with
// the same arguments (1 - beta and 1 - rho computed in double by the
// optimizer), for element i; optional slots are null. dropout_mask_at draws
// element i's keep/drop from a counter-based hash of (key, i), so a kernel
// needs no generator state per thread: the layer draws one key per step from
// its Rng, and the same key gives the same mask on every run.
#pragma once

#include <cmath>
#include <cstdint>

#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda_kernels {

// w[i] -= w[i] * rate: decoupled weight decay.
template <class T>
LAMINA_HOST_DEVICE void decay_weights_at(Index i, T* w, T rate) {
    w[i] -= w[i] * rate;
}

template <class T>
LAMINA_HOST_DEVICE void sgd_at(Index i, T* w, const T* g, T* m, T lr, T momentum, bool nesterov) {
    if (!m) {
        w[i] -= lr * g[i];
        return;
    }
    m[i] = momentum * m[i] - lr * g[i];
    w[i] += nesterov ? momentum * m[i] - lr * g[i] : m[i];
}

template <class T>
LAMINA_HOST_DEVICE void adam_at(Index i, T* w, const T* g, T* m, T* v, T* vhat, T alpha, T one_minus_beta_1,
                                T one_minus_beta_2, T epsilon) {
    m[i] += (g[i] - m[i]) * one_minus_beta_1;
    v[i] += (g[i] * g[i] - v[i]) * one_minus_beta_2;
    T denom = v[i];
    if (vhat) {
        vhat[i] = vhat[i] > v[i] ? vhat[i] : v[i];
        denom = vhat[i];
    }
    w[i] -= alpha * m[i] / (std::sqrt(denom) + epsilon);
}

template <class T>
LAMINA_HOST_DEVICE void rmsprop_at(Index i, T* w, const T* g, T* v, T* mg, T* mom, T lr, T rho, T one_minus_rho,
                                   T momentum, T epsilon) {
    v[i] = rho * v[i] + one_minus_rho * g[i] * g[i];
    T denom = v[i];
    if (mg) {
        mg[i] = rho * mg[i] + one_minus_rho * g[i];
        denom = v[i] - mg[i] * mg[i];
    }
    const T inc = lr * g[i] / std::sqrt(denom + epsilon);
    if (mom) {
        mom[i] = momentum * mom[i] + inc;
        w[i] -= mom[i];
    } else {
        w[i] -= inc;
    }
}

// splitmix64's finaliser over key + golden-ratio steps: a counter-based
// generator (each index's bits depend on (key, i) alone).
LAMINA_HOST_DEVICE inline std::uint64_t hash_bits(std::uint64_t key, std::uint64_t i) {
    std::uint64_t z = key + (i + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// mask[i] = 1 / (1 - rate) with probability 1 - rate, else 0; threshold is
// rate * 2^32, as backend/cpu/dropout.hpp compares 32-bit draws.
template <class T>
LAMINA_HOST_DEVICE void dropout_mask_at(Index i, std::uint64_t key, std::uint64_t threshold, T scale, T* mask) {
    mask[i] = scale * T((hash_bits(key, static_cast<std::uint64_t>(i)) >> 32) >= threshold);
}

}  // namespace lamina::cuda_kernels
