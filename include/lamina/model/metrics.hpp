// lamina/model/metrics.hpp: metrics named in compile(), and how they count.
//
// Contract: Keras's "accuracy" (alias "acc") resolves from the loss: sparse
// categorical (argmax == label), categorical (argmax == argmax of target) or
// binary (prediction above 0.5, or above 0 for logits, equals target).
// Backend<Device>::count_correct counts the correct predictions of a batch.
#pragma once

#include <string>

#include "lamina/core/error.hpp"

namespace lamina {

struct Metric {
    std::string name;
    Metric(const char* n) : name(n) { check(); }
    Metric(std::string n) : name(std::move(n)) { check(); }

private:
    void check() {
        if (name == "acc") name = "accuracy";
        if (name != "accuracy")
            throw ConfigError(ErrorId::config_unknown_name, "unknown metric '" + name + "' (known: accuracy)");
    }
};

namespace metrics {
inline const Metric accuracy{"accuracy"};
}  // namespace metrics

}  // namespace lamina
