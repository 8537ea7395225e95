// lamina/backend/cuda/loss_kernels.hpp: the CUDA backend's losses, one
// function per row (cross-entropies) or element (binary cross-entropy, MSE).
//
// Contract: the formulas of backend/cpu/losses.hpp. Each function returns its
// row's (or element's) loss, in double, and writes that row's gradient when
// grad is not null, already divided by `scale` (the batch size, or B*K for
// the element-wise losses); the batch loss is the sum of the returned values
// over `scale`, which a kernel reduces on the device and the host tests sum
// in a loop. Labels are class ids held as T.
#pragma once

#include <cmath>

#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda_kernels {

// loss = logsumexp(z) - z[label]; grad = (softmax(z) - onehot) / scale.
template <class T>
LAMINA_HOST_DEVICE double sparse_softmax_cross_entropy_row(Index r, const T* logits, const T* labels, Index K, T* grad,
                                                           double scale) {
    const T* z = logits + r * K;
    const Index label = static_cast<Index>(labels[r]);
    T m = z[0];
    for (Index k = 1; k < K; ++k) m = z[k] > m ? z[k] : m;
    double sum = 0;
    for (Index k = 0; k < K; ++k) sum += std::exp(double(z[k] - m));
    if (grad) {
        T* g = grad + r * K;
        const double inv = 1.0 / (sum * scale);
        for (Index k = 0; k < K; ++k) g[k] = T(std::exp(double(z[k] - m)) * inv);
        g[label] -= T(1.0 / scale);
    }
    return std::log(sum) + double(m) - double(z[label]);
}

// Dense targets: loss = logsumexp(z) * sum(y) - sum y z.
template <class T>
LAMINA_HOST_DEVICE double softmax_cross_entropy_row(Index r, const T* logits, const T* target, Index K, T* grad,
                                                    double scale) {
    const T* z = logits + r * K;
    const T* y = target + r * K;
    T m = z[0];
    for (Index k = 1; k < K; ++k) m = z[k] > m ? z[k] : m;
    double sum = 0, ysum = 0, yz = 0;
    for (Index k = 0; k < K; ++k) {
        sum += std::exp(double(z[k] - m));
        ysum += double(y[k]);
        yz += double(y[k]) * double(z[k]);
    }
    if (grad) {
        T* g = grad + r * K;
        for (Index k = 0; k < K; ++k) g[k] = T((std::exp(double(z[k] - m)) / sum * ysum - double(y[k])) / scale);
    }
    return (std::log(sum) + double(m)) * ysum - yz;
}

// Binary cross-entropy of element i, from logits or clipped probabilities.
template <class T>
LAMINA_HOST_DEVICE double binary_cross_entropy_at(Index i, const T* pred, const T* target, bool from_logits, T* grad,
                                                  double eps, double scale) {
    const double x = double(pred[i]), y = double(target[i]);
    if (from_logits) {
        if (grad) {
            const double s = x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
            grad[i] = T((s - y) / scale);
        }
        return (x > 0 ? x : 0.0) - x * y + std::log1p(std::exp(-std::fabs(x)));
    }
    const double p = x < eps ? eps : (x > 1.0 - eps ? 1.0 - eps : x);
    if (grad) {
        const bool unclipped = x > eps && x < 1.0 - eps;
        grad[i] = unclipped ? T((p - y) / (p * (1.0 - p)) / scale) : T(0);
    }
    return -(y * std::log(p) + (1.0 - y) * std::log(1.0 - p));
}

// Squared error of element i; grad = 2 (p - y) / scale.
template <class T>
LAMINA_HOST_DEVICE double squared_error_at(Index i, const T* pred, const T* target, T* grad, double scale) {
    const T d = pred[i] - target[i];
    if (grad) grad[i] = d * T(2.0 / scale);
    return double(d * d);
}

}  // namespace lamina::cuda_kernels
