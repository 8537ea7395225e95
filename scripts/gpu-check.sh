#!/bin/sh
# scripts/gpu-check.sh: the CUDA backend on a machine with an NVIDIA GPU, in
# one command (docs/cuda.md). It configures a LAMINA_CUDA=ON build with
# warnings as errors, builds the GPU tests, mnist_cnn and bench_workloads,
# runs every `cuda` test, trains the keras CNN for one epoch and the best
# network (mnist_cnn --net best) in full on the GPU, times
# the workloads of docs/performance.md on the GPU (W1 keras128 at batch 32, W2
# dense512 at 128, W3 keras CNN at 64 and 512; inference at batch 1 and
# 10,000) and prints one summary. Sized for an H100 with 16 cores: under
# 8 minutes. Everything it prints is also kept in $BUILD/gpu-check/.
#
#   scripts/gpu-check.sh [BUILD_DIR]        (default: build-gpu)
#
# Needs what the CPU build needs (cmake, Eigen, Catch2, Google Benchmark,
# zlib, stb: scripts/install-deps.sh) plus nvcc and cuBLAS in /usr/local/cuda.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-gpu}
out=$build/gpu-check
jobs=$(nproc 2>/dev/null || echo 4)
start=$(date +%s)

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu-check: no NVIDIA GPU here (nvidia-smi finds none); the CUDA tests would all be skipped" >&2
    exit 1
fi
mkdir -p "$out"
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1)
echo "gpu-check: $gpu"

step() { echo "== $1 ($(($(date +%s) - start)) s)"; }

step "configure"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLAMINA_CUDA=ON -DLAMINA_WERROR=ON \
    -DCMAKE_CUDA_ARCHITECTURES=native >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
step "build"
cmake --build "$build" -j "$jobs" --target lamina_cuda_tests mnist_cnn bench_workloads >"$out/build.log" 2>&1 ||
    { tail -n 60 "$out/build.log"; exit 1; }

step "cuda tests"
tests_rc=0
(cd "$build" && ctest -L '^cuda$' --output-on-failure --timeout 300) >"$out/ctest.log" 2>&1 || tests_rc=$?
tail -n 25 "$out/ctest.log"

step "keras CNN, one epoch on the GPU"
cnn_rc=0
"$build/examples/mnist_cnn" --device cuda --epochs 1 --verbose 2 >"$out/mnist_cnn.log" 2>&1 || cnn_rc=$?
tail -n 3 "$out/mnist_cnn.log"

step "best network (mnist_cnn --net best), its full run on the GPU"
best_rc=0
"$build/examples/mnist_cnn" --device cuda --net best --verbose 2 >"$out/mnist_cnn_best.log" 2>&1 || best_rc=$?
tail -n 3 "$out/mnist_cnn_best.log"

step "workloads on the GPU"
: >"$out/workloads.jsonl"
bench_rc=0
for w in "keras128 32 3" "dense512 128 3" "keras_cnn 64 3" "keras_cnn 512 3"; do
    set -- $w
    "$build/benchmarks/bench_workloads" --device cuda --workload "$1" --batch-size "$2" --epochs "$3" \
        --latency-images 2000 --inference-batch 10000 >>"$out/workloads.jsonl" 2>>"$out/workloads.err" || bench_rc=$?
done
cat "$out/workloads.err" 2>/dev/null || true

step "summary"
python3 - "$out/workloads.jsonl" "$gpu" <<'PY' | tee "$out/summary.txt"
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
targets = {("keras128", 32): 0.3, ("keras_cnn", 64): 0.5, ("keras_cnn", 512): 0.2}
print(f"GPU: {sys.argv[2]}")
print(f"{'workload':<10} {'batch':>5} {'epoch s (min / median, after the first)':>40} {'accuracy':>9} "
      f"{'batch-1 img/s':>14} {'batch-10000 img/s':>18}  target")
for r in rows:
    times = r["epoch_seconds"][1:] or r["epoch_seconds"]
    key = (r["workload"], r["batch_size"])
    target = f"epoch <= {targets[key]} s: {'met' if min(times) <= targets[key] else 'NOT met'}" if key in targets else ""
    big = r["inference_batch"] / r[f"batch{r['inference_batch']}_s"]
    print(f"{r['workload']:<10} {r['batch_size']:>5} {min(times):>19.3f} / {statistics.median(times):<18.3f} "
          f"{r['test_accuracy']:>9.4f} {1 / r['batch1_median_s']:>14.0f} {big:>18.0f}  {target}")
one = [r for r in rows if r["workload"] == "keras_cnn"]
if one:
    ips = 1 / one[0]["batch1_median_s"]
    print(f"W3 inference at batch 1: {ips:.0f} images/s (target >= 10,000: {'met' if ips >= 10000 else 'NOT met'})")
PY
# The CPU backend's one-epoch accuracy for the same run (mnist_cnn --epochs 1,
# seed 1; docs/performance.md): the GPU must be within 0.3 points of it.
cpu_accuracy=0.9843
gpu_accuracy=$(sed -n 's/^test_accuracy=\([0-9.]*\).*/\1/p' "$out/mnist_cnn.log" | tail -n 1)
verdict=$(python3 -c "import sys; a = float(sys.argv[1] or 'nan'); print('met' if abs(a - $cpu_accuracy) <= 0.003 else 'NOT met')" "$gpu_accuracy" 2>/dev/null || echo "not measured")
echo "cuda tests: $( [ $tests_rc -eq 0 ] && echo passed || echo FAILED )"
echo "keras CNN, one epoch: GPU ${gpu_accuracy:-none} against the CPU's $cpu_accuracy (within 0.3 points: $verdict)"
best_accuracy=$(sed -n 's/^test_accuracy=\([0-9.]*\).*/\1/p' "$out/mnist_cnn_best.log" | tail -n 1)
echo "best network: GPU ${best_accuracy:-none} (the CPU's three seeds: docs/performance.md)"
echo "gpu-check: $(($(date +%s) - start)) s in all; logs in $out"
[ $tests_rc -eq 0 ] && [ $cnn_rc -eq 0 ] && [ $best_rc -eq 0 ] && [ $bench_rc -eq 0 ]
