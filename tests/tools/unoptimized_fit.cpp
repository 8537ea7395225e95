// Trains a tiny model for one step; ctest builds it at -O0 and at -O2 and
// checks that only the -O0 build warns that it runs unoptimised.
#include <lamina/lamina.hpp>

int main() {
    using namespace lamina;
    Sequential<float> model("tiny", 1);
    model.add(Dense(2));
    model.compile("sgd", "mse");
    FitOptions<float> options;
    options.verbose = 0;
    model.fit(Tensor<float>(Shape{4, 3}, 1.0f), Tensor<float>(Shape{4, 2}, 0.5f), options);
    model.fit(Tensor<float>(Shape{4, 3}, 1.0f), Tensor<float>(Shape{4, 2}, 0.5f), options);  // no second warning
    return 0;
}
