// A first program on several processes against an installed lamina: run
// here as one process (MPI's singleton), it trains as rank 0 of 1.
#include <lamina/distributed/mpi.hpp>
#include <lamina/lamina.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    using namespace lamina;
    distributed::Context ctx(argc, argv);
    Sequential<float> model("consumer", 1);
    model.add(Dense(4, "relu"));
    model.add(Dense(2, "softmax"));
    model.compile("adam", "sparse_categorical_crossentropy", {metrics::accuracy});
    const Tensor<float> x(Shape{8, 3}, 0.5f);
    const Tensor<int> y(Shape{8}, 1);
    FitOptions<float> options;
    options.verbose = 0;
    options.distributed = &ctx;
    model.fit(x, y, options);
    const auto result = model.evaluate(x, y, 4, &ctx);
    std::printf("consumer_mpi: rank %d of %d trained, accuracy %.2f\n", ctx.rank(), ctx.size(), result.accuracy());
    return 0;
}
