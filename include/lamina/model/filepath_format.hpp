// lamina/model/filepath_format.hpp: the part of Python's str.format that
// Keras's ModelCheckpoint file names use, e.g. "ckpt-{epoch:02d}-{val_loss:.4f}".
//
// Contract: format_filepath(pattern, epoch, logs) returns what Keras's
// pattern.format(epoch=epoch + 1, **logs) returns: `epoch` is the 0-based
// index fit() passes to callbacks, and {epoch} shows the 1-based epoch number
// as Keras does; every other field names a key of `logs`. A field is
// {name} or {name:spec} with spec = [0][width][.precision][type], type one of
// d, f, e, g or none, with Python's meaning: width pads on the left with
// spaces, or with zeros after the sign when the spec starts with 0; no type
// prints a value as Python's str() does ({loss} -> 0.1234567890123, {epoch}
// -> 3), and with a precision as Python's general format ({loss:.3} ->
// 0.123). {{ and }} are literal braces.
// {epoch} is an integer and log values are floats, as in Keras, so
// {epoch:.2f} works but `d` on a log value ({loss:d}) is an error, as Python's
// "Unknown format code 'd' for object of type 'float'" is; so is a precision
// on an integer ({epoch:.2d}). A name that is neither epoch nor a log key, a
// spec outside the grammar above (fill/align, sign, conversions like !r,
// nested fields), an empty field {} or an unbalanced brace is a
// ConfigError(config_argument) naming the pattern; for an unknown name the
// message lists the names available. Width and precision have at most three
// digits.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/model/callback.hpp"

namespace lamina {

namespace detail {

// Python's str(float) (its repr): the fewest digits that read back as the same
// double, in fixed notation for exponents -4..15 and d.ddde±XX beyond.
inline std::string python_str(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[40];
    for (int digits = 1; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    std::string s(buf);
    const bool negative = s[0] == '-';
    if (negative) s.erase(0, 1);
    const auto e = s.find('e');
    const int exp = std::atoi(s.c_str() + e + 1);
    std::string digits = s.substr(0, e);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    const auto n = static_cast<int>(digits.size());
    std::string out;
    if (exp >= -4 && exp < 16) {
        if (exp < 0) out = "0." + std::string(std::size_t(-exp - 1), '0') + digits;
        else if (n <= exp + 1) out = digits + std::string(std::size_t(exp + 1 - n), '0') + ".0";
        else out = digits.substr(0, std::size_t(exp + 1)) + "." + digits.substr(std::size_t(exp + 1));
    } else {
        out = digits.substr(0, 1) + (n > 1 ? "." + digits.substr(1) : "");
        std::snprintf(buf, sizeof buf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
        out += buf;
    }
    return negative ? "-" + out : out;
}

// One piece of a parsed pattern: literal text, or a field to fill.
struct FilepathPiece {
    std::string text;  // the literal text, or the field's name
    bool field = false;
    bool zero_pad = false;
    int width = 0;
    int precision = -1;  // -1: none given
    char type = 0;       // 'd', 'f', 'e', 'g', or 0 for none
};

inline ConfigError filepath_error(const std::string& owner, const std::string& pattern, const std::string& problem) {
    return ConfigError(ErrorId::config_argument, owner + ": filepath pattern '" + pattern + "': " + problem);
}

// Checks everything that does not depend on the logs, so ModelCheckpoint can
// reject a bad pattern when it is constructed rather than after an epoch.
inline std::vector<FilepathPiece> parse_filepath(const std::string& owner, const std::string& pattern) {
    std::vector<FilepathPiece> pieces;
    std::string literal;
    const auto flush_literal = [&] {
        if (!literal.empty()) pieces.push_back(FilepathPiece{literal});
        literal.clear();
    };
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '}') {
            if (i + 1 < pattern.size() && pattern[i + 1] == '}') {
                literal += '}';
                ++i;
                continue;
            }
            throw filepath_error(owner, pattern,
                                 "single '}' at position " + std::to_string(i) + " (write }} for a literal brace)");
        }
        if (c != '{') {
            literal += c;
            continue;
        }
        if (i + 1 < pattern.size() && pattern[i + 1] == '{') {
            literal += '{';
            ++i;
            continue;
        }
        const auto close = pattern.find_first_of("{}", i + 1);
        if (close == std::string::npos || pattern[close] == '{')
            throw filepath_error(
                owner, pattern,
                "'{' at position " + std::to_string(i) +
                    " is not closed by '}' (nested fields are not supported; write {{ for a literal brace)");
        const std::string field = pattern.substr(i + 1, close - i - 1);
        const auto colon = field.find(':');
        FilepathPiece p;
        p.field = true;
        p.text = field.substr(0, colon);
        if (p.text.empty())
            throw filepath_error(
                owner, pattern,
                "a field without a name at position " + std::to_string(i) + " (name it: {epoch}, {val_loss})");
        if (p.text.find('!') != std::string::npos)
            throw filepath_error(owner, pattern, "{" + field + "}: conversions (!r, !s, !a) are not supported");
        if (colon != std::string::npos) {
            const std::string spec = field.substr(colon + 1);
            const auto bad_spec = [&](const std::string& why) {
                return filepath_error(owner, pattern,
                                      "{" + field + "}: " + why + " (a spec is [0][width][.precision][d|f|e|g])");
            };
            std::size_t k = 0;
            const auto number = [&](const char* what) {
                const std::size_t start = k;
                while (k < spec.size() && spec[k] >= '0' && spec[k] <= '9') ++k;
                if (k - start > 3) throw bad_spec(std::string(what) + " has more than three digits");
                return k == start ? -1 : std::atoi(spec.substr(start, k - start).c_str());
            };
            if (k < spec.size() && spec[k] == '0') {
                p.zero_pad = true;
                ++k;
            }
            p.width = std::max(number("width"), 0);
            if (k < spec.size() && spec[k] == '.') {
                ++k;
                p.precision = number("precision");
                if (p.precision < 0) throw bad_spec("'.' is not followed by a precision");
            }
            if (k < spec.size() && (spec[k] == 'd' || spec[k] == 'f' || spec[k] == 'e' || spec[k] == 'g'))
                p.type = spec[k++];
            if (k != spec.size()) throw bad_spec("unsupported spec ':" + spec + "'");
            const bool integer = p.text == "epoch";
            if (p.type == 'd' && !integer)
                throw bad_spec("'d' needs an integer, and only {epoch} is one; log values are floats (use .0f)");
            if (integer && p.precision >= 0 && (p.type == 'd' || p.type == 0))
                throw bad_spec("an integer takes no precision");
        }
        flush_literal();
        pieces.push_back(p);
        i = close;
    }
    flush_literal();
    return pieces;
}

// printf's %f/%e/%g; a double's %f can be over 300 characters long.
inline std::string printf_double(char type, int precision, double v) {
    const auto print = [&](char* out, std::size_t size) {
        switch (type) {
            case 'f': return std::snprintf(out, size, "%.*f", precision, v);
            case 'e': return std::snprintf(out, size, "%.*e", precision, v);
            default: return std::snprintf(out, size, "%.*g", precision, v);
        }
    };
    std::string s(std::size_t(print(nullptr, 0)) + 1, '\0');
    s.resize(std::size_t(print(s.data(), s.size())));
    return s;
}

// Python's format(v, spec) for a float, without the padding.
inline std::string python_float(double v, char type, int precision) {
    if (!std::isfinite(v)) return python_str(v);
    if (type == 'f' || type == 'e' || type == 'g') return printf_double(type, precision < 0 ? 6 : precision, v);
    if (precision < 0) return python_str(v);
    // No type with a precision: %g, except that fixed notation keeps a digit
    // after the point and scientific starts one exponent earlier.
    const int p = std::max(precision, 1);
    std::string s = printf_double('e', p - 1, v);
    const int exp = std::atoi(s.c_str() + s.find('e') + 1);
    if (exp >= -4 && exp < p - 1) {
        s = printf_double('f', p - 1 - exp, v);  // at least one decimal, so s has a point
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s += '0';
        return s;
    }
    const auto e = s.find('e');
    std::string mantissa = s.substr(0, e);
    if (mantissa.find('.') != std::string::npos) {
        while (mantissa.back() == '0') mantissa.pop_back();
        if (mantissa.back() == '.') mantissa.pop_back();
    }
    return mantissa + s.substr(e);
}

inline std::string pad_number(std::string s, const FilepathPiece& p) {
    if (int(s.size()) >= p.width) return s;
    const auto fill = std::size_t(p.width) - s.size();
    if (!p.zero_pad) return std::string(fill, ' ') + s;
    const std::size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    return s.insert(sign, fill, '0');
}

inline std::string format_filepath(const std::string& owner, const std::string& pattern,
                                   const std::vector<FilepathPiece>& pieces, int epoch, const Logs& logs) {
    std::string out;
    for (const auto& p : pieces) {
        if (!p.field) {
            out += p.text;
            continue;
        }
        if (p.text == "epoch") {
            const int number = epoch + 1;
            out += pad_number(p.type == 0 || p.type == 'd' ? std::to_string(number)
                                                           : python_float(double(number), p.type, p.precision),
                              p);
            continue;
        }
        const auto it = logs.find(p.text);
        if (it == logs.end()) {
            std::string names = "epoch";
            for (const auto& [k, v] : logs) names += ", " + k;
            throw filepath_error(owner, pattern, "{" + p.text + "} names no value; available: " + names);
        }
        out += pad_number(python_float(it->second, p.type, p.precision), p);
    }
    return out;
}

}  // namespace detail

inline std::string format_filepath(const std::string& pattern, int epoch, const Logs& logs) {
    return detail::format_filepath("format_filepath", pattern, detail::parse_filepath("format_filepath", pattern),
                                   epoch, logs);
}

}  // namespace lamina
