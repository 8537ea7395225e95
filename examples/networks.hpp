// examples/networks.hpp: the notebooks' networks, defined once for the
// examples that train them and the benchmarks that time them.
//
//   add_mlp(model, net)   keras128 | dense512 | mlp300 (see mnist_mlp.cpp)
//   compile_mlp(model, net, optimizer)   each one's loss, with `optimizer` by Keras name
//   add_cnn(model, net, augment)   keras | deep | best (see mnist_cnn.cpp),
//         after the augmentation layers when `augment`
//   compile_cnn(model, net, training_steps)   best's one-cycle schedule
//         spans `training_steps` optimizer steps (epochs x batches per epoch)
// Each takes a model on any device (Sequential<float, Device>).
#pragma once

#include <algorithm>
#include <optional>
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
void add_cnn(lamina::Sequential<float, Device>& model, const std::string& net, bool augment = false) {
    using namespace lamina;
    if (augment) {
        // Small rotations, zooms and shifts (fit only): digits written a little
        // differently. Constant fill: MNIST's background is 0.
        model.add(RandomRotation(0.03, "constant"));
        model.add(RandomZoom(0.1, std::nullopt, "constant"));
        model.add(RandomTranslation(0.1, 0.1, "constant"));
    }
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
    if (net == "best") {
        // Each convolution leaves its bias and activation to the
        // BatchNormalization after it (a bias before a batch normalisation is
        // cancelled by its mean), and pools first, so that the normalisation
        // and the activation see a quarter of the values. The middle block
        // has two convolutions: the 14x14 maps are where a second one gains
        // the most accuracy for its cost.
        for (const Index filters : {32, 64, 128}) {
            if (filters == 64) {
                model.add(Conv2D(filters, 3, 1, Padding::Same, Activation::Linear, /*use_bias=*/false));
                model.add(BatchNormalization());
                model.add(Activation(Activation::ReLU));
            }
            model.add(Conv2D(filters, 3, 1, Padding::Same, Activation::Linear, /*use_bias=*/false));
            model.add(MaxPool2D(2));
            model.add(BatchNormalization());
            model.add(Activation(Activation::ReLU));
        }
        model.add(Flatten());
        model.add(Dense(128, Activation::Linear, /*use_bias=*/false));
        model.add(BatchNormalization());
        model.add(Activation(Activation::ReLU));
        model.add(Dropout(0.3));
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
void compile_cnn(lamina::Sequential<float, Device>& model, const std::string& net, long long training_steps = 0) {
    using namespace lamina;
    if (net == "best")
        model.compile(AdamW(schedules::OneCycle(0.005, double(std::max(training_steps, 2LL))), /*weight_decay=*/5e-4),
                      SparseCategoricalCrossentropy(/*from_logits=*/true, /*label_smoothing=*/0.1),
                      {metrics::accuracy});
    else if (net == "keras")
        model.compile(Adam(1e-3), SparseCategoricalCrossentropy(/*from_logits=*/true), {metrics::accuracy});
    else model.compile("adam", SparseCategoricalCrossentropy(), {metrics::accuracy});
}

}  // namespace examples
