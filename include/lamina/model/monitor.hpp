// lamina/model/monitor.hpp: the monitored quantity shared by EarlyStopping,
// ModelCheckpoint and ReduceLROnPlateau, as Keras's MonitorCallback.
//
// Contract: a Monitor fixes at construction which log key it watches and in
// which direction: "min", "max", or "auto" (max for accuracy-like names, those
// containing "acc" or "auc"; min otherwise). improves(current) is true when
// current beats best() by more than min_delta in that direction; a NaN never
// improves. reset() puts best() back to the baseline, or to the worst value
// (+inf when minimising, -inf when maximising) without one. value(logs)
// returns the watched value; a key missing from the logs is a
// ConfigError(config_argument) that names the callback and the keys present.
// Bad arguments (mode, negative or NaN min_delta, NaN baseline) are
// ConfigError(config_argument) too, named after the callback.
#pragma once

#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "lamina/core/error.hpp"
#include "lamina/model/callback.hpp"

namespace lamina {

class Monitor {
public:
    // `owner` is the callback's name, for error messages.
    Monitor(std::string owner, std::string key, const std::string& mode, double min_delta = 0.0,
            std::optional<double> baseline = std::nullopt)
        : owner_(std::move(owner)), key_(std::move(key)), min_delta_(min_delta), baseline_(baseline) {
        if (mode == "auto") maximize_ = key_.find("acc") != std::string::npos || key_.find("auc") != std::string::npos;
        else if (mode == "max" || mode == "min") maximize_ = mode == "max";
        else
            throw ConfigError(ErrorId::config_argument,
                              owner_ + ": mode must be 'auto', 'min' or 'max', got '" + mode + "'");
        if (!(min_delta >= 0.0))
            throw ConfigError(ErrorId::config_argument, owner_ + ": min_delta must be >= 0, got " + number(min_delta));
        if (baseline && std::isnan(*baseline))
            throw ConfigError(ErrorId::config_argument, owner_ + ": the initial best value must be a number, got nan");
        reset();
    }

    const std::string& key() const noexcept { return key_; }
    bool maximize() const noexcept { return maximize_; }
    double min_delta() const noexcept { return min_delta_; }
    double best() const noexcept { return best_; }
    void set_best(double value) noexcept { best_ = value; }

    void reset() noexcept {
        const double worst =
            maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        best_ = baseline_.value_or(worst);
    }

    bool improves(double current) const noexcept { return improves_on(current, best_); }
    // Whether current beats `reference` by more than min_delta (EarlyStopping's baseline).
    bool improves_on(double current, double reference) const noexcept {
        return maximize_ ? current - min_delta_ > reference : current + min_delta_ < reference;
    }

    double value(const Logs& logs) const {
        const auto it = logs.find(key_);
        if (it == logs.end()) {
            std::string keys;
            for (const auto& [k, v] : logs) keys += (keys.empty() ? "" : ", ") + k;
            throw ConfigError(ErrorId::config_argument,
                              owner_ + ": monitor '" + key_ + "' is not among the epoch's logs (" + keys + ")");
        }
        return it->second;
    }

private:
    static std::string number(double v) {
        std::ostringstream s;
        s << v;
        return s.str();
    }

    std::string owner_;
    std::string key_;
    double min_delta_;
    std::optional<double> baseline_;
    bool maximize_ = false;
    double best_ = 0;
};

}  // namespace lamina
