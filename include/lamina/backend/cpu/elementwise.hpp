// lamina/backend/cpu/elementwise.hpp: bias, reductions and activations.
//
// Contract: every function works on row-major (rows, cols) data given as
// tensors whose first dimension is the batch; outputs are preallocated by the
// caller. Activation derivatives are computed from the activation's output y
// (not its input), so layers need not keep their pre-activations.
#pragma once

#include "lamina/core/eigen.hpp"

#include <cmath>

#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/core/device.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor_view.hpp"

namespace lamina::backend {

// y(r, :) += b for every row r.
template <class T>
void add_bias_rows(Cpu, TensorView<T> y, TensorView<const T> b) {
    y.matrix().rowwise() += b.array().matrix().transpose();
}

// db += sum over rows of dz.
template <class T>
void accumulate_column_sums(Cpu, TensorView<const T> dz, TensorView<T> db) {
    db.array().matrix().transpose() += dz.matrix().colwise().sum();
}

// y = act(x) on n contiguous values, for the element-wise kinds (every kind
// but Softmax, which needs whole rows); x may be y. Layers with a spatial
// output (Conv2D) call it on the spans they own inside their threads.
template <class T>
void activate_span(ActivationKind kind, const T* x, T* y, Index n) {
    Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> a(x, n);
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> out(y, n);
    switch (kind) {
        case ActivationKind::Linear:
            if (x != y) out = a;
            return;
        case ActivationKind::ReLU: out = a.max(T(0)); return;
        case ActivationKind::Sigmoid: out = T(1) / (T(1) + (-a).exp()); return;
        case ActivationKind::Tanh: out = a.tanh(); return;
        case ActivationKind::Softmax: break;
    }
    throw ConfigError(ErrorId::config_argument, "activate_span: softmax is not element-wise");
}

template <class T>
void activate_span(ActivationKind kind, T* y, Index n) {
    activate_span(kind, static_cast<const T*>(y), y, n);
}

// dz = dy * act'(from y) on n contiguous values; element-wise kinds only.
template <class T>
void activation_backward_span(ActivationKind kind, const T* y, const T* dy, T* dz, Index n) {
    Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> ya(y, n), dya(dy, n);
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> dza(dz, n);
    switch (kind) {
        case ActivationKind::Linear: dza = dya; return;
        case ActivationKind::ReLU: dza = (ya > T(0)).select(dya, T(0)); return;
        case ActivationKind::Sigmoid: dza = dya * ya * (T(1) - ya); return;
        case ActivationKind::Tanh: dza = dya * (T(1) - ya.square()); return;
        case ActivationKind::Softmax: break;
    }
    throw ConfigError(ErrorId::config_argument, "activation_backward_span: softmax is not element-wise");
}

// y = act(x), x and y of one shape, or one tensor (in place); softmax
// normalises each row. The element-wise kinds split large tensors across
// threads (each value's result is the same).
template <class T>
void activation_forward(Cpu, ActivationKind kind, TensorView<const T> x, TensorView<T> y) {
    if (kind != ActivationKind::Softmax) {
        const T* in = x.data();
        T* out = y.data();
        parallel_ranges(y.size(),
                        [&](Index begin, Index end) { activate_span(kind, in + begin, out + begin, end - begin); });
        return;
    }
    const auto xm = x.matrix();
    auto m = y.matrix();
    for (Index r = 0; r < m.rows(); ++r) {
        auto row = m.row(r).array();
        row = (xm.row(r).array() - xm.row(r).maxCoeff()).exp();  // shift by the max: exp never overflows
        row /= row.sum();
    }
}

// dz = dL/d(pre-activation) from dy = dL/dy and the activation's output y.
template <class T>
void activation_backward(Cpu, ActivationKind kind, TensorView<const T> y, TensorView<const T> dy, TensorView<T> dz) {
    if (kind != ActivationKind::Softmax) {
        const T *yd = y.data(), *dyd = dy.data();
        T* dzd = dz.data();
        parallel_ranges(y.size(), [&](Index begin, Index end) {
            activation_backward_span(kind, yd + begin, dyd + begin, dzd + begin, end - begin);
        });
        return;
    }
    // dz_i = y_i * (dy_i - sum_j dy_j y_j): the softmax Jacobian applied to dy.
    const auto ym = y.matrix();
    const auto dym = dy.matrix();
    auto dzm = dz.matrix();
    for (Index r = 0; r < ym.rows(); ++r) {
        const T dot = ym.row(r).dot(dym.row(r));
        dzm.row(r).array() = ym.row(r).array() * (dym.row(r).array() - dot);
    }
}

}  // namespace lamina::backend
