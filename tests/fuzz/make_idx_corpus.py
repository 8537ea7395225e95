#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_idx into tests/fuzz/corpus/idx/.

    tests/fuzz/make_idx_corpus.py [output-dir]

Small inputs (a few hundred bytes at most) that reach every branch of
lamina/io/idx.hpp's reader, so that the fuzzer starts from structure instead
of having to discover the IDX header and the gzip format by chance: valid
unsigned-byte files of each rank, raw and gzipped, the other IDX element
types (which the reader refuses), gzip variants zlib's reader accepts
(several members, a file name in the header, trailing bytes), and truncated
files. The output is deterministic (gzip mtime 0), so running the script
again changes nothing unless the script changed. Python 3 standard library only.
"""

import gzip
import io
import pathlib
import struct
import sys

# IDX element types: (type byte, struct format of one element).
U8, I8, I16, I32, F32, F64 = 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E
ELEMENT = {U8: "B", I8: "b", I16: "h", I32: "i", F32: "f", F64: "d"}


def idx(type_byte, dims, values):
    """An IDX file: two zero bytes, type, rank, big-endian dims, then the data."""
    header = bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return header + b"".join(struct.pack(">" + ELEMENT[type_byte], v) for v in values)


def gz(data, name=None):
    """gzip with mtime 0 (reproducible); `name` adds the FNAME header field."""
    out = io.BytesIO()
    with gzip.GzipFile(filename=name or "", mode="wb", fileobj=out, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def ramp(n, mod=256):
    return [(7 * i + 3) % mod for i in range(n)]


def corpus():
    labels = idx(U8, [10], [i % 10 for i in range(10)])
    images = idx(U8, [2, 4, 4], ramp(32))
    seeds = {
        # Valid unsigned-byte files, ranks 1 to 4.
        "labels-u8.idx": labels,
        "labels-u8.idx.gz": gz(labels),
        "images-u8.idx": images,
        "images-u8.idx.gz": gz(images),
        "rank2-u8.idx": idx(U8, [3, 5], ramp(15)),
        "rank4-u8.idx.gz": gz(idx(U8, [2, 1, 3, 2], ramp(12))),
        "zero-samples-u8.idx": idx(U8, [0, 28, 28], []),
        "zero-samples-u8.idx.gz": gz(idx(U8, [0, 28, 28], [])),
        # gzip as zlib reads it: a file name field, two members, bytes after the stream.
        "images-u8-fname.idx.gz": gz(images, name="images-u8.idx"),
        "images-u8-two-members.idx.gz": gz(images[:20]) + gz(images[20:]),
        "labels-u8-trailing-garbage.idx.gz": gz(labels) + b"\x00garbage",
        # The other IDX element types (lamina reads only unsigned bytes).
        "labels-i8.idx": idx(I8, [6], [-3, -2, -1, 0, 1, 2]),
        "images-i16.idx": idx(I16, [1, 2, 3], [-300, -1, 0, 1, 255, 300]),
        "images-i32.idx.gz": gz(idx(I32, [1, 2, 2], [-70000, 0, 1, 70000])),
        "images-f32.idx": idx(F32, [1, 2, 2], [0.0, 0.5, -1.5, 3.25]),
        "labels-f64.idx.gz": gz(idx(F64, [3], [0.0, 1.0, 2.5])),
        # Truncated: header, data, gzip stream in the data, gzip trailer.
        "truncated-header.idx": images[:10],
        "truncated-data.idx": images[:-5],
        "truncated-stream.idx.gz": gz(idx(U8, [4, 8, 8], ramp(256, 251)))[:-40],
        "truncated-trailer.idx.gz": gz(labels)[:-3],
        # Headers that claim more than the data holds.
        "huge-count-u8.idx": idx(U8, [65536, 65536], [1, 2, 3, 4, 5]),
        "huge-count-u8.idx.gz": gz(idx(U8, [65536, 65536], [1, 2, 3, 4, 5])),
    }
    return seeds


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "corpus" / "idx"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(corpus().items()):
        (out / name).write_bytes(data)
    print(f"{len(corpus())} seeds in {out}, {sum(map(len, corpus().values()))} bytes in all")


if __name__ == "__main__":
    main()
