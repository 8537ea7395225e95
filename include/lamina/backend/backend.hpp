// lamina/backend/backend.hpp: the seam between layers and devices.
//
// Contract: Backend<Device> is a class template specialised once per device
// (backend/cpu/backend.hpp for Cpu; a CUDA build adds backend/cuda/), as
// Eigen specialises its packet math per architecture. Layers, losses,
// optimizers, initialisers and Sequential call Backend<Device>::op(...) and
// nothing device-specific; because the call depends on Device it is looked up
// when the layer is instantiated, so a specialisation declared after the
// layer's header is found. Every specialisation offers the same static member
// function templates, on non-owning TensorViews (core/tensor_view.hpp) or
// raw pointers into the device's memory:
//
//   transfers    upload(host, n, dst), download(src, n, host),
//                Staged<T> / stage(host, n) (a host array kept on the device:
//                fit's data set and each epoch's order), gather_rows(staged
//                rows by staged index -> device batch), copy(src, dst)
//   dense        gemm, add_bias_rows, accumulate_column_sums,
//                activation_forward (x to y, or in place), activation_backward
//   conv2d       Conv2DWorkspace<T>, conv2d_reserve, conv2d_forward, conv2d_backward
//   pooling      pool2d_forward, pool2d_backward,
//                global_average_pool_forward, global_average_pool_backward
//   batch norm   batch_norm_moments, batch_norm_forward, batch_norm_backward,
//                batch_norm_update_moving (per channel of (N, C, ...))
//   dropout      dropout_forward (mask from the layer's Rng), multiply
//   warp         affine_warp, affine_warp_backward (the augmentation layers:
//                per-sample inverse affine maps drawn on the host, core/warp.hpp)
//   init         initialize (drawn on the host from the model's Rng)
//   losses       sparse_softmax_cross_entropy, softmax_cross_entropy,
//                probability_cross_entropy, softmax_logit_gradient,
//                binary_cross_entropy, mean_squared_error (return the batch
//                mean on the host; given a RunningSums slot, add mean x rows
//                there instead, without waiting for the device; the first
//                four take a label smoothing, 0 by default)
//   optimizers   decay_weights (decoupled weight decay), sgd_update,
//                adam_update, rmsprop_update
//   metrics      count_correct (returns the count on the host, or adds it to
//                a RunningSums slot)
//   running sums RunningSums: fit's loss total and correct count, kept on the
//                device, reset() per epoch, read() when shown
// The CPU specialisation documents each signature; backend/cuda/backend.hpp
// is the GPU's (lamina/cuda.hpp).
#pragma once

#include "lamina/core/device.hpp"

namespace lamina {

template <class Device>
struct Backend;

}  // namespace lamina

#include "lamina/backend/cpu/backend.hpp"
