// tests/matchers.hpp: Catch2 v2 matchers for lamina::Error (id and message parts).
#pragma once

#include <catch2/catch.hpp>
#include <lamina/core/error.hpp>

#include <optional>
#include <string>
#include <vector>

namespace test {

class ErrorMatcher : public Catch::MatcherBase<lamina::Error> {
public:
    ErrorMatcher(std::optional<lamina::ErrorId> id, std::vector<std::string> parts)
        : id_(id), parts_(std::move(parts)) {}
    bool match(const lamina::Error& e) const override {
        if (id_ && e.id() != *id_) return false;
        const std::string what = e.what();
        for (const auto& p : parts_)
            if (what.find(p) == std::string::npos) return false;
        return true;
    }
    std::string describe() const override {
        std::string s = "is a lamina::Error";
        if (id_) s += " with id " + std::to_string(static_cast<int>(*id_));
        for (const auto& p : parts_) s += ", mentioning \"" + p + "\"";
        return s;
    }

private:
    std::optional<lamina::ErrorId> id_;
    std::vector<std::string> parts_;
};

// REQUIRE_THROWS_MATCHES(expr, lamina::ShapeError, test::error(ErrorId::shape_count, {"x has 3"}))
inline ErrorMatcher error(lamina::ErrorId id, std::vector<std::string> parts = {}) {
    return ErrorMatcher(id, std::move(parts));
}
inline ErrorMatcher mentions(std::vector<std::string> parts) { return ErrorMatcher(std::nullopt, std::move(parts)); }

}  // namespace test
