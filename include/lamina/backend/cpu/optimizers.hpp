// lamina/backend/cpu/optimizers.hpp: parameter updates, elementwise.
//
// Contract: w, g and the state tensors have the same shape; the update rules
// are Keras 3's (keras/optimizers/{sgd,adam,rmsprop}.py), in comments. Large
// parameters are split across threads (parallel_ranges); each element's
// arithmetic is the same whatever the split.
#pragma once

#include <algorithm>
#include <cmath>

#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/core/device.hpp"
#include "lamina/core/tensor_view.hpp"

namespace lamina::backend {

namespace detail {
template <class T>
using Segment = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
Segment<T> segment(T* data, Index begin, Index end) {
    return Segment<T>(data + begin, end - begin);
}
template <class T>
Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> segment(const T* data, Index begin, Index end) {
    return Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(data + begin, end - begin);
}
}  // namespace detail

// Decoupled weight decay (Keras 3, AdamW): w -= w * rate, rate = lr * weight_decay.
template <class T>
void decay_weights(Cpu, TensorView<T> w, T rate) {
    parallel_ranges(w.size(), [&](Index b, Index e) {
        auto wa = detail::segment(w.data(), b, e);
        wa -= wa * rate;
    });
}

// momentum == 0: w -= lr g
// else:          m = momentum m - lr g;  w += nesterov ? momentum m - lr g : m
template <class T>
void sgd_update(Cpu, TensorView<T> w, TensorView<const T> g, T* m, T lr, T momentum, bool nesterov) {
    parallel_ranges(w.size(), [&](Index b, Index e) {
        auto wa = detail::segment(w.data(), b, e);
        const auto ga = detail::segment(g.data(), b, e);
        if (!m) {
            wa -= lr * ga;
            return;
        }
        auto ma = detail::segment(m, b, e);
        ma = momentum * ma - lr * ga;
        if (nesterov) wa += momentum * ma - lr * ga;
        else wa += ma;
    });
}

// m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2);  amsgrad: vhat = max(vhat, v)
// w -= alpha m / (sqrt(v or vhat) + eps), with alpha = lr sqrt(1 - b2^t) / (1 - b1^t)
// The caller passes 1 - b1 and 1 - b2 computed in double, as Keras does:
// 1 - float(0.999) is 1.3e-5 (relative) away from float(1 - 0.999).
template <class T>
void adam_update(Cpu, TensorView<T> w, TensorView<const T> g, TensorView<T> m, TensorView<T> v, T* vhat, T alpha,
                 T one_minus_beta_1, T one_minus_beta_2, T epsilon) {
    parallel_ranges(w.size(), [&](Index b, Index e) {
        const auto ga = detail::segment(g.data(), b, e);
        auto ma = detail::segment(m.data(), b, e);
        auto va = detail::segment(v.data(), b, e);
        auto wa = detail::segment(w.data(), b, e);
        ma += (ga - ma) * one_minus_beta_1;
        va += (ga.square() - va) * one_minus_beta_2;
        if (vhat) {
            auto vh = detail::segment(vhat, b, e);
            vh = vh.max(va);
            wa -= alpha * ma / (vh.sqrt() + epsilon);
        } else {
            wa -= alpha * ma / (va.sqrt() + epsilon);
        }
    });
}

// v = rho v + (1 - rho) g^2;  centered: mg = rho mg + (1 - rho) g, d = v - mg^2, else d = v
// inc = lr g / sqrt(d + eps);  momentum > 0: mom = momentum mom + inc, w -= mom;  else w -= inc
// 1 - rho comes from the caller, computed in double (as adam_update's 1 - b).
template <class T>
void rmsprop_update(Cpu, TensorView<T> w, TensorView<const T> g, TensorView<T> v, T* mg, T* mom, T lr, T rho,
                    T one_minus_rho, T momentum, T epsilon) {
    parallel_ranges(w.size(), [&](Index b, Index e) {
        const auto ga = detail::segment(g.data(), b, e);
        auto va = detail::segment(v.data(), b, e);
        auto wa = detail::segment(w.data(), b, e);
        va = rho * va + one_minus_rho * ga.square();
        auto apply = [&](const auto& denom) {
            if (mom) {
                auto mo = detail::segment(mom, b, e);
                mo = momentum * mo + lr * ga / (denom + epsilon).sqrt();
                wa -= mo;
            } else {
                wa -= lr * ga / (denom + epsilon).sqrt();
            }
        };
        if (mg) {
            auto mga = detail::segment(mg, b, e);
            mga = rho * mga + one_minus_rho * ga;
            apply(va - mga.square());
        } else {
            apply(va);
        }
    });
}

}  // namespace lamina::backend
