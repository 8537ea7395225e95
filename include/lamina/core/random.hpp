// lamina/core/random.hpp: a small, fast, portable, seedable generator.
//
// Contract: Rng(seed) produces the same sequence on every platform and
// compiler (std::normal_distribution does not), which is what makes
// "same seed + same threads + same build = same weights" hold. The full
// state (four generator words, plus the cached second normal of a
// Box-Muller pair) is six 64-bit words, so it can be saved and restored.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"

namespace lamina {

// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class Rng {
public:
    using State = std::array<std::uint64_t, 6>;

    explicit Rng(std::uint64_t seed = 0) { this->seed(seed); }

    void seed(std::uint64_t seed) {
        std::uint64_t x = seed;
        for (auto& s : state_) s = splitmix64(x);
    }

    std::uint64_t next_u64() noexcept {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform double in [0, 1) with 53 random bits.
    double uniform() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }

    // Uniform integer in [0, n), unbiased (Lemire's rejection method).
    std::uint64_t below(std::uint64_t n) noexcept {
        if (n == 0) return 0;
        const std::uint64_t limit = (0 - n) % n;  // 2^64 mod n
        for (;;) {
            std::uint64_t r = next_u64();
            if (r >= limit) return r % n;
        }
    }

    // Standard normal by Box-Muller; the second value of each pair is kept.
    double normal() noexcept {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double two_pi = 6.283185307179586476925286766559;
        spare_ = r * std::sin(two_pi * u2);
        has_spare_ = true;
        return r * std::cos(two_pi * u2);
    }
    double normal(double mean, double stddev) noexcept { return mean + stddev * normal(); }

    // Normal truncated to [-2, 2] standard deviations by redrawing, as Keras's
    // TruncatedNormal does.
    double truncated_normal(double stddev) noexcept {
        for (;;) {
            const double z = normal();
            if (z >= -2.0 && z <= 2.0) return stddev * z;
        }
    }

    // Fisher-Yates shuffle of [first, last).
    template <class It>
    void shuffle(It first, It last) noexcept {
        const auto n = last - first;
        for (auto i = n - 1; i > 0; --i) {
            const auto j = static_cast<decltype(i)>(below(static_cast<std::uint64_t>(i) + 1));
            std::swap(first[i], first[j]);
        }
    }

    State state() const noexcept {
        std::uint64_t spare_bits;
        std::memcpy(&spare_bits, &spare_, sizeof spare_bits);
        return {state_[0], state_[1], state_[2], state_[3], has_spare_ ? 1u : 0u, spare_bits};
    }
    void set_state(const State& s) noexcept {
        for (std::size_t i = 0; i < 4; ++i) state_[i] = s[i];
        has_spare_ = s[4] != 0;
        std::memcpy(&spare_, &s[5], sizeof spare_);
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::array<std::uint64_t, 4> state_{};
    double spare_ = 0.0;
    bool has_spare_ = false;
};

// A layer's generator as the words its state() saves in model files, and
// back; `who` names the layer in the ConfigError for a wrong word count.
inline std::vector<std::uint64_t> rng_words(const Rng& rng) {
    const auto s = rng.state();
    return {s.begin(), s.end()};
}
inline void set_rng_words(Rng& rng, const std::vector<std::uint64_t>& words, const std::string& who) {
    Rng::State s{};
    if (words.size() != s.size())
        throw ConfigError(ErrorId::config_argument, who + ": state must be " + std::to_string(s.size()) +
                                                        " words (its generator), got " + std::to_string(words.size()));
    std::copy(words.begin(), words.end(), s.begin());
    rng.set_state(s);
}

}  // namespace lamina
