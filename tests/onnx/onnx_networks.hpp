// tests/onnx/onnx_networks.hpp: the models the ONNX tests export, built
// with weights that make every parameter matter.
//
//   onnx_test_networks()   the examples' networks (examples/networks.hpp:
//                          keras128, dense512, mlp300, keras, deep, best with
//                          its augmentation layers) and every_layer
//   randomize_weights(m)   biases, gamma, beta and moving statistics drawn at
//                          random (their initial zeros and ones would hide a
//                          swapped or missing array); kernels keep their
//                          seeded Glorot values, times kernel_scale
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <lamina/lamina.hpp>

#include "networks.hpp"

namespace onnx_tests {

struct Network {
    std::string name;
    lamina::Shape sample;  // the input's (no batch dimension)
    std::function<void(lamina::Sequential<float>&)> add;
    // Larger kernels for every_layer, whose sigmoids, averages and softmax
    // would otherwise flatten its outputs to nearly one value.
    double kernel_scale = 1.0;
};

// Every exportable layer, and each padding and stride case of the window
// layers, on odd sizes so that "same" pads unevenly; Dropout and the
// augmentation layers in the middle, which export leaves out.
inline void add_every_layer(lamina::Sequential<float>& m) {
    using namespace lamina;
    m.add(RandomTranslation(0.1, 0.1));
    m.add(Conv2D(4, 3, 2, Padding::Same, Activation::ReLU));
    m.add(BatchNormalization());
    m.add(AveragePooling2D(3, 2, Padding::Same));
    m.add(RandomRotation(0.05));
    m.add(Conv2D(5, Size2(2, 3), Size2(1, 2), Padding::Valid, Activation::Tanh, /*use_bias=*/false));
    m.add(MaxPooling2D(2, 1, Padding::Same));
    m.add(Activation(Activation::Sigmoid));
    m.add(RandomZoom(0.1));
    m.add(AveragePooling2D(2));
    m.add(Conv2D(6, 1, 1, Padding::Valid, Activation::Sigmoid));
    m.add(BatchNormalization(0.9, 1e-2, /*center=*/false, /*scale=*/false));
    m.add(Activation(Activation::Tanh));
    m.add(GlobalAveragePooling2D());
    m.add(Flatten());
    m.add(Dense(7, Activation::Tanh));
    m.add(Dropout(0.5));
    m.add(BatchNormalization(0.99, 1e-3, /*center=*/true, /*scale=*/false));
    m.add(Activation(Activation::ReLU));
    m.add(Dense(5, Activation::Linear, /*use_bias=*/false));
    m.add(Activation(Activation::Linear));
    m.add(Softmax());
}

inline std::vector<Network> onnx_test_networks() {
    using lamina::Shape;
    std::vector<Network> nets;
    for (const char* net : {"keras128", "dense512", "mlp300"})
        nets.push_back({net, Shape{1, 28, 28}, [net](lamina::Sequential<float>& m) { examples::add_mlp(m, net); }});
    for (const char* net : {"keras", "deep", "best"})
        nets.push_back({std::string("cnn_") + net, Shape{1, 28, 28}, [net](lamina::Sequential<float>& m) {
                            examples::add_cnn(m, net, /*augment=*/std::string(net) == "best");
                        }});
    nets.push_back({"every_layer", Shape{3, 23, 29}, add_every_layer, 4.0});
    return nets;
}

inline void randomize_weights(lamina::Sequential<float>& model, std::uint64_t seed, double kernel_scale = 1.0) {
    lamina::Rng rng(seed);
    std::vector<lamina::Tensor<float>> weights = model.get_weights();
    std::size_t next = 0;
    for (std::size_t i = 0; i < model.size(); ++i)
        for (const auto* p : std::as_const(model.layer(i)).params()) {
            lamina::Tensor<float>& w = weights.at(next++);
            if (p->name == "kernel") {
                for (lamina::Index k = 0; k < w.size(); ++k) w.data()[k] *= static_cast<float>(kernel_scale);
                continue;
            }
            const bool positive = p->name == "gamma" || p->name == "moving_variance";
            for (lamina::Index k = 0; k < w.size(); ++k)
                w.data()[k] = static_cast<float>(positive ? rng.uniform(0.5, 1.5) : rng.uniform(-0.3, 0.3));
        }
    model.set_weights(weights);
}

inline lamina::Tensor<float> random_inputs(lamina::Index count, const lamina::Shape& sample, std::uint64_t seed) {
    lamina::Tensor<float> x(sample.with_batch(count));
    lamina::Rng rng(seed);
    for (lamina::Index k = 0; k < x.size(); ++k) x.data()[k] = static_cast<float>(rng.uniform());
    return x;
}

}  // namespace onnx_tests
