// lamina/layers/global_average_pooling2d.hpp: (None, C, H, W) -> (None, C),
// the mean of each channel's plane (Keras's GlobalAveragePooling2D with
// channels first). No parameters, no workspace.
#pragma once

#include <algorithm>
#include <memory>
#include <string>

#include "lamina/backend/backend.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class GlobalAveragePooling2DLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;

    std::string type() const override { return "GlobalAveragePooling2D"; }

    Shape build(const Shape& input, Rng&) override {
        if (input.rank() != 3)
            throw ShapeError(ErrorId::shape_rank,
                             this->who() + ": expects samples (channels, height, width), got " + input.keras_str());
        plane_ = input[1] * input[2];
        return this->finish_build(input, Shape{input[0]});
    }

    void infer(const TensorType& x, TensorType& y) const override {
        Backend<Device>::global_average_pool_forward(plane_, x.view(), y.view());
    }

    void backward(const TensorType&, const TensorType&, const TensorType& dy, TensorType* dx) override {
        if (dx) Backend<Device>::global_average_pool_backward(plane_, dy.view(), dx->view());
    }

private:
    Index plane_ = 0;
};

// Keras's layers.GlobalAveragePooling2D().
struct GlobalAveragePooling2D {
    std::string name;

    // Model files: the layer's type(); it has no config.
    static constexpr const char* config_type = "GlobalAveragePooling2D";
    static GlobalAveragePooling2D from_config(detail::ConfigReader&) { return {}; }

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<GlobalAveragePooling2DLayer<T, Device>>();
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
