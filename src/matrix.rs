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
//! The products of small networks (rows of 10 or 20 numbers, a first layer with one or two
//! inputs) cost more in loop overhead and memory traffic than in arithmetic, so beside the
//! simple loops, which stay as the reference, there are faster forms that give the same bits,
//! each tested against its reference:
//!
//! ```text
//! register tiles        a 4 × 8 block of C summed in registers, read from A and B in place
//! Z = X·W + b           the bias added to each finished sum       matmul_add_row_into
//! A = f(X·W + b)        f applied to 64 rows at a time            matmul_add_row_map_into
//! dW = Xᵀ·dZ, db        Σ_rows dZ summed in the same pass          t_matmul_sum_rows_into
//! dX = dZ·Wᵀ, then f′   f′ applied to 64 rows at a time            matmul_t_map_into
//! ```
//!
//! Products large enough for `gemm.rs` do the same with its blocks of up to 120 rows: the bias
//! and `f` (or `f′`) are applied to each block by the thread that computed it, as soon as it is
//! finished (`kernels::gemm::gemm_map`), so the element-wise work is shared between threads as well.
//!
//! Each allocating method (`matmul`, `add`, …) has an `_into` twin that writes into a matrix the
//! caller already owns. The training loop uses the twins so that, after the first step, it never
//! asks the allocator for memory.
//!
//! A shape mismatch is a bug in the caller, not something a user can cause: every operation checks
//! its shapes and panics with a message that names the operation and both shapes.

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
    /// The i-p-j loop of [`Matrix::matmul_ipj_into`] is the one to read first; what runs is one
    /// of three faster forms of it. A product with a single output column is a matrix-vector
    /// product and gets a loop of its own ([`Matrix::matmul_column_into`]); small products (the
    /// layers of small networks) are summed in register tiles read straight from `A` and `B`
    /// (see "Small products in register tiles" below); from `kernels::choose::FMA_THRESHOLD` multiply-adds
    /// on, the cache-blocked, packed product of `gemm.rs` takes over. All of them add the same
    /// products in the same order, so they give the same bits, except that `gemm.rs` uses fused
    /// multiply-adds above its threshold (see there).
    pub fn matmul_into(&self, b: &Matrix, c: &mut Matrix) {
        self.assert_inner(b, "matmul");
        if b.cols == 1 {
            self.matmul_column_into(b, c);
        } else if packing_pays(self.rows, self.cols, b.cols) {
            c.resize(self.rows, b.cols);
            kernels::gemm::gemm(self.view(), b.view(), &mut c.data);
        } else {
            c.resize(self.rows, b.cols);
            product_in_tiles(&self.data, self.cols, &b.data, b.cols, None, &mut c.data);
        }
    }

    /// `Z ← X·W + b`, the dense layer's forward pass, with the bias row `b` (1 × m) added to
    /// every row of the product in the same pass.
    ///
    /// The reference is two steps, [`Matrix::matmul_into`] then [`Matrix::add_row_in_place`].
    /// Here each entry's sum `Σ_p X[i,p]·W[p,j]` is finished in a register and `b[j]` is added
    /// before it is stored, the same two roundings in the same order, so the bits are those of
    /// the two steps (a test compares them); what it saves is the second pass over `Z`, which
    /// loads and stores every entry again (circles' first layer: 800 × 10 entries). Measured
    /// for that layer (800 × 2 · 2 × 10), the product then the bias took 13–15 µs when the
    /// product went through `gemm.rs`; register tiles with the bias in the same pass, 5–6 µs.
    ///
    /// # Panics
    /// If `X.cols ≠ W.rows` or `b` is not 1 × `W.cols`.
    pub fn matmul_add_row_into(&self, w: &Matrix, b: &Matrix, z: &mut Matrix) {
        self.assert_inner(w, "matmul_add_row");
        assert!(
            b.rows == 1 && b.cols == w.cols,
            "matmul_add_row: W is {}×{} so b must be 1×{}, not {}×{}",
            w.rows,
            w.cols,
            w.cols,
            b.rows,
            b.cols
        );
        if w.cols == 1 {
            self.column_product(w, b.data[0], z);
        } else if packing_pays(self.rows, self.cols, w.cols) {
            // `gemm.rs` adds the bias to each block of rows of Z as soon as it is finished
            // (`kernels::gemm::gemm_map`), on the thread that computed it: the bits of the product then
            // `add_row_in_place`, without a second pass over Z on one thread.
            z.resize(self.rows, w.cols);
            let bias = &b.data;
            let add_bias = |_: usize, z_rows: &mut [f64], _: &mut [f64]| add_row(z_rows, bias);
            kernels::gemm::gemm_map(self.view(), w.view(), &mut z.data, &mut [], &add_bias);
        } else {
            z.resize(self.rows, w.cols);
            product_in_tiles(
                &self.data,
                self.cols,
                &w.data,
                w.cols,
                Some(&b.data),
                &mut z.data,
            );
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

    /// `Z ← X·W + b` and then `A ← f(Z)` for an entry-by-entry `f` given as `apply(z, a)` on
    /// matching runs of `Z`'s and `A`'s entries: a dense layer and its activation in one pass.
    ///
    /// The reference is [`Matrix::matmul_add_row_into`] over all of `Z`, then `f` over all of
    /// `Z`, which reads every entry of `Z` back from memory after the whole product has pushed
    /// it out of the nearest cache (circles' `Z¹` is 800 × 10 numbers, 64 kB). Here the product
    /// is formed 64 rows at a time and `f` is applied to those rows at once, while they are
    /// still in the nearest cache. Each entry is the same sum and `f` is applied to it alone, so
    /// the bits are the same; a test compares them.
    ///
    /// # Panics
    /// As [`Matrix::matmul_add_row_into`].
    pub fn matmul_add_row_map_into(
        &self,
        w: &Matrix,
        b: &Matrix,
        z: &mut Matrix,
        a: &mut Matrix,
        apply: impl Fn(&[f64], &mut [f64]) + Sync,
    ) {
        const ROWS: usize = ROW_BLOCK;
        let (k, m) = (self.cols, w.cols);
        if m == 1 || k == 0 {
            self.matmul_add_row_into(w, b, z);
            a.resize(z.rows, z.cols);
            apply(&z.data, &mut a.data);
            return;
        }
        self.assert_inner(w, "matmul_add_row");
        assert!(
            b.rows == 1 && b.cols == m,
            "matmul_add_row: W is {}×{m} so b must be 1×{m}, not {}×{}",
            w.rows,
            b.rows,
            b.cols
        );
        z.resize(self.rows, m);
        a.resize(self.rows, m);
        if packing_pays(self.rows, k, m) {
            // The bias and f on each block of rows `gemm.rs` finishes, by the thread that
            // computed it (`kernels::gemm::gemm_map`, at most 120 rows, still in its caches).
            let finish = |_: usize, z_rows: &mut [f64], a_rows: &mut [f64]| {
                add_row(z_rows, &b.data);
                apply(z_rows, a_rows);
            };
            kernels::gemm::gemm_map(self.view(), w.view(), &mut z.data, &mut a.data, &finish);
            return;
        }
        let blocks = self.data.chunks(ROWS * k).zip(z.data.chunks_mut(ROWS * m));
        for ((x_rows, z_rows), a_rows) in blocks.zip(a.data.chunks_mut(ROWS * m)) {
            product_in_tiles(x_rows, k, &w.data, m, Some(&b.data), z_rows);
            apply(z_rows, a_rows);
        }
    }

    /// `c ← A·b` for a single column `b` (k × 1), a matrix-vector product: `c[i] = Σ_p A[i,p]·b[p]`.
    ///
    /// The i-p-j loop would run its inner loop over a row of length one, paying a loop's overhead
    /// for each multiply-add. Here each `c[i]` is a sum along a contiguous row of `A`; four rows
    /// are summed side by side, so four independent additions are in flight while each sum
    /// still takes its products in the order p = 0, 1, 2, … (the same bits as the i-p-j loop).
    pub fn matmul_column_into(&self, b: &Matrix, c: &mut Matrix) {
        self.column_product(b, -0.0, c);
    }

    /// `c[i] ← (Σ_p A[i,p]·b[p]) + bias`: [`Matrix::matmul_column_into`] with the bias of
    /// [`Matrix::matmul_add_row_into`] added to each finished sum. A bias of `+0.0` changes no
    /// sum except `−0.0`, which becomes `+0.0`, so `matmul_column_into` passes `−0.0`, which
    /// changes nothing at all.
    fn column_product(&self, b: &Matrix, bias: f64, c: &mut Matrix) {
        self.assert_inner(b, "matmul");
        assert_eq!(
            b.cols, 1,
            "matmul_column: B is {}×{}, not a column",
            b.rows, b.cols
        );
        c.resize(self.rows, 1);
        let k = self.cols;
        if k == 0 {
            c.data.fill(0.0 + bias);
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
            for (c_i, sum) in c4.iter_mut().zip(sums) {
                *c_i = sum + bias;
            }
        }
        for (row, c_i) in rows.remainder().chunks_exact(k).zip(out.into_remainder()) {
            let mut sum = 0.0;
            for (&a, &x) in row.iter().zip(column) {
                sum += a * x;
            }
            *c_i = sum + bias;
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
    /// The reference form is a sum over the samples of outer products, one sample at a time:
    /// `C[p,j] += A[r,p]·B[r,j]` for r = 0, 1, 2, …, the inner loop adding a multiple of one
    /// contiguous row to another as in `matmul_ipj_into`. What runs sums each entry over the
    /// samples in that same order r = 0, 1, 2, …, so the bits are the same (tests compare them),
    /// in one of three ways: large products go to `gemm.rs`, which reads `Aᵀ` through swapped
    /// strides; when `B` is a single column, four samples per pass over `C`
    /// (`t_matmul_four_samples`); otherwise a register tile of `C` at a time
    /// (`transposed_product_in_tiles`).
    pub fn t_matmul_into(&self, b: &Matrix, c: &mut Matrix) {
        self.assert_same_rows(b, "t_matmul");
        c.resize(self.cols, b.cols);
        if b.cols == 1 {
            self.t_matmul_four_samples(b, c);
        } else if packing_pays(self.cols, self.rows, b.cols) {
            kernels::gemm::gemm(self.view().t(), b.view(), &mut c.data);
        } else {
            transposed_product_in_tiles(&self.data, self.cols, &b.data, b.cols, c, None);
        }
    }

    /// `C ← Aᵀ·B` and `s ← Σ_rows B`, the dense layer's backward `dW = Xᵀ·dZ` and
    /// `db = Σ_rows dZ` together.
    ///
    /// The reference is two steps, [`Matrix::t_matmul_into`] then [`Matrix::sum_rows_into`],
    /// each a pass over `B`. Both sums run over the samples in the order r = 0, 1, 2, …, so the
    /// column sums can ride along in the pass that forms `C` (in the tile that holds the first
    /// rows of `C`) with the same bits; a test compares them. What it saves is the second pass
    /// over `dZ`: for circles' first layer (Xᵀ·dZ with 800 × 2 and 800 × 10) the two steps took
    /// 7–9 µs, the tiles with the sums in the same pass 2–4 µs (a busy machine, so ranges).
    /// Products large enough to be packed (`gemm.rs`) add the sums while they pack `B`
    /// ([`kernels::gemm::gemm_column_sums`]), in the same order again.
    ///
    /// # Panics
    /// If `A` and `B` have different numbers of rows.
    pub fn t_matmul_sum_rows_into(&self, b: &Matrix, c: &mut Matrix, sums: &mut Matrix) {
        self.assert_same_rows(b, "t_matmul_sum_rows");
        if b.cols == 1 && self.cols > 0 {
            c.resize(self.cols, 1);
            sums.resize(1, 1);
            sums.data[0] = self.t_matmul_four_samples(b, c);
            return;
        }
        if b.cols > 1 && self.cols > 0 && packing_pays(self.cols, self.rows, b.cols) {
            // The sums added while gemm.rs packs B (`kernels::gemm::gemm_column_sums`, the same bits).
            c.resize(self.cols, b.cols);
            sums.resize(1, b.cols);
            kernels::gemm::gemm_column_sums(self.view().t(), b.view(), &mut c.data, &mut sums.data);
            return;
        }
        if b.cols == 1 || packing_pays(self.cols, self.rows, b.cols) || self.cols == 0 {
            self.t_matmul_into(b, c);
            b.sum_rows_into(sums);
            return;
        }
        c.resize(self.cols, b.cols);
        sums.resize(1, b.cols);
        let column_sums = Some(sums.data.as_mut_slice());
        transposed_product_in_tiles(&self.data, self.cols, &b.data, b.cols, c, column_sums);
    }

    /// [`Matrix::t_matmul_into`] for a single column `B` (n × 1), so `C` is a column (k × 1):
    /// `C[p] += A[r,p]·B[r]`, four samples per pass over `C`.
    ///
    /// Adding one sample at a time stores each `C[p]` and loads it back for the next sample, a
    /// round trip through memory on every addition. Taking four samples per pass keeps the
    /// running sum in a register for four additions, made in the same order r, r+1, r+2, r+3,
    /// so the bits do not change; it roughly halves the time of `dW = Xᵀ·dZ` for a network's
    /// one-output layer. Tested against the naive product on shapes with a remainder.
    ///
    /// Returns `Σ_r B[r]` (`db` of that layer), summed in the same pass in the order r = 0, 1,
    /// … from 0, as `sum_rows_into` does: a chain of n dependent additions that here runs
    /// beside the others instead of in a pass of its own.
    fn t_matmul_four_samples(&self, b: &Matrix, c: &mut Matrix) -> f64 {
        c.data.fill(0.0);
        let k = self.cols;
        let mut sum = 0.0;
        if k == 0 {
            return b.data.iter().fold(sum, |s, &x| s + x);
        }
        let c = &mut c.data;
        // Written with iterators over whole rows (no index to check), on the widest vectors
        // (`gemm::wide`): the update of C runs along p, so it vectorises.
        crate::kernels::simd::wide(
            #[inline(always)]
            || {
                let mut rows = self.data.chunks_exact(4 * k);
                let mut samples = b.data.chunks_exact(4);
                for (a, b4) in (&mut rows).zip(&mut samples) {
                    let (a0, rest) = a.split_at(k);
                    let (a1, rest) = rest.split_at(k);
                    let (a2, a3) = rest.split_at(k);
                    let (b0, b1, b2, b3) = (b4[0], b4[1], b4[2], b4[3]);
                    sum = sum + b0 + b1 + b2 + b3;
                    let a_rows = a0.iter().zip(a1).zip(a2).zip(a3);
                    for (c_p, (((&x0, &x1), &x2), &x3)) in c.iter_mut().zip(a_rows) {
                        *c_p = *c_p + x0 * b0 + x1 * b1 + x2 * b2 + x3 * b3;
                    }
                }
                let rest = rows.remainder().chunks_exact(k);
                for (a_r, &b_r) in rest.zip(samples.remainder()) {
                    sum += b_r;
                    for (c_p, &a_rp) in c.iter_mut().zip(a_r) {
                        *c_p += a_rp * b_r;
                    }
                }
                sum
            },
        )
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
        self.matmul_t_finish(b, c, &mut [], |_, _, _| {});
    }

    /// `C ← A·Bᵀ` as [`Matrix::matmul_t_into`], calling `apply(first_row, c_rows, d_rows)` on
    /// each block of finished rows of `C` (at most [`ROW_BLOCK`] rows, or 120 when the product
    /// is large enough for `gemm.rs`, which calls it from the thread that computed the block),
    /// with the same rows of `D`, which takes `C`'s shape: the dense layer's backward
    /// `dX = dZ·Wᵀ` followed by the activation's `dZ = dX ⊙ f′(Z)` one layer down, written
    /// into `D`, in one pass (`Dense::backward_activated`).
    ///
    /// Which loop forms the product is chosen from the shape of the whole product, so each entry
    /// has the bits `matmul_t_into` gives it.
    ///
    /// # Panics
    /// If `A` and `B` have different numbers of columns.
    pub fn matmul_t_map_into(
        &self,
        b: &Matrix,
        c: &mut Matrix,
        d: &mut Matrix,
        apply: impl Fn(usize, &mut [f64], &mut [f64]) + Sync,
    ) {
        d.resize(self.rows, b.rows);
        self.matmul_t_finish(b, c, &mut d.data, apply);
    }

    /// [`Matrix::matmul_t_map_into`] with `D` given as its numbers, or empty for none.
    fn matmul_t_finish(
        &self,
        b: &Matrix,
        c: &mut Matrix,
        d: &mut [f64],
        apply: impl Fn(usize, &mut [f64], &mut [f64]) + Sync,
    ) {
        assert_eq!(
            self.cols, b.cols,
            "matmul_t (A·Bᵀ): A is {}×{} and B is {}×{}; they need the same number of columns",
            self.rows, self.cols, b.rows, b.cols
        );
        let (n, m, k) = (self.rows, self.cols, b.rows);
        c.resize(n, k);
        if k == 0 || m == 0 || packing_pays(n, m, k) {
            if k > 0 && m > 0 {
                kernels::gemm::gemm_map(self.view(), b.view().t(), &mut c.data, d, &apply);
            } else {
                c.data.fill(0.0);
                apply(0, &mut c.data, d);
            }
            return;
        }
        // Products that used to go to `gemm.rs`, which sums in the order p = 0, 1, …, go to the
        // register tiles, which keep that order and so those bits; they read rows of a copy of
        // Bᵀ (k·m copies against n·k·m multiply-adds).
        let in_order = m > 1 && was_blocked(n, m, k);
        TRANSPOSED.with(|transposed| {
            let b_t = &mut *transposed.borrow_mut();
            if in_order {
                b.transpose_into(b_t);
            }
            let blocks = self
                .data
                .chunks(ROW_BLOCK * m)
                .zip(c.data.chunks_mut(ROW_BLOCK * k));
            for (block, (a_rows, c_rows)) in blocks.enumerate() {
                if m == 1 {
                    outer_product(a_rows, &b.data, c_rows);
                } else if in_order {
                    product_in_tiles(a_rows, m, &b_t.data, k, None, c_rows);
                } else {
                    for (c_row, a_row) in c_rows.chunks_exact_mut(k).zip(a_rows.chunks_exact(m)) {
                        for (c_ij, b_row) in c_row.iter_mut().zip(b.data.chunks_exact(m)) {
                            *c_ij = dot(a_row, b_row);
                        }
                    }
                }
                let first = block * ROW_BLOCK;
                let d_rows = match d.is_empty() {
                    true => &mut [],
                    false => &mut d[first * k..first * k + c_rows.len()],
                };
                apply(first, c_rows, d_rows);
            }
        });
    }

    /// The matrix as a [`kernels::gemm::View`] for the blocked product.
    pub fn view(&self) -> kernels::gemm::View<'_> {
        kernels::gemm::View::row_major(&self.data, self.rows, self.cols)
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
        for i in 0..self.rows {
            for j in 0..self.cols {
                t.data[j * self.rows + i] = self.data[i * self.cols + j];
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
        if self.cols == 1 {
            // One column (a network with one output): one bias for every entry, without a loop
            // over rows of length one.
            let bias = b.data[0];
            self.data.iter_mut().for_each(|x| *x += bias);
            return;
        }
        add_row(&mut self.data, &b.data);
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

    fn assert_same_rows(&self, b: &Matrix, operation: &str) {
        assert_eq!(
            self.rows, b.rows,
            "{operation} (Aᵀ·B): A is {}×{} and B is {}×{}; they need the same number of rows",
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

/// Rows per block for the passes that apply an activation (or its derivative) to the rows of a
/// product while they are still in the nearest cache: 64 rows of 20 numbers are 10 kB.
pub const ROW_BLOCK: usize = 64;

/// From this many multiply-adds (`n·k·m`) on, with every dimension at least 4,
/// [`Matrix::matmul_t_into`] sums each entry in the order p = 0, 1, 2, … (register tiles, or
/// `gemm.rs` for large products); below it, with four partial sums ([`dot`]). Both are right;
/// the threshold only fixes which bits a given shape gets, and it is where `gemm.rs` used to
/// take over, so that no result changed when the register tiles arrived.
pub const BLOCKED_THRESHOLD: usize = 16 * 16 * 16;

/// Whether `matmul_t` sums an `n×k` by `k×m` product in order p = 0, 1, … (see
/// [`BLOCKED_THRESHOLD`]).
fn was_blocked(n: usize, k: usize, m: usize) -> bool {
    n >= 4 && k >= 4 && m >= 4 && n.saturating_mul(k).saturating_mul(m) >= BLOCKED_THRESHOLD
}

/// Whether an `n×k` by `k×m` product goes to the packed, cache-blocked product of `gemm.rs`:
/// from `kernels::choose::FMA_THRESHOLD` multiply-adds on (64³, a digits-sized layer). Below it the
/// operands fit in the processor's caches, the register tiles read them in place, and packing
/// them first would cost about as much as the arithmetic (sine's 400 × 20 × 20 products took
/// 20–30 µs through `gemm.rs` and 11–12 µs in tiles). A dimension below 4 leaves most of
/// `gemm.rs`'s register tile empty.
fn packing_pays(n: usize, k: usize, m: usize) -> bool {
    n >= 4
        && k >= 4
        && m >= 4
        && n.saturating_mul(k).saturating_mul(m) >= kernels::choose::FMA_THRESHOLD
}

// ----- Small products in register tiles --------------------------------------------------------
//
// The i-p-j loop keeps one row of C in memory and loads and stores it again for every p; for the
// rows of 10 or 20 numbers of a small network, that traffic and the loop's own bookkeeping cost
// more than the multiply-adds. The functions below compute an MR × NR block of C (MR ≤ 4 rows,
// NR ≤ 12 columns, both known when compiling) as a local array that the compiler keeps in vector
// registers for the whole sum over p, reading A and B where they lie (no packing: at these sizes
// both fit in the nearest cache):
//
//     tile[r][j] ← 0;  for p = 0, 1, …, k−1:  tile[r][j] ← tile[r][j] + A[i+r, p]·B[p, j0+j]
//
// which is each entry's sum in the order of the i-p-j loop, so the bits are the same. A row of C
// is covered by blocks of 8 columns, then one of 4, 2 and 1 as needed, so no lane is wasted,
// except that the last 10 or 12 columns (rows of 10 = 8 + 2 and 20 = 8 + 12) form one tile of
// two vectors per row: each of a tile's sums waits for its previous addition, so a tile of 4
// columns on its own leaves the vector units idle half the time, while in the same loop as 8
// more columns its additions fill those gaps (sine's step about 2 % faster; the transposed
// tiles below do the same). The loops run inside `gemm::wide`, compiled for the widest vectors
// the processor has: a tile row of 8 numbers is then one AVX-512 register. (The closures are
// marked `#[inline(always)]`: without that the compiler kept them as separate functions built
// for the baseline, and the wide version gained nothing.)

/// `C ← A·B`, plus the row `bias` on every row when given, for `A` (n × k) and `B` (k × m)
/// row-major, in register tiles of 4 rows (then single rows for the remainder).
fn product_in_tiles(a: &[f64], k: usize, b: &[f64], m: usize, bias: Option<&[f64]>, c: &mut [f64]) {
    if m == 0 {
        return;
    }
    if k == 0 {
        // An empty sum is 0; the bias is then added to it, as the two-step form does.
        for c_row in c.chunks_exact_mut(m) {
            for (j, c_ij) in c_row.iter_mut().enumerate() {
                *c_ij = bias.map_or(0.0, |bias| 0.0 + bias[j]);
            }
        }
        return;
    }
    // With one or two inputs (the first layer of sine or circles) the sum over p is one or two
    // steps, and a loop around it costs more than it does: those get copies of the loops in
    // which k is a constant, so the compiler writes the steps out.
    crate::kernels::simd::wide(
        #[inline(always)]
        || match k {
            1 => rows_in_tiles::<1>(a, k, b, m, bias, c),
            2 => rows_in_tiles::<2>(a, k, b, m, bias, c),
            _ => rows_in_tiles::<0>(a, k, b, m, bias, c),
        },
    )
}

/// The loops of [`product_in_tiles`], for `k = K` when `K > 0`.
#[inline(always)]
fn rows_in_tiles<const K: usize>(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    bias: Option<&[f64]>,
    c: &mut [f64],
) {
    let k = if K > 0 { K } else { k };
    let mut a_rows = a.chunks_exact(4 * k);
    let mut c_rows = c.chunks_exact_mut(4 * m);
    for (a4, c4) in (&mut a_rows).zip(&mut c_rows) {
        row_tiles::<4>(a4, k, b, m, bias, c4);
    }
    let rest = a_rows.remainder().chunks_exact(k);
    for (a1, c1) in rest.zip(c_rows.into_remainder().chunks_exact_mut(m)) {
        row_tiles::<1>(a1, k, b, m, bias, c1);
    }
}

/// How a row of `m` columns of `C` is cut into register tiles, left to right: `block(j0, width)`
/// for blocks of 8 columns, the last 10 or 12 as one block (8 + 2 or 8 + 4, see the note above
/// `product_in_tiles`), then 4, 2 and 1. Both tiled products (`row_tiles`, `transposed_row_tiles`)
/// follow it; each column's sums are the same whatever block it falls in, so the cut changes the
/// speed, never the bits.
#[inline(always)]
fn for_each_column_block(m: usize, mut block: impl FnMut(usize, usize)) {
    let mut j0 = 0;
    while j0 + 8 < m && m - j0 != 10 && m - j0 != 12 {
        block(j0, 8);
        j0 += 8;
    }
    if let width @ (8 | 10 | 12) = m - j0 {
        return block(j0, width);
    }
    for width in [4, 2, 1] {
        if j0 + width <= m {
            block(j0, width);
            j0 += width;
        }
    }
}

/// MR whole rows of `C ← A·B (+ bias)`, one register tile per block of columns
/// ([`for_each_column_block`]).
#[inline(always)]
fn row_tiles<const MR: usize>(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    bias: Option<&[f64]>,
    c: &mut [f64],
) {
    for_each_column_block(
        m,
        #[inline(always)]
        |j0, width| match width {
            12 => tile::<MR, 12>(a, k, b, m, j0, bias, c),
            10 => tile::<MR, 10>(a, k, b, m, j0, bias, c),
            8 => tile::<MR, 8>(a, k, b, m, j0, bias, c),
            4 => tile::<MR, 4>(a, k, b, m, j0, bias, c),
            2 => tile::<MR, 2>(a, k, b, m, j0, bias, c),
            _ => tile::<MR, 1>(a, k, b, m, j0, bias, c),
        },
    );
}

/// The MR × NR block of `C ← A·B (+ bias)` at rows `0..MR` (of the rows `a` and `c` hold) and
/// columns `j0..j0 + NR`.
#[inline(always)]
fn tile<const MR: usize, const NR: usize>(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    j0: usize,
    bias: Option<&[f64]>,
    c: &mut [f64],
) {
    let a_rows: [&[f64]; MR] = std::array::from_fn(|r| &a[r * k..(r + 1) * k]);
    let mut tile = [[0.0; NR]; MR];
    for (p, b_row) in b.chunks_exact(m).enumerate() {
        let b_p: &[f64; NR] = b_row[j0..j0 + NR].try_into().expect("NR columns");
        for (sums, a_row) in tile.iter_mut().zip(&a_rows) {
            let a_ip = a_row[p];
            for (sum, &b_pj) in sums.iter_mut().zip(b_p) {
                *sum += a_ip * b_pj;
            }
        }
    }
    // The tile's rows are stored through arrays of NR numbers, a length known when compiling,
    // and the bias is copied out before anything is stored: the compiler cannot see that `c`
    // and `bias` do not overlap (the closure given to `gemm::wide` hides it), so with slices
    // it added the bias and stored the row one number at a time, with shuffles to take each
    // out of its vector (a tenth of a circles step).
    for (r, sums) in tile.iter().enumerate() {
        let c_row: &mut [f64; NR] = (&mut c[r * m + j0..r * m + j0 + NR])
            .try_into()
            .expect("NR columns");
        match bias {
            Some(bias) => {
                let b: [f64; NR] = bias[j0..j0 + NR].try_into().expect("NR columns");
                for ((c_ij, &sum), &b_j) in c_row.iter_mut().zip(sums).zip(&b) {
                    *c_ij = sum + b_j;
                }
            }
            None => *c_row = *sums,
        }
    }
}

/// `C ← Aᵀ·B` for `A` (n × k) and `B` (n × m), giving k × m, and the column sums of `B` when
/// `column_sums` is given, in register tiles of `C`: each tile sums over all n samples in the
/// order r = 0, 1, …, reading its MR numbers of row r of `A` and NR numbers of row r of `B`.
///
/// A tile's sums form chains of n dependent additions, so a pass over the samples takes at
/// least n additions' latency however little it computes; the tiles are therefore as large as
/// the registers allow (4 rows of `C` × 8 columns), to do as much as possible per pass.
fn transposed_product_in_tiles(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    c: &mut Matrix,
    mut column_sums: Option<&mut [f64]>,
) {
    if m == 0 || k == 0 {
        return;
    }
    let c = &mut c.data;
    crate::kernels::simd::wide(
        #[inline(always)]
        || {
            let mut p0 = 0;
            while p0 + 4 <= k {
                transposed_row_tiles::<4>(a, k, b, m, p0, c, column_sums.as_deref_mut());
                p0 += 4;
            }
            if p0 + 2 <= k {
                transposed_row_tiles::<2>(a, k, b, m, p0, c, column_sums.as_deref_mut());
                p0 += 2;
            }
            if p0 < k {
                transposed_row_tiles::<1>(a, k, b, m, p0, c, column_sums);
            }
        },
    )
}

/// Rows `p0..p0 + MR` of `C ← Aᵀ·B`, one register tile per block of columns
/// ([`for_each_column_block`]); the column sums of `B` ride along with the first rows of `C`
/// (p0 = 0).
#[inline(always)]
fn transposed_row_tiles<const MR: usize>(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    p0: usize,
    c: &mut [f64],
    column_sums: Option<&mut [f64]>,
) {
    let mut sums = column_sums.filter(|_| p0 == 0);
    for_each_column_block(
        m,
        #[inline(always)]
        |j0, width| {
            let at = (p0, j0);
            match width {
                12 => transposed_block::<MR, 12>(a, k, b, m, at, c, &mut sums),
                10 => transposed_block::<MR, 10>(a, k, b, m, at, c, &mut sums),
                8 => transposed_block::<MR, 8>(a, k, b, m, at, c, &mut sums),
                4 => transposed_block::<MR, 4>(a, k, b, m, at, c, &mut sums),
                2 => transposed_block::<MR, 2>(a, k, b, m, at, c, &mut sums),
                _ => transposed_block::<MR, 1>(a, k, b, m, at, c, &mut sums),
            }
        },
    );
}

/// [`transposed_tile`] with or without the column sums, chosen once per tile rather than once
/// per sample.
#[inline(always)]
fn transposed_block<const MR: usize, const NR: usize>(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    corner: (usize, usize),
    c: &mut [f64],
    column_sums: &mut Option<&mut [f64]>,
) {
    match column_sums {
        Some(sums) => transposed_tile::<MR, NR, true>(a, k, b, m, corner, c, sums),
        None => transposed_tile::<MR, NR, false>(a, k, b, m, corner, c, &mut []),
    }
}

/// The MR × NR block of `C ← Aᵀ·B` at rows `p0..p0 + MR`, columns `j0..j0 + NR`, and when
/// `SUMS` the column sums `Σ_r B[r, j]` of the same columns.
#[inline(always)]
fn transposed_tile<const MR: usize, const NR: usize, const SUMS: bool>(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    (p0, j0): (usize, usize),
    c: &mut [f64],
    column_sums: &mut [f64],
) {
    let mut tile = [[0.0; NR]; MR];
    let mut sums = [0.0; NR];
    for (a_row, b_row) in a.chunks_exact(k).zip(b.chunks_exact(m)) {
        let a_r: &[f64; MR] = a_row[p0..p0 + MR].try_into().expect("MR numbers");
        let b_r: &[f64; NR] = b_row[j0..j0 + NR].try_into().expect("NR numbers");
        for (tile_row, &a_rp) in tile.iter_mut().zip(a_r) {
            for (t, &b_rj) in tile_row.iter_mut().zip(b_r) {
                *t += a_rp * b_rj;
            }
        }
        if SUMS {
            for (s, &b_rj) in sums.iter_mut().zip(b_r) {
                *s += b_rj;
            }
        }
    }
    for (pp, tile_row) in tile.iter().enumerate() {
        let at = (p0 + pp) * m + j0;
        c[at..at + NR].copy_from_slice(tile_row);
    }
    if SUMS {
        column_sums[j0..j0 + NR].copy_from_slice(&sums);
    }
}

/// `C[i,j] ← a[i]·b[j]`, the outer product of two columns (`C` is a.len() × b.len()): what
/// `A·Bᵀ` is when `A` and `B` have one column, `dX = dZ·Wᵀ` for a layer with one output.
///
/// Each row of `C` is `b` scaled by one number. Written as a plain loop over a row of unknown
/// length (10 or 20), the compiler emitted scalar code with a loop's bookkeeping per entry;
/// blocks of 8 entries, a size known when compiling, become vector instructions (on the widest
/// vectors, through `gemm::wide`). One product per entry either way, so the same bits.
fn outer_product(a: &[f64], b: &[f64], c: &mut [f64]) {
    crate::kernels::simd::wide(
        #[inline(always)]
        || {
            for (c_row, &a_i) in c.chunks_exact_mut(b.len()).zip(a) {
                let mut c8 = c_row.chunks_exact_mut(8);
                let mut b8 = b.chunks_exact(8);
                for (c_block, b_block) in (&mut c8).zip(&mut b8) {
                    let c_block: &mut [f64; 8] = c_block.try_into().expect("8 entries");
                    // `b`'s numbers are copied before any of C is written: the compiler cannot
                    // tell that the two do not overlap (the closure hides it), and would
                    // otherwise load, multiply and store one number at a time.
                    let b_block: [f64; 8] = b_block.try_into().expect("8 entries");
                    *c_block = b_block.map(|b_j| a_i * b_j);
                }
                for (c_ij, &b_j) in c8.into_remainder().iter_mut().zip(b8.remainder()) {
                    *c_ij = a_i * b_j;
                }
            }
        },
    )
}

thread_local! {
    /// The copy of `Bᵀ` that [`Matrix::matmul_t_into`] gives the register tiles, kept between
    /// calls so that training allocates it once.
    static TRANSPOSED: std::cell::RefCell<Matrix> = const {
        std::cell::RefCell::new(Matrix { rows: 0, cols: 0, data: Vec::new() })
    };
}

/// `row ← row + b` for each row of `rows` (rows of `b.len()` numbers), in the order of
/// [`Matrix::add_row_in_place`] (the same bits): the bias of `Z = X·W + b` on a block of rows.
fn add_row(rows: &mut [f64], b: &[f64]) {
    for row in rows.chunks_exact_mut(b.len().max(1)) {
        for (x, &bias) in row.iter_mut().zip(b) {
            *x += bias;
        }
    }
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
