// lamina/backend/cpu/gemm.hpp: row-major GEMM on Eigen's kernels.
//
// Contract: C(m, n) = alpha * op(A) * op(B) + beta * C, all row-major and
// contiguous; op(A) is (m, k): A is stored (m, k), or (k, m) when trans_a.
// No copies of A or B: Eigen reads the transposed layouts in place. Runs on
// the OpenMP threads (lamina::set_num_threads), or on the calling thread alone
// inside a parallel region (the convolutions split the batch themselves).
// After the first call of a given size on a thread it allocates nothing.
//   naive: for i, j: C[i][j] = beta*C[i][j] + alpha * sum_p opA[i][p] * opB[p][j]
//
// Why not `C.noalias() = A * B` on Eigen maps: Eigen's product allocates its
// packing buffers (the blocks of A and B it copies into cache-sized panels)
// on every call, several per training step, and a steady-state training step
// must not touch the heap. Here the same Eigen kernel (its
// general_matrix_matrix_product, gebp micro-kernel included) packs into this
// thread's scratch buffers instead. Eigen's own threading shares one packed
// panel between threads; splitting C into one slice per thread instead costs
// each thread a re-pack of the operand it shares (measured: no slower on the
// shapes lamina runs, docs/performance.md).
#pragma once

#include <algorithm>

#include "lamina/core/eigen.hpp"

#include "lamina/backend/cpu/parallel.hpp"
#include "lamina/backend/cpu/scratch.hpp"
#include "lamina/core/denormals.hpp"
#include "lamina/core/device.hpp"
#include "lamina/core/shape.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace lamina::backend {

namespace detail {

// Scratch tags (scratch.hpp) of the packed blocks of the left and right operands.
struct GemmPackedA;
struct GemmPackedB;

// Eigen's blocking sizes for this product, with the packing buffers taken
// from this thread's scratch rather than allocated.
template <class T>
class ScratchBlocking : public Eigen::internal::level3_blocking<T, T> {
public:
    ScratchBlocking(Index rows, Index cols, Index depth) {
        this->m_mc = rows;
        this->m_nc = cols;
        this->m_kc = depth;
        Eigen::internal::computeProductBlockingSizes<T, T, 1>(this->m_kc, this->m_mc, this->m_nc, Index(1));
        this->m_blockA = scratch<T, GemmPackedA>(this->m_mc * this->m_kc);
        this->m_blockB = scratch<T, GemmPackedB>(this->m_kc * this->m_nc);
    }
};

// Column-major C(rows, cols) += alpha * L(rows, depth) * R(depth, cols) on the
// calling thread; L and R are column- or row-major with the given strides.
// blocking_cols, when given, is the column count of a larger product that
// this one is a column slice of: blocked as that product is, the slice's
// values come out the same bits as they do in the whole product, when the
// slice starts on a multiple of the kernel's column tile (4).
template <class T, int LhsOrder, int RhsOrder>
void gemm_serial(Index rows, Index cols, Index depth, T alpha, const T* lhs, Index lhs_stride, const T* rhs,
                 Index rhs_stride, T* res, Index res_stride, Index blocking_cols = 0) {
    ScratchBlocking<T> blocking(rows, std::max(cols, blocking_cols), depth);
    Eigen::internal::general_matrix_matrix_product<Index, T, LhsOrder, false, T, RhsOrder, false, Eigen::ColMajor,
                                                   1>::run(rows, cols, depth, lhs, lhs_stride, rhs, rhs_stride, res, 1,
                                                           res_stride, alpha, blocking, nullptr);
}

// Eigen's own rule for a thread's share of a product: at least this many
// multiply-adds, or the thread costs more than it saves.
constexpr double gemm_work_per_thread = 50000.0;

// Threads worth using: Eigen's rule (gemm_work_per_thread and one 16-wide
// slice per thread), and one thread inside a parallel region.
inline int gemm_threads(Index rows, Index cols, Index depth) {
#ifdef _OPENMP
    if (omp_in_parallel()) return 1;
    const double work = double(rows) * double(cols) * double(depth);
    const Index by_work = std::max<Index>(1, Index(work / gemm_work_per_thread));
    const Index by_size = std::max<Index>(1, std::max(rows, cols) / 16);
    return int(std::min<Index>({Index(omp_get_max_threads()), by_work, by_size}));
#else
    (void)rows, (void)cols, (void)depth;
    return 1;
#endif
}

// Column-major C += alpha * L * R, split into one slice of C per thread along
// its longer side (slices are multiples of 16 so each stays vector-aligned in
// the micro-kernel's tiles).
template <class T, int LhsOrder, int RhsOrder>
void gemm_colmajor(Index rows, Index cols, Index depth, T alpha, const T* lhs, Index lhs_stride, const T* rhs,
                   Index rhs_stride, T* res, Index res_stride) {
    constexpr bool lhs_col = LhsOrder == Eigen::ColMajor, rhs_col = RhsOrder == Eigen::ColMajor;
    const int threads = gemm_threads(rows, cols, depth);
    if (threads == 1) {
        gemm_serial<T, LhsOrder, RhsOrder>(rows, cols, depth, alpha, lhs, lhs_stride, rhs, rhs_stride, res, res_stride);
        return;
    }
    const bool split_rows = rows >= cols;
    const Index extent = split_rows ? rows : cols;
    const Index slice = (extent / threads + 15) / 16 * 16;
    const unsigned mode = lamina::detail::denormal_mode();  // the workers follow the caller (core/denormals.hpp)
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static, 1)
#endif
    for (int t = 0; t < threads; ++t) {
        const lamina::detail::FollowDenormalMode follow(mode);
        const Index begin = std::min(extent, Index(t) * slice);
        const Index len = t + 1 == threads ? extent - begin : std::min(slice, extent - begin);
        if (len <= 0) continue;
        if (split_rows) {  // rows [begin, begin + len) of L and C
            const T* l = lhs + (lhs_col ? begin : begin * lhs_stride);
            gemm_serial<T, LhsOrder, RhsOrder>(len, cols, depth, alpha, l, lhs_stride, rhs, rhs_stride, res + begin,
                                               res_stride);
        } else {  // columns [begin, begin + len) of R and C
            const T* r = rhs + (rhs_col ? begin * rhs_stride : begin);
            gemm_serial<T, LhsOrder, RhsOrder>(rows, len, depth, alpha, lhs, lhs_stride, r, rhs_stride,
                                               res + begin * res_stride, res_stride);
        }
    }
}

// Whether a row vector times a (k, n) matrix is worth splitting by columns
// across the team: a batch-1 Dense layer's forward, which reads the whole
// kernel for one multiply-add per value.
inline bool split_row_times_matrix(Index n, Index k) {
    return team_size() > 1 && n >= 32 && double(n) * double(k) >= double(Index(1) << 16);
}

}  // namespace detail

template <class T>
void gemm(Cpu, bool trans_a, bool trans_b, Index m, Index n, Index k, T alpha, const T* a, const T* b, T beta, T* c) {
    using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using ConstMap = Eigen::Map<const RowMatrix>;
    if (m == 0 || n == 0) return;
    Eigen::Map<RowMatrix> C(c, m, n);
    if (beta == T(0)) C.setZero();
    else if (beta != T(1)) C *= beta;
    if (k == 0 || alpha == T(0)) return;

    // A row vector times B (k, n), as a batch-1 Dense layer's forward: a is
    // k contiguous values however it is stored. Spelled with vector maps,
    // which Eigen's GEMV reads in place (a one-row matrix map makes it copy
    // a to the heap on every call). Large products split C's columns, in
    // blocks of 16, across the team: each thread reads only its columns of
    // B, which then stay in its core's cache from one call to the next, and
    // every C value is the same dot product, in the same order, as on one thread.
    if (m == 1 && !trans_b) {
        using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;
        using Columns = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
        auto columns = [&](Index j0, Index len) {
            Eigen::Map<RowVector> Cj(c + j0, len);
            Cj.noalias() +=
                alpha * (Eigen::Map<const RowVector>(a, k) * Columns(b + j0, k, len, Eigen::OuterStride<>(n)));
        };
        if (!detail::split_row_times_matrix(n, k)) {
            columns(0, n);
            return;
        }
        constexpr Index unit = 16;
        parallel_blocks((n + unit - 1) / unit, [&](int, Index u0, Index u1) {
            const Index j0 = std::min(n, u0 * unit), len = std::min(n, u1 * unit) - j0;
            if (len > 0) columns(j0, len);
        });
        return;
    }

    // Matrix-vector products and tiny ones: Eigen's GEMV and coefficient-wise
    // kernels, which neither pack nor allocate. Spelled four ways so that
    // Eigen sees each transpose as a view, never a temporary.
    if (m == 1 || n == 1 || m + n + k < 20) {
        auto run = [&](const auto& A, const auto& B) { C.noalias() += alpha * (A * B); };
        if (!trans_a && !trans_b) run(ConstMap(a, m, k), ConstMap(b, k, n));
        else if (trans_a && !trans_b) run(ConstMap(a, k, m).transpose(), ConstMap(b, k, n));
        else if (!trans_a && trans_b) run(ConstMap(a, m, k), ConstMap(b, n, k).transpose());
        else run(ConstMap(a, k, m).transpose(), ConstMap(b, n, k).transpose());
        return;
    }

    // Row-major C is column-major Cᵀ (n, m) = op(B)ᵀ (n, k) * op(A)ᵀ (k, m).
    // op(B)ᵀ: B stored (k, n) read column-major with stride n, or B stored
    // (n, k) read row-major with stride k; op(A)ᵀ likewise.
    constexpr int Col = Eigen::ColMajor, Row = Eigen::RowMajor;
    using detail::gemm_colmajor;
    if (!trans_b && !trans_a) gemm_colmajor<T, Col, Col>(n, m, k, alpha, b, n, a, k, c, n);
    else if (!trans_b && trans_a) gemm_colmajor<T, Col, Row>(n, m, k, alpha, b, n, a, m, c, n);
    else if (trans_b && !trans_a) gemm_colmajor<T, Row, Col>(n, m, k, alpha, b, k, a, k, c, n);
    else gemm_colmajor<T, Row, Row>(n, m, k, alpha, b, k, a, m, c, n);
}

}  // namespace lamina::backend
