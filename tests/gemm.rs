//! The packed product of `kernels/gemm/` against the oracle, the textbook triple loop, on awkward
//! shapes.
//!
//! The shapes include single rows and columns (1×n, n×1), non-square products, empty sums, and
//! sizes that are not multiples of the register tiles (4×4 and 6×8) or of the cache blocks
//! (KC = 256, MC = 120), so that every edge of `kernels/gemm/` is crossed.
//!
//! Products without fused multiply-adds add the same products in the same order as the oracle,
//! so they must agree **bit for bit**; the FMA kernel rounds once per step instead of twice, so it
//! must agree within a bound on the rounding: `|Δ| ≤ 4·k·ε·Σ_p |A[i,p]|·|B[p,j]|`.

use backprop::kernels::choose::fuses;
use backprop::kernels::gemm::{self, Kernel, View};
use backprop::kernels::threads;
use backprop::matrix::Matrix;
use backprop::rng::Rng;

/// (rows of A, shared dimension, columns of B).
const SHAPES: [(usize, usize, usize); 22] = [
    (1, 1, 1),
    (1, 7, 1),
    (1, 300, 1),
    (1, 37, 53),
    (53, 37, 1),
    (4, 2, 3),
    (5, 1, 9),
    (9, 1, 5),
    (6, 8, 8),
    (7, 9, 17),
    (13, 5, 3),
    (31, 64, 10),
    (64, 64, 64),
    (65, 63, 67),
    (121, 17, 9),
    (800, 2, 10),
    (800, 10, 1),
    (10, 800, 1),
    (130, 257, 21),
    (241, 300, 33),
    (3, 513, 4100),
    (0, 5, 3),
];

/// `C[i,j] = Σ_p A[i,p]·B[p,j]`, the definition as three loops, each sum from −0.0 (the sum of no terms; see `matrix.rs`, "Rounding") in the order
/// p = 0, 1, 2, …, one rounding for the product and one for the sum: the oracle.
fn textbook(a: &Matrix, b: &Matrix) -> Matrix {
    let mut c = Matrix::zeros(a.rows(), b.cols());
    for i in 0..a.rows() {
        for j in 0..b.cols() {
            let mut sum = -0.0;
            for p in 0..a.cols() {
                sum += a[(i, p)] * b[(p, j)];
            }
            c[(i, j)] = sum;
        }
    }
    c
}

fn random(rows: usize, cols: usize, seed: u64) -> Matrix {
    Matrix::random_uniform(rows, cols, -1.0, 1.0, &mut Rng::new(seed))
}

/// `Σ_p |A[i,p]|·|B[p,j]|` for each entry: the scale of the rounding error of `C[i,j]`.
fn magnitudes(a: &Matrix, b: &Matrix) -> Matrix {
    textbook(&a.map(f64::abs), &b.map(f64::abs))
}

fn assert_close(got: &Matrix, want: &Matrix, scale: &Matrix, k: usize, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes differ");
    let bound = 4.0 * (k.max(1) as f64) * f64::EPSILON;
    for ((g, w), s) in got
        .as_slice()
        .iter()
        .zip(want.as_slice())
        .zip(scale.as_slice())
    {
        assert!(
            (g - w).abs() <= bound * s,
            "{what}: {g} and {w} differ by more than rounding allows ({})",
            bound * s
        );
    }
}

fn assert_same_bits(got: &Matrix, want: &Matrix, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes differ");
    for (i, (g, w)) in got.as_slice().iter().zip(want.as_slice()).enumerate() {
        assert_eq!(
            g.to_bits(),
            w.to_bits(),
            "{what}: entry {i} is {g}, the oracle {w}"
        );
    }
}

#[test]
fn every_kernel_matches_the_oracle_on_awkward_shapes() {
    for (s, &(n, k, m)) in SHAPES.iter().enumerate() {
        let a = random(n, k, 2 * s as u64);
        let b = random(k, m, 2 * s as u64 + 1);
        let want = textbook(&a, &b);
        let scale = magnitudes(&a, &b);
        for kernel in Kernel::available() {
            let mut c = Matrix::filled(n, m, f64::NAN);
            gemm::gemm_with(kernel, View::of(&a), View::of(&b), c.as_mut_slice());
            let what = format!("{} kernel, {n}×{k}·{k}×{m}", kernel.name());
            if kernel.fused() {
                assert_close(&c, &want, &scale, k, &what);
            } else {
                assert_same_bits(&c, &want, &what);
            }
        }
    }
}

#[test]
fn the_plain_and_the_default_products_match_the_oracle() {
    // The plain i-p-j loop gives the oracle's bits, except where the engine fuses multiply and
    // add (`choose::fuses`), where it uses `mul_add` too and agrees within rounding; the default
    // product gives the plain loop's bits everywhere.
    for (s, &(n, k, m)) in SHAPES.iter().enumerate() {
        let a = random(n, k, 100 + s as u64);
        let b = random(k, m, 200 + s as u64);
        let want = textbook(&a, &b);
        let mut plain = Matrix::filled(3, 3, f64::NAN);
        a.matmul_plain(&b, &mut plain);
        let what = format!("{n}×{k}·{k}×{m}");
        if fuses(n, k, m) {
            assert_close(
                &plain,
                &want,
                &magnitudes(&a, &b),
                k,
                &format!("plain {what}"),
            );
        } else {
            assert_same_bits(&plain, &want, &format!("plain {what}"));
        }
        assert_same_bits(&a.matmul(&b), &plain, &format!("matmul {what}"));
    }
}

#[test]
fn transposed_products_match_the_oracle_on_the_transpose() {
    for (s, &(n, k, m)) in SHAPES.iter().enumerate() {
        // t_matmul: Aᵀ·B with A stored as k × n, so Aᵀ is n × k.
        let a = random(k, n, 300 + s as u64);
        let b = random(k, m, 400 + s as u64);
        let want = textbook(&a.transpose(), &b);
        let scale = magnitudes(&a.transpose(), &b);
        let what = format!("t_matmul ({k}×{n})ᵀ·{k}×{m}");
        let got = a.t_matmul(&b);
        if fuses(n, k, m) {
            assert_close(&got, &want, &scale, k, &what);
        } else {
            assert_same_bits(&got, &want, &what);
        }
        // matmul_t: A·Bᵀ with B stored as m×k, summed in the order p = 0, 1, … as well.
        let a = random(n, k, 500 + s as u64);
        let b = random(m, k, 600 + s as u64);
        let want = textbook(&a, &b.transpose());
        let scale = magnitudes(&a, &b.transpose());
        let what = format!("matmul_t {n}×{k}·({m}×{k})ᵀ");
        let got = a.matmul_t(&b);
        if fuses(n, k, m) {
            assert_close(&got, &want, &scale, k, &what);
        } else {
            assert_same_bits(&got, &want, &what);
        }
        // Every kernel on the strided views that the transposed products use.
        for kernel in Kernel::available() {
            let mut c = Matrix::zeros(n, m);
            gemm::gemm_with(kernel, View::of(&a), View::of(&b).t(), c.as_mut_slice());
            let what = format!("{} kernel on A·Bᵀ, {n}×{k}·({m}×{k})ᵀ", kernel.name());
            if kernel.fused() {
                assert_close(&c, &want, &scale, k, &what);
            } else {
                assert_same_bits(&c, &want, &what);
            }
        }
    }
}

#[test]
fn a_strided_view_reads_the_transpose() {
    let a = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let at = View::of(&a).t();
    assert_eq!((at.rows, at.cols), (3, 2));
    let mut c = Matrix::zeros(3, 3);
    // Aᵀ·A for A = [[1,2,3],[4,5,6]]: entry (i, j) is Σ_r A[r,i]·A[r,j].
    gemm::gemm_with(
        Kernel::Portable,
        at,
        View::row_major(a.as_slice(), 2, 3),
        c.as_mut_slice(),
    );
    let want = Matrix::from_rows(&[[17.0, 22.0, 27.0], [22.0, 29.0, 36.0], [27.0, 36.0, 45.0]]);
    assert_same_bits(&c, &want, "Aᵀ·A");
}

#[test]
fn the_kernel_choice_keeps_small_products_free_of_fma() {
    // The demo's 4×2·2×3 and the circles and sine networks' products stay below the threshold.
    for (n, k, m) in [
        (4, 2, 3),
        (800, 2, 10),
        (800, 10, 1),
        (500, 20, 20),
        (20, 500, 20),
    ] {
        assert_ne!(
            Kernel::for_size(n, k, m),
            Kernel::Avx2Fma,
            "{n}×{k}·{k}×{m}"
        );
    }
    assert!(Kernel::available().contains(&Kernel::for_size(1797, 64, 128)));
}

#[test]
#[should_panic(expected = "gemm: A is 2×3, B is 4×2")]
fn a_shape_mismatch_names_both_shapes() {
    let a = Matrix::zeros(2, 3);
    let b = Matrix::zeros(4, 2);
    let mut c = Matrix::zeros(2, 2);
    gemm::gemm_with(
        Kernel::Portable,
        View::of(&a),
        View::of(&b),
        c.as_mut_slice(),
    );
}

/// Shapes for the threaded products: the digits network's (1797 rows; 64 → 128 → 64 → 10), and
/// small or ragged ones whose rows (or, with more columns than rows, columns) do not split evenly
/// into register strips.
const THREADED_SHAPES: [(usize, usize, usize); 14] = [
    (1797, 64, 128),
    (1797, 128, 64),
    (1797, 64, 10),
    (64, 1797, 10),  // dW³ = A²ᵀ·dZ³: computed transposed, dZ³ᵀ·A²
    (64, 1797, 128), // dW¹ = Xᵀ·dZ¹: more columns than rows, cut by columns
    (10, 300, 47),
    (3, 20, 130),
    (1, 7, 9),
    (13, 5, 3),
    (25, 300, 17),
    (37, 1, 40),
    (130, 257, 21),
    (241, 300, 33),
    (0, 4, 4),
];

#[test]
fn threaded_products_give_the_serial_bits() {
    for (s, &(n, k, m)) in THREADED_SHAPES.iter().enumerate() {
        // A·B, and the two transposed forms of backward: Aᵀ·B (dW = Xᵀ·dZ, with the rows of the
        // data as the sum) and A·Bᵀ (dX = dZ·Wᵀ), read through strided views.
        let a = random(n, k, 700 + s as u64);
        let b = random(k, m, 800 + s as u64);
        let a_stored_t = a.transpose();
        let b_stored_t = b.transpose();
        let forms = [
            ("A·B", View::of(&a), View::of(&b)),
            ("Aᵀ·B", View::of(&a_stored_t).t(), View::of(&b)),
            ("A·Bᵀ", View::of(&a), View::of(&b_stored_t).t()),
        ];
        for kernel in Kernel::available() {
            for (form, a_view, b_view) in forms {
                let mut serial = Matrix::filled(n, m, f64::NAN);
                gemm::gemm_with(kernel, a_view, b_view, serial.as_mut_slice());
                for threads in [2, 3, 4, 7] {
                    let mut threaded = Matrix::filled(n, m, f64::NAN);
                    gemm::gemm_threaded(kernel, threads, a_view, b_view, threaded.as_mut_slice());
                    let what = format!(
                        "{} kernel, {form}, {n}×{k}·{k}×{m} on {threads} threads",
                        kernel.name()
                    );
                    assert_same_bits(&threaded, &serial, &what);
                }
            }
        }
    }
}

#[test]
fn gemm_map_finishes_every_row_once_with_its_own_rows_of_d() {
    // `finish` doubles each entry of C and writes C + (its index in C) into D, so an entry
    // finished twice, or a row of D paired with the wrong rows of C, shows.
    for (s, &(n, k, m)) in THREADED_SHAPES.iter().enumerate() {
        let a = random(n, k, 1000 + s as u64);
        let b = random(k, m, 1100 + s as u64);
        let product = a.matmul(&b); // (n, m)
        let finish = |first_row: usize, c_rows: &mut [f64], d_rows: &mut [f64]| {
            for (i, (c, d)) in c_rows.iter_mut().zip(d_rows.iter_mut()).enumerate() {
                *d = *c + (first_row * m + i) as f64;
                *c *= 2.0;
            }
        };
        for threads in [1, 2, 3] {
            let mut c = Matrix::filled(n, m, f64::NAN);
            let mut d = Matrix::filled(n, m, f64::NAN);
            threads::with_threads(threads, || {
                gemm::gemm_map(
                    View::of(&a),
                    View::of(&b),
                    c.as_mut_slice(),
                    d.as_mut_slice(),
                    &finish,
                )
            });
            let what = format!("{n}×{k}·{k}×{m} on {threads} threads");
            assert_same_bits(&c, &product.map(|x| x * 2.0), &format!("C of {what}"));
            let indices = Matrix::from_vec(n, m, (0..n * m).map(|i| i as f64).collect());
            assert_same_bits(&d, &product.add(&indices), &format!("D of {what}"));
        }
    }
}

#[test]
fn the_default_product_gives_the_same_bits_on_any_number_of_threads() {
    let a = random(1797, 64, 900);
    let b = random(64, 128, 901);
    let one = threads::with_threads(1, || a.matmul(&b));
    for threads in [2, 3, 5] {
        let many = threads::with_threads(threads, || a.matmul(&b));
        assert_same_bits(&many, &one, &format!("matmul on {threads} threads"));
    }
}

#[test]
fn products_started_on_several_threads_at_once_are_each_right() {
    // Only one product at a time can use the helper threads; the others run on their own
    // thread. Either way each gives the serial bits.
    let a = random(300, 70, 910);
    let b = random(70, 90, 911);
    let kernel = Kernel::for_size(300, 70, 90);
    let mut want = Matrix::zeros(300, 90);
    gemm::gemm_with(kernel, View::of(&a), View::of(&b), want.as_mut_slice());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..20 {
                    let mut c = Matrix::filled(300, 90, f64::NAN);
                    gemm::gemm_threaded(kernel, 2, View::of(&a), View::of(&b), c.as_mut_slice());
                    assert_same_bits(&c, &want, "a product among several at once");
                }
            });
        }
    });
}

#[test]
fn the_fused_kernels_give_one_another_s_bits() {
    // AVX2 with FMA (a 6 × 8 tile) and AVX-512 (a 12 × 8 or 6 × 16 tile, by shape) compute each
    // entry by the same FMAs in the same order, so they agree bit for bit, narrow or wide.
    let fused: Vec<Kernel> = Kernel::available()
        .into_iter()
        .filter(Kernel::fused)
        .collect();
    for (s, &(n, k, m)) in THREADED_SHAPES.iter().chain(&SHAPES).enumerate() {
        let a = random(n, k, 1000 + s as u64);
        let b = random(k, m, 1100 + s as u64);
        let results: Vec<Matrix> = fused
            .iter()
            .map(|&kernel| {
                let mut c = Matrix::filled(n, m, f64::NAN);
                gemm::gemm_with(kernel, View::of(&a), View::of(&b), c.as_mut_slice());
                c
            })
            .collect();
        for (kernel, c) in fused.iter().zip(&results).skip(1) {
            let what = format!("{} and {}, {n}×{k}·{k}×{m}", kernel.name(), fused[0].name());
            assert_same_bits(c, &results[0], &what);
        }
    }
}

#[test]
fn column_sums_ride_along_with_the_bits_of_the_product_and_of_sum_rows() {
    // The dense layer's dW = Xᵀ·dZ with db = Σ_rows dZ: digits' three layers, shapes with edge
    // strips and several slices of the sum, a thin product, and a transposed B (no fusion).
    let shapes = [
        (64, 1797, 128),
        (128, 1797, 64),
        (64, 1797, 10),
        (65, 600, 33),
        (7, 300, 70),
        (40, 3, 2),
        (0, 5, 3),
    ];
    for (m, k, n) in shapes {
        let x = random(k, m, 21);
        let dz = random(k, n, 22);
        let dz_t = dz.transpose();
        let mut want_c = vec![0.0; m * n];
        gemm::gemm(View::of(&x).t(), View::of(&dz), &mut want_c);
        let mut want_sums = Matrix::zeros(0, 0);
        dz.sum_rows_into(&mut want_sums);
        let want = (Matrix::from_vec(m, n, want_c), want_sums);
        for threads in [1, 2, 3] {
            for b in [View::of(&dz), View::of(&dz_t).t()] {
                let (mut c, mut sums) = (vec![f64::NAN; m * n], vec![f64::NAN; n]);
                threads::with_threads(threads, || {
                    gemm::gemm_column_sums(View::of(&x).t(), b, &mut c, &mut sums)
                });
                let what = format!(
                    "{m}×{k}·{k}×{n}, {threads} threads, B strides {:?}",
                    (b.row_stride, b.col_stride)
                );
                assert_same_bits(&Matrix::from_vec(m, n, c), &want.0, &what);
                assert_same_bits(&Matrix::from_vec(1, n, sums), &want.1, &what);
            }
        }
    }
}

#[test]
fn run_both_returns_both_results_in_their_places_on_any_number_of_threads() {
    let a = random(1797, 10, 31);
    let sum = |m: &Matrix| m.as_slice().iter().fold(0.0, |s, &x| s + x);
    let max = |m: &Matrix| m.as_slice().iter().fold(f64::MIN, |s, &x| s.max(x));
    let want = (sum(&a), max(&a));
    for threads in [1, 2, 3] {
        for size in [0, backprop::kernels::choose::JOIN_THRESHOLD] {
            let got =
                threads::with_threads(threads, || threads::run_both(size, || sum(&a), || max(&a)));
            assert_eq!(
                got.0.to_bits(),
                want.0.to_bits(),
                "{threads} threads, size {size}"
            );
            assert_eq!(
                got.1.to_bits(),
                want.1.to_bits(),
                "{threads} threads, size {size}"
            );
        }
    }
}

/// Large products and a second `run_both` inside `run_both`'s closures: a helper thread that runs one
/// of them must not post pooled work and then wait for itself to finish (it runs that work
/// alone). Repeated, so that the helper takes each closure in some round.
#[test]
fn pooled_work_inside_run_both_runs_and_gives_the_serial_bits() {
    let (a, b) = (random(128, 128, 41), random(128, 128, 42));
    let want = threads::with_threads(1, || a.matmul(&b));
    let size = backprop::kernels::choose::JOIN_THRESHOLD;
    for round in 0..40 {
        let (first, (second, third)) = threads::with_threads(2, || {
            threads::run_both(
                size,
                || a.matmul(&b),
                || threads::run_both(size, || a.matmul(&b), || a.matmul(&b)),
            )
        });
        for (got, which) in [(first, "first"), (second, "second"), (third, "third")] {
            assert_same_bits(&got, &want, &format!("round {round}, {which} product"));
        }
    }
}
