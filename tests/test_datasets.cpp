// datasets: load_mnist / load_fashion_mnist, to_categorical, normalize, validation splits.
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <lamina/datasets/mnist.hpp>
#include <lamina/datasets/preprocessing.hpp>
#include <lamina/datasets/split.hpp>
#include <lamina/io/idx.hpp>

#include "matchers.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace lamina;
namespace fs = std::filesystem;

using test::TempDir;

namespace {

// The real data set, loaded once for all the tests that read it.
const datasets::Dataset<float>& mnist() {
    static const auto data = datasets::load_mnist<float>(LAMINA_TEST_DATA_DIR);
    return data;
}

std::array<Index, 10> histogram(const Tensor<std::int32_t>& y) {
    std::array<Index, 10> h{};
    for (Index i = 0; i < y.size(); ++i) ++h.at(static_cast<std::size_t>(y[i]));
    return h;
}

// A tiny data set in IDX files: n images of 2x3 pixels (i, i+1, ...) and labels i % 10.
void write_tiny(const TempDir& dir, const std::string& prefix, Index n_images, Index n_labels) {
    Tensor<std::uint8_t> images(Shape{n_images, 2, 3});
    for (Index i = 0; i < images.size(); ++i) images[i] = static_cast<std::uint8_t>(i);
    Tensor<std::uint8_t> labels(Shape{n_labels});
    for (Index i = 0; i < n_labels; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
    io::write_idx(dir.file(prefix + "-images-idx3-ubyte"), images);
    io::write_idx(dir.file(prefix + "-labels-idx1-ubyte"), labels);
}

// Replaces `from` by its gzipped copy `to`.
void gzip_file(const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    gzFile f = gzopen(to.c_str(), "wb");
    REQUIRE(f != nullptr);
    const int written = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    const int closed = gzclose(f);
    REQUIRE(written == static_cast<int>(bytes.size()));
    REQUIRE(closed == Z_OK);
    fs::remove(from);
}

}  // namespace

TEST_CASE("load_mnist: the real files give 60000/10000 images (N, 1, 28, 28) in [0, 1] and known labels",
          "[datasets][mnist]") {
    const auto& d = mnist();
    REQUIRE(d.train.x.shape() == Shape{60000, 1, 28, 28});
    REQUIRE(d.train.y.shape() == Shape{60000});
    REQUIRE(d.test.x.shape() == Shape{10000, 1, 28, 28});
    REQUIRE(d.test.y.shape() == Shape{10000});
    CHECK(d.train.y[0] == 5);
    CHECK(d.test.y[0] == 7);
    CHECK(d.train.x.array().minCoeff() == 0.0f);
    CHECK(d.train.x.array().maxCoeff() == 1.0f);
    CHECK(d.test.x.array().minCoeff() == 0.0f);
    CHECK(d.test.x.array().maxCoeff() == 1.0f);
    // The published class counts of MNIST.
    CHECK(histogram(d.train.y) == std::array<Index, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});
    CHECK(histogram(d.test.y) == std::array<Index, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
}

TEST_CASE("load_mnist: uncompressed copies of the real files load to the same tensors", "[datasets][mnist]") {
    TempDir dir("datasets");
    for (const char* name :
         {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
        io::write_idx(dir.file(name), io::read_idx(std::string(LAMINA_TEST_DATA_DIR) + "/" + name + ".gz"));
    const auto raw = datasets::load_mnist<float>(dir.path().string());
    const auto& gz = mnist();
    CHECK(raw.train.x.shape() == gz.train.x.shape());
    CHECK((raw.train.x.array() == gz.train.x.array()).all());
    CHECK((raw.train.y.array() == gz.train.y.array()).all());
    CHECK((raw.test.x.array() == gz.test.x.array()).all());
    CHECK((raw.test.y.array() == gz.test.y.array()).all());
}

TEST_CASE("load_mnist: raw and .gz names mix, the raw file wins, pixels are exactly v / 255", "[datasets][mnist]") {
    TempDir dir("datasets");
    write_tiny(dir, "train", 12, 12);
    write_tiny(dir, "t10k", 3, 3);
    gzip_file(dir.file("train-images-idx3-ubyte"), dir.file("train-images-idx3-ubyte.gz"));
    gzip_file(dir.file("t10k-labels-idx1-ubyte"), dir.file("t10k-labels-idx1-ubyte.gz"));

    const auto d = datasets::load_mnist<double>(dir.path().string());
    REQUIRE(d.train.x.shape() == Shape{12, 1, 2, 3});
    REQUIRE(d.test.y.shape() == Shape{3});
    for (Index i = 0; i < d.train.x.size(); ++i) CHECK(d.train.x[i] == double(i) / 255.0);
    CHECK(d.train.y[11] == 1);

    // Both names present: the raw file (here holding all zeros) is the one read.
    Tensor<std::uint8_t> zeros(Shape{12, 2, 3}, std::uint8_t(0));
    io::write_idx(dir.file("train-images-idx3-ubyte"), zeros);
    CHECK(datasets::load_mnist<float>(dir.path().string()).train.x.array().maxCoeff() == 0.0f);
}

TEST_CASE("load_mnist: missing files, count mismatches, bad labels and wrong ranks are reported",
          "[datasets][mnist][errors]") {
    TempDir dir("datasets");
    const std::string root = dir.path().string();

    SECTION("no files: both names tried and the source of MNIST named") {
        REQUIRE_THROWS_MATCHES(datasets::load_mnist<float>(root), IoError,
                               test::error(ErrorId::io_open, {dir.file("train-images-idx3-ubyte.gz"),
                                                              dir.file("train-images-idx3-ubyte"), "yann.lecun.com"}));
        REQUIRE_THROWS_MATCHES(datasets::load_fashion_mnist<float>(root), IoError,
                               test::error(ErrorId::io_open, {"load_fashion_mnist", "dataset-fashion-mnist"}));
    }
    SECTION("image and label counts disagree") {
        write_tiny(dir, "train", 12, 12);
        write_tiny(dir, "t10k", 3, 4);
        REQUIRE_THROWS_MATCHES(datasets::load_mnist<float>(root), ShapeError,
                               test::error(ErrorId::shape_count, {dir.file("t10k-images-idx3-ubyte"), "3 images",
                                                                  dir.file("t10k-labels-idx1-ubyte"), "4 labels"}));
    }
    SECTION("a label of 10 or more") {
        write_tiny(dir, "train", 12, 12);
        write_tiny(dir, "t10k", 3, 3);
        Tensor<std::uint8_t> labels(Shape{3}, {1, 2, 10});
        io::write_idx(dir.file("t10k-labels-idx1-ubyte"), labels);
        REQUIRE_THROWS_MATCHES(
            datasets::load_mnist<float>(root), ConfigError,
            test::error(ErrorId::config_label, {dir.file("t10k-labels-idx1-ubyte"), "label 2 is 10", "[0, 10)"}));
    }
    SECTION("images that are not (N, H, W), labels that are not (N,)") {
        write_tiny(dir, "train", 12, 12);
        write_tiny(dir, "t10k", 3, 3);
        io::write_idx(dir.file("t10k-images-idx3-ubyte"), Tensor<std::uint8_t>(Shape{3, 6}, std::uint8_t(0)));
        REQUIRE_THROWS_MATCHES(datasets::load_mnist<float>(root), ShapeError,
                               test::error(ErrorId::shape_rank, {dir.file("t10k-images-idx3-ubyte"), "(3, 6)"}));
        write_tiny(dir, "t10k", 3, 3);
        io::write_idx(dir.file("t10k-labels-idx1-ubyte"), Tensor<std::uint8_t>(Shape{3, 1}, std::uint8_t(0)));
        REQUIRE_THROWS_MATCHES(datasets::load_mnist<float>(root), ShapeError,
                               test::error(ErrorId::shape_rank, {dir.file("t10k-labels-idx1-ubyte"), "(3, 1)"}));
    }
    SECTION("a corrupt file's FormatError comes through") {
        write_tiny(dir, "train", 12, 12);
        write_tiny(dir, "t10k", 3, 3);
        fs::resize_file(dir.file("t10k-images-idx3-ubyte"), 20);
        REQUIRE_THROWS_MATCHES(datasets::load_mnist<float>(root), FormatError,
                               test::error(ErrorId::format_size,
                                           {dir.file("t10k-images-idx3-ubyte"), "expected 18 bytes of data, got 4"}));
    }
}

TEST_CASE("load_fashion_mnist: the Debian package's files, when installed", "[datasets][fashion]") {
    // Debian's dataset-fashion-mnist package puts the files here; without it
    // the test has nothing to read, so it says so and passes.
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    if (!fs::exists(dir)) {
        WARN("skipped: " << dir << " does not exist (install the Debian package dataset-fashion-mnist)");
        return;
    }
    const auto d = datasets::load_fashion_mnist<float>(dir);
    REQUIRE(d.train.x.shape() == Shape{60000, 1, 28, 28});
    REQUIRE(d.test.x.shape() == Shape{10000, 1, 28, 28});
    CHECK(d.train.y[0] == 9);  // an ankle boot
    CHECK(d.train.x.array().minCoeff() == 0.0f);
    CHECK(d.train.x.array().maxCoeff() == 1.0f);
    // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
    std::array<Index, 10> train_counts{}, test_counts{};
    train_counts.fill(6000);
    test_counts.fill(1000);
    CHECK(histogram(d.train.y) == train_counts);
    CHECK(histogram(d.test.y) == test_counts);
}

TEST_CASE("to_categorical: one-hot rows, inferred class count, label errors", "[datasets][preprocessing]") {
    const Tensor<std::int32_t> y(Shape{4}, {2, 0, 1, 2});
    const auto one_hot = datasets::to_categorical(y);
    REQUIRE(one_hot.shape() == Shape{4, 3});
    const Tensor<float> expected(Shape{4, 3}, {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
    CHECK((one_hot.array() == expected.array()).all());

    const auto wide = datasets::to_categorical<double>(Tensor<std::uint8_t>(Shape{2, 1}, {3, 0}), 5);
    REQUIRE(wide.shape() == Shape{2, 5});
    CHECK(wide(0, 3) == 1.0);
    CHECK(wide(1, 0) == 1.0);
    CHECK(wide.array().sum() == 2.0);

    REQUIRE_THROWS_MATCHES(datasets::to_categorical(y, 2), ConfigError,
                           test::error(ErrorId::config_label, {"y[0] = 2", "[0, 2)"}));
    REQUIRE_THROWS_MATCHES(datasets::to_categorical(Tensor<std::int32_t>(Shape{3}, {0, -1, 1})), ConfigError,
                           test::error(ErrorId::config_label, {"y[1] = -1"}));
    REQUIRE_THROWS_MATCHES(datasets::to_categorical(y, 0), ConfigError, test::error(ErrorId::config_argument));
    REQUIRE_THROWS_MATCHES(datasets::to_categorical(y, -2), ConfigError, test::error(ErrorId::config_argument));
    REQUIRE_THROWS_MATCHES(datasets::to_categorical(Tensor<std::int32_t>(Shape{0})), ConfigError,
                           test::error(ErrorId::config_argument, {"empty"}));
    REQUIRE_THROWS_MATCHES(datasets::to_categorical(Tensor<std::int32_t>(Shape{2, 2}, 0)), ShapeError,
                           test::error(ErrorId::shape_rank, {"(2, 2)"}));
}

TEST_CASE("normalize: Keras's L2/L1 normalization along numpy-style axes", "[datasets][preprocessing]") {
    const Tensor<double> x(Shape{2, 3}, {3, 4, 0, 0, 0, 0});

    SECTION("last axis, L2 and L1; all-zero rows stay zero") {
        const auto l2 = datasets::normalize(x);
        CHECK(l2.shape() == x.shape());
        const Tensor<double> e2(Shape{2, 3}, {0.6, 0.8, 0, 0, 0, 0});
        for (Index i = 0; i < 6; ++i) CHECK(l2[i] == Approx(e2[i]));
        const auto l1 = datasets::normalize(x, -1, 1);
        const Tensor<double> e1(Shape{2, 3}, {3.0 / 7, 4.0 / 7, 0, 0, 0, 0});
        for (Index i = 0; i < 6; ++i) CHECK(l1[i] == Approx(e1[i]));
        CHECK((datasets::normalize(x, 1).array() == l2.array()).all());
    }
    SECTION("first axis: each column divided by its own norm") {
        const Tensor<double> y(Shape{2, 2}, {3, 1, 4, -1});
        const auto n = datasets::normalize(y, 0);
        const double r2 = std::sqrt(2.0);
        const Tensor<double> e(Shape{2, 2}, {0.6, 1 / r2, 0.8, -1 / r2});
        for (Index i = 0; i < 4; ++i) CHECK(n[i] == Approx(e[i]));
        CHECK((datasets::normalize(y, -2).array() == n.array()).all());
    }
    SECTION("Keras's normalize(x, axis=1) on (N, 28, 28) is axis 2 on (N, 1, H, W): unit image columns") {
        Tensor<float> images(Shape{2, 1, 3, 2}, {1, 0, 2, 0, 2, 0,     //
                                                 0, 0, 0, 5, 0, 12});  // second image: column 0 all zero
        const auto n = datasets::normalize(images, 2);
        const Tensor<float> e(Shape{2, 1, 3, 2}, {1.0f / 3, 0, 2.0f / 3, 0, 2.0f / 3, 0,  //
                                                  0, 0, 0, 5.0f / 13, 0, 12.0f / 13});
        for (Index i = 0; i < e.size(); ++i) CHECK(n[i] == Approx(e[i]));
        // Over the single channel every nonzero pixel becomes 1: almost never what a notebook meant.
        const auto channel = datasets::normalize(images, 1);
        for (Index i = 0; i < images.size(); ++i) CHECK(channel[i] == (images[i] != 0 ? 1.0f : 0.0f));
    }
    SECTION("argument errors") {
        REQUIRE_THROWS_MATCHES(datasets::normalize(x, 2), ConfigError,
                               test::error(ErrorId::config_argument, {"axis 2", "(2, 3)"}));
        REQUIRE_THROWS_MATCHES(datasets::normalize(x, -3), ConfigError,
                               test::error(ErrorId::config_argument, {"axis -3"}));
        REQUIRE_THROWS_MATCHES(datasets::normalize(x, -1, 3), ConfigError,
                               test::error(ErrorId::config_argument, {"order must be 1 or 2, got 3"}));
        REQUIRE_THROWS_MATCHES(datasets::normalize(Tensor<double>(Shape{}, 1.0)), ShapeError,
                               test::error(ErrorId::shape_rank));
    }
}

TEST_CASE("validation_from_end / validation_from_start: Keras's and the notebooks' hold-out sets",
          "[datasets][split]") {
    Tensor<float> x(Shape{10, 2});
    Tensor<std::int32_t> y(Shape{10});
    for (Index i = 0; i < 10; ++i) {
        x(i, 0) = float(i);
        x(i, 1) = float(100 + i);
        y[i] = std::int32_t(i);
    }

    SECTION("the last fraction validates, as fit(validation_split) does") {
        const auto s = datasets::validation_from_end(x, y, 0.2);
        REQUIRE(s.x_train.shape() == Shape{8, 2});
        REQUIRE(s.y_train.shape() == Shape{8});
        REQUIRE(s.x_val.shape() == Shape{2, 2});
        REQUIRE(s.y_val.shape() == Shape{2});
        CHECK(s.x_train(7, 1) == 107.0f);
        CHECK(s.x_val(0, 0) == 8.0f);
        CHECK(s.y_val[1] == 9);
        // floor(10 * 0.95) = 9 training samples: one validates.
        CHECK(datasets::validation_from_end(x, y, 0.05).y_val.shape() == Shape{1});
        const auto none = datasets::validation_from_end(x, y, 0.0);
        CHECK(none.x_train.shape() == Shape{10, 2});
        CHECK(none.x_val.shape() == Shape{0, 2});
    }
    SECTION("the first count validates, as X_train_full[:5000] does") {
        const auto s = datasets::validation_from_start(x, y, 3);
        REQUIRE(s.x_val.shape() == Shape{3, 2});
        REQUIRE(s.x_train.shape() == Shape{7, 2});
        CHECK(s.y_val[0] == 0);
        CHECK(s.y_val[2] == 2);
        CHECK(s.y_train[0] == 3);
        CHECK(s.x_train(6, 1) == 109.0f);
        CHECK(datasets::validation_from_start(x, y, std::size_t(10)).x_train.shape() == Shape{0, 2});
        CHECK(datasets::validation_from_start(x, y, 0).y_train.shape() == Shape{10});
    }
    SECTION("the notebook split of the real training set") {
        const auto s = datasets::validation_from_start(mnist().train.x, mnist().train.y, 5000);
        CHECK(s.x_val.shape() == Shape{5000, 1, 28, 28});
        CHECK(s.x_train.shape() == Shape{55000, 1, 28, 28});
        CHECK(s.y_val[0] == 5);
        CHECK(s.y_train[0] == mnist().train.y[5000]);
    }
    SECTION("argument errors") {
        for (double f : {1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()})
            REQUIRE_THROWS_MATCHES(datasets::validation_from_end(x, y, f), ConfigError,
                                   test::error(ErrorId::config_argument, {"fraction must be in [0, 1)"}));
        REQUIRE_THROWS_MATCHES(datasets::validation_from_end(x, y, 0.95), ConfigError,
                               test::error(ErrorId::config_argument, {"empty training or validation set"}));
        REQUIRE_THROWS_MATCHES(datasets::validation_from_end(x, y, 1e-18), ConfigError,
                               test::error(ErrorId::config_argument, {"empty training or validation set"}));
        REQUIRE_THROWS_MATCHES(datasets::validation_from_start(x, y, 11), ConfigError,
                               test::error(ErrorId::config_argument, {"[0, 10]", "got 11"}));
        REQUIRE_THROWS_MATCHES(datasets::validation_from_start(x, y, -1), ConfigError,
                               test::error(ErrorId::config_argument, {"got -1"}));
        const Tensor<std::int32_t> short_y(Shape{9}, 0);
        REQUIRE_THROWS_MATCHES(datasets::validation_from_end(x, short_y, 0.1), ShapeError,
                               test::error(ErrorId::shape_count, {"x has 10 samples but y has 9"}));
        REQUIRE_THROWS_MATCHES(datasets::validation_from_start(x, short_y, 1), ShapeError,
                               test::error(ErrorId::shape_count));
    }
}
