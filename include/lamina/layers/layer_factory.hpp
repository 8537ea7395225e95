// lamina/layers/layer_factory.hpp: a layer from its type name and config(), as model files store it.
//
// Contract: make_layer<T, Device>(type, name, config) is the inverse of
// Layer::type() / name() / config(): for every layer lamina has,
// make_layer(l.type(), l.name(), l.config()) builds an equal, unbuilt layer.
// Text that is not such a config (unknown type, missing or unknown key,
// malformed or out-of-range value) throws ConfigError naming the layer and
// the key; the model loader reports it as a FormatError of the file.
// Each layer's config lives in its own header: the layer's config() writes
// it, its spec's from_config() reads it back (config_reader.hpp). A new
// layer type adds its spec to SavedLayers below.
#pragma once

#include <string>

#include "lamina/layers/activation.hpp"
#include "lamina/layers/batch_normalization.hpp"
#include "lamina/layers/config_reader.hpp"
#include "lamina/layers/conv2d.hpp"
#include "lamina/layers/dense.hpp"
#include "lamina/layers/dropout.hpp"
#include "lamina/layers/flatten.hpp"
#include "lamina/layers/global_average_pooling2d.hpp"
#include "lamina/layers/pooling2d.hpp"
#include "lamina/layers/random_rotation.hpp"
#include "lamina/layers/random_translation.hpp"
#include "lamina/layers/random_zoom.hpp"

namespace lamina {

namespace detail {

// The layer specs a model file can name, each with config_type (its layer's
// type()) and from_config().
template <class... Specs>
struct LayerSpecList {
    template <class T, class Device>
    static LayerPtr<T, Device> make(const std::string& type, ConfigReader& c) {
        LayerPtr<T, Device> layer;
        ((layer = !layer && type == Specs::config_type ? Specs::from_config(c).template make<T, Device>()
                                                       : std::move(layer)),
         ...);
        return layer;
    }
    static std::string types() {
        std::string s;
        ((s += (s.empty() ? "" : ", ") + std::string(Specs::config_type)), ...);
        return s;
    }
};

using SavedLayers =
    LayerSpecList<Dense, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dropout, Activation,
                  Softmax, BatchNormalization, RandomTranslation, RandomRotation, RandomZoom>;

}  // namespace detail

template <class T, class Device = Cpu>
LayerPtr<T, Device> make_layer(const std::string& type, const std::string& name, const LayerConfig& config) {
    detail::ConfigReader c(type, name, config);
    LayerPtr<T, Device> layer = detail::SavedLayers::make<T, Device>(type, c);
    if (!layer)
        throw ConfigError(ErrorId::config_unknown_name,
                          "unknown layer type '" + type + "' (known: " + detail::SavedLayers::types() + ")");
    c.finish();
    layer->set_name(name);
    return layer;
}

}  // namespace lamina
