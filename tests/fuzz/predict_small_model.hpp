// tests/fuzz/predict_small_model.hpp: what the model fuzzers (fuzz_model,
// fuzz_onnx) do with a model that loaded: run it once on a zero sample when
// its activations are small, so that a layer built from impossible settings
// shows, without letting a file that declares huge (valid) layers spend the
// fuzzer's time and memory.
#pragma once

#include <lamina/lamina.hpp>

#include <algorithm>
#include <cstddef>

namespace fuzz {

inline void predict_if_small(const lamina::Sequential<float>& model) {
    lamina::Index largest = model.input_shape().size();
    for (std::size_t i = 0; i < model.size(); ++i) largest = std::max(largest, model.layer(i).output_shape().size());
    if (largest > (lamina::Index(1) << 16)) return;
    lamina::Tensor<float> x(model.input_shape().with_batch(1));
    x.set_zero();
    (void)model.predict(x);
}

}  // namespace fuzz
