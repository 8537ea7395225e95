// lamina/model/sequential.hpp: Keras's Sequential model.
//
// Contract:
//   add(layer spec)           appends a layer; names default to Keras's ("dense", "dense_1").
//   build(sample shape)       optional; otherwise the first fit/predict builds from x.
//                             Shape errors name the layer.
//   compile(opt, loss, {metrics})  optimizer and loss as objects or Keras strings.
//   fit(x, y, options)        x (N, ...) host tensor; y (N,) class ids (int or T) or
//                             (N, K) targets. Buffers are sized for batch_size once,
//                             so a steady-state step does no heap allocation.
//   evaluate / predict        const, with their own buffers: safe from many threads.
//                             They run the inference plan (inference_plan.hpp): a
//                             BatchNormalization after a Dense or Conv2D without
//                             activation is folded into that layer's weights.
// fit, evaluate and predict flush denormal floats to zero while they run
// (core/denormals.hpp), as TensorFlow does.
// All arguments are validated before any training: errors are lamina::Error.
#pragma once

#include <algorithm>
#include <any>
#include <cctype>
#include <cmath>
#include <exception>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "lamina/backend/backend.hpp"
#include "lamina/core/denormals.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/core/threads.hpp"
#include "lamina/distributed/communicator.hpp"
#include "lamina/distributed/data_parallel.hpp"
#include "lamina/io/model_file.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/losses/make_loss.hpp"
#include "lamina/model/build_state.hpp"
#include "lamina/model/callback.hpp"
#include "lamina/model/history.hpp"
#include "lamina/model/inference_plan.hpp"
#include "lamina/model/metrics.hpp"
#include "lamina/model/progress.hpp"
#include "lamina/model/summary.hpp"
#include "lamina/optimizers/make_optimizer.hpp"

namespace lamina {

template <class T, class Device>
class Sequential;
namespace detail {
template <class T, class Device>
struct SequentialFile;  // model files: sequential_file.hpp, included at the end
}  // namespace detail

// Training targets: a T tensor is used in place; integer labels (as
// datasets::load_mnist returns) are converted to T once.
template <class T>
class Targets {
public:
    Targets(const Tensor<T>& y) : ref_(&y) {}
    template <class I, class = std::enable_if_t<std::is_integral_v<I>>>
    Targets(const Tensor<I>& y) : owned_(y.template cast<T>()), ref_(&*owned_) {}
    Targets(const Targets& o) : owned_(o.owned_), ref_(o.owned_ ? &*owned_ : o.ref_) {}
    Targets& operator=(const Targets&) = delete;
    const Tensor<T>& get() const noexcept { return *ref_; }

private:
    std::optional<Tensor<T>> owned_;
    const Tensor<T>* ref_;
};

// Held by value: the model reads it only during fit().
template <class T>
struct ValidationData {
    Tensor<T> x;
    Tensor<T> y;
    ValidationData(const Tensor<T>& x_, Targets<T> y_) : x(x_), y(y_.get()) {}
};

// Keras's fit() keyword arguments. An aggregate: C++20 code can write
// fit(x, y, {.epochs = 5, .batch_size = 32}).
template <class T = float>
struct FitOptions {
    int epochs = 1;
    Index batch_size = 32;
    bool shuffle = true;
    double validation_split = 0.0;                     // the last fraction of x/y, taken before shuffling
    std::optional<ValidationData<T>> validation_data;  // overrides validation_split
    int verbose = 1;                                   // 0 silent, 1 progress bar, 2 one line per epoch
    int initial_epoch = 0;
    std::optional<std::uint64_t>
        seed;  // reseeds the shuffle order (Dropout masks come from the seed the model was built with)
    std::vector<CallbackHandle> callbacks;
    // Data-parallel training over these processes (docs/distributed.md):
    // every rank passes the same data and options; each trains on its share
    // of every batch, rank 0 alone prints and runs the callbacks, and every
    // rank ends with the same weights. nullptr: this process alone.
    distributed::Communicator* distributed = nullptr;
};

// evaluate()'s result: auto [loss, accuracy] = model.evaluate(x, y);
struct Evaluation {
    double loss = 0;
    std::map<std::string, double> metrics;
    double accuracy() const {
        auto it = metrics.find("accuracy");
        if (it == metrics.end())
            throw ConfigError(ErrorId::config_state, "evaluate: the model was compiled without the accuracy metric");
        return it->second;
    }
    template <std::size_t I>
    double get() const {
        static_assert(I < 2, "Evaluation unpacks as auto [loss, accuracy]");
        if constexpr (I == 0) return loss;
        else return accuracy();
    }
};

template <class T = float, class Device = Cpu>
class Sequential : public TrainingControl {
    static_assert(std::is_floating_point_v<T>, "Sequential<T>: T must be float or double");

public:
    using TensorType = Tensor<T, Device>;
    using HostTensor = Tensor<T, Cpu>;
    using Options = FitOptions<T>;

    explicit Sequential(std::string name = "sequential", std::uint64_t seed = 0) : name_(std::move(name)), rng_(seed) {}

    // Seeds weight initialisation (at build), shuffling and dropout.
    void set_seed(std::uint64_t seed) { rng_.seed(seed); }

    template <class Spec, class = decltype(std::declval<const Spec&>().template make<T, Device>())>
    Sequential& add(const Spec& spec) {
        return add(spec.template make<T, Device>());
    }
    Sequential& add(LayerPtr<T, Device> layer) {
        if (!layer) throw ConfigError(ErrorId::config_argument, "Sequential::add: null layer");
        if (built())
            throw ConfigError(ErrorId::config_state, "Sequential::add: the model is already built; add layers first");
        if (layer->name().empty()) layer->set_name(unique_name(snake_case(layer->type())));
        for (const auto& l : layers_)
            if (l->name() == layer->name())
                throw ConfigError(ErrorId::config_argument,
                                  "Sequential::add: a layer named '" + layer->name() + "' already exists");
        layers_.push_back(std::move(layer));
        return *this;
    }

    // Builds every layer for samples of `sample_shape` (no batch dimension),
    // e.g. Shape{1, 28, 28}.
    void build(const Shape& sample_shape) {
        if (layers_.empty()) throw ConfigError(ErrorId::config_state, "Sequential::build: the model has no layers");
        if (sample_shape.rank() < 1 || sample_shape.size_up_to(Index(1) << 40) <= 0)
            throw ShapeError(ErrorId::shape_rank, "Sequential::build: invalid input shape " + sample_shape.keras_str() +
                                                      " (needs 1 to 2^40 elements)");
        Shape s = sample_shape;
        for (auto& l : layers_) s = build_layer(*l, s);
        input_shape_ = sample_shape;
        plan_.invalidate();
        if (optimizer_) optimizer_->build(all_params());
        configure_logit_gradient();
        build_state_.set();
    }
    bool built() const noexcept { return build_state_.built(); }

    template <class Opt, class L>
    void compile(const Opt& optimizer, const L& loss, std::vector<Metric> metrics = {}) {
        optimizer_ = to_optimizer(optimizer);
        loss_ = to_loss(loss);
        metric_names_.clear();
        for (const auto& m : metrics) metric_names_.push_back(m.name);
        if (built()) {
            optimizer_->build(all_params());
            configure_logit_gradient();
        }
    }
    bool compiled() const noexcept { return optimizer_ && loss_; }

    History fit(const HostTensor& x, Targets<T> y_targets, const Options& options = {}) {
        const HostTensor& y = y_targets.get();
        distributed::Communicator* const comm = options.distributed;
        const bool primary = !comm || comm->primary();
        if (primary) warn_once_if_unoptimized(std::cerr);
        const FlushDenormals flush;

        Index n_train = x.rows();
        const HostTensor* vx = nullptr;
        const HostTensor* vy = nullptr;
        HostTensor split_x, split_y;
        // A rank whose arguments fail tells the others, which would otherwise
        // wait for it in the first collective.
        std::exception_ptr setup_error;
        try {
            require_compiled("fit");
            check_fit_options(options);
            check_data("fit", x, y);
            prepare_validation(x, y, options, n_train, vx, vy, split_x, split_y);
        } catch (...) {
            if (!comm) throw;
            setup_error = std::current_exception();
        }
        if (comm) distributed::detail::agree(*comm, setup_error, "fit");

        if (options.seed) rng_.seed(*options.seed);
        const Index batch_size = std::min(options.batch_size, n_train);
        reserve(batch_size, x.shape(), y.shape());
        const bool sync_callbacks =
            comm && start_distributed(*comm, x, y, n_train, vx ? vx->rows() : 0, batch_size, options);
        // The layers hold the communicator for this fit only, however it ends.
        struct CommunicatorScope {
            std::vector<LayerPtr<T, Device>>& layers;
            ~CommunicatorScope() {
                for (auto& l : layers) l->set_communicator(nullptr);
            }
        } communicator_scope{layers_};
        for (auto& l : layers_) l->set_communicator(comm);
        const int verbose = primary ? options.verbose : 0;
        // Callbacks run on rank 0 only; what they change that training
        // reads (stop, learning rate, weights at the end) reaches the others
        // through sync_control.
        const std::vector<CallbackHandle> no_callbacks;
        const std::vector<CallbackHandle>& callbacks = primary ? options.callbacks : no_callbacks;
        auto run_callbacks = [&](auto&& call) {
            if (!sync_callbacks) {
                for (auto& cb : callbacks) call(cb);
                return;
            }
            std::exception_ptr error;
            try {
                for (auto& cb : callbacks) call(cb);
            } catch (...) {
                error = std::current_exception();
            }
            sync_control(*comm, error);
        };

        std::vector<Index> order(static_cast<std::size_t>(n_train));
        const Index steps = (n_train + batch_size - 1) / batch_size;
        // The training rows move to the device once per fit (on the CPU:
        // nothing moves); batches are gathered there.
        const auto staged_x = Backend<Device>::stage(x.data(), n_train * x.cols());
        const auto staged_y = Backend<Device>::stage(y.data(), n_train * y.cols());
        // The epoch's loss total and correct count stay where the device
        // computes them; they are read only when shown or handed out.
        typename Backend<Device>::RunningSums sums;

        History history;
        history.params = {options.epochs, steps, verbose};
        stop_ = false;
        const bool terminal = stdout_is_terminal();
        run_callbacks([&](auto& cb) { cb->on_train_begin(*this, {}); });

        for (int epoch = options.initial_epoch; epoch < options.epochs && !stop_; ++epoch) {
            if (verbose > 0) std::cout << "Epoch " << epoch + 1 << "/" << options.epochs << "\n" << std::flush;
            run_callbacks([&](auto& cb) { cb->on_epoch_begin(*this, epoch, {}); });
            // A fresh permutation each epoch depends only on the generator's
            // state, which model files save: resumed training reshuffles exactly.
            std::iota(order.begin(), order.end(), Index(0));
            if (options.shuffle) rng_.shuffle(order.begin(), order.end());
            if (comm) distributed::detail::reseed_generators(layers_, rng_, comm->rank());
            const auto staged_order = Backend<Device>::stage(order.data(), n_train);

            ProgressBar bar(steps, verbose, terminal, std::cout);
            ProgressBar::Values values;  // reused by every step: a step allocates nothing
            sums.reset();
            double loss_sum = 0;
            Index correct = 0, seen = 0, seen_elements = 0;
            Logs batch_logs;
            Index steps_done = 0;
            for (Index step = 0; step < steps; ++step) {
                const Index first = step * batch_size;
                const Index count = std::min(batch_size, n_train - first);
                // This rank's rows of the batch: all of them in one process.
                const auto mine = comm ? distributed::detail::share(count, comm->rank(), comm->size())
                                       : distributed::detail::Share{0, count};
                run_callbacks([&](auto& cb) { cb->on_train_batch_begin(*this, step, batch_logs); });
                if (mine.count > 0) {
                    gather_rows(staged_x.data(), x.shape(), staged_order.data() + first + mine.offset, mine.count,
                                acts_[0]);
                    gather_rows(staged_y.data(), y.shape(), staged_order.data() + first + mine.offset, mine.count,
                                batch_y_);
                }
                train_step(sums.loss(), comm, mine.count, count);
                seen += mine.count;
                if (has_accuracy() && mine.count > 0) {
                    count_batch_correct(acts_.back(), batch_y_, sums.correct());
                    seen_elements += accuracy_denominator(acts_.back());
                }
                steps_done = step + 1;
                const bool draw = bar.due(steps_done);
                if (draw || !callbacks.empty()) {
                    sums.read(loss_sum, correct);
                    set_running_values(values, loss_sum, seen, correct, seen_elements);
                }
                if (!callbacks.empty())
                    for (const auto& [k, v] : values) batch_logs[k] = v;  // same keys every step: no new nodes
                run_callbacks([&](auto& cb) { cb->on_train_batch_end(*this, step, batch_logs); });
                if (draw) bar.update(steps_done, values);
                if (stop_) break;
            }

            sums.read(loss_sum, correct);
            if (comm) finish_distributed_epoch(*comm, loss_sum, correct, seen, seen_elements);
            set_running_values(values, loss_sum, seen, correct, seen_elements);
            if (vx) {
                const Evaluation val = evaluate_impl(*vx, *vy, batch_size, comm);
                values.emplace_back("val_loss", val.loss);
                for (const auto& [k, v] : val.metrics) values.emplace_back("val_" + k, v);
            }
            bar.finish(values, steps_done);
            history.epoch.push_back(epoch);
            epochs_completed_ = epoch + 1;
            for (const auto& [k, v] : values) history.history[k].push_back(v);
            const Logs logs(values.begin(), values.end());
            run_callbacks([&](auto& cb) { cb->on_epoch_end(*this, epoch, logs); });
        }
        run_callbacks([&](auto& cb) { cb->on_train_end(*this, {}); });
        // EarlyStopping may have restored other weights on rank 0.
        if (sync_callbacks) broadcast_state(*comm, false);
        return history;
    }

    // With a communicator, every rank passes the same x and y, scores its
    // share of the rows, and every rank returns the whole set's results.
    Evaluation evaluate(const HostTensor& x, Targets<T> y, Index batch_size = 32,
                        distributed::Communicator* distributed = nullptr) const {
        std::exception_ptr error;
        try {
            require_compiled("evaluate");
            if (batch_size < 1)
                throw ConfigError(ErrorId::config_argument,
                                  "evaluate: batch_size must be >= 1, got " + std::to_string(batch_size));
            check_data("evaluate", x, y.get());
        } catch (...) {
            if (!distributed) throw;
            error = std::current_exception();
        }
        if (distributed) distributed::detail::agree(*distributed, error, "evaluate");
        const FlushDenormals flush;
        return evaluate_impl(x, y.get(), batch_size, distributed);
    }

    // Output of the last layer for every sample: (N, ...).
    HostTensor predict(const HostTensor& x, Index batch_size = 32) const {
        if (batch_size < 1)
            throw ConfigError(ErrorId::config_argument,
                              "predict: batch_size must be >= 1, got " + std::to_string(batch_size));
        build_once(x, "predict");
        check_input("predict", x);
        const FlushDenormals flush;
        HostTensor out(output_shape().with_batch(x.rows()));
        const auto plan = plan_.get(layers_);
        std::vector<TensorType> acts;
        TensorType batch;
        for (Index first = 0; first < x.rows(); first += batch_size) {
            const Index count = std::min(batch_size, x.rows() - first);
            upload_rows(x, first, count, batch);
            const TensorType& y = infer_batch(*plan, batch, acts);
            Backend<Device>::download(y.data(), y.size(), out.data() + first * out.cols());
        }
        return out;
    }

    void summary(std::ostream& out = std::cout) const { out << summary_string(); }
    std::string summary_string() const {
        if (!built())
            throw ConfigError(ErrorId::config_state,
                              "summary: the model '" + name_ +
                                  "' is not built yet; call build(Shape{...}) with the sample shape, or fit() first");
        std::vector<SummaryRow> rows;
        for (const auto& l : layers_) {
            Index trainable = 0;
            for (const auto* p : std::as_const(*l).params())
                if (p->trainable) trainable += p->value.size();
            rows.push_back({l->name(), l->type(), l->output_shape().keras_str(), l->count_params(), trainable});
        }
        return summary_table(name_, rows);
    }

    std::size_t size() const noexcept { return layers_.size(); }
    // Non-const access may change weights: predict's next plan is made afresh.
    // (A Layer& kept from before a predict and changed after it is not seen.)
    Layer<T, Device>& layer(std::size_t i) {
        plan_.invalidate();
        return *layers_.at(check_layer_index(i));
    }
    const Layer<T, Device>& layer(std::size_t i) const { return *layers_.at(check_layer_index(i)); }
    Layer<T, Device>& get_layer(const std::string& name) {
        plan_.invalidate();
        return const_cast<Layer<T, Device>&>(std::as_const(*this).get_layer(name));
    }
    const Layer<T, Device>& get_layer(const std::string& name) const {
        std::string known;
        for (const auto& l : layers_) {
            if (l->name() == name) return *l;
            known += (known.empty() ? "" : ", ") + l->name();
        }
        throw ConfigError(ErrorId::config_argument, "get_layer: no layer named '" + name + "' (layers: " + known + ")");
    }

    const Shape& input_shape() const { return input_shape_; }
    Shape output_shape() const {
        if (!built()) throw ConfigError(ErrorId::config_state, "output_shape: the model is not built yet");
        return layers_.back()->output_shape();
    }
    Index count_params() const {
        Index n = 0;
        for (const auto& l : layers_) n += l->count_params();
        return n;
    }

    // Every parameter array, layer by layer, kernel before bias, as Keras;
    // none before the model is built.
    std::vector<HostTensor> get_weights() const {
        std::vector<HostTensor> w;
        if (!built()) return w;
        for (const auto& l : layers_)
            for (const auto* p : std::as_const(*l).params()) w.push_back(to_host(p->value));
        return w;
    }
    void set_weights(const std::vector<HostTensor>& weights) {
        if (!built())
            throw ConfigError(ErrorId::config_state, "set_weights: the model '" + name_ +
                                                         "' is not built yet, so it has no weights to set; call "
                                                         "build(Shape{...}) with the sample shape first");
        auto params = all_params();
        if (weights.size() != params.size())
            throw ShapeError(ErrorId::shape_weights, "set_weights: the model has " + std::to_string(params.size()) +
                                                         " weight arrays, got " + std::to_string(weights.size()));
        for (std::size_t i = 0; i < params.size(); ++i)
            if (weights[i].shape() != params[i]->value.shape())
                throw ShapeError(ErrorId::shape_weights,
                                 "set_weights: array " + std::to_string(i) + " (" + params[i]->name + ") must be " +
                                     params[i]->value.shape().str() + ", got " + weights[i].shape().str());
        for (std::size_t i = 0; i < params.size(); ++i) from_host(weights[i], params[i]->value);
        plan_.invalidate();
    }

    std::vector<Param<T, Device>*> all_params() {
        plan_.invalidate();
        std::vector<Param<T, Device>*> ps;
        for (auto& l : layers_)
            for (auto* p : l->params()) ps.push_back(p);
        return ps;
    }

    Optimizer<T, Device>& optimizer() {
        require_compiled("optimizer");
        return *optimizer_;
    }
    const Loss<T, Device>& loss() const {
        require_compiled("loss");
        return *loss_;
    }
    const std::string& name() const noexcept { return name_; }

    // TrainingControl, for callbacks.
    void stop_training() override { stop_ = true; }
    bool stop_requested() const override { return stop_; }
    double learning_rate() const override {
        require_compiled("learning_rate");
        return optimizer_->learning_rate();
    }
    void set_learning_rate(double lr) override {
        require_compiled("set_learning_rate");
        optimizer_->set_learning_rate(lr);
    }
    std::any weights_snapshot() const override { return get_weights(); }
    void restore_weights(const std::any& snapshot) override {
        set_weights(std::any_cast<const std::vector<HostTensor>&>(snapshot));
    }
    void save_model(const std::string& path, bool weights_only) const override {
        if (weights_only) save_weights(path);
        else save(path);
    }

    // ---- model files (docs/file-format.md) ----
    // Architecture, weights, compile settings, and with include_optimizer the
    // optimizer's state and the training state (epochs done, generators), so
    // that load() + fit(initial_epoch = epochs_completed()) continues exactly.
    // Atomic: a crash during save leaves the previous file at `path` intact.
    void save(const std::string& path, bool include_optimizer = true) const {
        require_built("save");
        detail::SequentialFile<T, Device>::save(*this, path, io::ModelFileKind::Model, include_optimizer);
    }
    void save_weights(const std::string& path) const {
        require_built("save_weights");
        detail::SequentialFile<T, Device>::save(*this, path, io::ModelFileKind::Weights, false);
    }
    // A model saved with save(), as Sequential<T, Device>: a float file loads
    // as double and the reverse. Compiled when the file was.
    static Sequential load(const std::string& path) {
        const std::string context = "model file '" + path + "'";
        const auto bytes = io::read_model_file_bytes(path, context);
        return detail::SequentialFile<T, Device>::load(bytes.data(), bytes.size(), context);
    }
    // load() from bytes already in memory (an embedded model, a network
    // buffer); `context` names them in error messages.
    static Sequential load_from_memory(const std::uint8_t* data, std::size_t size,
                                       const std::string& context = "model in memory") {
        return detail::SequentialFile<T, Device>::load(data, size, context);
    }
    // Weights from a file written by save() or save_weights() of a model
    // with the same layers (types, configs, order; names may differ).
    // All-or-nothing: on any error the weights are unchanged.
    void load_weights(const std::string& path) { detail::SequentialFile<T, Device>::load_weights(*this, path); }

    // This model on another device: model.to<Cuda>(), model.to<Cpu>(). A copy
    // of everything save() keeps (layers, weights, compile settings, optimizer
    // state, generators), so fit and predict continue as they would here.
    template <class Other>
    Sequential<T, Other> to() const {
        return detail::SequentialFile<T, Device>::template convert<Other>(*this);
    }
    // Epochs fit() has finished over this model's life, saved and loaded with it.
    int epochs_completed() const noexcept { return epochs_completed_; }

private:
    friend struct detail::SequentialFile<T, Device>;

    void require_built(const char* what) const {
        if (!built())
            throw ConfigError(ErrorId::config_state, std::string(what) + ": the model '" + name_ +
                                                         "' is not built yet; call build(Shape{...}) or fit() first");
    }

    // Keras takes the validation split from the end, before shuffling.
    void prepare_validation(const HostTensor& x, const HostTensor& y, const Options& options, Index& n_train,
                            const HostTensor*& vx, const HostTensor*& vy, HostTensor& split_x, HostTensor& split_y) {
        if (options.validation_data) {
            vx = &options.validation_data->x;
            vy = &options.validation_data->y;
            check_data("fit (validation_data)", *vx, *vy);
        } else if (options.validation_split > 0) {
            n_train = static_cast<Index>(std::floor(double(x.rows()) * (1.0 - options.validation_split)));
            if (n_train < 1 || n_train == x.rows())
                throw ConfigError(ErrorId::config_argument,
                                  "fit: validation_split " + std::to_string(options.validation_split) + " of " +
                                      std::to_string(x.rows()) + " samples leaves an empty training or validation set");
            split_x = x.slice_rows(n_train, x.rows() - n_train);
            split_y = y.slice_rows(n_train, y.rows() - n_train);
            vx = &split_x;
            vy = &split_y;
        }
    }

    // ---- one training step on acts_[0]/batch_y_; adds the batch loss x rows to *loss_total ----
    // With a communicator this rank holds `rows` of the batch's `batch_rows`
    // (maybe none) and the step ends with the whole batch's gradient.
    void train_step(double* loss_total, distributed::Communicator* comm = nullptr, Index rows = 1,
                    Index batch_rows = 1) {
        find_first_trainable();
        for (auto* p : params_cache_) p->grad.set_zero();
        if (comm) buckets_.begin_step(T(double(rows) / double(batch_rows)));
        std::exception_ptr error;
        try {
            if (rows > 0) forward_backward(loss_total, comm);
            else if (comm) join_step(*comm);
        } catch (...) {
            if (!comm) throw;
            error = std::current_exception();  // the others still wait for this rank's gradients
        }
        if (comm) {
            const long long failures = buckets_.finish(*comm, error != nullptr);
            distributed::detail::stop_if_any_failed(error, failures, comm->size(), "fit", " in a training step");
        }
        optimizer_->step(params_cache_);
        plan_.invalidate();  // the weights and BatchNormalization's moving statistics moved
    }
    // A rank without rows in this batch: each layer joins the exchanges its
    // forward and backward would make, and the gradient buckets start in the
    // order backward would start them, so the collectives pair up.
    void join_step(distributed::Communicator& comm) {
        for (auto& l : layers_) l->join_forward();
        for (std::size_t i = layers_.size(); i-- > first_trainable_;) {
            layers_[i]->join_backward(i > first_trainable_);
            buckets_.layer_done(i, comm);
        }
    }
    void forward_backward(double* loss_total, distributed::Communicator* comm) {
        const Index batch = acts_[0].rows();
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            acts_[i + 1].resize(layers_[i]->output_shape().with_batch(batch));
            layers_[i]->forward(acts_[i], acts_[i + 1], Mode::Training);
        }
        TensorType& pred = acts_.back();
        TensorType& dpred = grads_.back();
        dpred.resize(pred.shape());
        if (logit_gradient_) {
            loss_->accumulate(pred, batch_y_, nullptr, loss_total);
            loss_->logit_gradient(pred, batch_y_, dpred);
        } else {
            loss_->accumulate(pred, batch_y_, &dpred, loss_total);
        }
        // Layers before the first one with trainable parameters need no backward pass at
        // all, and the first one needs no dx.
        for (std::size_t i = layers_.size(); i-- > first_trainable_;) {
            TensorType* dx = nullptr;
            if (i > first_trainable_) {
                grads_[i].resize(acts_[i].shape());
                dx = &grads_[i];
            }
            layers_[i]->backward(acts_[i], acts_[i + 1], grads_[i + 1], dx);
            if (comm) buckets_.layer_done(i, *comm);
        }
    }

    // ---- data-parallel training (distributed/data_parallel.hpp) ----
    // Checks that every rank has the same model, data sizes and options,
    // then gives every rank rank 0's weights, optimizer state and
    // generator. Returns whether rank 0 has callbacks to run, which the
    // others then follow step by step.
    bool start_distributed(distributed::Communicator& comm, const HostTensor& x, const HostTensor& y, Index n_train,
                           Index n_validation, Index batch_size, const Options& options) {
        // The architecture as a hash of every parameter array's size and
        // flag: ranks that disagree would exchange buffers of other sizes.
        std::uint64_t arch = 1469598103934665603ULL;
        for (const auto* p : params_cache_)
            for (const auto v : {std::uint64_t(p->value.size()), std::uint64_t(p->trainable)})
                arch = (arch ^ v) * 1099511628211ULL;
        const char* names[] = {"training rows",
                               "validation rows",
                               "values per sample in x",
                               "values per sample in y",
                               "batch_size",
                               "epochs",
                               "initial_epoch",
                               "shuffle",
                               "parameter arrays and sizes (low bits)",
                               "parameter arrays and sizes (high bits)"};
        double mine[] = {double(n_train),
                         double(n_validation),
                         double(x.cols()),
                         double(y.cols()),
                         double(batch_size),
                         double(options.epochs),
                         double(options.initial_epoch),
                         double(options.shuffle),
                         double(arch & 0xffffffffu),
                         double(arch >> 32),
                         double(!options.callbacks.empty())};
        double root[std::size(mine)];
        std::copy(std::begin(mine), std::end(mine), root);
        comm.broadcast(root, sizeof root, 0);
        std::string differences;
        for (std::size_t i = 0; i + 1 < std::size(mine); ++i)
            if (mine[i] != root[i])
                differences += std::string(differences.empty() ? "" : "; ") + names[i] + " " + config_number(mine[i]) +
                               " here, " + config_number(root[i]) + " on rank 0";
        std::exception_ptr error;
        if (!differences.empty())
            error = std::make_exception_ptr(DistributedError(
                ErrorId::distributed_mismatch, "fit: rank " + std::to_string(comm.rank()) +
                                                   " disagrees with rank 0 (every rank must pass the same model, "
                                                   "data sizes and options): " +
                                                   differences));
        distributed::detail::agree(comm, error, "fit");
        broadcast_state(comm, true);
        buckets_.plan(params_cache_, layer_params_, comm.bucket_bytes());
        return root[std::size(mine) - 1] != 0;
    }
    // Rank 0's parameters (BatchNormalization's moving statistics too) to
    // every rank; with `everything`, also the optimizer's slots and step
    // count and the model's generator.
    void broadcast_state(distributed::Communicator& comm, bool everything) {
        std::vector<T> host;
        for (auto* p : params_cache_) {
            distributed::detail::broadcast_tensor(comm, p->value, host);
            if (everything)
                for (auto& slot : p->slots) distributed::detail::broadcast_tensor(comm, slot, host);
        }
        if (everything) {
            long long iterations = optimizer_->iterations();
            comm.broadcast(&iterations, sizeof iterations, 0);
            optimizer_->set_iterations(iterations);
            auto words = rng_.state();
            comm.broadcast(words.data(), sizeof words, 0);
            rng_.set_state(words);
        }
        plan_.invalidate();
    }
    // What rank 0's callbacks changed (stop, learning rate), or that one of
    // them threw, to every rank.
    void sync_control(distributed::Communicator& comm, const std::exception_ptr& error) {
        const bool scheduled = bool(optimizer_->learning_rate_schedule());
        double control[] = {stop_ ? 1.0 : 0.0, scheduled ? 0.0 : optimizer_->learning_rate(), error ? 1.0 : 0.0};
        comm.broadcast(control, sizeof control, 0);
        if (error) std::rethrow_exception(error);
        if (control[2] != 0)
            throw DistributedError(
                ErrorId::distributed_peer,
                "fit: a callback failed on rank 0, so this rank stops too (rank 0's error says why)");
        stop_ = control[0] != 0;
        if (!scheduled && control[1] != optimizer_->learning_rate()) optimizer_->set_learning_rate(control[1]);
    }
    // The epoch's sums over every rank, and rank 0's moving statistics
    // everywhere, so that every rank holds the same model after each epoch
    // (each rank's BatchNormalization saw only its own rows).
    void finish_distributed_epoch(distributed::Communicator& comm, double& loss_sum, Index& correct, Index& seen,
                                  Index& seen_elements) {
        double sums[] = {loss_sum, double(correct), double(seen), double(seen_elements)};
        comm.allreduce_sum(sums, std::size(sums));
        loss_sum = sums[0];
        correct = Index(sums[1]);
        seen = Index(sums[2]);
        seen_elements = Index(sums[3]);
        std::vector<T> host;
        for (auto* p : params_cache_)
            if (!p->trainable) distributed::detail::broadcast_tensor(comm, p->value, host);
    }

    // Sizes every buffer for `batch` once: the steady-state step allocates nothing.
    void reserve(Index batch, const Shape& x_shape, const Shape& y_shape) {
        if (!built()) build(x_shape.without_batch());
        acts_.resize(layers_.size() + 1);
        grads_.resize(layers_.size() + 1);
        acts_[0].reserve(batch * x_shape.sample_size());
        batch_y_.reserve(batch * y_shape.sample_size());
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            const Index n = batch * layers_[i]->output_shape().size();
            acts_[i + 1].reserve(n);
            grads_[i + 1].reserve(n);
            grads_[i].reserve(batch * (i == 0 ? x_shape.sample_size() : layers_[i - 1]->output_shape().size()));
            layers_[i]->reserve(batch);
        }
        params_cache_ = all_params();
        layer_params_.assign(1, 0);
        for (auto& l : layers_) layer_params_.push_back(layer_params_.back() + l->params().size());
        optimizer_->build(params_cache_);
    }

    // The first layer with a trainable parameter, where backward stops.
    // Found before every step, from the flags (set_trainable may change
    // them between fits or from a callback), without allocating.
    void find_first_trainable() {
        first_trainable_ = layers_.size();
        for (std::size_t i = 0; i < layers_.size() && first_trainable_ == layers_.size(); ++i)
            for (std::size_t k = layer_params_[i]; k < layer_params_[i + 1]; ++k)
                if (params_cache_[k]->trainable) {
                    first_trainable_ = i;
                    break;
                }
    }

    const TensorType& infer_batch(const detail::InferencePlan<T, Device>& plan, const TensorType& x,
                                  std::vector<TensorType>& acts) const {
        acts.resize(plan.steps.size());
        const TensorType* in = &x;
        for (std::size_t i = 0; i < plan.steps.size(); ++i) {
            acts[i].resize(plan.steps[i]->output_shape().with_batch(x.rows()));
            plan.steps[i]->infer(*in, acts[i]);
            in = &acts[i];
        }
        return *in;
    }

    Evaluation evaluate_impl(const HostTensor& x, const HostTensor& y, Index batch_size,
                             distributed::Communicator* comm = nullptr) const {
        const auto plan = plan_.get(layers_);
        std::vector<TensorType> acts;
        TensorType bx, by;
        double loss_sum = 0;
        Index correct = 0, elements = 0;
        // With a communicator, this rank's share of the rows.
        const auto mine = comm ? distributed::detail::share(x.rows(), comm->rank(), comm->size())
                               : distributed::detail::Share{0, x.rows()};
        for (Index first = mine.offset; first < mine.offset + mine.count; first += batch_size) {
            const Index count = std::min(batch_size, mine.offset + mine.count - first);
            upload_rows(x, first, count, bx);
            upload_rows(y, first, count, by);
            const TensorType& pred = infer_batch(*plan, bx, acts);
            loss_sum += double(loss_->compute(pred, by, nullptr)) * double(count);
            if (has_accuracy()) {
                correct += count_batch_correct(pred, by);
                elements += accuracy_denominator(pred);
            }
        }
        if (comm) {
            double sums[] = {loss_sum, double(correct), double(elements)};
            comm->allreduce_sum(sums, std::size(sums));
            loss_sum = sums[0];
            correct = Index(sums[1]);
            elements = Index(sums[2]);
        }
        Evaluation e;
        e.loss = loss_sum / double(x.rows());
        if (has_accuracy()) e.metrics["accuracy"] = double(correct) / double(elements);
        return e;
    }

    // The running loss (and accuracy) into `v`, in place after the first call.
    void set_running_values(ProgressBar::Values& v, double loss_sum, Index seen, Index correct, Index elements) const {
        const std::size_t n = has_accuracy() ? 2 : 1;
        if (v.size() != n) {
            v.assign({{"loss", 0.0}});
            if (n == 2) v.emplace_back("accuracy", 0.0);
        }
        v[0].second = loss_sum / double(std::max<Index>(seen, 1));
        if (n == 2) v[1].second = double(correct) / double(std::max<Index>(elements, 1));
    }

    bool has_accuracy() const {
        return loss_ && loss_->accuracy_kind() != AccuracyKind::None &&
               std::find(metric_names_.begin(), metric_names_.end(), "accuracy") != metric_names_.end();
    }
    // The batch's correct predictions, added to *total (RunningSums) when given.
    Index count_batch_correct(const TensorType& pred, const TensorType& target, long long* total = nullptr) const {
        // Binary accuracy thresholds probabilities at 0.5 and logits at 0.
        T threshold = T(0.5);
        if (auto* bce = dynamic_cast<const BinaryCrossentropyLoss<T, Device>*>(loss_.get()); bce && bce->from_logits())
            threshold = T(0);
        return Backend<Device>::count_correct(loss_->accuracy_kind(), pred.view(), target.view(), threshold, total);
    }
    Index accuracy_denominator(const TensorType& pred) const {
        return loss_->accuracy_kind() == AccuracyKind::Binary ? pred.size() : pred.rows();
    }

    // ---- the host/device transfer points ----
    // 1. Data in: fit stages its training rows on the device once
    //    (Backend::stage) and gathers each shuffled batch there, rows
    //    order[0..count) of `staged` (a data set of `shape`); evaluate and
    //    predict upload rows [first, first + count) of the host data. Both
    //    reuse dst's buffer.
    static void gather_rows(const T* staged, const Shape& shape, const Index* order, Index count, TensorType& dst) {
        Shape s = shape;
        s[0] = count;
        dst.resize(s);
        Backend<Device>::gather_rows(staged, shape.sample_size(), order, count, dst.data());
    }
    static void upload_rows(const HostTensor& src, Index first, Index count, TensorType& dst) {
        Shape s = src.shape();
        s[0] = count;
        dst.resize(s);
        Backend<Device>::upload(src.data() + first * src.cols(), dst.size(), dst.data());
    }
    // 2. Results out: predict's outputs go through Backend::download (in
    //    predict), losses and metric counts come back as host numbers.
    // 3. Weights: get/set_weights, model files and EarlyStopping's snapshots
    //    copy parameters between the device and host tensors here.
    static HostTensor to_host(const TensorType& t) {
        HostTensor h(t.shape());
        Backend<Device>::download(t.data(), t.size(), h.data());
        return h;
    }
    static void from_host(const HostTensor& h, TensorType& t) {
        t.resize(h.shape());
        Backend<Device>::upload(h.data(), h.size(), t.data());
    }

    // ---- validation ----
    void require_compiled(const char* what) const {
        if (!compiled())
            throw ConfigError(ErrorId::config_state,
                              std::string(what) + ": the model '" + name_ + "' is not compiled; call compile() first");
    }
    void check_fit_options(const Options& o) const {
        auto bad = [](const std::string& msg) { throw ConfigError(ErrorId::config_argument, "fit: " + msg); };
        if (o.batch_size < 1) bad("batch_size must be >= 1, got " + std::to_string(o.batch_size));
        if (o.epochs < 0) bad("epochs must be >= 0, got " + std::to_string(o.epochs));
        if (o.initial_epoch < 0) bad("initial_epoch must be >= 0, got " + std::to_string(o.initial_epoch));
        if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
            bad("validation_split must be in [0, 1), got " + std::to_string(o.validation_split));
        if (o.verbose < 0 || o.verbose > 2) bad("verbose must be 0, 1 or 2, got " + std::to_string(o.verbose));
    }
    // The const methods build a model that is not built yet from their x,
    // once, even when many threads call them at once (build_state.hpp).
    void build_once(const HostTensor& x, const char* what) const {
        if (built()) return;
        std::lock_guard<std::mutex> lock(build_state_.mutex());
        if (built()) return;
        if (x.shape().rank() < 2)
            throw ShapeError(ErrorId::shape_rank,
                             std::string(what) + ": x must be (samples, ...), got shape " + x.shape().str());
        const_cast<Sequential*>(this)->build(x.shape().without_batch());
    }
    // A tensor too large to allocate is reported with the layer that asked for it.
    Shape build_layer(Layer<T, Device>& layer, const Shape& input) {
        try {
            return layer.build(input, rng_);
        } catch (const ConfigError& e) {
            if (e.id() != ErrorId::config_memory) throw;
            throw ConfigError(ErrorId::config_memory, layer.type() + " '" + layer.name() + "': " + e.message());
        }
    }
    void check_input(const char* what, const HostTensor& x) const {
        if (x.shape().rank() < 2 || x.shape().without_batch() != input_shape_)
            throw ShapeError(ErrorId::shape_mismatch, std::string(what) + ": the model '" + name_ + "' takes input " +
                                                          input_shape_.keras_str() + ", got x of shape " +
                                                          x.shape().str());
    }
    void check_data(const char* what, const HostTensor& x, const HostTensor& y) const {
        if (x.shape().rank() < 2)
            throw ShapeError(ErrorId::shape_rank,
                             std::string(what) + ": x must be (samples, ...), got shape " + x.shape().str());
        if (x.rows() == 0) throw ConfigError(ErrorId::config_argument, std::string(what) + ": x holds no samples");
        if (y.shape().rank() < 1 || x.rows() != y.rows())
            throw ShapeError(ErrorId::shape_count, std::string(what) + ": x has " + std::to_string(x.rows()) +
                                                       " samples but y has " +
                                                       (y.shape().rank() ? std::to_string(y.rows()) : "none") + " (x " +
                                                       x.shape().str() + ", y " + y.shape().str() + ")");
        build_once(x, what);
        check_input(what, x);
        check_finite(what, "x", x);
        check_finite(what, "y", y);
        loss_->check_targets(output_shape(), y);
    }
    static void check_finite(const char* what, const char* which, const HostTensor& t) {
        if (t.array().isFinite().all()) return;
        Index i = 0;
        while (std::isfinite(double(t[i]))) ++i;
        throw NumericError(ErrorId::numeric_nonfinite, std::string(what) + ": " + which +
                                                           " holds a non-finite value (" +
                                                           std::to_string(double(t[i])) + ") at sample " +
                                                           std::to_string(i / std::max<Index>(t.cols(), 1)));
    }
    std::size_t check_layer_index(std::size_t i) const {
        if (i >= layers_.size())
            throw ShapeError(ErrorId::shape_index, "layer: index " + std::to_string(i) +
                                                       " out of range for a model of " +
                                                       std::to_string(layers_.size()) + " layers");
        return i;
    }

    void configure_logit_gradient() {
        if (!loss_ || layers_.empty()) return;
        logit_gradient_ = layers_.back()->set_logit_gradient(loss_->supports_logit_gradient());
    }

    template <class Opt>
    OptimizerPtr<T, Device> to_optimizer(const Opt& o) {
        if constexpr (std::is_convertible_v<const Opt&, std::string>) return make_optimizer<T, Device>(std::string(o));
        else return o.template make<T, Device>();
    }
    template <class L>
    LossPtr<T, Device> to_loss(const L& l) {
        if constexpr (std::is_convertible_v<const L&, std::string>) return make_loss<T, Device>(std::string(l));
        else return l.template make<T, Device>();
    }

    static std::string snake_case(const std::string& type) {
        std::string s;
        for (std::size_t i = 0; i < type.size(); ++i) {
            const char c = type[i];
            if (std::isupper(static_cast<unsigned char>(c))) {
                if (i > 0 && std::islower(static_cast<unsigned char>(type[i - 1]))) s += '_';
                s += char(std::tolower(static_cast<unsigned char>(c)));
            } else {
                s += c;
            }
        }
        return s;
    }
    std::string unique_name(const std::string& base) {
        int& n = name_counts_[base];
        return n++ == 0 ? base : base + "_" + std::to_string(n - 1);
    }

    std::string name_;
    Rng rng_;
    std::vector<LayerPtr<T, Device>> layers_;
    std::map<std::string, int> name_counts_;
    Shape input_shape_;
    detail::BuildState build_state_;
    detail::InferencePlanCache<T, Device> plan_;  // what predict and evaluate run
    std::size_t first_trainable_ = 0;
    OptimizerPtr<T, Device> optimizer_;
    LossPtr<T, Device> loss_;
    std::vector<std::string> metric_names_;
    bool logit_gradient_ = false;
    bool stop_ = false;
    int epochs_completed_ = 0;

    // Training buffers: acts_[i] is layer i's input, acts_[i + 1] its output;
    // grads_[i] holds dL/d(acts_[i]).
    std::vector<TensorType> acts_, grads_;
    TensorType batch_y_;
    std::vector<Param<T, Device>*> params_cache_;
    distributed::detail::GradientBuckets<T, Device> buckets_;  // fit with a communicator
    std::vector<std::size_t>
        layer_params_;  // layer i's params are params_cache_[layer_params_[i], layer_params_[i + 1])
};

}  // namespace lamina

#include "lamina/model/sequential_file.hpp"

// Structured bindings: auto [loss, accuracy] = model.evaluate(x, y);
namespace std {
template <>
struct tuple_size<lamina::Evaluation> : integral_constant<size_t, 2> {};
template <size_t I>
struct tuple_element<I, lamina::Evaluation> {
    using type = double;
};
}  // namespace std
