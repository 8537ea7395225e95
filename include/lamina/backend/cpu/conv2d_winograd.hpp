// lamina/backend/cpu/conv2d_winograd.hpp: 3x3 stride-1 convolution by
// Winograd's minimal filtering, F(2x2, 3x3).
//
// Contract: for a window g of a 3x3 kernel with unit strides and padding of
// at most 2 (conv_winograd says which), winograd_kernel transforms a kernel
// (and bias) once per call into U, and conv2d_winograd_forward writes
// y = act(conv(x) + bias) for the samples [begin, end) from it;
// winograd_kernel_gradient_begin / _add / _end sum dL/dW over a thread's
// samples from x and dz = dy * act'(y). Everything runs on the calling
// thread. Layouts are conv2d.hpp's, except that an input's channels may lie
// `channel_stride` values apart (a plane apart in NCHW; the backward passes
// dz in its GEMM layout, and computes dx as the forward of dz by the turned
// kernel, winograd_dx_window). After conv2d_winograd_reserve for the same
// geometry nothing allocates.
//
// Why: each 2x2 block of outputs (a tile) of each filter is computed from
// its 4x4 block of inputs with 16 multiplies per channel instead of 36:
//   Y = Aᵀ [ sum_c (G w_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
// (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks").
// Summed over channels, the 16 elementwise products become 16 GEMMs
// M[k] (tiles, F) = V[k] (tiles, C) . U[k] (C, F), one per position k of
// the 4x4 transform, which run at nearly the im2col GEMM's rate with 2.25x
// fewer multiplies (fewer net of the tiles' overhang past an odd output).
// The transforms are additions only (Bᵀ and Aᵀ hold 0 and ±1, G halves),
// done for a SIMD vector of channels or filters at a time: the sample is
// first copied channel-last (HWC), so a tile's 16 inputs are 16 packet
// loads. Rounding differs from the direct sum (the transformed values are
// sums and differences of inputs) by a few ulps of the largest terms; tests
// compare with the definition.
//   naive: y[f][oy][ox] = act(bias[f] + sum_{c,i,j} w[f][c][i][j] * x_padded[c][oy + i][ox + j])
#pragma once

#include "lamina/core/eigen.hpp"

#include <algorithm>

#include "lamina/backend/cpu/conv2d_direct.hpp"
#include "lamina/backend/cpu/elementwise.hpp"
#include "lamina/backend/cpu/gemm.hpp"
#include "lamina/backend/cpu/scratch.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/core/window.hpp"

namespace lamina::backend {

// A 3x3 stride-1 window deep enough for the GEMMs (a first layer convolves
// directly, conv2d_direct.hpp); padding up to 2 covers "same" and the
// backward's full correlation of a "valid" layer.
inline bool conv_winograd(const Window2D& g) {
    return g.k_h == 3 && g.k_w == 3 && g.s_h == 1 && g.s_w == 1 && !conv_direct(g) && g.pad_top <= 2 &&
           g.pad_left <= 2 && g.in_h + g.pad_top <= g.out_h + 2 && g.in_w + g.pad_left <= g.out_w + 2;
}

// The backward's dL/dx as a convolution of dz: dx[c] = sum_f dz[f] (x)
// w[f][c] turned by 180 degrees, over dz (F, OH, OW) padded by 2 - the
// forward's padding, giving (C, H, W).
inline Window2D winograd_dx_window(const Window2D& g, Index filters) {
    Window2D d = g;
    d.channels = filters;
    d.in_h = g.out_h;
    d.in_w = g.out_w;
    d.out_h = g.in_h;
    d.out_w = g.in_w;
    d.pad_top = g.k_h - 1 - g.pad_top;
    d.pad_left = g.k_w - 1 - g.pad_left;
    return d;
}

namespace detail {

// Scratch tags (scratch.hpp): the transformed kernel (the caller's) and the
// rows it is built in, the channel-last padded sample, the transformed tiles
// V, the products M (or the backward's transformed dz), one sample's
// channel-last output (or dz), and a thread's kernel gradient dU.
struct WinogradKernel;
struct WinogradKernelRows;
struct WinogradSample;
struct WinogradTiles;
struct WinogradProducts;
struct WinogradOutput;
struct WinogradKernelGradient;

// Floats of V and M together per pass; a few samples' worth, so that the
// GEMMs read V and the output transform reads M from L2.
constexpr Index winograd_pass_floats = Index(1) << 18;

template <class T>
struct WinogradLayout {
    static constexpr Index lanes = DirectPacket<T>::lanes;
    Index cp, fp;         // channels and filters, rounded up to whole packets
    Index th, tw, tiles;  // 2x2 output tiles per sample: rows, columns, all
    Index hp, wp;         // the padded channel-last sample: every tile's 4x4 inside it
    Index chunk;          // samples per pass

    WinogradLayout(const Window2D& g, Index filters) {
        cp = (g.channels + lanes - 1) / lanes * lanes;
        fp = (filters + lanes - 1) / lanes * lanes;
        th = (g.out_h + 1) / 2;
        tw = (g.out_w + 1) / 2;
        tiles = th * tw;
        hp = 2 * th + 2;
        wp = 2 * tw + 2;
        chunk = std::max<Index>(1, winograd_pass_floats / (16 * tiles * (cp + fp)));
    }
    Index kernel_size() const { return 16 * cp * fp + fp; }  // U, then the bias
    Index sample_size() const { return hp * wp * cp; }
    // Between the 16 positions' blocks of V and of M: one cache line more
    // than the block, so that the transforms' 16 loads or stores of a tile
    // do not all fall in one L1 set (blocks of a multiple of 4 KiB would).
    Index tiles_stride(Index count) const { return count * tiles * cp + 64 / Index(sizeof(T)); }
    Index products_stride(Index count) const { return count * tiles * fp + 64 / Index(sizeof(T)); }
    Index tiles_size(Index count) const { return 16 * tiles_stride(count); }
    Index products_size(Index count) const { return 16 * products_stride(count); }
    // One sample's output, or its dz with the tiles' overhang (the backward).
    Index output_size(const Window2D& g) const { return std::max(g.out_plane(), 4 * tiles) * fp; }
};

}  // namespace detail

// Sizes every team thread's buffers, and the calling thread's kernel, for
// the window g, `filters` and batches up to `batch`.
template <class T>
void conv2d_winograd_reserve(const Window2D& g, Index filters, Index batch) {
    const detail::WinogradLayout<T> l(g, filters);
    const Index count = std::min(l.chunk, std::max<Index>(batch, 1));
    warm_scratch<T, detail::WinogradKernel>(l.kernel_size());
    warm_scratch<T, detail::WinogradKernelRows>(16 * l.fp);
    warm_scratch<T, detail::WinogradSample>(l.sample_size());
    warm_scratch<T, detail::WinogradTiles>(l.tiles_size(count));
    warm_scratch<T, detail::WinogradProducts>(l.products_size(count));
    warm_scratch<T, detail::WinogradOutput>(l.output_size(g));
    warm_scratch<T, detail::WinogradKernelGradient>(16 * l.cp * l.fp);
}

// U (16, Cp, Fp) = G w Gᵀ for every (filter, channel) of the kernel (F, C,
// 3, 3), then the bias (Fp), 0 for the padding channels and filters and for
// a null bias. With `flipped`, the kernel of the backward's full
// correlation instead: filter c, channel f is w[f][c] turned by 180 degrees
// (then g.channels is F and `filters` C).
template <class T>
void winograd_kernel(const Window2D& g, Index filters, const T* kernel, const T* bias, bool flipped, T* u) {
    const detail::WinogradLayout<T> l(g, filters);
    const Index C = g.channels, stride = l.cp * l.fp;
    std::fill_n(u, l.kernel_size(), T(0));
    if (bias) std::copy_n(bias, filters, u + 16 * stride);
    const T half = T(0.5);
    // A channel's 16 rows of U are built in t, then copied: written straight
    // into U, 16 stores a whole block apart would fall in one L1 set.
    T* t = scratch<T, detail::WinogradKernelRows>(16 * l.fp);
    std::fill_n(t, 16 * l.fp, T(0));
    for (Index c = 0; c < C; ++c) {
        for (Index f = 0; f < filters; ++f) {
            T w[3][3];
            for (Index i = 0; i < 3; ++i)
                for (Index j = 0; j < 3; ++j)
                    w[i][j] = flipped ? kernel[((c * filters + f) * 3 + 2 - i) * 3 + 2 - j]
                                      : kernel[((f * C + c) * 3 + i) * 3 + j];
            T gw[4][3];  // G w
            for (Index j = 0; j < 3; ++j) {
                gw[0][j] = w[0][j];
                gw[1][j] = half * (w[0][j] + w[1][j] + w[2][j]);
                gw[2][j] = half * (w[0][j] - w[1][j] + w[2][j]);
                gw[3][j] = w[2][j];
            }
            T* out = t + f;
            for (Index i = 0; i < 4; ++i) {  // (G w) Gᵀ
                out[(i * 4 + 0) * l.fp] = gw[i][0];
                out[(i * 4 + 1) * l.fp] = half * (gw[i][0] + gw[i][1] + gw[i][2]);
                out[(i * 4 + 2) * l.fp] = half * (gw[i][0] - gw[i][1] + gw[i][2]);
                out[(i * 4 + 3) * l.fp] = gw[i][2];
            }
        }
        for (Index k = 0; k < 16; ++k) std::copy_n(t + k * l.fp, l.fp, u + k * stride + c * l.fp);
    }
}

namespace detail {

// A lanes x lanes block in SIMD registers: row i is src + i * stride; out(j,
// packet) gets column j. Channel-first to channel-last and back goes through
// these: one at a time, every value would be a load or store of its own.
#if defined(__GNUC__)
#pragma GCC diagnostic push
// A PacketBlock of an x86 vector type: GCC notes that the type's alignment
// attribute does not carry into the template argument (Eigen's own
// transposes instantiate the same blocks; the packets are loaded unaligned).
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
template <class T, class Out>
void transpose_block(const T* src, Index stride, Out&& out) {
    namespace ei = Eigen::internal;
    using Packet = typename DirectPacket<T>::type;
    constexpr Index lanes = DirectPacket<T>::lanes;
    ei::PacketBlock<Packet, int(lanes)> b;
    for (Index i = 0; i < lanes; ++i) b.packet[i] = ei::ploadu<Packet>(src + i * stride);
    ei::ptranspose(b);
    for (Index j = 0; j < lanes; ++j) out(j, b.packet[j]);
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

// Planes (channels of H x W, channel_stride apart) into dst channel last:
// dst[(iy * row + ix) * cp + c] = x[c][iy][ix], row being dst's row length
// in pixels; nothing else of dst is written.
template <class T>
void to_channel_last(Index channels, Index H, Index W, const T* x, Index channel_stride, T* dst, Index row, Index cp) {
    namespace ei = Eigen::internal;
    constexpr Index lanes = DirectPacket<T>::lanes;
    const Index plane = H * W;
    Index c = 0;
    if (plane >= lanes)
        for (; c + lanes <= channels; c += lanes)
            overlapping_blocks(plane, lanes, [&](Index p0) {
                Index iy = p0 / W, ix = p0 % W;
                transpose_block(x + c * channel_stride + p0, channel_stride, [&](Index, const auto& pixel) {
                    ei::pstoreu(dst + (iy * row + ix) * cp + c, pixel);
                    if (++ix == W) ix = 0, ++iy;
                });
            });
    for (; c < channels; ++c)
        for (Index p = 0; p < plane; ++p) dst[((p / W) * row + p % W) * cp + c] = x[c * channel_stride + p];
}

// One sample into xt, channel last at its padded place; the rest of xt
// stays as it was (0: the caller clears it once per call).
template <class T>
void winograd_sample(const Window2D& g, const WinogradLayout<T>& l, const T* x, Index channel_stride, T* xt) {
    to_channel_last(g.channels, g.in_h, g.in_w, x, channel_stride, xt + (g.pad_top * l.wp + g.pad_left) * l.cp, l.wp,
                    l.cp);
}

// One sample's output yt (OH*OW, Fp), channel last, into y (F, OH*OW).
template <class T>
void winograd_unsample(const WinogradLayout<T>& l, Index filters, Index P, const T* yt, T* y) {
    namespace ei = Eigen::internal;
    constexpr Index lanes = DirectPacket<T>::lanes;
    if (P < lanes) {
        for (Index f = 0; f < filters; ++f)
            for (Index p = 0; p < P; ++p) y[f * P + p] = yt[p * l.fp + f];
        return;
    }
    for (Index f0 = 0; f0 < filters; f0 += lanes)
        overlapping_blocks(P, lanes, [&](Index p0) {
            transpose_block(yt + p0 * l.fp + f0, l.fp, [&](Index j, const auto& row) {
                if (f0 + j < filters) ei::pstoreu(y + (f0 + j) * P + p0, row);
            });
        });
}

// V[k][tile][c] = (Bᵀ d B)[k] for every tile of the channel-last sample xt,
// tiles numbered from `first` in a pass of `count_tiles`.
template <class T>
void winograd_input_transform(const WinogradLayout<T>& l, const T* xt, Index first, Index stride, T* v) {
    namespace ei = Eigen::internal;
    using Packet = typename DirectPacket<T>::type;
    constexpr Index lanes = DirectPacket<T>::lanes;
    for (Index ty = 0; ty < l.th; ++ty)
        for (Index tx = 0; tx < l.tw; ++tx) {
            const T* d0 = xt + (2 * ty * l.wp + 2 * tx) * l.cp;
            T* out = v + (first + ty * l.tw + tx) * l.cp;
            for (Index c = 0; c < l.cp; c += lanes) {
                Packet s[4][4];  // Bᵀ d, row by row
                for (Index j = 0; j < 4; ++j) {
                    const T* col = d0 + j * l.cp + c;
                    const Packet r0 = ei::ploadu<Packet>(col), r1 = ei::ploadu<Packet>(col + l.wp * l.cp),
                                 r2 = ei::ploadu<Packet>(col + 2 * l.wp * l.cp),
                                 r3 = ei::ploadu<Packet>(col + 3 * l.wp * l.cp);
                    s[0][j] = ei::psub(r0, r2);
                    s[1][j] = ei::padd(r1, r2);
                    s[2][j] = ei::psub(r2, r1);
                    s[3][j] = ei::psub(r1, r3);
                }
                for (Index i = 0; i < 4; ++i) {  // (Bᵀ d) B
                    T* o = out + (i * 4) * stride + c;
                    ei::pstoreu(o, ei::psub(s[i][0], s[i][2]));
                    ei::pstoreu(o + stride, ei::padd(s[i][1], s[i][2]));
                    ei::pstoreu(o + 2 * stride, ei::psub(s[i][2], s[i][1]));
                    ei::pstoreu(o + 3 * stride, ei::psub(s[i][1], s[i][3]));
                }
            }
        }
}

// One sample's outputs from the products: yt[oy][ox][f] = (Aᵀ M A) + bias,
// through ReLU when `relu`, for the tiles numbered from `first`; the
// overhang of a tile past an odd output edge is dropped.
template <class T>
void winograd_output_transform(const Window2D& g, const WinogradLayout<T>& l, const T* m, Index first, Index stride,
                               const T* bias, bool relu, T* yt) {
    namespace ei = Eigen::internal;
    using Packet = typename DirectPacket<T>::type;
    constexpr Index lanes = DirectPacket<T>::lanes;
    const Packet zero = ei::pset1<Packet>(T(0));
    for (Index ty = 0; ty < l.th; ++ty)
        for (Index tx = 0; tx < l.tw; ++tx) {
            const T* in = m + (first + ty * l.tw + tx) * l.fp;
            const bool down = 2 * ty + 1 < g.out_h, right = 2 * tx + 1 < g.out_w;
            T* out = yt + (2 * ty * g.out_w + 2 * tx) * l.fp;
            for (Index f = 0; f < l.fp; f += lanes) {
                Packet r[2][4];  // Aᵀ M, row by row
                for (Index j = 0; j < 4; ++j) {
                    const T* col = in + j * stride + f;
                    const Packet m0 = ei::ploadu<Packet>(col), m1 = ei::ploadu<Packet>(col + 4 * stride),
                                 m2 = ei::ploadu<Packet>(col + 8 * stride), m3 = ei::ploadu<Packet>(col + 12 * stride);
                    r[0][j] = ei::padd(ei::padd(m0, m1), m2);
                    r[1][j] = ei::psub(ei::psub(m1, m2), m3);
                }
                const Packet b = bias ? ei::ploadu<Packet>(bias + f) : zero;
                auto put = [&](Index at, Packet y) {
                    y = ei::padd(y, b);
                    if (relu) y = ei::pmax(y, zero);
                    ei::pstoreu(out + at + f, y);
                };
                for (Index i = 0; i < (down ? 2 : 1); ++i) {  // (Aᵀ M) A
                    put(i * g.out_w * l.fp, ei::padd(ei::padd(r[i][0], r[i][1]), r[i][2]));
                    if (right) put((i * g.out_w + 1) * l.fp, ei::psub(ei::psub(r[i][1], r[i][2]), r[i][3]));
                }
            }
        }
}

}  // namespace detail

// y (N, F, OH, OW) for the samples [begin, end) of x, sample n at
// x + n * sample_stride with its channels channel_stride apart, from
// u = winograd_kernel(...).
template <class T>
void conv2d_winograd_forward(const Window2D& g, Index filters, ActivationKind act, const T* u, const T* x,
                             Index sample_stride, Index channel_stride, Index begin, Index end, T* y) {
    const detail::WinogradLayout<T> l(g, filters);
    const Index P = g.out_plane();
    const bool relu = act == ActivationKind::ReLU, in_place = relu || act == ActivationKind::Linear;
    T* xt = scratch<T, detail::WinogradSample>(l.sample_size());
    const Index most = std::min(l.chunk, std::max<Index>(end - begin, 1));
    T* v = scratch<T, detail::WinogradTiles>(l.tiles_size(most));
    T* m = scratch<T, detail::WinogradProducts>(l.products_size(most));
    T* yt = scratch<T, detail::WinogradOutput>(l.output_size(g));
    const T* bias = u + 16 * l.cp * l.fp;
    std::fill_n(xt, l.sample_size(), T(0));
    for (Index n0 = begin; n0 < end; n0 += l.chunk) {
        const Index count = std::min(l.chunk, end - n0), count_tiles = count * l.tiles;
        const Index vs = l.tiles_stride(count), ms = l.products_stride(count);
        for (Index s = 0; s < count; ++s) {
            detail::winograd_sample(g, l, x + (n0 + s) * sample_stride, channel_stride, xt);
            detail::winograd_input_transform(l, xt, s * l.tiles, vs, v);
        }
        // M[k] (tiles, Fp) = V[k] (tiles, Cp) . U[k] (Cp, Fp)
        for (Index k = 0; k < 16; ++k)
            gemm(Cpu{}, false, false, count_tiles, l.fp, l.cp, T(1), v + k * vs, u + k * l.cp * l.fp, T(0), m + k * ms);
        for (Index s = 0; s < count; ++s) {
            detail::winograd_output_transform(g, l, m, s * l.tiles, ms, bias, relu, yt);
            T* yn = y + (n0 + s) * filters * P;
            detail::winograd_unsample(l, filters, P, yt, yn);
            if (!in_place) activate_span(act, yn, filters * P);
        }
    }
}

// The kernel gradient through the same transforms. With M = U ⊙ V and
// y = Aᵀ M A per tile, dM = A dz Aᵀ, so dU[k] (C, F) = sum over tiles of
// V[k]ᵀ Z[k] with Z = A dz Aᵀ: 16 GEMMs as deep as the batch's tiles, and
// dw = Gᵀ dU G once per call.
//   naive: dw[f][c][i][j] += sum_{oy,ox} dz[f][oy][ox] * x_padded[c][oy + i][ox + j]

// A thread's dU (16, Cp, Fp) from 0, for winograd_kernel_gradient_add.
template <class T>
T* winograd_kernel_gradient_begin(const Window2D& g, Index filters) {
    const detail::WinogradLayout<T> l(g, filters);
    T* du = scratch<T, detail::WinogradKernelGradient>(16 * l.cp * l.fp);
    std::fill_n(du, 16 * l.cp * l.fp, T(0));
    return du;
}

namespace detail {

// Z[k][tile][f] = (A dz Aᵀ)[k] for one sample's channel-last dz (2 TH rows of
// 2 TW pixels, 0 past the outputs), tiles numbered from `first`.
template <class T>
void winograd_dz_transform(const WinogradLayout<T>& l, const T* zt, Index first, Index stride, T* z) {
    namespace ei = Eigen::internal;
    using Packet = typename DirectPacket<T>::type;
    constexpr Index lanes = DirectPacket<T>::lanes;
    const Index row = 2 * l.tw * l.fp;
    for (Index ty = 0; ty < l.th; ++ty)
        for (Index tx = 0; tx < l.tw; ++tx) {
            const T* d = zt + (2 * ty * 2 * l.tw + 2 * tx) * l.fp;
            T* out = z + (first + ty * l.tw + tx) * l.fp;
            for (Index f = 0; f < l.fp; f += lanes) {
                const Packet d00 = ei::ploadu<Packet>(d + f), d01 = ei::ploadu<Packet>(d + l.fp + f),
                             d10 = ei::ploadu<Packet>(d + row + f), d11 = ei::ploadu<Packet>(d + row + l.fp + f);
                // A dz, row by row (p, q), then each row times Aᵀ: p, p+q, p-q, -q.
                const Packet p[4] = {d00, ei::padd(d00, d10), ei::psub(d00, d10), ei::pnegate(d10)};
                const Packet q[4] = {d01, ei::padd(d01, d11), ei::psub(d01, d11), ei::pnegate(d11)};
                for (Index i = 0; i < 4; ++i) {
                    T* o = out + (i * 4) * stride + f;
                    ei::pstoreu(o, p[i]);
                    ei::pstoreu(o + stride, ei::padd(p[i], q[i]));
                    ei::pstoreu(o + 2 * stride, ei::psub(p[i], q[i]));
                    ei::pstoreu(o + 3 * stride, ei::pnegate(q[i]));
                }
            }
        }
}

}  // namespace detail

// du += the samples' V[k]ᵀ Z[k]: `count` samples of x (sample_stride apart,
// planes in_plane apart) and their dz (F planes of OH x OW, sample s at
// dz + s * dz_sample_stride, filters dz_channel_stride apart).
template <class T>
void winograd_kernel_gradient_add(const Window2D& g, Index filters, const T* x, Index sample_stride, Index count,
                                  const T* dz, Index dz_sample_stride, Index dz_channel_stride, T* du) {
    const detail::WinogradLayout<T> l(g, filters);
    const Index most = std::min(l.chunk, std::max<Index>(count, 1));
    T* xt = scratch<T, detail::WinogradSample>(l.sample_size());
    T* v = scratch<T, detail::WinogradTiles>(l.tiles_size(most));
    T* z = scratch<T, detail::WinogradProducts>(l.products_size(most));
    // dz channel last, in the output buffer: 2 TH x 2 TW pixels, 0 past the
    // outputs (the tiles' overhang) and in the padding filters.
    T* zt = scratch<T, detail::WinogradOutput>(l.output_size(g));
    std::fill_n(xt, l.sample_size(), T(0));
    std::fill_n(zt, 4 * l.tiles * l.fp, T(0));
    for (Index s0 = 0; s0 < count; s0 += l.chunk) {
        const Index n = std::min(l.chunk, count - s0), count_tiles = n * l.tiles;
        const Index vs = l.tiles_stride(n), zs = l.products_stride(n);
        for (Index s = 0; s < n; ++s) {
            detail::winograd_sample(g, l, x + (s0 + s) * sample_stride, g.in_plane(), xt);
            detail::winograd_input_transform(l, xt, s * l.tiles, vs, v);
            detail::to_channel_last(filters, g.out_h, g.out_w, dz + (s0 + s) * dz_sample_stride, dz_channel_stride, zt,
                                    2 * l.tw, l.fp);
            detail::winograd_dz_transform(l, zt, s * l.tiles, zs, z);
        }
        // dU[k] (Cp, Fp) += V[k]ᵀ (Cp, tiles) . Z[k] (tiles, Fp)
        for (Index k = 0; k < 16; ++k)
            gemm(Cpu{}, true, false, l.cp, l.fp, count_tiles, T(1), v + k * vs, z + k * zs, T(1), du + k * l.cp * l.fp);
    }
}

// dw (F, C, 3, 3) += Gᵀ dU G for every filter and channel.
template <class T>
void winograd_kernel_gradient_end(const Window2D& g, Index filters, const T* du, T* dw) {
    const detail::WinogradLayout<T> l(g, filters);
    const Index C = g.channels, stride = l.cp * l.fp;
    const T half = T(0.5);
    for (Index f = 0; f < filters; ++f)
        for (Index c = 0; c < C; ++c) {
            T t[3][4];  // Gᵀ dU
            for (Index j = 0; j < 4; ++j) {
                const T* col = du + c * l.fp + f + j * stride;
                const T u0 = col[0], u1 = col[4 * stride], u2 = col[8 * stride], u3 = col[12 * stride];
                t[0][j] = u0 + half * (u1 + u2);
                t[1][j] = half * (u1 - u2);
                t[2][j] = half * (u1 + u2) + u3;
            }
            T* out = dw + (f * C + c) * 9;
            for (Index i = 0; i < 3; ++i) {  // (Gᵀ dU) G
                out[i * 3 + 0] += t[i][0] + half * (t[i][1] + t[i][2]);
                out[i * 3 + 1] += half * (t[i][1] - t[i][2]);
                out[i * 3 + 2] += half * (t[i][1] + t[i][2]) + t[i][3];
            }
        }
}

}  // namespace lamina::backend
