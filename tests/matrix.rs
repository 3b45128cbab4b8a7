//! The matrix chapter against its definitions: the products against the textbook triple loop,
//! worked by hand and on awkward shapes (1×n, n×1, 1×1, non-square, empty, sizes either side of
//! the 4/6/8/16/64/120/256 boundaries where the engine's tiles and blocks split their loops, and
//! products both below and above the sizes where a fast form takes over).
//!
//! Two kinds of comparison:
//! - entries that are small integers make every product and partial sum an exact integer in f64,
//!   so any rounding gives the same bits and the results must be *equal*;
//! - random real entries: the plain products add in the textbook's order, so they give its bits,
//!   except where the engine fuses multiply and add (`kernels::choose::fuses`); there they must
//!   agree within a rounding bound, `|C − C_textbook| ≤ 4·k·ε·(|A|·|B|)` entry by entry, the
//!   standard error bound of a length-k dot product (Higham, *Accuracy and Stability*, §3.1).
//!
//! That the engine's fast forms give the plain forms' bits is `tests/kernels.rs`.

use backprop::kernels::{self, choose::fuses};
use backprop::matrix::Matrix;
use backprop::rng::Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// `C[i,j] = Σ_p A[i,p]·B[p,j]` as three loops, each sum from −0.0 (the sum of no terms; see `matrix.rs`, "Rounding") in the order p = 0, 1, 2, …: the
/// definition, as a textbook writes it.
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

/// Sizes either side of the boundaries where a kernel splits its loops.
const SIZES: [usize; 17] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33, 64, 65, 120, 121];

/// A random matrix of small integers in −4..=4: products are exact in f64.
fn integer_matrix(rows: usize, cols: usize, rng: &mut Rng) -> Matrix {
    let data = (0..rows * cols)
        .map(|_| rng.below(9) as f64 - 4.0)
        .collect();
    Matrix::from_vec(rows, cols, data)
}

/// Shapes (n, k, m) for `(n × k)·(k × m)`: every small edge case plus random picks from `SIZES`.
fn shapes(rng: &mut Rng) -> Vec<(usize, usize, usize)> {
    let mut shapes = vec![
        (1, 1, 1),
        (1, 7, 1),  // a row times a column: one dot product
        (7, 1, 5),  // a column times a row: an outer product
        (1, 5, 9),  // 1×n result
        (9, 5, 1),  // n×1 result
        (3, 17, 2), // non-square
        (64, 64, 64),
        (65, 33, 17),
        (6, 300, 8),    // one register tile, the inner dimension past a 256 block
        (121, 257, 13), // row and inner blocks each one past a boundary
        (7, 513, 9),
        (100, 300, 70), // large enough for every fast path
        (1, 300, 1),
        (300, 1, 3),
    ];
    for _ in 0..40 {
        let pick = |rng: &mut Rng| SIZES[rng.below(SIZES.len())];
        shapes.push((pick(rng), pick(rng), pick(rng)));
    }
    shapes
}

/// `|C − C_textbook| ≤ 4·k·ε·(|A|·|B|) + tiny` entry by entry, where `|A|` is A with every entry
/// replaced by its absolute value.
fn assert_close_to_textbook(c: &Matrix, a: &Matrix, b: &Matrix, what: &str) {
    let expected = textbook(a, b);
    assert_eq!(c.shape(), expected.shape(), "{what}: shape");
    let bound = textbook(&a.map(f64::abs), &b.map(f64::abs));
    let k = a.cols() as f64;
    for e in 0..c.as_slice().len() {
        let (got, want, size) = (c.as_slice()[e], expected.as_slice()[e], bound.as_slice()[e]);
        assert!(
            (got - want).abs() <= 4.0 * k * f64::EPSILON * size + 1e-300,
            "{what} {:?}·{:?}: entry {e} is {got}, the textbook product gives {want}",
            a.shape(),
            b.shape()
        );
    }
}

/// A matrix of the wrong shape full of NaN, to prove an `_into` product resizes and overwrites.
fn stale() -> Matrix {
    Matrix::filled(3, 11, f64::NAN)
}

// ----- Products ---------------------------------------------------------------------------------

#[test]
fn products_of_small_integers_equal_the_textbook_product_exactly() {
    let mut rng = Rng::new(1);
    for (n, k, m) in shapes(&mut rng) {
        let a = integer_matrix(n, k, &mut rng); // (n, k)
        let b = integer_matrix(k, m, &mut rng); // (k, m)
        let expected = textbook(&a, &b); // (n, m)
        let at = a.transpose(); // (k, n): Aᵀ stored, so t_matmul(Aᵀ, B) = A·B
        let bt = b.transpose(); // (m, k): Bᵀ stored, so matmul_t(A, Bᵀ) = A·B
        assert_eq!(a.matmul(&b), expected, "matmul {n}×{k}·{k}×{m}");
        assert_eq!(at.t_matmul(&b), expected, "t_matmul {n}×{k}·{k}×{m}");
        assert_eq!(a.matmul_t(&bt), expected, "matmul_t {n}×{k}·{k}×{m}");

        let mut c = stale();
        a.matmul_plain(&b, &mut c);
        assert_eq!(c, expected, "matmul_plain {n}×{k}·{k}×{m}");
        let mut c = stale();
        at.t_matmul_plain(&b, &mut c);
        assert_eq!(c, expected, "t_matmul_plain {n}×{k}·{k}×{m}");
        let mut c = stale();
        a.matmul_t_plain(&bt, &mut c);
        assert_eq!(c, expected, "matmul_t_plain {n}×{k}·{k}×{m}");
    }
}

#[test]
fn products_of_random_reals_agree_with_the_textbook_product() {
    let mut rng = Rng::new(2);
    for (n, k, m) in shapes(&mut rng) {
        let a = Matrix::random_normal(n, k, 0.0, 1.0, &mut rng); // (n, k)
        let b = Matrix::random_normal(k, m, 0.0, 1.0, &mut rng); // (k, m)
        let x = Matrix::random_normal(k, n, 0.0, 1.0, &mut rng); // (k, n): Xᵀ·B is n × m
        let w = Matrix::random_normal(m, k, 0.0, 1.0, &mut rng); // (m, k): A·Wᵀ is n × m
        let (xt, wt) = (x.transpose(), w.transpose()); // (n, k), (k, m)

        assert_close_to_textbook(&a.matmul(&b), &a, &b, "matmul");
        assert_close_to_textbook(&x.t_matmul(&b), &xt, &b, "t_matmul");
        assert_close_to_textbook(&a.matmul_t(&w), &a, &wt, "matmul_t");

        // The plain forms give the textbook's bits wherever they do not fuse.
        let exact = !fuses(n, k, m);
        let (mut c, mut ct, mut ctt) = (stale(), stale(), stale());
        a.matmul_plain(&b, &mut c);
        x.t_matmul_plain(&b, &mut ct);
        a.matmul_t_plain(&w, &mut ctt);
        for (got, left, right, what) in [
            (&c, &a, &b, "matmul_plain"),
            (&ct, &xt, &b, "t_matmul_plain"),
            (&ctt, &a, &wt, "matmul_t_plain"),
        ] {
            if exact {
                assert_eq!(
                    bits(got),
                    bits(&textbook(left, right)),
                    "{what} {n}×{k}·{k}×{m}"
                );
            } else {
                assert_close_to_textbook(got, left, right, what);
            }
        }
    }
}

/// The bits of every entry, to compare two computations exactly (NaN included).
fn bits(m: &Matrix) -> Vec<u64> {
    m.as_slice().iter().map(|x| x.to_bits()).collect()
}

#[test]
fn a_product_with_one_inner_column_is_the_outer_product_bit_for_bit() {
    // A·Bᵀ with one column is C[i,j] = A[i,0]·B[j,0]: one product added to the empty sum −0.0,
    // which leaves it as it is (a −0 product stays −0, NaN stays NaN), for row counts and widths
    // either side of the blocks.
    let mut rng = Rng::new(13);
    for (n, k) in [
        (800, 10),
        (400, 20),
        (7, 5),
        (5, 1),
        (1, 9),
        (13, 17),
        (3, 0),
        (0, 3),
    ] {
        let mut a = Matrix::random_normal(n, 1, 0.0, 1.0, &mut rng); // (n, 1)
        let b = Matrix::random_normal(k, 1, 0.0, 1.0, &mut rng); // (k, 1)
        if n > 2 {
            a.set(1, 0, -0.0);
            a.set(2, 0, f64::NAN);
        }
        let c = a.matmul_t(&b);
        assert_eq!(c.shape(), (n, k));
        for i in 0..n {
            for j in 0..k {
                let want = a.get(i, 0) * b.get(j, 0);
                assert_eq!(c.get(i, j).to_bits(), want.to_bits(), "{n}×{k}: ({i}, {j})");
            }
        }
    }
}

#[test]
fn the_bias_keeps_the_sign_of_zero_and_nan() {
    // A sum of −0.0 products is −0.0 (it starts from −0.0), and the bias is added to the
    // finished sum, as the plain form's two steps do; NaN and infinities travel the same way.
    let x = Matrix::from_rows(&[
        [-0.0, 1.0],
        [f64::NAN, 0.0],
        [f64::INFINITY, 1.0],
        [0.0, -0.0],
    ]);
    for (w, b) in [
        (
            Matrix::from_rows(&[[1.0], [-0.0]]),
            Matrix::from_rows(&[[-0.0]]),
        ),
        (
            Matrix::from_rows(&[[1.0, -2.0, 0.0], [-0.0, 0.0, 3.0]]),
            Matrix::from_rows(&[[-0.0, 0.0, f64::NEG_INFINITY]]),
        ),
    ] {
        let mut two_steps = textbook(&x, &w);
        two_steps.add_row_in_place(&b);
        let mut z = stale();
        kernels::affine(&x, &w, &b, &mut z);
        assert_eq!(bits(&z), bits(&two_steps), "W {:?}", w.shape());
        assert_eq!(
            bits(&x.matmul(&w)),
            bits(&textbook(&x, &w)),
            "W {:?}",
            w.shape()
        );
    }
}

#[test]
fn the_plain_product_is_the_textbook_definition() {
    // (2 × 3)·(3 × 2), worked by hand:
    // row 0: [1 2 3]·columns [7 9 11], [8 10 12] = 7+18+33 = 58,   8+20+36 = 64
    // row 1: [4 5 6]·the same          = 28+45+66 = 139, 32+50+72 = 154
    let a = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let b = Matrix::from_rows(&[[7.0, 8.0], [9.0, 10.0], [11.0, 12.0]]);
    let expected = Matrix::from_rows(&[[58.0, 64.0], [139.0, 154.0]]);
    let mut c = stale();
    a.matmul_plain(&b, &mut c);
    assert_eq!(c, expected);
    assert_eq!(a.matmul(&b), expected);
    // Aᵀ·A and A·Aᵀ, by hand: (Aᵀ·A)[0,1] = 1·2 + 4·5 = 22, (A·Aᵀ)[0,1] = 1·4 + 2·5 + 3·6 = 32.
    a.t_matmul_plain(&a, &mut c);
    assert_eq!(
        c,
        Matrix::from_rows(&[[17.0, 22.0, 27.0], [22.0, 29.0, 36.0], [27.0, 36.0, 45.0]])
    );
    a.matmul_t_plain(&a, &mut c);
    assert_eq!(c, Matrix::from_rows(&[[14.0, 32.0], [32.0, 77.0]]));
}

#[test]
fn an_empty_inner_dimension_gives_zeros() {
    // (3 × 0)·(0 × 2): every entry is an empty sum, 0.
    let a = Matrix::zeros(3, 0);
    let b = Matrix::zeros(0, 2);
    assert_eq!(a.matmul(&b), Matrix::zeros(3, 2));
    let mut c = stale();
    a.matmul_plain(&b, &mut c);
    assert_eq!(c, Matrix::zeros(3, 2));
    assert_eq!(a.matmul_t(&Matrix::zeros(4, 0)), Matrix::zeros(3, 4));
    assert_eq!(
        Matrix::zeros(0, 3).t_matmul(&Matrix::zeros(0, 2)),
        Matrix::zeros(3, 2)
    );
}

#[test]
fn transpose_swaps_rows_and_columns_and_is_its_own_inverse() {
    let mut rng = Rng::new(3);
    for (n, m, _) in shapes(&mut rng) {
        let a = Matrix::random_uniform(n, m, -1.0, 1.0, &mut rng);
        let t = a.transpose();
        assert_eq!(t.shape(), (m, n));
        for i in 0..n {
            for j in 0..m {
                assert_eq!(t[(j, i)], a[(i, j)]);
            }
        }
        assert_eq!(t.transpose(), a);
    }
}

// ----- Constructors and access ------------------------------------------------------------------

#[test]
fn constructors_lay_out_rows_one_after_another() {
    let a = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(a.shape(), (2, 3));
    assert_eq!((a.rows(), a.cols()), (2, 3));
    assert_eq!(a.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(
        a,
        Matrix::from_vec(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    );
    assert_eq!(a[(1, 0)], 4.0);
    assert_eq!(a.get(0, 2), 3.0);
    assert_eq!(a.row(1), &[4.0, 5.0, 6.0]);

    let mut b = Matrix::zeros(2, 2);
    assert_eq!(b.as_slice(), &[0.0; 4]);
    b.set(0, 1, 7.0);
    b[(1, 0)] = -1.0;
    b.row_mut(1)[1] = 2.5;
    assert_eq!(b.as_slice(), &[0.0, 7.0, -1.0, 2.5]);
    assert_eq!(Matrix::filled(1, 3, 0.5).as_slice(), &[0.5; 3]);
}

#[test]
fn random_constructors_have_the_requested_shape_range_and_seed() {
    let u = Matrix::random_uniform(50, 40, -2.0, 3.0, &mut Rng::new(4));
    assert_eq!(u.shape(), (50, 40));
    assert!(u.as_slice().iter().all(|&x| (-2.0..3.0).contains(&x)));
    assert_eq!(
        u,
        Matrix::random_uniform(50, 40, -2.0, 3.0, &mut Rng::new(4))
    );
    let g = Matrix::random_normal(100, 100, 5.0, 2.0, &mut Rng::new(5));
    assert!((g.mean() - 5.0).abs() < 0.1, "mean {}", g.mean());
}

#[test]
fn select_rows_copy_from_and_resize() {
    let a = Matrix::from_rows(&[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    assert_eq!(
        a.select_rows(&[2, 0, 2]),
        Matrix::from_rows(&[[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]])
    );
    let mut out = stale();
    a.select_rows_into(&[1], &mut out);
    assert_eq!(out, Matrix::from_rows(&[[3.0, 4.0]]));
    let mut copy = stale();
    copy.copy_from(&a);
    assert_eq!(copy, a);
    copy.resize(2, 2);
    assert_eq!(copy.shape(), (2, 2));
}

// ----- Elementwise operations and broadcasting --------------------------------------------------

#[test]
fn elementwise_operations_work_entry_by_entry() {
    let a = Matrix::from_rows(&[[1.0, -2.0], [3.0, 0.5]]);
    let b = Matrix::from_rows(&[[4.0, 1.0], [-1.0, 2.0]]);
    assert_eq!(a.add(&b), Matrix::from_rows(&[[5.0, -1.0], [2.0, 2.5]]));
    assert_eq!(a.sub(&b), Matrix::from_rows(&[[-3.0, -3.0], [4.0, -1.5]]));
    assert_eq!(
        a.hadamard(&b),
        Matrix::from_rows(&[[4.0, -2.0], [-3.0, 1.0]])
    );
    assert_eq!(a.scale(2.0), Matrix::from_rows(&[[2.0, -4.0], [6.0, 1.0]]));
    assert_eq!(
        a.map(|x| x * x),
        Matrix::from_rows(&[[1.0, 4.0], [9.0, 0.25]])
    );
    assert_eq!(
        a.zip_map(&b, "max", f64::max),
        Matrix::from_rows(&[[4.0, 1.0], [3.0, 2.0]])
    );
    let mut c = a.clone();
    c.add_scaled(-0.5, &b); // A ← A − ½·B
    assert_eq!(c, Matrix::from_rows(&[[-1.0, -2.5], [3.5, -0.5]]));
}

#[test]
fn add_row_broadcasts_a_bias_to_every_row() {
    // Z = X·W + b: the 1 × m row b is added to each of the n rows.
    let x = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.0, 0.0, 0.0]]);
    let b = Matrix::from_rows(&[[10.0, 20.0, 30.0]]);
    let expected = Matrix::from_rows(&[[11.0, 22.0, 33.0], [14.0, 25.0, 36.0], [10.0, 20.0, 30.0]]);
    assert_eq!(x.add_row(&b), expected);
    let mut in_place = x.clone();
    in_place.add_row_in_place(&b);
    assert_eq!(in_place, expected);
    // A single column and a single row.
    let column = Matrix::from_rows(&[[1.0], [2.0]]);
    assert_eq!(
        column.add_row(&Matrix::from_rows(&[[0.5]])),
        Matrix::from_rows(&[[1.5], [2.5]])
    );
}

// ----- Reductions -------------------------------------------------------------------------------

#[test]
fn sum_rows_gives_the_column_sums() {
    // db = Σ_rows dZ.
    let a = Matrix::from_rows(&[[1.0, 2.0], [3.0, 4.0], [5.0, -6.0]]);
    assert_eq!(a.sum_rows(), Matrix::from_rows(&[[9.0, 0.0]]));
    let mut out = stale();
    a.sum_rows_into(&mut out);
    assert_eq!(out, Matrix::from_rows(&[[9.0, 0.0]]));
    let mut rng = Rng::new(6);
    let r = integer_matrix(17, 5, &mut rng);
    // Σ_rows A = 1ᵀ·A, the row of ones times A.
    assert_eq!(r.sum_rows(), textbook(&Matrix::filled(1, 17, 1.0), &r));
}

#[test]
fn argmax_rows_picks_the_largest_and_the_first_of_ties() {
    let a = Matrix::from_rows(&[
        [0.1, 0.7, 0.2],
        [0.5, 0.5, 0.0], // tie: the first
        [-3.0, -1.0, -2.0],
        [2.0, 2.0, 2.0], // all equal: the first
        [0.0, 0.0, 9.0],
    ]);
    assert_eq!(a.argmax_rows(), vec![1, 0, 1, 0, 2]);
    assert_eq!(Matrix::from_rows(&[[4.0]]).argmax_rows(), vec![0]);
}

#[test]
fn sum_mean_and_norm() {
    let a = Matrix::from_rows(&[[3.0, -4.0], [0.0, 12.0]]);
    assert_eq!(a.sum(), 11.0);
    assert_eq!(a.mean(), 2.75);
    // ‖A‖ = √(9 + 16 + 0 + 144) = √169 = 13.
    assert_eq!(a.norm_squared(), 169.0);
    assert_eq!(a.norm(), 13.0);
    assert_eq!(a.max_abs(), 12.0);
    assert!(a.is_finite());
    assert!(!Matrix::from_rows(&[[1.0, f64::NAN]]).is_finite());
    assert!(!Matrix::from_rows(&[[f64::INFINITY]]).is_finite());
    assert_eq!(Matrix::zeros(0, 3).mean(), 0.0);
    assert_eq!(Matrix::zeros(0, 3).sum(), 0.0);
    // A long vector exercises the dot product's tail (length not a multiple of 4).
    let ones = Matrix::filled(1, 4099, 1.0);
    assert_eq!(ones.norm_squared(), 4099.0);
}

// ----- Shape mismatches are bugs, and say so ----------------------------------------------------

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("a shape mismatch must panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Asserts that the panic names the operation and both shapes.
fn assert_names_both_shapes(operation: &str, first: &str, second: &str, f: impl FnOnce()) {
    let message = panic_message(f);
    for part in [operation, first, second] {
        assert!(
            message.contains(part),
            "panic message {message:?} should name {part:?}"
        );
    }
}

#[test]
#[should_panic(expected = "A is 2×3 and B is 4×5")]
fn matmul_of_mismatched_shapes_panics() {
    Matrix::zeros(2, 3).matmul(&Matrix::zeros(4, 5));
}

#[test]
#[should_panic(expected = "t_matmul (Aᵀ·B): A is 3×2 and B is 4×2")]
fn t_matmul_of_mismatched_shapes_panics() {
    Matrix::zeros(3, 2).t_matmul(&Matrix::zeros(4, 2));
}

#[test]
#[should_panic(expected = "matmul_t (A·Bᵀ): A is 2×3 and B is 2×4")]
fn matmul_t_of_mismatched_shapes_panics() {
    Matrix::zeros(2, 3).matmul_t(&Matrix::zeros(2, 4));
}

#[test]
#[should_panic(expected = "2×3 and 3×2")]
fn elementwise_of_mismatched_shapes_panics() {
    Matrix::zeros(2, 3).add(&Matrix::zeros(3, 2));
}

#[test]
fn every_shape_mismatch_names_the_operation_and_both_shapes() {
    let (a, b) = (Matrix::zeros(2, 3), Matrix::zeros(4, 5));
    assert_names_both_shapes("matmul", "2×3", "4×5", || {
        a.matmul(&b);
    });
    assert_names_both_shapes("matmul", "2×3", "4×5", || {
        a.matmul_plain(&b, &mut stale());
    });
    assert_names_both_shapes("t_matmul", "2×3", "4×5", || {
        a.t_matmul(&b);
    });
    assert_names_both_shapes("t_matmul", "2×3", "4×5", || {
        a.t_matmul_plain(&b, &mut stale());
    });
    assert_names_both_shapes("matmul_t", "2×3", "4×5", || {
        a.matmul_t(&b);
    });
    assert_names_both_shapes("matmul_t", "2×3", "4×5", || {
        a.matmul_t_plain(&b, &mut stale());
    });
    assert_names_both_shapes("affine", "2×3", "4×5", || {
        kernels::affine(&a, &b, &Matrix::zeros(1, 5), &mut stale());
    });
    assert_names_both_shapes("weight_gradients", "2×3", "4×5", || {
        kernels::weight_gradients(&a, &b, &mut stale(), &mut stale());
    });
    let c = Matrix::zeros(3, 2);
    assert_names_both_shapes("sub", "2×3", "3×2", || {
        a.sub(&c);
    });
    assert_names_both_shapes("hadamard", "2×3", "3×2", || {
        a.hadamard(&c);
    });
    assert_names_both_shapes("add_scaled", "2×3", "3×2", || {
        a.clone().add_scaled(1.0, &c);
    });
    assert_names_both_shapes("add_row", "1×2", "2×3", || {
        a.add_row(&Matrix::zeros(1, 2));
    });
    assert_names_both_shapes("add_row", "2×3", "2×3", || {
        a.add_row(&a);
    });
}

#[test]
#[should_panic(expected = "5 numbers cannot fill a 2×3 matrix")]
fn from_vec_with_the_wrong_length_panics() {
    Matrix::from_vec(2, 3, vec![0.0; 5]);
}

#[test]
#[should_panic(expected = "row 1 has 2 numbers but row 0 has 3")]
fn from_rows_of_unequal_lengths_panics() {
    Matrix::from_rows(&[vec![1.0, 2.0, 3.0], vec![4.0, 5.0]]);
}
