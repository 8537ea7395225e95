// lamina/core/device.hpp: device tags that select a backend at compile time.
//
// Tensor<T, Device>, Layer<T, Device> and Sequential<T, Device> take one of
// these tags and reach their device through Backend<Device>
// (backend/backend.hpp), so a layer never knows which implementation it gets.
// Cpu is here; the CUDA backend's tag, Cuda, is in backend/cuda/device.hpp.
#pragma once

namespace lamina {

struct Cpu {
    static constexpr const char* name = "cpu";
};

}  // namespace lamina
