// lamina/core/device.hpp: device tags that select a backend at compile time.
//
// Tensor<T, Device>, Layer<T, Device> and Sequential<T, Device> take one of
// these tags; backend free functions are overloaded on it, so a layer never
// knows which implementation it gets. Only Cpu exists in this build; a CUDA
// backend adds its own tag in backend/cuda/.
#pragma once

namespace lamina {

struct Cpu {
    static constexpr const char* name = "cpu";
};

}  // namespace lamina
