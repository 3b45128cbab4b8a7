//! The engine room against the plain forms: every named operation of `kernels`, run with its
//! fast forms and with its plain definition (`BACKPROP_KERNELS=naive`), must give the same bits,
//! on awkward shapes (1×n, n×1, 1×1, empty, non-square, either side of the tiles' and blocks'
//! edges, and large enough for the packed product, its fused multiply-adds and its threads);
//! and whole commands must write byte-identical files with either setting.

use backprop::activation::Activation;
use backprop::kernels::{self, threads, with_kernels, Kernels};
use backprop::matrix::Matrix;
use backprop::rng::Rng;
use std::path::PathBuf;
use std::process::Command;

/// (n, k, m) for an (n × k)·(k × m) product, or the transposed forms of the same sizes.
const SHAPES: [(usize, usize, usize); 30] = [
    (1, 1, 1),
    (1, 7, 1),
    (7, 1, 5),
    (1, 5, 9),
    (9, 5, 1),
    (3, 17, 2),
    (2, 0, 3),
    (0, 3, 4),
    (4, 3, 0),
    // Circles, sine and the demo, forward and backward.
    (800, 2, 10),
    (800, 10, 1),
    (400, 1, 20),
    (400, 20, 20),
    (400, 20, 1),
    (4, 2, 3),
    (4, 3, 1),
    // Either side of the register tiles' edges (8, 10, 12, 4, 2, 1 columns; 4 rows).
    (37, 6, 12),
    (21, 7, 18),
    (11, 13, 28),
    (9, 4, 16),
    (10, 3, 9),
    (65, 33, 17),
    (16, 16, 15),
    // Large enough for the packed product (64³ multiply-adds), with and without threads, thin
    // ones computed transposed and wide ones cut by columns.
    (64, 64, 64),
    (300, 64, 128),
    (1797, 64, 10),
    (64, 1797, 10),
    (64, 1797, 128),
    (130, 257, 21),
    (3, 300, 4100),
];

/// The bits of each number, every NaN as one: Rust promises that an invalid operation
/// (`∞ · 0`, `∞ − ∞`) gives a NaN, not which of the NaNs, and a vector instruction may give
/// another one than a scalar instruction does. Every other number must match to the last bit,
/// the sign of zero included.
fn bits_of(v: &[f64]) -> Vec<u64> {
    v.iter()
        .map(|x| {
            if x.is_nan() {
                f64::NAN.to_bits()
            } else {
                x.to_bits()
            }
        })
        .collect()
}

fn bits(m: &Matrix) -> Vec<u64> {
    bits_of(m.as_slice())
}

/// Runs `f` with the plain forms and with the fast forms on 1, 2 and 3 threads, and checks that
/// every run returns the same bits.
fn assert_same_bits(what: &str, f: impl Fn() -> Vec<Vec<u64>>) {
    let plain = with_kernels(Kernels::Naive, &f);
    for threads in [1, 2, 3] {
        let fast = threads::with_threads(threads, || with_kernels(Kernels::Fast, &f));
        assert_eq!(fast.len(), plain.len(), "{what}");
        for (i, (fast, plain)) in fast.iter().zip(&plain).enumerate() {
            assert!(
                fast == plain,
                "{what}: output {i} differs on {threads} threads"
            );
        }
    }
}

/// A random matrix with a few signed zeros, infinities and NaN among ordinary numbers.
fn awkward(rows: usize, cols: usize, rng: &mut Rng) -> Matrix {
    let mut m = Matrix::random_normal(rows, cols, 0.0, 1.0, rng);
    let specials = [0.0, -0.0, 1e-310];
    for (e, special) in specials.iter().enumerate() {
        if e * 13 < m.as_slice().len() {
            m.as_mut_slice()[e * 13] = *special;
        }
    }
    m
}

#[test]
fn the_three_products_give_the_plain_bits() {
    let mut rng = Rng::new(1);
    for (n, k, m) in SHAPES {
        let a = awkward(n, k, &mut rng); // (n, k)
        let b = awkward(k, m, &mut rng); // (k, m)
        let at = awkward(n, k, &mut rng); // Aᵀ·B needs A and B with n rows: (n, k)
        let bn = awkward(n, m, &mut rng); // (n, m)
        let bt = awkward(m, k, &mut rng); // A·Bᵀ needs B with k columns: (m, k)
        assert_same_bits(&format!("{n}×{k}·{k}×{m}"), || {
            let (mut c1, mut c2, mut c3) = (stale(), stale(), stale());
            kernels::matmul(&a, &b, &mut c1);
            kernels::t_matmul(&at, &bn, &mut c2);
            kernels::matmul_t(&a, &bt, &mut c3);
            vec![bits(&c1), bits(&c2), bits(&c3)]
        });
    }
}

/// A matrix of the wrong shape full of NaN, to prove an operation resizes and overwrites.
fn stale() -> Matrix {
    Matrix::filled(3, 11, f64::NAN)
}

#[test]
fn the_dense_layer_operations_give_the_plain_bits() {
    // Z = X·W + b, A = f(X·W + b), dW = Xᵀ·dZ with db, and BP2's dZ_below = (dZ·Wᵀ) ⊙ f′(Z).
    let mut rng = Rng::new(2);
    for (n, k, m) in SHAPES {
        let x = awkward(n, k, &mut rng); // (n, k)
        let w = awkward(k, m, &mut rng); // (k, m)
        let b = awkward(1, m, &mut rng); // (1, m)
        let dz = awkward(n, m, &mut rng); // (n, m)
        let z_below = awkward(n, k, &mut rng); // (n, k): the Z whose A = f(Z) is X
        for f in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
            let mut a_below = Matrix::zeros(0, 0);
            f.forward(&z_below, &mut a_below);
            assert_same_bits(&format!("{n}×{k}·{k}×{m}, {}", f.name()), || {
                let (mut z, mut z2, mut a) = (stale(), stale(), stale());
                kernels::affine(&x, &w, &b, &mut z);
                let apply = |z: &[f64], a: &mut [f64]| f.forward_entries(z, a);
                kernels::affine_then(&x, &w, &b, (&mut z2, &mut a), apply);
                let (mut dw, mut db) = (stale(), stale());
                kernels::weight_gradients(&x, &dz, &mut dw, &mut db);
                let (mut da, mut dz_below) = (stale(), stale());
                let (zs, as_) = (z_below.as_slice(), a_below.as_slice());
                let backward = |entries: std::ops::Range<usize>, da: &mut [f64], d: &mut [f64]| {
                    f.backward_entries(d, da, &zs[entries.clone()], &as_[entries])
                };
                kernels::matmul_t_then(&dz, &w, (&mut da, &mut dz_below), backward);
                [z, z2, a, dw, db, da, dz_below].iter().map(bits).collect()
            });
        }
    }
}

#[test]
fn the_entry_by_entry_operations_give_the_plain_bits() {
    // Lengths that are not a multiple of any vector width or block, and every special number.
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e-310,
        710.0,
        -710.0,
        -1000.0,
    ];
    let mut rng = Rng::new(3);
    for n in [0, 1, 3, 63, 64, 65, 1003, 4001] {
        let mut numbers = |scale: f64| -> Vec<f64> {
            (0..n)
                .map(|i| match i % 7 {
                    3 => specials[i % specials.len()],
                    _ => rng.uniform_range(-scale, scale),
                })
                .collect()
        };
        let (z, da, a) = (numbers(50.0), numbers(2.0), numbers(1.0));
        let p = numbers(1.1);
        let t: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        for f in [
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.01 },
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Swish,
            Activation::Identity,
        ] {
            assert_same_bits(&format!("{} on {n} entries", f.name()), || {
                let (mut out, mut dz) = (vec![0.0; n], vec![0.0; n]);
                f.forward_entries(&z, &mut out);
                f.backward_entries(&mut dz, &da, &z, &a);
                vec![bits_of(&out), bits_of(&dz)]
            });
        }
        assert_same_bits(&format!("a sum of {n} logarithms"), || {
            let ln_term =
                |p: f64, t: f64| backprop::kernels::math::ln(if t == 1.0 { p } else { 1.0 - p });
            let soft_term = |p: f64, t: f64| p * t - (1.0 - t) * p.abs().sqrt();
            let sums = [
                kernels::sum_of_terms(&p, &t, ln_term),
                kernels::sum_of_terms(&p, &t, soft_term),
            ];
            vec![bits_of(&sums)]
        });
    }
}

#[test]
fn softmax_of_every_row_gives_the_plain_bits() {
    // Rows of 1, 3, 10 and 17 entries, with large, tiny, equal and infinite entries.
    let mut rng = Rng::new(4);
    for k in [1, 3, 10, 17] {
        let mut z = Matrix::random_normal(40, k, 0.0, 30.0, &mut rng); // (40, k)
        let specials = [800.0, -800.0, 0.0, -0.0, f64::NEG_INFINITY, 1e-300];
        for (i, &special) in specials.iter().enumerate() {
            z.set(i, (i * 7) % k, special);
            z.set(i + specials.len(), 0, special);
            z.set(i + specials.len(), k - 1, special);
        }
        assert_same_bits(&format!("softmax of rows of {k}"), || {
            let mut s = Matrix::zeros(0, 0);
            Activation::Softmax.forward(&z, &mut s);
            vec![bits(&s)]
        });
    }
}

#[test]
fn the_update_gives_the_plain_bits_and_norm() {
    let mut rng = Rng::new(5);
    for n in [0, 1, 7, 64, 407] {
        let w = awkward(1, n, &mut rng);
        let dw = awkward(1, n, &mut rng);
        // An Adam-like step: divisions, a square root and both states.
        let step = |w: f64, dw: f64, s1: &mut f64, s2: &mut f64| {
            *s1 = 0.9 * *s1 + 0.1 * dw;
            *s2 = 0.999 * *s2 + 0.001 * dw * dw;
            0.01 * (*s1 / 0.1) / ((*s2 / 0.001).sqrt() + 1e-8) + 1e-3 * w
        };
        assert_same_bits(&format!("update of {n} entries"), || {
            let mut w = w.clone();
            let (mut s1, mut s2) = (vec![0.5; n], vec![0.25; n]);
            let norm = kernels::update(w.as_mut_slice(), dw.as_slice(), (&mut s1, &mut s2), step);
            vec![bits(&w), bits_of(&s1), bits_of(&s2), bits_of(&[norm])]
        });
    }
}

// ----- Whole commands ---------------------------------------------------------------------------

/// Runs `backprop train ARGS --quiet --out DIR --save DIR/model.txt` with `BACKPROP_KERNELS` set
/// to `kernels`, and returns the bytes of `history.csv` and of the model file.
fn trained_files(args: &[&str], kernels: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!(
        "backprop-kernels-{}-{}-{kernels}",
        std::process::id(),
        args.join("-").replace('/', "_")
    ));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let model = dir.join("model.txt");
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .arg("train")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(&dir)
        .arg("--save")
        .arg(&model)
        .env("BACKPROP_KERNELS", kernels)
        .output()
        .expect("the backprop binary runs");
    assert!(
        output.status.success(),
        "train {args:?} with BACKPROP_KERNELS={kernels}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |path: PathBuf| std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let files = (read(dir.join("history.csv")), read(model));
    std::fs::remove_dir_all(&dir).ok();
    files
}

#[test]
fn naive_and_fast_kernels_write_byte_identical_files() {
    // Circles, sine and digits with their defaults (digits in batches of 32 stays below the
    // packed product), and digits on the full batch, whose products are packed, fused where the
    // processor has FMA, and shared between threads: the plain forms must reproduce all of it.
    for args in [
        &["circles"][..],
        &["sine"],
        &["digits", "--epochs", "3"],
        &["digits", "--batch-size", "0", "--epochs", "3"],
    ] {
        let (history_naive, model_naive) = trained_files(args, "naive");
        let (history_fast, model_fast) = trained_files(args, "fast");
        assert!(
            history_naive == history_fast,
            "history.csv of train {args:?}"
        );
        assert!(model_naive == model_fast, "model file of train {args:?}");
    }
}
