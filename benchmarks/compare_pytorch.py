#!/usr/bin/env python3
"""lamina against PyTorch (CPU) at its best on this machine, on the examples' workloads.

    scripts/install-deps.sh --with-torch          # python3-torch + OpenBLAS
    cmake -S . -B build && cmake --build build -j2 --target bench_workloads
    /usr/bin/python3 benchmarks/compare_pytorch.py [--workloads W1,W2,W3] [--runs 3] [--epochs N]
                     [--torch-threads 1,2] [--openblas-threads 1,2] [--coretype found,unset]
                     [--flush-denormal off,on]
                     [--search-epochs 3] [--lamina-threads 2] [--json FILE]

Workloads (each framework trains the same network, with Keras's initializers
(glorot_uniform kernels, zero biases), the same optimizer settings and batch
size, for the notebook's number of epochs, then scores the 10,000 test images):
  W1 keras128   Flatten-Dense(128, relu)-Dropout(0.2)-Dense(10), Adam(1e-3, eps 1e-7), batch 32, 5 epochs
  W2 dense512   Flatten-Dense(512, relu)-Dense(10, softmax), RMSprop(1e-3, rho 0.9, eps 1e-7), batch 128, 10 epochs
  W3 keras_cnn  Conv2D(32,3,relu)-MaxPool(2)-Conv2D(64,3,relu)-MaxPool(2)-Flatten-Dense(128,relu)-Dense(10),
                Adam(1e-3, eps 1e-7), batch 64, 3 epochs
After training, each times inference: batch 1 (one call per test image,
median latency over --latency-images calls) and batch 1000 (images/s).

1. Search. A PyTorch configuration is (torch threads, OpenBLAS threads,
   OPENBLAS_CORETYPE, denormals): torch.set_num_threads(t),
   OPENBLAS_NUM_THREADS=b, OPENBLAS_CORETYPE as found in this environment
   ("found") or removed ("unset": OpenBLAS picks its kernels for this CPU; a
   value such as Haswell forces those kernels, AVX2 ones on an AVX-512
   machine; any other --coretype value is set as given), and
   torch.set_flush_denormal(False or True) (lamina flushes denormal floats to
   zero in fit, evaluate and predict, and Adam's moments of rarely-trained
   weights decay into that range: PyTorch's own switch belongs in its best
   setting). The grid is every combination of --torch-threads x
   --openblas-threads x --coretype x --flush-denormal (default: all of
   {1, 2} x {1, 2} x {found, unset} x {off, on}; found and unset are one
   point when the environment has no OPENBLAS_CORETYPE). Each point trains each workload for
   --search-epochs epochs in its own process (training only); the point with
   the fastest steady epoch is that workload's winner. The script prints every
   point's time and the winner, with the BLAS library and OpenBLAS kernels
   ("corename") the process loaded and whether torch had oneDNN (its CPU
   convolutions) enabled.
   OPENBLAS_NUM_THREADS is read by OpenBLAS when it loads; torch's intra-op
   threads (oneDNN convolutions, element-wise kernels) are set separately, so
   the two are searched as two dimensions.
2. Measure. --runs rounds (at least 3 for a result worth quoting); each round,
   per workload, lamina (build/benchmarks/bench_workloads, with
   OMP_NUM_THREADS=--lamina-threads) then PyTorch at its winner, each in its own
   process, so the two alternate and share the machine's moments. A run's
   epoch time is the median of its epochs after the first (the first pays for
   allocation and warm-up in both); the summary gives the min and median of
   that over the runs, the test accuracy, batch-1 latency and batch-1000
   throughput, and lamina's median as a ratio of PyTorch's median.
3. The machine. After its inference timings, each lamina process measures the
   machine's SGEMM peak (Eigen's 1024^3 single-precision product, best over
   0.5 s, with lamina's threads: bench::sgemm_peak_gflops()) and reports the
   workload's training FLOPs per epoch (its Dense/Conv2D products: forward,
   kernel gradient, input gradient except for the first layer; 2 flops per
   multiply-add; bench_workloads.cpp, training_flops_per_epoch). Every run line
   prints that run's peak; the summary prints the peak's min/median over the
   runs and each framework's epoch as a multiple of its floor, FLOPs / peak of
   the same round: a slow machine raises the floor, a slow library the multiple.

Every PyTorch process runs with OMP_WAIT_POLICY=PASSIVE: with libgomp's
default (spin, then sleep) PyTorch's epochs were 3-5x slower on this shared
2-core VM (docs/performance.md, "Machine and build"), so passive waiting is
fixed rather than searched, which keeps the grid at 16 points (8 where the
environment has no OPENBLAS_CORETYPE). Data is read
with the standard library (gzip + struct).
"""
import argparse
import ctypes
import gzip
import itertools
import json
import os
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = {"W1": "keras128", "W2": "dense512", "W3": "keras_cnn"}
EPOCHS = {"keras128": 5, "dense512": 10, "keras_cnn": 3}


# ---------------------------------------------------------------- PyTorch side

def read_idx(path):
    import torch
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    t = torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8)
    return t.reshape(dims)


def torch_model(name):
    import torch
    import torch.nn as nn
    if name == "keras128":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
        opt = lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7)
        batch = 32
    elif name == "dense512":
        # Dense(10, softmax) + categorical cross-entropy is CrossEntropyLoss on logits.
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
        opt = lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-7)
        batch = 128
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7)
        batch = 64
    # Keras's defaults, which lamina uses: glorot_uniform kernels, zero biases.
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model, opt(model.parameters()), nn.CrossEntropyLoss(), batch


def blas_in_process():
    """The BLAS this process loaded (Debian's libblas.so.3 alternative), and
    OpenBLAS's kernel set when it is OpenBLAS: what a configuration really ran."""
    paths = []
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in os.path.basename(path) and path not in paths:
                paths.append(path)
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            config = lib.openblas_get_config().decode().split()
            return f"{' '.join(config[:2])} {lib.openblas_get_corename().decode()}"
        except (OSError, AttributeError):
            continue
    return " ".join(os.path.basename(p) for p in paths) or "no BLAS loaded"


def torch_worker(args):
    import torch
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(args.flush_denormal_worker)
    torch.manual_seed(args.seed)
    load = lambda f: read_idx(os.path.join(args.data, f))
    x = load("train-images-idx3-ubyte.gz").float().div_(255).reshape(-1, 1, 28, 28)
    y = load("train-labels-idx1-ubyte.gz").long()
    tx = load("t10k-images-idx3-ubyte.gz").float().div_(255).reshape(-1, 1, 28, 28)
    ty = load("t10k-labels-idx1-ubyte.gz").long()

    model, opt, loss_fn, batch = torch_model(args.workload)
    epochs = args.epochs or EPOCHS[args.workload]
    times = []
    n = x.shape[0]
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)

    result = {
        "framework": "pytorch", "workload": args.workload, "threads": torch.get_num_threads(),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "blas": blas_in_process(),
        "flush_denormal": args.flush_denormal_worker,
        "onednn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        "epoch_seconds": times, "build": "torch " + torch.__version__}
    if args.train_only:
        print(json.dumps(result))
        return

    model.eval()
    with torch.no_grad():
        correct, loss_sum = 0, 0.0
        for i in range(0, tx.shape[0], 1000):
            out = model(tx[i:i + 1000])
            loss_sum += float(loss_fn(out, ty[i:i + 1000])) * out.shape[0]
            correct += int((out.argmax(1) == ty[i:i + 1000]).sum())
        latencies = []
        for i in range(args.latency_images):
            one = tx[i % tx.shape[0]:i % tx.shape[0] + 1]
            t0 = time.perf_counter()
            model(one)
            latencies.append(time.perf_counter() - t0)
        thousand = tx[:1000]
        model(thousand)
        calls, t0 = 0, time.perf_counter()
        while calls < 3 or time.perf_counter() - t0 < 1.0:
            model(thousand)
            calls += 1
        batch1000 = (time.perf_counter() - t0) / calls
    latencies.sort()
    result.update({
        "test_accuracy": correct / tx.shape[0], "test_loss": loss_sum / tx.shape[0],
        "batch1_median_s": latencies[len(latencies) // 2], "batch1_mean_s": sum(latencies) / len(latencies),
        "batch1000_s": batch1000})
    print(json.dumps(result))


# ---------------------------------------------------------------- the driver

class Config:
    """One point of PyTorch's grid: torch threads, OpenBLAS threads,
    OPENBLAS_CORETYPE ("found": as in this environment; "unset"; or a name)
    and whether denormals are flushed ("off" or "on")."""

    def __init__(self, torch_threads, openblas_threads, coretype, flush):
        self.torch_threads, self.openblas_threads, self.coretype = torch_threads, openblas_threads, coretype
        self.flush = flush

    def coretype_value(self):
        if self.coretype == "found":
            return os.environ.get("OPENBLAS_CORETYPE")
        return None if self.coretype == "unset" else self.coretype

    def env(self):
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OPENBLAS_NUM_THREADS=str(self.openblas_threads))
        env.pop("OPENBLAS_CORETYPE", None)
        if self.coretype_value() is not None:
            env["OPENBLAS_CORETYPE"] = self.coretype_value()
        return env

    def label(self):
        core = self.coretype_value() or "unset"
        if self.coretype == "found":
            core = f"found={core}"
        return f"torch {self.torch_threads}, OpenBLAS {self.openblas_threads}, CORETYPE {core}, flush {self.flush}"

    def short(self):
        ftz = "/ftz" if self.flush == "on" else ""
        return f"pytorch/{self.torch_threads}/ob{self.openblas_threads}/{self.coretype_value() or 'unset'}{ftz}"


def grid(args):
    """Every combination of the four flags; "found" and "unset" merge when
    the environment has no OPENBLAS_CORETYPE (the same point twice)."""
    points, seen = [], set()
    for t, b, c, f in itertools.product(parse_ints(args.torch_threads), parse_ints(args.openblas_threads),
                                        args.coretype.split(","), args.flush_denormal.split(",")):
        point = Config(t, b, c, f)
        key = (t, b, point.coretype_value(), f)
        if key not in seen:
            seen.add(key)
            points.append(point)
    return points


def parse_ints(text):
    return [int(v) for v in text.split(",")]


def run_json(cmd, env):
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"compare_pytorch.py: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def torch_cmd(name, config, extra):
    flush = ["--flush-denormal-worker"] if config.flush == "on" else []
    return [sys.executable, os.path.abspath(__file__), "--torch-worker", "--workload", name,
            "--threads", str(config.torch_threads)] + flush + extra


def steady(epochs):
    """A run's epoch time: the median of the epochs after the first."""
    return statistics.median(epochs[1:] if len(epochs) > 1 else epochs)


def epochs_text(r):
    return " ".join(f"{t:.3f}" for t in r["epoch_seconds"])


def search(args, names, points, data_args):
    """Each grid point trains each workload in its own process; returns the
    fastest point per workload and every result."""
    winners, results = {}, []
    extra = ["--epochs", str(args.search_epochs), "--train-only"] + data_args
    for name in names:
        timed = []
        for point in points:
            r = run_json(torch_cmd(name, point, extra), point.env())
            r["config"] = point.short()
            results.append(r)
            timed.append((steady(r["epoch_seconds"]), point, r))
            print(f"search {name} {point.label()}: epochs {epochs_text(r)} s ({r['blas']})", file=sys.stderr,
                  flush=True)
        winners[name] = min(timed, key=lambda e: e[0])[1]
        print(f"\nsearch: {name}, {args.search_epochs} epochs per point, steady epoch (median after the first)")
        print(f"  {'torch':>5} {'OpenBLAS':>8} {'OPENBLAS_CORETYPE':<22} {'flush':>5} {'s/epoch':>8}  "
              f"{'BLAS loaded':<32} oneDNN")
        for seconds, point, r in timed:
            core = point.coretype_value() or "unset"
            core = f"found ({core})" if point.coretype == "found" else core
            mark = "  <- fastest" if point is winners[name] else ""
            print(f"  {point.torch_threads:>5} {point.openblas_threads:>8} {core:<22} {point.flush:>5} {seconds:>8.3f}  "
                  f"{r['blas']:<32} {'on' if r['onednn'] else 'off'}{mark}")
        print(f"  winner for {name}: {winners[name].label()}", flush=True)
    return winners, results


def summarize(results):
    per_run = [steady(r["epoch_seconds"]) for r in results]
    return {
        "epoch_min": min(per_run), "epoch_median": statistics.median(per_run), "per_run": per_run,
        "accuracy": statistics.median(r["test_accuracy"] for r in results),
        "batch1_us": statistics.median(r["batch1_median_s"] for r in results) * 1e6,
        "batch1000_ips": 1000 / statistics.median(r["batch1000_s"] for r in results),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default="W1,W2,W3", help="comma-separated: W1,W2,W3 (or keras128,dense512,keras_cnn)")
    p.add_argument("--runs", type=int, default=3, help="measured rounds, lamina and PyTorch alternating (default 3)")
    p.add_argument("--torch-threads", default="1,2", help="torch.set_num_threads values to search (default 1,2)")
    p.add_argument("--openblas-threads", default="1,2", help="OPENBLAS_NUM_THREADS values to search (default 1,2)")
    p.add_argument("--coretype", default="found,unset",
                   help="OPENBLAS_CORETYPE values to search: found (as in this environment), unset, "
                        "or a core name such as Haswell (default found,unset)")
    p.add_argument("--flush-denormal", default="off,on",
                   help="torch.set_flush_denormal settings to search: off, on or off,on (default off,on)")
    p.add_argument("--search-epochs", type=int, default=3,
                   help="epochs per grid point in the search (the first is not timed; default 3)")
    p.add_argument("--lamina-threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=0, help="epochs per measured run (0: each workload's notebook budget)")
    p.add_argument("--latency-images", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lamina", default=os.path.join(HERE, "..", "build", "benchmarks", "bench_workloads"))
    p.add_argument("--data", default=os.path.join(HERE, "..", "data", "mnist"))
    p.add_argument("--json", help="also write every result (search and runs) to this file")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--train-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--workload", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--flush-denormal-worker", dest="flush_denormal_worker", action="store_true",
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.torch_worker:
        return torch_worker(args)

    names = [WORKLOADS.get(w, w) for w in args.workloads.split(",")]
    for n in names:
        if n not in EPOCHS:
            p.error(f"unknown workload '{n}'")
    if any(v not in ("off", "on") for v in args.flush_denormal.split(",")):
        p.error(f"--flush-denormal takes off, on or off,on, not '{args.flush_denormal}'")
    if args.runs < 1 or args.search_epochs < 2:
        p.error("--runs must be at least 1 and --search-epochs at least 2 (the first epoch is not timed)")
    points = grid(args)
    if not os.access(args.lamina, os.X_OK):
        sys.exit(f"compare_pytorch.py: no {args.lamina}; build it first: "
                 "cmake -S . -B build && cmake --build build -j2 --target bench_workloads")
    try:
        import torch  # noqa: F401  (only to fail early, with the fix)
    except ImportError:
        sys.exit("compare_pytorch.py: PyTorch is missing; run scripts/install-deps.sh --with-torch")

    start = time.time()
    data_args = ["--seed", str(args.seed), "--data", args.data]
    found = os.environ.get("OPENBLAS_CORETYPE")
    print(f"PyTorch grid: {len(points)} points (OPENBLAS_CORETYPE in this environment: {found or 'unset'}), "
          f"OMP_WAIT_POLICY=PASSIVE")
    winners, search_results = search(args, names, points, data_args)

    common = (["--epochs", str(args.epochs)] if args.epochs else []) + data_args
    common += ["--latency-images", str(args.latency_images)]
    lamina_env = dict(os.environ, OMP_NUM_THREADS=str(args.lamina_threads))
    results = []
    for run in range(args.runs):
        for name in names:
            lam = run_json([args.lamina, "--workload", name] + common, lamina_env)
            lam["run"] = run
            results.append(lam)
            floor = lam["train_flops_per_epoch"] / (lam["sgemm_peak_gflops"] * 1e9)
            print(f"run {run + 1}/{args.runs} {name} lamina/{lam['threads']}: epochs {epochs_text(lam)} s, "
                  f"test accuracy {lam['test_accuracy']:.4f}; SGEMM peak {lam['sgemm_peak_gflops']:.0f} GFLOP/s "
                  f"({lam['threads']} threads), floor {floor:.3f} s, epoch {steady(lam['epoch_seconds']) / floor:.1f}x "
                  f"the floor", file=sys.stderr, flush=True)
            point = winners[name]
            r = run_json(torch_cmd(name, point, common), point.env())
            r["run"], r["config"] = run, point.short()
            results.append(r)
            print(f"run {run + 1}/{args.runs} {name} {point.short()}: epochs {epochs_text(r)} s, "
                  f"test accuracy {r['test_accuracy']:.4f}, {steady(r['epoch_seconds']) / floor:.1f}x the floor",
                  file=sys.stderr, flush=True)

    lamina_results = [r for r in results if r["framework"] == "lamina"]
    torch_build = next(r["build"] for r in results if r["framework"] == "pytorch")
    print(f"\n{args.runs} runs in {time.time() - start:.0f} s, search included; lamina threads {args.lamina_threads}; "
          f"{lamina_results[0]['build']}; {torch_build}")
    print(f"{'workload':<11} {'framework':<26} {'s/epoch min':>11} {'median':>8} {'test acc':>9} "
          f"{'batch-1 us':>10} {'batch-1000 img/s':>16}")
    for name in names:
        lam_runs = [r for r in lamina_results if r["workload"] == name]
        torch_runs = [r for r in results if r["framework"] == "pytorch" and r["workload"] == name]
        lam, pt = summarize(lam_runs), summarize(torch_runs)
        for label, s in ((f"lamina/{args.lamina_threads}", lam), (winners[name].short(), pt)):
            print(f"{name:<11} {label:<26} {s['epoch_min']:>11.3f} {s['epoch_median']:>8.3f} "
                  f"{s['accuracy']:>9.4f} {s['batch1_us']:>10.1f} {s['batch1000_ips']:>16.0f}")
        print(f"{name:<11} {'ratio':<26} epoch {lam['epoch_median'] / pt['epoch_median']:.2f}x, "
              f"batch-1 latency {lam['batch1_us'] / pt['batch1_us']:.2f}x, "
              f"batch-1000 throughput {lam['batch1000_ips'] / pt['batch1000_ips']:.2f}x of PyTorch at its winner")
        # The floor of each round: its FLOPs at the SGEMM peak measured in that round's lamina process.
        peaks = [r["sgemm_peak_gflops"] for r in lam_runs]
        flops = lam_runs[0]["train_flops_per_epoch"]
        floors = [flops / (peak * 1e9) for peak in peaks]
        lam_x = [e / f for e, f in zip(lam["per_run"], floors)]
        pt_x = [e / f for e, f in zip(pt["per_run"], floors)]
        print(f"{name:<11} {'SGEMM peak':<26} min {min(peaks):.0f} / median {statistics.median(peaks):.0f} GFLOP/s "
              f"(per run: {' '.join(f'{v:.0f}' for v in peaks)}; 1024^3, lamina's {args.lamina_threads} threads)")
        print(f"{name:<11} {'FLOP floor':<26} {flops / 1e9:.1f} GFLOP/epoch: floor min {min(floors):.3f} / median "
              f"{statistics.median(floors):.3f} s; epoch as a multiple of the same run's floor: lamina min "
              f"{min(lam_x):.1f}x / median {statistics.median(lam_x):.1f}x, PyTorch min {min(pt_x):.1f}x / "
              f"median {statistics.median(pt_x):.1f}x")
    if args.runs < 3:
        print(f"({args.runs} runs: fewer than the 3 a quotable comparison needs)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"grid": [p.short() for p in points], "winners": {n: w.short() for n, w in winners.items()},
                       "search": search_results, "runs": results}, f, indent=1)


if __name__ == "__main__":
    main()
