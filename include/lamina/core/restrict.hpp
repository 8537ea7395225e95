// lamina/core/restrict.hpp: LAMINA_RESTRICT, the compilers' common spelling
// of C's `restrict` for C++.
//
// A pointer marked LAMINA_RESTRICT promises that what is written through it
// is reached through no other pointer in that scope. Kernels that read
// several buffers and write others mark their pointers so, because without
// the promise the compiler must assume a store may change the next load, and
// then either vectorises behind a run-time overlap check or not at all.
#pragma once

#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#define LAMINA_RESTRICT __restrict
#else
#define LAMINA_RESTRICT
#endif
