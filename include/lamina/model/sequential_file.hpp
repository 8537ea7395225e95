// lamina/model/sequential_file.hpp: a Sequential model to and from the
// model file's contents (io::ModelFile, io/model_file.hpp; the bytes are
// specified in docs/file-format.md).
//
// Contract: SequentialFile<T, Device> is what Sequential's save, save_weights,
// load, load_from_memory and load_weights do, apart from the model itself:
//   to_file(model, kind, include_optimizer)  architecture, weights, compile
//       settings and, with include_optimizer, the optimizer's and the
//       training state (epochs done, generators)
//   restore(empty model, file, where)       the inverse, for load(); every
//       error is a FormatError of the file, named by `where`
//   convert<Other>(model)                   Sequential::to<Other>(): the model
//       rebuilt on another device through to_file and restore
//   check_same_architecture(model, file, where)  load_weights' test: same
//       layer types, configs (initializers aside), order and weight shapes
// Files are read with io::read_model_file_bytes, which never reads more than
// a model file can hold, and written with io::write_file_atomically.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/io/atomic_file.hpp"
#include "lamina/io/model_file.hpp"
#include "lamina/layers/layer_factory.hpp"
#include "lamina/losses/make_loss.hpp"
#include "lamina/model/sequential.hpp"
#include "lamina/optimizers/make_optimizer.hpp"

namespace lamina::detail {

template <class T, class Device>
struct SequentialFile {
    using Model = Sequential<T, Device>;
    using HostTensor = Tensor<T, Cpu>;

    static void save(const Model& m, const std::string& path, io::ModelFileKind kind, bool include_optimizer) {
        io::write_file_atomically(path, io::encode_model_file(to_file(m, kind, include_optimizer)));
    }

    static Model load(const std::uint8_t* data, std::size_t size, const std::string& context) {
        auto f = io::decode_model_file<T>(data, size, context);
        if (f.kind != io::ModelFileKind::Model)
            throw FormatError(ErrorId::format_header, context +
                                                          " holds weights only (save_weights); build the same "
                                                          "layers and call load_weights() instead");
        Model m(f.model_name);
        restore(m, f, context);
        return m;
    }

    // The same model on another device, as save() and load() would carry it
    // (weights, compile settings, optimizer state, generators), without the bytes.
    template <class Other>
    static Sequential<T, Other> convert(const Model& m) {
        m.require_built((std::string("to<") + Other::name + ">()").c_str());
        const auto f = to_file(m, io::ModelFileKind::Model, true);
        Sequential<T, Other> out(f.model_name);
        SequentialFile<T, Other>::restore(out, f, "model '" + m.name_ + "' moved to " + Other::name);
        return out;
    }

    static void load_weights(Model& m, const std::string& path) {
        const std::string where = "weights file '" + path + "'";
        const auto bytes = io::read_model_file_bytes(path, where);
        auto f = io::decode_model_file<T>(bytes, where);
        if (!m.built()) {
            try {
                m.build(f.input_shape);
            } catch (const Error& e) {
                throw FormatError(ErrorId::format_architecture, where +
                                                                    ": cannot build the model for the file's input " +
                                                                    f.input_shape.keras_str() + ": " + e.what());
            }
        }
        check_same_architecture(m, f, where);
        std::vector<HostTensor> weights;
        for (auto& w : f.weights) weights.push_back(std::move(w.value));
        m.set_weights(weights);
    }

    static io::ModelFile<T> to_file(const Model& m, io::ModelFileKind kind, bool include_optimizer) {
        io::ModelFile<T> f;
        f.kind = kind;
        f.model_name = m.name_;
        f.input_shape = m.input_shape_;
        for (const auto& l : m.layers_) {
            f.layers.push_back({l->type(), l->name(), l->config()});
            for (const auto* p : std::as_const(*l).params())
                f.weights.push_back({l->name(), p->name, Model::to_host(p->value)});
        }
        if (kind == io::ModelFileKind::Weights || !m.compiled()) return f;
        f.compile = io::CompileRecord{m.loss_->name(), m.loss_->config(), m.metric_names_};
        io::OptimizerRecord<T> o;
        o.name = m.optimizer_->name();
        o.config = m.optimizer_->config();
        if (include_optimizer) {
            o.iterations = m.optimizer_->iterations();
            o.slot_names = m.optimizer_->slot_names();
            for (const auto& l : m.layers_)
                for (const auto* p : std::as_const(*l).params()) {
                    o.slots.emplace_back();
                    // Slots exist once fit() has run; before that they are zero.
                    for (std::size_t s = 0; s < o.slot_names.size(); ++s)
                        o.slots.back().push_back(s < p->slots.size() ? Model::to_host(p->slots[s])
                                                                     : HostTensor(p->value.shape(), T(0)));
                }
            io::TrainingRecord t;
            t.epochs_completed = m.epochs_completed_;
            t.rng = m.rng_.state();
            for (const auto& l : m.layers_)
                if (auto words = l->state(); !words.empty()) t.layers.push_back({l->name(), std::move(words)});
            f.training = std::move(t);
        }
        f.optimizer = std::move(o);
        return f;
    }

    // Builds the (empty) model m from a decoded file. Every error is a
    // FormatError of the file: its contents, not the caller, are at fault.
    static void restore(Model& m, const io::ModelFile<T>& f, const std::string& where) {
        auto bad = [&](const std::string& what) { throw FormatError(ErrorId::format_header, where + ": " + what); };
        try {
            for (const auto& r : f.layers) m.add(make_layer<T, Device>(r.type, r.name, r.config));
            // The layers may allocate little more than the weights the file
            // holds: a forged architecture cannot exhaust memory.
            Index stored = 0;
            for (const auto& w : f.weights) stored += w.value.size();
            AllocationBudget budget(3 * stored + (Index(1) << 20));
            m.build(f.input_shape);
        } catch (const FormatError&) {
            throw;
        } catch (const Error& e) {
            bad(std::string("its architecture is invalid: ") + e.what());
        }
        auto params = m.all_params();
        if (f.weights.size() != params.size())
            bad("the architecture has " + std::to_string(params.size()) + " weight arrays, the file stores " +
                std::to_string(f.weights.size()));
        for (std::size_t i = 0; i < params.size(); ++i)
            if (f.weights[i].value.shape() != params[i]->value.shape())
                bad("weight array " + std::to_string(i) + " (" + f.weights[i].layer + "/" + f.weights[i].param +
                    ") is " + f.weights[i].value.shape().str() + ", the architecture needs " +
                    params[i]->value.shape().str());
        for (std::size_t i = 0; i < params.size(); ++i) Model::from_host(f.weights[i].value, params[i]->value);
        if (!f.compile || !f.optimizer) return;

        try {
            m.optimizer_ = make_optimizer<T, Device>(f.optimizer->name, f.optimizer->config);
            m.loss_ = make_loss<T, Device>(f.compile->loss, f.compile->loss_config);
        } catch (const Error& e) {
            bad(std::string("its compile settings are invalid: ") + e.what());
        }
        m.metric_names_ = f.compile->metrics;
        for (const auto& metric : m.metric_names_)
            if (metric != "accuracy") bad("unknown metric '" + metric + "'");
        m.optimizer_->build(params);
        m.configure_logit_gradient();
        const auto& o = *f.optimizer;
        if (!o.slots.empty()) {
            if (o.slot_names != m.optimizer_->slot_names())
                bad("the optimizer state does not have the slots " + o.name + " keeps");
            for (std::size_t i = 0; i < params.size(); ++i)
                for (std::size_t s = 0; s < o.slot_names.size(); ++s) {
                    if (o.slots[i][s].shape() != params[i]->value.shape())
                        bad("optimizer slot '" + o.slot_names[s] + "' of weight array " + std::to_string(i) +
                            " has the wrong shape " + o.slots[i][s].shape().str());
                    Model::from_host(o.slots[i][s], params[i]->slots[s]);
                }
            m.optimizer_->set_iterations(o.iterations);
        }
        if (f.training) {
            m.epochs_completed_ = int(f.training->epochs_completed);
            m.rng_.set_state(f.training->rng);
            for (const auto& st : f.training->layers) {
                Layer<T, Device>* layer = nullptr;
                for (auto& l : m.layers_)
                    if (l->name() == st.layer) layer = l.get();
                if (!layer) bad("training state for an unknown layer '" + st.layer + "'");
                try {
                    layer->set_state(st.words);
                } catch (const Error& e) {
                    bad(e.what());
                }
            }
        }
    }

    // load_weights: same layer types and configs in the same order, and the
    // same weight shapes; names may differ (Keras matches by order too).
    static void check_same_architecture(const Model& m, const io::ModelFile<T>& f, const std::string& where) {
        auto differ = [&](const std::string& what) {
            throw FormatError(ErrorId::format_architecture, where + " holds a different architecture: " + what);
        };
        for (std::size_t i = 0; i < std::min(m.layers_.size(), f.layers.size()); ++i) {
            const auto& l = *m.layers_[i];
            if (f.layers[i].type != l.type() || weights_config(f.layers[i].config) != weights_config(l.config()))
                differ("layer " + std::to_string(i) + " is " + f.layers[i].type + " '" + f.layers[i].name +
                       "' in the file but " + l.type() + " '" + l.name() + "' in the model" +
                       (f.layers[i].type == l.type() ? " with a different config" : ""));
        }
        if (f.layers.size() != m.layers_.size())
            differ("it has " + std::to_string(f.layers.size()) + " layers, the model '" + m.name_ + "' has " +
                   std::to_string(m.layers_.size()));
        std::vector<Shape> params;  // shapes only: no copy of the weights
        for (const auto& l : m.layers_)
            for (const auto* p : std::as_const(*l).params()) params.push_back(p->value.shape());
        if (f.weights.size() != params.size())
            differ("it stores " + std::to_string(f.weights.size()) + " weight arrays, the model has " +
                   std::to_string(params.size()));
        for (std::size_t i = 0; i < params.size(); ++i)
            if (f.weights[i].value.shape() != params[i])
                differ("weight array " + std::to_string(i) + " (" + f.weights[i].layer + "/" + f.weights[i].param +
                       ") is " + f.weights[i].value.shape().str() + " in the file, " + params[i].str() +
                       " in the model (input " + f.input_shape.keras_str() + " vs " + m.input_shape_.keras_str() + ")");
    }

    // The settings that weights must agree with: initializers do not matter
    // once weights are loaded, nor whether a layer trains (weights of a
    // trained BatchNormalization load into a frozen one, for fine-tuning).
    static LayerConfig weights_config(LayerConfig c) {
        const std::string suffix = "_initializer";
        c.erase(std::remove_if(c.begin(), c.end(),
                               [&](const auto& kv) {
                                   return kv.first == "trainable" || (kv.first.size() >= suffix.size() &&
                                                                      kv.first.compare(kv.first.size() - suffix.size(),
                                                                                       suffix.size(), suffix) == 0);
                               }),
                c.end());
        return c;
    }
};

}  // namespace lamina::detail
