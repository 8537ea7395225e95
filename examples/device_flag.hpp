// examples/device_flag.hpp: --device cpu|cuda for the examples.
//
// The examples build, save and plot their model on the CPU, as they always
// have; with --device cuda, Device moves it to the GPU for training and
// evaluation (Sequential::to<Cuda>(), everything a model file holds) and
// back, so the same code serves both devices. The CUDA path exists where the
// examples were compiled by nvcc against lamina::cuda (LAMINA_CUDA=ON sets
// LAMINA_EXAMPLES_CUDA); elsewhere --device cuda is refused up front, as is
// a CUDA build on a machine whose driver reports no GPU.
#pragma once

#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#if LAMINA_EXAMPLES_CUDA
#include <lamina/cuda.hpp>
#else
#include <lamina/lamina.hpp>
#endif

namespace examples {

class Device {
public:
    static constexpr const char* usage = "--device cpu|cuda";

    // Exits with status 1 and lamina's error before any data is read where
    // the chosen device is not there.
    explicit Device(std::string name) : name_(std::move(name)) {
        if (name_ != "cuda") return;
        try {
#if LAMINA_EXAMPLES_CUDA
            description_ = lamina::cuda::device_description();  // throws where there is no GPU
#else
            throw lamina::DeviceError(lamina::ErrorId::device_unavailable,
                                      "--device cuda: this build has no CUDA backend; configure with "
                                      "-DLAMINA_CUDA=ON (needs nvcc and cuBLAS, docs/cuda.md)");
#endif
        } catch (const lamina::Error& e) {
            std::cerr << "error: " << e.what() << "\n";
            std::exit(1);
        }
    }
    const std::string& name() const { return name_; }
    // "cpu", or "cuda: NVIDIA H100 ... (compute capability 9.0)".
    std::string describe() const { return description_.empty() ? name_ : name_ + ": " + description_; }

    // model.fit(x, y, options) then model.evaluate(x_test, y_test) on this device.
    template <class Y, class YTest>
    std::pair<lamina::History, lamina::Evaluation> fit_and_evaluate(lamina::Sequential<float>& model,
                                                                    const lamina::Tensor<float>& x, const Y& y,
                                                                    const lamina::FitOptions<float>& options,
                                                                    const lamina::Tensor<float>& x_test,
                                                                    const YTest& y_test) const {
#if LAMINA_EXAMPLES_CUDA
        if (name_ == "cuda") {
            auto gpu = model.to<lamina::Cuda>();
            auto history = gpu.fit(x, y, options);
            auto result = gpu.evaluate(x_test, y_test, 32, options.distributed);
            model = gpu.to<lamina::Cpu>();
            return {std::move(history), std::move(result)};
        }
#endif
        auto history = model.fit(x, y, options);
        return {std::move(history), model.evaluate(x_test, y_test, 32, options.distributed)};
    }

    // A function predicting with `model` on this device; the model moves once.
    std::function<lamina::Tensor<float>(const lamina::Tensor<float>&)> predictor(
        const lamina::Sequential<float>& model) const {
#if LAMINA_EXAMPLES_CUDA
        if (name_ == "cuda") {
            auto gpu = std::make_shared<lamina::Sequential<float, lamina::Cuda>>(model.to<lamina::Cuda>());
            return [gpu](const lamina::Tensor<float>& x) { return gpu->predict(x); };
        }
#endif
        return [&model](const lamina::Tensor<float>& x) { return model.predict(x); };
    }

private:
    std::string name_;
    std::string description_;
};

}  // namespace examples
