"""The bench's training workloads in NumPy, written as the original design writes them.

A network is a list of layers with `forward` and `backward` methods; each operation makes a new
array, as idiomatic NumPy does. Prints lines in the bench's form:
    train task=circles µs/epoch=250.1
Run (one BLAS thread, like the crate):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python benches/compare/train_numpy.py
"""
import sys
import time

import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng, gain):
        self.W = rng.normal(0.0, np.sqrt(gain / n_in), (n_in, n_out))
        self.b = np.zeros((1, n_out))

    def forward(self, X):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dZ):
        self.dW = self.X.T @ dZ
        self.db = dZ.sum(axis=0, keepdims=True)
        return dZ @ self.W.T


class Relu:
    def forward(self, Z):
        self.Z = Z
        return np.maximum(Z, 0.0)

    def backward(self, dA):
        return dA * (self.Z > 0)


class Tanh:
    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dA):
        return dA * (1.0 - self.A**2)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Network:
    def __init__(self, sizes, hidden_activation, output, rng):
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Dense(n_in, n_out, rng, 2.0))
            if i < len(sizes) - 2:
                self.layers.append(hidden_activation())
        self.output = output

    def forward(self, X):
        for layer in self.layers:
            X = layer.forward(X)
        return {"sigmoid": sigmoid, "softmax": softmax, "identity": lambda z: z}[self.output](X)

    def loss(self, y_hat, y):
        if self.output == "sigmoid":
            p = np.clip(y_hat, 1e-12, 1 - 1e-12)
            return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        if self.output == "softmax":
            return -np.sum(y * np.log(np.clip(y_hat, 1e-12, 1.0))) / len(y)
        return np.mean((y_hat - y) ** 2)

    def backward(self, y_hat, y):
        n = len(y)
        dZ = (y_hat - y) / n if self.output != "identity" else 2 * (y_hat - y) / y.size
        for layer in reversed(self.layers):
            dZ = layer.backward(dZ)

    def params(self):
        return [(l, "W", "dW") for l in self.layers if isinstance(l, Dense)] + [
            (l, "b", "db") for l in self.layers if isinstance(l, Dense)
        ]


class Sgd:
    def __init__(self, lr):
        self.lr = lr

    def step(self, net):
        for layer, p, g in net.params():
            setattr(layer, p, getattr(layer, p) - self.lr * getattr(layer, g))


class Adam:
    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t, self.m, self.v = lr, b1, b2, eps, 0, {}, {}

    def step(self, net):
        self.t += 1
        for layer, p, g in net.params():
            key = (id(layer), p)
            grad = getattr(layer, g)
            m = self.m.get(key, np.zeros_like(grad))
            v = self.v.get(key, np.zeros_like(grad))
            m = self.b1 * m + (1 - self.b1) * grad
            v = self.b2 * v + (1 - self.b2) * grad**2
            self.m[key], self.v[key] = m, v
            m_hat = m / (1 - self.b1**self.t)
            v_hat = v / (1 - self.b2**self.t)
            setattr(layer, p, getattr(layer, p) - self.lr * m_hat / (np.sqrt(v_hat) + self.eps))


def circles(n, rng, noise=0.1, factor=0.5):
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(np.arange(n) < n // 2, 1.0, factor)
    X = np.c_[r * np.cos(t), r * np.sin(t)] + rng.normal(0, noise, (n, 2))
    return X, (np.arange(n) >= n // 2).astype(float).reshape(-1, 1)


def sine(n, rng, noise=0.05):
    x = rng.uniform(-2 * np.pi, 2 * np.pi, (n, 1))
    return x, np.sin(x) + rng.normal(0, noise, (n, 1))


def digits(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    X, labels = data[:, :-1], data[:, -1].astype(int)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    return X, np.eye(10)[labels]


def train(net, opt, X, y, epochs, batch_size, rng):
    n = len(X)
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size else np.arange(n)
        for start in range(0, n, batch_size or n):
            idx = order[start : start + (batch_size or n)]
            xb, yb = (X, y) if not batch_size else (X[idx], y[idx])
            y_hat = net.forward(xb)
            net.loss(y_hat, yb)
            net.backward(y_hat, yb)
            opt.step(net)


def per_epoch_us(make, epochs, repeats=7):
    times = []
    for _ in range(repeats):
        net, opt, X, y, batch, rng = make()
        t = time.perf_counter()
        train(net, opt, X, y, epochs, batch, rng)
        times.append((time.perf_counter() - t) / epochs * 1e6)
    times.sort()
    return times[len(times) // 2]


def main():
    digits_csv = sys.argv[1] if len(sys.argv) > 1 else "datasets/digits.csv"
    rng = np.random.default_rng(0)
    Xc, yc = circles(800, rng)
    Xs, ys = sine(400, rng)
    Xd, yd = digits(digits_csv)
    cases = {
        "circles": (lambda: (Network([2, 10, 1], Relu, "sigmoid", np.random.default_rng(1)), Sgd(0.1), Xc, yc, 0, rng), 500),
        "sine": (lambda: (Network([1, 20, 20, 1], Tanh, "identity", np.random.default_rng(1)), Adam(0.01), Xs, ys, 0, rng), 500),
        "digits": (lambda: (Network([64, 128, 64, 10], Relu, "softmax", np.random.default_rng(1)), Sgd(0.1), Xd, yd, 0, rng), 20),
        "digits-b64": (lambda: (Network([64, 128, 64, 10], Relu, "softmax", np.random.default_rng(1)), Sgd(0.1), Xd, yd, 64, rng), 5),
    }
    for name, (make, epochs) in cases.items():
        print(f"train task={name} µs/epoch={per_epoch_us(make, epochs):.1f}", flush=True)


if __name__ == "__main__":
    main()
