//! # Appendix: the engine room
//!
//! The chapters state each operation as its formula reads; the heavy loops they need are the
//! **named operations** below. Each has a plain definition, a few obvious lines that run with
//! `BACKPROP_KERNELS=naive` and that the tests hold everything else to, and fast forms that give
//! the same bits in less time. Read this part last: nothing in it changes a number.
//!
//! ```text
//! named operation   formula                            shapes                   plain form
//! matmul            C = A·B                            (n×k)·(k×m) → n×m        Matrix::matmul_plain
//! t_matmul          C = Aᵀ·B                           (n×k)ᵀ·(n×m) → k×m       Matrix::t_matmul_plain
//! matmul_t          C = A·Bᵀ                           (n×m)·(k×m)ᵀ → n×k       Matrix::matmul_t_plain
//! affine            Z = X·W + b                        (n×k)·(k×m) + 1×m → n×m  matmul, then add_row_in_place
//! affine_then       Z = X·W + b, A = f(Z)              as affine; A like Z      affine, then f on every entry
//! weight_gradients  dW = Xᵀ·dZ, db = Σ_rows dZ         k×m and 1×m              t_matmul, then sum_rows_into
//! matmul_t_then     dA = dZ·Wᵀ, dZ_below = dA ⊙ f′(Z)  n×k, twice               matmul_t, then f′ on every entry
//! map               a = f(z), entry by entry           any length               one loop
//! times_derivative  dz = da ⊙ f′(z, a)                 any length               one loop
//! softmax_rows      s = e^(z − max) / Σ e^(z − max)    n×k, row by row          activation::softmax_row per row
//! sum_of_terms      Σᵢ term(pᵢ, tᵢ), in order          any length               one loop
//! update            W ← W − ΔW, and ‖ΔW‖               any length               one loop
//! run_both          (a(), b())                         two independent passes   a, then b
//! ```
//!
//! The three operations that join two steps are each an equation of the book (`affine_then` is
//! a layer with its activation, `weight_gradients` is BP3 and BP4 together, `matmul_t_then` is
//! Nielsen's BP2): computing both halves in one pass saves reading a whole matrix back from
//! memory.
//!
//! # The fast forms, file by file
//!
//! ```text
//! choose.rs        the switch (BACKPROP_KERNELS) and the sizes from which each fast form pays
//! tiles.rs         small products in register tiles, read where they lie
//! gemm/            the blocked, packed product: its five loops (mod.rs), packing (pack.rs) and
//!                  register-tile kernels per instruction set (microkernel.rs)
//! elementwise.rs   the entry-by-entry passes arranged for vector lanes
//! simd.rs          running a loop compiled for the widest vectors the processor has
//! threads.rs       helper threads: a large product's blocks, run_both, parallel.rs's shards
//! math.rs          the crate's own exp, ln and tanh, with the same bits on every machine
//! ```
//!
//! `unsafe` appears in four of them only: `simd.rs` runs a loop compiled for wider vectors,
//! `gemm/microkernel.rs` defines the kernels compiled for them and `gemm/mod.rs` calls those,
//! each after checking that the processor has the instructions; and `threads.rs` lends a
//! borrowed closure to the helper threads for no longer than the call.
//!
//! # The same bits
//!
//! A fast form may change which numbers are computed side by side, never how any one of them is
//! computed: every sum is added in the plain form's order, from the same start (−0.0 for a
//! product, see `matrix.rs`), with the same roundings. The
//! one rounding that differs between machines is the fused multiply-add (`a·b + c` rounded
//! once), which the packed product uses for large products where the processor has it
//! ([`choose::fuses`]); the plain products then use `f64::mul_add` at the same places. So
//! `BACKPROP_KERNELS=naive` and the default give byte-identical results at every size
//! (`tests/kernels.rs`), and small networks (the demo, XOR, circles, sine) give the same bits on
//! every x86-64 machine.

pub mod choose;
mod elementwise;
pub mod gemm;
pub mod math;
pub mod simd;
pub mod threads;
mod tiles;

pub use choose::{kernels, set_kernels, with_kernels, Kernels};
pub use threads::run_both;

use crate::matrix::Matrix;
use choose::{naive, packing_pays};
use gemm::View;
use std::ops::Range;

/// Rows per block for the passes that apply an activation (or its derivative) to the rows of a
/// product while they are still in the nearest cache: 64 rows of 20 numbers are 10 KiB of the
/// 32 or 48 KiB of a first-level data cache, beside the operands of the product.
pub const ROWS_PER_BLOCK: usize = 64;

/// `C ← A·B` for `A` (n × k) and `B` (k × m): `C` becomes n × m.
///
/// Plain form: [`Matrix::matmul_plain`], the i-p-j loop. Fast forms: one column of `B` is a
/// matrix-vector product (four rows of `A` at a time); small products are summed in register
/// tiles (`tiles.rs`); from [`choose::FMA_THRESHOLD`] multiply-adds on, the packed product of
/// `gemm/`, on several threads when large.
///
/// # Panics
/// If `A.cols ≠ B.rows`.
pub fn matmul(a: &Matrix, b: &Matrix, c: &mut Matrix) {
    if naive() {
        return a.matmul_plain(b, c);
    }
    a.assert_inner(b, "matmul");
    let (n, k, m) = (a.rows(), a.cols(), b.cols());
    c.resize(n, m);
    if m == 1 {
        tiles::column_product(a.as_slice(), k, b.as_slice(), -0.0, c.as_mut_slice());
    } else if packing_pays(n, k, m) {
        gemm::gemm(View::of(a), View::of(b), c.as_mut_slice());
    } else {
        tiles::product(a.as_slice(), k, b.as_slice(), m, None, c.as_mut_slice());
    }
}

/// `C ← Aᵀ·B` for `A` (n × k) and `B` (n × m), without building `Aᵀ`: `C` becomes k × m.
///
/// Plain form: [`Matrix::t_matmul_plain`], a sum over the samples r = 0, 1, … of outer products
/// of their rows. Fast forms: one column of `B`, four samples per pass; small products in
/// register tiles; large ones packed (`gemm/` reads `Aᵀ` through swapped strides).
///
/// # Panics
/// If `A` and `B` have different numbers of rows.
pub fn t_matmul(a: &Matrix, b: &Matrix, c: &mut Matrix) {
    if naive() {
        return a.t_matmul_plain(b, c);
    }
    a.assert_same_rows(b, "t_matmul");
    let (n, k, m) = (a.rows(), a.cols(), b.cols());
    c.resize(k, m);
    let (a_data, b_data) = (a.as_slice(), b.as_slice());
    if m == 1 {
        tiles::transposed_column(a_data, k, b_data, c.as_mut_slice());
    } else if packing_pays(k, n, m) {
        gemm::gemm(View::of(a).t(), View::of(b), c.as_mut_slice());
    } else {
        tiles::transposed_product(a_data, k, b_data, m, c.as_mut_slice(), None);
    }
}

/// `C ← A·Bᵀ` for `A` (n × m) and `B` (k × m), without building `Bᵀ`: `C` becomes n × k.
///
/// Plain form: [`Matrix::matmul_t_plain`], `C[i,j] = Σ_p A[i,p]·B[j,p]` in the order p = 0, 1, ….
/// Fast forms: one column is an outer product; small products in register tiles, on a copy of
/// `Bᵀ`; large ones packed.
///
/// # Panics
/// If `A` and `B` have different numbers of columns.
pub fn matmul_t(a: &Matrix, b: &Matrix, c: &mut Matrix) {
    if naive() {
        return a.matmul_t_plain(b, c);
    }
    matmul_t_finish(a, b, c, &mut [], |_, _, _| {});
}

/// `Z ← X·W + b` for `X` (n × k), `W` (k × m) and `b` (1 × m), the bias added to every row:
/// the dense layer's forward pass. `Z` becomes n × m.
///
/// Plain form: [`matmul`]'s, then [`Matrix::add_row_in_place`]. The fast forms add `b[j]` to
/// each finished sum before it is stored: the same two roundings in the same order, one pass
/// over `Z` fewer.
///
/// # Panics
/// If `X.cols ≠ W.rows` or `b` is not 1 × `W.cols`.
pub fn affine(x: &Matrix, w: &Matrix, b: &Matrix, z: &mut Matrix) {
    assert_bias(w, b);
    if naive() {
        x.matmul_plain(w, z);
        return z.add_row_in_place(b);
    }
    x.assert_inner(w, "affine (X·W + b)");
    let (n, k, m) = (x.rows(), x.cols(), w.cols());
    z.resize(n, m);
    let (bias, z_data) = (b.as_slice(), z.as_mut_slice());
    if m == 1 {
        tiles::column_product(x.as_slice(), k, w.as_slice(), bias[0], z_data);
    } else if packing_pays(n, k, m) {
        // The bias is added to each block of rows of Z as soon as it is finished, by the thread
        // that computed it.
        let add_bias = |_: usize, z_rows: &mut [f64], _: &mut [f64]| tiles::add_row(z_rows, bias);
        gemm::gemm_map(View::of(x), View::of(w), z_data, &mut [], &add_bias);
    } else {
        tiles::product(x.as_slice(), k, w.as_slice(), m, Some(bias), z_data);
    }
}

/// `Z ← X·W + b` and then `A ← f(Z)`, where `apply(z, a)` computes `a[i] = f(z[i])` on matching
/// runs of `Z`'s and `A`'s entries: a dense layer and the entry-by-entry activation after it,
/// `A = f(X·W + b)`. `Z` and `A` become n × m.
///
/// Plain form: [`affine`]'s, then `apply` on all of `Z`. The fast forms apply `f` to each block
/// of [`ROWS_PER_BLOCK`] rows (or each block the packed product finishes, on the thread that
/// computed it) while the block is still in the nearest cache, instead of reading all of `Z`
/// back from memory: each entry is the same sum, and `f` is applied to it alone.
///
/// # Panics
/// As [`affine`].
pub fn affine_then(
    x: &Matrix,
    w: &Matrix,
    b: &Matrix,
    (z, a): (&mut Matrix, &mut Matrix),
    apply: impl Fn(&[f64], &mut [f64]) + Sync,
) {
    let (n, k, m) = (x.rows(), x.cols(), w.cols());
    if naive() || m <= 1 || k == 0 {
        affine(x, w, b, z);
        a.resize(n, m);
        return apply(z.as_slice(), a.as_mut_slice());
    }
    assert_bias(w, b);
    x.assert_inner(w, "affine (X·W + b)");
    z.resize(n, m);
    a.resize(n, m);
    let bias = b.as_slice();
    if packing_pays(n, k, m) {
        let finish = |_: usize, z_rows: &mut [f64], a_rows: &mut [f64]| {
            tiles::add_row(z_rows, bias);
            apply(z_rows, a_rows);
        };
        let (z_data, a_data) = (z.as_mut_slice(), a.as_mut_slice());
        return gemm::gemm_map(View::of(x), View::of(w), z_data, a_data, &finish);
    }
    let x_blocks = x.as_slice().chunks(ROWS_PER_BLOCK * k);
    let z_blocks = z.as_mut_slice().chunks_mut(ROWS_PER_BLOCK * m);
    for ((x_rows, z_rows), a_rows) in x_blocks
        .zip(z_blocks)
        .zip(a.as_mut_slice().chunks_mut(ROWS_PER_BLOCK * m))
    {
        tiles::product(x_rows, k, w.as_slice(), m, Some(bias), z_rows);
        apply(z_rows, a_rows);
    }
}

/// `dW ← Xᵀ·dZ` and `db ← Σ_rows dZ` for `X` (n × k) and `dZ` (n × m): the dense layer's
/// weight gradients (BP4 and BP3). `dW` becomes k × m, `db` 1 × m.
///
/// Plain form: [`t_matmul`]'s, then [`Matrix::sum_rows_into`]. Both sum over the samples in the
/// order r = 0, 1, 2, …, so the fast forms add the column sums of `dZ` in the pass that forms
/// `dW` (in a register tile, or while the packed product copies `dZ` into its strips), and `dZ`
/// is read once instead of twice.
///
/// # Panics
/// If `X` and `dZ` have different numbers of rows.
pub fn weight_gradients(x: &Matrix, dz: &Matrix, dw: &mut Matrix, db: &mut Matrix) {
    if naive() {
        x.t_matmul_plain(dz, dw);
        return dz.sum_rows_into(db);
    }
    x.assert_same_rows(dz, "weight_gradients");
    let (n, k, m) = (x.rows(), x.cols(), dz.cols());
    dw.resize(k, m);
    if k == 0 {
        return dz.sum_rows_into(db);
    }
    db.resize(1, m);
    let (x_data, dz_data) = (x.as_slice(), dz.as_slice());
    if m == 1 {
        db.as_mut_slice()[0] = tiles::transposed_column(x_data, k, dz_data, dw.as_mut_slice());
    } else if packing_pays(k, n, m) {
        let sums = db.as_mut_slice();
        gemm::gemm_column_sums(View::of(x).t(), View::of(dz), dw.as_mut_slice(), sums);
    } else {
        let sums = Some(db.as_mut_slice());
        tiles::transposed_product(x_data, k, dz_data, m, dw.as_mut_slice(), sums);
    }
}

/// `C ← A·Bᵀ`, then `apply(entries, c, d)` on each block of finished rows of `C` (the range of
/// their entries in `C`, their numbers, and the same entries of `D`, which takes `C`'s shape):
/// the dense layer's backward `dA = dZ·Wᵀ` followed by the activation's `dZ_below = dA ⊙ f′(Z)`
/// one layer down, written into `D`. That is Nielsen's BP2, `δˡ = ((wˡ⁺¹)ᵀ·δˡ⁺¹) ⊙ σ′(zˡ)`.
///
/// Plain form: [`matmul_t`]'s, then `apply` on all of `C`. The fast forms call it on blocks of
/// [`ROWS_PER_BLOCK`] rows (or the blocks the packed product finishes, on the thread that
/// computed each) while they are still in the nearest cache. Which loop forms the product is
/// chosen from the shape of the whole product, so each entry has the bits `matmul_t` gives it.
///
/// # Panics
/// If `A` and `B` have different numbers of columns.
pub fn matmul_t_then(
    a: &Matrix,
    b: &Matrix,
    (c, d): (&mut Matrix, &mut Matrix),
    apply: impl Fn(Range<usize>, &mut [f64], &mut [f64]) + Sync,
) {
    let (n, k) = (a.rows(), b.rows());
    if naive() {
        a.matmul_t_plain(b, c);
        d.resize(n, k);
        return apply(0..n * k, c.as_mut_slice(), d.as_mut_slice());
    }
    d.resize(n, k);
    matmul_t_finish(a, b, c, d.as_mut_slice(), apply);
}

/// The fast forms of [`matmul_t`] and [`matmul_t_then`]; `d` is empty for the first.
fn matmul_t_finish(
    a: &Matrix,
    b: &Matrix,
    c: &mut Matrix,
    d: &mut [f64],
    apply: impl Fn(Range<usize>, &mut [f64], &mut [f64]) + Sync,
) {
    a.assert_same_cols(b, "matmul_t");
    let (n, m, k) = (a.rows(), a.cols(), b.rows());
    c.resize(n, k);
    if k == 0 || m == 0 {
        c.as_mut_slice().fill(-0.0); // empty sums
        return apply(0..n * k, c.as_mut_slice(), d);
    }
    if packing_pays(n, m, k) {
        let finish = |first_row: usize, c_rows: &mut [f64], d_rows: &mut [f64]| {
            apply(first_row * k..first_row * k + c_rows.len(), c_rows, d_rows)
        };
        return gemm::gemm_map(View::of(a), View::of(b).t(), c.as_mut_slice(), d, &finish);
    }
    TRANSPOSED.with(|transposed| {
        // Bᵀ is m × k. With one column, B (k × 1) is already Bᵀ (1 × k): the same numbers in the
        // same order.
        let b_t = &mut *transposed.borrow_mut();
        let b_t = if m > 1 {
            b.transpose_into(b_t);
            b_t.as_slice()
        } else {
            b.as_slice()
        };
        let blocks = a
            .as_slice()
            .chunks(ROWS_PER_BLOCK * m)
            .zip(c.as_mut_slice().chunks_mut(ROWS_PER_BLOCK * k));
        let mut first = 0;
        for (a_rows, c_rows) in blocks {
            tiles::product(a_rows, m, b_t, k, None, c_rows);
            let entries = first..first + c_rows.len();
            let d_rows = match d.is_empty() {
                true => &mut [],
                false => &mut d[entries.clone()],
            };
            apply(entries, c_rows, d_rows);
            first += c_rows.len();
        }
    });
}

thread_local! {
    /// The copy of `Bᵀ` that [`matmul_t_then`] gives the register tiles, kept between calls so
    /// that training allocates it once.
    static TRANSPOSED: std::cell::RefCell<Matrix> =
        std::cell::RefCell::new(Matrix::zeros(0, 0));
}

/// `a[i] ← f(z[i])` for every entry of two runs of the same length: an entry-by-entry function
/// such as an activation. Plain form: the loop. Fast form: the same loop compiled for the widest
/// vectors (`simd.rs`).
///
/// # Panics
/// If the lengths differ.
#[inline(always)]
pub fn map(z: &[f64], a: &mut [f64], f: impl Fn(f64) -> f64 + Copy) {
    assert_eq!(
        z.len(),
        a.len(),
        "map: {} entries into {}",
        z.len(),
        a.len()
    );
    if naive() {
        for (a, &z) in a.iter_mut().zip(z) {
            *a = f(z);
        }
        return;
    }
    elementwise::map(z, a, f)
}

/// `dz[i] ← da[i]·f′(z[i], a[i])` for every entry: the chain rule through an entry-by-entry
/// function, `dZ = dA ⊙ f′(Z)`, where `derivative(z, a)` is `f′` at `z` given `a = f(z)`.
/// Plain form: the loop. Fast form: the same loop on the widest vectors.
///
/// # Panics
/// If the lengths differ.
#[inline(always)]
pub fn times_derivative(
    dz: &mut [f64],
    da: &[f64],
    (z, a): (&[f64], &[f64]),
    derivative: impl Fn(f64, f64) -> f64 + Copy,
) {
    assert!(
        da.len() == dz.len() && z.len() == dz.len() && a.len() == dz.len(),
        "times_derivative: dZ, dA, Z and A have {}, {}, {} and {} entries",
        dz.len(),
        da.len(),
        z.len(),
        a.len()
    );
    if naive() {
        for ((dz, &da), (&z, &a)) in dz.iter_mut().zip(da).zip(z.iter().zip(a)) {
            *dz = da * derivative(z, a);
        }
        return;
    }
    elementwise::times_derivative(dz, da, (z, a), derivative)
}

/// Softmax of each row of `k` entries of `z`, into the same row of `s` (both n·k long).
///
/// Plain form: `activation::softmax_row` on each row. Fast form: the same steps (subtract the
/// row's largest entry, exponentiate, divide by the row's sum added in order) with every row's
/// exponentials computed in one run on vector lanes.
///
/// # Panics
/// If the lengths differ or are not a multiple of `k`.
pub fn softmax_rows(z: &[f64], s: &mut [f64], k: usize) {
    assert!(
        z.len() == s.len() && k > 0 && z.len().is_multiple_of(k),
        "softmax_rows: {} entries into {} in rows of {k}",
        z.len(),
        s.len()
    );
    if naive() {
        for (z, s) in z.chunks_exact(k).zip(s.chunks_exact_mut(k)) {
            crate::activation::softmax_row(z, s);
        }
        return;
    }
    elementwise::softmax_rows(z, s, k, math::exp_nonpositive)
}

/// `Σ_i term(p[i], t[i])`, added in the order i = 0, 1, 2, … from 0: a loss summed over its
/// entries. Plain form: the loop. Fast form: the terms 64 at a time on the widest vectors, then
/// added in order.
///
/// # Panics
/// If the lengths differ.
pub fn sum_of_terms(p: &[f64], t: &[f64], term: impl Fn(f64, f64) -> f64 + Copy) -> f64 {
    assert_eq!(
        p.len(),
        t.len(),
        "sum_of_terms: {} and {} entries",
        p.len(),
        t.len()
    );
    if naive() {
        let mut total = 0.0;
        for (&p, &t) in p.iter().zip(t) {
            total += term(p, t);
        }
        return total;
    }
    elementwise::sum_of_terms(p, t, term)
}

/// `W[e] ← W[e] − ΔW[e]` for every entry, with `ΔW[e] = step(W[e], dW[e], s1[e], s2[e])` (the
/// update rule, which also updates its state `s1`, `s2`), and returns `‖ΔW‖`, its squares added
/// in the order e = 0, 1, 2, … from 0.
///
/// Plain form: one loop, each square added as soon as its step is taken. Fast form: the steps
/// first, on the widest vectors, then the squares in order.
///
/// # Panics
/// If the lengths differ.
#[inline(always)]
pub fn update(
    w: &mut [f64],
    dw: &[f64],
    (s1, s2): (&mut [f64], &mut [f64]),
    step: impl Fn(f64, f64, &mut f64, &mut f64) -> f64 + Copy,
) -> f64 {
    assert!(
        dw.len() == w.len() && s1.len() == w.len() && s2.len() == w.len(),
        "update: W, dW and the states have {}, {}, {} and {} entries",
        w.len(),
        dw.len(),
        s1.len(),
        s2.len()
    );
    if naive() {
        let mut update_squared = 0.0;
        for (e, (w, &dw)) in w.iter_mut().zip(dw).enumerate() {
            let delta = step(*w, dw, &mut s1[e], &mut s2[e]);
            *w -= delta;
            update_squared += delta * delta;
        }
        return update_squared.sqrt();
    }
    elementwise::update(w, dw, (s1, s2), step)
}

fn assert_bias(w: &Matrix, b: &Matrix) {
    assert!(
        b.shape() == (1, w.cols()),
        "affine (X·W + b): W is {:?} so b must be (1, {}), not {:?}",
        w.shape(),
        w.cols(),
        b.shape()
    );
}
