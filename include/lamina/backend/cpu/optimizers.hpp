// lamina/backend/cpu/optimizers.hpp: parameter updates, elementwise.
//
// Contract: w, g and the state tensors have the same shape; the update rules
// are Keras 3's (keras/optimizers/{sgd,adam,rmsprop}.py), in comments.
#pragma once

#include <cmath>

#include "lamina/core/device.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina::backend {

// momentum == 0: w -= lr g
// else:          m = momentum m - lr g;  w += nesterov ? momentum m - lr g : m
template <class T>
void sgd_update(Cpu, Tensor<T>& w, const Tensor<T>& g, Tensor<T>* m, T lr, T momentum, bool nesterov) {
    auto wa = w.array();
    const auto ga = g.array();
    if (!m) {
        wa -= lr * ga;
        return;
    }
    auto ma = m->array();
    ma = momentum * ma - lr * ga;
    if (nesterov) wa += momentum * ma - lr * ga;
    else wa += ma;
}

// m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2);  amsgrad: vhat = max(vhat, v)
// w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v or vhat) + eps)
template <class T>
void adam_update(Cpu, Tensor<T>& w, const Tensor<T>& g, Tensor<T>& m, Tensor<T>& v, Tensor<T>* vhat, T alpha,
                 T beta_1, T beta_2, T epsilon) {
    auto ga = g.array();
    auto ma = m.array();
    auto va = v.array();
    ma += (ga - ma) * (T(1) - beta_1);
    va += (ga.square() - va) * (T(1) - beta_2);
    if (vhat) {
        auto vh = vhat->array();
        vh = vh.max(va);
        w.array() -= alpha * ma / (vh.sqrt() + epsilon);
    } else {
        w.array() -= alpha * ma / (va.sqrt() + epsilon);
    }
}

// v = rho v + (1 - rho) g^2;  centered: mg = rho mg + (1 - rho) g, d = v - mg^2, else d = v
// inc = lr g / sqrt(d + eps);  momentum > 0: mom = momentum mom + inc, w -= mom;  else w -= inc
template <class T>
void rmsprop_update(Cpu, Tensor<T>& w, const Tensor<T>& g, Tensor<T>& v, Tensor<T>* mg, Tensor<T>* mom, T lr,
                    T rho, T momentum, T epsilon) {
    const auto ga = g.array();
    auto va = v.array();
    va = rho * va + (T(1) - rho) * ga.square();
    auto apply = [&](const auto& denom) {
        if (mom) {
            auto mo = mom->array();
            mo = momentum * mo + lr * ga / (denom + epsilon).sqrt();
            w.array() -= mo;
        } else {
            w.array() -= lr * ga / (denom + epsilon).sqrt();
        }
    };
    if (mg) {
        auto mga = mg->array();
        mga = rho * mga + (T(1) - rho) * ga;
        apply(va - mga.square());
    } else {
        apply(va);
    }
}

}  // namespace lamina::backend
