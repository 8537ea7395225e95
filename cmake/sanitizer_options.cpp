// Default sanitizer runtime options for lamina's own binaries, linked in only
// when LAMINA_SANITIZE is set (CMakeLists.txt). The environment's
// ASAN_OPTIONS / UBSAN_OPTIONS / TSAN_OPTIONS still override them.

// UBSan prints one line per finding by default; the stack says where it came
// from in Eigen's templates.
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1"; }

// Under clang, the TSan build keeps OpenMP: libomp's Archer tool describes
// OpenMP's synchronisation to TSan, and libomp's own uninstrumented code must
// then be left out of the race detection (Archer warns on every run without it).
extern "C" const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1"; }

// lamina turns an allocation the system refuses into a lamina::Error
// (config_memory) naming the layer, and tests that it does: ASan must return
// null for a too-large request as malloc does, instead of aborting.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
