// A GPU user's first program against an installed lamina: trains on the GPU
// where there is one; elsewhere it must get lamina's device_unavailable
// error, never a crash.
#include <lamina/cuda.hpp>

#include <cstdio>

int main() {
    using namespace lamina;
    Sequential<float, Cuda> model("consumer", 1);
    model.add(Dense(4, "relu"));
    model.add(Dense(2, "softmax"));
    model.compile("adam", "sparse_categorical_crossentropy", {metrics::accuracy});
    const Tensor<float> x(Shape{8, 3}, 0.5f);
    const Tensor<int> y(Shape{8}, 1);
    FitOptions<float> options;
    options.verbose = 0;
    try {
        model.fit(x, y, options);
        std::printf("consumer_cuda: trained on %s\n", cuda::device_description().c_str());
    } catch (const DeviceError& e) {
        if (e.id() != ErrorId::device_unavailable) throw;
        std::printf("consumer_cuda: no GPU here, as lamina says: %s\n", e.what());
    }
    return 0;
}
