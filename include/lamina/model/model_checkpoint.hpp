// lamina/model/model_checkpoint.hpp: Keras's ModelCheckpoint callback.
//
// Contract: at the end of every epoch the file name is made from `filepath`
// with format_filepath (filepath_format.hpp: {epoch} is 1-based, other fields
// name log keys) and the model is saved there through
// TrainingControl::save_model (whole, or weights only), creating the
// file's directory first if it is missing, as Keras does. With
// save_best_only the model is saved only when the monitored value improves
// on the best so far (strictly, no min_delta; mode as Monitor in
// monitor.hpp), starting from initial_value_threshold when given. As in
// Keras, that best value is kept between fit() calls, so fitting again
// overwrites a checkpoint only with a better model.
// Keras warns and saves anyway when the monitor is missing from the logs;
// lamina throws ConfigError(config_argument) listing the keys present, as
// EarlyStopping does. A bad pattern, mode, or a save_freq other than
// "epoch" (Keras also takes a batch count; lamina does not) is a
// ConfigError(config_argument) at construction; an unknown field name is one
// at the first epoch. A directory that cannot be created is
// IoError(io_write). verbose 1 prints Keras's messages to std::cout.
// Keras's check that the name ends in .keras / .weights.h5 is not made:
// lamina writes its own format (save_model).
#pragma once

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/model/callback.hpp"
#include "lamina/model/filepath_format.hpp"
#include "lamina/model/monitor.hpp"

namespace lamina {

class ModelCheckpoint : public Callback {
public:
    // Keras's arguments, in Keras's order.
    explicit ModelCheckpoint(std::string filepath, std::string monitor = "val_loss", int verbose = 0,
                             bool save_best_only = false, bool save_weights_only = false,
                             const std::string& mode = "auto", const std::string& save_freq = "epoch",
                             std::optional<double> initial_value_threshold = std::nullopt)
        : filepath_(std::move(filepath)),
          monitor_("ModelCheckpoint", std::move(monitor), mode, 0.0, initial_value_threshold),
          verbose_(verbose),
          save_best_only_(save_best_only),
          save_weights_only_(save_weights_only) {
        if (filepath_.empty())
            throw ConfigError(ErrorId::config_argument, "ModelCheckpoint: filepath must not be empty");
        if (save_freq != "epoch")
            throw ConfigError(ErrorId::config_argument, "ModelCheckpoint: save_freq must be 'epoch', got '" +
                                                            save_freq + "' (saving every N batches is not supported)");
        pieces_ = detail::parse_filepath("ModelCheckpoint", filepath_);
    }

    void on_epoch_end(TrainingControl& model, int epoch, const Logs& logs) override {
        // Formatted first, as Keras does, so a bad field fails even on epochs that do not save.
        const std::string path = detail::format_filepath("ModelCheckpoint", filepath_, pieces_, epoch, logs);
        const std::string prefix = "\nEpoch " + std::to_string(epoch + 1) + ": ";
        if (save_best_only_) {
            const double current = monitor_.value(logs);
            const std::string best = detail::python_float(monitor_.best(), 'f', 5);
            if (!monitor_.improves(current)) {
                if (verbose_ > 0) std::cout << prefix << monitor_.key() << " did not improve from " << best << "\n";
                return;
            }
            if (verbose_ > 0)
                std::cout << prefix << monitor_.key() << " improved from " << best << " to "
                          << detail::python_float(current, 'f', 5) << ", saving model to " << path << "\n";
            monitor_.set_best(current);
        } else if (verbose_ > 0) {
            std::cout << prefix << "saving model to " << path << "\n";
        }
        make_parent_directory(path);
        model.save_model(path, save_weights_only_);
        ++saves_;
        last_path_ = path;
        if (verbose_ > 0) std::cout << prefix << "finished saving model to " << path << "\n" << std::flush;
    }

    const std::string& filepath() const noexcept { return filepath_; }
    double best() const noexcept { return monitor_.best(); }
    int saves() const noexcept { return saves_; }                         // files written, over all fit() calls
    const std::string& last_path() const noexcept { return last_path_; }  // empty before the first save

private:
    static void make_parent_directory(const std::string& path) {
        const std::filesystem::path dir = std::filesystem::path(path).parent_path();
        if (dir.empty()) return;
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec)
            throw IoError(ErrorId::io_write, "ModelCheckpoint: cannot create the directory '" + dir.string() +
                                                 "' for '" + path + "': " + ec.message());
    }

    std::string filepath_;
    Monitor monitor_;
    int verbose_;
    bool save_best_only_;
    bool save_weights_only_;
    std::vector<detail::FilepathPiece> pieces_;
    int saves_ = 0;
    std::string last_path_;
};

}  // namespace lamina
