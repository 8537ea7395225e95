// examples/dataset_flag.hpp: --dataset mnist|fashion for both MNIST examples.
//
//   mnist    (the default) handwritten digits, datasets::load_mnist from the
//            repository's data/mnist
//   fashion  Zalando's Fashion-MNIST, clothing in MNIST's format and sizes,
//            datasets::load_fashion_mnist from its default folder
//            /usr/share/datasets/fashion-mnist (Debian's and Ubuntu's
//            package dataset-fashion-mnist)
// --data DIR reads the chosen data set from DIR instead. The choice is
// checked with the other flags, before any data is read; a data set that is
// not there is lamina's IoError, whose message says where to get it.
#pragma once

#include <string>

#include <lamina/lamina.hpp>

#include "cli.hpp"

namespace examples {

class DatasetFlag {
public:
    // `default_mnist_dir`: where MNIST is when --data is not given.
    DatasetFlag(const Cli& cli, std::string default_mnist_dir)
        : fashion_(cli.get_choice("dataset", "mnist", {"mnist", "fashion"}) == "fashion"),
          dir_(cli.get("data", fashion_ ? "" : default_mnist_dir)) {}

    // The data set's name for printed lines: "MNIST" or "Fashion-MNIST".
    const char* title() const { return fashion_ ? "Fashion-MNIST" : "MNIST"; }
    bool fashion() const { return fashion_; }

    lamina::datasets::Dataset<float> load() const {
        if (!fashion_) return lamina::datasets::load_mnist<float>(dir_);
        // No --data: the library's own default folder, named in its error message.
        return dir_.empty() ? lamina::datasets::load_fashion_mnist<float>()
                            : lamina::datasets::load_fashion_mnist<float>(dir_);
    }

private:
    bool fashion_;
    std::string dir_;  // empty: load_fashion_mnist's default
};

}  // namespace examples
