// A rank killed mid-epoch (SIGKILL: no destructor, no message of its own):
// mpiexec must end the job, the other rank included, and exit non-zero
// (ctest's WILL_FAIL), within the test's timeout rather than hang.
#include <lamina/distributed/mpi.hpp>
#include <lamina/lamina.hpp>

#include <csignal>
#include <iostream>

using namespace lamina;

// Identity, except that it kills its own process on rank 1 at the 6th step.
class KillRank1 : public Layer<float> {
public:
    explicit KillRank1(int rank) : rank_(rank) {}
    std::string type() const override { return "KillRank1"; }
    Shape build(const Shape& input, Rng&) override { return this->finish_build(input, input); }
    void infer(const TensorType& x, TensorType& y) const override { Backend<Cpu>::copy(x.view(), y.view()); }
    void forward(const TensorType& x, TensorType& y, Mode) override {
        if (rank_ == 1 && ++steps_ == 6) std::raise(SIGKILL);
        infer(x, y);
    }
    void backward(const TensorType&, const TensorType&, const TensorType& dy, TensorType* dx) override {
        if (dx) Backend<Cpu>::copy(dy.view(), dx->view());
    }

private:
    int rank_, steps_ = 0;
};

int main(int argc, char** argv) {
    distributed::Context ctx(argc, argv);
    Tensor<float> x(Shape{512, 16});
    Tensor<int> y(Shape{512});
    Rng rng(1);
    for (Index i = 0; i < x.size(); ++i) x[i] = float(rng.uniform());
    for (Index i = 0; i < y.size(); ++i) y[i] = int(rng.below(2));
    Sequential<float> m("dies", 1);
    m.add(Dense(8, Activation::ReLU));
    m.add(std::make_unique<KillRank1>(ctx.rank()));
    m.add(Dense(2));
    m.compile(SGD(0.1), SparseCategoricalCrossentropy(true));
    FitOptions<float> o;
    o.epochs = 1000;
    o.batch_size = 16;
    o.verbose = 0;
    o.distributed = &ctx;
    m.fit(x, y, o);
    std::cout << "rank " << ctx.rank() << " finished training, which it must not\n";
    return 0;
}
