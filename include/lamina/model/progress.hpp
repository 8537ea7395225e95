// lamina/model/progress.hpp: Keras's progress display for fit() and evaluate().
//
// Contract: verbose 0 prints nothing. verbose 1 on a terminal redraws one
// line in place (at most every 50 ms, plus the last step):
//   1875/1875 [==============================] - 6s 3ms/step - loss: 0.2960 - accuracy: 0.9140
// verbose 2, or verbose 1 when the stream is not a terminal, prints one line
// per epoch:
//   1875/1875 - 6s - loss: 0.2960 - accuracy: 0.9140 - 6s/epoch - 3ms/step
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

#include "lamina/core/shape.hpp"

namespace lamina {

inline bool stdout_is_terminal() {
#if defined(_WIN32)
    return _isatty(_fileno(stdout)) != 0;
#else
    return isatty(fileno(stdout)) != 0;
#endif
}

class ProgressBar {
public:
    using Values = std::vector<std::pair<std::string, double>>;

    ProgressBar(Index total_steps, int verbose, bool terminal, std::ostream& out)
        : total_(total_steps), verbose_(verbose), in_place_(verbose == 1 && terminal), out_(out) {
        start_ = last_draw_ = Clock::now();
    }

    // After step `step` (1-based) with the running values; draws only when due().
    void update(Index step, const Values& values) { draw(step, values, false); }
    // Whether update(step) would draw now (verbose 1 on a terminal, at most
    // every 50 ms, and the last step): fit reads its running values only then.
    bool due(Index step) const { return in_place_ && (step >= total_ || seconds(Clock::now() - last_draw_) >= 0.05); }

    // End of the epoch after `steps_done` steps (fewer than the total when
    // training stopped early): final values, validation included.
    void finish(const Values& values, Index steps_done) {
        if (verbose_ == 0) return;
        const double elapsed = seconds(Clock::now() - start_);
        if (in_place_) {
            draw(steps_done, values, true);
            out_ << "\n" << std::flush;
            return;
        }
        out_ << counter(steps_done) << " - " << format_time_total(elapsed) << format_values(values) << " - "
             << format_time_total(elapsed) << "/epoch - "
             << format_per_step(elapsed / double(std::max<Index>(steps_done, 1))) << "\n"
             << std::flush;
    }
    void finish(const Values& values) { finish(values, total_); }

    // " - loss: 0.2960 - accuracy: 0.9140"; a NaN prints as "nan" whatever its sign bit.
    static std::string format_values(const Values& values) {
        std::string s;
        char buf[64];
        for (const auto& [k, v] : values) {
            if (std::isnan(v)) std::snprintf(buf, sizeof buf, "nan");
            else std::snprintf(buf, sizeof buf, "%.4f", v);
            s += " - " + k + ": " + buf;
        }
        return s;
    }

private:
    using Clock = std::chrono::steady_clock;
    static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

    void draw(Index step, const Values& values, bool final) {
        if (!in_place_) return;
        if (!final && !due(step)) return;
        const auto now = Clock::now();
        last_draw_ = now;
        const double elapsed = seconds(now - start_);
        std::string line = "\r" + counter(step) + " " + bar(step) + " - ";
        if (!final && step < total_) line += "ETA: " + format_eta(elapsed / double(step) * double(total_ - step));
        else line += format_time_total(elapsed) + " " + format_per_step(elapsed / double(std::max<Index>(step, 1)));
        line += format_values(values);
        // Pad over the previous, possibly longer, line.
        const std::size_t width = line.size();
        if (width < last_width_) line += std::string(last_width_ - width, ' ');
        last_width_ = width;
        out_ << line << std::flush;
    }

    std::string counter(Index step) const {
        const std::string t = std::to_string(total_), s = std::to_string(step);
        return std::string(t.size() > s.size() ? t.size() - s.size() : 0, ' ') + s + "/" + t;
    }
    std::string bar(Index step) const {
        constexpr int width = 30;
        const int done = total_ > 0 ? int(double(width) * double(step) / double(total_)) : width;
        std::string b = "[";
        if (done > 0) {
            b += std::string(std::size_t(done - 1), '=');
            b += step < total_ ? '>' : '=';
        }
        b += std::string(std::size_t(width - std::max(done, 0)), '.');
        return b + "]";
    }
    static std::string format_eta(double s) {
        char buf[32];
        if (s > 3600) std::snprintf(buf, sizeof buf, "%d:%02d:%02d", int(s) / 3600, int(s) % 3600 / 60, int(s) % 60);
        else if (s > 60) std::snprintf(buf, sizeof buf, "%d:%02d", int(s) / 60, int(s) % 60);
        else std::snprintf(buf, sizeof buf, "%ds", int(s));
        return buf;
    }
    static std::string format_time_total(double s) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.0fs", s);
        return buf;
    }
    static std::string format_per_step(double s) {
        char buf[32];
        if (s >= 1) std::snprintf(buf, sizeof buf, "%.0fs/step", s);
        else if (s >= 1e-3) std::snprintf(buf, sizeof buf, "%.0fms/step", s * 1e3);
        else std::snprintf(buf, sizeof buf, "%.0fus/step", s * 1e6);
        return buf;
    }

    Index total_;
    int verbose_;
    bool in_place_;
    std::ostream& out_;
    Clock::time_point start_, last_draw_;
    std::size_t last_width_ = 0;
};

}  // namespace lamina
