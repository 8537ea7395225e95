// lamina/backend/cpu/losses.hpp: loss values and gradients on the CPU.
//
// Contract: pred (B, K) row-major; sparse labels (B,) as T; dense targets
// (B, K). Each returns the batch-mean loss and, if grad is not null, writes
// dL/dpred (B, K) there (a buffer of pred's shape). Formulas are Keras 3's; comments give the math.
// The categorical ones take Keras's label_smoothing ls: every target y_k,
// the one-hot of a sparse label included, becomes y_k (1 - ls) + ls / K.
// ls = 0 leaves each y exactly as it was, so results do not change.
#pragma once

#include <algorithm>
#include <cmath>

#include "lamina/core/device.hpp"
#include "lamina/core/tensor_view.hpp"

namespace lamina::backend {

// y (1 - ls) + ls / K: Keras's smoothed target; exactly y when ls is 0.
inline double smoothed_target(double y, double ls, Index K) { return y * (1.0 - ls) + ls / double(K); }

// loss_i = logsumexp(z_i) - z_i[label]; dz = (softmax(z) - onehot) / B.
// Both come from one pass with the row max subtracted, so logits of 1e4 are fine.
// Smoothed (the targets sum to 1 still): loss_i = logsumexp(z_i)
// - (1 - ls) z_i[label] - ls / K sum_k z_ik; dz = (softmax(z) - y') / B.
template <class T>
T sparse_softmax_cross_entropy(Cpu, TensorView<const T> logits, TensorView<const T> labels, T* grad,
                               double smoothing = 0) {
    const Index B = logits.rows(), K = logits.cols();
    const double off = smoothing / double(K);  // every class's share of the smoothing
    double total = 0;
    for (Index r = 0; r < B; ++r) {
        const T* z = logits.data() + r * K;
        const Index label = static_cast<Index>(labels[r]);
        const T m = *std::max_element(z, z + K);
        double sum = 0, zsum = 0;
        for (Index k = 0; k < K; ++k) {
            sum += std::exp(double(z[k] - m));
            zsum += double(z[k]);
        }
        total += std::log(sum) + double(m) - (1.0 - smoothing) * double(z[label]) - off * zsum;
        if (grad) {
            T* g = grad + r * K;
            const double inv = 1.0 / (sum * double(B));
            for (Index k = 0; k < K; ++k) g[k] = T(std::exp(double(z[k] - m)) * inv - off / double(B));
            g[label] -= T((1.0 - smoothing) / double(B));
        }
    }
    return T(total / double(B));
}

// Dense-target version: loss_i = logsumexp(z_i) * sum(y_i) - sum_k y_ik z_ik,
// with y the smoothed targets.
template <class T>
T softmax_cross_entropy(Cpu, TensorView<const T> logits, TensorView<const T> target, T* grad, double smoothing = 0) {
    const Index B = logits.rows(), K = logits.cols();
    double total = 0;
    for (Index r = 0; r < B; ++r) {
        const T* z = logits.data() + r * K;
        const T* y = target.data() + r * K;
        const T m = *std::max_element(z, z + K);
        double sum = 0, ysum = 0, yz = 0;
        for (Index k = 0; k < K; ++k) {
            const double yk = smoothed_target(double(y[k]), smoothing, K);
            sum += std::exp(double(z[k] - m));
            ysum += yk;
            yz += yk * double(z[k]);
        }
        const double lse = std::log(sum) + double(m);
        total += lse * ysum - yz;
        if (grad) {
            T* g = grad + r * K;
            for (Index k = 0; k < K; ++k)
                g[k] = T((std::exp(double(z[k] - m)) / sum * ysum - smoothed_target(double(y[k]), smoothing, K)) /
                         double(B));
        }
    }
    return T(total / double(B));
}

// Cross-entropy on probabilities, as Keras: q = p / sum(p), clipped to
// [eps, 1-eps]; loss_i = -sum_k y_ik log q_ik. With S = sum(p) the gradient
// is dL/dp_i = (sum_{j unclipped} y_j - [i unclipped] y_i / q_i) / S, y the
// smoothed targets.
template <class T>
T probability_cross_entropy(Cpu, TensorView<const T> probs, const T* target, bool sparse, TensorView<const T> labels,
                            T* grad, double eps, double smoothing = 0) {
    const Index B = probs.rows(), K = probs.cols();
    double total = 0;
    for (Index r = 0; r < B; ++r) {
        const T* p = probs.data() + r * K;
        double s = 0;
        for (Index k = 0; k < K; ++k) s += double(p[k]);
        if (s <= 0) s = eps;  // all-zero row: every q clips to eps
        auto y_at = [&](Index k) -> double {
            if (sparse) return smoothed_target(k == static_cast<Index>(labels[r]) ? 1.0 : 0.0, smoothing, K);
            return smoothed_target(double(target[r * K + k]), smoothing, K);
        };
        double y_unclipped = 0;
        for (Index k = 0; k < K; ++k) {
            const double y = y_at(k);
            if (y == 0) continue;
            const double q = double(p[k]) / s;
            const double qc = std::clamp(q, eps, 1.0 - eps);
            total -= y * std::log(qc);
            if (q > eps && q < 1.0 - eps) y_unclipped += y;
        }
        if (grad) {
            T* g = grad + r * K;
            for (Index k = 0; k < K; ++k) {
                const double q = double(p[k]) / s;
                const bool unclipped = q > eps && q < 1.0 - eps;
                g[k] = T((y_unclipped - (unclipped ? y_at(k) / q : 0.0)) / s / double(B));
            }
        }
    }
    return T(total / double(B));
}

// dL/d(logits) for softmax outputs p under probability_cross_entropy's
// clipped loss: the exact gradient of the loss that function reports (Keras's
// JAX and PyTorch backends differentiate the same clipped formula). With
// q = p / S and Y_u = sum of y_k over the classes whose q_k is not clipped,
//   dL/dz_j = (p_j Y_u / S - [q_j not clipped] y_j) / B,
// the softmax Jacobian applied to dL/dp in closed form: no 1/p anywhere.
// Unsaturated, this is (p - y) / B; a class clipped at eps or 1 - eps adds
// neither loss slope nor gradient.
template <class T>
void softmax_logit_gradient(Cpu, TensorView<const T> probs, const T* target, bool sparse, TensorView<const T> labels,
                            TensorView<T> grad, double eps, double smoothing = 0) {
    const Index B = probs.rows(), K = probs.cols();
    for (Index r = 0; r < B; ++r) {
        const T* p = probs.data() + r * K;
        T* g = grad.data() + r * K;
        double s = 0;
        for (Index k = 0; k < K; ++k) s += double(p[k]);
        if (s <= 0) s = eps;  // as probability_cross_entropy
        auto y_at = [&](Index k) -> double {
            if (sparse) return smoothed_target(k == static_cast<Index>(labels[r]) ? 1.0 : 0.0, smoothing, K);
            return smoothed_target(double(target[r * K + k]), smoothing, K);
        };
        auto unclipped = [&](Index k) {
            const double q = double(p[k]) / s;
            return q > eps && q < 1.0 - eps;
        };
        double y_unclipped = 0;
        for (Index k = 0; k < K; ++k)
            if (unclipped(k)) y_unclipped += y_at(k);
        for (Index k = 0; k < K; ++k)
            g[k] = T((double(p[k]) * y_unclipped / s - (unclipped(k) ? y_at(k) : 0.0)) / double(B));
    }
}

// Binary cross-entropy, mean over all B*K elements.
// From logits z: max(z, 0) - z y + log(1 + exp(-|z|)); dz = (sigmoid(z) - y) / (B K).
// From probabilities p (clipped): -(y log p + (1 - y) log(1 - p)).
template <class T>
T binary_cross_entropy(Cpu, TensorView<const T> pred, TensorView<const T> target, bool from_logits, T* grad,
                       double eps) {
    const Index n = pred.size();
    double total = 0;
    for (Index i = 0; i < n; ++i) {
        const double x = double(pred[i]), y = double(target[i]);
        if (from_logits) {
            total += std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x)));
            if (grad) {
                const double s = x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
                grad[i] = T((s - y) / double(n));
            }
        } else {
            const double p = std::clamp(x, eps, 1.0 - eps);
            total -= y * std::log(p) + (1.0 - y) * std::log(1.0 - p);
            if (grad) {
                const bool unclipped = x > eps && x < 1.0 - eps;
                grad[i] = unclipped ? T((p - y) / (p * (1.0 - p)) / double(n)) : T(0);
            }
        }
    }
    return T(total / double(n));
}

// Mean squared error over all B*K elements; d = 2 (p - y) / (B K).
template <class T>
T mean_squared_error(Cpu, TensorView<const T> pred, TensorView<const T> target, T* grad) {
    const Index n = pred.size();
    const auto diff = pred.array() - target.array();
    if (grad) Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::AlignedMax>(grad, n) = diff * T(2.0 / double(n));
    return T(diff.square().template cast<double>().sum() / double(n));
}

}  // namespace lamina::backend
