// What the data-parallel tests share, with threads as ranks
// (test_data_parallel.cpp) or MPI processes (mpi/test_data_parallel.cpp):
// a small data set, models with and without random draws and statistics,
// weight comparisons, and a layer that fails on demand.
#pragma once

#include <lamina/lamina.hpp>

#include "max_abs_difference.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace test::dp {

using namespace lamina;
using Weights = std::vector<Tensor<float>>;

struct Data {
    Tensor<float> x;
    Tensor<int> y;
};
// Three classes of noisy 1x6x6 images; every rank makes the same.
inline Data data(Index n, std::uint64_t seed) {
    Rng rng(seed);
    Data d{Tensor<float>(Shape{n, 1, 6, 6}), Tensor<int>(Shape{n})};
    for (Index i = 0; i < n; ++i) {
        const int c = int(rng.below(3));
        d.y[i] = c;
        for (Index j = 0; j < 36; ++j) d.x[i * 36 + j] = float(rng.normal(j % 3 == c ? 1.0 : 0.0, 0.5));
    }
    return d;
}
inline FitOptions<float> options(int epochs, Index batch, distributed::Communicator* comm = nullptr) {
    FitOptions<float> o;
    o.epochs = epochs;
    o.batch_size = batch;
    o.verbose = 0;
    o.distributed = comm;
    return o;
}
// No Dropout or BatchNormalization: the batch's gradient is the same however it is shared.
inline Sequential<float> plain_model(std::uint64_t seed) {
    Sequential<float> m("plain", seed);
    m.add(Conv2D(4, 3, Activation::ReLU));
    m.add(Flatten());
    m.add(Dense(8, Activation::Tanh));
    m.add(Dense(3));
    m.compile(Adam(0.01), SparseCategoricalCrossentropy(true), {metrics::accuracy});
    return m;
}
// Everything that draws random numbers or keeps statistics in training.
inline Sequential<float> noisy_model(std::uint64_t seed) {
    Sequential<float> m("noisy", seed);
    m.add(RandomTranslation(0.1, 0.1));
    m.add(Conv2D(4, 3));
    m.add(BatchNormalization());
    m.add(Activation("relu"));
    m.add(Flatten());
    m.add(Dropout(0.3));
    m.add(Dense(3));
    m.compile(SGD(0.05, 0.9), SparseCategoricalCrossentropy(true), {metrics::accuracy});
    return m;
}
// BatchNormalization with the global batch's statistics, on conv maps and flat features.
inline Sequential<float> synchronized_bn_model(std::uint64_t seed) {
    Sequential<float> m("sync_bn", seed);
    m.add(Conv2D(4, 3));
    m.add(BatchNormalization().synchronize_statistics());
    m.add(Activation("relu"));
    m.add(Flatten());
    m.add(Dense(8));
    m.add(BatchNormalization(0.9).synchronize_statistics());
    m.add(Activation("tanh"));
    m.add(Dense(3));
    m.compile(SGD(0.05, 0.9), SparseCategoricalCrossentropy(true), {metrics::accuracy});
    return m;
}

using test::max_abs_difference;
inline bool same_bits(const Weights& a, const Weights& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].shape() != b[i].shape() ||
            std::memcmp(a[i].data(), b[i].data(), std::size_t(a[i].size()) * sizeof(float)) != 0)
            return false;
    return true;
}

// Identity that throws where told to, at its `step`th forward: a rank that
// fails mid-epoch.
class FailingLayer : public Layer<float> {
public:
    FailingLayer(bool fails, int step) : fails_(fails), step_(step) {}
    std::string type() const override { return "Failing"; }
    Shape build(const Shape& input, Rng&) override { return this->finish_build(input, input); }
    void infer(const TensorType& x, TensorType& y) const override { Backend<Cpu>::copy(x.view(), y.view()); }
    void forward(const TensorType& x, TensorType& y, Mode) override {
        if (fails_ && calls_++ == step_)
            throw NumericError(ErrorId::numeric_nonfinite, "failing layer: made to fail here");
        infer(x, y);
    }
    void backward(const TensorType&, const TensorType&, const TensorType& dy, TensorType* dx) override {
        if (dx) Backend<Cpu>::copy(dy.view(), dx->view());
    }

private:
    bool fails_;
    int step_, calls_ = 0;
};

}  // namespace test::dp
