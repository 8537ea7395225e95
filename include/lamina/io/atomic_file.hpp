// lamina/io/atomic_file.hpp: replace a file so that a crash never leaves it half-written.
//
// Contract: write_file_atomically(path, bytes) writes the bytes to a new
// temporary file in the same directory ("<path>.tmp-<pid>-<n>"), flushes and
// fsyncs it, renames it over `path` (atomic on POSIX file systems), then
// fsyncs the directory so the rename itself survives a power cut. Whatever
// happens (error, exception, SIGKILL, power loss), `path` holds either its
// previous complete contents or the new complete contents. On an error the
// temporary file is removed and IoError(io_write) names the file and the
// failing step; only a process killed mid-write leaves a stale *.tmp-* file
// behind (never `path` itself).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"

namespace lamina::io {

namespace detail {

inline std::string errno_text(int err) { return std::strerror(err); }

// Closes a descriptor on scope exit unless released.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const noexcept { return fd_; }
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
};

inline std::string parent_directory(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace detail

inline void write_file_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    auto fail = [&](const std::string& step, int err) {
        throw IoError(ErrorId::io_write, "cannot save '" + path + "': " + step + ": " + detail::errno_text(err));
    };
    if (path.empty()) throw IoError(ErrorId::io_write, "cannot save: the file name is empty");

    // pid + counter: two processes, or two threads of one, never share a temporary.
    static std::atomic<unsigned> counter{0};
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);

    detail::FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) fail("creating the temporary file '" + tmp + "'", errno);
    struct Cleanup {  // removes the temporary unless the rename succeeded
        const std::string& name;
        bool armed = true;
        ~Cleanup() {
            if (armed) ::unlink(name.c_str());
        }
    } cleanup{tmp};

    std::size_t done = 0;
    while (done < bytes.size()) {
        const ::ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("writing the temporary file '" + tmp + "'", n < 0 ? errno : EIO);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) fail("fsync of '" + tmp + "'", errno);
    if (::close(fd.release()) != 0) fail("closing '" + tmp + "'", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming '" + tmp + "' over it", errno);
    cleanup.armed = false;

    // The rename lives in the directory: sync it too. Failing here is not an
    // error of the save (the file is complete); some file systems refuse it.
    detail::FileDescriptor dir(::open(detail::parent_directory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
}

// Reads a whole file; IoError(io_open / io_read) names it.
inline std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
    std::vector<std::uint8_t> bytes;
    detail::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw IoError(ErrorId::io_open, "cannot open '" + path + "': " + detail::errno_text(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw IoError(ErrorId::io_read, "cannot read '" + path + "': " + detail::errno_text(errno));
    if (S_ISDIR(st.st_mode)) throw IoError(ErrorId::io_open, "cannot open '" + path + "': it is a directory");
    if (st.st_size > 0) bytes.reserve(static_cast<std::size_t>(st.st_size));
    std::uint8_t buffer[1 << 16];
    for (;;) {
        const ::ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw IoError(ErrorId::io_read, "cannot read '" + path + "': " + detail::errno_text(errno));
        if (n == 0) break;
        bytes.insert(bytes.end(), buffer, buffer + n);
    }
    return bytes;
}

}  // namespace lamina::io
