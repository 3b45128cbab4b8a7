//! The matrix: a grid of `f64` numbers, stored row by row in one `Vec`.
//!
//! Every quantity in a network is a matrix with one row per sample: the input batch `X`
//! (n_samples × n_in), the pre-activations `Z` and activations `A` (n_samples × n_out), and the
//! parameters `W` (n_in × n_out) and `b` (1 × n_out).
//!
//! # Layout in memory
//!
//! ```text
//! A (2 × 3) = │ a₀₀ a₀₁ a₀₂ │     data = [a₀₀, a₀₁, a₀₂, a₁₀, a₁₁, a₁₂]
//!             │ a₁₀ a₁₁ a₁₂ │     A[i, j] = data[i·cols + j]
//! ```
//!
//! Row-major order means that walking along a row touches neighbouring memory, which the processor
//! loads in cache lines of 8 numbers at a time; walking down a column jumps `cols` numbers per
//! step. The products below are written so their inner loops walk along rows.
//!
//! # The products backpropagation needs
//!
//! ```text
//! forward    Z  = X·W        (n × k)·(k × m) → n × m     Matrix::matmul
//! backward   dW = Xᵀ·dZ      (k × n)·(n × m) → k × m     Matrix::t_matmul  (no transpose is built)
//! backward   dX = dZ·Wᵀ      (n × m)·(m × k) → n × k     Matrix::matmul_t  (no transpose is built)
//! ```
//!
//! Each allocating method (`matmul`, `add`, …) has an `_into` twin that writes into a matrix the
//! caller already owns. The training loop uses the twins so that, after the first step, it never
//! asks the allocator for memory.
//!
//! A shape mismatch is a bug in the caller, not something a user can cause: every operation checks
//! its shapes and panics with a message that names the operation and both shapes.

use crate::gemm;
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
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (for a batch: the features or units).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// All entries, row after row.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// All entries, row after row, for writing.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i` as a mutable slice.
    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// The entry at row `i`, column `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self[(i, j)]
    }

    /// Sets the entry at row `i`, column `j`.
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

    // ----- Matrix products --------------------------------------------------------------------

    /// `C = A·B`, the textbook definition `C[i,j] = Σ_p A[i,p]·B[p,j]`, written as three loops.
    ///
    /// This is the test oracle for the fast products, kept because it is obviously right. It is
    /// slow for two reasons: the innermost loop walks down a column of `B`, jumping `B.cols`
    /// numbers at each step, so nearly every read misses the cache; and a sum into one scalar is
    /// a chain of dependent additions, which the compiler may not reorder (float addition is not
    /// associative) and so cannot spread over vector lanes.
    pub fn matmul_naive(&self, b: &Matrix) -> Matrix {
        self.assert_inner(b, "matmul_naive");
        let mut c = Matrix::zeros(self.rows, b.cols);
        for i in 0..self.rows {
            for j in 0..b.cols {
                let mut sum = 0.0;
                for p in 0..self.cols {
                    sum += self[(i, p)] * b[(p, j)];
                }
                c[(i, j)] = sum;
            }
        }
        c
    }

    /// `C = A·B` for `A` (n × k) and `B` (k × m), giving n × m.
    pub fn matmul(&self, b: &Matrix) -> Matrix {
        let mut c = Matrix::zeros(0, 0);
        self.matmul_into(b, &mut c);
        c
    }

    /// `C ← A·B`, reusing `C`'s allocation: the product the forward pass `Z = X·W` uses.
    ///
    /// Small products run the i-p-j loop of [`Matrix::matmul_ipj_into`], the one to read first.
    /// A product with a single output column is a matrix-vector product and gets a loop of its
    /// own ([`Matrix::matmul_column_into`]); from [`BLOCKED_THRESHOLD`] multiply-adds on, the
    /// cache-blocked, register-tiled product of `gemm.rs` takes over. All three add the same
    /// products in the same order, so they give the same bits (except that `gemm.rs` uses
    /// fused multiply-adds for products above its `FMA_THRESHOLD`; see there).
    pub fn matmul_into(&self, b: &Matrix, c: &mut Matrix) {
        self.assert_inner(b, "matmul");
        if b.cols == 1 {
            self.matmul_column_into(b, c);
        } else if blocked_pays(self.rows, self.cols, b.cols) {
            c.resize(self.rows, b.cols);
            gemm::gemm(self.view(), b.view(), &mut c.data);
        } else {
            self.matmul_ipj_into(b, c);
        }
    }

    /// `C ← A·B` by the i-p-j loop: for each row `i` of `C` and each `p`, add `A[i,p]` times row
    /// `p` of `B` to row `i` of `C`:
    ///
    /// ```text
    /// C[i,:] = Σ_p A[i,p] · B[p,:]
    /// ```
    ///
    /// Both rows are contiguous in memory, and the updates `C[i,j] += a·B[p,j]` for different `j`
    /// are independent of one another, so the compiler turns the inner loop into vector
    /// instructions that handle several `j` at once. Each `C[i,j]` still receives its products in
    /// the order p = 0, 1, 2, …, exactly as in [`Matrix::matmul_naive`], so the bits agree.
    ///
    /// What it does not do is reuse: every `A[i,p]` drags a whole row of `B` through the
    /// processor, and `C`'s row is loaded and stored again for every `p`. For matrices larger than
    /// the caches that is memory traffic, not arithmetic; `gemm.rs` fixes it.
    pub fn matmul_ipj_into(&self, b: &Matrix, c: &mut Matrix) {
        self.assert_inner(b, "matmul");
        c.resize(self.rows, b.cols);
        c.data.fill(0.0);
        let m = b.cols;
        for i in 0..self.rows {
            let c_row = &mut c.data[i * m..(i + 1) * m];
            for (p, &a_ip) in self.row(i).iter().enumerate() {
                let b_row = &b.data[p * m..(p + 1) * m];
                for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                    *c_ij += a_ip * b_pj;
                }
            }
        }
    }

    /// `c ← A·b` for a single column `b` (k × 1), a matrix-vector product: `c[i] = Σ_p A[i,p]·b[p]`.
    ///
    /// The i-p-j loop would run its inner loop over a row of length one, paying a loop's overhead
    /// for each multiply-add. Here each `c[i]` is a sum along a contiguous row of `A`; four rows
    /// are summed side by side, so four independent additions are in flight while each sum
    /// still takes its products in the order p = 0, 1, 2, … (the same bits as the i-p-j loop).
    pub fn matmul_column_into(&self, b: &Matrix, c: &mut Matrix) {
        self.assert_inner(b, "matmul");
        assert_eq!(
            b.cols, 1,
            "matmul_column: B is {}×{}, not a column",
            b.rows, b.cols
        );
        c.resize(self.rows, 1);
        let k = self.cols;
        if k == 0 {
            c.data.fill(0.0);
            return;
        }
        let column = &b.data;
        let mut rows = self.data.chunks_exact(4 * k);
        let mut out = c.data.chunks_exact_mut(4);
        for (four_rows, c4) in (&mut rows).zip(&mut out) {
            let (r0, rest) = four_rows.split_at(k);
            let (r1, rest) = rest.split_at(k);
            let (r2, r3) = rest.split_at(k);
            let mut sums = [0.0; 4];
            for p in 0..k {
                sums[0] += r0[p] * column[p];
                sums[1] += r1[p] * column[p];
                sums[2] += r2[p] * column[p];
                sums[3] += r3[p] * column[p];
            }
            c4.copy_from_slice(&sums);
        }
        for (row, c_i) in rows.remainder().chunks_exact(k).zip(out.into_remainder()) {
            let mut sum = 0.0;
            for (&a, &x) in row.iter().zip(column) {
                sum += a * x;
            }
            *c_i = sum;
        }
    }

    /// `C = Aᵀ·B` for `A` (n × k) and `B` (n × m), giving k × m, without building `Aᵀ`.
    ///
    /// Backward uses it for `dW = Xᵀ·dZ`: a sum over the samples of outer products of their rows.
    pub fn t_matmul(&self, b: &Matrix) -> Matrix {
        let mut c = Matrix::zeros(0, 0);
        self.t_matmul_into(b, &mut c);
        c
    }

    /// `C ← Aᵀ·B`, reusing `C`'s allocation.
    ///
    /// ```text
    /// C[p,:] = Σ_r A[r,p] · B[r,:]        for each sample r and each column p of A
    /// ```
    /// As in `matmul_ipj_into`, the inner loop adds a multiple of one contiguous row to another.
    /// When `B` is a single column the roles turn around (`C`'s column is added `B[r]` times row
    /// `r` of `A`), so the inner loop is not of length one. Large products go to `gemm.rs`, which
    /// reads `Aᵀ` through swapped strides. Every path adds the samples in the order r = 0, 1, ….
    pub fn t_matmul_into(&self, b: &Matrix, c: &mut Matrix) {
        assert_eq!(
            self.rows, b.rows,
            "t_matmul (Aᵀ·B): A is {}×{} and B is {}×{}; they need the same number of rows",
            self.rows, self.cols, b.rows, b.cols
        );
        c.resize(self.cols, b.cols);
        if b.cols != 1 && blocked_pays(self.cols, self.rows, b.cols) {
            gemm::gemm(self.view().t(), b.view(), &mut c.data);
            return;
        }
        c.data.fill(0.0);
        let m = b.cols;
        // Four samples at a time (see `t_matmul_four_samples`), then the rest one by one.
        let whole = self.rows / 4 * 4;
        self.t_matmul_four_samples(b, c, whole);
        if m == 1 {
            for r in whole..self.rows {
                let b_r = b.data[r];
                for (c_p, &a_rp) in c.data.iter_mut().zip(self.row(r)) {
                    *c_p += a_rp * b_r;
                }
            }
            return;
        }
        for r in whole..self.rows {
            let b_row = b.row(r);
            for (p, &a_rp) in self.row(r).iter().enumerate() {
                let c_row = &mut c.data[p * m..(p + 1) * m];
                for (c_pj, &b_rj) in c_row.iter_mut().zip(b_row) {
                    *c_pj += a_rp * b_rj;
                }
            }
        }
    }

    /// The loops of [`Matrix::t_matmul_into`] for samples `0..rows` (a multiple of 4), taking
    /// four samples per pass over `C`.
    ///
    /// Adding one sample at a time stores each `C[p,j]` and loads it back for the next sample, a
    /// round trip through memory on every addition. Taking four samples per pass keeps the
    /// running sum in a register for four additions, made in the same order r, r+1, r+2, r+3,
    /// so the bits do not change; it roughly halves the time of the thin products of small
    /// networks (`dW = Xᵀ·dZ` with 2 inputs, or with one output). Tested against the one-by-one
    /// loop through `t_matmul_into` on shapes with a remainder.
    fn t_matmul_four_samples(&self, b: &Matrix, c: &mut Matrix, rows: usize) {
        let (k, m) = (self.cols, b.cols);
        for r in (0..rows).step_by(4) {
            let a = &self.data[r * k..(r + 4) * k];
            let (a0, a1, a2, a3) = (&a[..k], &a[k..2 * k], &a[2 * k..3 * k], &a[3 * k..]);
            let rows_b = &b.data[r * m..(r + 4) * m];
            if m == 1 {
                // C is a column (k × 1): C[p] += A[r,p]·B[r] for the four samples.
                let (b0, b1, b2, b3) = (rows_b[0], rows_b[1], rows_b[2], rows_b[3]);
                for p in 0..k {
                    c.data[p] = c.data[p] + a0[p] * b0 + a1[p] * b1 + a2[p] * b2 + a3[p] * b3;
                }
                continue;
            }
            let (b0, b1, b2, b3) = (
                &rows_b[..m],
                &rows_b[m..2 * m],
                &rows_b[2 * m..3 * m],
                &rows_b[3 * m..],
            );
            for p in 0..k {
                let c_row = &mut c.data[p * m..(p + 1) * m];
                let (x0, x1, x2, x3) = (a0[p], a1[p], a2[p], a3[p]);
                for j in 0..m {
                    c_row[j] = c_row[j] + x0 * b0[j] + x1 * b1[j] + x2 * b2[j] + x3 * b3[j];
                }
            }
        }
    }

    /// `C = A·Bᵀ` for `A` (n × m) and `B` (k × m), giving n × k, without building `Bᵀ`.
    ///
    /// Backward uses it for `dX = dZ·Wᵀ`.
    pub fn matmul_t(&self, b: &Matrix) -> Matrix {
        let mut c = Matrix::zeros(0, 0);
        self.matmul_t_into(b, &mut c);
        c
    }

    /// `C ← A·Bᵀ`, reusing `C`'s allocation.
    ///
    /// ```text
    /// C[i,j] = Σ_p A[i,p] · B[j,p] = (row i of A) · (row j of B)
    /// ```
    /// Both rows are contiguous, so each entry is a dot product of two slices. The dot product
    /// keeps four partial sums, which lets the processor overlap four additions instead of waiting
    /// on one chain. With a single column (`m = 1`) each entry is one product
    /// `C[i,j] = A[i,0]·B[j,0]`, an outer product, written as such. Large products go to
    /// `gemm.rs` (which sums in the order p = 0, 1, … and so may differ from the four partial sums
    /// in the last bits).
    pub fn matmul_t_into(&self, b: &Matrix, c: &mut Matrix) {
        assert_eq!(
            self.cols, b.cols,
            "matmul_t (A·Bᵀ): A is {}×{} and B is {}×{}; they need the same number of columns",
            self.rows, self.cols, b.rows, b.cols
        );
        c.resize(self.rows, b.rows);
        let k = b.rows;
        if self.cols == 1 {
            for (c_row, &a_i) in c.data.chunks_exact_mut(k.max(1)).zip(&self.data) {
                for (c_ij, &b_j) in c_row.iter_mut().zip(&b.data) {
                    *c_ij = a_i * b_j;
                }
            }
        } else if blocked_pays(self.rows, self.cols, b.rows) {
            gemm::gemm(self.view(), b.view().t(), &mut c.data);
        } else {
            for i in 0..self.rows {
                let a_row = self.row(i);
                for j in 0..k {
                    c.data[i * k + j] = dot(a_row, b.row(j));
                }
            }
        }
    }

    /// The matrix as a [`gemm::View`] for the blocked product.
    pub fn view(&self) -> gemm::View<'_> {
        gemm::View::row_major(&self.data, self.rows, self.cols)
    }

    /// `Aᵀ`, the matrix with rows and columns swapped: `Aᵀ[j,i] = A[i,j]`.
    pub fn transpose(&self) -> Matrix {
        let mut t = Matrix::zeros(self.cols, self.rows);
        for i in 0..self.rows {
            for j in 0..self.cols {
                t[(j, i)] = self[(i, j)];
            }
        }
        t
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
        if self.cols == 1 {
            // One column (a network with one output): one bias for every entry, without a loop
            // over rows of length one.
            let bias = b.data[0];
            self.data.iter_mut().for_each(|x| *x += bias);
            return;
        }
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
    /// first.
    pub fn argmax_rows(&self) -> Vec<usize> {
        (0..self.rows)
            .map(|i| {
                let row = self.row(i);
                let mut best = 0;
                for (j, &x) in row.iter().enumerate() {
                    if x > row[best] {
                        best = j;
                    }
                }
                best
            })
            .collect()
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

    fn assert_inner(&self, b: &Matrix, operation: &str) {
        assert_eq!(
            self.cols, b.rows,
            "{operation} (A·B): A is {}×{} and B is {}×{}; A's columns must equal B's rows",
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

/// From this many multiply-adds (`n·k·m`) on, the products hand over to the blocked product of
/// `gemm.rs`: below it, packing the operands costs more than it saves. (Measured with
/// `cargo bench --bench matmul`; the answer does not depend on it, only the time.)
pub const BLOCKED_THRESHOLD: usize = 16 * 16 * 16;

/// Whether an `n×k` by `k×m` product is large enough for `gemm.rs`. A dimension below 4 leaves
/// most of the 6 × 8 register tile empty, and the simple loops handle it at least as well.
fn blocked_pays(n: usize, k: usize, m: usize) -> bool {
    n >= 4 && k >= 4 && m >= 4 && n.saturating_mul(k).saturating_mul(m) >= BLOCKED_THRESHOLD
}

/// `Σ_p a[p]·b[p]` with four independent partial sums, so additions overlap in the processor.
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

/// Prints the shape, then the rows with aligned columns: `{:.4}` sets the digits.
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

#[cfg(test)]
mod thin_product_tests {
    use super::Matrix;
    use crate::rng::Rng;

    /// Thin products of random (not integer) numbers, below the blocked threshold, give the bits
    /// of the naive product, which sums in the order p = 0, 1, 2, …: the faster loops add the
    /// same numbers in the same order.
    #[test]
    fn thin_products_give_the_bits_of_the_naive_product() {
        let mut rng = Rng::new(7);
        for (n, k, m) in [
            (803, 2, 10),
            (801, 10, 1),
            (7, 3, 5),
            (5, 1, 1),
            (3, 20, 20),
        ] {
            let x = Matrix::random_normal(n, k, 0.0, 1.0, &mut rng); // (n, k)
            let dz = Matrix::random_normal(n, m, 0.0, 1.0, &mut rng); // (n, m)
            let expected = x.transpose().matmul_naive(&dz); // (k, m)
            let mut dw = Matrix::filled(2, 3, f64::NAN);
            x.t_matmul_into(&dz, &mut dw);
            let bits = |a: &Matrix| a.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&dw), bits(&expected), "Xᵀ·dZ for {n}×{k} and {n}×{m}");
            let w = Matrix::random_normal(k, m, 0.0, 1.0, &mut rng); // (k, m)
            let mut z = Matrix::filled(2, 3, f64::NAN);
            x.matmul_ipj_into(&w, &mut z);
            assert_eq!(
                bits(&z),
                bits(&x.matmul_naive(&w)),
                "X·W for {n}×{k} and {k}×{m}"
            );
        }
    }
}
