// examples/cli.hpp: the small flag parser the examples share.
//
// Flags are "--name value", switches (--distributed) just "--name". Unknown flags, missing values and malformed
// numbers print the usage and exit with status 2, never a crash.
#pragma once

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace examples {

class Cli {
public:
    Cli(int argc, char** argv, std::string usage, std::vector<std::string> known,
        const std::vector<std::string>& switches = {})
        : usage_(std::move(usage)) {
        for (int i = 1; i < argc; ++i) {
            const std::string flag = argv[i];
            if (flag == "--help" || flag == "-h") {
                std::cout << usage_;
                std::exit(0);
            }
            bool is_switch = false;
            for (const auto& k : switches) is_switch = is_switch || flag == "--" + k;
            if (is_switch) {
                values_[flag.substr(2)] = "1";
                continue;
            }
            bool ok = false;
            for (const auto& k : known) ok = ok || flag == "--" + k;
            if (!ok) fail("unknown argument '" + flag + "'");
            if (i + 1 >= argc) fail("missing value after " + flag);
            values_[flag.substr(2)] = argv[++i];
        }
    }

    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::string get(const std::string& name, const std::string& fallback) const {
        auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }
    long long get_int(const std::string& name, long long fallback, long long min, long long max) const {
        auto it = values_.find(name);
        if (it == values_.end()) return fallback;
        char* end = nullptr;
        const long long v = std::strtoll(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end != '\0' || v < min || v > max)
            fail("--" + name + " needs an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                 "], got '" + it->second + "'");
        return v;
    }
    std::string get_choice(const std::string& name, const std::string& fallback,
                           const std::vector<std::string>& choices) const {
        const std::string v = get(name, fallback);
        for (const auto& c : choices)
            if (v == c) return v;
        fail("--" + name + " must be one of the listed choices, got '" + v + "'");
    }
    [[noreturn]] void fail(const std::string& message) const {
        std::cerr << "error: " << message << "\n\n" << usage_;
        std::exit(2);
    }

private:
    std::string usage_;
    std::map<std::string, std::string> values_;
};

}  // namespace examples
