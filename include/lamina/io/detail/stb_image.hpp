// lamina/io/detail/stb_image.hpp: a private copy of stb_image's decoder.
//
// Contract: after this header, lamina::io::detail::stbi holds stb_image's
// functions under the names lamina_stbi_load_from_memory, lamina_stbi_info_from_memory,
// ... (stb's names with a lamina_ prefix), with internal linkage, decoding
// PNG, JPEG, BMP, GIF and TGA only; the preprocessor state is as it was
// before the header, so it coexists with a program's own use of stb.
//
// Why so much care: stb_image is a single header whose implementation is
// compiled where STB_IMAGE_IMPLEMENTATION is defined. A header-only library
// cannot own "the" implementation translation unit, and a program that also
// uses stb may have included <stb_image.h> before or after lamina, with or
// without STB_IMAGE_IMPLEMENTATION, with its own configuration macros
// (STBI_ONLY_PNG, STBI_MALLOC, ...). Plain STB_IMAGE_STATIC +
// STB_IMAGE_IMPLEMENTATION breaks three of those four cases:
//   - stb's declarations are include-guarded, so after the program's own
//     include ours would compile with its `extern` STBIDEF: duplicate
//     symbols at link time;
//   - stb's implementation is not guarded: two in one translation unit
//     redefine every stbi__ function;
//   - stb declares its API extern "C", and g++ treats extern "C" functions
//     of the same name in different namespaces as one function, so even a
//     namespaced static copy collides with the program's global stbi_load.
// Hence: every macro stb reads or defines is saved (push_macro) and cleared,
// the implementation is compiled static inside a namespace with the public
// names renamed, and every macro is restored (pop_macro) afterwards.
// tests/test_stb_coexist_{a,b,c}.cpp put the program's own stb, before and
// after lamina, declarations only, extern and static implementations, into
// one test binary.
//
// The standard headers stb includes are included first, at global scope,
// so that stb's own #includes inside the namespace are no-ops (they are all
// include-guarded; assert.h is not, so STBI_ASSERT is defined instead).
#pragma once

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

// Every macro stb_image.h tests or defines (stb 2.27, Debian libstb-dev
// 0.0~git20220908); a newer stb defining more only leaks those to later code.
// clang-format off
#define LAMINA_STBI_MACROS(X) \
    X(STBI_INCLUDE_STB_IMAGE_H) X(STB_IMAGE_IMPLEMENTATION) X(STB_IMAGE_STATIC) X(STBIDEF) X(STBI_EXTERN) \
    X(STBI_ASSERT) X(STBI_MALLOC) X(STBI_FREE) X(STBI_REALLOC) X(STBI_REALLOC_SIZED) \
    X(STBI_MAX_DIMENSIONS) X(STBI_VERSION) X(STBI_NOTUSED) X(STBI_HAS_LROTL) X(STBI_SIMD_ALIGN) \
    X(STBI_SSE2) X(STBI_NEON) X(STBI_NO_SIMD) X(STBI_MINGW_ENABLE_SSE2) X(STBI_THREAD_LOCAL) \
    X(STBI_NO_THREAD_LOCALS) X(STBI_NO_STDIO) X(STBI_NO_LINEAR) X(STBI_NO_FAILURE_STRINGS) \
    X(STBI_FAILURE_USERMSG) X(STBI_WINDOWS_UTF8) X(STBI_SUPPORT_ZLIB) X(STBI_NO_ZLIB) X(STBI_NO_JPEG) \
    X(STBI_NO_PNG) X(STBI_NO_BMP) X(STBI_NO_PSD) X(STBI_NO_TGA) X(STBI_NO_GIF) X(STBI_NO_HDR) \
    X(STBI_NO_PIC) X(STBI_NO_PNM) X(STBI_ONLY_JPEG) X(STBI_ONLY_PNG) X(STBI_ONLY_BMP) X(STBI_ONLY_PSD) \
    X(STBI_ONLY_TGA) X(STBI_ONLY_GIF) X(STBI_ONLY_HDR) X(STBI_ONLY_PIC) X(STBI_ONLY_PNM) \
    X(STBI_ONLY_ZLIB) X(STBI__X64_TARGET) X(STBI__X86_TARGET) X(STBI__BYTECAST) X(STBI__CASE) \
    X(STBI__COMBO) X(STBI__HDR_BUFLEN) X(STBI__IDCT_1D) X(STBI__MARKER_none) X(STBI__PNG_TYPE) \
    X(STBI__RESTART) X(STBI__ZFAST_BITS) X(STBI__ZFAST_MASK) X(STBI__ZNSYMS) X(FAST_BITS) \
    X(dct_bfly32o) X(dct_const) X(dct_interleave16) X(dct_interleave8) X(dct_long_mac) X(dct_long_mul) \
    X(dct_pass) X(dct_rot) X(dct_trn16) X(dct_trn32) X(dct_trn64) X(dct_trn8_16) X(dct_trn8_32) \
    X(dct_trn8_8) X(dct_wadd) X(dct_widen) X(dct_wsub) X(stbi__DNL) X(stbi__EOI) X(stbi__SOF) \
    X(stbi__SOF_progressive) X(stbi__SOI) X(stbi__SOS) X(stbi__de_iphone_flag) X(stbi__div16) \
    X(stbi__div4) X(stbi__err) X(stbi__errpf) X(stbi__errpuc) X(stbi__f2f) X(stbi__float2fixed) \
    X(stbi__float2int) X(stbi__fsh) X(stbi__unpremultiply_on_load) X(stbi__vertically_flip_on_load) \
    X(stbi_inline) X(stbi_lrot)
// clang-format on

// stb's public functions (declared extern "C"), renamed so that their C
// names cannot meet the program's.
// clang-format off
#define LAMINA_STBI_NAMES(X) \
    X(stbi_convert_iphone_png_to_rgb) X(stbi_convert_iphone_png_to_rgb_thread) X(stbi_convert_wchar_to_utf8) \
    X(stbi_failure_reason) X(stbi_hdr_to_ldr_gamma) X(stbi_hdr_to_ldr_scale) X(stbi_image_free) X(stbi_info) \
    X(stbi_info_from_callbacks) X(stbi_info_from_file) X(stbi_info_from_memory) X(stbi_is_16_bit) \
    X(stbi_is_16_bit_from_callbacks) X(stbi_is_16_bit_from_file) X(stbi_is_16_bit_from_memory) X(stbi_is_hdr) \
    X(stbi_is_hdr_from_callbacks) X(stbi_is_hdr_from_file) X(stbi_is_hdr_from_memory) X(stbi_ldr_to_hdr_gamma) \
    X(stbi_ldr_to_hdr_scale) X(stbi_load) X(stbi_load_16) X(stbi_load_16_from_callbacks) X(stbi_load_16_from_memory) \
    X(stbi_load_from_callbacks) X(stbi_load_from_file) X(stbi_load_from_file_16) X(stbi_load_from_memory) \
    X(stbi_load_gif_from_memory) X(stbi_loadf) X(stbi_loadf_from_callbacks) X(stbi_loadf_from_file) \
    X(stbi_loadf_from_memory) X(stbi_set_flip_vertically_on_load) X(stbi_set_flip_vertically_on_load_thread) \
    X(stbi_set_unpremultiply_on_load) X(stbi_set_unpremultiply_on_load_thread) X(stbi_zlib_decode_buffer) \
    X(stbi_zlib_decode_malloc) X(stbi_zlib_decode_malloc_guesssize) X(stbi_zlib_decode_malloc_guesssize_headerflag) \
    X(stbi_zlib_decode_noheader_buffer) X(stbi_zlib_decode_noheader_malloc)
// clang-format on

#define LAMINA_STBI_PRAGMA(x) _Pragma(#x)
#define LAMINA_STBI_PUSH(name) LAMINA_STBI_PRAGMA(push_macro(#name))
#define LAMINA_STBI_POP(name) LAMINA_STBI_PRAGMA(pop_macro(#name))
LAMINA_STBI_MACROS(LAMINA_STBI_PUSH)
LAMINA_STBI_NAMES(LAMINA_STBI_PUSH)

#undef STBI_INCLUDE_STB_IMAGE_H
#undef STB_IMAGE_IMPLEMENTATION
#undef STB_IMAGE_STATIC
#undef STBIDEF
#undef STBI_EXTERN
#undef STBI_ASSERT
#undef STBI_MALLOC
#undef STBI_FREE
#undef STBI_REALLOC
#undef STBI_REALLOC_SIZED
#undef STBI_MAX_DIMENSIONS
#undef STBI_VERSION
#undef STBI_NOTUSED
#undef STBI_HAS_LROTL
#undef STBI_SIMD_ALIGN
#undef STBI_SSE2
#undef STBI_NEON
#undef STBI_NO_SIMD
#undef STBI_MINGW_ENABLE_SSE2
#undef STBI_THREAD_LOCAL
#undef STBI_NO_THREAD_LOCALS
#undef STBI_NO_STDIO
#undef STBI_NO_LINEAR
#undef STBI_NO_FAILURE_STRINGS
#undef STBI_FAILURE_USERMSG
#undef STBI_WINDOWS_UTF8
#undef STBI_SUPPORT_ZLIB
#undef STBI_NO_ZLIB
#undef STBI_NO_JPEG
#undef STBI_NO_PNG
#undef STBI_NO_BMP
#undef STBI_NO_PSD
#undef STBI_NO_TGA
#undef STBI_NO_GIF
#undef STBI_NO_HDR
#undef STBI_NO_PIC
#undef STBI_NO_PNM
#undef STBI_ONLY_JPEG
#undef STBI_ONLY_PNG
#undef STBI_ONLY_BMP
#undef STBI_ONLY_PSD
#undef STBI_ONLY_TGA
#undef STBI_ONLY_GIF
#undef STBI_ONLY_HDR
#undef STBI_ONLY_PIC
#undef STBI_ONLY_PNM
#undef STBI_ONLY_ZLIB
#undef STBI__X64_TARGET
#undef STBI__X86_TARGET
#undef STBI__BYTECAST
#undef STBI__CASE
#undef STBI__COMBO
#undef STBI__HDR_BUFLEN
#undef STBI__IDCT_1D
#undef STBI__MARKER_none
#undef STBI__PNG_TYPE
#undef STBI__RESTART
#undef STBI__ZFAST_BITS
#undef STBI__ZFAST_MASK
#undef STBI__ZNSYMS
#undef FAST_BITS
#undef dct_bfly32o
#undef dct_const
#undef dct_interleave16
#undef dct_interleave8
#undef dct_long_mac
#undef dct_long_mul
#undef dct_pass
#undef dct_rot
#undef dct_trn16
#undef dct_trn32
#undef dct_trn64
#undef dct_trn8_16
#undef dct_trn8_32
#undef dct_trn8_8
#undef dct_wadd
#undef dct_widen
#undef dct_wsub
#undef stbi__DNL
#undef stbi__EOI
#undef stbi__SOF
#undef stbi__SOF_progressive
#undef stbi__SOI
#undef stbi__SOS
#undef stbi__de_iphone_flag
#undef stbi__div16
#undef stbi__div4
#undef stbi__err
#undef stbi__errpf
#undef stbi__errpuc
#undef stbi__f2f
#undef stbi__float2fixed
#undef stbi__float2int
#undef stbi__fsh
#undef stbi__unpremultiply_on_load
#undef stbi__vertically_flip_on_load
#undef stbi_inline
#undef stbi_lrot

#define stbi_convert_iphone_png_to_rgb lamina_stbi_convert_iphone_png_to_rgb
#define stbi_convert_iphone_png_to_rgb_thread lamina_stbi_convert_iphone_png_to_rgb_thread
#define stbi_convert_wchar_to_utf8 lamina_stbi_convert_wchar_to_utf8
#define stbi_failure_reason lamina_stbi_failure_reason
#define stbi_hdr_to_ldr_gamma lamina_stbi_hdr_to_ldr_gamma
#define stbi_hdr_to_ldr_scale lamina_stbi_hdr_to_ldr_scale
#define stbi_image_free lamina_stbi_image_free
#define stbi_info lamina_stbi_info
#define stbi_info_from_callbacks lamina_stbi_info_from_callbacks
#define stbi_info_from_file lamina_stbi_info_from_file
#define stbi_info_from_memory lamina_stbi_info_from_memory
#define stbi_is_16_bit lamina_stbi_is_16_bit
#define stbi_is_16_bit_from_callbacks lamina_stbi_is_16_bit_from_callbacks
#define stbi_is_16_bit_from_file lamina_stbi_is_16_bit_from_file
#define stbi_is_16_bit_from_memory lamina_stbi_is_16_bit_from_memory
#define stbi_is_hdr lamina_stbi_is_hdr
#define stbi_is_hdr_from_callbacks lamina_stbi_is_hdr_from_callbacks
#define stbi_is_hdr_from_file lamina_stbi_is_hdr_from_file
#define stbi_is_hdr_from_memory lamina_stbi_is_hdr_from_memory
#define stbi_ldr_to_hdr_gamma lamina_stbi_ldr_to_hdr_gamma
#define stbi_ldr_to_hdr_scale lamina_stbi_ldr_to_hdr_scale
#define stbi_load lamina_stbi_load
#define stbi_load_16 lamina_stbi_load_16
#define stbi_load_16_from_callbacks lamina_stbi_load_16_from_callbacks
#define stbi_load_16_from_memory lamina_stbi_load_16_from_memory
#define stbi_load_from_callbacks lamina_stbi_load_from_callbacks
#define stbi_load_from_file lamina_stbi_load_from_file
#define stbi_load_from_file_16 lamina_stbi_load_from_file_16
#define stbi_load_from_memory lamina_stbi_load_from_memory
#define stbi_load_gif_from_memory lamina_stbi_load_gif_from_memory
#define stbi_loadf lamina_stbi_loadf
#define stbi_loadf_from_callbacks lamina_stbi_loadf_from_callbacks
#define stbi_loadf_from_file lamina_stbi_loadf_from_file
#define stbi_loadf_from_memory lamina_stbi_loadf_from_memory
#define stbi_set_flip_vertically_on_load lamina_stbi_set_flip_vertically_on_load
#define stbi_set_flip_vertically_on_load_thread lamina_stbi_set_flip_vertically_on_load_thread
#define stbi_set_unpremultiply_on_load lamina_stbi_set_unpremultiply_on_load
#define stbi_set_unpremultiply_on_load_thread lamina_stbi_set_unpremultiply_on_load_thread
#define stbi_zlib_decode_buffer lamina_stbi_zlib_decode_buffer
#define stbi_zlib_decode_malloc lamina_stbi_zlib_decode_malloc
#define stbi_zlib_decode_malloc_guesssize lamina_stbi_zlib_decode_malloc_guesssize
#define stbi_zlib_decode_malloc_guesssize_headerflag lamina_stbi_zlib_decode_malloc_guesssize_headerflag
#define stbi_zlib_decode_noheader_buffer lamina_stbi_zlib_decode_noheader_buffer
#define stbi_zlib_decode_noheader_malloc lamina_stbi_zlib_decode_noheader_malloc

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ASSERT(x) assert(x)
// lamina reads files itself (for its error messages and size checks) and
// hands stb the bytes; HDR output and the formats lamina does not document
// are compiled out.
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_NO_PSD
#define STBI_NO_PIC
#define STBI_NO_PNM
// A second line of defence behind load_image's own pixel budget, which is
// checked before stb allocates anything.
#define STBI_MAX_DIMENSIONS (1 << 20)

#include "lamina/io/detail/stb_warnings_push.hpp"
// stb_image 2.27's JPEG decoder does arithmetic C++ leaves undefined on
// corrupt entropy-coded data, and UBSan reports it (found by fuzz_image):
// it multiplies a DC coefficient by its quantiser without an overflow check
// (2.28 added stbi__mul2shorts_valid), and its bit reader shifts by 32 once
// its bit count has gone negative. Both give wrong pixels of a corrupt
// file, never a wrong address, and neither can be refused without decoding
// the entropy-coded data first. So under clang stb_image's functions alone
// are exempt from UBSan's signed-overflow and shift checks; its bounds
// checks stay (they found the Huffman-table overflows the JPEG walk now
// refuses), AddressSanitizer checks all of stb, and lamina's own code keeps
// every check (docs/testing.md).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("signed-integer-overflow", "shift"))), apply_to = function)
#endif
namespace lamina::io::detail::stbi {
#include <stb_image.h>
}  // namespace lamina::io::detail::stbi
#if defined(__clang__)
#pragma clang attribute pop
#endif
#include "lamina/io/detail/stb_warnings_pop.hpp"

LAMINA_STBI_NAMES(LAMINA_STBI_POP)
LAMINA_STBI_MACROS(LAMINA_STBI_POP)
#undef LAMINA_STBI_MACROS
#undef LAMINA_STBI_NAMES
#undef LAMINA_STBI_PRAGMA
#undef LAMINA_STBI_PUSH
#undef LAMINA_STBI_POP
