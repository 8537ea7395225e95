// lamina/datasets/mnist.hpp: MNIST and Fashion-MNIST as ready-to-train tensors.
//
// Contract: load_mnist<T>(dir) and load_fashion_mnist<T>(dir) read the four
// IDX files of the data set from dir:
//   train-images-idx3-ubyte, train-labels-idx1-ubyte,
//   t10k-images-idx3-ubyte,  t10k-labels-idx1-ubyte,
// each either raw or with a .gz suffix (the raw file wins when both exist:
// it loads without decompressing). They return
//   train.x, test.x  Tensor<T>             (N, 1, H, W), pixel / 255 in [0, 1]
//   train.y, test.y  Tensor<std::int32_t>  (N,), class ids in [0, 10)
// with N = 60000 / 10000 and H = W = 28 for both data sets; any (N, H, W)
// image file is accepted. T is float or double.
//
// Errors (every message names the file or files):
//   IoError     io_open      neither the raw nor the .gz name exists (both paths
//                            and where the data set comes from are in the message)
//   ShapeError  shape_rank   an image file is not (N, H, W) or a label file not (N,)
//   ShapeError  shape_count  an image file and its label file hold different N
//   ConfigError config_label a label is 10 or more (the message gives index and value)
//   and everything io::read_idx raises (FormatError for corrupt files).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <type_traits>

#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/io/idx.hpp"

namespace lamina::datasets {

// One part of a data set: inputs and their integer class ids.
template <class T = float>
struct Split {
    Tensor<T> x;             // (N, 1, H, W)
    Tensor<std::int32_t> y;  // (N,)
};

template <class T = float>
struct Dataset {
    Split<T> train;
    Split<T> test;
};

namespace detail {

// What load_idx_dataset needs to know about one IDX data set.
struct IdxDatasetInfo {
    const char* function;  // for messages: "load_mnist"
    const char* origin;    // where to get the files, shown when they are missing
    Index classes;
};

inline std::string find_idx_file(const std::string& dir, const std::string& name, const IdxDatasetInfo& info) {
    const std::filesystem::path raw = std::filesystem::path(dir) / name;
    const std::filesystem::path gz = std::filesystem::path(dir) / (name + ".gz");
    std::error_code ec;
    if (std::filesystem::exists(raw, ec)) return raw.string();
    if (std::filesystem::exists(gz, ec)) return gz.string();
    throw IoError(ErrorId::io_open, std::string(info.function) + ": found neither '" + gz.string() + "' nor '" +
                                        raw.string() + "'. " + info.origin);
}

template <class T>
Tensor<T> images_to_unit_range(const Tensor<std::uint8_t>& pixels, const std::string& path,
                               const IdxDatasetInfo& info) {
    const Shape& s = pixels.shape();
    if (s.rank() != 3)
        throw ShapeError(ErrorId::shape_rank, std::string(info.function) + ": '" + path +
                                                  "' should hold images (N, rows, cols), but holds shape " + s.str());
    Tensor<T> x(Shape{s[0], 1, s[1], s[2]});
    // A table gives exactly pixel / T(255), Keras's x / 255.0, at the cost of a load.
    std::array<T, 256> scale{};
    for (int v = 0; v < 256; ++v) scale[static_cast<std::size_t>(v)] = T(v) / T(255);
    const std::uint8_t* in = pixels.data();
    T* out = x.data();
    backend::parallel_ranges(x.size(), [&](Index begin, Index end) {
        for (Index i = begin; i < end; ++i) out[i] = scale[in[i]];
    });
    return x;
}

inline Tensor<std::int32_t> checked_labels(const Tensor<std::uint8_t>& raw, const std::string& path,
                                           const IdxDatasetInfo& info) {
    if (raw.shape().rank() != 1)
        throw ShapeError(ErrorId::shape_rank, std::string(info.function) + ": '" + path +
                                                  "' should hold labels (N,), but holds shape " + raw.shape().str());
    for (Index i = 0; i < raw.size(); ++i)
        if (raw[i] >= info.classes)
            throw ConfigError(ErrorId::config_label, std::string(info.function) + ": '" + path + "': label " +
                                                         std::to_string(i) + " is " + std::to_string(raw[i]) +
                                                         ", outside [0, " + std::to_string(info.classes) + ")");
    return raw.cast<std::int32_t>();
}

template <class T>
Split<T> load_idx_split(const std::string& dir, const std::string& prefix, const IdxDatasetInfo& info) {
    const std::string images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte", info);
    const std::string labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte", info);
    Split<T> split;
    split.x = images_to_unit_range<T>(io::read_idx(images_path), images_path, info);
    split.y = checked_labels(io::read_idx(labels_path), labels_path, info);
    if (split.x.rows() != split.y.rows())
        throw ShapeError(ErrorId::shape_count, std::string(info.function) + ": '" + images_path + "' holds " +
                                                   std::to_string(split.x.rows()) + " images but '" + labels_path +
                                                   "' holds " + std::to_string(split.y.rows()) + " labels");
    return split;
}

template <class T>
Dataset<T> load_idx_dataset(const std::string& dir, const IdxDatasetInfo& info) {
    static_assert(std::is_floating_point_v<T>,
                  "load_mnist<T> / load_fashion_mnist<T>: T must be float or double (pixels become values in [0, 1])");
    Dataset<T> data;
    data.train = load_idx_split<T>(dir, "train", info);
    data.test = load_idx_split<T>(dir, "t10k", info);
    return data;
}

}  // namespace detail

// Handwritten digits 0-9 (LeCun, Cortes, Burges; CC BY-SA 3.0). lamina's
// repository carries the four .gz files in data/mnist.
template <class T = float>
Dataset<T> load_mnist(const std::string& dir = "data/mnist") {
    static const detail::IdxDatasetInfo info{
        "load_mnist",
        "MNIST is the four IDX files of http://yann.lecun.com/exdb/mnist/ (mirror: "
        "https://ossci-datasets.s3.amazonaws.com/mnist/); lamina's repository ships them in data/mnist, "
        "so pass the path of that folder.",
        10};
    return detail::load_idx_dataset<T>(dir, info);
}

// Zalando's clothing images in MNIST's format and sizes, labels 0-9 (T-shirt
// ... ankle boot). Debian's package dataset-fashion-mnist installs the four
// .gz files in the default folder.
template <class T = float>
Dataset<T> load_fashion_mnist(const std::string& dir = "/usr/share/datasets/fashion-mnist") {
    static const detail::IdxDatasetInfo info{
        "load_fashion_mnist",
        "Fashion-MNIST comes from https://github.com/zalandoresearch/fashion-mnist; on Debian and Ubuntu, "
        "'apt install dataset-fashion-mnist' puts its four files in /usr/share/datasets/fashion-mnist.",
        10};
    return detail::load_idx_dataset<T>(dir, info);
}

}  // namespace lamina::datasets
