// lamina/backend/cuda/device.hpp: the CUDA device tag.
//
// Contract: Cuda selects the CUDA backend (backend/cuda/backend.hpp) in
// Tensor<T, Cuda>, Layer<T, Cuda> and Sequential<T, Cuda>, as Cpu selects
// backend/cpu/. Naming the tag needs no CUDA header; using it does
// (lamina/cuda.hpp, compiled by nvcc).
#pragma once

namespace lamina {

struct Cuda {
    static constexpr const char* name = "cuda";
};

}  // namespace lamina
