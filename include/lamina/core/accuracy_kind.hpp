// lamina/core/accuracy_kind.hpp: which accuracy Keras's "accuracy" means.
//
// Contract: a loss names the kind (Loss::accuracy_kind()); the backends
// count correct predictions of that kind (sparse categorical: argmax ==
// label; categorical: argmax == argmax of the target; binary: per element,
// prediction above the threshold == target above 0.5).
#pragma once

namespace lamina {

enum class AccuracyKind { SparseCategorical, Categorical, Binary, None };

}  // namespace lamina
