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
// A symbolic link is followed (through chains of links) and the file it
// points to is replaced, its temporary written beside it, so the link stays;
// a dangling link gets its target created. An existing target that is not a
// regular file (a directory, a device such as /dev/null, a FIFO, a socket) is
// refused with IoError(io_write) naming it, before anything is written.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
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

inline const char* file_type_name(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

// The file a save to `path` replaces: `path` itself, or the end of its chain
// of symbolic links, which need not exist yet. Renaming over the link itself
// would turn it into a regular file and leave its target stale.
inline std::string final_link_target(const std::string& path) {
    auto fail = [&](const std::string& step, int err) {
        throw IoError(ErrorId::io_write, "cannot save '" + path + "': " + step + ": " + errno_text(err));
    };
    std::string target = path;
    for (int links = 0;; ++links) {
        struct stat st {};
        if (::lstat(target.c_str(), &st) != 0) {
            // A new file, or a dangling link's target; a missing directory
            // is reported when the temporary cannot be created in it.
            if (errno == ENOENT) return target;
            fail("inspecting '" + target + "'", errno);
        }
        if (!S_ISLNK(st.st_mode)) {
            if (!S_ISREG(st.st_mode))
                throw IoError(ErrorId::io_write, "cannot save '" + path + "': " +
                                                     (target == path ? "it" : "its link target '" + target + "'") +
                                                     " is " + file_type_name(st.st_mode) +
                                                     ", not a regular file; lamina replaces regular files only");
            return target;
        }
        if (links == 40) fail("following its symbolic links", ELOOP);  // Linux's own limit
        std::vector<char> text(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 255) + 1);
        for (;;) {
            const ::ssize_t n = ::readlink(target.c_str(), text.data(), text.size());
            if (n < 0) fail("reading the symbolic link '" + target + "'", errno);
            if (static_cast<std::size_t>(n) < text.size()) {
                text.resize(static_cast<std::size_t>(n));
                break;
            }
            text.resize(text.size() * 2);  // the link changed since lstat
        }
        if (text.empty()) fail("reading the symbolic link '" + target + "'", ENOENT);
        const std::string next(text.begin(), text.end());
        // A relative target is relative to the directory holding the link.
        const std::string dir = parent_directory(target);
        target = next[0] == '/' || dir == "." ? next : (dir == "/" ? "" : dir) + "/" + next;
    }
}

}  // namespace detail

inline void write_file_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    auto fail = [&](const std::string& step, int err) {
        throw IoError(ErrorId::io_write, "cannot save '" + path + "': " + step + ": " + detail::errno_text(err));
    };
    if (path.empty()) throw IoError(ErrorId::io_write, "cannot save: the file name is empty");
    const std::string target = detail::final_link_target(path);

    // pid + counter: two processes, or two threads of one, never share a temporary.
    static std::atomic<unsigned> counter{0};
    const std::string tmp = target + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);

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
    if (::rename(tmp.c_str(), target.c_str()) != 0)
        fail("renaming '" + tmp + "' over " + (target == path ? std::string("it") : "'" + target + "'"), errno);
    cleanup.armed = false;

    // The rename lives in the directory: sync it too. Failing here is not an
    // error of the save (the file is complete); some file systems refuse it.
    detail::FileDescriptor dir(::open(detail::parent_directory(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
}

namespace detail {
// Opens `path` for reading and fills `st`; IoError io_open / io_read name it,
// and a directory is io_open too.
inline FileDescriptor open_for_reading(const std::string& path, struct stat& st) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw IoError(ErrorId::io_open, "cannot open '" + path + "': " + errno_text(errno));
    if (::fstat(fd.get(), &st) != 0)
        throw IoError(ErrorId::io_read, "cannot read '" + path + "': " + errno_text(errno));
    if (S_ISDIR(st.st_mode)) throw IoError(ErrorId::io_open, "cannot open '" + path + "': it is a directory");
    return FileDescriptor(fd.release());
}

// Reads up to n bytes, fewer only at the end of the data; IoError(io_read) names `path`.
inline std::size_t read_fully(int fd, std::uint8_t* dst, std::size_t n, const std::string& path) {
    std::size_t done = 0;
    while (done < n) {
        const ::ssize_t got = ::read(fd, dst + done, std::min<std::size_t>(n - done, std::size_t(1) << 30));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw IoError(ErrorId::io_read, "cannot read '" + path + "': " + errno_text(errno));
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
    }
    return done;
}
}  // namespace detail

// Reads a whole file; IoError(io_open / io_read) names it. A file of more
// than `max_bytes` is FormatError(format_size), `who` naming the reader,
// found before more than that is held.
inline std::vector<std::uint8_t> read_file_bytes(const std::string& path,
                                                 std::size_t max_bytes = std::numeric_limits<std::size_t>::max(),
                                                 const std::string& who = "read_file_bytes") {
    std::vector<std::uint8_t> bytes;
    struct stat st {};
    const detail::FileDescriptor fd = detail::open_for_reading(path, st);
    auto too_large = [&]() {
        return FormatError(ErrorId::format_size, who + ": '" + path + "' holds more than " + std::to_string(max_bytes) +
                                                     " bytes, the most it reads");
    };
    if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) > max_bytes) throw too_large();
    if (st.st_size > 0) bytes.reserve(static_cast<std::size_t>(st.st_size));
    // In pieces until the end, whatever st_size said (it may be 0 for /proc files).
    constexpr std::size_t piece = std::size_t(1) << 16;
    for (;;) {
        const std::size_t have = bytes.size();
        bytes.resize(have + piece);
        const std::size_t n = detail::read_fully(fd.get(), bytes.data() + have, piece, path);
        bytes.resize(have + n);
        if (bytes.size() > max_bytes) throw too_large();
        if (n < piece) break;
    }
    return bytes;
}

}  // namespace lamina::io
