// libFuzzer target for lamina/io/idx.hpp. Each input is read from memory
// (read_idx_from_memory); every input that reads successfully, and one in 8
// of the others (chosen by a hash of the bytes, so a rerun makes the same
// choice), is also written to a file and read by read_idx, which goes
// through zlib's gzopen/gzread instead. A lamina::Error is the right answer
// to a bad input; anything else is a bug to fix in the reader: a crash or
// sanitizer report, another exception type (std::bad_alloc from a size the
// header made up included), a leak, or the two entry points disagreeing
// about an input.
//
// Why not every input through the file: read_idx asks zlib for 3 MiB of
// buffers per file, and under AddressSanitizer each such allocation costs
// about 2 ms (fresh mappings and their shadow), against 40 us for the whole
// in-memory read; sampling keeps the run at thousands of inputs a second.
#include <lamina/io/idx.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using lamina::Index;
using lamina::Tensor;

struct Outcome {
    bool ok = false;
    lamina::ErrorId id{};
    std::string what;
    Tensor<std::uint8_t> tensor;
};

template <class Read>
Outcome attempt(Read&& read) {
    Outcome o;
    try {
        o.tensor = read();
        o.ok = true;
    } catch (const lamina::Error& e) {
        o.id = e.id();
        o.what = e.what();
    }
    return o;
}

[[noreturn]] void finding(const char* what, const Outcome& memory, const Outcome& file) {
    std::fprintf(stderr, "fuzz_idx: %s\n  from memory: %s\n  from a file: %s\n", what,
                 memory.ok ? memory.tensor.shape().str().c_str() : memory.what.c_str(),
                 file.ok ? file.tensor.shape().str().c_str() : file.what.c_str());
    std::abort();
}

// FNV-1a: a cheap, stable choice of which failing inputs also go through a file.
bool sampled(const std::uint8_t* data, std::size_t size) {
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
    return h % 8 == 0;
}

bool same(const Tensor<std::uint8_t>& a, const Tensor<std::uint8_t>& b) {
    return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

// One file per process: libFuzzer's -jobs/-fork run several at once.
struct TempFile {
    std::string path =
        (std::filesystem::temp_directory_path() / ("lamina-fuzz-idx-" + std::to_string(::getpid()) + ".idx")).string();
    ~TempFile() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
    void write(const std::uint8_t* data, std::size_t size) const {
        std::FILE* f = std::fopen(path.c_str(), "wb");
        if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
            std::perror(path.c_str());
            std::abort();  // the harness's own failure, not a finding: stop loudly
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static TempFile file;
    // Both name the input by the same path, so their messages can be compared.
    const Outcome memory = attempt([&] { return lamina::io::read_idx_from_memory(data, size, file.path); });
    if (!memory.ok && !sampled(data, size)) return 0;
    file.write(data, size);
    const Outcome disk = attempt([&] { return lamina::io::read_idx(file.path); });

    if (memory.ok != disk.ok) finding("one entry point accepts the input, the other does not", memory, disk);
    if (memory.ok) {
        if (!same(memory.tensor, disk.tensor)) finding("the entry points read different tensors", memory, disk);
        // What any caller does next with the shape must not overflow (UBSan).
        const lamina::Shape& s = memory.tensor.shape();
        if (s.rank() < 1 || s.rank() > 4 || s.size() != memory.tensor.size() || s.sample_size() < 0 || s.str().empty())
            finding("the tensor's shape is not a valid IDX shape", memory, disk);
        // A tensor read back must survive write_idx and read the same again.
        lamina::io::write_idx(file.path, memory.tensor);
        if (!same(lamina::io::read_idx(file.path), memory.tensor))
            finding("write_idx then read_idx changes the tensor", memory, disk);
        return 0;
    }
    // Raw (not gzip) input is read the same way by both, so both must fail
    // in the same words. zlib's gzread decompresses ahead of the caller and
    // can meet a corrupt stream before a bad header that the in-memory
    // reader reports first, so for gzip input only "both fail" is required.
    const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (!gzip && memory.what != disk.what) finding("the entry points fail differently on raw input", memory, disk);
    return 0;
}
