// End-to-end training on real MNIST subsets: the first 2,000 training images,
// scored on the first 1,000 test images. Small enough for ctest, large
// enough that a broken gradient, optimizer or data path cannot pass.
#include <catch2/catch.hpp>

#include <string>

#include <lamina/lamina.hpp>

using namespace lamina;

namespace {

struct Subset {
    Tensor<float> x_train, x_test;
    Tensor<std::int32_t> y_train, y_test;
};

const Subset& subset() {
    static const Subset s = [] {
        const auto mnist = datasets::load_mnist<float>(LAMINA_TEST_DATA_DIR);
        return Subset{mnist.train.x.slice_rows(0, 2000), mnist.test.x.slice_rows(0, 1000),
                      mnist.train.y.slice_rows(0, 2000), mnist.test.y.slice_rows(0, 1000)};
    }();
    return s;
}

// Trains `model` on the subset with the same budget for every network and
// returns its test accuracy.
double train_and_score(Sequential<float>& model, int epochs, Index batch_size = 32) {
    const auto& d = subset();
    model.compile(Adam(1e-3), SparseCategoricalCrossentropy(/*from_logits=*/true), {metrics::accuracy});
    FitOptions<float> o;
    o.epochs = epochs;
    o.batch_size = batch_size;
    o.verbose = 0;
    model.fit(d.x_train, d.y_train, o);
    return model.evaluate(d.x_test, d.y_test).accuracy();
}

}  // namespace

TEST_CASE("An MLP trained on 2,000 MNIST images scores >= 89 % on 1,000 test images, averaged over 3 seeds",
          "[mnist][training]") {
    // 2,000 images are few: a wider layer with strong dropout and small
    // batches generalises best. One seed's score is a draw from a spread
    // (seeds 1-8 measured 89.4-91.2 %, mean 90.3 %), so the test averages
    // three; a broken gradient, optimizer or data path lands far below.
    double sum = 0;
    std::string scores;
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        Sequential<float> mlp("mlp", seed);
        mlp.add(Flatten());
        mlp.add(Dense(256, Activation::ReLU));
        mlp.add(Dropout(0.5));
        mlp.add(Dense(10));
        const double accuracy = train_and_score(mlp, 20, 16);
        scores += " " + std::to_string(accuracy);
        sum += accuracy;
    }
    INFO("MLP test accuracy, seeds 1-3:" << scores << "; mean " << sum / 3);
    CHECK(sum / 3 >= 0.89);
}

TEST_CASE("A small CNN beats the same-budget MLP on the MNIST subset", "[mnist][training][conv2d]") {
    Sequential<float> mlp("mlp", 2);
    mlp.add(Flatten());
    mlp.add(Dense(128, Activation::ReLU));
    mlp.add(Dense(10));
    Sequential<float> cnn("cnn", 2);
    cnn.add(Conv2D(16, 3, Activation::ReLU));
    cnn.add(MaxPool2D(2));
    cnn.add(Conv2D(32, 3, Activation::ReLU));
    cnn.add(MaxPool2D(2));
    cnn.add(Flatten());
    cnn.add(Dense(10));
    const double mlp_accuracy = train_and_score(mlp, 5);
    const double cnn_accuracy = train_and_score(cnn, 5);
    INFO("MLP " << mlp_accuracy << ", CNN " << cnn_accuracy);
    // Seeds 1-5 measured 0.913-0.935 (seed 2: 0.928); a broken convolution
    // or pooling gradient lands far below.
    CHECK(cnn_accuracy >= 0.90);
    CHECK(cnn_accuracy > mlp_accuracy + 0.01);
}
