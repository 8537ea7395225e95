#!/usr/bin/env python3
"""PyTorch's networks exported by torch.onnx.export, for onnx.torch_roundtrip (ctest -L onnx).

    /usr/bin/python3 tests/onnx/torch_models.py OUT_DIR [--mnist DATA_DIR]

Builds the networks of benchmarks/compare_pytorch.py in PyTorch (W1
keras128, W3 keras_cnn, imported from there) and two variants of W3: one
whose forward flattens with x.view(x.size(0), -1) (the exporter writes the
dynamic-batch Shape -> Gather -> Unsqueeze -> Concat -> Reshape) and one with
BatchNorm2d after each convolution's ReLU. Each gets seeded random weights,
random biases and (for BatchNorm2d) random running statistics, is put in
eval() mode and exported at the exporter's default opset with a symbolic batch
axis; W1 and the view variant once more at opset 13.

With --mnist DATA_DIR, W1 and W3 are also trained for one epoch each on
MNIST (the IDX files of DATA_DIR, .gz or not) with compare_pytorch.py's
settings (Keras's initializers, Adam(1e-3, eps 1e-7), batch 32 and 64; here 2
threads, seed 1), scored on the 10,000 test images and exported as
w1_trained and w3_trained.

Writes into OUT_DIR, for each model NAME:
    NAME.onnx           torch.onnx.export's file
    NAME.input.f32      3 inputs (3, 1, 28, 28) in [0, 1]: float32, little-endian, row-major, no header
    NAME.expected.f32   PyTorch's outputs for them, (3, 10), the same encoding
    NAME.labels.u8      (trained models) PyTorch's predicted digit of each test image, one byte each
and last manifest.txt, one line per model:
    NAME OPSET N C H W OUTPUTS [TEST_ACCURACY]
(the input shape (N, C, H, W), the output (N, OUTPUTS); a trained model's
accuracy on the test set as PyTorch scores it). The C++ side
(torch_roundtrip.cpp) reads only these files.
"""
import argparse
import gzip
import os
import sys
import time

# libgomp's default spin-waiting slows PyTorch many times over on a shared
# machine (docs/performance.md; compare_pytorch.py runs it so too). Read when
# torch loads, hence before the import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))
from compare_pytorch import torch_model  # noqa: E402  the benchmark's W1 and W3, with their optimizers


class W3View(nn.Module):
    """W3 with the flatten written in forward, as many PyTorch models do."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
        self.pool = nn.MaxPool2d(2)
        self.fc1, self.fc2 = nn.Linear(1600, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.fc1(x)))


def w3_batchnorm():
    # After the ReLU: the exporter folds a BatchNorm2d that directly follows a
    # Conv2d into the convolution's weights in eval mode, which would leave no
    # BatchNormalization node to import.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.BatchNorm2d(32), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.BatchNorm2d(64), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))


def randomize(model, seed):
    """Random weights and biases, and running statistics far from 0 and 1, so
    that a transposed kernel, a dropped bias or swapped statistics shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                m.weight.copy_((torch.rand(m.weight.shape, generator=g) * 2 - 1) * (3 / fan_in) ** 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 0.2 - 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.rand(c, generator=g) - 0.5)
                m.running_mean.copy_(torch.rand(c, generator=g) * 0.4 - 0.2)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
    return model


def read_idx(data_dir, name):
    """An MNIST IDX file of data_dir as a numpy array; NAME.gz where NAME is absent."""
    path = os.path.join(data_dir, name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    else:
        with gzip.open(path + ".gz", "rb") as f:
            data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def train_one_epoch(workload, data_dir, seed):
    """compare_pytorch.py's training of one workload, one epoch; returns the
    model in eval mode, its test accuracy and predicted test labels."""
    torch.manual_seed(seed)
    x = torch.from_numpy(read_idx(data_dir, "train-images-idx3-ubyte").astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(read_idx(data_dir, "train-labels-idx1-ubyte").astype(np.int64))
    tx = torch.from_numpy(read_idx(data_dir, "t10k-images-idx3-ubyte").astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    ty = torch.from_numpy(read_idx(data_dir, "t10k-labels-idx1-ubyte").astype(np.int64))
    model, opt, loss_fn, batch = torch_model(workload)
    start = time.perf_counter()
    model.train()
    perm = torch.randperm(x.shape[0])
    for i in range(0, x.shape[0], batch):
        idx = perm[i:i + batch]
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x[idx]), y[idx]).backward()
        opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        labels = torch.cat([model(tx[i:i + 1000]).argmax(1) for i in range(0, tx.shape[0], 1000)])
    accuracy = float((labels == ty).double().mean())
    print(f"trained {workload} for one epoch in {seconds:.1f} s: test accuracy {accuracy:.4f}")
    return model, accuracy, labels.numpy().astype(np.uint8)


def export(model, name, opset, out_dir, seed, accuracy=None, labels=None):
    model.eval()
    x = torch.rand((3, 1, 28, 28), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + ".onnx")
    kwargs = {} if opset is None else {"opset_version": opset}
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kwargs)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    written_opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    x.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".input.f32"))
    y.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".expected.f32"))
    line = f"{name} {written_opset} {' '.join(map(str, x.shape))} {y.shape[1]}"
    if accuracy is not None:
        labels.tofile(os.path.join(out_dir, name + ".labels.u8"))
        line += f" {accuracy!r}"
    print(f"exported {name} (opset {written_opset}): {' '.join(n.op_type for n in proto.graph.node)}")
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--mnist", metavar="DATA_DIR", help="also train W1 and W3 one epoch on this MNIST")
    args = parser.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out_dir, exist_ok=True)
    print(f"torch {torch.__version__}, onnx {onnx.__version__}")

    lines = []
    w1 = randomize(torch_model("keras128")[0], 1)
    w3 = randomize(torch_model("keras_cnn")[0], 2)
    w3_view = randomize(W3View(), 3)
    w3_bn = randomize(w3_batchnorm(), 4)
    lines.append(export(w1, "w1", None, args.out_dir, 11))
    lines.append(export(w3, "w3", None, args.out_dir, 12))
    lines.append(export(w3_view, "w3_view", None, args.out_dir, 13))
    lines.append(export(w3_bn, "w3_bn", None, args.out_dir, 14))
    lines.append(export(w1, "w1_opset13", 13, args.out_dir, 15))
    lines.append(export(w3_view, "w3_view_opset13", 13, args.out_dir, 16))
    if args.mnist:
        for workload, name in [("keras128", "w1_trained"), ("keras_cnn", "w3_trained")]:
            model, accuracy, labels = train_one_epoch(workload, args.mnist, 1)
            lines.append(export(model, name, None, args.out_dir, 17, accuracy, labels))
    # Last, so that a manifest means every file above was written.
    with open(os.path.join(args.out_dir, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
