// examples/training_flags.hpp: the persistence and callback flags both MNIST examples take.
//
//   --save PATH          save the trained model (with optimizer state) to PATH
//   --resume PATH        load PATH and continue its training up to --epochs in total
//   --early-stopping N   stop after N epochs without improvement (val_loss when
//                        the network validates, else loss), keeping the best weights
//   --checkpoint PATTERN save after every epoch, e.g. "ckpt-{epoch:02d}.lamina"
//   --csv FILE           log each epoch's metrics to FILE (appended to when resuming)
#pragma once

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

#include "cli.hpp"
#include "output_paths.hpp"

namespace examples {

struct TrainingFlags {
    std::string save, resume, checkpoint, csv;
    int early_stopping = 0;  // 0: off

    // An example's own flags plus these, for Cli.
    static std::vector<std::string> names(std::vector<std::string> own) {
        for (const char* f : {"save", "resume", "early-stopping", "checkpoint", "csv"}) own.push_back(f);
        return own;
    }

    explicit TrainingFlags(const Cli& cli)
        : save(cli.get("save", "")),
          resume(cli.get("resume", "")),
          checkpoint(cli.get("checkpoint", "")),
          csv(cli.get("csv", "")),
          early_stopping(int(cli.get_int("early-stopping", 0, 1, 100000))) {}

    // Every output path and pattern, checked before the first epoch: a bad
    // one exits with the usage (status 2) instead of losing the training.
    // `validates`: the run has validation data, so val_* keys exist.
    void check_outputs(const Cli& cli, bool validates) const {
        if (!save.empty())
            if (const std::string problem = file_problem(save); !problem.empty()) cli.fail("--save: " + problem);
        if (!csv.empty())
            if (const std::string problem = file_problem(csv); !problem.empty()) cli.fail("--csv: " + problem);
        if (checkpoint.empty()) return;
        // The first epoch's file name, from the keys every epoch's logs hold
        // (the examples all compile with accuracy).
        lamina::Logs keys{{"loss", 0.0}, {"accuracy", 0.0}};
        if (validates) keys.insert({{"val_loss", 0.0}, {"val_accuracy", 0.0}});
        std::string first;
        try {
            first = lamina::format_filepath(checkpoint, 0, keys);
        } catch (const lamina::Error& e) {
            cli.fail("--checkpoint: " + std::string(e.what()));
        }
        const auto dir = std::filesystem::path(first).parent_path();
        if (!dir.empty())
            if (const std::string problem = directory_problem(dir.string()); !problem.empty())
                cli.fail("--checkpoint: " + problem);
        if (const std::string problem = file_problem(first); !problem.empty()) cli.fail("--checkpoint: " + problem);
    }

    // The model to train: loaded from --resume (compiled, with its optimizer
    // state and epoch count), or none, and the caller builds a fresh one.
    std::optional<lamina::Sequential<float>> resumed() const {
        if (resume.empty()) return std::nullopt;
        auto model = lamina::Sequential<float>::load(resume);
        std::cout << "resuming '" << resume << "' after epoch " << model.epochs_completed() << "\n";
        return model;
    }

    // Adds the callbacks and, when resuming, starts at the saved epoch with
    // the saved shuffling state (so no reseeding).
    void configure(lamina::FitOptions<float>& options, const lamina::Sequential<float>& model, bool validates) const {
        using namespace lamina;
        if (!resume.empty()) {
            options.initial_epoch = model.epochs_completed();
            options.seed.reset();
        }
        if (early_stopping > 0)
            options.callbacks.push_back(
                EarlyStopping(early_stopping, /*restore_best_weights=*/true, validates ? "val_loss" : "loss"));
        if (!checkpoint.empty())
            options.callbacks.push_back(ModelCheckpoint(checkpoint, validates ? "val_loss" : "loss"));
        if (!csv.empty()) options.callbacks.push_back(CSVLogger(csv, ',', /*append=*/!resume.empty()));
    }

    void save_if_asked(const lamina::Sequential<float>& model) const {
        if (save.empty()) return;
        model.save(save);
        std::cout << "saved '" << save << "' after epoch " << model.epochs_completed() << "\n";
    }
};

}  // namespace examples
