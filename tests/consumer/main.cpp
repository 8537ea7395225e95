// A program that uses lamina the way a user's project does; the three
// consumer projects (find_package, add_subdirectory, fetchcontent) all build
// it twice (consumer_checks.cmake), with LAMINA_CONSUMER_MODE naming which one:
//   consumer           links lamina::native (and lamina::images where stb is)
//   consumer_portable  links lamina::lamina and sets its own -march=x86-64
//   consumer_instances (find_package only) float_instances.hpp + float_instances.cpp
// Exits nonzero when anything is wrong, so ctest's packaging tests fail.
#ifdef LAMINA_CONSUMER_FLOAT_INSTANCES
#include <lamina/float_instances.hpp>  // float classes compiled in float_instances.cpp
#else
#include <lamina/lamina.hpp>
#endif
#ifdef LAMINA_CONSUMER_IMAGES
#include <lamina/images.hpp>
#endif

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

// The consumer's own -march=x86-64 must be the one that counts: nothing
// lamina adds may turn AVX back on behind its back.
#if defined(LAMINA_CONSUMER_PORTABLE) && defined(__AVX__)
#error "consumer_portable was compiled with AVX: a -march flag from lamina overrode the consumer's -march=x86-64"
#endif

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

    // A model trains: Sequential, layers, loss, optimizer and fit, from
    // lamina/lamina.hpp alone (no stb needed).
    {
        lamina::Sequential<float> model;
        model.add(lamina::Dense(8, lamina::Activation::ReLU));
        model.add(lamina::Dense(2));
        model.compile(lamina::Adam(1e-2), lamina::SparseCategoricalCrossentropy(/*from_logits=*/true));
        const lamina::Index n = 32;
        lamina::Tensor<float> x(lamina::Shape{n, 2});
        lamina::Tensor<float> y(lamina::Shape{n});  // class ids
        for (lamina::Index i = 0; i < n; ++i) {
            const float u = static_cast<float>(i % 8) / 8.0f, v = static_cast<float>(i / 8) / 4.0f;
            x.data()[2 * i] = u;
            x.data()[2 * i + 1] = v;
            y.data()[i] = u > v ? 1.0f : 0.0f;
        }
        lamina::FitOptions<float> options;
        options.epochs = 2;
        options.batch_size = 8;
        options.verbose = 0;
        const lamina::History history = model.fit(x, y, options);
        check(history.history.at("loss").size() == 2 && std::isfinite(history.history.at("loss").back()),
              "fit() ran 2 epochs with a finite loss");
        check(model.predict(x).shape() == lamina::Shape{n, 2}, "predict() returns (32, 2)");
    }

#ifdef LAMINA_CONSUMER_IMAGES
    // lamina::images: stb came with the target (a PNG written and read back).
    {
        lamina::Tensor<float> picture(lamina::Shape{1, 4, 6});
        for (lamina::Index i = 0; i < picture.size(); ++i) picture.data()[i] = static_cast<float>(i % 2);
        const std::string path =
            (std::filesystem::temp_directory_path() / "lamina_consumer_" LAMINA_CONSUMER_MODE ".png").string();
        lamina::io::write_png(path, picture);
        const lamina::Tensor<float> back = lamina::io::load_image(path);
        std::remove(path.c_str());
        check(back.shape() == picture.shape() && back.data()[1] == 1.0f, "a PNG round trip keeps (1, 4, 6)");
        check(lamina::image::resize_area(back, 2, 3).shape() == lamina::Shape{1, 2, 3}, "resize_area to 2 x 3");
    }
#endif

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
    // Linking lamina::native compiles the program with -march=native.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        check(lamina::simd_isa() != "SSE2" && lamina::simd_isa() != "none",
              "-march=native reached this program (the CPU has AVX2, Eigen uses " + lamina::simd_isa() + ")");
#endif
#if defined(LAMINA_CONSUMER_PORTABLE) && defined(__x86_64__)
    check(lamina::simd_isa() == "SSE2", "-march=x86-64 gives Eigen SSE2, got " + lamina::simd_isa());
#endif

    if (failures) return 1;
    std::cout << "consumer " LAMINA_CONSUMER_MODE ": OK\n";
    return 0;
}
