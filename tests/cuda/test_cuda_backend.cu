// The CUDA backend on a GPU, against the CPU backend as the oracle: every
// layer's forward and backward, every loss, optimizer and metric, training
// on MNIST, and models moving between the devices. Float results agree with
// the CPU to a relative error of 1e-4 (sums run in another order on the GPU).
// Built with -DLAMINA_CUDA=ON; skipped (exit 77, main.cu) without a GPU.
#include <catch2/catch.hpp>

#include <lamina/cuda.hpp>

#include "../../examples/networks.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace lamina;

namespace {

Tensor<float> random_tensor(const Shape& shape, Rng& rng, double lo = -1, double hi = 1) {
    Tensor<float> t(shape);
    for (auto& v : t) v = float(rng.uniform(lo, hi));
    return t;
}

// |got - want| <= 1e-4 * max(|want|, scale): relative, with the tensor's own
// magnitude as the floor where values cancel to near zero.
void check_close(const Tensor<float>& got, const Tensor<float>& want, const char* what) {
    INFO(what);
    REQUIRE(got.shape() == want.shape());
    double scale = 1e-6;
    for (float v : want) scale = std::max(scale, double(std::fabs(v)));
    Index bad = 0;
    double worst = 0;
    for (Index i = 0; i < got.size(); ++i) {
        const double err = std::fabs(double(got[i]) - double(want[i])) / std::max(std::fabs(double(want[i])), scale);
        worst = std::max(worst, err);
        bad += !(err <= 1e-4);
    }
    CAPTURE(worst, got.size());
    CHECK(bad == 0);
}

// Both models train the same steps from the same weights; weights and predictions must agree.
template <class Build>
void check_training_agrees(Build build, const Tensor<float>& x, const Tensor<float>& y, int epochs = 2,
                           Index batch = 16) {
    Sequential<float> cpu("m", 3);
    Sequential<float, Cuda> gpu("m", 3);
    build(cpu);
    build(gpu);
    cpu.build(x.shape().without_batch());
    gpu.build(x.shape().without_batch());
    gpu.set_weights(cpu.get_weights());
    FitOptions<float> options;
    options.epochs = epochs;
    options.batch_size = batch;
    options.verbose = 0;
    const auto h_cpu = cpu.fit(x, y, options);
    const auto h_gpu = gpu.fit(x, y, options);
    CHECK(h_gpu.history.at("loss").back() == Approx(h_cpu.history.at("loss").back()).epsilon(1e-3));
    const auto w_cpu = cpu.get_weights(), w_gpu = gpu.get_weights();
    REQUIRE(w_cpu.size() == w_gpu.size());
    for (std::size_t i = 0; i < w_cpu.size(); ++i) check_close(w_gpu[i], w_cpu[i], "weights after training");
    check_close(gpu.predict(x, 7), cpu.predict(x, 7), "predictions");
    const auto e_cpu = cpu.evaluate(x, y, 5), e_gpu = gpu.evaluate(x, y, 5);
    CHECK(e_gpu.loss == Approx(e_cpu.loss).epsilon(1e-4));
}

Tensor<float> labels(Index n, Index classes) {
    Tensor<float> y(Shape{n});
    for (Index i = 0; i < n; ++i) y[i] = float((i * 7 + 3) % classes);
    return y;
}

}  // namespace

TEST_CASE("Tensor<float, Cuda> copies to and from the host exactly, and reports misuse", "[cuda]") {
    Rng rng(1);
    const auto host = random_tensor(Shape{3, 5, 7}, rng);
    auto device = to_device(host);
    CHECK(device.shape() == host.shape());
    auto copy = device;  // device to device
    const auto back = to_host(copy);
    CHECK(std::memcmp(back.data(), host.data(), sizeof(float) * std::size_t(host.size())) == 0);
    device.set_zero();
    for (float v : to_host(device)) CHECK(v == 0.0f);
    using GpuTensor = Tensor<float, Cuda>;
    CHECK_THROWS_AS(GpuTensor(Shape{Index(1) << 40, Index(1) << 20}), ConfigError);
}

TEST_CASE("Dense, every activation, forward and backward, on the GPU as on the CPU", "[cuda]") {
    Rng rng(2);
    const auto x = random_tensor(Shape{37, 13}, rng);
    const auto y = labels(37, 5);
    for (const char* act : {"linear", "relu", "sigmoid", "tanh", "softmax"}) {
        CAPTURE(act);
        check_training_agrees(
            [&](auto& m) {
                m.add(Dense(11, act));
                m.add(Dense(5, "softmax"));
                m.compile(SGD(0.1), "sparse_categorical_crossentropy", {metrics::accuracy});
            },
            x, y);
    }
}

TEST_CASE("Conv2D, pooling and global pooling over many geometries, on the GPU as on the CPU", "[cuda]") {
    Rng rng(3);
    const auto x = random_tensor(Shape{19, 2, 11, 9}, rng);
    const auto y = labels(19, 3);
    struct Case {
        Size2 kernel, strides;
        const char* padding;
        const char* act;
        PoolKind pool;
        Size2 pool_size, pool_strides;
        const char* pool_padding;
    };
    const std::vector<Case> cases{
        {3, 1, "valid", "relu", PoolKind::Max, 2, 2, "valid"},
        {3, 1, "same", "tanh", PoolKind::Average, 2, 2, "valid"},
        {3, 2, "same", "sigmoid", PoolKind::Max, 3, 1, "same"},
        {{2, 3}, {2, 1}, "same", "linear", PoolKind::Average, {2, 3}, {1, 2}, "same"},
        {1, 1, "valid", "relu", PoolKind::Max, 1, 1, "valid"},
        {5, 1, "valid", "relu", PoolKind::Max, 3, 2, "valid"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.kernel.str(), c.strides.str(), c.padding, c.act, int(c.pool), c.pool_size.str());
        check_training_agrees(
            [&](auto& m) {
                m.add(Conv2D(4, c.kernel, c.strides, c.padding, c.act));
                if (c.pool == PoolKind::Max) m.add(MaxPooling2D(c.pool_size, c.pool_strides, c.pool_padding));
                else m.add(AveragePooling2D(c.pool_size, c.pool_strides, c.pool_padding));
                m.add(Conv2D(3, 1, "valid", "relu"));
                m.add(Flatten());
                m.add(Dense(3, "softmax"));
                m.compile(Adam(0.01), "sparse_categorical_crossentropy", {metrics::accuracy});
            },
            x, y);
    }
    check_training_agrees(
        [](auto& m) {
            m.add(Conv2D(5, 3, "same", "relu"));
            m.add(GlobalAveragePooling2D());
            m.add(Dense(3));
            m.add(Softmax());
            m.compile(RMSprop(0.01, 0.9, 0.5, 1e-7, true), "sparse_categorical_crossentropy", {metrics::accuracy});
        },
        x, y);
}

TEST_CASE("Every loss and optimizer, on the GPU as on the CPU", "[cuda]") {
    Rng rng(4);
    const auto x = random_tensor(Shape{29, 6}, rng);
    const auto y = labels(29, 4);
    const auto onehot = datasets::to_categorical<float>(y.cast<int>(), 4);
    Tensor<float> binary(Shape{29, 4});
    for (Index i = 0; i < binary.size(); ++i) binary[i] = float(rng.below(2));
    auto model = [](const char* last, auto optimizer, auto loss) {
        return [=](auto& m) {
            m.add(Dense(8, "tanh"));
            m.add(Dense(4, last));
            m.compile(optimizer, loss, {metrics::accuracy});
        };
    };
    check_training_agrees(model("linear", SGD(0.05, 0.9, true), SparseCategoricalCrossentropy(true)), x, y);
    check_training_agrees(model("softmax", SGD(0.05, 0.5), SparseCategoricalCrossentropy()), x, y);
    check_training_agrees(model("softmax", Adam(0.01, 0.9, 0.999, 1e-7, true), CategoricalCrossentropy()), x, onehot);
    check_training_agrees(model("linear", RMSprop(0.01), CategoricalCrossentropy(true)), x, onehot);
    check_training_agrees(model("sigmoid", Adam(0.01), BinaryCrossentropy()), x, binary);
    check_training_agrees(model("linear", RMSprop(0.01, 0.9, 0.3), BinaryCrossentropy(true)), x, binary);
    check_training_agrees(model("linear", SGD(0.01), MeanSquaredError()), x, onehot);
}

TEST_CASE("Label smoothing, on every cross-entropy path, on the GPU as on the CPU", "[cuda]") {
    Rng rng(6);
    const auto x = random_tensor(Shape{29, 6}, rng);
    const auto y = labels(29, 4);
    const auto onehot = datasets::to_categorical<float>(y.cast<int>(), 4);
    auto model = [](const char* last, auto loss) {
        return [=](auto& m) {
            m.add(Dense(8, "tanh"));
            m.add(Dense(4, last));
            m.compile(Adam(0.01), loss, {metrics::accuracy});
        };
    };
    check_training_agrees(model("linear", SparseCategoricalCrossentropy(true, 0.1)), x, y);
    check_training_agrees(model("softmax", SparseCategoricalCrossentropy(false, 0.2)), x, y);  // logit gradient
    check_training_agrees(model("linear", CategoricalCrossentropy(true, 0.3)), x, onehot);
    check_training_agrees(model("softmax", CategoricalCrossentropy(false, 1.0)), x, onehot);  // logit gradient
}

TEST_CASE("Dropout on the GPU: seeded, fair, inverted scaling, identity in inference", "[cuda]") {
    Rng rng(5);
    const auto x = random_tensor(Shape{64, 500}, rng, 1, 2);
    auto run = [&](std::uint64_t seed) {
        Sequential<float, Cuda> m("d", seed);
        m.add(Dropout(0.3));
        m.build(Shape{500});
        Tensor<float, Cuda> in = to_device(x), out(x.shape());
        m.layer(0).forward(in, out, Mode::Training);
        return to_host(out);
    };
    const auto a = run(7), b = run(7), c = run(8);
    CHECK(std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())) == 0);
    Index dropped = 0, differ = 0;
    for (Index i = 0; i < a.size(); ++i) {
        if (a[i] == 0.0f) ++dropped;
        else CHECK(a[i] == Approx(x[i] / 0.7f).epsilon(1e-6));
        differ += a[i] != c[i];
    }
    CHECK(double(dropped) / double(a.size()) == Approx(0.3).margin(0.01));
    CHECK(differ > a.size() / 5);
    Sequential<float, Cuda> m("d", 1);
    m.add(Dropout(0.3));
    const auto p = m.predict(x);
    CHECK(std::memcmp(p.data(), x.data(), sizeof(float) * std::size_t(x.size())) == 0);
}

TEST_CASE("The augmentation layers on the GPU draw the CPU's maps and warp as the CPU, forward and backward",
          "[cuda]") {
    Rng rng(6);
    const auto x = random_tensor(Shape{9, 2, 11, 8}, rng);
    const auto dy = random_tensor(x.shape(), rng);
    for (const char* fill : {"reflect", "wrap", "constant", "nearest"})
        for (const char* interpolation : {"bilinear", "nearest"}) {
            CAPTURE(fill, interpolation);
            auto check = [&](auto spec) {
                Sequential<float> cpu("a", 4);
                Sequential<float, Cuda> gpu("a", 4);
                cpu.add(spec);
                gpu.add(spec);
                cpu.build(x.shape().without_batch());
                gpu.build(x.shape().without_batch());
                Tensor<float> y_cpu(x.shape()), dx_cpu(x.shape());
                Tensor<float, Cuda> x_gpu = to_device(x), y_gpu(x.shape()), dy_gpu = to_device(dy), dx_gpu(x.shape());
                cpu.layer(0).forward(x, y_cpu, Mode::Training);
                gpu.layer(0).forward(x_gpu, y_gpu, Mode::Training);
                check_close(to_host(y_gpu), y_cpu, "warped batch");
                cpu.layer(0).backward(x, y_cpu, dy, &dx_cpu);
                gpu.layer(0).backward(x_gpu, y_gpu, dy_gpu, &dx_gpu);
                check_close(to_host(dx_gpu), dx_cpu, "warp gradient");
            };
            check(RandomTranslation(0.3, {-0.2, 0.4}, fill, interpolation, 0.5));
            check(RandomRotation(0.2, fill, interpolation, -1.0));
            check(RandomZoom(0.4, FactorRange{-0.3, 0.5}, fill, interpolation));
        }
    // Through fit: a convolution before the augmentation needs its backward.
    const auto xs = random_tensor(Shape{24, 1, 10, 10}, rng);
    check_training_agrees(
        [&](auto& m) {
            m.add(Conv2D(3, 3, Padding::Same, Activation::Tanh));
            m.add(RandomRotation(0.1, "constant"));
            m.add(RandomZoom(0.2));
            m.add(Flatten());
            m.add(Dense(4, "softmax"));
            m.compile(SGD(0.05), "sparse_categorical_crossentropy", {metrics::accuracy});
        },
        xs, labels(24, 4), 2, 8);
    // Inference: the identity.
    Sequential<float, Cuda> m("a", 1);
    m.add(RandomTranslation(0.5, 0.5));
    const auto p = m.predict(xs);
    CHECK(std::memcmp(p.data(), xs.data(), sizeof(float) * std::size_t(xs.size())) == 0);
}

TEST_CASE("The keras CNN trains one MNIST epoch on the GPU to 98.5 %, and its file predicts the same on the CPU",
          "[cuda][mnist]") {
    auto mnist = datasets::load_mnist<float>(LAMINA_TEST_DATA_DIR);
    Sequential<float, Cuda> gpu("keras", 1);
    examples::add_cnn(gpu, "keras");
    examples::compile_cnn(gpu, "keras");
    FitOptions<float> options;
    options.epochs = 1;
    options.batch_size = 64;
    options.verbose = 0;
    gpu.fit(mnist.train.x, mnist.train.y, options);
    const auto on_gpu = gpu.evaluate(mnist.test.x, mnist.test.y, 1000);
    CHECK(on_gpu.metrics.at("accuracy") >= 0.985);

    const std::string path = "cuda_keras_cnn.lamina";
    gpu.save(path);
    auto cpu = Sequential<float>::load(path);
    const auto w_gpu = gpu.get_weights(), w_cpu = cpu.get_weights();
    for (std::size_t i = 0; i < w_gpu.size(); ++i)
        CHECK(std::memcmp(w_gpu[i].data(), w_cpu[i].data(), sizeof(float) * std::size_t(w_gpu[i].size())) == 0);
    const auto x = mnist.test.x.slice_rows(0, 2000);
    const auto p_gpu = gpu.predict(x, 500), p_cpu = cpu.predict(x, 500);
    check_close(p_gpu, p_cpu, "test predictions, GPU model vs its file loaded on the CPU");
    const auto c_gpu = argmax(p_gpu), c_cpu = argmax(p_cpu);
    Index same = 0;
    for (Index i = 0; i < c_gpu.size(); ++i) same += c_gpu[i] == c_cpu[i];
    CHECK(same == c_gpu.size());
    const auto on_cpu = cpu.evaluate(mnist.test.x, mnist.test.y, 1000);
    CHECK(on_cpu.metrics.at("accuracy") == Approx(on_gpu.metrics.at("accuracy")).margin(0.0005));

    // to<Cpu>() carries the same as the file, and back to the GPU continues training.
    auto moved = gpu.to<Cpu>();
    const auto w_moved = moved.get_weights();
    for (std::size_t i = 0; i < w_gpu.size(); ++i)
        CHECK(std::memcmp(w_gpu[i].data(), w_moved[i].data(), sizeof(float) * std::size_t(w_gpu[i].size())) == 0);
    auto again = moved.to<Cuda>();
    options.epochs = 2;
    options.initial_epoch = 1;
    const auto h = again.fit(mnist.train.x.slice_rows(0, 6400), mnist.train.y.slice_rows(0, 6400), options);
    CHECK(std::isfinite(h.history.at("loss").back()));
}

TEST_CASE("BatchNormalization forward (training, inference) and backward, on the GPU as on the CPU", "[cuda]") {
    Rng rng(6);
    for (const Shape& shape : {Shape{19, 3, 7, 5}, Shape{33, 6}, Shape{2, 300}}) {
        CAPTURE(shape.str());
        const BatchNormalization spec(0.9);
        auto cpu = spec.make<float, Cpu>();
        auto gpu = spec.make<float, Cuda>();
        Rng r1(1), r2(1);
        cpu->build(shape.without_batch(), r1);
        gpu->build(shape.without_batch(), r2);
        auto cpu_params = cpu->params();
        auto gpu_params = gpu->params();
        for (std::size_t k = 0; k < cpu_params.size(); ++k) {
            cpu_params[k]->value = random_tensor(cpu_params[k]->value.shape(), rng, 0.5, 1.5);
            gpu_params[k]->value = to_device(cpu_params[k]->value);
        }
        const auto x = random_tensor(shape, rng, -2, 4), dy = random_tensor(shape, rng);
        const auto xd = to_device(x), dyd = to_device(dy);
        for (const bool frozen : {false, true}) {
            CAPTURE(frozen);
            cpu->set_trainable(!frozen);
            gpu->set_trainable(!frozen);
            Tensor<float> y(shape), dx(shape);
            Tensor<float, Cuda> yd(shape), dxd(shape);
            cpu->forward(x, y, Mode::Training);
            gpu->forward(xd, yd, Mode::Training);
            check_close(to_host(yd), y, "BatchNormalization forward in fit");
            for (std::size_t k = 0; k < cpu_params.size(); ++k) {
                cpu_params[k]->grad.set_zero();
                gpu_params[k]->grad.set_zero();
                check_close(to_host(gpu_params[k]->value), cpu_params[k]->value, "moving statistics");
            }
            cpu->backward(x, y, dy, &dx);
            gpu->backward(xd, yd, dyd, &dxd);
            check_close(to_host(dxd), dx, "BatchNormalization dx");
            for (std::size_t k = 0; k < 2; ++k)
                check_close(to_host(gpu_params[k]->grad), cpu_params[k]->grad, "dgamma, dbeta");
            cpu->infer(x, y);
            gpu->infer(xd, yd);
            check_close(to_host(yd), y, "BatchNormalization inference");
        }
    }
    check_training_agrees(
        [](auto& m) {
            m.add(Conv2D(4, 3, "same"));
            m.add(BatchNormalization(0.9));
            m.add(Activation("relu"));
            m.add(Flatten());
            m.add(Dense(6));
            m.add(BatchNormalization(0.8, 1e-2, true, false));
            m.add(Dense(3, "softmax"));
            m.compile(Adam(0.01), "sparse_categorical_crossentropy", {metrics::accuracy});
        },
        random_tensor(Shape{21, 2, 6, 6}, rng), labels(21, 3));
}
