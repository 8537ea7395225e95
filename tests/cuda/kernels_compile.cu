// Compiled by nvcc (ctest cuda_host.kernels_compile_with_nvcc), never run:
// every per-index function of backend/cuda/*_kernels.hpp must compile as
// device code inside a kernel, as the CUDA backend will call it.
#include <lamina/backend/cuda/batch_norm_kernels.hpp>
#include <lamina/backend/cuda/elementwise_kernels.hpp>
#include <lamina/backend/cuda/loss_kernels.hpp>
#include <lamina/backend/cuda/metric_kernels.hpp>
#include <lamina/backend/cuda/optimizer_kernels.hpp>
#include <lamina/backend/cuda/warp_kernels.hpp>
#include <lamina/backend/cuda/window_kernels.hpp>

namespace ck = lamina::cuda_kernels;
using lamina::Index;

__global__ void elementwise(float* y, const float* dy, float* dz, const float* b, const Index* order, Index rows,
                            Index cols) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= rows * cols) return;
    ck::add_bias_at(i, y, b, cols);
    ck::activation_at(lamina::ActivationKind::Sigmoid, i, y);
    ck::activation_at(lamina::ActivationKind::ReLU, i, dy, y);
    ck::activation_backward_at(lamina::ActivationKind::Tanh, i, y, dy, dz);
    ck::multiply_at(i, y, dy, dz);
    ck::gather_at(i, y, cols, order, dz);
    if (i < cols) ck::column_sum_at(i, dz, rows, cols, dz);
    if (i < rows) {
        ck::softmax_row(i, dy, y, cols);
        ck::softmax_backward_row(i, y, dy, dz, cols);
    }
    ck::dropout_mask_at(i, 42u, 1u << 30, 1.5f, dz);
}

__global__ void optimizers(float* w, const float* g, float* m, float* v, float* h, Index n) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    ck::decay_weights_at(i, w, 0.001f);
    ck::sgd_at(i, w, g, m, 0.01f, 0.9f, true);
    ck::adam_at(i, w, g, m, v, h, 0.001f, 0.1f, 0.001f, 1e-7f);
    ck::rmsprop_at(i, w, g, v, m, h, 0.001f, 0.9f, 0.1f, 0.5f, 1e-7f);
}

__global__ void losses(const float* z, const float* y, float* grad, double* out, Index rows, Index cols) {
    const Index r = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    out[r] = ck::sparse_softmax_cross_entropy_row(r, z, y, cols, grad, double(rows)) +
             ck::sparse_softmax_cross_entropy_row(r, z, y, cols, grad, double(rows), 0.1) +
             ck::softmax_cross_entropy_row(r, z, y, cols, grad, double(rows)) +
             ck::softmax_cross_entropy_row(r, z, y, cols, grad, double(rows), 0.1) +
             ck::binary_cross_entropy_at(r, z, y, false, grad, 1e-7, double(rows)) +
             ck::squared_error_at(r, z, y, grad, double(rows)) +
             ck::probability_cross_entropy_row(r, z, y, false, y, cols, grad, 1e-7, double(rows)) +
             ck::probability_cross_entropy_row(r, z, static_cast<const float*>(nullptr), true, y, cols, grad, 1e-7,
                                               double(rows), 0.1);
    ck::softmax_logit_gradient_row(r, z, y, false, y, cols, grad, 1e-7, double(rows));
    ck::softmax_logit_gradient_row(r, z, static_cast<const float*>(nullptr), true, y, cols, grad, 1e-7, double(rows),
                                   0.1);
}

__global__ void pooling(lamina::Window2D g, const float* x, const float* y, const float* dy, float* out, float* dx,
                        Index planes) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < planes * g.out_h * g.out_w) {
        ck::pool_forward_at(lamina::PoolKind::Max, g, i, x, out);
        ck::pool_forward_at(lamina::PoolKind::Average, g, i, x, out);
    }
    if (i < planes * g.in_h * g.in_w) {
        ck::pool_backward_at(lamina::PoolKind::Max, g, i, x, y, dy, dx);
        ck::pool_backward_at(lamina::PoolKind::Average, g, i, x, y, dy, dx);
    }
    const Index plane = g.in_h * g.in_w;
    if (i < planes) ck::global_average_pool_at(i, plane, x, out);
    if (i < planes * plane) ck::global_average_pool_backward_at(i, plane, dy, dx);
}

__global__ void convolution(lamina::Window2D g, Index count, Index filters, const float* x, float* cols,
                            const float* gemm_out, const float* bias, float* y, const float* dy, float* dz, float* db,
                            float* dx) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    const Index P = g.out_h * g.out_w;
    if (i < g.channels * g.k_h * g.k_w * count * P) ck::im2col_at(g, count, i, x, cols);
    if (i < count * g.channels * g.in_h * g.in_w) ck::col2im_at(g, count, i, cols, dx);
    if (i < count * filters * P) {
        ck::conv_output_at(i, filters, P, count, gemm_out, bias, y);
        ck::conv_output_gradient_at(lamina::ActivationKind::ReLU, i, filters, P, count, y, dy, dz);
    }
    if (i < filters) ck::row_sum_at(i, dz, count * P, db);
}

__global__ void metrics(const float* pred, const float* target, int* correct, Index rows, Index cols) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= ck::accuracy_items(lamina::AccuracyKind::Binary, rows, cols)) return;
    correct[i] = ck::correct_at(lamina::AccuracyKind::Binary, i, pred, target, cols, 0.5f) +
                 ck::correct_at(lamina::AccuracyKind::SparseCategorical, i % rows, pred, target, cols, 0.5f) +
                 ck::correct_at(lamina::AccuracyKind::Categorical, i % rows, pred, target, cols, 0.5f);
}

__global__ void batch_norm(const float* x, const float* dy, const float* mean, const float* variance,
                           const float* gamma, const float* beta, double* sums, float* y, float* dx, float* dgamma,
                           float* dbeta, float* moving_mean, float* moving_variance, Index rows, Index channels,
                           Index plane) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= rows * channels * plane) return;
    ck::batch_norm_forward_at(i, x, channels, plane, mean, variance, gamma, beta, 1e-3f, y);
    ck::batch_norm_dx_at(i, x, dy, channels, plane, rows * plane, mean, variance, gamma, 1e-3f, true, sums, dx);
    if (i < channels) {
        double a = ck::channel_sum_part(i, Index(256), i, x, rows * plane, channels, plane);
        a += ck::channel_squared_deviation_part(i, Index(256), i, x, 0.5, rows * plane, channels, plane);
        double b = 0;
        ck::channel_gradient_parts(i, Index(256), i, x, dy, mean[i], 1.0f, rows * plane, channels, plane, a, b);
        sums[i] = a + b;
        ck::batch_norm_parameter_gradient_at(i, channels, sums, dgamma, dbeta);
        ck::batch_norm_moving_at(i, mean, variance, 0.99f, 0.01f, moving_mean, moving_variance);
    }
}

__global__ void warp(lamina::Warp2D g, const float* transforms, const double* transforms_d, const float* x,
                     const double* xd, float* y, double* yd, Index planes) {
    const Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < planes * g.height * g.width) {
        ck::affine_warp_at(g, i, transforms, x, y);
        ck::affine_warp_at(g, i, transforms_d, xd, yd);
    }
    if (i < planes) {
        ck::affine_warp_backward_plane(g, i, transforms, x, y);
        ck::affine_warp_backward_plane(g, i, transforms_d, xd, yd);
    }
}
