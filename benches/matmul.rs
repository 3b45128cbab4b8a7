//! `cargo bench --bench matmul`: GFLOP/s of every matrix product the crate keeps.
//!
//! One line per case, `matmul n=256 impl=blocked GFLOP/s=12.3`, for square f64 products
//! `C = A·B` of n = 32 … 1024 (a product of n × n matrices is 2·n³ floating-point operations):
//!
//! ```text
//! naive       Matrix::matmul_naive, the i-j-k definition (the test oracle; up to n = 256)
//! ipj         Matrix::matmul_ipj_into, the i-p-j row-update loop
//! portable    gemm.rs blocked and packed, 4 × 4 tile, baseline x86-64 instructions
//! avx2        gemm.rs with the 6 × 8 AVX2 tile, separate multiply and add
//! avx2_fma    gemm.rs with the 6 × 8 AVX2 tile and fused multiply-adds
//! default     Matrix::matmul_into, what the network calls (picks one of the above)
//! t_matmul    Matrix::t_matmul_into, Aᵀ·B as backward's dW = Xᵀ·dZ uses it
//! matmul_t    Matrix::matmul_t_into, A·Bᵀ as backward's dX = dZ·Wᵀ uses it
//! ```
//!
//! Extra words on the command line filter the cases: `cargo bench --bench matmul -- n=512`.

mod common;

use backprop::gemm::{self, Kernel};
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
            run("naive", &mut |c| {
                *c = black_box(&a).matmul_naive(black_box(&b))
            });
        }
        run("ipj", &mut |c| {
            black_box(&a).matmul_ipj_into(black_box(&b), c)
        });
        for kernel in Kernel::available() {
            run(kernel.name(), &mut |c| {
                gemm::gemm_with(kernel, a.view(), b.view(), c.as_mut_slice())
            });
        }
        run("default", &mut |c| {
            black_box(&a).matmul_into(black_box(&b), c)
        });
        run("t_matmul", &mut |c| {
            black_box(&a).t_matmul_into(black_box(&b), c)
        });
        run("matmul_t", &mut |c| {
            black_box(&a).matmul_t_into(black_box(&b), c)
        });
    }
}
