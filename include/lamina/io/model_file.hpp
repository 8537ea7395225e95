// lamina/io/model_file.hpp: the .lamina model file, in memory and in bytes.
//
// Contract: ModelFile<T> is everything a model file holds (docs/file-format.md
// is the byte-level specification): architecture, weights, and optionally the
// compile settings, the optimizer's state and the training state.
// encode_model_file() produces the bytes, and refuses with
// ConfigError(config_argument) anything decoding would refuse (a string over
// 64 KiB, a dimension over 2^40, ...), naming the field, so that a save never
// writes a file that cannot be loaded. decode_model_file<T>() parses any
// bytes back, converting stored float or double tensors to T (float64 values
// float cannot hold are refused, see ByteReader::tensor). Decoding checks,
// in order: size, magic, version, kind, declared length, CRC-32, then every
// section field; each failure is a FormatError whose message names the file
// (`context`) and, inside sections, the byte offset:
//   format_size      empty, truncated or over-long file; a field that runs past its section
//   format_magic     not a lamina model file
//   format_version   a format version this build cannot read
//   format_checksum  the CRC-32 does not match (bit rot, a partial copy)
//   format_header    any field out of range, a missing or repeated section
// Null data with a nonzero size is ConfigError(config_argument). Nothing the
// bytes say can make it allocate more than they hold.
// read_model_file_bytes() reads a model file from disk, a pipe or a device
// only as far as its header declares, after checking that header and, for a
// regular file, the declared length against the file's size: /dev/zero or a
// large file of junk is refused after 24 bytes.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/io/atomic_file.hpp"
#include "lamina/io/binary.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina::io {

// PNG's trick: a high byte and CR LF / ^Z / LF catch 7-bit and text-mode transfers.
constexpr std::array<std::uint8_t, 8> model_magic{0x89, 'L', 'M', 'N', '\r', '\n', 0x1a, '\n'};
// Version 2 may name BatchNormalization layers, which a version-1 reader
// would refuse as an unknown layer type; the bytes are laid out as in
// version 1, so both load. Files are written as the newest version.
constexpr std::uint32_t model_format_version = 2;
constexpr std::uint32_t oldest_model_format_version = 1;
constexpr std::size_t model_header_bytes = 24;  // magic, version, kind, body length
constexpr std::size_t model_trailer_bytes = 4;  // CRC-32

enum class ModelFileKind : std::uint32_t { Model = 1, Weights = 2 };

using NumberConfig = std::vector<std::pair<std::string, double>>;

struct LayerRecord {
    std::string type, name;
    LayerConfig config;
};

template <class T>
struct WeightRecord {
    std::string layer, param;  // "dense_1", "kernel"
    Tensor<T> value;
};

struct CompileRecord {
    std::string loss;
    NumberConfig loss_config;
    std::vector<std::string> metrics;
};

template <class T>
struct OptimizerRecord {
    std::string name;  // "Adam"
    NumberConfig config;
    std::int64_t iterations = 0;
    std::vector<std::string> slot_names;
    std::vector<std::vector<Tensor<T>>> slots;  // per weight array (WGHT order), per slot name
};

struct LayerStateRecord {
    std::string layer;
    std::vector<std::uint64_t> words;
};

struct TrainingRecord {
    std::int64_t epochs_completed = 0;
    std::array<std::uint64_t, 6> rng{};  // the model's generator (shuffling)
    std::vector<LayerStateRecord> layers;
};

template <class T>
struct ModelFile {
    ModelFileKind kind = ModelFileKind::Model;
    std::string model_name;
    Shape input_shape;
    std::vector<LayerRecord> layers;
    std::vector<WeightRecord<T>> weights;
    std::optional<CompileRecord> compile;
    std::optional<OptimizerRecord<T>> optimizer;
    std::optional<TrainingRecord> training;
};

namespace detail {

inline std::uint32_t crc32_of(const std::uint8_t* data, std::size_t n) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    // zlib takes uInt lengths: feed large buffers in pieces.
    while (n > 0) {
        const auto piece = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
        crc = ::crc32(crc, data, piece);
        data += piece;
        n -= piece;
    }
    return static_cast<std::uint32_t>(crc);
}

// A section: 4-byte tag, u64 length, payload.
class SectionWriter {
public:
    SectionWriter(ByteWriter& w, const char (&tag)[5]) : w_(w) {
        w_.raw(tag, 4);
        at_ = w_.size();
        w_.u64(0);
    }
    ~SectionWriter() { w_.patch_u64(at_, w_.size() - at_ - 8); }
    SectionWriter(const SectionWriter&) = delete;
    SectionWriter& operator=(const SectionWriter&) = delete;

private:
    ByteWriter& w_;
    std::size_t at_;
};

// encode_model_file's checks: each refuses what ByteReader or
// decode_model_file would refuse, naming the field, before any byte is kept.
[[noreturn]] inline void refuse_encoding(const std::string& what) {
    throw ConfigError(ErrorId::config_argument, "cannot save a model file: " + what);
}
// The first bytes of a string, for messages about strings too long to print.
inline std::string quoted_start(const std::string& s) {
    constexpr std::size_t shown = 32;
    return "'" + (s.size() <= shown ? s : s.substr(0, shown) + "...") + "'";
}
// `what` is called only to build the message.
template <class What>
void write_checked_str(ByteWriter& w, const std::string& s, What&& what) {
    if (s.size() > max_string_bytes)
        refuse_encoding(what() + " " + quoted_start(s) + " is " + std::to_string(s.size()) +
                        " bytes long; a model file holds strings of at most " + std::to_string(max_string_bytes) +
                        " bytes");
    w.str(s);
}
inline void write_checked_count(ByteWriter& w, std::size_t n, const char* what) {
    if (n > std::size_t(UINT32_MAX))
        refuse_encoding(std::to_string(n) + " " + what + "; a model file holds at most 2^32 - 1");
    w.u32(static_cast<std::uint32_t>(n));
}
template <class What>
void check_dimensions(const Shape& s, What&& what) {
    for (int i = 0; i < s.rank(); ++i)
        if (s[i] < 0 || static_cast<std::uint64_t>(s[i]) > max_dimension)
            refuse_encoding(what() + " has shape " + s.str() + "; a model file holds dimensions of at most 2^40");
}
template <class What>
void write_checked_shape(ByteWriter& w, const Shape& s, What&& what) {
    check_dimensions(s, what);
    w.shape(s);
}
template <class T, class What>
void write_checked_tensor(ByteWriter& w, const Tensor<T>& t, What&& what) {
    check_dimensions(t.shape(), what);
    w.tensor(t);
}

inline void write_number_config(ByteWriter& w, const NumberConfig& c, const std::string& owner) {
    write_checked_count(w, c.size(), "settings");
    for (const auto& [k, v] : c) {
        write_checked_str(w, k, [&] { return "a setting name of " + owner; });
        w.f64(v);
    }
}
inline NumberConfig read_number_config(ByteReader& r) {
    NumberConfig c;
    const std::uint32_t n = r.count(12, "setting");
    for (std::uint32_t i = 0; i < n; ++i) {
        std::string k = r.str();
        const double v = r.f64();
        c.emplace_back(std::move(k), v);
    }
    return c;
}

// Checks the header (at most the first `available` bytes at `data`) of a
// model file of `*file_size` bytes, or of a stream of unknown size (null),
// and returns its kind and declared section length B. Shared by decode_model_file and
// read_model_file_bytes so that both give the same errors in the same order.
struct ModelHeader {
    ModelFileKind kind;
    std::uint64_t body;
};
// file_size: the whole file's size, or null when it is unknown (a stream).
inline ModelHeader check_model_header(const std::uint8_t* data, std::size_t available, const std::uint64_t* file_size,
                                      const std::string& context) {
    auto fail = [&](ErrorId id, const std::string& what) { throw FormatError(id, context + ": " + what); };
    const std::uint64_t size = file_size ? *file_size : available;
    if (size == 0) fail(ErrorId::format_size, "the file is empty (0 bytes); a lamina model file is at least 28 bytes");
    const std::size_t magic_bytes = std::min(available, model_magic.size());
    if (std::memcmp(data, model_magic.data(), magic_bytes) != 0)
        fail(ErrorId::format_magic,
             "not a lamina model file (it does not start with the bytes 89 4C 4D 4E 0D 0A 1A 0A)");
    if (file_size && size < model_header_bytes + model_trailer_bytes)
        fail(ErrorId::format_size,
             "truncated: " + std::to_string(size) + " bytes, shorter than the 28-byte header and checksum");
    if (available < model_header_bytes)
        fail(ErrorId::format_size,
             "truncated: it ends after " + std::to_string(available) + " bytes, inside the 24-byte header");

    ByteReader header(data + 8, model_header_bytes - 8, context, 8);
    const std::uint32_t version = header.u32();
    if (version < oldest_model_format_version || version > model_format_version)
        fail(ErrorId::format_version,
             "format version " + std::to_string(version) + "; this build of lamina reads versions " +
                 std::to_string(oldest_model_format_version) + " to " + std::to_string(model_format_version));
    const std::uint32_t kind = header.u32();
    if (kind != std::uint32_t(ModelFileKind::Model) && kind != std::uint32_t(ModelFileKind::Weights))
        fail(ErrorId::format_header, "unknown file kind " + std::to_string(kind) + " (1 = model, 2 = weights)");
    const std::uint64_t body = header.u64();
    const std::uint64_t expected = std::uint64_t(model_header_bytes) + std::uint64_t(model_trailer_bytes);
    if (file_size && body != size - expected) {
        const bool truncated = body > size - expected;
        // B near 2^64 would wrap B + 28 to a small number.
        const std::string declared = body > UINT64_MAX - expected ? "over 2^64" : std::to_string(body + expected);
        fail(ErrorId::format_size, std::string(truncated ? "truncated" : "trailing bytes") + ": the header declares " +
                                       std::to_string(body) + " bytes of sections, so a file of " + declared +
                                       " bytes, but it has " + std::to_string(size));
    }
    return {static_cast<ModelFileKind>(kind), body};
}

}  // namespace detail

template <class T>
std::vector<std::uint8_t> encode_model_file(const ModelFile<T>& f) {
    using detail::write_checked_count;
    using detail::write_checked_shape;
    using detail::write_checked_str;
    using detail::write_checked_tensor;
    if (f.kind != ModelFileKind::Model && f.kind != ModelFileKind::Weights)
        detail::refuse_encoding("unknown file kind " + std::to_string(static_cast<std::uint32_t>(f.kind)));
    auto layer_what = [&](std::size_t i) {
        return "layer " + std::to_string(i) + " (" + f.layers[i].type + " " + detail::quoted_start(f.layers[i].name) +
               ")";
    };
    auto weight_what = [&](std::size_t i) {
        return "weight array " + std::to_string(i) + " (" + detail::quoted_start(f.weights[i].layer) + "/" +
               detail::quoted_start(f.weights[i].param) + ")";
    };
    if (f.optimizer) {
        const auto& o = *f.optimizer;
        if (o.iterations < 0)
            detail::refuse_encoding("the optimizer's iteration count " + std::to_string(o.iterations) + " is negative");
        if (o.slot_names.empty() && o.slots.size() > (std::size_t(1) << 20))
            detail::refuse_encoding(std::to_string(o.slots.size()) +
                                    " optimizer slot groups without slot names; a model file holds at most 2^20");
        if (!o.slots.empty() && o.slots.size() != f.weights.size())
            detail::refuse_encoding("the optimizer holds state for " + std::to_string(o.slots.size()) +
                                    " weight arrays, the model has " + std::to_string(f.weights.size()));
        for (std::size_t i = 0; i < o.slots.size(); ++i)
            if (o.slots[i].size() != o.slot_names.size())
                detail::refuse_encoding("the optimizer holds " + std::to_string(o.slots[i].size()) + " slots for " +
                                        weight_what(i) + " but names " + std::to_string(o.slot_names.size()));
    }
    if (f.training && (f.training->epochs_completed < 0 || f.training->epochs_completed >= (std::int64_t(1) << 31)))
        detail::refuse_encoding("the epoch count " + std::to_string(f.training->epochs_completed) +
                                " is outside [0, 2^31)");

    ByteWriter w;
    w.raw(model_magic.data(), model_magic.size());
    w.u32(model_format_version);
    w.u32(static_cast<std::uint32_t>(f.kind));
    w.u64(0);  // body length, patched below
    {
        detail::SectionWriter s(w, "ARCH");
        write_checked_str(w, f.model_name, [] { return std::string("the model name"); });
        write_checked_shape(w, f.input_shape, [] { return std::string("the input"); });
        write_checked_count(w, f.layers.size(), "layers");
        for (std::size_t i = 0; i < f.layers.size(); ++i) {
            const auto& l = f.layers[i];
            write_checked_str(w, l.type, [&] { return "the type of layer " + std::to_string(i); });
            write_checked_str(w, l.name,
                              [&] { return "the name of layer " + std::to_string(i) + " (" + l.type + ")"; });
            write_checked_count(w, l.config.size(), "settings");
            for (const auto& setting : l.config) {
                const std::string& key = setting.first;
                write_checked_str(w, key, [&] { return "a setting name of " + layer_what(i); });
                write_checked_str(w, setting.second,
                                  [&] { return "setting '" + key.substr(0, 32) + "' of " + layer_what(i); });
            }
        }
    }
    {
        detail::SectionWriter s(w, "WGHT");
        write_checked_count(w, f.weights.size(), "weight arrays");
        for (std::size_t i = 0; i < f.weights.size(); ++i) {
            const auto& wr = f.weights[i];
            write_checked_str(w, wr.layer, [&] { return "the layer name of weight array " + std::to_string(i); });
            write_checked_str(w, wr.param, [&] { return "the parameter name of weight array " + std::to_string(i); });
            write_checked_tensor(w, wr.value, [&] { return weight_what(i); });
        }
    }
    if (f.compile) {
        detail::SectionWriter s(w, "COMP");
        write_checked_str(w, f.compile->loss, [] { return std::string("the loss name"); });
        detail::write_number_config(w, f.compile->loss_config, "the loss");
        write_checked_count(w, f.compile->metrics.size(), "metrics");
        for (const auto& m : f.compile->metrics) write_checked_str(w, m, [] { return std::string("a metric name"); });
    }
    if (f.optimizer) {
        detail::SectionWriter s(w, "OPTM");
        const auto& o = *f.optimizer;
        write_checked_str(w, o.name, [] { return std::string("the optimizer name"); });
        detail::write_number_config(w, o.config, "the optimizer");
        w.i64(o.iterations);
        write_checked_count(w, o.slot_names.size(), "optimizer slot names");
        for (const auto& n : o.slot_names)
            write_checked_str(w, n, [] { return std::string("an optimizer slot name"); });
        write_checked_count(w, o.slots.size(), "optimizer slot groups");
        for (std::size_t i = 0; i < o.slots.size(); ++i)
            for (std::size_t k = 0; k < o.slots[i].size(); ++k)
                write_checked_tensor(w, o.slots[i][k], [&] {
                    return "optimizer slot " + detail::quoted_start(o.slot_names[k]) + " of " + weight_what(i);
                });
    }
    if (f.training) {
        detail::SectionWriter s(w, "TRNG");
        const auto& t = *f.training;
        w.i64(t.epochs_completed);
        for (auto word : t.rng) w.u64(word);
        write_checked_count(w, t.layers.size(), "layer states");
        for (const auto& l : t.layers) {
            write_checked_str(w, l.layer, [] { return std::string("the layer name of a layer state"); });
            write_checked_count(w, l.words.size(), "state words");
            for (auto word : l.words) w.u64(word);
        }
    }
    w.patch_u64(16, w.size() - model_header_bytes);
    w.u32(detail::crc32_of(w.bytes().data(), w.size()));
    return std::move(w.bytes());
}

// verify_checksum = false is for fuzzing only: it lets mutated bytes reach
// the section parser instead of stopping at the CRC.
template <class T>
ModelFile<T> decode_model_file(const std::uint8_t* data, std::size_t size, const std::string& context,
                               bool verify_checksum = true) {
    auto fail = [&](ErrorId id, const std::string& what) { throw FormatError(id, context + ": " + what); };
    if (!data && size > 0)
        throw ConfigError(ErrorId::config_argument,
                          "decode_model_file: " + context + ": data is null but size is " + std::to_string(size));
    const std::uint64_t whole = size;
    const auto [kind, body] = detail::check_model_header(data, size, &whole, context);
    if (verify_checksum) {
        ByteReader trailer(data + size - 4, 4, context, size - 4);
        const std::uint32_t stored = trailer.u32();
        const std::uint32_t actual = detail::crc32_of(data, size - 4);
        if (stored != actual) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "checksum mismatch (stored CRC-32 %08x, contents give %08x)", stored,
                          actual);
            fail(ErrorId::format_checksum, std::string(buf) + ": the file is corrupt");
        }
    }

    ModelFile<T> f;
    f.kind = kind;
    ByteReader sections(data + model_header_bytes, static_cast<std::size_t>(body), context, model_header_bytes);
    std::set<std::string> seen;
    while (!sections.done()) {
        const std::size_t at = sections.offset();
        const std::uint8_t* tag_bytes = sections.raw(4);
        const std::string tag(reinterpret_cast<const char*>(tag_bytes), 4);
        const std::uint64_t length = sections.u64();
        if (length > sections.remaining())
            sections.fail_size("section " + tag + " declares " + std::to_string(length) + " bytes but " +
                               std::to_string(sections.remaining()) + " remain");
        const std::size_t payload_at = sections.offset();
        ByteReader r(sections.raw(static_cast<std::size_t>(length)), static_cast<std::size_t>(length),
                     context + " (section " + tag + ")", payload_at);
        if (!seen.insert(tag).second) sections.fail_header_at(at, "repeated section " + tag);

        if (tag == "ARCH") {
            f.model_name = r.str();
            f.input_shape = r.shape();
            const std::uint32_t n = r.count(12, "layer");
            for (std::uint32_t i = 0; i < n; ++i) {
                LayerRecord l;
                l.type = r.str();
                l.name = r.str();
                const std::uint32_t pairs = r.count(8, "config");
                for (std::uint32_t k = 0; k < pairs; ++k) {
                    std::string key = r.str();
                    std::string value = r.str();
                    l.config.emplace_back(std::move(key), std::move(value));
                }
                f.layers.push_back(std::move(l));
            }
        } else if (tag == "WGHT") {
            const std::uint32_t n = r.count(10, "weight array");
            for (std::uint32_t i = 0; i < n; ++i) {
                WeightRecord<T> wr;
                wr.layer = r.str();
                wr.param = r.str();
                wr.value = r.template tensor<T>("weight " + wr.layer + "/" + wr.param);
                f.weights.push_back(std::move(wr));
            }
        } else if (tag == "COMP") {
            CompileRecord c;
            c.loss = r.str();
            c.loss_config = detail::read_number_config(r);
            const std::uint32_t n = r.count(4, "metric");
            for (std::uint32_t i = 0; i < n; ++i) c.metrics.push_back(r.str());
            f.compile = std::move(c);
        } else if (tag == "OPTM") {
            OptimizerRecord<T> o;
            o.name = r.str();
            o.config = detail::read_number_config(r);
            o.iterations = r.i64();
            if (o.iterations < 0) r.fail_header("optimizer iteration count " + std::to_string(o.iterations));
            const std::uint32_t names = r.count(4, "slot name");
            for (std::uint32_t i = 0; i < names; ++i) o.slot_names.push_back(r.str());
            const std::uint32_t n = r.count(names == 0 ? 0 : 2, "slot group");
            if (names == 0 && n > (1u << 20)) r.fail_header("slot group count " + std::to_string(n));
            o.slots.resize(n);
            for (std::size_t i = 0; i < o.slots.size(); ++i)
                for (std::uint32_t s = 0; s < names; ++s) {
                    // WGHT precedes OPTM in files lamina writes; others get the array's index only.
                    const std::string array = i < f.weights.size() ? f.weights[i].layer + "/" + f.weights[i].param
                                                                   : "weight array " + std::to_string(i);
                    o.slots[i].push_back(r.template tensor<T>("optimizer slot '" + o.slot_names[s] + "' of " + array));
                }
            f.optimizer = std::move(o);
        } else if (tag == "TRNG") {
            TrainingRecord t;
            t.epochs_completed = r.i64();
            if (t.epochs_completed < 0 || t.epochs_completed >= (1LL << 31))
                r.fail_header("epoch count " + std::to_string(t.epochs_completed));
            for (auto& word : t.rng) word = r.u64();
            const std::uint32_t n = r.count(8, "layer state");
            for (std::uint32_t i = 0; i < n; ++i) {
                LayerStateRecord l;
                l.layer = r.str();
                const std::uint32_t words = r.count(8, "state word");
                for (std::uint32_t k = 0; k < words; ++k) l.words.push_back(r.u64());
                t.layers.push_back(std::move(l));
            }
            f.training = std::move(t);
        } else {
            continue;  // a section from a later minor revision: skipped, as docs/file-format.md promises
        }
        if (!r.done()) r.fail_header(std::to_string(r.remaining()) + " unread bytes at the end of section " + tag);
    }
    if (!seen.count("ARCH")) fail(ErrorId::format_header, "the ARCH section (architecture) is missing");
    if (!seen.count("WGHT")) fail(ErrorId::format_header, "the WGHT section (weights) is missing");
    if (f.optimizer && !f.optimizer->slots.empty() && f.optimizer->slots.size() != f.weights.size())
        fail(ErrorId::format_header, "the optimizer holds state for " + std::to_string(f.optimizer->slots.size()) +
                                         " weight arrays, the file has " + std::to_string(f.weights.size()));
    return f;
}

template <class T>
ModelFile<T> decode_model_file(const std::vector<std::uint8_t>& bytes, const std::string& context) {
    return decode_model_file<T>(bytes.data(), bytes.size(), context);
}

namespace detail {

inline std::uint64_t physical_memory_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return UINT64_MAX;
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
}

}  // namespace detail

// The bytes of the model file at `path`, for decode_model_file; `context`
// names it in errors. It reads the 24-byte header first and refuses, before
// reading further, anything that is not a model header (FormatError, as
// decode_model_file would). A regular file's declared length must then match
// its size; a character device, pipe or socket (its size unknown) is read
// up to the declared length and no further. A declared length beyond this
// machine's memory is refused too. IoError io_open / io_read when the
// system refuses to open or read it.
inline std::vector<std::uint8_t> read_model_file_bytes(const std::string& path, const std::string& context) {
    struct stat st {};
    const detail::FileDescriptor fd = detail::open_for_reading(path, st);
    const bool regular = S_ISREG(st.st_mode);

    std::vector<std::uint8_t> bytes(model_header_bytes);
    const std::size_t got = detail::read_fully(fd.get(), bytes.data(), bytes.size(), path);
    const auto file_size = static_cast<std::uint64_t>(st.st_size);
    const std::uint64_t body =
        detail::check_model_header(bytes.data(), got, regular ? &file_size : nullptr, context).body;
    const std::uint64_t memory = detail::physical_memory_bytes();
    if (body > memory)
        throw FormatError(ErrorId::format_size, context + ": the header declares " + std::to_string(body) +
                                                    " bytes of sections, more than this machine's memory (" +
                                                    std::to_string(memory) + " bytes)");
    const auto total = static_cast<std::size_t>(body + model_header_bytes + model_trailer_bytes);
    auto ends_early = [&](std::size_t have) {
        throw FormatError(ErrorId::format_size, context + ": truncated: it ends after " + std::to_string(have) +
                                                    " bytes; the header declares a file of " + std::to_string(total));
    };
    if (regular) {
        bytes.resize(total);
        const std::size_t rest = detail::read_fully(fd.get(), bytes.data() + got, total - got, path);
        if (rest < total - got) ends_early(got + rest);
        return bytes;
    }
    // A stream may end before its declared length: grow with what arrives,
    // not with what the header claims.
    while (bytes.size() < total) {
        const std::size_t have = bytes.size();
        bytes.resize(have + std::min<std::size_t>(total - have, std::size_t(1) << 20));
        const std::size_t n = detail::read_fully(fd.get(), bytes.data() + have, bytes.size() - have, path);
        if (n < bytes.size() - have) ends_early(have + n);
    }
    return bytes;
}

inline std::vector<std::uint8_t> read_model_file_bytes(const std::string& path) {
    return read_model_file_bytes(path, "model file '" + path + "'");
}

}  // namespace lamina::io
