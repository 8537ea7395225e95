// lamina/backend/cpu/conv2d_direct.hpp: the direct convolution of a layer
// with a small patch, the first layer of an image network.
//
// Contract: for a window g with unit strides whose patch (C*KH*KW values)
// is at most conv_direct_max_patch (conv_direct says which),
// conv2d_direct_forward writes y = act(conv(x) + bias) for the samples
// [begin, end) of x (only for the filter groups [group_begin, group_end), of
// conv_direct_group filters each, when given), and
// conv2d_direct_kernel_gradient adds their dL/dW and dL/db (when db is not
// null) into dw and db, from dz = dy * act'(y). It
// computes no dL/dx: conv2d.hpp takes the GEMM path for a backward that
// wants one. Layouts are conv2d.hpp's. Both run on the calling thread; after
// conv2d_direct_reserve for the same geometry neither allocates.
//
// Why: lowered to GEMM, such a layer multiplies (F, 9) by (9, N*OH*OW) for
// MNIST's one channel: with a depth of 9, Eigen's micro-kernel loads and
// stores its output tile once per 9 multiply-adds, after the im2col copy and
// the packing copy of the columns, and runs at a fraction of the GEMM peak
// (docs/performance.md). Here every multiply-add reads its input straight
// from one zero-padded copy of the sample, kept in L1.
//
// The layout: the sample is copied, with its zero padding, into a flat
// buffer of C planes of (Hp, Wp) = (OH + KH - 1, OW + KW - 1). Output
// (oy, ox) is then flat position q = oy*Wp + ox, and kernel tap t = (c, i, j)
// reads q + offset(t), offset(t) = c*Hp*Wp + i*Wp + j: for every tap, a run
// of consecutive outputs reads a run of consecutive inputs, one SIMD load
// per packet of outputs.
//   naive: y[f][oy][ox] = act(bias[f] + sum_{c,i,j} w[f][c][i][j] * x_padded[c][oy + i][ox + j])
//          dw[f][c][i][j] += sum_{oy,ox} dz[f][oy][ox] * x_padded[c][oy + i][ox + j]
#pragma once

#include "lamina/core/eigen.hpp"

#include <algorithm>
#include <array>

#include "lamina/backend/cpu/elementwise.hpp"
#include "lamina/backend/cpu/im2col.hpp"
#include "lamina/backend/cpu/scratch.hpp"
#include "lamina/core/activation_kind.hpp"
#include "lamina/core/window.hpp"

namespace lamina::backend {

// Largest patch taken directly: 3 channels of 3x3 (an RGB first layer). A
// deeper patch gives the GEMM the depth it needs.
constexpr Index conv_direct_max_patch = 27;

inline bool conv_direct(const Window2D& g) {
    return g.s_h == 1 && g.s_w == 1 && g.patch_size() <= conv_direct_max_patch;
}

// Filters per pass of the forward: eight accumulators hide the latency of
// the multiply-adds, each tap's input packet serves the eight.
constexpr Index conv_direct_group = 8;

inline Index conv_direct_groups(Index filters) { return (filters + conv_direct_group - 1) / conv_direct_group; }

namespace detail {

// Scratch tags (scratch.hpp): the padded sample, the filters' weights packed
// by group, and the backward's dz plane (contiguous, then laid out flat).
struct ConvDirectInput;
struct ConvDirectWeights;
struct ConvDirectDz;
struct ConvDirectFlatDz;

template <class T>
struct DirectPacket {
    using type = typename Eigen::internal::packet_traits<T>::type;
    static constexpr Index lanes = Eigen::internal::unpacket_traits<type>::size;
};

// Calls f(p0) for blocks of `lanes` positions covering [0, n), the last
// block overlapping the one before (its repeated positions are written again
// with the same values); for n < lanes, one block at 0.
template <class F>
void overlapping_blocks(Index n, Index lanes, F&& f) {
    const Index last = std::max<Index>(n - lanes, 0);
    for (Index p0 = 0;; p0 = std::min(p0 + lanes, last)) {
        f(p0);
        if (p0 == last) break;
    }
}

// The flat geometry of one padded sample.
struct DirectLayout {
    Index hp, wp, plane;  // padded rows, columns, C planes of hp * wp
    Index length;         // flat output positions OH*Wp, rounded up to whole packets
    Index input_size;     // the padded sample plus what the last packet of the last tap reads
    std::array<Index, conv_direct_max_patch> offset;  // offset(t) for each tap

    DirectLayout(const Window2D& g, Index lanes) {
        hp = g.out_h + g.k_h - 1;
        wp = g.out_w + g.k_w - 1;
        plane = hp * wp;
        length = (g.out_h * wp + lanes - 1) / lanes * lanes;
        Index t = 0;
        for (Index c = 0; c < g.channels; ++c)
            for (Index i = 0; i < g.k_h; ++i)
                for (Index j = 0; j < g.k_w; ++j) offset[std::size_t(t++)] = c * plane + i * wp + j;
        // A row shorter than a packet is computed as a whole packet.
        const Index reads = std::max(length, (g.out_h - 1) * wp + std::max(g.out_w, lanes));
        input_size = reads + offset[std::size_t(t - 1)];
    }
};

// The sample (C, H, W) at x into xp: its rows at their padded places, every
// other value 0 (padding and the slack that whole packets read past the end).
template <class T>
void pad_sample(const Window2D& g, const DirectLayout& l, const T* x, T* xp) {
    std::fill_n(xp, l.input_size, T(0));
    const Index cols = std::min(g.in_w, l.wp - g.pad_left);  // "same" may pad less on the right
    for (Index c = 0; c < g.channels; ++c)
        for (Index iy = 0; iy < g.in_h && iy + g.pad_top < l.hp; ++iy)
            copy_row(x + (c * g.in_h + iy) * g.in_w, cols, xp + c * l.plane + (iy + g.pad_top) * l.wp + g.pad_left);
}

// packed (groups, taps, group): filter f's tap t at [f / group][t][f % group],
// 0 for the filters past the last.
template <class T>
void pack_direct_weights(Index filters, Index taps, const T* kernel, T* packed) {
    constexpr Index group = conv_direct_group;
    std::fill_n(packed, conv_direct_groups(filters) * taps * group, T(0));
    for (Index f = 0; f < filters; ++f)
        for (Index t = 0; t < taps; ++t) packed[((f / group) * taps + t) * group + f % group] = kernel[f * taps + t];
}

// The eight filters of one group at the outputs q0 + [0, lanes) of the
// padded sample: the taps in the kernel's (c, i, j) order from zero (the
// caller adds the bias after them, as the GEMM path does).
template <class T>
void direct_block(const DirectLayout& l, Index taps, const T* xp, const T* w, Index q0,
                  typename DirectPacket<T>::type (&acc)[conv_direct_group]) {
    namespace ei = Eigen::internal;
    using Packet = typename DirectPacket<T>::type;
    for (auto& a : acc) a = ei::pset1<Packet>(T(0));
    for (Index t = 0; t < taps; ++t, w += conv_direct_group) {
        const Packet v = ei::ploadu<Packet>(xp + q0 + l.offset[std::size_t(t)]);
        for (Index k = 0; k < conv_direct_group; ++k) acc[k] = ei::pmadd(ei::pset1<Packet>(w[k]), v, acc[k]);
    }
}

}  // namespace detail

// Sizes every team thread's buffers for the window g and `filters`.
template <class T>
void conv2d_direct_reserve(const Window2D& g, Index filters) {
    const detail::DirectLayout l(g, detail::DirectPacket<T>::lanes);
    const Index groups = conv_direct_groups(filters);
    warm_scratch<T, detail::ConvDirectInput>(l.input_size);
    warm_scratch<T, detail::ConvDirectWeights>(groups * g.patch_size() * conv_direct_group);
    warm_scratch<T, detail::ConvDirectDz>(g.out_plane());
    warm_scratch<T, detail::ConvDirectFlatDz>(l.length);
}

template <class T>
void conv2d_direct_forward(const Window2D& g, Index filters, ActivationKind act, const T* x, Index begin, Index end,
                           const T* kernel, const T* bias, T* y, Index group_begin = 0, Index group_end = -1) {
    namespace ei = Eigen::internal;
    using Packet = typename detail::DirectPacket<T>::type;
    constexpr Index lanes = detail::DirectPacket<T>::lanes, group = conv_direct_group;
    const detail::DirectLayout l(g, lanes);
    const Index taps = g.patch_size(), P = g.out_plane(), OW = g.out_w, groups = conv_direct_groups(filters);
    T* xp = scratch<T, detail::ConvDirectInput>(l.input_size);
    T* packed = scratch<T, detail::ConvDirectWeights>(groups * taps * group);
    detail::pack_direct_weights(filters, taps, kernel, packed);
    // Rows of a packet or more go in packets, the last overlapping the one
    // before (the same values again); a shorter row is one packet, of which
    // the row's values are kept.
    const bool relu = act == ActivationKind::ReLU, in_place = relu || act == ActivationKind::Linear;
    for (Index n = begin; n < end; ++n) {
        detail::pad_sample(g, l, x + n * g.channels * g.in_plane(), xp);
        T* yn = y + n * filters * P;
        for (Index gi = group_begin; gi < (group_end < 0 ? groups : group_end); ++gi) {
            const Index f0 = gi * group, count = std::min(group, filters - f0);
            const T* w = packed + gi * taps * group;
            for (Index oy = 0; oy < g.out_h; ++oy)
                detail::overlapping_blocks(OW, lanes, [&](Index ox) {
                    Packet acc[group];
                    detail::direct_block(l, taps, xp, w, oy * l.wp + ox, acc);
                    for (Index k = 0; k < count; ++k) {
                        Packet v = acc[k];
                        if (bias) v = ei::padd(v, ei::pset1<Packet>(bias[f0 + k]));
                        if (relu) v = ei::pmax(v, ei::pset1<Packet>(T(0)));
                        T* dst = yn + (f0 + k) * P + oy * OW + ox;
                        if (OW >= lanes) {
                            ei::pstoreu(dst, v);
                        } else {
                            alignas(64) T row[lanes];
                            ei::pstore(row, v);
                            std::copy_n(row, OW, dst);
                        }
                    }
                });
            if (!in_place)
                for (Index k = 0; k < count; ++k) activate_span(act, yn + (f0 + k) * P, P);
        }
    }
}

namespace detail {

// One filter's dz = dy * act'(y) into the flat layout's rows: ReLU's (the
// Keras CNNs' first layers) in one pass of packets, the others through
// activation_backward_span into dz, then row by row.
template <class T>
void flat_dz(const Window2D& g, const DirectLayout& l, ActivationKind act, const T* y, const T* dy, T* dz, T* flat) {
    namespace ei = Eigen::internal;
    using Packet = typename DirectPacket<T>::type;
    constexpr Index lanes = DirectPacket<T>::lanes;
    const Index OW = g.out_w;
    if (act == ActivationKind::ReLU && OW >= lanes) {
        // Whole packets, the last of each row overlapping the one before
        // (the same values again).
        const Packet zero = ei::pset1<Packet>(T(0));
        for (Index oy = 0; oy < g.out_h; ++oy) {
            const T *yr = y + oy * OW, *dr = dy + oy * OW;
            T* out = flat + oy * l.wp;
            overlapping_blocks(OW, lanes, [&](Index k) {
                const Packet keep = ei::pcmp_lt(zero, ei::ploadu<Packet>(yr + k));
                ei::pstoreu(out + k, ei::pand(keep, ei::ploadu<Packet>(dr + k)));
            });
        }
        return;
    }
    if (act != ActivationKind::Linear) {
        activation_backward_span(act, y, dy, dz, g.out_plane());
        dy = dz;
    }
    for (Index oy = 0; oy < g.out_h; ++oy) copy_row(dy + oy * OW, OW, flat + oy * l.wp);
}

// dw[t0 + k] += sum_q dz[q] * xp[q + offset(t0 + k)] for the G taps from t0
// (those past `taps` read tap 0's inputs and are dropped): one pass over the
// flat dz with G accumulators. db, when not null, gets the sum of dz as well.
template <int G, class T>
void direct_tap_sums(const DirectLayout& l, Index taps, Index t0, const T* dz, const T* xp, T* dw, T* db) {
    namespace ei = Eigen::internal;
    using Packet = typename DirectPacket<T>::type;
    constexpr Index lanes = DirectPacket<T>::lanes;
    const T* in[G];
    for (int k = 0; k < G; ++k) in[k] = xp + (t0 + k < taps ? l.offset[std::size_t(t0 + k)] : 0);
    Packet acc[G], sum = ei::pset1<Packet>(T(0));
    for (auto& a : acc) a = sum;
    for (Index q = 0; q < l.length; q += lanes) {
        const Packet d = ei::ploadu<Packet>(dz + q);
        sum = ei::padd(sum, d);
        for (int k = 0; k < G; ++k) acc[k] = ei::pmadd(d, ei::ploadu<Packet>(in[k] + q), acc[k]);
    }
    for (int k = 0; k < G && t0 + k < taps; ++k) dw[t0 + k] += ei::predux(acc[k]);
    if (db) *db += ei::predux(sum);
}

template <int G, class T>
void direct_kernel_gradient(const Window2D& g, Index filters, ActivationKind act, const T* x, const T* y, const T* dy,
                            Index begin, Index end, T* dw, T* db) {
    const DirectLayout l(g, DirectPacket<T>::lanes);
    const Index taps = g.patch_size(), P = g.out_plane();
    T* xp = scratch<T, ConvDirectInput>(l.input_size);
    T* dz = scratch<T, ConvDirectDz>(P);
    T* flat = scratch<T, ConvDirectFlatDz>(l.length);
    // The flat dz keeps 0 where no output is (each row's last KW - 1
    // columns, the packet slack): those positions add 0 * input, exact for
    // finite inputs, which fit checks.
    std::fill_n(flat, l.length, T(0));
    for (Index n = begin; n < end; ++n) {
        pad_sample(g, l, x + n * g.channels * g.in_plane(), xp);
        for (Index f = 0; f < filters; ++f) {
            const Index at = (n * filters + f) * P;
            flat_dz(g, l, act, y + at, dy + at, dz, flat);
            for (Index t0 = 0; t0 < taps; t0 += G)
                direct_tap_sums<G>(l, taps, t0, flat, xp, dw + f * taps, t0 == 0 && db ? db + f : nullptr);
        }
    }
}

}  // namespace detail

template <class T>
void conv2d_direct_kernel_gradient(const Window2D& g, Index filters, ActivationKind act, const T* x, const T* y,
                                   const T* dy, Index begin, Index end, T* dw, T* db) {
    // Nine taps per pass over dz (a channel of a 3x3 kernel), else eight.
    if (g.k_w == 3 && g.patch_size() % 9 == 0)
        detail::direct_kernel_gradient<9>(g, filters, act, x, y, dy, begin, end, dw, db);
    else detail::direct_kernel_gradient<8>(g, filters, act, x, y, dy, begin, end, dw, db);
}

}  // namespace lamina::backend
