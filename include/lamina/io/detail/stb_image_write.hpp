// lamina/io/detail/stb_image_write.hpp: a private copy of stb_image_write.
//
// Contract: after this header, lamina::io::detail::stbiw holds
// stbi_write_png_to_func and the rest of stb_image_write with internal
// linkage, PNG compression done by zlib; the preprocessor state is as it
// was before the header. Same reasons and technique as detail/stb_image.hpp
// (which see); stb_image_write's functions are not declared extern "C" when
// static, so they need no renaming: the namespace keeps them apart.
#pragma once

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

// Every macro stb_image_write.h tests or defines (v1.16).
// clang-format off
#define LAMINA_STBIW_MACROS(X) \
    X(INCLUDE_STB_IMAGE_WRITE_H) X(STBIWDEF) X(STBIW_ASSERT) X(STBIW_CRC32) X(STBIW_EXTERN) X(STBIW_FREE) \
    X(STBIW_MALLOC) X(STBIW_MEMMOVE) X(STBIW_REALLOC) X(STBIW_REALLOC_SIZED) X(STBIW_UCHAR) \
    X(STBIW_WINDOWS_UTF8) X(STBIW_ZLIB_COMPRESS) X(STBI_WRITE_NO_STDIO) X(STB_IMAGE_WRITE_IMPLEMENTATION) \
    X(STB_IMAGE_WRITE_STATIC) X(_CRT_NONSTDC_NO_DEPRECATE) X(_CRT_SECURE_NO_WARNINGS) X(stbiw__ZHASH) \
    X(stbiw__max) X(stbiw__sbcount) X(stbiw__sbfree) X(stbiw__sbgrow) X(stbiw__sbm) X(stbiw__sbmaybegrow) \
    X(stbiw__sbn) X(stbiw__sbneedgrow) X(stbiw__sbpush) X(stbiw__sbraw) X(stbiw__wp32) X(stbiw__wpng4) \
    X(stbiw__wptag) X(stbiw__zlib_add) X(stbiw__zlib_flush) X(stbiw__zlib_huff) X(stbiw__zlib_huff1) \
    X(stbiw__zlib_huff2) X(stbiw__zlib_huff3) X(stbiw__zlib_huff4) X(stbiw__zlib_huffa) X(stbiw__zlib_huffb)
// clang-format on

#define LAMINA_STBIW_PRAGMA(x) _Pragma(#x)
#define LAMINA_STBIW_PUSH(name) LAMINA_STBIW_PRAGMA(push_macro(#name))
#define LAMINA_STBIW_POP(name) LAMINA_STBIW_PRAGMA(pop_macro(#name))
LAMINA_STBIW_MACROS(LAMINA_STBIW_PUSH)

#undef INCLUDE_STB_IMAGE_WRITE_H
#undef STBIWDEF
#undef STBIW_ASSERT
#undef STBIW_CRC32
#undef STBIW_EXTERN
#undef STBIW_FREE
#undef STBIW_MALLOC
#undef STBIW_MEMMOVE
#undef STBIW_REALLOC
#undef STBIW_REALLOC_SIZED
#undef STBIW_UCHAR
#undef STBIW_WINDOWS_UTF8
#undef STBIW_ZLIB_COMPRESS
#undef STBI_WRITE_NO_STDIO
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#undef STB_IMAGE_WRITE_STATIC
#undef _CRT_NONSTDC_NO_DEPRECATE
#undef _CRT_SECURE_NO_WARNINGS
#undef stbiw__ZHASH
#undef stbiw__max
#undef stbiw__sbcount
#undef stbiw__sbfree
#undef stbiw__sbgrow
#undef stbiw__sbm
#undef stbiw__sbmaybegrow
#undef stbiw__sbn
#undef stbiw__sbneedgrow
#undef stbiw__sbpush
#undef stbiw__sbraw
#undef stbiw__wp32
#undef stbiw__wpng4
#undef stbiw__wptag
#undef stbiw__zlib_add
#undef stbiw__zlib_flush
#undef stbiw__zlib_huff
#undef stbiw__zlib_huff1
#undef stbiw__zlib_huff2
#undef stbiw__zlib_huff3
#undef stbiw__zlib_huff4
#undef stbiw__zlib_huffa
#undef stbiw__zlib_huffb

namespace lamina::io::detail::stbiw {

// zlib's deflate instead of stb's own (smaller files); the result must be
// freeable by STBIW_FREE, i.e. free().
static inline unsigned char* zlib_compress(unsigned char* data, int data_len, int* out_len, int quality) {
    uLongf size = compressBound(static_cast<uLong>(data_len));
    auto* out = static_cast<unsigned char*>(malloc(size));
    if (!out) return nullptr;
    if (compress2(out, &size, data, static_cast<uLong>(data_len),
                  quality < 1   ? 1
                  : quality > 9 ? 9
                                : quality) != Z_OK) {
        free(out);
        return nullptr;
    }
    *out_len = static_cast<int>(size);
    return out;
}

static inline unsigned int zlib_crc32(unsigned char* buffer, int len) {
    return static_cast<unsigned int>(crc32(0L, buffer, static_cast<uInt>(len)));
}

}  // namespace lamina::io::detail::stbiw

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) assert(x)
// lamina writes the bytes itself (atomically, with its own error messages).
#define STBI_WRITE_NO_STDIO
#define STBIW_ZLIB_COMPRESS zlib_compress
#define STBIW_CRC32 zlib_crc32

#include "lamina/io/detail/stb_warnings_push.hpp"
// stb's JPEG encoder (stbiw__jpg_writeBits) shifts negative ints left, which
// C++17 calls undefined and UBSan reports (every compiler here does the two's
// complement thing). Only lamina's tests encode JPEG, to have files to read;
// lamina's own code keeps every check, under clang. g++ has no way to apply
// the attribute to an included file: docs/testing.md.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("shift"))), apply_to = function)
#endif
namespace lamina::io::detail::stbiw {
#include <stb_image_write.h>
}  // namespace lamina::io::detail::stbiw
#if defined(__clang__)
#pragma clang attribute pop
#endif
#include "lamina/io/detail/stb_warnings_pop.hpp"

LAMINA_STBIW_MACROS(LAMINA_STBIW_POP)
#undef LAMINA_STBIW_MACROS
#undef LAMINA_STBIW_PRAGMA
#undef LAMINA_STBIW_PUSH
#undef LAMINA_STBIW_POP
