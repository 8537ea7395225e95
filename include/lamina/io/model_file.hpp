// lamina/io/model_file.hpp: the .lamina model file, in memory and in bytes.
//
// Contract: ModelFile<T> is everything a model file holds (docs/file-format.md
// is the byte-level specification): architecture, weights, and optionally the
// compile settings, the optimizer's state and the training state.
// encode_model_file() produces the bytes; decode_model_file<T>() parses any
// bytes back, converting stored float or double tensors to T. Decoding checks,
// in order: size, magic, version, kind, declared length, CRC-32, then every
// section field; each failure is a FormatError whose message names the file
// (`context`) and, inside sections, the byte offset:
//   format_size      empty, truncated or over-long file; a field that runs past its section
//   format_magic     not a lamina model file
//   format_version   a format version this build cannot read
//   format_checksum  the CRC-32 does not match (bit rot, a partial copy)
//   format_header    any field out of range, a missing or repeated section
// Nothing the bytes say can make it allocate more than they hold.
#pragma once

#include <zlib.h>

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
#include "lamina/io/binary.hpp"
#include "lamina/layers/layer.hpp"

namespace lamina::io {

// PNG's trick: a high byte and CR LF / ^Z / LF catch 7-bit and text-mode transfers.
constexpr std::array<std::uint8_t, 8> model_magic{0x89, 'L', 'M', 'N', '\r', '\n', 0x1a, '\n'};
constexpr std::uint32_t model_format_version = 1;
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

inline void write_number_config(ByteWriter& w, const NumberConfig& c) {
    w.u32(static_cast<std::uint32_t>(c.size()));
    for (const auto& [k, v] : c) {
        w.str(k);
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

}  // namespace detail

template <class T>
std::vector<std::uint8_t> encode_model_file(const ModelFile<T>& f) {
    ByteWriter w;
    w.raw(model_magic.data(), model_magic.size());
    w.u32(model_format_version);
    w.u32(static_cast<std::uint32_t>(f.kind));
    w.u64(0);  // body length, patched below
    {
        detail::SectionWriter s(w, "ARCH");
        w.str(f.model_name);
        w.shape(f.input_shape);
        w.u32(static_cast<std::uint32_t>(f.layers.size()));
        for (const auto& l : f.layers) {
            w.str(l.type);
            w.str(l.name);
            w.u32(static_cast<std::uint32_t>(l.config.size()));
            for (const auto& [k, v] : l.config) {
                w.str(k);
                w.str(v);
            }
        }
    }
    {
        detail::SectionWriter s(w, "WGHT");
        w.u32(static_cast<std::uint32_t>(f.weights.size()));
        for (const auto& wr : f.weights) {
            w.str(wr.layer);
            w.str(wr.param);
            w.tensor(wr.value);
        }
    }
    if (f.compile) {
        detail::SectionWriter s(w, "COMP");
        w.str(f.compile->loss);
        detail::write_number_config(w, f.compile->loss_config);
        w.u32(static_cast<std::uint32_t>(f.compile->metrics.size()));
        for (const auto& m : f.compile->metrics) w.str(m);
    }
    if (f.optimizer) {
        detail::SectionWriter s(w, "OPTM");
        const auto& o = *f.optimizer;
        w.str(o.name);
        detail::write_number_config(w, o.config);
        w.i64(o.iterations);
        w.u32(static_cast<std::uint32_t>(o.slot_names.size()));
        for (const auto& n : o.slot_names) w.str(n);
        w.u32(static_cast<std::uint32_t>(o.slots.size()));
        for (const auto& per_weight : o.slots)
            for (const auto& t : per_weight) w.tensor(t);
    }
    if (f.training) {
        detail::SectionWriter s(w, "TRNG");
        const auto& t = *f.training;
        w.i64(t.epochs_completed);
        for (auto word : t.rng) w.u64(word);
        w.u32(static_cast<std::uint32_t>(t.layers.size()));
        for (const auto& l : t.layers) {
            w.str(l.layer);
            w.u32(static_cast<std::uint32_t>(l.words.size()));
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
    if (size == 0) fail(ErrorId::format_size, "the file is empty (0 bytes); a lamina model file is at least 28 bytes");
    const std::size_t magic_bytes = std::min(size, model_magic.size());
    if (std::memcmp(data, model_magic.data(), magic_bytes) != 0)
        fail(ErrorId::format_magic, "not a lamina model file (it does not start with the bytes 89 4C 4D 4E 0D 0A 1A 0A)");
    if (size < model_header_bytes + model_trailer_bytes)
        fail(ErrorId::format_size, "truncated: " + std::to_string(size) + " bytes, shorter than the 28-byte header and checksum");

    ByteReader header(data + 8, model_header_bytes - 8, context, 8);
    const std::uint32_t version = header.u32();
    if (version != model_format_version)
        fail(ErrorId::format_version, "format version " + std::to_string(version) + "; this build of lamina reads version " +
                                          std::to_string(model_format_version));
    const std::uint32_t kind = header.u32();
    if (kind != std::uint32_t(ModelFileKind::Model) && kind != std::uint32_t(ModelFileKind::Weights))
        fail(ErrorId::format_header, "unknown file kind " + std::to_string(kind) + " (1 = model, 2 = weights)");
    const std::uint64_t body = header.u64();
    const std::uint64_t expected = std::uint64_t(model_header_bytes) + std::uint64_t(model_trailer_bytes);
    if (body > size || body + expected != size)
        fail(ErrorId::format_size, (body + expected > size ? "truncated" : "trailing bytes") +
                                       std::string(": the header declares ") + std::to_string(body) +
                                       " bytes of sections, so a file of " +
                                       std::to_string(body + expected) + " bytes, but it has " + std::to_string(size));
    if (verify_checksum) {
        ByteReader trailer(data + size - 4, 4, context, size - 4);
        const std::uint32_t stored = trailer.u32();
        const std::uint32_t actual = detail::crc32_of(data, size - 4);
        if (stored != actual) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "checksum mismatch (stored CRC-32 %08x, contents give %08x)", stored, actual);
            fail(ErrorId::format_checksum, std::string(buf) + ": the file is corrupt");
        }
    }

    ModelFile<T> f;
    f.kind = static_cast<ModelFileKind>(kind);
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
                wr.value = r.template tensor<T>();
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
            for (auto& per_weight : o.slots)
                for (std::uint32_t s = 0; s < names; ++s) per_weight.push_back(r.template tensor<T>());
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

}  // namespace lamina::io
