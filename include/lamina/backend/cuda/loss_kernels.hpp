// lamina/backend/cuda/loss_kernels.hpp: the CUDA backend's losses, one
// function per row (cross-entropies) or element (binary cross-entropy, MSE).
//
// Contract: the formulas of backend/cpu/losses.hpp. Each function returns its
// row's (or element's) loss, in double, and writes that row's gradient when
// grad is not null, already divided by `scale` (the batch size, or B*K for
// the element-wise losses); the batch loss is the sum of the returned values
// over `scale`, which a kernel reduces on the device and the host tests sum
// in a loop. Labels are class ids held as T. softmax_logit_gradient_row
// writes a gradient only (the loss is probability_cross_entropy_row's). The
// categorical ones take Keras's label smoothing ls: each target y becomes
// y (1 - ls) + ls / K; ls = 0 leaves it exactly y.
#pragma once

#include <cmath>

#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda_kernels {

namespace detail {

// y (1 - ls) + ls / K, as backend::smoothed_target.
LAMINA_HOST_DEVICE inline double smoothed(double y, double ls, Index K) { return y * (1.0 - ls) + ls / double(K); }

}  // namespace detail

// loss = logsumexp(z) - (1 - ls) z[label] - ls / K sum z;
// grad = (softmax(z) - smoothed onehot) / scale.
template <class T>
LAMINA_HOST_DEVICE double sparse_softmax_cross_entropy_row(Index r, const T* logits, const T* labels, Index K, T* grad,
                                                           double scale, double smoothing = 0) {
    const T* z = logits + r * K;
    const Index label = static_cast<Index>(labels[r]);
    const double off = smoothing / double(K);
    T m = z[0];
    for (Index k = 1; k < K; ++k) m = z[k] > m ? z[k] : m;
    double sum = 0, zsum = 0;
    for (Index k = 0; k < K; ++k) {
        sum += std::exp(double(z[k] - m));
        zsum += double(z[k]);
    }
    if (grad) {
        T* g = grad + r * K;
        const double inv = 1.0 / (sum * scale);
        for (Index k = 0; k < K; ++k) g[k] = T(std::exp(double(z[k] - m)) * inv - off / scale);
        g[label] -= T((1.0 - smoothing) / scale);
    }
    return std::log(sum) + double(m) - (1.0 - smoothing) * double(z[label]) - off * zsum;
}

// Dense targets: loss = logsumexp(z) * sum(y) - sum y z, y smoothed.
template <class T>
LAMINA_HOST_DEVICE double softmax_cross_entropy_row(Index r, const T* logits, const T* target, Index K, T* grad,
                                                    double scale, double smoothing = 0) {
    const T* z = logits + r * K;
    const T* y = target + r * K;
    T m = z[0];
    for (Index k = 1; k < K; ++k) m = z[k] > m ? z[k] : m;
    double sum = 0, ysum = 0, yz = 0;
    for (Index k = 0; k < K; ++k) {
        const double yk = detail::smoothed(double(y[k]), smoothing, K);
        sum += std::exp(double(z[k] - m));
        ysum += yk;
        yz += yk * double(z[k]);
    }
    if (grad) {
        T* g = grad + r * K;
        for (Index k = 0; k < K; ++k)
            g[k] = T((std::exp(double(z[k] - m)) / sum * ysum - detail::smoothed(double(y[k]), smoothing, K)) / scale);
    }
    return (std::log(sum) + double(m)) * ysum - yz;
}

namespace detail {

// Row r's smoothed target for class k: of the label's one-hot (sparse) or of
// the dense target.
template <class T>
LAMINA_HOST_DEVICE double target_at(Index r, Index k, const T* target, bool sparse, const T* labels, Index K,
                                    double smoothing) {
    if (sparse) return smoothed(k == static_cast<Index>(labels[r]) ? 1.0 : 0.0, smoothing, K);
    return smoothed(double(target[r * K + k]), smoothing, K);
}

// Whether q = p / s lies strictly inside (eps, 1 - eps), the range the
// probability losses do not clip.
LAMINA_HOST_DEVICE inline bool unclipped(double q, double eps) { return q > eps && q < 1.0 - eps; }

}  // namespace detail

// Cross-entropy on probabilities (Keras's): q = p / S with S the row's sum,
// clipped to [eps, 1 - eps]; loss = -sum_k y_k log q_k;
// grad_k = (sum_{j unclipped} y_j - [k unclipped] y_k / q_k) / S / scale.
// target is null when sparse (labels (B,) then hold the class ids).
template <class T>
LAMINA_HOST_DEVICE double probability_cross_entropy_row(Index r, const T* probs, const T* target, bool sparse,
                                                        const T* labels, Index K, T* grad, double eps, double scale,
                                                        double smoothing = 0) {
    const T* p = probs + r * K;
    double s = 0;
    for (Index k = 0; k < K; ++k) s += double(p[k]);
    if (s <= 0) s = eps;  // all-zero row: every q clips to eps
    double loss = 0, y_unclipped = 0;
    for (Index k = 0; k < K; ++k) {
        const double y = detail::target_at(r, k, target, sparse, labels, K, smoothing);
        if (y == 0) continue;
        const double q = double(p[k]) / s;
        const double qc = q < eps ? eps : (q > 1.0 - eps ? 1.0 - eps : q);
        loss -= y * std::log(qc);
        if (detail::unclipped(q, eps)) y_unclipped += y;
    }
    if (grad) {
        T* g = grad + r * K;
        for (Index k = 0; k < K; ++k) {
            const double q = double(p[k]) / s;
            const double own =
                detail::unclipped(q, eps) ? detail::target_at(r, k, target, sparse, labels, K, smoothing) / q : 0.0;
            g[k] = T((y_unclipped - own) / s / scale);
        }
    }
    return loss;
}

// dL/dz for softmax outputs p under probability_cross_entropy_row's loss:
// grad_k = (p_k Y_u / S - [q_k unclipped] y_k) / scale, Y_u the sum of the
// unclipped classes' targets.
template <class T>
LAMINA_HOST_DEVICE void softmax_logit_gradient_row(Index r, const T* probs, const T* target, bool sparse,
                                                   const T* labels, Index K, T* grad, double eps, double scale,
                                                   double smoothing = 0) {
    const T* p = probs + r * K;
    T* g = grad + r * K;
    double s = 0;
    for (Index k = 0; k < K; ++k) s += double(p[k]);
    if (s <= 0) s = eps;
    double y_unclipped = 0;
    for (Index k = 0; k < K; ++k)
        if (detail::unclipped(double(p[k]) / s, eps))
            y_unclipped += detail::target_at(r, k, target, sparse, labels, K, smoothing);
    for (Index k = 0; k < K; ++k) {
        const double own = detail::unclipped(double(p[k]) / s, eps)
                               ? detail::target_at(r, k, target, sparse, labels, K, smoothing)
                               : 0.0;
        g[k] = T((double(p[k]) * y_unclipped / s - own) / scale);
    }
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
