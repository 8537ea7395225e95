// tests/resume_check.hpp: exact resume through a model file, in one process.
//
// check_exact_resume(make, x, y, batch, path, inspect) trains make()'s model
// 4 epochs straight, and another 2 epochs, saved to `path`, loaded and
// trained 2 more; the two must end with the same weights bit for bit.
// inspect(loaded, saved) runs on the model just loaded, before it trains,
// for the caller's own checks of what the file carried.
#pragma once

#include <catch2/catch.hpp>

#include <lamina/lamina.hpp>

#include <cstring>
#include <string>

namespace test {

template <class Make, class Y, class Inspect>
void check_exact_resume(Make make, const lamina::Tensor<float>& x, const Y& y, lamina::Index batch,
                        const std::string& path, Inspect inspect) {
    lamina::FitOptions<float> o;
    o.batch_size = batch;
    o.verbose = 0;
    o.epochs = 4;
    auto straight = make();
    straight.fit(x, y, o);
    auto half = make();
    o.epochs = 2;
    half.fit(x, y, o);
    half.save(path);
    auto resumed = lamina::Sequential<float>::load(path);
    inspect(resumed, half);
    o.epochs = 4;
    o.initial_epoch = 2;
    resumed.fit(x, y, o);
    const auto a = straight.get_weights(), b = resumed.get_weights();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        CHECK(std::memcmp(a[i].data(), b[i].data(), sizeof(float) * std::size_t(a[i].size())) == 0);
}

}  // namespace test
