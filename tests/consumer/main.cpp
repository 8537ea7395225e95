// A program that uses lamina the way a user's project does; the three
// consumer projects (find_package, add_subdirectory, fetchcontent) all build
// it, with LAMINA_CONSUMER_MODE naming which one.
// Exits nonzero when anything is wrong, so ctest's packaging tests fail.
#include <lamina/lamina.hpp>

#include <cmath>
#include <cstring>
#include <iostream>
#include <string>

int main() {
    int failures = 0;
    auto check = [&failures](bool ok, const std::string& what) {
        if (!ok) {
            std::cerr << "FAILED: " << what << "\n";
            ++failures;
        }
    };

    const std::string info = lamina::build_info();
    std::cout << info << "\n";

    // A tensor, its Eigen matrix view, and a product through Eigen's GEMM.
    lamina::Tensor<float> a({2, 3}, {1, 2, 3, 4, 5, 6});
    check(a.rows() == 2 && a.cols() == 3, "Tensor({2, 3}) has 2 rows and 3 columns");
    check(a.matrix().sum() == 21.0f, "sum of 1..6 is 21");
    const float gram = (a.matrix() * a.matrix().transpose()).sum();  // 14 + 32 + 32 + 77
    check(std::abs(gram - 155.0f) < 1e-4f, "sum of A A^T is 155");

    // Errors are lamina::Error subclasses.
    bool threw = false;
    try {
        a.reshape(lamina::Shape{4, 2});
    } catch (const lamina::ShapeError&) {
        threw = true;
    }
    check(threw, "reshape (2, 3) -> (4, 2) throws lamina::ShapeError");

    // The target's usage requirements reached this translation unit.
#ifndef _OPENMP
    check(false, "lamina::lamina compiles its users with OpenMP");
#endif
    check(info.find("(OpenMP)") != std::string::npos, "build_info() reports OpenMP");
#ifdef LAMINA_CONSUMER_EXPECT_VERSION
    check(info.rfind("lamina " LAMINA_CONSUMER_EXPECT_VERSION " ", 0) == 0,
          "build_info() starts with 'lamina " LAMINA_CONSUMER_EXPECT_VERSION "', the CMake project version");
#endif
#if defined(LAMINA_CONSUMER_EXPECT_NATIVE) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    // LAMINA_NATIVE (on by default) compiles users with -march=native.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        check(lamina::simd_isa() != "SSE2" && lamina::simd_isa() != "none",
              "-march=native reached this program (the CPU has AVX2, Eigen uses " + lamina::simd_isa() + ")");
#endif

    if (failures) return 1;
    std::cout << "consumer " LAMINA_CONSUMER_MODE ": OK\n";
    return 0;
}
