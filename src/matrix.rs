//! The matrix: a grid of `f64` numbers, stored row by row in one `Vec`, and the three products
//! backpropagation needs.
//!
//! Every quantity in a network is a matrix with one row per sample: the input batch `X`
//! (n_samples × n_in), the pre-activations `Z` and activations `A` (n_samples × n_out), and the
//! parameters `W` (n_in × n_out) and `b` (1 × n_out).
//!
//! The numbers are `f64`, not the `f32` of most deep-learning libraries, because this crate
//! checks its gradients against finite differences (`gradcheck.rs`), whose error can be brought
//! no lower than about ε^⅔ for a loss and slopes of size 1, ε being the spacing of the numbers
//! near 1: 4·10⁻¹¹ in f64 (ε = 2.2·10⁻¹⁶), where a correct gradient then agrees with its
//! estimate to about 10⁻⁹, a thousand times inside the tolerance 10⁻⁶; but 2·10⁻⁵ in f32
//! (ε = 1.2·10⁻⁷), too coarse to tell a right derivative from a slightly wrong one.
//!
//! # Layout in memory
//!
//! ```text
//! A (2 × 3) = │ a₀₀ a₀₁ a₀₂ │     data = [a₀₀, a₀₁, a₀₂, a₁₀, a₁₁, a₁₂]
//!             │ a₁₀ a₁₁ a₁₂ │     A[i, j] = data[i·cols + j]
//! ```
//!
//! Row-major order means that walking along a row touches neighbouring memory, which the processor
//! loads in cache lines of 64 bytes, 8 numbers at a time; walking down a column jumps `cols`
//! numbers per step. The products below are written so their inner loops walk along rows. Rows
//! rather than columns hold the samples so that a mini-batch is a run of whole rows
//! ([`Matrix::select_rows`] copies each with one slice copy) and one sample's features are
//! neighbours in memory.
//!
//! # The products backpropagation needs
//!
//! ```text
//! forward    Z  = X·W        (n × k)·(k × m) → n × m     C[i,j] = Σ_p A[i,p]·B[p,j]
//! backward   dW = Xᵀ·dZ      (k × n)·(n × m) → k × m     C[p,j] = Σ_r A[r,p]·B[r,j]
//! backward   dX = dZ·Wᵀ      (n × m)·(m × k) → n × k     C[i,j] = Σ_p A[i,p]·B[j,p]
//! ```
//!
//! Each is defined here plainly, a few lines of loops ([`Matrix::matmul_plain`],
//! [`Matrix::t_matmul_plain`], [`Matrix::matmul_t_plain`]), and no transpose is ever built: `Aᵀ·B`
//! and `A·Bᵀ` just read `A` or `B` the other way round. The chapters call the products by name
//! (`kernels::matmul`, `kernels::affine` for `Z = X·W + b`, `kernels::weight_gradients` for
//! `dW = Xᵀ·dZ` with `db`, …): with `BACKPROP_KERNELS=naive` those run exactly these plain
//! loops; by default, faster forms from the engine room (`kernels/`, the appendix) that add the
//! same products in the same order, and so give the same bits.
//!
//! # Rounding
//!
//! Every sum of products starts from −0.0 and adds its products in the order the formula lists
//! them, `c ← c + a·b`, rounding the product and then the sum. Why −0.0 and not +0.0: in IEEE
//! arithmetic −0 + x is exactly x for every x, while +0 + (−0) is +0, so −0.0 is the sum of no
//! terms that changes nothing (Rust's own `Iterator::sum` starts there too), and a sum of one
//! term is that term, bit for bit. Floating-point addition is not
//! associative (`(0.1 + 0.2) + 0.3` is `0.6000000000000001`, `(0.3 + 0.2) + 0.1` is `0.6`), so
//! the order is part of the definition: a faster form that added the same terms in another order
//! would give other bits. For large products (at least 64³ multiply-adds, the size from which
//! the engine packs its operands, `kernels::choose::FMA_THRESHOLD`) on a processor with fused
//! multiply-add instructions, the engine adds each term with one `c ← a·b + c` rounded once,
//! which is faster and slightly more accurate;
//! `kernels::choose::fuses` says where, and the plain loops use `f64::mul_add` at exactly those
//! places, so that both agree to the last bit. Small products (the demo, XOR, circles, sine) never
//! fuse, and give the same bits on every machine.
//!
//! Each allocating method (`transpose`, `add`, `sum_rows`, …) has an `_into` twin or an in-place
//! form that writes into a matrix the caller already owns: after the first step, training never
//! asks the allocator for memory.
//!
//! A shape mismatch is a bug in the caller, not something a user can cause: every operation checks
//! its shapes and panics with a message that names the operation and both shapes.
//!
//! # Exercises
//!
//! 1. *The order of a sum.* Predict the one entry of `A·B` for `A = [0.1 0.2 0.3]` (1 × 3) and
//!    `B = [1 1 1]ᵀ` (3 × 1), written with all the digits Rust prints, then run
//!    `cargo test --test exercises_foundations matrix_products_add_in_the_order_of_the_formula -- --nocapture`.
//!    Now make [`Matrix::matmul_plain`] add its terms the other way round (in its line
//!    `for (p, &a_ip) in self.row(i).iter().enumerate() {`, write `.enumerate().rev()`) and run
//!    the test again. What does it report? Both orders are "the sum"; why must the engine's fast
//!    forms keep this one?
//! 2. *The shapes of backward.* `cargo run -- demo xor --hidden 5` runs 4 samples through
//!    2 → 5 tanh → 1 sigmoid. Before running it, write down the shapes of the three products
//!    backward computes, `dW² = A¹ᵀ·dZ²`, `dA¹ = dZ²·W²ᵀ` and `dW¹ = Xᵀ·dZ¹`, and which of the
//!    three products above serves each; then compare with the lines the demo prints (the test
//!    `matrix_shapes_of_the_backward_products` checks them).
//!
//! <details><summary>Answers</summary>
//!
//! 1. `0.6000000000000001`. The product adds `0.1·1`, `0.2·1`, `0.3·1` in the order
//!    p = 0, 1, 2, and already `0.1 + 0.2` is `0.30000000000000004`: none of the three numbers is
//!    exact in binary, and each addition rounds. Reversed, `(0.3 + 0.2) + 0.1` is `0.6`, one unit
//!    in the last place (2⁻⁵³ ≈ 1.1·10⁻¹⁶) lower, and the test fails with
//!    `matmul_plain gave 0.6, but the formula adds p = 0, 1, 2 in that order: 0.6000000000000001`
//!    (the engine, untouched, still gives the old bits). A fast form that added in another
//!    order would be off from the definition in the last bits, and those differences grow over
//!    thousands of training steps into different networks: "the same seed gives the same
//!    numbers with either set of kernels" would be lost (`cargo test --test kernels` fails too).
//!    Put the line back.
//! 2. `dW² = A¹ᵀ·dZ²`: 5×4 · 4×1 → 5×1, by `Aᵀ·B` ([`Matrix::t_matmul`]).
//!    `dA¹ = dZ²·W²ᵀ`: 4×1 · 1×5 → 4×5, by `A·Bᵀ` ([`Matrix::matmul_t`]).
//!    `dW¹ = Xᵀ·dZ¹`: 2×4 · 4×5 → 2×5, by `Aᵀ·B` again. A weight gradient has its layer's shape,
//!    n_in × n_out, and the n = 4 samples are summed away in it; the gradient of a layer's input
//!    keeps one row per sample. No transpose is built for any of them.
//!
//! </details>

use crate::kernels;
use crate::rng::Rng;
use std::fmt;
use std::ops::{Index, IndexMut};

/// A dense `rows × cols` matrix of `f64`, stored row-major.
#[derive(Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    // ----- Constructors -----------------------------------------------------------------------

    /// A `rows × cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix::filled(rows, cols, 0.0)
    }

    /// A `rows × cols` matrix with every entry equal to `value`.
    pub fn filled(rows: usize, cols: usize, value: f64) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![value; rows * cols],
        }
    }

    /// A matrix from a flat row-major `Vec`.
    ///
    /// # Panics
    /// If `data.len() != rows · cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<f64>) -> Matrix {
        assert_eq!(
            data.len(),
            rows * cols,
            "Matrix::from_vec: {} numbers cannot fill a {rows}×{cols} matrix (needs {})",
            data.len(),
            rows * cols
        );
        Matrix { rows, cols, data }
    }

    /// A matrix from a list of rows, all of the same length.
    ///
    /// # Panics
    /// If the rows differ in length.
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Matrix {
        let cols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_ref();
            assert_eq!(
                row.len(),
                cols,
                "Matrix::from_rows: row {i} has {} numbers but row 0 has {cols}",
                row.len()
            );
            data.extend_from_slice(row);
        }
        Matrix::from_vec(rows.len(), cols, data)
    }

    /// A `rows × cols` matrix of independent uniform samples from `[low, high)`.
    pub fn random_uniform(rows: usize, cols: usize, low: f64, high: f64, rng: &mut Rng) -> Matrix {
        let data = (0..rows * cols)
            .map(|_| rng.uniform_range(low, high))
            .collect();
        Matrix::from_vec(rows, cols, data)
    }

    /// A `rows × cols` matrix of independent normal samples with the given mean and deviation.
    pub fn random_normal(
        rows: usize,
        cols: usize,
        mean: f64,
        std_dev: f64,
        rng: &mut Rng,
    ) -> Matrix {
        let data = (0..rows * cols)
            .map(|_| rng.normal_with(mean, std_dev))
            .collect();
        Matrix::from_vec(rows, cols, data)
    }

    // ----- Shape and element access -----------------------------------------------------------

    /// Number of rows (for a batch: n_samples).
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (for a batch: the features or units).
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    #[inline]
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// All entries, row after row.
    #[inline]
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// All entries, row after row, for writing.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Row `i` as a slice.
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i` as a mutable slice.
    #[inline]
    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// The entry at row `i`, column `j`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self[(i, j)]
    }

    /// Sets the entry at row `i`, column `j`.
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, value: f64) {
        self[(i, j)] = value;
    }

    /// Changes the shape to `rows × cols`, keeping the allocation when it is large enough.
    /// The entries are left as they are (or zero where new): callers overwrite them.
    pub fn resize(&mut self, rows: usize, cols: usize) {
        self.rows = rows;
        self.cols = cols;
        self.data.resize(rows * cols, 0.0);
    }

    /// Makes `self` a copy of `other`, reusing `self`'s allocation.
    pub fn copy_from(&mut self, other: &Matrix) {
        self.rows = other.rows;
        self.cols = other.cols;
        self.data.clear();
        self.data.extend_from_slice(&other.data);
    }

    /// The rows listed in `indices`, in that order, as a new matrix (a mini-batch).
    pub fn select_rows(&self, indices: &[usize]) -> Matrix {
        let mut out = Matrix::zeros(0, self.cols);
        self.select_rows_into(indices, &mut out);
        out
    }

    /// `out ← the rows listed in indices`, reusing `out`'s allocation.
    pub fn select_rows_into(&self, indices: &[usize], out: &mut Matrix) {
        out.rows = indices.len();
        out.cols = self.cols;
        out.data.clear();
        for &i in indices {
            out.data.extend_from_slice(self.row(i));
        }
    }

    // ----- The three products ---------------------------------------------------------------

    /// `C = A·B` for `A` (n × k) and `B` (k × m), giving n × m (by `kernels::matmul`).
    pub fn matmul(&self, b: &Matrix) -> Matrix {
        let mut c = Matrix::zeros(0, 0);
        kernels::matmul(self, b, &mut c);
        c
    }

    /// `C = Aᵀ·B` for `A` (n × k) and `B` (n × m), giving k × m (by `kernels::t_matmul`).
    pub fn t_matmul(&self, b: &Matrix) -> Matrix {
        let mut c = Matrix::zeros(0, 0);
        kernels::t_matmul(self, b, &mut c);
        c
    }

    /// `C = A·Bᵀ` for `A` (n × m) and `B` (k × m), giving n × k (by `kernels::matmul_t`).
    pub fn matmul_t(&self, b: &Matrix) -> Matrix {
        let mut c = Matrix::zeros(0, 0);
        kernels::matmul_t(self, b, &mut c);
        c
    }

    /// `C ← A·B` by the i-p-j loop: for each row `i` of `C` and each `p`, add `A[i,p]` times row
    /// `p` of `B` to row `i` of `C`:
    ///
    /// ```text
    /// C[i,:] = Σ_p A[i,p] · B[p,:]          the textbook C[i,j] = Σ_p A[i,p]·B[p,j], a row at a time
    /// ```
    ///
    /// Both rows are contiguous in memory, and the updates `C[i,j] += a·B[p,j]` for different `j`
    /// are independent of one another, so the compiler can handle several `j` at once. Each
    /// `C[i,j]` still receives its products in the order p = 0, 1, 2, …, as the definition adds
    /// them (the loop over `j` inside the loop over `p` instead of outside it changes which sums
    /// advance together, not any sum). This is the plain definition the engine is held to.
    ///
    /// # Panics
    /// If `A.cols ≠ B.rows`.
    pub fn matmul_plain(&self, b: &Matrix, c: &mut Matrix) {
        self.assert_inner(b, "matmul");
        let (n, k, m) = (self.rows, self.cols, b.cols);
        let fused = kernels::choose::fuses(n, k, m);
        c.resize(n, m);
        c.data.fill(-0.0);
        for i in 0..n {
            let c_row = &mut c.data[i * m..(i + 1) * m];
            for (p, &a_ip) in self.row(i).iter().enumerate() {
                let b_row = &b.data[p * m..(p + 1) * m];
                for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                    *c_ij = add_product(*c_ij, a_ip, b_pj, fused);
                }
            }
        }
    }

    /// `C ← Aᵀ·B` for `A` (n × k) and `B` (n × m), giving k × m, as a sum over the samples of
    /// outer products of their rows:
    ///
    /// ```text
    /// C[p,:] = Σ_r A[r,p] · B[r,:]          for r = 0, 1, 2, …
    /// ```
    ///
    /// Backward uses it for `dW = Xᵀ·dZ`: each sample adds its input times its output error.
    ///
    /// # Panics
    /// If `A` and `B` have different numbers of rows.
    pub fn t_matmul_plain(&self, b: &Matrix, c: &mut Matrix) {
        self.assert_same_rows(b, "t_matmul");
        let (n, k, m) = (self.rows, self.cols, b.cols);
        let fused = kernels::choose::fuses(k, n, m);
        c.resize(k, m);
        c.data.fill(-0.0);
        for r in 0..n {
            let b_row = b.row(r);
            for (p, &a_rp) in self.row(r).iter().enumerate() {
                let c_row = &mut c.data[p * m..(p + 1) * m];
                for (c_pj, &b_rj) in c_row.iter_mut().zip(b_row) {
                    *c_pj = add_product(*c_pj, a_rp, b_rj, fused);
                }
            }
        }
    }

    /// `C ← A·Bᵀ` for `A` (n × m) and `B` (k × m), giving n × k: each entry is the dot product of
    /// a row of `A` with a row of `B`, both contiguous:
    ///
    /// ```text
    /// C[i,j] = Σ_p A[i,p] · B[j,p]          for p = 0, 1, 2, …
    /// ```
    ///
    /// Backward uses it for `dX = dZ·Wᵀ`.
    ///
    /// # Panics
    /// If `A` and `B` have different numbers of columns.
    pub fn matmul_t_plain(&self, b: &Matrix, c: &mut Matrix) {
        self.assert_same_cols(b, "matmul_t");
        let (n, m, k) = (self.rows, self.cols, b.rows);
        let fused = kernels::choose::fuses(n, m, k);
        c.resize(n, k);
        for i in 0..n {
            for j in 0..k {
                let mut sum = -0.0;
                for (&a_ip, &b_jp) in self.row(i).iter().zip(b.row(j)) {
                    sum = add_product(sum, a_ip, b_jp, fused);
                }
                c.data[i * k + j] = sum;
            }
        }
    }

    /// `Aᵀ`, the matrix with rows and columns swapped: `Aᵀ[j,i] = A[i,j]`.
    pub fn transpose(&self) -> Matrix {
        let mut t = Matrix::zeros(0, 0);
        self.transpose_into(&mut t);
        t
    }

    /// `T ← Aᵀ`, reusing `T`'s allocation.
    pub fn transpose_into(&self, t: &mut Matrix) {
        t.resize(self.cols, self.rows);
        // Both runs of numbers are taken once, so the loop indexes slices and the compiler need
        // not look up `t`'s vector again for every entry.
        let (a, a_t) = (self.data.as_slice(), t.data.as_mut_slice());
        for i in 0..self.rows {
            for j in 0..self.cols {
                a_t[j * self.rows + i] = a[i * self.cols + j];
            }
        }
    }

    // ----- Elementwise operations -------------------------------------------------------------

    /// `A + B`, entry by entry.
    pub fn add(&self, b: &Matrix) -> Matrix {
        self.zip_map(b, "add", |x, y| x + y)
    }

    /// `A − B`, entry by entry.
    pub fn sub(&self, b: &Matrix) -> Matrix {
        self.zip_map(b, "sub", |x, y| x - y)
    }

    /// `A ⊙ B`, the Hadamard (entry by entry) product.
    pub fn hadamard(&self, b: &Matrix) -> Matrix {
        self.zip_map(b, "hadamard", |x, y| x * y)
    }

    /// `s·A`.
    pub fn scale(&self, s: f64) -> Matrix {
        self.map(|x| s * x)
    }

    /// `f` applied to every entry.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Matrix {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&x| f(x)).collect(),
        }
    }

    /// `f(A[i,j], B[i,j])` for every entry; `operation` names it in the shape-mismatch panic.
    pub fn zip_map(&self, b: &Matrix, operation: &str, f: impl Fn(f64, f64) -> f64) -> Matrix {
        self.assert_same_shape(b, operation);
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self
                .data
                .iter()
                .zip(&b.data)
                .map(|(&x, &y)| f(x, y))
                .collect(),
        }
    }

    /// `A ← A + s·B` in place (the "axpy" of linear algebra libraries).
    pub fn add_scaled(&mut self, s: f64, b: &Matrix) {
        self.assert_same_shape(b, "add_scaled");
        for (x, &y) in self.data.iter_mut().zip(&b.data) {
            *x += s * y;
        }
    }

    /// `A + b` with the row `b` (1 × cols) added to every row: the bias broadcast of `X·W + b`.
    pub fn add_row(&self, b: &Matrix) -> Matrix {
        let mut out = self.clone();
        out.add_row_in_place(b);
        out
    }

    /// `A ← A + b`, the row `b` (1 × cols) added to every row.
    pub fn add_row_in_place(&mut self, b: &Matrix) {
        assert!(
            b.rows == 1 && b.cols == self.cols,
            "add_row: cannot add a {}×{} row to every row of a {}×{} matrix (needs 1×{})",
            b.rows,
            b.cols,
            self.rows,
            self.cols,
            self.cols
        );
        for row in self.data.chunks_exact_mut(self.cols.max(1)) {
            for (x, &bias) in row.iter_mut().zip(&b.data) {
                *x += bias;
            }
        }
    }

    // ----- Reductions -------------------------------------------------------------------------

    /// `Σ_rows A`: the column sums as a 1 × cols row (backward's `db = Σ_rows dZ`).
    pub fn sum_rows(&self) -> Matrix {
        let mut out = Matrix::zeros(1, self.cols);
        self.sum_rows_into(&mut out);
        out
    }

    /// `out ← Σ_rows A`, reusing `out`'s allocation.
    pub fn sum_rows_into(&self, out: &mut Matrix) {
        out.resize(1, self.cols);
        out.data.fill(0.0);
        if self.cols == 1 {
            // One column: a plain sum, in the same order (the same bits) as the loop below.
            out.data[0] = self.data.iter().fold(0.0, |s, &x| s + x);
            return;
        }
        for row in self.data.chunks_exact(self.cols.max(1)) {
            for (s, &x) in out.data.iter_mut().zip(row) {
                *s += x;
            }
        }
    }

    /// For each row, the column index of its largest entry (the predicted class); ties go to the
    /// first ([`argmax`]).
    pub fn argmax_rows(&self) -> Vec<usize> {
        (0..self.rows).map(|i| argmax(self.row(i))).collect()
    }

    /// `Σ A[i,j]`.
    pub fn sum(&self) -> f64 {
        self.data.iter().sum()
    }

    /// The mean of all entries (0 for an empty matrix).
    pub fn mean(&self) -> f64 {
        if self.data.is_empty() {
            0.0
        } else {
            self.sum() / self.data.len() as f64
        }
    }

    /// `‖A‖ = √(Σ A[i,j]²)`, the Frobenius norm.
    pub fn norm(&self) -> f64 {
        self.norm_squared().sqrt()
    }

    /// `Σ A[i,j]²`.
    pub fn norm_squared(&self) -> f64 {
        dot(&self.data, &self.data)
    }

    /// The largest `|A[i,j]|` (0 for an empty matrix).
    pub fn max_abs(&self) -> f64 {
        self.data.iter().fold(0.0, |m, &x| m.max(x.abs()))
    }

    /// True when every entry is finite (no NaN, no ±∞).
    pub fn is_finite(&self) -> bool {
        self.data.iter().all(|x| x.is_finite())
    }

    // ----- Shape checks -----------------------------------------------------------------------

    /// Panics unless `A·B` is defined: `A`'s columns must equal `B`'s rows.
    pub(crate) fn assert_inner(&self, b: &Matrix, operation: &str) {
        assert_eq!(
            self.cols, b.rows,
            "{operation} (A·B): A is {}×{} and B is {}×{}; A's columns must equal B's rows",
            self.rows, self.cols, b.rows, b.cols
        );
    }

    /// Panics unless `Aᵀ·B` is defined: the same number of rows.
    pub(crate) fn assert_same_rows(&self, b: &Matrix, operation: &str) {
        assert_eq!(
            self.rows, b.rows,
            "{operation} (Aᵀ·B): A is {}×{} and B is {}×{}; they need the same number of rows",
            self.rows, self.cols, b.rows, b.cols
        );
    }

    /// Panics unless `A·Bᵀ` is defined: the same number of columns.
    pub(crate) fn assert_same_cols(&self, b: &Matrix, operation: &str) {
        assert_eq!(
            self.cols, b.cols,
            "{operation} (A·Bᵀ): A is {}×{} and B is {}×{}; they need the same number of columns",
            self.rows, self.cols, b.rows, b.cols
        );
    }

    fn assert_same_shape(&self, b: &Matrix, operation: &str) {
        assert!(
            self.shape() == b.shape(),
            "{operation}: shapes differ, {}×{} and {}×{}",
            self.rows,
            self.cols,
            b.rows,
            b.cols
        );
    }
}

/// `c + a·b`, the step of every sum of a product: rounded twice, or once when `fused` (a fused
/// multiply-add, as the engine computes large products on processors that have it; see
/// "Rounding" in the module docs).
#[inline(always)]
fn add_product(c: f64, a: f64, b: f64, fused: bool) -> f64 {
    if fused {
        a.mul_add(b, c)
    } else {
        c + a * b
    }
}

/// The index of the largest entry of `row`, the first one on ties (0 for an empty row): the
/// class a row of predicted probabilities picks.
///
/// The running best is kept by selection (`if better { j } else { best }`), which the compiler
/// turns into conditional moves: whether a probability beats the best so far is a coin toss
/// the processor cannot learn to guess. A NaN never wins a comparison, so it is never picked
/// unless it stands first.
pub fn argmax(row: &[f64]) -> usize {
    let (mut best, mut best_x) = (0, row.first().copied().unwrap_or(0.0));
    for (j, &x) in row.iter().enumerate() {
        let better = x > best_x;
        best = if better { j } else { best };
        best_x = if better { x } else { best_x };
    }
    best
}

/// `Σ_p a[p]·b[p]`, the dot product of two runs of numbers, as four interleaved partial sums
/// `s_l = Σ a[p]·b[p]` over p ≡ l (mod 4), added as `(s₀ + s₁) + (s₂ + s₃)` and then the last
/// `len mod 4` products: four chains of additions that the processor runs side by side, where one
/// running sum would wait on each addition in turn. (The products' sums keep their one order
/// instead, since the engine must reproduce it; a dot product used on its own, as `‖A‖²` is, can
/// choose its grouping.)
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut sums = [0.0; 4];
    let mut a4 = a.chunks_exact(4);
    let mut b4 = b.chunks_exact(4);
    for (x, y) in (&mut a4).zip(&mut b4) {
        for lane in 0..4 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    (sums[0] + sums[1]) + (sums[2] + sums[3]) + tail
}

impl Index<(usize, usize)> for Matrix {
    type Output = f64;
    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &f64 {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) is outside a {}×{} matrix",
            self.rows,
            self.cols
        );
        &self.data[i * self.cols + j]
    }
}

impl IndexMut<(usize, usize)> for Matrix {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut f64 {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) is outside a {}×{} matrix",
            self.rows,
            self.cols
        );
        &mut self.data[i * self.cols + j]
    }
}

/// Prints the rows with aligned columns: `{:.6}` sets the decimals, 4 by default (enough to read
/// a weight or an activation, few enough for a row of a small matrix to fit on a line).
impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = f.precision().unwrap_or(4);
        let cells: Vec<String> = self
            .data
            .iter()
            .map(|x| format!("{x:.precision$}"))
            .collect();
        let width = cells.iter().map(|c| c.chars().count()).max().unwrap_or(0);
        for i in 0..self.rows {
            write!(f, "│")?;
            for j in 0..self.cols {
                write!(f, " {:>width$}", cells[i * self.cols + j])?;
            }
            writeln!(f, " │")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matrix {}×{} {:?}", self.rows, self.cols, self.data)
    }
}
