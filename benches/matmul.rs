//! `cargo bench --bench matmul`: GFLOP/s of every matrix product the crate keeps.
//!
//! One line per case, `matmul n=256 impl=blocked GFLOP/s=12.3`, for square f64 products
//! `C = A·B` of n = 32 … 1024 (a product of n × n matrices is 2·n³ floating-point operations):
//!
//! ```text
//! naive       the textbook i-j-k loop, C[i,j] = Σ_p A[i,p]·B[p,j] (the tests' oracle; up to n = 256)
//! plain       Matrix::matmul_plain, the i-p-j row-update loop (what BACKPROP_KERNELS=naive runs;
//!             from n = 64 on it adds with f64::mul_add where the default product fuses, a
//!             library call on a baseline build)
//! portable    kernels/gemm/ blocked and packed, 4 × 4 tile, baseline x86-64 instructions
//! avx2        kernels/gemm/ with the 6 × 8 AVX2 tile, separate multiply and add
//! avx2_fma    kernels/gemm/ with the 6 × 8 AVX2 tile and fused multiply-adds
//! default     kernels::matmul, what the network calls (picks one of the above)
//! t_matmul    kernels::t_matmul, Aᵀ·B as backward's dW = Xᵀ·dZ uses it
//! matmul_t    kernels::matmul_t, A·Bᵀ as backward's dX = dZ·Wᵀ uses it
//! ```
//!
//! All of these run on one thread; `impl=default threads=2` is `matmul_into` with its rows
//! shared by two threads (`threads::set_threads(2)`). Then the eight products of one full-batch
//! step of the digits network (1797 rows, 64 → 128 → 64 → 10), each in the form the dense layer
//! calls it, on one and on two threads, with their time and their total:
//! `matmul digits=dW1=Xt·dZ1 impl=default threads=1 µs=… GFLOP/s=…`.
//!
//! Extra words on the command line filter the cases: `cargo bench --bench matmul -- n=512`.

mod common;

use backprop::kernels;
use backprop::kernels::gemm::{self, Kernel, View};
use backprop::kernels::threads;
use backprop::matrix::Matrix;
use backprop::rng::Rng;
use std::hint::black_box;
use std::time::Duration;

fn main() {
    let filter = common::filter();
    let mut rng = Rng::new(7);
    for n in [32, 64, 128, 256, 512, 1024] {
        let a = Matrix::random_uniform(n, n, -1.0, 1.0, &mut rng);
        let b = Matrix::random_uniform(n, n, -1.0, 1.0, &mut rng);
        let mut c = Matrix::zeros(n, n);
        let mut run = |name: &str, case: &mut dyn FnMut(&mut Matrix)| {
            let label = format!("matmul n={n} impl={name}");
            if !common::selected(&filter, &label) {
                return;
            }
            let budget = Duration::from_millis(if n >= 512 { 1500 } else { 400 });
            let timing = common::measure(31, budget, || case(black_box(&mut c)));
            let gflops = 2.0 * (n as f64).powi(3) / timing.median / 1e9;
            println!(
                "{label} GFLOP/s={gflops:.1}   (±{:.0}%, {} samples)",
                timing.spread_percent(),
                timing.samples
            );
        };
        if n <= 256 {
            run("naive", &mut |c| textbook(black_box(&a), black_box(&b), c));
        }
        run("plain", &mut |c| {
            black_box(&a).matmul_plain(black_box(&b), c)
        });
        for kernel in Kernel::available() {
            run(kernel.name(), &mut |c| {
                gemm::gemm_with(kernel, View::of(&a), View::of(&b), c.as_mut_slice())
            });
        }
        // The network's products, on one thread (as every row above), then on two.
        threads::set_threads(1);
        run("default", &mut |c| {
            kernels::matmul(black_box(&a), black_box(&b), c)
        });
        run("t_matmul", &mut |c| {
            kernels::t_matmul(black_box(&a), black_box(&b), c)
        });
        run("matmul_t", &mut |c| {
            kernels::matmul_t(black_box(&a), black_box(&b), c)
        });
        threads::set_threads(2);
        run("default threads=2", &mut |c| {
            kernels::matmul(black_box(&a), black_box(&b), c)
        });
        threads::set_threads(0);
    }
    digits_products(&filter, &mut rng);
}

/// `C ← A·B` by the textbook's three loops: each entry a dot product of a row of `A` and a column
/// of `B`, the column read with a stride of `B.cols` numbers.
fn textbook(a: &Matrix, b: &Matrix, c: &mut Matrix) {
    c.resize(a.rows(), b.cols());
    for i in 0..a.rows() {
        for j in 0..b.cols() {
            let mut sum = -0.0;
            for p in 0..a.cols() {
                sum += a[(i, p)] * b[(p, j)];
            }
            c[(i, j)] = sum;
        }
    }
}

/// The eight products of one full-batch step of the digits network (64 → 128 → 64 → 10 on 1797
/// rows), each in the form the dense layer calls it.
fn digits_products(filter: &[String], rng: &mut Rng) {
    const N: usize = 1797;
    // (name, form, rows of A as stored, cols of A as stored, rows of B as stored, cols of B)
    let products: [(&str, &str, usize, usize, usize, usize); 8] = [
        ("Z1=X·W1", "ab", N, 64, 64, 128),
        ("Z2=A1·W2", "ab", N, 128, 128, 64),
        ("Z3=A2·W3", "ab", N, 64, 64, 10),
        ("dW3=A2t·dZ3", "tb", N, 64, N, 10),
        ("dX3=dZ3·W3t", "at", N, 10, 64, 10),
        ("dW2=A1t·dZ2", "tb", N, 128, N, 64),
        ("dX2=dZ2·W2t", "at", N, 64, 128, 64),
        ("dW1=Xt·dZ1", "tb", N, 64, N, 128),
    ];
    for threads in [1, 2] {
        threads::set_threads(threads);
        digits_products_on(filter, rng, &products, threads);
    }
    threads::set_threads(0);
}

/// The rows of [`digits_products`] on `threads` threads, and their total.
fn digits_products_on(
    filter: &[String],
    rng: &mut Rng,
    products: &[(&str, &str, usize, usize, usize, usize)],
    threads: usize,
) {
    let mut total = 0.0;
    let mut flops = 0.0;
    for &(name, form, ar, ac, br, bc) in products {
        let label = format!("matmul digits={name} impl=default threads={threads}");
        if !common::selected(filter, &label) {
            continue;
        }
        let a = Matrix::random_uniform(ar, ac, -1.0, 1.0, rng);
        let b = Matrix::random_uniform(br, bc, -1.0, 1.0, rng);
        let mut c = Matrix::zeros(0, 0);
        let (m, k, n) = match form {
            "ab" => (ar, ac, bc),
            "tb" => (ac, ar, bc),
            _ => (ar, ac, br),
        };
        let timing = common::measure(31, Duration::from_millis(400), || match form {
            "ab" => kernels::matmul(black_box(&a), black_box(&b), &mut c),
            "tb" => kernels::t_matmul(black_box(&a), black_box(&b), &mut c),
            _ => kernels::matmul_t(black_box(&a), black_box(&b), &mut c),
        });
        let f = 2.0 * (m * k * n) as f64;
        total += timing.median;
        flops += f;
        println!(
            "{label} µs={:.1} GFLOP/s={:.1}   (±{:.0}%, {} samples)",
            timing.median * 1e6,
            f / timing.median / 1e9,
            timing.spread_percent(),
            timing.samples
        );
    }
    if total > 0.0 {
        println!(
            "matmul digits=all-eight impl=default threads={threads} µs={:.1} GFLOP/s={:.1}",
            total * 1e6,
            flops / total / 1e9
        );
    }
}
