// examples/output_paths.hpp: checks that a file or directory the examples
// will write after training can be written, before training starts, so that
// a typo in --save or --plots does not cost the trained model.
//
//   file_problem(path)        "" when `path` can be created or replaced: its
//                             directory exists and takes a new file, and
//                             `path` is not a directory
//   directory_problem(dir)    "" when `dir` exists or can be created (it is
//                             created now) and takes a new file
// A new file is tried for real (created and removed), because permission
// bits say nothing to root or about read-only file systems.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

namespace examples {

inline std::string probe_directory(const std::filesystem::path& dir) {
    const std::string probe = (dir / (".lamina-write-test-" + std::to_string(::getpid()))).string();
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot create files in '" + dir.string() + "': " + std::strerror(errno);
    ::close(fd);
    ::unlink(probe.c_str());
    return "";
}

inline std::string file_problem(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec)) return "'" + path + "' is a directory";
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::exists(dir, ec)) return "the directory '" + dir.string() + "' does not exist";
    if (!fs::is_directory(dir, ec)) return "'" + dir.string() + "' is not a directory";
    return probe_directory(dir);
}

inline std::string directory_problem(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create the directory '" + dir + "': " + ec.message();
    if (!std::filesystem::is_directory(dir, ec)) return "'" + dir + "' is not a directory";
    return probe_directory(dir);
}

}  // namespace examples
