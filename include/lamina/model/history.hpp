// lamina/model/history.hpp: what fit() returns, as Keras's History.
//
// Contract: history["loss"][i] is epoch epoch[i]'s value; keys are "loss",
// each metric, and "val_" versions when validation data was given.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"

namespace lamina {

struct History {
    struct Params {
        int epochs = 0;
        Index steps = 0;  // batches per epoch
        int verbose = 1;
    };
    std::map<std::string, std::vector<double>> history;
    std::vector<int> epoch;
    Params params;

    // Last value of a key, e.g. h.last("val_accuracy").
    double last(const std::string& key) const {
        auto it = history.find(key);
        if (it == history.end() || it->second.empty())
            throw ConfigError(ErrorId::config_argument, "History: no values recorded for '" + key + "'");
        return it->second.back();
    }
};

}  // namespace lamina
