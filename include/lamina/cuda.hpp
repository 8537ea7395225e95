// lamina/cuda.hpp: lamina with its CUDA backend (the optional cuda component).
//
// Include it instead of lamina/lamina.hpp in a translation unit compiled by
// nvcc (CMake: link lamina::cuda, which sets --extended-lambda and cuBLAS);
// then Sequential<float, Cuda> trains and predicts on the GPU with the same
// code as Sequential<float> on the CPU, taking and returning host tensors.
// docs/cuda.md covers building, errors and what has run on a GPU.
#pragma once

#include "lamina/lamina.hpp"

#include "lamina/backend/cuda/backend.hpp"
#include "lamina/backend/cuda/device.hpp"
#include "lamina/backend/cuda/runtime.hpp"
#include "lamina/backend/cuda/tensor.hpp"
