"""GFLOP/s of NumPy's matmul (OpenBLAS) for the same square f64 products as `cargo bench --bench matmul`.

Run with one thread, as the crate's products run:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python benches/compare/matmul_numpy.py
Prints lines in the bench's form: `matmul n=256 impl=openblas GFLOP/s=34.1`.
"""
import time

import numpy as np


def median_seconds(f, min_sample=0.002, samples=31, budget=1.5):
    f()
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < 0.05 or calls == 0:
        f()
        calls += 1
    one = (time.perf_counter() - start) / calls
    reps = max(1, int(np.ceil(min_sample / one)))
    times = []
    began = time.perf_counter()
    while len(times) < samples and (len(times) < 5 or time.perf_counter() - began < budget):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        times.append((time.perf_counter() - t) / reps)
    times.sort()
    return times[len(times) // 2]


def main():
    rng = np.random.default_rng(7)
    for n in [32, 64, 128, 256, 512, 1024]:
        a = rng.uniform(-1, 1, (n, n))
        b = rng.uniform(-1, 1, (n, n))
        c = np.empty((n, n))
        t = median_seconds(lambda: np.matmul(a, b, out=c))
        print(f"matmul n={n} impl=openblas GFLOP/s={2 * n**3 / t / 1e9:.1f}", flush=True)


if __name__ == "__main__":
    main()
