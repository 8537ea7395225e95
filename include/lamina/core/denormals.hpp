// lamina/core/denormals.hpp: denormal floats flushed to zero while lamina computes.
//
// Contract: while a FlushDenormals object lives, the thread that made it and
// the threads of lamina's OpenMP team treat denormal inputs as zero and round
// denormal results to zero (x86's MXCSR FTZ and DAZ bits; on other CPUs it
// changes nothing). Its destructor gives each of those threads back the mode
// it had, exceptions included; nested objects leave the outermost one to
// restore. Sequential's fit, evaluate and predict each hold one, as
// TensorFlow (and so Keras) runs its kernels with denormals flushed.
// set_flush_denormals(false) turns it off for the whole program, for a user
// who needs gradual underflow.
//
// Why: values below 1.2e-38 cost one to two orders of magnitude more cycles
// per operation on x86. Training makes them as a matter of course: Adam's
// first moment of a weight whose gradient is almost always zero (an MNIST
// border pixel's) shrinks by beta_1 each step, through the denormal range,
// and made the Keras MLP's epochs about a third slower from the second epoch
// on (docs/performance.md). Flushing changes only numbers that small.
#pragma once

#include <atomic>

#if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
#include <xmmintrin.h>
#define LAMINA_HAS_MXCSR 1
#else
#define LAMINA_HAS_MXCSR 0
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace lamina {

namespace detail {

inline std::atomic<bool>& flush_denormals_flag() {
    static std::atomic<bool> on{true};
    return on;
}

#if LAMINA_HAS_MXCSR
// MXCSR's flush-to-zero (results) and denormals-are-zero (inputs) bits.
constexpr unsigned mxcsr_flush_bits = 0x8000u | 0x0040u;
#endif

// This thread's mode before its outermost FlushDenormals, and how deep it is.
struct DenormalModeState {
    unsigned saved = 0;
    int depth = 0;
};

inline DenormalModeState& denormal_mode_state() {
    static thread_local DenormalModeState state;
    return state;
}

inline void enter_flush_denormals() {
#if LAMINA_HAS_MXCSR
    DenormalModeState& s = denormal_mode_state();
    if (s.depth++ > 0) return;
    s.saved = _mm_getcsr();
    _mm_setcsr(s.saved | mxcsr_flush_bits);
#endif
}

inline void leave_flush_denormals() {
#if LAMINA_HAS_MXCSR
    DenormalModeState& s = denormal_mode_state();
    // A thread the entering team did not include has nothing to give back.
    if (s.depth == 0 || --s.depth > 0) return;
    _mm_setcsr(s.saved);
#endif
}

// f() on the calling thread and on every thread of the team that lamina's
// parallel loops use: OpenMP keeps its worker threads, and their modes,
// from one parallel region to the next.
template <class F>
void on_every_team_thread(F&& f) {
#ifdef _OPENMP
    if (!omp_in_parallel() && omp_get_max_threads() > 1) {
#pragma omp parallel num_threads(omp_get_max_threads())
        f();
        return;
    }
#endif
    f();
}

}  // namespace detail

inline void set_flush_denormals(bool on) { detail::flush_denormals_flag().store(on); }
inline bool flush_denormals() { return detail::flush_denormals_flag().load(); }

// Whether denormal results are flushed to zero on the calling thread now.
inline bool denormals_flushed_here() {
#if LAMINA_HAS_MXCSR
    return (_mm_getcsr() & detail::mxcsr_flush_bits) == detail::mxcsr_flush_bits;
#else
    return false;
#endif
}

class FlushDenormals {
public:
    FlushDenormals() : active_(LAMINA_HAS_MXCSR && flush_denormals()) {
        if (active_) detail::on_every_team_thread(detail::enter_flush_denormals);
    }
    ~FlushDenormals() {
        if (active_) detail::on_every_team_thread(detail::leave_flush_denormals);
    }
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;

private:
    bool active_;
};

}  // namespace lamina
