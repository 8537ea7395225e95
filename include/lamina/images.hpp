// lamina/images.hpp: the images umbrella header: image files in and out,
// image preprocessing and plots, everything of lamina's that needs stb
// (CMake: link lamina::images, or find_package(lamina COMPONENTS images)).
#pragma once

#include "lamina/lamina.hpp"

#include "lamina/io/image.hpp"
#include "lamina/io/image_write.hpp"

#include "lamina/image/grey.hpp"
#include "lamina/image/preprocess_digit.hpp"
#include "lamina/image/resize.hpp"
#include "lamina/image/threshold.hpp"

#include "lamina/plot/plots.hpp"
