"""The bench's training workloads in PyTorch eager mode, on one CPU thread, in float64.

Same data sizes, architectures, optimizers and epochs as `cargo bench --bench train` and
`train_numpy.py`. Prints lines in the bench's form: `train task=circles µs/epoch=1600.0`.
Run:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benches/compare/train_torch.py
Options: `--threads N` runs PyTorch on N threads (`torch.set_num_threads`; the lines then read
`train task=digits threads=N …`, as the bench's rows on N threads do); words after the options
filter the tasks as the bench's do (`… train_torch.py --threads 2 digits`); `--digits PATH`
names the digits CSV (default `datasets/digits.csv`).
"""
import argparse
import time

import numpy as np
import torch

from train_numpy import circles, digits, sine

torch.set_default_dtype(torch.float64)


def mlp(sizes, activation):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return torch.nn.Sequential(*layers)


def per_epoch_us(make, epochs, repeats=5):
    times = []
    for _ in range(repeats):
        model, opt, loss_fn, X, y, batch = make()
        n = len(X)
        t = time.perf_counter()
        for _ in range(epochs):
            order = torch.randperm(n) if batch else None
            for start in range(0, n, batch or n):
                if batch:
                    idx = order[start : start + batch]
                    xb, yb = X[idx], y[idx]
                else:
                    xb, yb = X, y
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
        times.append((time.perf_counter() - t) / epochs * 1e6)
    times.sort()
    return times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--digits", default="datasets/digits.csv")
    parser.add_argument("filter", nargs="*")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    digits_csv = args.digits
    rng = np.random.default_rng(0)
    Xc, yc = (torch.tensor(a) for a in circles(800, rng))
    Xs, ys = (torch.tensor(a) for a in sine(400, rng))
    Xd, yd = digits(digits_csv)
    Xd, labels = torch.tensor(Xd), torch.tensor(yd.argmax(1))
    bce = torch.nn.BCEWithLogitsLoss()
    cases = {
        "circles": (lambda: (m := mlp([2, 10, 1], torch.nn.ReLU), torch.optim.SGD(m.parameters(), 0.1), bce, Xc, yc, 0), 200),
        "sine": (lambda: (m := mlp([1, 20, 20, 1], torch.nn.Tanh), torch.optim.Adam(m.parameters(), 0.01), torch.nn.MSELoss(), Xs, ys, 0), 200),
        "digits": (lambda: (m := mlp([64, 128, 64, 10], torch.nn.ReLU), torch.optim.SGD(m.parameters(), 0.1), torch.nn.CrossEntropyLoss(), Xd, labels, 0), 20),
        "digits-b64": (lambda: (m := mlp([64, 128, 64, 10], torch.nn.ReLU), torch.optim.SGD(m.parameters(), 0.1), torch.nn.CrossEntropyLoss(), Xd, labels, 64), 5),
        "digits-b256": (lambda: (m := mlp([64, 128, 64, 10], torch.nn.ReLU), torch.optim.SGD(m.parameters(), 0.1), torch.nn.CrossEntropyLoss(), Xd, labels, 256), 10),
    }
    threads = f" threads={args.threads}" if args.threads != 1 else ""
    for name, (make, epochs) in cases.items():
        label = f"train task={name}{threads}"
        if args.filter and not any(f in label for f in args.filter):
            continue
        print(f"{label} µs/epoch={per_epoch_us(make, epochs):.1f}", flush=True)


if __name__ == "__main__":
    main()
