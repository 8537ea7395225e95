// lamina/lamina.hpp: the umbrella header. Include this and write models.
#pragma once

#include "lamina/core/denormals.hpp"
#include "lamina/core/device.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/initializers.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/core/threads.hpp"
#include "lamina/core/warp.hpp"
#include "lamina/core/window.hpp"

#include "lamina/layers/activation.hpp"
#include "lamina/layers/batch_normalization.hpp"
#include "lamina/layers/conv2d.hpp"
#include "lamina/layers/dense.hpp"
#include "lamina/layers/dropout.hpp"
#include "lamina/layers/flatten.hpp"
#include "lamina/layers/global_average_pooling2d.hpp"
#include "lamina/layers/layer_factory.hpp"
#include "lamina/layers/pooling2d.hpp"
#include "lamina/layers/random_rotation.hpp"
#include "lamina/layers/random_translation.hpp"
#include "lamina/layers/random_zoom.hpp"

#include "lamina/losses/binary_crossentropy.hpp"
#include "lamina/losses/categorical_crossentropy.hpp"
#include "lamina/losses/mean_squared_error.hpp"
#include "lamina/losses/sparse_categorical_crossentropy.hpp"

#include "lamina/optimizers/adam.hpp"
#include "lamina/optimizers/rmsprop.hpp"
#include "lamina/optimizers/sgd.hpp"

#include "lamina/io/atomic_file.hpp"
#include "lamina/io/idx.hpp"
#include "lamina/io/model_file.hpp"

#include "lamina/datasets/mnist.hpp"
#include "lamina/datasets/preprocessing.hpp"
#include "lamina/datasets/split.hpp"

#include "lamina/model/callback.hpp"
#include "lamina/model/csv_logger.hpp"
#include "lamina/model/early_stopping.hpp"
#include "lamina/model/filepath_format.hpp"
#include "lamina/model/history.hpp"
#include "lamina/model/learning_rate_scheduler.hpp"
#include "lamina/model/metrics.hpp"
#include "lamina/model/model_checkpoint.hpp"
#include "lamina/model/monitor.hpp"
#include "lamina/model/predictions.hpp"
#include "lamina/model/reduce_lr_on_plateau.hpp"
#include "lamina/model/sequential.hpp"
#include "lamina/model/terminate_on_nan.hpp"

// Image files, image preprocessing and plots need stb: they are in
// lamina/images.hpp (CMake: link lamina::images), not here, so that a program
// that never touches an image neither needs stb nor compiles it.
