// lamina/io/detail/stb_warnings_pop.hpp: ends stb_warnings_push.hpp's
// silence. No include guard, like its pair.
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
