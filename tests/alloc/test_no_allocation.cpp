// tests/alloc/test_no_allocation.cpp: a steady-state training step makes no
// heap allocation, for every network the examples train and for the layers,
// losses and optimizers they do not use.
//
// The window: from the start of each epoch's second step to the end of its
// last step, so it covers the batch gather, forward, loss, backward, the
// optimizer step, the running metrics, the callback logs and the progress
// bar, and leaves out only what happens once per fit or per epoch (buffers
// sized by reserve(), first-touch thread-local workspaces, the permutation).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <utility>
#include <vector>

#include "../../examples/networks.hpp"
#include "counting_malloc.hpp"

using namespace lamina;

namespace {

// Counts allocations in each epoch's steps 1..last (arm/disarm are the only
// work it does inside the window, and they do not allocate).
struct AllocationWindow : Callback {
    long long steps;
    long long allocations = 0;
    int windows = 0;
    explicit AllocationWindow(long long steps_per_epoch) : steps(steps_per_epoch) {}
    void on_train_batch_begin(TrainingControl&, long long step, const Logs&) override {
        if (step == 1) alloc_test::arm();
    }
    void on_train_batch_end(TrainingControl&, long long step, const Logs&) override {
        if (step == steps - 1) {
            allocations += alloc_test::disarm();
            ++windows;
        }
    }
};

Tensor<float> random_images(Index n, Shape sample, std::uint64_t seed) {
    Tensor<float> x(sample.with_batch(n));
    Rng rng(seed);
    for (auto& v : x) v = float(rng.uniform());
    return x;
}

Tensor<int> random_labels(Index n, int classes, std::uint64_t seed) {
    Tensor<int> y(Shape{n});
    Rng rng(seed);
    for (auto& v : y) v = int(rng.uniform() * classes) % classes;
    return y;
}

// Trains `epochs` epochs of `steps` full batches and returns the allocations
// counted inside the windows.
template <class Targets>
long long allocations_in_steps(Sequential<float>& model, const Tensor<float>& x, const Targets& y, Index batch,
                               int epochs = 2, double validation_split = 0) {
    const Index train = validation_split > 0 ? Index(double(x.rows()) * (1 - validation_split)) : x.rows();
    REQUIRE(train % batch == 0);  // full batches only: a last, smaller batch is its own (allocation-free) case
    auto window = std::make_shared<AllocationWindow>(train / batch);
    FitOptions<float> options;
    options.epochs = epochs;
    options.batch_size = batch;
    options.verbose = 0;
    options.validation_split = validation_split;
    options.callbacks.push_back(window);
    model.fit(x, y, options);
    REQUIRE(window->windows == epochs);
    return window->allocations;
}

}  // namespace

TEST_CASE("a training step allocates nothing: the example MLPs", "[alloc]") {
    const Index n = 8 * 32;
    const auto x = random_images(n, Shape{1, 28, 28}, 1);
    const auto y = random_labels(n, 10, 2);
    for (const std::string net : {"keras128", "dense512", "mlp300"}) {
        for (const std::string optimizer : {"adam", "rmsprop", "sgd"}) {
            Sequential<float> model(net, 1);
            examples::add_mlp(model, net);
            examples::compile_mlp(model, net, optimizer);
            const Index batch = net == "dense512" ? 128 : 32;
            const long long count = net == "dense512"
                                        ? allocations_in_steps(model, x, datasets::to_categorical(y, 10), batch)
                                        : allocations_in_steps(model, x, y, batch);
            INFO(net << " + " << optimizer << ": " << count << " allocations in the steady-state steps");
            CHECK(count == 0);
        }
    }
}

TEST_CASE("a training step allocates nothing: the example CNNs", "[alloc]") {
    const Index n = 4 * 64;
    const auto x = random_images(n, Shape{1, 28, 28}, 3);
    const auto y = random_labels(n, 10, 4);
    {
        Sequential<float> model("keras", 1);
        examples::add_cnn(model, "keras");
        examples::compile_cnn(model, "keras");
        const long long count = allocations_in_steps(model, x, y, 64);
        INFO("keras CNN: " << count << " allocations");
        CHECK(count == 0);
    }
    {
        // deep: "same" padding, separate Activation layers, 30 % validation
        // (evaluated at each epoch's end, outside the window).
        Sequential<float> model("deep", 1);
        examples::add_cnn(model, "deep");
        examples::compile_cnn(model, "deep");
        const auto xd = random_images(640, Shape{1, 28, 28}, 5);
        const auto yd = random_labels(640, 10, 6);
        const long long count = allocations_in_steps(model, xd, yd, 64, 2, 0.3);
        INFO("deep CNN: " << count << " allocations");
        CHECK(count == 0);
    }
}

TEST_CASE("a batch-1 forward allocates nothing: the keras CNN's layers, on one thread and on two", "[alloc]") {
    // What predict(x, 1) runs for each layer (predict itself allocates its
    // result): the convolutions and the Dense layers have their own batch-1
    // paths, split across the team.
    Sequential<float> model("keras", 1);
    examples::add_cnn(model, "keras");
    model.build(Shape{1, 28, 28});
    const int before = get_num_threads();
    for (const int threads : {1, 2}) {
        set_num_threads(threads);
        std::vector<Tensor<float>> acts;
        acts.push_back(random_images(1, Shape{1, 28, 28}, 7));
        for (std::size_t i = 0; i < model.size(); ++i) {
            model.layer(i).reserve(1);
            acts.emplace_back(model.layer(i).output_shape().with_batch(1));
        }
        auto forward = [&] {
            for (std::size_t i = 0; i < model.size(); ++i) std::as_const(model).layer(i).infer(acts[i], acts[i + 1]);
        };
        forward();  // first touch of the threads' workspaces
        alloc_test::arm();
        for (int call = 0; call < 3; ++call) forward();
        const long long count = alloc_test::disarm();
        INFO(threads << " threads: " << count << " allocations");
        CHECK(count == 0);
    }
    set_num_threads(before);
}

TEST_CASE("a training step allocates nothing: the other layers, losses and optimizers", "[alloc]") {
    const Index n = 6 * 16;
    const auto x = random_images(n, Shape{3, 12, 12}, 7);
    const auto y = random_labels(n, 2, 8);
    Tensor<float> y_float(Shape{n, 1});
    for (Index i = 0; i < n; ++i) y_float[i] = float(y[i]);

    SECTION("strided same-padded Conv2D, AveragePooling2D, GlobalAveragePooling2D, sigmoid, tanh, BCE, SGD+momentum") {
        Sequential<float> model("others", 1);
        model.add(Conv2D(8, 3, 2, Padding::Same, Activation::Tanh))
            .add(AveragePooling2D(2))
            .add(Conv2D(6, 3, 1, Padding::Same))
            .add(GlobalAveragePooling2D())
            .add(Dropout(0.3))
            .add(Dense(1, Activation::Sigmoid));
        model.compile(SGD(0.05, 0.9, /*nesterov=*/true), BinaryCrossentropy(), {metrics::accuracy});
        const long long count = allocations_in_steps(model, x, y_float, 16);
        INFO(count << " allocations");
        CHECK(count == 0);
    }
    SECTION("BatchNormalization after Conv2D and Dense, one frozen, AdamW") {
        Sequential<float> model("bn", 1);
        model.add(Conv2D(8, 3, Padding::Same))
            .add(BatchNormalization())
            .add(Activation("relu"))
            .add(Flatten())
            .add(Dense(16))
            .add(BatchNormalization(0.9, 1e-3, true, false).frozen())
            .add(Dense(2));
        model.compile(AdamW(0.01), SparseCategoricalCrossentropy(true), {metrics::accuracy});
        const long long count = allocations_in_steps(model, x, y, 16);
        INFO(count << " allocations");
        CHECK(count == 0);
    }
    SECTION("RandomRotation, RandomZoom, RandomTranslation (every fill mode) before and after a Conv2D") {
        Sequential<float> model("augmented", 1);
        model.add(RandomRotation(0.1, "constant"))
            .add(RandomZoom(0.2, FactorRange{-0.1, 0.1}, "wrap", "nearest"))
            .add(RandomTranslation(0.2, 0.2, "nearest"))
            .add(Conv2D(4, 3, Padding::Same, Activation::ReLU))
            .add(RandomTranslation(0.1, 0.1))  // after a layer with weights: its backward runs
            .add(Flatten())
            .add(Dense(1, Activation::Sigmoid));
        model.compile(Adam(0.01), BinaryCrossentropy(), {metrics::accuracy});
        const long long count = allocations_in_steps(model, x, y_float, 16);
        INFO(count << " allocations");
        CHECK(count == 0);
    }
    SECTION("MaxPool2D with padding, softmax layer, mean squared error, RMSprop with momentum") {
        Sequential<float> model("mse", 1);
        model.add(MaxPool2D(3, 2, Padding::Same)).add(Flatten()).add(Dense(5)).add(Activation(Activation::Softmax));
        model.compile(RMSprop(0.01, 0.9, 0.5), MeanSquaredError(), {});
        const auto onehot = datasets::to_categorical(random_labels(n, 5, 9), 5);
        const long long count = allocations_in_steps(model, x, onehot, 16);
        INFO(count << " allocations");
        CHECK(count == 0);
    }
}

TEST_CASE("the counting allocator sees every kind of allocation", "[alloc]") {
    // The test above would pass vacuously if the counter missed allocations.
    // Through a volatile pointer, so the compiler cannot elide the new/delete pair.
    static std::vector<int>* volatile sink = nullptr;
    alloc_test::arm();
    sink = new std::vector<int>(1000);
    const long long by_new = alloc_test::disarm();
    delete sink;
    CHECK(by_new == 2);
    alloc_test::arm();
    { Tensor<float> t(Shape{1000}); }
    CHECK(alloc_test::disarm() == 1);  // std::aligned_alloc
    alloc_test::arm();
    {
        Eigen::MatrixXf a = Eigen::MatrixXf::Ones(300, 300), b = a * a;  // Eigen's malloc and its GEMM blocking
        CHECK(b(0, 0) == 300.0f);
    }
    CHECK(alloc_test::disarm() >= 3);
}
