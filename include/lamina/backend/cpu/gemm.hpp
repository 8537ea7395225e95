// lamina/backend/cpu/gemm.hpp: row-major GEMM on Eigen maps.
//
// Contract: C(m, n) = alpha * op(A) * op(B) + beta * C, all row-major and
// contiguous; op(A) is (m, k): A is stored (m, k), or (k, m) when trans_a.
// No copies: Eigen reads the transposed maps in place, and its GEMM runs on
// OpenMP threads (lamina::set_num_threads).
//   naive: for i, j: C[i][j] = beta*C[i][j] + alpha * sum_p opA[i][p] * opB[p][j]
#pragma once

#include "lamina/core/eigen.hpp"

#include "lamina/core/device.hpp"
#include "lamina/core/shape.hpp"

namespace lamina::backend {

template <class T>
void gemm(Cpu, bool trans_a, bool trans_b, Index m, Index n, Index k, T alpha, const T* a, const T* b, T beta,
          T* c) {
    using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using ConstMap = Eigen::Map<const RowMatrix>;
    Eigen::Map<RowMatrix> C(c, m, n);
    // Four spellings so that Eigen sees each transpose as a view, never a temporary.
    auto run = [&](const auto& A, const auto& B) {
        if (beta == T(0)) {
            if (alpha == T(1)) C.noalias() = A * B;
            else C.noalias() = alpha * (A * B);
        } else {
            if (beta != T(1)) C *= beta;
            if (alpha == T(1)) C.noalias() += A * B;
            else C.noalias() += alpha * (A * B);
        }
    };
    if (!trans_a && !trans_b) run(ConstMap(a, m, k), ConstMap(b, k, n));
    else if (trans_a && !trans_b) run(ConstMap(a, k, m).transpose(), ConstMap(b, k, n));
    else if (!trans_a && trans_b) run(ConstMap(a, m, k), ConstMap(b, n, k).transpose());
    else run(ConstMap(a, k, m).transpose(), ConstMap(b, n, k).transpose());
}

}  // namespace lamina::backend
