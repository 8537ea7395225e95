// lamina/layers/dropout.hpp: inverted dropout.
//
// Contract: in training, each element is zeroed with probability `rate` and
// the survivors are scaled by 1/(1-rate), so inference is the identity.
// The mask comes from the layer's own Rng, seeded from the model's seed at
// build: same seed, same masks. Workspace: the mask (batch, features).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lamina/backend/backend.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina {

template <class T, class Device = Cpu>
class DropoutLayer : public Layer<T, Device> {
public:
    using typename Layer<T, Device>::TensorType;
    explicit DropoutLayer(double rate) : rate_(rate) {}

    std::string type() const override { return "Dropout"; }
    Shape build(const Shape& input, Rng& rng) override {
        if (!(rate_ >= 0.0 && rate_ < 1.0))
            throw ConfigError(ErrorId::config_argument,
                              this->who() + ": rate must be in [0, 1), got " + std::to_string(rate_));
        rng_.seed(rng.next_u64());
        return this->finish_build(input, input);
    }
    void reserve(Index batch) override { mask_.reserve(batch * this->input_shape().size()); }

    void infer(const TensorType& x, TensorType& y) const override { y = x; }

    void forward(const TensorType& x, TensorType& y, Mode mode) override {
        if (mode == Mode::Inference || rate_ == 0.0) {
            active_ = false;
            infer(x, y);
            return;
        }
        active_ = true;
        mask_.resize(x.shape());
        Backend<Device>::dropout_forward(rng_, rate_, x.view(), mask_.view(), y.view());
    }

    void backward(const TensorType&, const TensorType&, const TensorType& dy, TensorType* dx) override {
        if (!dx) return;
        if (active_) Backend<Device>::multiply(dy.view(), mask_.cview(), dx->view());
        else *dx = dy;
    }

    LayerConfig config() const override { return {{"rate", config_number(rate_)}}; }
    std::vector<std::uint64_t> state() const override { return rng_words(rng_); }
    void set_state(const std::vector<std::uint64_t>& words) override { set_rng_words(rng_, words, this->who()); }
    Rng& rng() noexcept { return rng_; }
    Rng* generator() noexcept override { return &rng_; }

private:
    double rate_;
    Rng rng_;
    TensorType mask_;  // (batch, features): 0 or 1/(1-rate)
    bool active_ = false;
};

// Keras's layers.Dropout(rate).
struct Dropout {
    double rate;
    std::string name;
    explicit Dropout(double rate_, std::string name_ = {}) : rate(rate_), name(std::move(name_)) {}

    // Model files: the layer's type() and the inverse of its config().
    static constexpr const char* config_type = "Dropout";
    static Dropout from_config(detail::ConfigReader& c) {
        const double r = c.number("rate");
        if (!(r >= 0.0 && r < 1.0)) c.bad("rate", "must be in [0, 1), got " + config_number(r));
        return Dropout(r);
    }
    template <class T, class Device>
    LayerPtr<T, Device> make() const {
        auto layer = std::make_unique<DropoutLayer<T, Device>>(rate);
        layer->set_name(name);
        return layer;
    }
};

}  // namespace lamina
