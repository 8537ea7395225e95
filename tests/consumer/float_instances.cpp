// The one translation unit that compiles lamina's float classes for a program
// whose other files include lamina/float_instances.hpp (consumer_instances).
#define LAMINA_INSTANTIATE_FLOAT
#include <lamina/float_instances.hpp>
