// lamina/core/error.hpp: the exception hierarchy every lamina failure uses.
//
// Contract: every error lamina raises derives from lamina::Error, carries a
// stable numeric id (ErrorId) and a message that starts with that id, e.g.
//   [lamina.shape.201] Dense 'dense_1': expected input (None, 784), got (None, 100)
// docs/errors.md lists every id; ids are never reused or renumbered.
#pragma once

#include <stdexcept>
#include <string>

namespace lamina {

// Hundreds digit = category: 1xx io, 2xx shape, 3xx config, 4xx format, 5xx numeric, 6xx device.
enum class ErrorId : int {
    io_open = 101,   // a file cannot be opened for reading
    io_read = 102,   // reading failed or the file ended early
    io_write = 103,  // a file cannot be written

    shape_mismatch = 201,  // a tensor's shape differs from what a layer/loss expects
    shape_rank = 202,      // a shape has an unsupported rank or a zero/negative dimension
    shape_count = 203,     // x and y hold different numbers of samples
    shape_weights = 204,   // set_weights got the wrong number or shapes of arrays
    shape_index = 205,     // an index (layer, element) is out of range

    config_argument = 301,      // an argument is out of its valid range
    config_unknown_name = 302,  // a string names no known optimizer/loss/activation/...
    config_state = 303,         // a call in the wrong order (fit before compile, ...)
    config_label = 304,         // a class label outside [0, classes)
    config_memory = 305,        // a buffer too large to allocate (a layer or data far beyond memory)

    format_magic = 401,         // a file is not of the expected kind (magic number)
    format_header = 402,        // a header field is invalid or inconsistent
    format_size = 403,          // a file's size disagrees with its header
    format_gzip = 404,          // corrupt gzip stream
    format_version = 405,       // a model file of a format version this build cannot read
    format_checksum = 406,      // a model file's checksum does not match its contents
    format_architecture = 407,  // load_weights: the file holds a different architecture
    format_image_data = 408,    // an image's pixel data cannot be decoded (corrupt or unsupported variant)
    format_unsupported = 409,   // a valid file uses what lamina has no equivalent for (an ONNX operator, attribute)

    numeric_nonfinite = 501,  // NaN or Inf in data where finite values are required

    device_unavailable = 601,  // a device was asked for that this build or this machine does not have
    device_failure = 602,      // a device call failed (kernel launch, copy, cuBLAS); the message has the driver's words

    distributed_unavailable = 701,  // distributed training was asked for where this build has no MPI
    distributed_peer = 702,         // another rank failed, or stopped answering within the timeout
    distributed_mismatch = 703,     // the ranks disagree on the model, the data or fit's options
    distributed_failure = 704,      // a call of the communication library (MPI) failed; the message has its words
};

// Category name of an id, as it appears in messages: "io", "shape", ...
inline const char* error_category(ErrorId id) {
    switch (static_cast<int>(id) / 100) {
        case 1: return "io";
        case 2: return "shape";
        case 3: return "config";
        case 4: return "format";
        case 5: return "numeric";
        case 6: return "device";
        case 7: return "distributed";
        default: return "unknown";
    }
}

class Error : public std::runtime_error {
public:
    Error(ErrorId id, const std::string& message) : std::runtime_error(format(id, message)), id_(id) {}

    ErrorId id() const noexcept { return id_; }
    // what() without the "[lamina.category.id] " prefix, for errors that
    // rethrow another's message with more context.
    std::string message() const { return std::string(what()).substr(prefix_length(id_)); }

    static std::string format(ErrorId id, const std::string& message) {
        return "[lamina." + std::string(error_category(id)) + "." + std::to_string(static_cast<int>(id)) + "] " +
               message;
    }

private:
    static std::size_t prefix_length(ErrorId id) { return format(id, "").size(); }

    ErrorId id_;
};

// Each subclass lets callers catch one family; the id says precisely what failed.
class IoError : public Error {
public:
    using Error::Error;
};
class ShapeError : public Error {
public:
    using Error::Error;
};
class ConfigError : public Error {
public:
    using Error::Error;
};
class FormatError : public Error {
public:
    using Error::Error;
};
class NumericError : public Error {
public:
    using Error::Error;
};
class DeviceError : public Error {
public:
    using Error::Error;
};
class DistributedError : public Error {
public:
    using Error::Error;
};

}  // namespace lamina
