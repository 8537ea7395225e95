// examples/onnx_flag.hpp: --export-onnx PATH, the trained model as an ONNX
// file (docs/onnx.md), for ONNX Runtime, Netron or any other ONNX tool:
//
//   build-onnx/examples/mnist_cnn --export-onnx mnist_cnn.onnx
//
// The ONNX path exists where the examples were built with LAMINA_ONNX=ON
// (which sets LAMINA_EXAMPLES_ONNX); elsewhere --export-onnx is refused up
// front, with status 1 and lamina's error, as is a path that cannot be
// written (status 2), so that neither costs a training run.
#pragma once

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>
#if LAMINA_EXAMPLES_ONNX
#include <lamina/onnx/export.hpp>
#endif

#include "cli.hpp"
#include "output_paths.hpp"

namespace examples {

class OnnxExport {
public:
    static std::vector<std::string> names(std::vector<std::string> own) {
        own.push_back("export-onnx");
        return own;
    }

    explicit OnnxExport(const Cli& cli) : path_(cli.get("export-onnx", "")) {
        if (path_.empty()) return;
#if !LAMINA_EXAMPLES_ONNX
        std::cerr << "error: "
                  << lamina::ConfigError(lamina::ErrorId::config_argument,
                                         "--export-onnx: this build has no ONNX export; configure with "
                                         "-DLAMINA_ONNX=ON (needs libonnx-dev, libprotobuf-dev; docs/onnx.md)")
                         .what()
                  << "\n";
        std::exit(1);
#endif
        if (const std::string problem = file_problem(path_); !problem.empty()) cli.fail("--export-onnx: " + problem);
    }

    // Writes the model where --export-onnx said, if it said.
    void write_if_asked(const lamina::Sequential<float>& model) const {
        if (path_.empty()) return;
#if LAMINA_EXAMPLES_ONNX
        lamina::onnx::save(model, path_);
        std::cout << "exported the model as ONNX to " << path_ << "\n";
#else
        (void)model;
#endif
    }

private:
    std::string path_;
};

}  // namespace examples
