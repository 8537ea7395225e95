// lamina/float_instances.hpp: lamina.hpp, plus `extern template` declarations
// of the float CPU classes (Sequential<float>, every layer, loss and
// optimizer, Tensor<float>), for programs of many translation units.
//
// A translation unit that includes this header instead of lamina/lamina.hpp
// does not compile those classes' members itself; exactly one translation
// unit of the program must then compile them, with the same compiler flags
// (-march included) as the rest:
//
//   // lamina_float.cpp
//   #define LAMINA_INSTANTIATE_FLOAT
//   #include <lamina/float_instances.hpp>
//
// Other scalar types (double, for gradient checks) and member templates are
// still compiled where they are used. docs/performance.md ("Compile time")
// measures what it saves.
#pragma once

#include "lamina/lamina.hpp"

#ifdef LAMINA_INSTANTIATE_FLOAT
#define LAMINA_FLOAT_TEMPLATE template
#else
#define LAMINA_FLOAT_TEMPLATE extern template
#endif

namespace lamina {

LAMINA_FLOAT_TEMPLATE class Tensor<float, Cpu>;

LAMINA_FLOAT_TEMPLATE class Layer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class ActivationLayer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class BatchNormalizationLayer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class Conv2DLayer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class DenseLayer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class DropoutLayer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class FlattenLayer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class GlobalAveragePooling2DLayer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class Pooling2DLayer<float, Cpu>;

LAMINA_FLOAT_TEMPLATE class Loss<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class BinaryCrossentropyLoss<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class CategoricalCrossentropyLoss<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class MeanSquaredErrorLoss<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class SparseCategoricalCrossentropyLoss<float, Cpu>;

LAMINA_FLOAT_TEMPLATE class Optimizer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class AdamOptimizer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class RMSpropOptimizer<float, Cpu>;
LAMINA_FLOAT_TEMPLATE class SGDOptimizer<float, Cpu>;

LAMINA_FLOAT_TEMPLATE class Sequential<float, Cpu>;

}  // namespace lamina

#undef LAMINA_FLOAT_TEMPLATE
