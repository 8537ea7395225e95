// lamina/plot/plots.hpp: every picture lamina draws (docs/plots.md).
//
//   plot_digits             a grid of images with true and predicted labels
//   plot_training_curves    a History's loss and metrics per epoch (PNG or SVG)
//   confusion_matrix, confusion_table, plot_confusion_matrix
//   plot_weights, plot_first_layer_weights   a first layer's weights as tiles
//   plot_model              the model as a Graphviz DOT file
#pragma once

#include "lamina/plot/canvas.hpp"
#include "lamina/plot/colormap.hpp"
#include "lamina/plot/confusion_matrix.hpp"
#include "lamina/plot/digit_grid.hpp"
#include "lamina/plot/figure.hpp"
#include "lamina/plot/font.hpp"
#include "lamina/plot/output.hpp"
#include "lamina/plot/plot_model.hpp"
#include "lamina/plot/png.hpp"
#include "lamina/plot/svg.hpp"
#include "lamina/plot/training_curves.hpp"
#include "lamina/plot/weight_tiles.hpp"
