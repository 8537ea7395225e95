// tests/temp_dir.hpp: a fresh directory under the system temp folder,
// removed with its contents when the object goes away, and write_bytes for
// the files tests forge in it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace test {

class TempDir {
public:
    // `tag` names the test file in the directory name, for leftovers after a crash.
    explicit TempDir(const std::string& tag) {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("lamina_test_" + tag + "_" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

// Writes `bytes` to `path`, replacing it; throws (failing the test) if it cannot.
inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) throw std::runtime_error("write_bytes: cannot write '" + path + "'");
}

}  // namespace test
