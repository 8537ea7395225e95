#!/usr/bin/env bash
# Installs the Debian 12 packages that lamina's build, tests (sanitizer builds
# and fuzzers too), examples and benchmarks need, with either compiler (g++ or
# clang++-14). Idempotent: with every package installed it runs no apt-get.
#
#   scripts/install-deps.sh [--with-torch] [--with-mpi] [--with-onnx]
#
#   --with-torch   also install python3-torch and OpenBLAS (for the PyTorch
#                  comparison in benchmarks/)
#   --with-mpi     also install Open MPI (for LAMINA_MPI=ON: data-parallel
#                  training, docs/distributed.md)
#   --with-onnx    also install ONNX and protobuf (for LAMINA_ONNX=ON: ONNX
#                  export and import, docs/onnx.md), python3-onnx, ONNX's
#                  conformance node tests (libonnx-testdata) and Node.js for
#                  its tests, and ONNX Runtime's Node.js package into .onnxruntime/
#
# Runs apt-get directly as root, through sudo otherwise; npm as the caller.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
    cmake                  # build system (3.21 or newer; Debian 12 has 3.25)
    make                   # CMake's default generator
    g++                    # the default compiler
    clang-14               # the second compiler CI builds with (clang++-14)
    libomp-14-dev          # OpenMP for clang++-14 (g++ brings its own libgomp); its Archer
                           # tool lets ThreadSanitizer see OpenMP (docs/testing.md)
    libclang-rt-14-dev     # clang++-14's sanitizer and libFuzzer runtimes (merely recommended
                           # by clang-14); g++'s come with it (libasan8, libubsan1, libtsan2)
    libeigen3-dev          # Eigen3: every tensor operation, CMake target Eigen3::Eigen
    zlib1g-dev             # reading MNIST's .gz files, CMake target ZLIB::ZLIB
    catch2                 # unit tests (Catch2 v2)
    libbenchmark-dev       # Google Benchmark, for benchmarks/
    libstb-dev             # stb_image and stb_image_write (/usr/include/stb): images in and out
    dataset-fashion-mnist  # Fashion-MNIST in /usr/share/datasets/fashion-mnist (its test is skipped without it)
    pkg-config             # stb.pc; CMake finds stb with find_path, pkg-config is not needed by the build
    python3                # the docs test (tests/docs/check_docs.py) and the fuzz corpus script
    clang-format-14        # CI checks that the sources match .clang-format
)

usage() { sed -n '2,17s/^# \{0,1\}//p' "$0"; }

with_onnx=0
for arg in "$@"; do
    case "$arg" in
        # OpenBLAS for torch: Debian's default reference BLAS makes PyTorch
        # ~30x slower at GEMM and the comparison meaningless (docs/performance.md).
        --with-torch) packages+=(python3-torch libopenblas0-openmp) ;;
        --with-mpi) packages+=(openmpi-bin libopenmpi-dev) ;;
        --with-onnx)
            packages+=(libonnx-dev libprotobuf-dev python3-onnx libonnx-testdata) with_onnx=1
            # A node and npm of another origin (NodeSource's nodejs bundles npm)
            # conflict with Debian's npm package: keep them.
            command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm) ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install-deps.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$p")
done

# ONNX Runtime is not packaged by Debian; its Node.js package carries the
# CPU runtime itself. --ignore-scripts skips its install script, which would
# download the CUDA one. The tests find it through NODE_PATH (tests/CMakeLists.txt).
install_onnxruntime() {
    [[ $with_onnx -eq 1 ]] || return 0
    local dir
    dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.onnxruntime"
    if [[ -f "$dir/node_modules/onnxruntime-node/package.json" ]]; then
        echo "install-deps.sh: onnxruntime-node is already in $dir" >&2
        return 0
    fi
    echo "install-deps.sh: installing onnxruntime-node into $dir" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund onnxruntime-node@1.31.1
}

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps.sh: all ${#packages[@]} packages are already installed" >&2
    install_onnxruntime
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps.sh: apt-get not found; this script is for Debian 12 (or Ubuntu)." >&2
    echo "Install these packages (or their equivalents) by hand: ${missing[*]}" >&2
    exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
    as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
else
    echo "install-deps.sh: missing packages: ${missing[*]}" >&2
    echo "install-deps.sh: installing them needs root: run this script as root, or install sudo." >&2
    exit 1
fi

echo "install-deps.sh: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get -q update
"${as_root[@]}" apt-get -q install -y --no-install-recommends "${missing[@]}"
install_onnxruntime
