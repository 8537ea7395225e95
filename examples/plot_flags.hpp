// examples/plot_flags.hpp: the --plots flag both MNIST examples take.
//
//   --plots DIR   after training, draw into DIR (created if missing):
//                 digits.png      60 test digits, the first misclassified ones among them
//                 curves.png/svg  loss and accuracy per epoch (train, validation)
//                 confusion.txt   the test set's confusion matrix as a table
//                 confusion.png   the same as a heatmap
//                 weights.png     the first Dense/Conv2D layer's weights as tiles
//                 model.dot       the model for Graphviz (dot -Tpng model.dot -o model.png)
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <lamina/images.hpp>

#include "cli.hpp"
#include "output_paths.hpp"

namespace examples {

struct PlotFlags {
    std::string dir;  // empty: no plots

    // An example's flags plus this one, for Cli.
    static std::vector<std::string> names(std::vector<std::string> own) {
        own.push_back("plots");
        return own;
    }

    // The directory is created and tried now, before training.
    explicit PlotFlags(const Cli& cli) : dir(cli.get("plots", "")) {
        if (dir.empty()) return;
        if (const std::string problem = directory_problem(dir); !problem.empty()) cli.fail("--plots: " + problem);
    }

    // Draws every picture of the trained model into `dir`; x_test (N, 1, 28,
    // 28) and y_test (N,) class ids are the images and labels it is judged on.
    void write(const lamina::Sequential<float>& model, const lamina::History& history,
               const lamina::Tensor<float>& x_test, const lamina::Tensor<std::int32_t>& y_test) const {
        namespace plot = lamina::plot;
        if (dir.empty()) return;
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec)
            throw lamina::IoError(lamina::ErrorId::io_write,
                                  "--plots: cannot create the directory '" + dir + "': " + ec.message());

        using clock = std::chrono::steady_clock;
        const auto predict_start = clock::now();
        const auto predicted = lamina::argmax(model.predict(x_test));  // (N,) class ids
        const auto start = clock::now();
        int files = 0;
        auto step = [&](const std::string& name, const std::function<void(const std::string&)>& draw) {
            const std::string path = (std::filesystem::path(dir) / name).string();
            draw(path);
            std::printf("wrote %s\n", path.c_str());
            ++files;
        };
        step("digits.png", [&](const std::string& p) {
            plot::plot_digits(p, x_test, y_test, predicted, plot::digits_to_show(y_test, predicted, 60));
        });
        // fit() with --epochs at or below a resumed run's epoch trains none: no curves to draw.
        if (!history.epoch.empty()) {
            step("curves.png", [&](const std::string& p) { plot::plot_training_curves(p, history); });
            step("curves.svg", [&](const std::string& p) { plot::plot_training_curves(p, history); });
        }
        const auto cm = plot::confusion_matrix(y_test, predicted, 10);
        step("confusion.txt", [&](const std::string& p) { plot::write_file(p, plot::confusion_table(cm)); });
        step("confusion.png", [&](const std::string& p) { plot::plot_confusion_matrix(p, cm); });
        step("weights.png", [&](const std::string& p) { plot::plot_first_layer_weights(p, model); });
        step("model.dot", [&](const std::string& p) { plot::plot_model(model, p); });
        const double seconds = std::chrono::duration<double>(clock::now() - start).count();
        const double predict_seconds = std::chrono::duration<double>(start - predict_start).count();
        std::printf("plots: %d files in %.3f s (predicting the %lld test images for them: %.3f s)\n", files, seconds,
                    static_cast<long long>(predicted.size()), predict_seconds);
    }
};

}  // namespace examples
