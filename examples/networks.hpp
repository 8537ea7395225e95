// examples/networks.hpp: the notebooks' networks, defined once for the
// examples that train them and the benchmarks that time them.
//
//   add_mlp(model, net)   keras128 | dense512 | mlp300 (see mnist_mlp.cpp)
//   compile_mlp(model, net, optimizer)   each one's loss, with `optimizer` by Keras name
//   add_cnn(model, net)   keras | deep (see mnist_cnn.cpp)
//   compile_cnn(model, net)
// Each takes a model on any device (Sequential<float, Device>).
#pragma once

#include <string>

#include <lamina/lamina.hpp>

namespace examples {

template <class Device>
void add_mlp(lamina::Sequential<float, Device>& model, const std::string& net) {
    using namespace lamina;
    model.add(Flatten());
    if (net == "keras128") {
        model.add(Dense(128, Activation::ReLU));
        model.add(Dropout(0.2));
        model.add(Dense(10));
    } else if (net == "dense512") {
        model.add(Dense(512, Activation::ReLU));
        model.add(Dense(10, Activation::Softmax));
    } else {
        model.add(Dense(300, Activation::ReLU));
        model.add(Dense(100, Activation::ReLU));
        model.add(Dense(10, Activation::Softmax));
    }
}

template <class Device>
void compile_mlp(lamina::Sequential<float, Device>& model, const std::string& net, const std::string& optimizer) {
    using namespace lamina;
    if (net == "keras128")
        model.compile(optimizer, SparseCategoricalCrossentropy(/*from_logits=*/true), {metrics::accuracy});
    else if (net == "dense512") model.compile(optimizer, CategoricalCrossentropy(), {metrics::accuracy});
    else model.compile(optimizer, SparseCategoricalCrossentropy(), {metrics::accuracy});
}

template <class Device>
void add_cnn(lamina::Sequential<float, Device>& model, const std::string& net) {
    using namespace lamina;
    if (net == "keras") {
        model.add(Conv2D(32, 3, Activation::ReLU));
        model.add(MaxPool2D(2));
        model.add(Conv2D(64, 3, Activation::ReLU));
        model.add(MaxPool2D(2));
        model.add(Flatten());
        model.add(Dense(128, Activation::ReLU));
        model.add(Dense(10));
        return;
    }
    for (int block = 0; block < 3; ++block) {
        model.add(Conv2D(64, 3, 1, Padding::Same));
        model.add(Activation(Activation::ReLU));
        model.add(MaxPool2D(2));
    }
    model.add(Flatten());
    model.add(Dense(64, Activation::ReLU));
    model.add(Dense(32, Activation::ReLU));
    model.add(Dense(10, Activation::Softmax));
}

template <class Device>
void compile_cnn(lamina::Sequential<float, Device>& model, const std::string& net) {
    using namespace lamina;
    if (net == "keras")
        model.compile(Adam(1e-3), SparseCategoricalCrossentropy(/*from_logits=*/true), {metrics::accuracy});
    else model.compile("adam", SparseCategoricalCrossentropy(), {metrics::accuracy});
}

}  // namespace examples
