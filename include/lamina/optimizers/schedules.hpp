// lamina/optimizers/schedules.hpp: learning-rate schedules, Keras's
// keras.optimizers.schedules, and a one-cycle schedule.
//
// Contract: a schedule maps the optimizer's step count (0 for the first
// update) to a learning rate, as Keras evaluates it: the rate of an update is
// schedule(iterations before it). Every optimizer takes a LearningRate, a
// number or a schedule (SGD(schedules::CosineDecay(0.1, 1000))). Schedules
// are values without state: with the optimizer's iterations, which model
// files keep, a resumed fit continues the same rates. config() lists the
// settings for model files; make_schedule() is its inverse.
//   ExponentialDecay(initial, decay_steps, decay_rate, staircase=false)
//       initial * decay_rate ^ (step / decay_steps), the exponent floored with staircase
//   PiecewiseConstantDecay(boundaries, values)
//       values[0] while step <= boundaries[0], values[i] while step <= boundaries[i], then values.back()
//   CosineDecay(initial, decay_steps, alpha=0, warmup_target=0, warmup_steps=0)
//       with warmup_target > 0: linear from initial to warmup_target over warmup_steps,
//       then the cosine from warmup_target; the cosine: peak * ((1 - alpha) c + alpha),
//       c = (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2
//   OneCycle(max_learning_rate, total_steps, pct_start=0.3, div_factor=25, final_div_factor=1e4)
//       PyTorch's OneCycleLR (cosine annealing): from max/div_factor up to max over
//       pct_start of the steps, then down to max/(div_factor*final_div_factor)
#pragma once

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"

namespace lamina {

using ScheduleConfig = std::vector<std::pair<std::string, double>>;

class LearningRateSchedule {
public:
    virtual ~LearningRateSchedule() = default;
    // The rate of the update made after `step` earlier updates.
    virtual double operator()(long long step) const = 0;
    // Keras's class name: "ExponentialDecay", ...
    virtual std::string name() const = 0;
    virtual ScheduleConfig config() const = 0;

protected:
    static void require(bool ok, const std::string& who, const std::string& what) {
        if (!ok) throw ConfigError(ErrorId::config_argument, who + ": " + what);
    }
};

// A learning rate as every optimizer takes it: a number or a schedule.
class LearningRate {
public:
    LearningRate(double value) : value_(value) {}  // NOLINT(google-explicit-constructor): Keras's float-or-schedule
    template <class S, class = std::enable_if_t<std::is_base_of_v<LearningRateSchedule, S>>>
    LearningRate(const S& schedule)  // NOLINT(google-explicit-constructor)
        : value_(schedule(0)), schedule_(std::make_shared<S>(schedule)) {}
    explicit LearningRate(std::shared_ptr<const LearningRateSchedule> schedule)
        : value_((*schedule)(0)), schedule_(std::move(schedule)) {}

    // The rate of the update made after `step` earlier updates.
    double at(long long step) const { return schedule_ ? (*schedule_)(step) : value_; }
    const std::shared_ptr<const LearningRateSchedule>& schedule() const noexcept { return schedule_; }

private:
    double value_;
    std::shared_ptr<const LearningRateSchedule> schedule_;
};

namespace schedules {

class ExponentialDecay : public LearningRateSchedule {
public:
    ExponentialDecay(double initial_learning_rate, double decay_steps, double decay_rate, bool staircase = false)
        : initial_(initial_learning_rate), steps_(decay_steps), rate_(decay_rate), staircase_(staircase) {
        require(initial_ > 0, name(), "initial_learning_rate must be > 0, got " + std::to_string(initial_));
        require(steps_ > 0, name(), "decay_steps must be > 0, got " + std::to_string(steps_));
        require(rate_ > 0, name(), "decay_rate must be > 0, got " + std::to_string(rate_));
    }
    double operator()(long long step) const override {
        double p = double(step) / steps_;
        if (staircase_) p = std::floor(p);
        return initial_ * std::pow(rate_, p);
    }
    std::string name() const override { return "ExponentialDecay"; }
    ScheduleConfig config() const override {
        return {{"initial_learning_rate", initial_},
                {"decay_steps", steps_},
                {"decay_rate", rate_},
                {"staircase", staircase_ ? 1.0 : 0.0}};
    }

private:
    double initial_, steps_, rate_;
    bool staircase_;
};

class PiecewiseConstantDecay : public LearningRateSchedule {
public:
    PiecewiseConstantDecay(std::vector<double> boundaries, std::vector<double> values)
        : boundaries_(std::move(boundaries)), values_(std::move(values)) {
        require(values_.size() == boundaries_.size() + 1, name(),
                "needs one more value than boundaries, got " + std::to_string(boundaries_.size()) + " boundaries and " +
                    std::to_string(values_.size()) + " values");
        for (std::size_t i = 1; i < boundaries_.size(); ++i)
            require(boundaries_[i] > boundaries_[i - 1], name(), "boundaries must increase");
        for (double v : values_) require(v > 0, name(), "every value must be > 0, got " + std::to_string(v));
    }
    double operator()(long long step) const override {
        for (std::size_t i = 0; i < boundaries_.size(); ++i)
            if (double(step) <= boundaries_[i]) return values_[i];
        return values_.back();
    }
    std::string name() const override { return "PiecewiseConstantDecay"; }
    ScheduleConfig config() const override {
        ScheduleConfig c;
        for (std::size_t i = 0; i < boundaries_.size(); ++i)
            c.emplace_back("boundary_" + std::to_string(i), boundaries_[i]);
        for (std::size_t i = 0; i < values_.size(); ++i) c.emplace_back("value_" + std::to_string(i), values_[i]);
        return c;
    }

private:
    std::vector<double> boundaries_, values_;
};

class CosineDecay : public LearningRateSchedule {
public:
    CosineDecay(double initial_learning_rate, double decay_steps, double alpha = 0.0, double warmup_target = 0.0,
                double warmup_steps = 0.0)
        : initial_(initial_learning_rate),
          steps_(decay_steps),
          alpha_(alpha),
          warmup_target_(warmup_target),
          warmup_steps_(warmup_steps) {
        require(initial_ >= 0, name(), "initial_learning_rate must be >= 0, got " + std::to_string(initial_));
        require(steps_ > 0, name(), "decay_steps must be > 0, got " + std::to_string(steps_));
        require(alpha_ >= 0 && alpha_ <= 1, name(), "alpha must be in [0, 1], got " + std::to_string(alpha_));
        require(warmup_steps_ >= 0, name(), "warmup_steps must be >= 0, got " + std::to_string(warmup_steps_));
        require(warmup_target_ >= 0, name(), "warmup_target must be >= 0, got " + std::to_string(warmup_target_));
        require(initial_ > 0 || (warmup_target_ > 0 && warmup_steps_ > 0), name(),
                "the rate is 0 throughout: give initial_learning_rate > 0, or a warmup_target and warmup_steps");
    }
    double operator()(long long step) const override {
        const bool warmup = warmup_target_ > 0 && warmup_steps_ > 0;
        const double s = double(step);
        if (warmup && s < warmup_steps_) return initial_ + (warmup_target_ - initial_) * s / warmup_steps_;
        const double peak = warmup ? warmup_target_ : initial_;
        const double t = std::min(warmup ? s - warmup_steps_ : s, steps_) / steps_;
        const double pi = std::acos(-1.0);
        const double cosine = 0.5 * (1.0 + std::cos(pi * t));
        return peak * ((1.0 - alpha_) * cosine + alpha_);
    }
    std::string name() const override { return "CosineDecay"; }
    ScheduleConfig config() const override {
        return {{"initial_learning_rate", initial_},
                {"decay_steps", steps_},
                {"alpha", alpha_},
                {"warmup_target", warmup_target_},
                {"warmup_steps", warmup_steps_}};
    }

private:
    double initial_, steps_, alpha_, warmup_target_, warmup_steps_;
};

class OneCycle : public LearningRateSchedule {
public:
    OneCycle(double max_learning_rate, double total_steps, double pct_start = 0.3, double div_factor = 25.0,
             double final_div_factor = 1e4)
        : max_(max_learning_rate),
          total_(total_steps),
          pct_(pct_start),
          div_(div_factor),
          final_div_(final_div_factor) {
        require(max_ > 0, name(), "max_learning_rate must be > 0, got " + std::to_string(max_));
        require(total_ >= 2, name(), "total_steps must be >= 2, got " + std::to_string(total_));
        require(pct_ > 0 && pct_ < 1, name(), "pct_start must be in (0, 1), got " + std::to_string(pct_));
        require(div_ >= 1 && final_div_ >= 1, name(), "div_factor and final_div_factor must be >= 1");
    }
    double operator()(long long step) const override {
        // As PyTorch: the peak at step pct_start * total - 1, the end at total - 1.
        const double up = pct_ * total_ - 1.0, end = total_ - 1.0;
        const double start = max_ / div_, low = start / final_div_;
        const double s = std::min(double(step), end);
        const double pi = std::acos(-1.0);
        auto anneal = [&](double from, double to, double fraction) {
            return to + (from - to) * 0.5 * (1.0 + std::cos(pi * fraction));
        };
        if (s <= up) return anneal(start, max_, up > 0 ? s / up : 1.0);
        return anneal(max_, low, (s - up) / (end - up));
    }
    std::string name() const override { return "OneCycle"; }
    ScheduleConfig config() const override {
        return {{"max_learning_rate", max_},
                {"total_steps", total_},
                {"pct_start", pct_},
                {"div_factor", div_},
                {"final_div_factor", final_div_}};
    }

private:
    double max_, total_, pct_, div_, final_div_;
};

}  // namespace schedules

// The inverse of name()/config(), for model files: a setting missing keeps
// the default, an unknown one (or a bad value) is a ConfigError.
inline std::shared_ptr<const LearningRateSchedule> make_schedule(const std::string& name,
                                                                 const ScheduleConfig& config) {
    auto get = [&](const std::string& key, double fallback) {
        for (const auto& [k, v] : config)
            if (k == key) return v;
        return fallback;
    };
    auto only = [&](std::initializer_list<const char*> keys) {
        for (const auto& [k, v] : config) {
            bool known = false;
            for (const char* key : keys) known = known || k == key;
            if (!known)
                throw ConfigError(ErrorId::config_argument, "schedule " + name + ": unknown setting '" + k + "'");
        }
    };
    if (name == "ExponentialDecay") {
        only({"initial_learning_rate", "decay_steps", "decay_rate", "staircase"});
        return std::make_shared<schedules::ExponentialDecay>(get("initial_learning_rate", 0), get("decay_steps", 0),
                                                             get("decay_rate", 0), get("staircase", 0) != 0);
    }
    if (name == "PiecewiseConstantDecay") {
        // boundary_<i> and value_<i>, each numbered from 0 without gaps.
        std::vector<double> lists[2];
        const char* prefixes[2] = {"boundary_", "value_"};
        for (int l = 0; l < 2; ++l)
            for (std::size_t i = 0;; ++i) {
                const std::string key = prefixes[l] + std::to_string(i);
                bool found = false;
                for (const auto& [k, v] : config)
                    if (k == key) found = true, lists[l].push_back(v);
                if (!found) break;
            }
        if (lists[0].size() + lists[1].size() != config.size())
            throw ConfigError(ErrorId::config_argument, "schedule " + name +
                                                            ": settings other than boundary_0.. and value_0.., or "
                                                            "numbered with gaps or twice");
        return std::make_shared<schedules::PiecewiseConstantDecay>(lists[0], lists[1]);
    }
    if (name == "CosineDecay") {
        only({"initial_learning_rate", "decay_steps", "alpha", "warmup_target", "warmup_steps"});
        return std::make_shared<schedules::CosineDecay>(get("initial_learning_rate", 0), get("decay_steps", 0),
                                                        get("alpha", 0), get("warmup_target", 0),
                                                        get("warmup_steps", 0));
    }
    if (name == "OneCycle") {
        only({"max_learning_rate", "total_steps", "pct_start", "div_factor", "final_div_factor"});
        return std::make_shared<schedules::OneCycle>(get("max_learning_rate", 0), get("total_steps", 0),
                                                     get("pct_start", 0.3), get("div_factor", 25),
                                                     get("final_div_factor", 1e4));
    }
    throw ConfigError(ErrorId::config_unknown_name,
                      "unknown learning-rate schedule '" + name +
                          "' (known: ExponentialDecay, PiecewiseConstantDecay, CosineDecay, OneCycle)");
}

}  // namespace lamina
