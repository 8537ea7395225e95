// The GPU tests' main: every test needs a CUDA device. Where the driver
// reports none, the program says why and exits 77, which ctest reports as
// skipped (SKIP_RETURN_CODE), never as passed. Listing the tests (ctest's
// discovery at build time) needs no GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <lamina/backend/cuda/runtime.hpp>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    bool listing = false;
    for (int i = 1; i < argc; ++i) listing = listing || std::strncmp(argv[i], "--list", 6) == 0;
    if (!listing && lamina::cuda::device_count() == 0) {
        int n = 0;
        const cudaError_t status = cudaGetDeviceCount(&n);
        std::printf("skipped: no CUDA device (%s: %s)\n", cudaGetErrorName(status), cudaGetErrorString(status));
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
