#!/usr/bin/env python3
"""PyTorch's time per epoch for the networks bench_mlp_epoch measures, on the
same machine, so docs/performance.md compares like with like.

    scripts/install-deps.sh --with-torch
    /usr/bin/python3 benchmarks/compare_pytorch.py [--threads 2] [--epochs 3] [--data data/mnist]

Networks: keras128 and dense512 (bench_mlp_epoch), keras_cnn (bench_conv's
BM_keras_cnn_epoch). Each network trains on the 60,000 MNIST training images exactly as the Keras
notebook does (same layers, optimizer, loss, batch size, shuffling every
epoch); the script reports every epoch's time and the median of the epochs
after the first (the first pays for allocation and warm-up, as in the C++
benchmark, which discards its warm-up epoch too).

Data is loaded with the standard library (gzip + struct), so the only
dependency is torch itself (Debian: python3-torch).
"""
import argparse
import gzip
import os
import statistics
import struct
import sys
import time

import torch
import torch.nn as nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    t = torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8)
    return t.reshape(dims)


def keras128():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    # Keras's Adam defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-7.
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    return model, opt, nn.CrossEntropyLoss(), 32


def dense512():
    # Dense(10, softmax) + CategoricalCrossentropy is CrossEntropyLoss on logits.
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    # Keras's RMSprop defaults: lr 1e-3, rho 0.9, eps 1e-7.
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    return model, opt, nn.CrossEntropyLoss(), 128


def keras_cnn():
    # mnist_cnn --net keras: Keras's Conv2D/Dense defaults are glorot_uniform;
    # PyTorch keeps its own initialisation (speed does not depend on it).
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    return model, opt, nn.CrossEntropyLoss(), 64


def time_epochs(make, x, y, epochs):
    torch.manual_seed(1)
    model, opt, loss_fn, batch = make()
    model.train()
    times = []
    n = x.shape[0]
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return times


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--data", default=os.path.join(here, "..", "data", "mnist"))
    p.add_argument("--net", choices=["keras128", "dense512", "keras_cnn", "all"], default="all")
    args = p.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    x = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")).float().div_(255).reshape(-1, 1, 28, 28)
    y = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).long()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {x.shape[0]} training images",
          file=sys.stderr)

    nets = {"keras128": keras128, "dense512": dense512, "keras_cnn": keras_cnn}
    for name, make in nets.items():
        if args.net not in ("all", name):
            continue
        times = time_epochs(make, x, y, args.epochs)
        steady = times[1:] if len(times) > 1 else times
        print(f"pytorch {name}: epochs " + " ".join(f"{t:.3f}" for t in times) +
              f" s; median after the first {statistics.median(steady):.3f} s")


if __name__ == "__main__":
    main()
