// lamina/core/pool_kind.hpp: which reduction a pooling window applies.
//
// Contract: Max keeps each window's largest input (gradient to the first
// input holding it); Average takes the mean over the window's inputs inside
// the sample ("same" padding's zeros are not counted, as TensorFlow).
#pragma once

namespace lamina {

enum class PoolKind { Max, Average };

}  // namespace lamina
