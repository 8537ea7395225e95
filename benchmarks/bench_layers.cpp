// bench_layers: forward and backward of every layer, each loss and each
// optimizer step, at the shapes of the bundled examples (examples/networks.hpp)
// and a few larger ones, each read against the SGEMM peak measured first in
// the same binary.
//
//   OMP_NUM_THREADS=2 build/benchmarks/bench_layers --benchmark_min_time=0.2
//   ... --benchmark_filter='/keras_'        the Keras CNN's layers only
//
// Names: BM_<layer>_<forward|backward>/<network>_<layer>/<batch>,
//        BM_loss/<loss>/<batch>, BM_optimizer/<optimizer>/<network>,
//        BM_zero_grad/<network> (the gradient reset that starts every step).
// Networks: keras128, dense512, mlp300 (batch 32, 128, 32), keras = the Keras
// CNN (batch 64), deep = mnist_cnn --net deep (batch 32), best = mnist_cnn
// --net best's BatchNormalization and augmentation layers (batch 128), large =
// shapes beyond the examples.
// Time is wall-clock (UseRealTime): the kernels run on OpenMP threads, and
// the main thread's CPU time would hide the time it spends descheduled.
// Counters:
//   items/s   samples per second (parameters per second for optimizer steps).
//   GFLOP/s   Dense and Conv2D: 2 flops per multiply-add of the product,
//             forward 2*B*in*out (Dense) or 2*B*OH*OW*F*C*KH*KW (Conv2D);
//             backward twice that with dx, once without. Bias and activation
//             are not counted.
//   of_peak   GFLOP/s over the best 1024² Eigen SGEMM of the same process
//             and threads (bench::sgemm_peak_gflops(), measured once, by the
//             first benchmark, BM_sgemm_peak/best_of_0.5s).
//   bytes/s   memory-bound kernels: every tensor a pass reads or writes,
//             counted once.
// Backward of the first trainable layer of each network runs without dx, as
// in training; layers in front of it (keras128's Flatten) get no backward.
#include <functional>
#include <string>
#include <vector>

#include "../examples/networks.hpp"
#include "bench_common.hpp"

using namespace lamina;

namespace {

using Maker = std::function<LayerPtr<float, Cpu>()>;

template <class Spec>
Maker maker(Spec spec) {
    return [spec] { return spec.template make<float, Cpu>(); };
}

enum class Backward { None, NoDx, WithDx };

// Tensors a pass touches, in units of the layer's x and y sizes. Zero for
// Dense and Conv2D, which report GFLOP/s instead.
struct Traffic {
    int fwd_x, fwd_y, bwd_x, bwd_y;
};
constexpr Traffic by_flops{0, 0, 0, 0};
constexpr Traffic copy{1, 1, 1, 1};         // y = x; dx = dy (Flatten, average pools)
constexpr Traffic elementwise{1, 1, 1, 2};  // backward reads y and dy, writes dx
constexpr Traffic dropout{2, 1, 2, 1};      // forward also writes the mask; backward reads it
constexpr Traffic max_pool{1, 1, 2, 1};     // backward reads x and dy, writes dx
// Batch statistics: the forward reads x for the mean, again for the variance
// and again to normalise, and writes y; the backward reads x and dy for the
// sums and again for dx, which it writes.
constexpr Traffic batch_norm{3, 1, 3, 2};

struct LayerCase {
    std::string kind;  // "dense" -> BM_dense_forward
    std::string name;  // "keras128_d1"
    Maker make;
    Shape sample;
    Index batch;
    Backward backward;
    Traffic traffic;
    bool logit_gradient = false;  // a softmax output layer that Sequential hands dL/dlogits
};

std::vector<LayerCase> layer_cases() {
    const Shape image{1, 28, 28};
    const auto relu = Activation::ReLU;
    const auto same = Padding::Same;
    return {
        // keras128: Flatten - Dense(128, relu) - Dropout(0.2) - Dense(10), batch 32
        {"flatten", "keras128_flatten", maker(Flatten()), image, 32, Backward::None, copy},
        {"dense", "keras128_d1", maker(Dense(128, relu)), Shape{784}, 32, Backward::NoDx, by_flops},
        {"dropout", "keras128_dropout", maker(Dropout(0.2)), Shape{128}, 32, Backward::WithDx, dropout},
        {"dense", "keras128_d2", maker(Dense(10)), Shape{128}, 32, Backward::WithDx, by_flops},
        // dense512: Flatten - Dense(512, relu) - Dense(10, softmax), batch 128
        {"flatten", "dense512_flatten", maker(Flatten()), image, 128, Backward::None, copy},
        {"dense", "dense512_d1", maker(Dense(512, relu)), Shape{784}, 128, Backward::NoDx, by_flops},
        {"dense", "dense512_d2", maker(Dense(10, Activation::Softmax)), Shape{512}, 128, Backward::WithDx, by_flops,
         true},
        // mlp300: Flatten - Dense(300, relu) - Dense(100, relu) - Dense(10, softmax), batch 32
        {"flatten", "mlp300_flatten", maker(Flatten()), image, 32, Backward::None, copy},
        {"dense", "mlp300_d1", maker(Dense(300, relu)), Shape{784}, 32, Backward::NoDx, by_flops},
        {"dense", "mlp300_d2", maker(Dense(100, relu)), Shape{300}, 32, Backward::WithDx, by_flops},
        {"dense", "mlp300_d3", maker(Dense(10, Activation::Softmax)), Shape{100}, 32, Backward::WithDx, by_flops, true},
        // keras CNN: Conv2D(32, 3, relu) - MaxPool(2) - Conv2D(64, 3, relu) - MaxPool(2)
        //            - Flatten - Dense(128, relu) - Dense(10), batch 64
        {"conv2d", "keras_conv1", maker(Conv2D(32, 3, relu)), image, 64, Backward::NoDx, by_flops},
        {"maxpool", "keras_pool1", maker(MaxPool2D(2)), Shape{32, 26, 26}, 64, Backward::WithDx, max_pool},
        {"conv2d", "keras_conv2", maker(Conv2D(64, 3, relu)), Shape{32, 13, 13}, 64, Backward::WithDx, by_flops},
        {"maxpool", "keras_pool2", maker(MaxPool2D(2)), Shape{64, 11, 11}, 64, Backward::WithDx, max_pool},
        {"flatten", "keras_flatten", maker(Flatten()), Shape{64, 5, 5}, 64, Backward::WithDx, copy},
        {"dense", "keras_d1", maker(Dense(128, relu)), Shape{1600}, 64, Backward::WithDx, by_flops},
        {"dense", "keras_d2", maker(Dense(10)), Shape{128}, 64, Backward::WithDx, by_flops},
        // deep CNN: 3 x [Conv2D(64, 3, same) - Activation(relu) - MaxPool(2)] - Flatten
        //           - Dense(64, relu) - Dense(32, relu) - Dense(10, softmax), batch 32
        {"conv2d", "deep_conv1", maker(Conv2D(64, 3, 1, same)), image, 32, Backward::NoDx, by_flops},
        {"activation", "deep_relu1", maker(Activation(relu)), Shape{64, 28, 28}, 32, Backward::WithDx, elementwise},
        {"maxpool", "deep_pool1", maker(MaxPool2D(2)), Shape{64, 28, 28}, 32, Backward::WithDx, max_pool},
        {"conv2d", "deep_conv2", maker(Conv2D(64, 3, 1, same)), Shape{64, 14, 14}, 32, Backward::WithDx, by_flops},
        {"activation", "deep_relu2", maker(Activation(relu)), Shape{64, 14, 14}, 32, Backward::WithDx, elementwise},
        {"maxpool", "deep_pool2", maker(MaxPool2D(2)), Shape{64, 14, 14}, 32, Backward::WithDx, max_pool},
        {"conv2d", "deep_conv3", maker(Conv2D(64, 3, 1, same)), Shape{64, 7, 7}, 32, Backward::WithDx, by_flops},
        {"activation", "deep_relu3", maker(Activation(relu)), Shape{64, 7, 7}, 32, Backward::WithDx, elementwise},
        {"maxpool", "deep_pool3", maker(MaxPool2D(2)), Shape{64, 7, 7}, 32, Backward::WithDx, max_pool},
        {"flatten", "deep_flatten", maker(Flatten()), Shape{64, 3, 3}, 32, Backward::WithDx, copy},
        {"dense", "deep_d1", maker(Dense(64, relu)), Shape{576}, 32, Backward::WithDx, by_flops},
        {"dense", "deep_d2", maker(Dense(32, relu)), Shape{64}, 32, Backward::WithDx, by_flops},
        {"dense", "deep_d3", maker(Dense(10, Activation::Softmax)), Shape{32}, 32, Backward::WithDx, by_flops, true},
        // best CNN: 3 x [Conv2D(32|64|128, 3, same, no bias) - MaxPool(2) - BatchNormalization
        //           - relu], the middle block led by Conv2D(64) - BatchNormalization - relu
        //           at 14 x 14 (best_bn2a), - Flatten - Dense(128) - BatchNormalization - ..., batch 128;
        //           on MNIST the three augmentation layers in front (forward only: nothing
        //           before them trains).
        {"batchnorm", "best_bn1", maker(BatchNormalization()), Shape{32, 14, 14}, 128, Backward::WithDx, batch_norm},
        {"batchnorm", "best_bn2a", maker(BatchNormalization()), Shape{64, 14, 14}, 128, Backward::WithDx, batch_norm},
        {"batchnorm", "best_bn2", maker(BatchNormalization()), Shape{64, 7, 7}, 128, Backward::WithDx, batch_norm},
        {"batchnorm", "best_bn3", maker(BatchNormalization()), Shape{128, 3, 3}, 128, Backward::WithDx, batch_norm},
        {"batchnorm", "best_bn4", maker(BatchNormalization()), Shape{128}, 128, Backward::WithDx, batch_norm},
        {"random_rotation", "best_rotation", maker(RandomRotation(0.03, "constant")), image, 128, Backward::None, copy},
        {"random_zoom", "best_zoom", maker(RandomZoom(0.1, std::nullopt, "constant")), image, 128, Backward::None,
         copy},
        {"random_translation", "best_translation", maker(RandomTranslation(0.1, 0.1, "constant")), image, 128,
         Backward::None, copy},
        // Layers no example uses, at the Keras CNN's pooling shapes, where they
        // would stand in for MaxPool2D or for pool2 + Flatten.
        {"avgpool", "keras_pool1", maker(AveragePooling2D(2)), Shape{32, 26, 26}, 64, Backward::WithDx, copy},
        {"avgpool", "keras_pool2", maker(AveragePooling2D(2)), Shape{64, 11, 11}, 64, Backward::WithDx, copy},
        {"gap", "keras_pool2", maker(GlobalAveragePooling2D()), Shape{64, 11, 11}, 64, Backward::WithDx, copy},
        // Activations as layers: a keras128-sized hidden layer (in cache) and
        // deep's first feature map (6.4 MB: memory-bound).
        {"activation", "relu_128", maker(Activation(relu)), Shape{128}, 32, Backward::WithDx, elementwise},
        {"activation", "sigmoid_128", maker(Activation(Activation::Sigmoid)), Shape{128}, 32, Backward::WithDx,
         elementwise},
        {"activation", "tanh_128", maker(Activation(Activation::Tanh)), Shape{128}, 32, Backward::WithDx, elementwise},
        {"activation", "sigmoid_64x28x28", maker(Activation(Activation::Sigmoid)), Shape{64, 28, 28}, 32,
         Backward::WithDx, elementwise},
        {"activation", "tanh_64x28x28", maker(Activation(Activation::Tanh)), Shape{64, 28, 28}, 32, Backward::WithDx,
         elementwise},
        // Softmax as a layer, backward through its Jacobian (no fused loss).
        {"softmax", "out10", maker(Softmax()), Shape{10}, 128, Backward::WithDx, elementwise},
        {"dropout", "rate0.5_128", maker(Dropout(0.5)), Shape{128}, 32, Backward::WithDx, dropout},
        // Larger shapes.
        {"dense", "large_4096", maker(Dense(4096, relu)), Shape{4096}, 256, Backward::WithDx, by_flops},
        {"conv2d", "large_64to128_32x32", maker(Conv2D(128, 3, 1, same, relu)), Shape{64, 32, 32}, 32, Backward::WithDx,
         by_flops},
        {"maxpool", "large_128x32x32", maker(MaxPool2D(2)), Shape{128, 32, 32}, 32, Backward::WithDx, max_pool},
        {"avgpool", "large_128x32x32", maker(AveragePooling2D(2)), Shape{128, 32, 32}, 32, Backward::WithDx, copy},
        {"gap", "large_128x32x32", maker(GlobalAveragePooling2D()), Shape{128, 32, 32}, 32, Backward::WithDx, copy},
        {"activation", "relu_4096", maker(Activation(relu)), Shape{4096}, 256, Backward::WithDx, elementwise},
        {"softmax", "large_4096", maker(Softmax()), Shape{4096}, 256, Backward::WithDx, elementwise},
        {"dropout", "rate0.5_4096", maker(Dropout(0.5)), Shape{4096}, 256, Backward::WithDx, dropout},
    };
}

// Flops of the layer's product for one forward pass: 2 * B * kernel size *
// output positions per filter (1 for Dense, OH*OW for Conv2D).
double forward_flops(const bench::LayerFixture& f) {
    const auto params = f.layer->params();
    if (params.empty()) return 0;
    const Shape& out = f.layer->output_shape();
    return 2.0 * double(f.x.rows()) * double(params[0]->value.size()) * double(out.size() / out[0]);
}

void set_traffic(benchmark::State& state, const LayerCase& c, const bench::LayerFixture& f, bool backward) {
    const Traffic& t = c.traffic;
    const Index floats =
        backward ? t.bwd_x * f.x.size() + t.bwd_y * f.y.size() : t.fwd_x * f.x.size() + t.fwd_y * f.y.size();
    if (floats > 0) state.SetBytesProcessed(state.iterations() * floats * Index(sizeof(float)));
    state.SetItemsProcessed(state.iterations() * c.batch);
}

bench::LayerFixture make_fixture(const LayerCase& c) {
    auto f = bench::make_layer(c.make(), c.sample, c.batch);
    f.layer->set_logit_gradient(c.logit_gradient);
    return f;
}

void BM_layer_forward(benchmark::State& state, const LayerCase& c) {
    auto f = make_fixture(c);
    bench::time_loop(state, forward_flops(f), [&] {
        f.layer->forward(f.x, f.y, Mode::Training);
        benchmark::DoNotOptimize(f.y.data());
    });
    set_traffic(state, c, f, false);
}

void BM_layer_backward(benchmark::State& state, const LayerCase& c) {
    auto f = make_fixture(c);
    f.layer->forward(f.x, f.y, Mode::Training);  // y, and Dropout's mask, as training leaves them
    Tensor<float>* dx = c.backward == Backward::WithDx ? &f.dx : nullptr;
    bench::time_loop(state, forward_flops(f) * (dx ? 2 : 1), [&] {
        f.layer->backward(f.x, f.y, f.dy, dx);
        benchmark::DoNotOptimize(f.dx.data());
    });
    set_traffic(state, c, f, true);
}

// ---- losses: (batch, 10) outputs, value and gradient as one training step asks for them ----

enum class Pred { Logits, Softmax, Sigmoid };
enum class Target { ClassIds, OneHot, Bits, Values };

struct LossCase {
    std::string name;
    std::function<LossPtr<float, Cpu>()> make;
    Pred pred;
    Target target;
    // Sequential's path for a softmax output layer: the value alone, then
    // dL/dlogits = (p - y) / B from logit_gradient().
    bool fused = false;
};

template <class Spec>
std::function<LossPtr<float, Cpu>()> loss_maker(Spec spec) {
    return [spec] { return spec.template make<float, Cpu>(); };
}

std::vector<LossCase> loss_cases() {
    return {
        {"sparse_cce_logits", loss_maker(SparseCategoricalCrossentropy(true)), Pred::Logits, Target::ClassIds},
        {"sparse_cce", loss_maker(SparseCategoricalCrossentropy()), Pred::Softmax, Target::ClassIds},
        {"sparse_cce_fused", loss_maker(SparseCategoricalCrossentropy()), Pred::Softmax, Target::ClassIds, true},
        {"cce_logits", loss_maker(CategoricalCrossentropy(true)), Pred::Logits, Target::OneHot},
        {"cce", loss_maker(CategoricalCrossentropy()), Pred::Softmax, Target::OneHot},
        {"cce_fused", loss_maker(CategoricalCrossentropy()), Pred::Softmax, Target::OneHot, true},
        {"bce_logits", loss_maker(BinaryCrossentropy(true)), Pred::Logits, Target::Bits},
        {"bce", loss_maker(BinaryCrossentropy()), Pred::Sigmoid, Target::Bits},
        {"mse", loss_maker(MeanSquaredError()), Pred::Logits, Target::Values},
    };
}

void BM_loss(benchmark::State& state, const LossCase& c, Index batch) {
    constexpr Index classes = 10;
    Rng rng(1);
    Tensor<float> pred(Shape{batch, classes}), grad(Shape{batch, classes});
    for (auto& v : pred) v = float(rng.uniform(-3, 3));
    if (c.pred == Pred::Softmax) Backend<Cpu>::activation_forward(ActivationKind::Softmax, pred.cview(), pred.view());
    if (c.pred == Pred::Sigmoid) Backend<Cpu>::activation_forward(ActivationKind::Sigmoid, pred.cview(), pred.view());
    Tensor<float> target(c.target == Target::ClassIds ? Shape{batch} : Shape{batch, classes}, 0.0f);
    for (Index r = 0; r < batch; ++r) {
        const auto label = Index(rng.next_u64() % classes);
        if (c.target == Target::ClassIds) target[r] = float(label);
        if (c.target == Target::OneHot) target[r * classes + label] = 1;
    }
    if (c.target == Target::Bits)
        for (auto& v : target) v = float(rng.next_u64() & 1);
    if (c.target == Target::Values)
        for (auto& v : target) v = float(rng.uniform(-1, 1));
    const auto loss = c.make();
    for (auto _ : state) {
        float value;
        if (c.fused) {
            value = loss->compute(pred, target, nullptr);
            loss->logit_gradient(pred, target, grad);
        } else {
            value = loss->compute(pred, target, &grad);
        }
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(grad.data());
    }
    state.SetItemsProcessed(state.iterations() * batch);
}

// ---- optimizer steps on a whole network's parameters, as Sequential calls them ----

struct Network {
    std::string name;
    std::function<void(Sequential<float>&)> add;
    Shape sample;
};

std::vector<Network> networks() {
    const Shape image{1, 28, 28};
    return {
        {"keras128", [](auto& m) { examples::add_mlp(m, "keras128"); }, image},
        {"dense512", [](auto& m) { examples::add_mlp(m, "dense512"); }, image},
        {"mlp300", [](auto& m) { examples::add_mlp(m, "mlp300"); }, image},
        {"keras_cnn", [](auto& m) { examples::add_cnn(m, "keras"); }, image},
        {"deep_cnn", [](auto& m) { examples::add_cnn(m, "deep"); }, image},
        {"large_4096", [](auto& m) { m.add(Dense(4096)); }, Shape{4096}},
    };
}

struct OptimizerCase {
    std::string name;
    std::function<OptimizerPtr<float, Cpu>()> make;
    int floats_touched;  // per parameter: reads of w, g and the slots, writes of w and the slots
};

template <class Spec>
std::function<OptimizerPtr<float, Cpu>()> optimizer_maker(Spec spec) {
    return [spec] { return spec.template make<float, Cpu>(); };
}

std::vector<OptimizerCase> optimizer_cases() {
    return {
        {"sgd", optimizer_maker(SGD(0.01)), 3},
        {"sgd_momentum", optimizer_maker(SGD(0.01, 0.9)), 5},
        {"adam", optimizer_maker(Adam()), 7},
        {"rmsprop", optimizer_maker(RMSprop()), 5},
    };
}

// A network built as fit() builds it, with random gradients in every Param.
struct BuiltNetwork {
    Sequential<float> model{"bench", 1};
    std::vector<Param<float, Cpu>*> params;
    Index count = 0;
    explicit BuiltNetwork(const Network& n) {
        n.add(model);
        model.build(n.sample);
        params = model.all_params();
        Rng rng(2);
        for (auto* p : params) {
            for (auto& g : p->grad) g = float(rng.uniform(-1e-2, 1e-2));
            count += p->value.size();
        }
    }
};

void BM_optimizer(benchmark::State& state, const OptimizerCase& c, const Network& n) {
    BuiltNetwork net(n);
    const auto optimizer = c.make();
    optimizer->build(net.params);
    for (auto _ : state) {
        optimizer->step(net.params);
        benchmark::DoNotOptimize(net.params.front()->value.data());
    }
    state.SetItemsProcessed(state.iterations() * net.count);
    state.SetBytesProcessed(state.iterations() * net.count * c.floats_touched * Index(sizeof(float)));
}

// Sequential::train_step zeroes every gradient before the forward pass.
void BM_zero_grad(benchmark::State& state, const Network& n) {
    BuiltNetwork net(n);
    for (auto _ : state) {
        for (auto* p : net.params) p->grad.set_zero();
        benchmark::DoNotOptimize(net.params.front()->grad.data());
    }
    state.SetItemsProcessed(state.iterations() * net.count);
    state.SetBytesProcessed(state.iterations() * net.count * Index(sizeof(float)));
}

// The peak every of_peak counter divides by, measured before any kernel.
void BM_sgemm_peak_best(benchmark::State& state) {
    const double peak = bench::sgemm_peak_gflops();
    for (auto _ : state) benchmark::DoNotOptimize(peak);
    state.counters["peak_GFLOP/s"] = peak;
}

void register_all() {
    benchmark::RegisterBenchmark("BM_sgemm_peak/best_of_0.5s", BM_sgemm_peak_best)->Iterations(1);
    // The mean over repeated runs, as bench_conv and bench_mlp_epoch report it.
    benchmark::RegisterBenchmark("BM_sgemm_peak/mean", bench::BM_sgemm_peak)
        ->Arg(1024)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    for (const auto& c : layer_cases()) {
        const std::string suffix = "/" + c.name + "/" + std::to_string(c.batch);
        benchmark::RegisterBenchmark(("BM_" + c.kind + "_forward" + suffix).c_str(),
                                     [c](benchmark::State& s) { BM_layer_forward(s, c); })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
        if (c.backward != Backward::None)
            benchmark::RegisterBenchmark(("BM_" + c.kind + "_backward" + suffix).c_str(),
                                         [c](benchmark::State& s) { BM_layer_backward(s, c); })
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
    }
    for (const auto& c : loss_cases())
        for (const Index batch : {32, 64, 128})
            benchmark::RegisterBenchmark(("BM_loss/" + c.name + "/" + std::to_string(batch)).c_str(),
                                         [c, batch](benchmark::State& s) { BM_loss(s, c, batch); })
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
    for (const auto& n : networks()) {
        for (const auto& c : optimizer_cases())
            benchmark::RegisterBenchmark(("BM_optimizer/" + c.name + "/" + n.name).c_str(),
                                         [c, n](benchmark::State& s) { BM_optimizer(s, c, n); })
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
        benchmark::RegisterBenchmark(("BM_zero_grad/" + n.name).c_str(),
                                     [n](benchmark::State& s) { BM_zero_grad(s, n); })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    return bench::run(argc, argv);
}
