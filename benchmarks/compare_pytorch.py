#!/usr/bin/env python3
"""lamina against PyTorch (CPU) on the examples' workloads, back to back in one run.

    scripts/install-deps.sh --with-torch          # python3-torch + OpenBLAS
    cmake -S . -B build && cmake --build build -j2 --target bench_workloads
    /usr/bin/python3 benchmarks/compare_pytorch.py [--workloads W1,W2,W3] [--runs 3]
                     [--torch-threads 1,2] [--lamina-threads 2] [--epochs N] [--json FILE]

Workloads (each framework trains the same network, with Keras's initializers
(glorot_uniform kernels, zero biases), the same optimizer settings and batch
size, for the notebook's number of epochs, then scores the 10,000 test images):
  W1 keras128   Flatten-Dense(128, relu)-Dropout(0.2)-Dense(10), Adam(1e-3, eps 1e-7), batch 32, 5 epochs
  W2 dense512   Flatten-Dense(512, relu)-Dense(10, softmax), RMSprop(1e-3, rho 0.9, eps 1e-7), batch 128, 10 epochs
  W3 keras_cnn  Conv2D(32,3,relu)-MaxPool(2)-Conv2D(64,3,relu)-MaxPool(2)-Flatten-Dense(128,relu)-Dense(10),
                Adam(1e-3, eps 1e-7), batch 64, 3 epochs
After training, each times inference: batch 1 (one call per test image,
median latency over --latency-images calls) and batch 1000 (images/s).

One run = for each workload: lamina (build/benchmarks/bench_workloads, with
OMP_NUM_THREADS=--lamina-threads), then PyTorch once per --torch-threads
setting, each in its own process. An epoch time is the median of a run's
epochs after the first (the first pays for allocation and warm-up in both);
over --runs runs the script prints the min and the median of those. Ratios
compare lamina's median with the median of PyTorch's fastest thread setting.

PyTorch gets its fastest environment found on this machine:
OMP_WAIT_POLICY=PASSIVE (with the default active policy its epochs were 3-5x
slower here) and OpenBLAS (Debian's default reference BLAS is ~30x slower at
GEMM). Data is read with the standard library (gzip + struct).
"""
import argparse
import gzip
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


def torch_worker(args):
    import torch
    torch.set_num_threads(args.threads)
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
    print(json.dumps({
        "framework": "pytorch", "workload": args.workload, "threads": torch.get_num_threads(),
        "epoch_seconds": times, "test_accuracy": correct / tx.shape[0], "test_loss": loss_sum / tx.shape[0],
        "batch1_median_s": latencies[len(latencies) // 2], "batch1_mean_s": sum(latencies) / len(latencies),
        "batch1000_s": batch1000, "build": "torch " + torch.__version__}))


# ---------------------------------------------------------------- the driver

def run_json(cmd, env):
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"compare_pytorch.py: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def steady(epochs):
    """A run's epoch time: the median of the epochs after the first."""
    return statistics.median(epochs[1:] if len(epochs) > 1 else epochs)


def summarize(results):
    per_run = [steady(r["epoch_seconds"]) for r in results]
    return {
        "epoch_min": min(per_run), "epoch_median": statistics.median(per_run),
        "accuracy": statistics.median(r["test_accuracy"] for r in results),
        "accuracies": [r["test_accuracy"] for r in results],
        "batch1_us": statistics.median(r["batch1_median_s"] for r in results) * 1e6,
        "batch1000_ips": 1000 / statistics.median(r["batch1000_s"] for r in results),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default="W1,W2,W3", help="comma-separated: W1,W2,W3 (or keras128,dense512,keras_cnn)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--torch-threads", default="1,2", help="PyTorch intra-op thread counts to try (the fastest is compared)")
    p.add_argument("--lamina-threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=0, help="epochs per training run (0: each workload's notebook budget)")
    p.add_argument("--latency-images", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lamina", default=os.path.join(HERE, "..", "build", "benchmarks", "bench_workloads"))
    p.add_argument("--data", default=os.path.join(HERE, "..", "data", "mnist"))
    p.add_argument("--json", help="also write every result to this file")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--workload", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.torch_worker:
        return torch_worker(args)

    names = [WORKLOADS.get(w, w) for w in args.workloads.split(",")]
    for n in names:
        if n not in EPOCHS:
            p.error(f"unknown workload '{n}'")
    torch_threads = [int(t) for t in args.torch_threads.split(",")]
    if not os.access(args.lamina, os.X_OK):
        sys.exit(f"compare_pytorch.py: no {args.lamina}; build it first: "
                 "cmake -S . -B build && cmake --build build -j2 --target bench_workloads")
    try:
        import torch  # noqa: F401  (only to fail early, with the fix)
    except ImportError:
        sys.exit("compare_pytorch.py: PyTorch is missing; run scripts/install-deps.sh --with-torch")

    common = ["--epochs", str(args.epochs)] if args.epochs else []
    common += ["--seed", str(args.seed), "--latency-images", str(args.latency_images), "--data", args.data]
    lamina_env = dict(os.environ, OMP_NUM_THREADS=str(args.lamina_threads))
    torch_env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    results = []
    start = time.time()
    for run in range(args.runs):
        for name in names:
            r = run_json([args.lamina, "--workload", name] + common, lamina_env)
            results.append(r)
            print(f"run {run + 1}/{args.runs} {name} lamina: epochs {' '.join(f'{t:.3f}' for t in r['epoch_seconds'])} s, "
                  f"test accuracy {r['test_accuracy']:.4f}", file=sys.stderr, flush=True)
            for t in torch_threads:
                r = run_json([sys.executable, os.path.abspath(__file__), "--torch-worker", "--workload", name,
                              "--threads", str(t)] + common, torch_env)
                results.append(r)
                print(f"run {run + 1}/{args.runs} {name} pytorch/{t}: epochs "
                      f"{' '.join(f'{x:.3f}' for x in r['epoch_seconds'])} s, test accuracy {r['test_accuracy']:.4f}",
                      file=sys.stderr, flush=True)

    print(f"\n{args.runs} runs in {time.time() - start:.0f} s; lamina threads {args.lamina_threads}; "
          f"{results[0]['build']}; {next(r['build'] for r in results if r['framework'] == 'pytorch')}")
    print(f"{'workload':<11} {'framework':<11} {'s/epoch min':>11} {'median':>8} {'test acc':>9} "
          f"{'batch-1 us':>10} {'batch-1000 img/s':>16}")
    for name in names:
        rows = {("lamina", args.lamina_threads): summarize(
            [r for r in results if r["workload"] == name and r["framework"] == "lamina"])}
        for t in torch_threads:
            rows[("pytorch", t)] = summarize(
                [r for r in results if r["workload"] == name and r["framework"] == "pytorch" and r["threads"] == t])
        for (fw, t), s in rows.items():
            print(f"{name:<11} {fw + '/' + str(t):<11} {s['epoch_min']:>11.3f} {s['epoch_median']:>8.3f} "
                  f"{s['accuracy']:>9.4f} {s['batch1_us']:>10.1f} {s['batch1000_ips']:>16.0f}")
        lam = rows[("lamina", args.lamina_threads)]
        best_epoch = min((s["epoch_median"], t) for (fw, t), s in rows.items() if fw == "pytorch")
        best_lat = min((s["batch1_us"], t) for (fw, t), s in rows.items() if fw == "pytorch")
        best_ips = max((s["batch1000_ips"], t) for (fw, t), s in rows.items() if fw == "pytorch")
        print(f"{name:<11} {'ratio':<11} epoch {lam['epoch_median'] / best_epoch[0]:.2f}x of PyTorch/{best_epoch[1]}, "
              f"batch-1 latency {lam['batch1_us'] / best_lat[0]:.2f}x of PyTorch/{best_lat[1]}, "
              f"batch-1000 throughput {lam['batch1000_ips'] / best_ips[0]:.2f}x of PyTorch/{best_ips[1]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
