// lamina/backend/cuda/elementwise_kernels.hpp: the CUDA backend's element-wise
// arithmetic, one function per output index.
//
// Contract: each function computes the value(s) of one index i (an element,
// a row or a column, as its name says) of a row-major (rows, cols) tensor and
// touches nothing else, so a kernel runs it once per thread and the host test
// suite runs it in a loop over every index (tests/cuda_host/test_kernels_host.cpp)
// against Backend<Cpu>. Activation derivatives read the activation's output y,
// as backend/cpu/elementwise.hpp does.
#pragma once

#include <cmath>

#include "lamina/backend/cuda/host_device.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::cuda_kernels {

// y[i] += b[i % cols]
template <class T>
LAMINA_HOST_DEVICE void add_bias_at(Index i, T* y, const T* b, Index cols) {
    y[i] += b[i % cols];
}

// db[c] += sum over rows of dz[., c]; one index per column.
template <class T>
LAMINA_HOST_DEVICE void column_sum_at(Index c, const T* dz, Index rows, Index cols, T* db) {
    T sum = T(0);
    for (Index r = 0; r < rows; ++r) sum += dz[r * cols + c];
    db[c] += sum;
}

// y[i] = act(x[i]) for the element-wise kinds; x may be y.
template <class T>
LAMINA_HOST_DEVICE void activation_at(ActivationKind kind, Index i, const T* x, T* y) {
    const T v = x[i];
    switch (kind) {
        case ActivationKind::ReLU: y[i] = v > T(0) ? v : T(0); return;
        case ActivationKind::Sigmoid: y[i] = T(1) / (T(1) + std::exp(-v)); return;
        case ActivationKind::Tanh: y[i] = std::tanh(v); return;
        default: y[i] = v; return;  // Linear; Softmax is per row
    }
}

template <class T>
LAMINA_HOST_DEVICE void activation_at(ActivationKind kind, Index i, T* y) {
    activation_at(kind, i, static_cast<const T*>(y), y);
}

// dz[i] = dy[i] * act'(from y[i]) for the element-wise kinds.
template <class T>
LAMINA_HOST_DEVICE void activation_backward_at(ActivationKind kind, Index i, const T* y, const T* dy, T* dz) {
    const T v = y[i], d = dy[i];
    switch (kind) {
        case ActivationKind::ReLU: dz[i] = v > T(0) ? d : T(0); return;
        case ActivationKind::Sigmoid: dz[i] = d * v * (T(1) - v); return;
        case ActivationKind::Tanh: dz[i] = d * (T(1) - v * v); return;
        default: dz[i] = d; return;  // Linear; Softmax is per row
    }
}

// Row r of y = softmax(row r of x), shifted by the row's max; x may be y
// (each value is read before it is written).
template <class T>
LAMINA_HOST_DEVICE void softmax_row(Index r, const T* x, T* y, Index cols) {
    const T* in = x + r * cols;
    T* row = y + r * cols;
    T m = in[0];
    for (Index k = 1; k < cols; ++k) m = in[k] > m ? in[k] : m;
    T sum = T(0);
    for (Index k = 0; k < cols; ++k) {
        row[k] = std::exp(in[k] - m);
        sum += row[k];
    }
    for (Index k = 0; k < cols; ++k) row[k] /= sum;
}

// Row r of dz = y * (dy - sum_j dy_j y_j): the softmax Jacobian applied to dy.
template <class T>
LAMINA_HOST_DEVICE void softmax_backward_row(Index r, const T* y, const T* dy, T* dz, Index cols) {
    const Index at = r * cols;
    T dot = T(0);
    for (Index k = 0; k < cols; ++k) dot += y[at + k] * dy[at + k];
    for (Index k = 0; k < cols; ++k) dz[at + k] = y[at + k] * (dy[at + k] - dot);
}

// out[i] = a[i] * b[i] (Dropout's mask, forward and backward).
template <class T>
LAMINA_HOST_DEVICE void multiply_at(Index i, const T* a, const T* b, T* out) {
    out[i] = a[i] * b[i];
}

// Row r of dst = row order[r] of src (cols values a row): the batch gather
// from a data set already on the device.
template <class T>
LAMINA_HOST_DEVICE void gather_at(Index i, const T* src, Index cols, const Index* order, T* dst) {
    const Index r = i / cols, c = i % cols;
    dst[i] = src[order[r] * cols + c];
}

}  // namespace lamina::cuda_kernels
