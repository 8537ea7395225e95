// The device seam: a device that lamina does not know, declared after
// lamina's headers, runs every layer, loss, optimizer and metric through its
// own Backend<Device>, and Sequential moves data through the three transfer
// points only. The fake device keeps its memory on the host and forwards to
// Backend<Cpu>, counting the calls: training and predicting on it must give
// the CPU's results bit for bit, and every operation must have been reached
// through the fake backend (a layer that still did CPU arithmetic of its own
// would leave its operation uncounted).
#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace seam_test {
struct Fake {
    static constexpr const char* name = "fake";
};
std::map<std::string, long> calls;
}  // namespace seam_test

namespace lamina {

using seam_test::Fake;

// Host memory, device-typed views: nothing of Tensor<T, Cpu>'s Eigen access
// reaches code that takes a Tensor<T, Fake> through a view.
template <class T>
class Tensor<T, Fake> : public Tensor<T, Cpu> {
public:
    using Tensor<T, Cpu>::Tensor;
    using device_type = Fake;
    Tensor() = default;
    TensorView<T, Fake> view() noexcept { return {this->data(), this->shape()}; }
    TensorView<const T, Fake> view() const noexcept { return {this->data(), this->shape()}; }
    TensorView<const T, Fake> cview() const noexcept { return view(); }
};

template <>
struct Backend<Fake> {
    template <class T>
    using View = TensorView<T, Fake>;
    template <class T>
    using ConstView = TensorView<const T, Fake>;
    using Cpu_ = Backend<Cpu>;

    template <class T>
    static TensorView<T, Cpu> cpu(TensorView<T, Fake> v) {
        return {v.data(), v.shape()};
    }
    static void count(const char* op) { ++seam_test::calls[op]; }

    template <class T>
    static void upload(const T* host, Index n, T* dst) {
        count("upload");
        Cpu_::upload(host, n, dst);
    }
    template <class T>
    static void download(const T* src, Index n, T* host) {
        count("download");
        Cpu_::download(src, n, host);
    }
    template <class T>
    using Staged = Cpu_::Staged<T>;
    template <class T>
    static Staged<T> stage(const T* host, Index n) {
        count("stage");
        return Cpu_::stage(host, n);
    }
    template <class T>
    static void gather_rows(const T* host, Index cols, const Index* order, Index n, T* dst) {
        count("gather_rows");
        Cpu_::gather_rows(host, cols, order, n, dst);
    }
    template <class T>
    static void copy(ConstView<T> src, View<T> dst) {
        count("copy");
        Cpu_::copy(cpu(src), cpu(dst));
    }
    template <class T>
    static void gemm(bool ta, bool tb, Index m, Index n, Index k, T alpha, const T* a, const T* b, T beta, T* c) {
        count("gemm");
        Cpu_::gemm(ta, tb, m, n, k, alpha, a, b, beta, c);
    }
    template <class T>
    static void add_bias_rows(View<T> y, ConstView<T> b) {
        count("add_bias_rows");
        Cpu_::add_bias_rows(cpu(y), cpu(b));
    }
    template <class T>
    static void accumulate_column_sums(ConstView<T> dz, View<T> db) {
        count("accumulate_column_sums");
        Cpu_::accumulate_column_sums(cpu(dz), cpu(db));
    }
    template <class T>
    static void activation_forward(ActivationKind kind, ConstView<T> x, View<T> y) {
        count("activation_forward");
        Cpu_::activation_forward(kind, cpu(x), cpu(y));
    }
    template <class T>
    static void activation_backward(ActivationKind kind, ConstView<T> y, ConstView<T> dy, View<T> dz) {
        count("activation_backward");
        Cpu_::activation_backward(kind, cpu(y), cpu(dy), cpu(dz));
    }
    template <class T>
    using Conv2DWorkspace = Cpu_::Conv2DWorkspace<T>;
    template <class T>
    static void conv2d_reserve(Conv2DWorkspace<T>& ws, const Window2D& g, Index filters, Index batch) {
        count("conv2d_reserve");
        Cpu_::conv2d_reserve(ws, g, filters, batch);
    }
    template <class T>
    static void conv2d_forward(const Window2D& g, Index f, ActivationKind act, ConstView<T> x, ConstView<T> w,
                               const T* bias, View<T> y) {
        count("conv2d_forward");
        Cpu_::conv2d_forward(g, f, act, cpu(x), cpu(w), bias, cpu(y));
    }
    template <class T>
    static void conv2d_backward(const Window2D& g, Index f, ActivationKind act, Conv2DWorkspace<T>& ws, ConstView<T> x,
                                ConstView<T> y, ConstView<T> dy, ConstView<T> w, View<T> dw, T* db, T* dx) {
        count("conv2d_backward");
        Cpu_::conv2d_backward(g, f, act, ws, cpu(x), cpu(y), cpu(dy), cpu(w), cpu(dw), db, dx);
    }
    template <class T>
    static void pool2d_forward(PoolKind kind, const Window2D& g, ConstView<T> x, View<T> y) {
        count("pool2d_forward");
        Cpu_::pool2d_forward(kind, g, cpu(x), cpu(y));
    }
    template <class T>
    static void pool2d_backward(PoolKind kind, const Window2D& g, ConstView<T> x, ConstView<T> y, ConstView<T> dy,
                                View<T> dx) {
        count("pool2d_backward");
        Cpu_::pool2d_backward(kind, g, cpu(x), cpu(y), cpu(dy), cpu(dx));
    }
    template <class T>
    static void global_average_pool_forward(Index plane, ConstView<T> x, View<T> y) {
        count("global_average_pool_forward");
        Cpu_::global_average_pool_forward(plane, cpu(x), cpu(y));
    }
    template <class T>
    static void global_average_pool_backward(Index plane, ConstView<T> dy, View<T> dx) {
        count("global_average_pool_backward");
        Cpu_::global_average_pool_backward(plane, cpu(dy), cpu(dx));
    }
    template <class T>
    static void batch_norm_moments(ConstView<T> x, Index channels, T* mean, T* variance) {
        count("batch_norm_moments");
        Cpu_::batch_norm_moments(cpu(x), channels, mean, variance);
    }
    template <class T>
    static void batch_norm_forward(ConstView<T> x, Index channels, const T* mean, const T* variance, const T* gamma,
                                   const T* beta, T epsilon, View<T> y) {
        count("batch_norm_forward");
        Cpu_::batch_norm_forward(cpu(x), channels, mean, variance, gamma, beta, epsilon, cpu(y));
    }
    template <class T>
    static void batch_norm_backward(ConstView<T> x, ConstView<T> dy, Index channels, const T* mean, const T* variance,
                                    const T* gamma, T epsilon, bool batch_statistics, T* dgamma, T* dbeta, T* dx) {
        count("batch_norm_backward");
        Cpu_::batch_norm_backward(cpu(x), cpu(dy), channels, mean, variance, gamma, epsilon, batch_statistics, dgamma,
                                  dbeta, dx);
    }
    template <class T>
    static void batch_norm_update_moving(Index channels, const T* mean, const T* variance, double momentum,
                                         T* moving_mean, T* moving_variance) {
        count("batch_norm_update_moving");
        Cpu_::batch_norm_update_moving(channels, mean, variance, momentum, moving_mean, moving_variance);
    }
    template <class T>
    static void affine_warp(const Warp2D& g, ConstView<T> transforms, ConstView<T> x, View<T> y) {
        count("affine_warp");
        Cpu_::affine_warp(g, cpu(transforms), cpu(x), cpu(y));
    }
    template <class T>
    static void affine_warp_backward(const Warp2D& g, ConstView<T> transforms, ConstView<T> dy, View<T> dx) {
        count("affine_warp_backward");
        Cpu_::affine_warp_backward(g, cpu(transforms), cpu(dy), cpu(dx));
    }
    template <class T>
    static void dropout_forward(Rng& rng, double rate, ConstView<T> x, View<T> mask, View<T> y) {
        count("dropout_forward");
        Cpu_::dropout_forward(rng, rate, cpu(x), cpu(mask), cpu(y));
    }
    template <class T>
    static void multiply(ConstView<T> a, ConstView<T> b, View<T> out) {
        count("multiply");
        Cpu_::multiply(cpu(a), cpu(b), cpu(out));
    }
    template <class T>
    static void initialize(View<T> w, Initializer init, Index fan_in, Index fan_out, Rng& rng) {
        count("initialize");
        Cpu_::initialize(cpu(w), init, fan_in, fan_out, rng);
    }
    template <class T>
    static T sparse_softmax_cross_entropy(ConstView<T> logits, ConstView<T> labels, T* grad, double* total = nullptr,
                                          double smoothing = 0) {
        count("sparse_softmax_cross_entropy");
        return Cpu_::sparse_softmax_cross_entropy(cpu(logits), cpu(labels), grad, total, smoothing);
    }
    template <class T>
    static T softmax_cross_entropy(ConstView<T> logits, ConstView<T> target, T* grad, double* total = nullptr,
                                   double smoothing = 0) {
        count("softmax_cross_entropy");
        return Cpu_::softmax_cross_entropy(cpu(logits), cpu(target), grad, total, smoothing);
    }
    template <class T>
    static T probability_cross_entropy(ConstView<T> p, const T* target, bool sparse, ConstView<T> labels, T* grad,
                                       double eps, double* total = nullptr, double smoothing = 0) {
        count("probability_cross_entropy");
        return Cpu_::probability_cross_entropy(cpu(p), target, sparse, cpu(labels), grad, eps, total, smoothing);
    }
    template <class T>
    static void softmax_logit_gradient(ConstView<T> p, const T* target, bool sparse, ConstView<T> labels, View<T> grad,
                                       double eps, double smoothing = 0) {
        count("softmax_logit_gradient");
        Cpu_::softmax_logit_gradient(cpu(p), target, sparse, cpu(labels), cpu(grad), eps, smoothing);
    }
    template <class T>
    static T binary_cross_entropy(ConstView<T> pred, ConstView<T> target, bool from_logits, T* grad, double eps,
                                  double* total = nullptr) {
        count("binary_cross_entropy");
        return Cpu_::binary_cross_entropy(cpu(pred), cpu(target), from_logits, grad, eps, total);
    }
    template <class T>
    static T mean_squared_error(ConstView<T> pred, ConstView<T> target, T* grad, double* total = nullptr) {
        count("mean_squared_error");
        return Cpu_::mean_squared_error(cpu(pred), cpu(target), grad, total);
    }
    template <class T>
    static void decay_weights(View<T> w, T rate) {
        count("decay_weights");
        Cpu_::decay_weights(cpu(w), rate);
    }
    template <class T>
    static void sgd_update(View<T> w, ConstView<T> g, T* m, T lr, T momentum, bool nesterov) {
        count("sgd_update");
        Cpu_::sgd_update(cpu(w), cpu(g), m, lr, momentum, nesterov);
    }
    template <class T>
    static void adam_update(View<T> w, ConstView<T> g, View<T> m, View<T> v, T* vhat, T alpha, T b1, T b2, T eps) {
        count("adam_update");
        Cpu_::adam_update(cpu(w), cpu(g), cpu(m), cpu(v), vhat, alpha, b1, b2, eps);
    }
    template <class T>
    static void rmsprop_update(View<T> w, ConstView<T> g, View<T> v, T* mg, T* mom, T lr, T rho, T one_minus_rho,
                               T momentum, T eps) {
        count("rmsprop_update");
        Cpu_::rmsprop_update(cpu(w), cpu(g), cpu(v), mg, mom, lr, rho, one_minus_rho, momentum, eps);
    }
    template <class T>
    static Index count_correct(AccuracyKind kind, ConstView<T> pred, ConstView<T> target, T threshold,
                               long long* total = nullptr) {
        count("count_correct");
        return Cpu_::count_correct(kind, cpu(pred), cpu(target), threshold, total);
    }
    // Counts its reads: each one is a wait on a real device.
    class RunningSums : public Cpu_::RunningSums {
    public:
        void read(double& loss, Index& correct) const {
            count("running_sums_read");
            Cpu_::RunningSums::read(loss, correct);
        }
    };
};

}  // namespace lamina

using namespace lamina;

namespace {

template <class Device, class Build>
std::pair<std::vector<Tensor<float>>, Tensor<float>> train(Build build, const Tensor<float>& x, const Tensor<int>& y) {
    Sequential<float, Device> model("seam", 7);
    build(model);
    FitOptions<float> options;
    options.epochs = 2;
    options.batch_size = 16;
    options.verbose = 0;
    options.validation_split = 0.25;
    model.fit(x, y, options);
    return {model.get_weights(), model.predict(x, 10)};
}

template <class Build>
void check_same_on_both(Build build, const Tensor<float>& x, const Tensor<int>& y,
                        const std::vector<std::string>& ops) {
    seam_test::calls.clear();
    const auto on_fake = train<Fake>(build, x, y);
    const auto fake_calls = seam_test::calls;
    const auto on_cpu = train<Cpu>(build, x, y);
    REQUIRE(on_fake.first.size() == on_cpu.first.size());
    for (std::size_t i = 0; i < on_cpu.first.size(); ++i) {
        REQUIRE(on_fake.first[i].shape() == on_cpu.first[i].shape());
        CHECK(std::memcmp(on_fake.first[i].data(), on_cpu.first[i].data(),
                          sizeof(float) * std::size_t(on_cpu.first[i].size())) == 0);
    }
    REQUIRE(on_fake.second.shape() == on_cpu.second.shape());
    CHECK(std::memcmp(on_fake.second.data(), on_cpu.second.data(), sizeof(float) * std::size_t(on_cpu.second.size())) ==
          0);
    for (const auto& op : ops) {
        CAPTURE(op);
        CHECK(fake_calls.count(op) == 1);
    }
}

}  // namespace

TEST_CASE("A device declared after lamina's headers runs a CNN through its own backend, bit for bit as the CPU",
          "[seam]") {
    Rng rng(3);
    Tensor<float> x(Shape{48, 1, 8, 8});
    Tensor<int> y(Shape{48});
    for (Index i = 0; i < 48; ++i) {
        y[i] = int(i % 3);
        for (Index j = 0; j < 64; ++j) x[i * 64 + j] = float(rng.uniform(0, 1)) + (j % 3 == y[i] ? 0.5f : 0.0f);
    }
    check_same_on_both(
        [](auto& m) {
            m.add(Conv2D(4, 3, "same", "relu"));
            m.add(MaxPooling2D(2));
            m.add(Conv2D(4, 3, Activation::Tanh));
            m.add(AveragePooling2D(1));
            m.add(Dropout(0.25));
            m.add(Flatten());
            m.add(Dense(8, "sigmoid"));
            m.add(Dense(3, "softmax"));
            m.compile(Adam(0.01), SparseCategoricalCrossentropy(), {metrics::accuracy});
        },
        x, y,
        {"upload",
         "download",
         "stage",
         "gather_rows",
         "copy",
         "gemm",
         "add_bias_rows",
         "accumulate_column_sums",
         "activation_forward",
         "activation_backward",
         "conv2d_reserve",
         "conv2d_forward",
         "conv2d_backward",
         "pool2d_forward",
         "pool2d_backward",
         "dropout_forward",
         "multiply",
         "initialize",
         "probability_cross_entropy",
         "softmax_logit_gradient",
         "adam_update",
         "count_correct"});
    check_same_on_both(
        [](auto& m) {
            m.add(Conv2D(3, 3, Activation::ReLU));
            m.add(GlobalAveragePooling2D());
            m.add(Dense(3));
            m.add(Softmax());
            m.compile(RMSprop(0.01, 0.9, 0.5, 1e-7, true), SparseCategoricalCrossentropy(), {metrics::accuracy});
        },
        x, y, {"global_average_pool_forward", "global_average_pool_backward", "rmsprop_update"});
    check_same_on_both(
        [](auto& m) {
            m.add(Flatten());
            m.add(Dense(3, "softmax"));
            m.compile(AdamW(0.01, 0.05), SparseCategoricalCrossentropy(), {metrics::accuracy});
        },
        x, y, {"decay_weights"});
    check_same_on_both(
        [](auto& m) {
            m.add(Conv2D(3, 3));
            m.add(BatchNormalization(0.9));
            m.add(Activation("relu"));
            m.add(Flatten());
            m.add(Dense(3, "softmax"));
            m.compile(Adam(0.01), SparseCategoricalCrossentropy(), {metrics::accuracy});
        },
        x, y, {"batch_norm_moments", "batch_norm_forward", "batch_norm_backward", "batch_norm_update_moving"});
    check_same_on_both(
        [](auto& m) {
            m.add(RandomRotation(0.1, "constant"));
            m.add(Conv2D(3, 3));
            m.add(RandomTranslation(0.1, 0.1));  // after a layer with weights: its backward runs
            m.add(Flatten());
            m.add(Dense(3, "softmax"));
            m.compile(Adam(0.01), SparseCategoricalCrossentropy(), {metrics::accuracy});
        },
        x, y, {"affine_warp", "affine_warp_backward"});
}

TEST_CASE("The fake device's losses and optimizers: every one reaches its backend", "[seam]") {
    Rng rng(5);
    Tensor<float> x(Shape{40, 6});
    Tensor<int> y(Shape{40});
    for (Index i = 0; i < 40; ++i) {
        y[i] = int(i % 2);
        for (Index j = 0; j < 6; ++j) x[i * 6 + j] = float(rng.normal(y[i] ? 1 : -1, 1));
    }
    check_same_on_both(
        [](auto& m) {
            m.add(Dense(5, "tanh"));
            m.add(Dense(2));
            m.compile(SGD(0.05, 0.9, true), SparseCategoricalCrossentropy(true), {metrics::accuracy});
        },
        x, y, {"sparse_softmax_cross_entropy", "sgd_update"});
    const auto onehot = datasets::to_categorical<float>(y, 2);
    auto train_dense = [&](auto loss, const std::string& op) {
        seam_test::calls.clear();
        Sequential<float, Fake> fake("seam", 1);
        Sequential<float, Cpu> cpu("seam", 1);
        auto setup = [&](auto& m) {
            m.add(Dense(2));
            m.compile("sgd", loss, {metrics::accuracy});
        };
        setup(fake);
        setup(cpu);
        FitOptions<float> o;
        o.verbose = 0;
        o.batch_size = 8;
        fake.fit(x, onehot, o);
        cpu.fit(x, onehot, o);
        CAPTURE(op);
        CHECK(seam_test::calls.count(op) == 1);
        CHECK(fake.evaluate(x, onehot).loss == cpu.evaluate(x, onehot).loss);
    };
    train_dense(CategoricalCrossentropy(true), "softmax_cross_entropy");
    train_dense(BinaryCrossentropy(true), "binary_cross_entropy");
    train_dense(MeanSquaredError(), "mean_squared_error");
}

TEST_CASE("fit reads its running loss and accuracy from the device only when something shows them", "[seam]") {
    Rng rng(6);
    Tensor<float> x(Shape{64, 4});
    Tensor<int> y(Shape{64});
    for (Index i = 0; i < 64; ++i) {
        y[i] = int(i % 2);
        for (Index j = 0; j < 4; ++j) x[i * 4 + j] = float(rng.normal(y[i] ? 1 : -1, 1));
    }
    auto reads = [&](int verbose, bool callback) {
        seam_test::calls.clear();
        Sequential<float, Fake> m("seam", 2);
        m.add(Dense(2, "softmax"));
        m.compile("adam", "sparse_categorical_crossentropy", {metrics::accuracy});
        FitOptions<float> o;
        o.epochs = 3;
        o.batch_size = 8;  // 8 steps an epoch
        o.verbose = verbose;
        if (callback) o.callbacks.push_back(std::make_shared<TerminateOnNaN>());
        std::ostringstream silence;
        auto* old = std::cout.rdbuf(silence.rdbuf());
        const auto h = m.fit(x, y, o);
        std::cout.rdbuf(old);
        // What was read is what was computed: the history matches the CPU's.
        Sequential<float, Cpu> c("seam", 2);
        c.add(Dense(2, "softmax"));
        c.compile("adam", "sparse_categorical_crossentropy", {metrics::accuracy});
        const auto hc = c.fit(x, y, o);
        CHECK(h.history.at("loss") == hc.history.at("loss"));
        CHECK(h.history.at("accuracy") == hc.history.at("accuracy"));
        return seam_test::calls["running_sums_read"];
    };
    CHECK(reads(0, false) == 3);         // once per epoch, for its logs
    CHECK(reads(2, false) == 3);         // one line per epoch: the same
    CHECK(reads(0, true) == 3 * 8 + 3);  // batch callbacks get the values after every step
}
