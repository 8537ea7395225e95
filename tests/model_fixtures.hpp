// tests/model_fixtures.hpp: small deterministic models and data shared by the
// model-file tests and tests/tools/model_tool.cpp (which runs them in a
// separate process).
#pragma once

#include <lamina/lamina.hpp>

#include <string>

namespace test {

// 96 samples of 1x8x8 "images" in 3 classes that a small net can learn.
inline lamina::Tensor<float> fixture_x() {
    lamina::Tensor<float> x(lamina::Shape{96, 1, 8, 8});
    lamina::Rng rng(7);
    for (lamina::Index i = 0; i < x.size(); ++i) x[i] = float(rng.uniform());
    for (lamina::Index n = 0; n < 96; ++n) x[n * 64 + (n % 3) * 20] += 2.0f;  // class signal
    return x;
}
inline lamina::Tensor<int> fixture_y() {
    lamina::Tensor<int> y(lamina::Shape{96});
    for (lamina::Index n = 0; n < 96; ++n) y[n] = int(n % 3);
    return y;
}

// "mlp": Flatten, Dense+relu, Dropout, Dense softmax, Adam (dropout and
// Adam's moments make resumption non-trivial). "cnn": Conv2D, MaxPool, Flatten,
// Dropout, Dense softmax, RMSprop with momentum. "big": a wide MLP.
inline lamina::Sequential<float> fixture_model(const std::string& kind, std::uint64_t seed) {
    using namespace lamina;
    Sequential<float> m(kind, seed);
    if (kind == "big") {  // ~280k weights, ~3.3 MB files with Adam's slots: saves take long enough to be killed midway
        m.add(Flatten()).add(Dense(4096, "relu")).add(Dense(3, "softmax"));
        m.compile(Adam(0.01), "sparse_categorical_crossentropy", {metrics::accuracy});
    } else if (kind == "cnn") {
        m.add(Conv2D(4, 3, Activation::ReLU))
            .add(MaxPooling2D(2))
            .add(Flatten())
            .add(Dropout(0.3))
            .add(Dense(3, "softmax"));
        m.compile(RMSprop(0.005, 0.9, 0.5), "sparse_categorical_crossentropy", {metrics::accuracy});
    } else {
        m.add(Flatten()).add(Dense(16, "relu")).add(Dropout(0.25)).add(Dense(3, "softmax"));
        m.compile(Adam(0.01), "sparse_categorical_crossentropy", {metrics::accuracy});
    }
    m.build(Shape{1, 8, 8});
    return m;
}

inline lamina::FitOptions<float> fixture_fit(int epochs, int initial_epoch = 0) {
    lamina::FitOptions<float> o;
    o.epochs = epochs;
    o.initial_epoch = initial_epoch;
    o.batch_size = 16;
    o.verbose = 0;
    return o;
}

}  // namespace test
