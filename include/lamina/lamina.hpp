// lamina/lamina.hpp: the umbrella header. Include this and write models.
#pragma once

#include "lamina/core/device.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/initializers.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/core/threads.hpp"
