// lamina/core/denormals.hpp: denormal floats flushed to zero while lamina computes.
//
// Contract: while a FlushDenormals object lives, the thread that made it
// treats denormal inputs as zero and rounds denormal results to zero (x86's
// MXCSR FTZ and DAZ bits; on other CPUs it changes nothing); its destructor
// gives the thread back the mode it had, exceptions included, and nested
// objects leave the outermost one to restore. Every parallel region of
// lamina's CPU backend (backend/cpu/parallel.hpp, gemm.hpp) runs its worker
// threads in the mode of the thread that opened it (FollowDenormalMode), so
// the whole computation flushes or none of it does, and results depend on
// the thread count only. Sequential's fit, evaluate and predict each hold a
// FlushDenormals, as TensorFlow (and so Keras) runs its kernels with
// denormals flushed. set_flush_denormals(false) turns that off for the whole
// program, for a user who needs gradual underflow.
//
// Why: values below 1.2e-38 cost one to two orders of magnitude more cycles
// per operation on x86, and training makes them as a matter of course:
// Adam's first moment of a weight whose gradient is almost always zero (an
// MNIST border pixel's) shrinks by beta_1 each step, through the whole
// denormal range (docs/performance.md). Flushing changes only numbers that
// small. The workers follow per region, rather than being set once for the
// team, because setting a team costs two parallel regions per call: more
// than a batch-1 predict of a small MLP takes.
#pragma once

#include <atomic>

#if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
#include <xmmintrin.h>
#define LAMINA_HAS_MXCSR 1
#else
#define LAMINA_HAS_MXCSR 0
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

// The calling thread's flush bits (0 where there are none).
inline unsigned denormal_mode() {
#if LAMINA_HAS_MXCSR
    return _mm_getcsr() & mxcsr_flush_bits;
#else
    return 0;
#endif
}

// This thread's mode before its outermost FlushDenormals, and how deep it is.
struct DenormalModeState {
    unsigned saved = 0;
    int depth = 0;
};

inline DenormalModeState& denormal_mode_state() {
    static thread_local DenormalModeState state;
    return state;
}

// Inside a parallel region: this thread takes `mode` (the opening thread's
// denormal_mode()) and gets its own back at the end of the region.
class FollowDenormalMode {
public:
    explicit FollowDenormalMode(unsigned mode) {
#if LAMINA_HAS_MXCSR
        saved_ = _mm_getcsr();
        if ((saved_ & mxcsr_flush_bits) != mode) _mm_setcsr((saved_ & ~mxcsr_flush_bits) | mode);
        else changed_ = false;
#else
        (void)mode;
        (void)saved_;
        (void)changed_;
#endif
    }
    ~FollowDenormalMode() {
#if LAMINA_HAS_MXCSR
        if (changed_) _mm_setcsr(saved_);
#endif
    }
    FollowDenormalMode(const FollowDenormalMode&) = delete;
    FollowDenormalMode& operator=(const FollowDenormalMode&) = delete;

private:
    unsigned saved_ = 0;
    bool changed_ = true;
};

}  // namespace detail

inline void set_flush_denormals(bool on) { detail::flush_denormals_flag().store(on); }
inline bool flush_denormals() { return detail::flush_denormals_flag().load(); }

// Whether denormal results are flushed to zero on the calling thread now.
inline bool denormals_flushed_here() {
#if LAMINA_HAS_MXCSR
    return detail::denormal_mode() == detail::mxcsr_flush_bits;
#else
    return false;
#endif
}

class FlushDenormals {
public:
    FlushDenormals() {
#if LAMINA_HAS_MXCSR
        if (!flush_denormals()) return;
        active_ = true;
        detail::DenormalModeState& s = detail::denormal_mode_state();
        if (s.depth++ > 0) return;
        s.saved = _mm_getcsr();
        _mm_setcsr(s.saved | detail::mxcsr_flush_bits);
#else
        (void)active_;
#endif
    }
    ~FlushDenormals() {
#if LAMINA_HAS_MXCSR
        if (!active_) return;
        detail::DenormalModeState& s = detail::denormal_mode_state();
        if (--s.depth == 0) _mm_setcsr(s.saved);
#endif
    }
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;

private:
    bool active_ = false;
};

}  // namespace lamina
