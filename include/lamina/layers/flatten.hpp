// lamina/layers/flatten.hpp: (None, d1, ..., dk) -> (None, d1*...*dk).
//
// Contract: copies the sample unchanged in row-major order (the same order
// Keras uses for its channels-last input, here for lamina's NCHW); no params.
#pragma once

#include <string>

#include "lamina/backend/backend.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class FlattenLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;
    std::string type() const override { return "Flatten"; }
    Shape build(const Shape& input, Rng&) override {
        if (input.rank() < 1)
            throw ShapeError(ErrorId::shape_rank,
                             this->who() + ": needs samples of rank >= 1, got " + input.keras_str());
        return this->finish_build(input, Shape{input.size()});
    }
    void infer(const TensorType& x, TensorType& y) const override { Backend<Device>::copy(x.view(), y.view()); }
    void backward(const TensorType&, const TensorType&, const TensorType& dy, TensorType* dx) override {
        if (dx) Backend<Device>::copy(dy.view(), dx->view());
    }
};

// Keras's layers.Flatten().
struct Flatten {
    std::string name;

    // Model files: the layer's type(); it has no config.
    static constexpr const char* config_type = "Flatten";
    static Flatten from_config(detail::ConfigReader&) { return {}; }

    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<FlattenLayer<T, Device>>();
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
