// Compiled by nvcc (ctest cuda_host.kernels_compile_with_nvcc), never run:
// every per-index function of backend/cuda/*_kernels.hpp must compile as
// device code inside a kernel, as the CUDA backend will call it.
#include <lamina/backend/cuda/elementwise_kernels.hpp>
#include <lamina/backend/cuda/loss_kernels.hpp>
#include <lamina/backend/cuda/optimizer_kernels.hpp>

namespace ck = lamina::cuda_kernels;
using lamina::Index;

__global__ void elementwise(float* y, const float* dy, float* dz, const float* b, const Index* order, Index rows,
                            Index cols) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= rows * cols) return;
    ck::add_bias_at(i, y, b, cols);
    ck::activation_at(lamina::ActivationKind::Sigmoid, i, y);
    ck::activation_backward_at(lamina::ActivationKind::Tanh, i, y, dy, dz);
    ck::multiply_at(i, y, dy, dz);
    ck::gather_at(i, y, cols, order, dz);
    if (i < cols) ck::column_sum_at(i, dz, rows, cols, dz);
    if (i < rows) {
        ck::softmax_row(i, y, cols);
        ck::softmax_backward_row(i, y, dy, dz, cols);
    }
    ck::dropout_mask_at(i, 42u, 1u << 30, 1.5f, dz);
}

__global__ void optimizers(float* w, const float* g, float* m, float* v, float* h, Index n) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    ck::sgd_at(i, w, g, m, 0.01f, 0.9f, true);
    ck::adam_at(i, w, g, m, v, h, 0.001f, 0.1f, 0.001f, 1e-7f);
    ck::rmsprop_at(i, w, g, v, m, h, 0.001f, 0.9f, 0.1f, 0.5f, 1e-7f);
}

__global__ void losses(const float* z, const float* y, float* grad, double* out, Index rows, Index cols) {
    const Index r = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    out[r] = ck::sparse_softmax_cross_entropy_row(r, z, y, cols, grad, double(rows)) +
             ck::softmax_cross_entropy_row(r, z, y, cols, grad, double(rows)) +
             ck::binary_cross_entropy_at(r, z, y, false, grad, 1e-7, double(rows)) +
             ck::squared_error_at(r, z, y, grad, double(rows));
}
