// Must not compile: a number where an activation goes (Dense(16, 0) once
// turned the 0 into a null activation name and crashed at run time).
// tests/compile_fail/check.cmake compiles it with and without MISUSE.
#include <lamina/lamina.hpp>

int main() {
#ifdef MISUSE
    lamina::Dense layer(16, 0);
#else
    lamina::Dense layer(16, "relu");
#endif
    return int(layer.units) - 16;
}
