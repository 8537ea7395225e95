// tests/tools/model_tool.cpp: the other process in the model-file tests.
//
//   model_tool resume IN OUT EPOCHS   load IN, train on the fixture data up to
//                                     EPOCHS in total, save to OUT
//   model_tool save-loop PATH KIND    save two different KIND models to PATH
//                                     alternately until killed
//   model_tool corpus DIR             write the fuzzer's seed model files
//                                     (tests/fuzz/corpus/model/) to DIR
// Exit status 0 on success, 1 with the lamina::Error on stderr.
#include <cstdlib>
#include <iostream>
#include <string>

#include "../model_fixtures.hpp"

namespace {

// Small files (well under a few KB) covering every layer type, optimizer,
// loss, both scalar types and both file kinds.
void write_corpus(const std::string& dir) {
    using namespace lamina;
    const Tensor<float> x = test::fixture_x().slice_rows(0, 16);
    const Tensor<int> y = test::fixture_y().slice_rows(0, 16);
    auto trained = [&](Sequential<float>& m) { m.fit(x, y, test::fixture_fit(1)); };

    Sequential<float> dense("dense", 1);
    dense.add(Flatten()).add(Dense(3, "softmax"));
    dense.build(Shape{1, 2, 2});
    dense.save_weights(dir + "/weights-dense.lamina");
    dense.compile(SGD(0.1, 0.9, true), "sparse_categorical_crossentropy", {metrics::accuracy});
    dense.save(dir + "/dense-sgd-nesterov.lamina");

    Sequential<float> conv("conv", 2);
    conv.add(Conv2D(2, 3, 1, Padding::Same, Activation::ReLU))
        .add(MaxPooling2D(2))
        .add(AveragePooling2D(2, 1))
        .add(GlobalAveragePooling2D())
        .add(Dense(3))
        .add(Softmax());
    conv.compile(Adam(0.01, 0.9, 0.999, 1e-7, /*amsgrad=*/true), "sparse_categorical_crossentropy",
                 {metrics::accuracy});
    trained(conv);
    conv.save(dir + "/conv-adam-amsgrad.lamina");
    conv.save(dir + "/conv-no-optimizer.lamina", /*include_optimizer=*/false);

    Sequential<float> mlp("mlp", 3);
    mlp.add(Flatten()).add(Dense(4, "tanh", false)).add(Dropout(0.5)).add(Activation("sigmoid")).add(Dense(3));
    mlp.compile(RMSprop(0.01, 0.9, 0.5, 1e-7, /*centered=*/true), SparseCategoricalCrossentropy(true),
                {metrics::accuracy});
    trained(mlp);
    mlp.save(dir + "/mlp-rmsprop-dropout.lamina");

    Sequential<double> binary("binary", 4);
    binary.add(Dense(1, "sigmoid"));
    binary.compile("sgd", "binary_crossentropy", {metrics::accuracy});
    binary.build(Shape{3});
    binary.save(dir + "/binary-double.lamina");
    Sequential<double> regression("regression", 5);
    regression.add(Dense(2));
    regression.compile("adam", "mse");
    regression.build(Shape{2});
    regression.save(dir + "/mse-double.lamina");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "resume" && argc == 5) {
            auto model = lamina::Sequential<float>::load(argv[2]);
            model.fit(test::fixture_x(), test::fixture_y(),
                      test::fixture_fit(std::atoi(argv[4]), model.epochs_completed()));
            model.save(argv[3]);
            return 0;
        }
        if (mode == "save-loop" && argc == 4) {
            const auto a = test::fixture_model(argv[3], 1);
            const auto b = test::fixture_model(argv[3], 2);
            for (unsigned long i = 0;; ++i) (i % 2 ? b : a).save(argv[2]);
        }
        if (mode == "corpus" && argc == 3) {
            write_corpus(argv[2]);
            return 0;
        }
        std::cerr
            << "usage: model_tool resume IN OUT EPOCHS | model_tool save-loop PATH KIND | model_tool corpus DIR\n";
        return 2;
    } catch (const lamina::Error& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
