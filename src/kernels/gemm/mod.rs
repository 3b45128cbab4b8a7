//! The blocked, packed product: cache blocking, packing and a register-tiled kernel, as BLAS
//! does it.
//!
//! ```text
//! C ← A·B        A (m × k), B (k × n), C (m × n)
//! C[i,j] = Σ_p A[i,p]·B[p,j]
//! ```
//!
//! `Matrix::matmul_plain` computes this with the i-p-j loop, which a learner should read first.
//! That loop streams a whole row of `B` through the processor for every single `A[i,p]`, so for
//! large matrices it waits on memory: each number of `B` is fetched from far away `m` times. This
//! folder computes exactly the same sums, in the same order, but arranges the work so that nearly
//! every number comes from the processor's registers or its nearest cache: the five loops and
//! the split between threads here, the packing in `pack.rs`, the kernel for each instruction set
//! in `microkernel.rs`.
//!
//! # The five loops
//!
//! ```text
//! for jc in 0..n step NC            split C's columns: a KC × NC panel of B lives in L3
//!   for pc in 0..k step KC          split the sum over p; pack B[pc.., jc..] into NR-wide strips
//!     for ic in 0..m step MC        split C's rows; pack A[ic.., pc..] into MR-tall strips (L2)
//!       for jr in 0..NC step NR     one NR-wide strip of packed B (stays in L1)
//!         for ir in 0..MC step MR   one MR-tall strip of packed A
//!           kernel: the MR × NR tile of C, in registers, += Σ_{p in KC} A[:,p]·B[p,:]
//! ```
//!
//! - **Register tiling.** The kernel keeps an MR × NR block of `C` in registers for the whole
//!   sum over `p`: each step loads MR numbers of `A` and NR of `B` and does MR·NR multiply-adds,
//!   instead of one load and one store of `C` per multiply-add in the i-p-j loop.
//! - **Packing.** Before the kernel runs, the strips of `A` and `B` it will read are copied into
//!   contiguous buffers in exactly the order the kernel reads them (`p` by `p`, MR or NR numbers
//!   at a time), padded with zeros to whole strips. The copy costs `O(m·k + k·n)`, the product
//!   `O(m·k·n)`, and afterwards every read is sequential. Packing also absorbs transposes: the
//!   packer reads through strides, so `Aᵀ·B` and `A·Bᵀ` use the same kernel without building a
//!   transpose. Where `A`'s strips are already compact (a transposed `A`, as in `dW = Xᵀ·dZ`) or
//!   read only once (a row-major `A` times a `B` of at most 16 columns, as in `Z³ = A²·W³`), the
//!   kernel reads them where they lie instead (`StripA`), and the packing of `B` also adds
//!   `db = Σ_rows dZ` on the way ([`gemm_column_sums`]).
//! - **Cache blocking.** `KC`, `MC` and `NC` bound the panels so that the strip of `B` in use
//!   stays in L1, the packed block of `A` in L2, and the packed panel of `B` in L3.
//!
//! # Same sums, same bits (except with FMA)
//!
//! The kernel loads the tile of `C` when it continues a sum (`pc > 0`) and adds the products for
//! `p` in increasing order, one rounding for the product and one for the sum, exactly as the
//! i-p-j loop does: `c ← c + a·b`. Vector instructions only do several such independent `c` at
//! once. So the portable kernel and the AVX2 kernel give **the same bits** as
//! `Matrix::matmul_naive`, on every machine.
//!
//! The fused multiply-add `c ← a·b + c` (FMA) rounds once instead of twice. It is faster and
//! slightly more accurate, but its results differ in the last bits, so it would make the same
//! seed give different numbers on machines with and without FMA. It is therefore used only for
//! products of at least [`FMA_THRESHOLD`] multiply-adds (digits-sized networks and larger);
//! the demo, XOR, circles and sine stay below it and give the same bits everywhere. On a given
//! machine the choice is fixed, so results there are always reproducible.
//!
//! # Choosing the kernel at run time
//!
//! A default `cargo build` targets the x86-64 baseline (SSE2: two `f64` per instruction, no FMA).
//! Most x86-64 processors since 2013 have AVX2 (four `f64` per instruction) and FMA, and many
//! server processors AVX-512 (eight). The functions `gemm_avx2` and `gemm_avx512_fma` are the same
//! generic loops compiled with `#[target_feature(enable = …)]` for those instruction sets, and
//! they are called only after `is_x86_feature_detected!` has confirmed that this processor has
//! them: that check is what makes the `unsafe` calls of `microkernel.rs` sound. Everywhere else
//! the portable kernel runs. Inside the FMA variants the kernel uses `f64::mul_add`, which compiles
//! there to one FMA instruction; `mul_add` is never used elsewhere, because without FMA hardware
//! it becomes a slow library call.
//!
//! The vector width does not change the bits: a vector instruction does the same multiply and add
//! (or FMA) on each of its lanes that a scalar one would, so the AVX2 and AVX-512 kernels give
//! the same results as each other, with or without FMA, because the order of the sums over `p`
//! (including the KC slices) is the same in every kernel. Nor does the tile's shape: it decides
//! which entries of `C` are computed side by side, not how any one of them is computed.
//!
//! The kernels are written without intrinsics: a tile whose size is known when compiling, held in
//! a local array, which the compiler keeps in vector registers (`tile_sum`).
//!
//! # Threads: rows of C shared out, the same bits
//!
//! ```text
//! C = [ C₀ ]   rows 0 .. r₁         C₀ = A[0..r₁, :]·B      (this thread)
//!     [ C₁ ]   rows r₁ .. r₂        C₁ = A[r₁..r₂, :]·B     (a helper thread)
//!     [ …  ]
//! ```
//!
//! A product of at least [`THREADS_THRESHOLD`] multiply-adds is cut into blocks of rows of `C`,
//! one per thread, each a whole number of MR-row strips, and every block is an ordinary product
//! `Cᵢ = A[rows of block i, :]·B` computed by the same five loops. The blocks touch disjoint rows
//! of `C`, so they need no locking, and every entry `C[i,j]` is still the sum over `p` in
//! increasing order, in the same KC slices, by the same kernel (chosen from the size of the
//! *whole* product, so the FMA choice does not change either): cutting the rows changes which
//! thread computes an entry, never the operations that compute it. So the result has the same
//! bits on 1, 2 or 16 threads, and the tests check it. (Cutting the sum over `p` between threads
//! instead would add partial sums in a new order and change the last bits.)
//!
//! Each block packs (or reads in place, see `StripA`) its own rows of `A`, and packs all of
//! `B`, so `B` is packed once per thread: a small price when `B` is the weights or a gradient of
//! the batch. A product with more columns than rows, such as `dW¹ = Xᵀ·dZ¹` (64 × 1797 ·
//! 1797 × 128), where `B` is the larger operand, is cut by columns instead (`column_blocks`): each
//! thread computes a block of columns of `C` into a buffer of its own, copied into `C` at the
//! end, so no thread packs all of `B`; the same sums again.
//!
//! The number of threads is [`threads`] (`BACKPROP_THREADS`, see `threads.rs`, whose helper
//! threads compute the blocks).

mod microkernel;
mod pack;

use super::choose::{FMA_THRESHOLD, THREADS_THRESHOLD};
use super::simd::{has_avx2_fma, has_avx512};
use super::threads::{pool, threads};
use microkernel::{gemm_avx2, gemm_avx512_fma, kernel};
use pack::{pack, reads_a_in_place, StripA};
use std::cell::RefCell;
use std::sync::Mutex;

/// Rows of the register tile of the AVX2 kernel: 6 rows × 8 columns = 12 vector registers of four
/// `f64` for the tile, 2 for a row of `B`, 1 for a broadcast of `A`: 15 of the 16 available.
const MR_AVX2: usize = 6;
/// Columns of the AVX2 register tile (two vectors of four).
const NR_AVX2: usize = 8;
/// Rows of the narrow AVX-512 (FMA) register tile: 12 rows × 8 columns = 12 registers of eight
/// `f64` (of 32), enough independent sums to keep both FMA units busy. (Larger tiles, 8 × 16 or
/// 16 × 8, no longer fit: the compiler spills them to memory.)
const MR_AVX512: usize = 12;
/// Columns of the narrow AVX-512 register tile (one vector of eight).
const NR_AVX512: usize = 8;
/// Rows of the wide AVX-512 register tile: 6 rows × 16 columns, again 12 registers. Each step
/// over `p` loads two vectors of `B` and broadcasts 6 numbers of `A` for 12 FMAs, where the
/// narrow tile needs 12 broadcasts and one vector: the loads, not the FMAs, limit the narrow
/// tile (about 2 per cycle), so the wide one is faster on the digits products and on large
/// squares. With a short sum (`dZ³·W³ᵀ` sums 10 terms) most of the time goes to loading
/// and storing `C`, and the narrow tile is faster; [`wide_tile`] chooses.
const MR_AVX512_WIDE: usize = 6;
/// Columns of the wide AVX-512 register tile (two vectors of eight).
const NR_AVX512_WIDE: usize = 16;
/// Rows of the portable register tile: 4 × 4 = 8 SSE2 registers of two `f64`.
const MR_PORTABLE: usize = 4;
/// Columns of the portable register tile.
const NR_PORTABLE: usize = 4;
/// Length of each slice of the sum over `p`: a KC × NR strip of packed `B` (16 KiB, 32 KiB for
/// the wide AVX-512 tile) stays in L1.
const KC: usize = 256;
/// Rows of `A` packed at a time: an MC × KC block (240 KiB) stays in L2. A multiple of every MR.
const MC: usize = 120;
/// Columns of `B` packed at a time: a KC × NC panel (8 MiB) stays in L3.
const NC: usize = 4096;
/// Spare numbers at the front of a packing buffer, to start the packed block on a cache line.
const ALIGN_SPARE: usize = 7;

/// A read-only view of a matrix somewhere in a slice: entry `(i, j)` is
/// `data[i·row_stride + j·col_stride]`. A row-major matrix has strides `(cols, 1)`; its transpose
/// is the same slice with the strides swapped.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// The numbers.
    pub data: &'a [f64],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance in `data` between `(i, j)` and `(i + 1, j)`.
    pub row_stride: usize,
    /// Distance in `data` between `(i, j)` and `(i, j + 1)`.
    pub col_stride: usize,
}

impl<'a> View<'a> {
    /// A row-major `rows × cols` matrix stored in `data`.
    pub fn row_major(data: &'a [f64], rows: usize, cols: usize) -> View<'a> {
        View {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// A matrix as it is stored: row-major.
    pub fn of(matrix: &'a crate::matrix::Matrix) -> View<'a> {
        View::row_major(matrix.as_slice(), matrix.rows(), matrix.cols())
    }

    /// Rows `rows.start..rows.end` of the matrix, as a matrix of their own.
    pub fn row_range(self, rows: std::ops::Range<usize>) -> View<'a> {
        assert!(
            rows.start <= rows.end && rows.end <= self.rows,
            "View::row_range: rows {:?} of a matrix of {} rows",
            rows,
            self.rows
        );
        View {
            data: &self.data[rows.start * self.row_stride..],
            rows: rows.end - rows.start,
            ..self
        }
    }

    /// Columns `columns.start..columns.end` of the matrix, as a matrix of their own.
    pub fn column_range(self, columns: std::ops::Range<usize>) -> View<'a> {
        assert!(
            columns.start <= columns.end && columns.end <= self.cols,
            "View::column_range: columns {:?} of a matrix of {} columns",
            columns,
            self.cols
        );
        View {
            data: &self.data[columns.start * self.col_stride..],
            cols: columns.end - columns.start,
            ..self
        }
    }

    /// The transpose: the same numbers read with rows and columns swapped.
    pub fn t(self) -> View<'a> {
        View {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// The inner kernels this file has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Baseline x86-64 or any other processor: 4 × 4 tile, separate multiply and add.
    Portable,
    /// AVX2: 6 × 8 tile, separate multiply and add (the same bits as `Portable`).
    Avx2,
    /// AVX2 with fused multiply-add (faster; the last bits differ).
    Avx2Fma,
    /// AVX-512 with fused multiply-add: a 12 × 8 tile, or 6 × 16 for products with `k` and `n` of
    /// at least 32 (either way the same bits as `Avx2Fma`).
    Avx512Fma,
}

impl Kernel {
    /// Its name in benchmark output: `portable`, `avx2`, `avx2_fma`.
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx2Fma => "avx2_fma",
            Kernel::Avx512Fma => "avx512_fma",
        }
    }

    /// The kernels this processor can run, portable first.
    pub fn available() -> Vec<Kernel> {
        let mut kernels = vec![Kernel::Portable];
        if has_avx2_fma() {
            kernels.extend([Kernel::Avx2, Kernel::Avx2Fma]);
        }
        if has_avx512() {
            kernels.push(Kernel::Avx512Fma);
        }
        kernels
    }

    /// Rows of its register tile (MR) for a product with a sum of `k` terms and `n` columns.
    fn mr(&self, k: usize, n: usize) -> usize {
        match self {
            Kernel::Portable => MR_PORTABLE,
            Kernel::Avx2 | Kernel::Avx2Fma => MR_AVX2,
            Kernel::Avx512Fma if wide_tile(k, n) => MR_AVX512_WIDE,
            Kernel::Avx512Fma => MR_AVX512,
        }
    }

    /// Whether this kernel fuses multiply and add (and so rounds differently from the oracle).
    pub fn fused(&self) -> bool {
        matches!(self, Kernel::Avx2Fma | Kernel::Avx512Fma)
    }

    /// The kernel [`gemm`] uses for a product of `m·k·n` multiply-adds on this processor.
    pub fn for_size(m: usize, k: usize, n: usize) -> Kernel {
        let fused = m.saturating_mul(k).saturating_mul(n) >= FMA_THRESHOLD;
        match (has_avx512(), has_avx2_fma(), fused) {
            (true, _, true) => Kernel::Avx512Fma,
            (false, true, true) => Kernel::Avx2Fma,
            (_, true, false) => Kernel::Avx2,
            (_, false, _) => Kernel::Portable,
        }
    }
}

/// Whether the AVX-512 kernel uses its wide tile (6 × 16) rather than its narrow one (12 × 8) for
/// a product with a sum of `k` terms and `n` columns. Both compute every entry of `C` by the same
/// FMAs in the same order, so the choice changes the time, never the bits.
///
/// Between 9 and 16 columns (the 10 outputs of digits) the wide tile covers `C` in one strip
/// where the narrow one needs two, half of the second padding (digits' `Z³ = A²·W³`, with `A`
/// read in place, [`reads_a_in_place`]).
fn wide_tile(k: usize, n: usize) -> bool {
    k >= 32 && (n >= 32 || (NR_AVX512 < n && n <= NR_AVX512_WIDE))
}

/// `C ← A·B` with the kernel [`Kernel::for_size`] picks, on [`threads`] threads when the
/// product has at least [`THREADS_THRESHOLD`] multiply-adds (otherwise on this thread). `c` is
/// `A.rows × B.cols`, row-major. The result has the same bits whatever the number of threads.
///
/// # Panics
/// If `A.cols ≠ B.rows` or `c` has the wrong length.
pub fn gemm(a: View, b: View, c: &mut [f64]) {
    gemm_map(a, b, c, &mut [], &|_, _, _| {});
}

/// What [`gemm_map`] calls on each block of finished rows of `C`: `(first_row, c_rows, d_rows)`.
pub type FinishRows<'f> = &'f (dyn Fn(usize, &mut [f64], &mut [f64]) + Sync);

/// [`gemm`], then `finish(first_row, c_rows, d_rows)` on each block of rows of `C` as soon as
/// the block is finished (at most `MC` = 120 rows; all of `C` at once, on the calling thread,
/// for the products `thin` and `column_blocks` compute), with the same rows of `D` (a second
/// matrix of `C`'s shape, or empty, when `d_rows` is empty too).
///
/// This is how the dense layer runs its bias and activation (`Z ← Z + b`, `A ← f(Z)`) and the
/// activation's backward (`dZ ← dA ⊙ f′(Z)`) on large products: the reference is the whole
/// product, then one pass over all of `C` on the calling thread. Here each block is finished
/// while it is still in the nearest caches, by the thread that computed it, so the element-wise
/// work is shared between the threads too. `finish` sees each entry of `C` complete, so the bits
/// are those of the product followed by the pass (tests/gemm.rs and tests/engine.rs check it).
///
/// # Panics
/// As [`gemm`], or if `d` is neither empty nor as long as `c`.
pub fn gemm_map(a: View, b: View, c: &mut [f64], d: &mut [f64], finish: FinishRows) {
    let kernel = Kernel::for_size(a.rows, a.cols, b.cols);
    let size = a.rows.saturating_mul(a.cols).saturating_mul(b.cols);
    let threads = if size >= THREADS_THRESHOLD {
        threads()
    } else {
        1
    };
    gemm_threaded_map(kernel, threads, (a, b), (c, d), finish, &mut []);
}

/// [`gemm`], and `s ← Σ_rows B`: `s[j] = Σ_p B[p, j]`, summed in the order p = 0, 1, … from 0,
/// as `Matrix::sum_rows_into` sums (the same bits). This is the dense layer's backward
/// `dW = Xᵀ·dZ` with `db = Σ_rows dZ`.
///
/// The reference is the product, then a pass of its own over `B` for the sums (on the calling
/// thread, while the other threads wait). Here the sums are added while `B` is packed, which
/// reads every number of `B` once anyway, in the order the reference adds them, so the sums
/// cost almost nothing more than the packing. A product whose `B` is not read that way (a transposed `B`, or `thin`'s products)
/// sums in a pass of its own, `column_sums`.
///
/// # Panics
/// As [`gemm`], or if `s` does not have `B.cols` numbers.
pub fn gemm_column_sums(a: View, b: View, c: &mut [f64], sums: &mut [f64]) {
    assert!(
        sums.len() == b.cols,
        "gemm_column_sums: s holds {} numbers for B with {} columns",
        sums.len(),
        b.cols
    );
    let kernel = Kernel::for_size(a.rows, a.cols, b.cols);
    let size = a.rows.saturating_mul(a.cols).saturating_mul(b.cols);
    let threads = if size >= THREADS_THRESHOLD {
        threads()
    } else {
        1
    };
    let finish: FinishRows = &|_, _, _| {};
    gemm_threaded_map(kernel, threads, (a, b), (c, &mut []), finish, sums);
}

/// `s[j] ← Σ_p B[p, j]` in the order p = 0, 1, …: the reference for the sums of
/// [`gemm_column_sums`], and what it does when the packing cannot add them.
fn column_sums(b: View, sums: &mut [f64]) {
    sums.fill(0.0);
    for p in 0..b.rows {
        if b.col_stride == 1 {
            // A row of a row-major B: its numbers side by side, added as one vector loop.
            let row = &b.data[p * b.row_stride..p * b.row_stride + b.cols];
            for (sum, &x) in sums.iter_mut().zip(row) {
                *sum += x;
            }
            continue;
        }
        for (j, sum) in sums.iter_mut().enumerate() {
            *sum += b.data[p * b.row_stride + j * b.col_stride];
        }
    }
}

/// `C ← A·B` with a chosen kernel, on this thread (the tests and benchmarks compare kernels).
///
/// # Panics
/// If the shapes disagree, or the kernel is not available on this processor.
pub fn gemm_with(kernel: Kernel, a: View, b: View, c: &mut [f64]) {
    gemm_threaded(kernel, 1, a, b, c);
}

/// `C ← A·B` with a chosen kernel, its rows of `C` cut into (at most) `threads` blocks computed
/// at the same time: this thread takes one, the pool's helper threads the others (see the
/// module doc, "Threads"). `threads = 1` computes on this thread alone.
///
/// # Panics
/// If the shapes disagree, `threads` is 0, or the kernel is not available on this processor.
pub fn gemm_threaded(kernel: Kernel, threads: usize, a: View, b: View, c: &mut [f64]) {
    gemm_threaded_map(
        kernel,
        threads,
        (a, b),
        (c, &mut []),
        &|_, _, _| {},
        &mut [],
    );
}

/// [`gemm_threaded`] with [`gemm_map`]'s `finish` on each block of rows, by the thread that
/// computed it.
fn gemm_threaded_map(
    kernel: Kernel,
    threads: usize,
    (a, b): (View, View),
    (c, d): (&mut [f64], &mut [f64]),
    finish: FinishRows,
    sums: &mut [f64],
) {
    assert!(
        d.is_empty() || d.len() == c.len(),
        "gemm_map: D holds {} numbers, C {} (D must be empty or C's shape)",
        d.len(),
        c.len()
    );
    assert!(
        a.cols == b.rows && c.len() == a.rows * b.cols,
        "gemm: A is {}×{}, B is {}×{} and C holds {} numbers (needs A.cols = B.rows and {})",
        a.rows,
        a.cols,
        b.rows,
        b.cols,
        c.len(),
        a.rows * b.cols
    );
    assert!(threads > 0, "gemm: threads must be at least 1");
    let present = match kernel {
        Kernel::Portable => true,
        Kernel::Avx2 | Kernel::Avx2Fma => has_avx2_fma(),
        Kernel::Avx512Fma => has_avx512(),
    };
    assert!(
        present,
        "gemm: the {} kernel needs instructions this processor lacks",
        kernel.name()
    );
    // The packing of B adds the sums when it reads B's rows as they lie (see `pack`).
    let packing_sums = b.col_stride == 1 && b.row_stride >= b.cols && b.cols > 1;
    let thin_product = b.cols < NR_AVX512_WIDE && a.rows >= 2 * NR_AVX512_WIDE && a.cols > a.rows;
    let sums = if !sums.is_empty() && (!packing_sums || thin_product || a.rows == 0) {
        column_sums(b, sums);
        &mut []
    } else {
        sums
    };
    if a.rows == 0 || b.cols == 0 {
        return finish(0, c, d);
    }
    if a.cols == 0 {
        c.fill(-0.0); // an empty sum (see `Matrix`'s docs, "Rounding")
        sums.fill(0.0);
        return finish(0, c, d);
    }
    if thin_product {
        // Few columns (digits' 10 classes) and a long sum: C = A·B is computed as Cᵀ = Bᵀ·Aᵀ
        // (see `thin`).
        thin(kernel, threads, (a, b), c);
        return finish(0, c, d);
    }
    if threads > 1 && b.cols > a.rows && b.cols > NR_AVX512_WIDE {
        column_blocks(kernel, threads, (a, b), c, sums);
        return finish(0, c, d);
    }
    // Blocks of whole MR-row strips, so that cutting adds no partly empty strip.
    let mr = kernel.mr(a.cols, b.cols);
    let strips = a.rows.div_ceil(mr);
    let blocks = threads.min(strips);
    PACKED.with(|buffers| {
        let buffers = &mut *buffers.borrow_mut();
        if buffers.len() < blocks {
            buffers.resize_with(blocks, Default::default);
        }
        if blocks == 1 {
            return product(kernel, (a, b), (c, d, 0), finish, &mut buffers[0], sums);
        }
        // The blocks are handed out in order from one queue: the first thread to ask gets block
        // 0, the next block 1, …, each with its own rows of C and its own packing buffers.
        // Block i is the same rows whoever computes it, and if a helper is slow to wake, the
        // caller simply takes the next block itself.
        let n = b.cols;
        let queue = Mutex::new(Blocks {
            next: 0,
            c,
            d,
            buffers: &mut buffers[..blocks],
            sums,
        });
        let work = || loop {
            let (rows, c_out, packed, sums) = {
                let mut queue = queue
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let i = queue.next;
                if i == blocks {
                    return;
                }
                queue.next += 1;
                let first = i * strips / blocks * mr;
                let end = ((i + 1) * strips / blocks * mr).min(a.rows);
                let (c_block, c_rest) =
                    std::mem::take(&mut queue.c).split_at_mut((end - first) * n);
                queue.c = c_rest;
                let d_len = if queue.d.is_empty() { 0 } else { c_block.len() };
                let (d_block, d_rest) = std::mem::take(&mut queue.d).split_at_mut(d_len);
                queue.d = d_rest;
                let (packed, rest) = std::mem::take(&mut queue.buffers)
                    .split_first_mut()
                    .expect("a pair of buffers per block");
                queue.buffers = rest;
                // Every block packs all of B; the first adds the sums.
                let sums = std::mem::take(&mut queue.sums);
                (first..end, (c_block, d_block), packed, sums)
            };
            let (first, (c_block, d_block)) = (rows.start, c_out);
            product(
                kernel,
                (a.row_range(rows), b),
                (c_block, d_block, first),
                finish,
                packed,
                sums,
            );
        };
        pool::run(blocks - 1, &work);
    });
}

/// `C ← A·B` for a product with fewer columns than the widest tile (`n` < 16), at least 32 rows
/// and a longer sum than it has rows, computed as its transpose `Cᵀ = Bᵀ·Aᵀ` into a buffer,
/// then transposed into `C`.
///
/// For digits' `dW³ = A²ᵀ·dZ³` (64 × 1797 · 1797 × 10) a good part of each register tile is
/// padding: 10 columns in a tile 16 wide (or two strips of 8 in the narrow tile). Transposed
/// (10 × 1797 · 1797 × 64), the 10 columns become 10 rows (two strips of 6 in the wide tile)
/// and the 64 run along its 16 columns, with no padding. Each entry is the same sum
/// `Σ_p B[p,j]·A[i,p]` in the same order, and a product `b·a` rounds exactly as `a·b` does (with
/// or without FMA), so the bits are those of `A·B` (tested). A product whose sum is shorter than
/// it has rows, such as the forward `Z³ = A²·W³` (1797 × 64 · 64 × 10), gains nothing this way:
/// it reads `A²` in place instead of packing it (see `StripA`), hence the condition on the
/// length of the sum.
fn thin(kernel: Kernel, threads: usize, (a, b): (View, View), c: &mut [f64]) {
    let (m, n) = (a.rows, b.cols);
    THIN.with(|buffer| {
        let c_t = &mut *buffer.borrow_mut();
        if c_t.len() < n * m {
            c_t.resize(n * m, 0.0);
        }
        let c_t = &mut c_t[..n * m]; // (n, m)
        gemm_threaded_map(
            kernel,
            threads,
            (b.t(), a.t()),
            (c_t, &mut []),
            &|_, _, _| {},
            &mut [],
        );
        for (i, c_row) in c.chunks_exact_mut(n).enumerate() {
            for (j, c_ij) in c_row.iter_mut().enumerate() {
                *c_ij = c_t[j * m + i];
            }
        }
    });
}

/// `C ← A·B` on up to `threads` threads, each computing a block of **columns** of `C` into a
/// buffer of its own, copied into `C` at the end: for products with more columns than rows.
///
/// Cut by rows, every block packs all of `B`; when `B` is the larger operand, as in
/// `dW¹ = Xᵀ·dZ¹` (64 × 1797 · 1797 × 128), that packing is repeated on every thread and takes
/// most of what the second thread saves. Cut by columns, every block packs all of `A`
/// and its own columns of `B`. Each entry of `C` is still the same sum by the same kernel, so
/// the bits are those of one thread (tests/gemm.rs). The blocks are whole strips of 16 columns
/// (a multiple of every kernel's NR).
fn column_blocks(
    kernel: Kernel,
    threads: usize,
    (a, b): (View, View),
    c: &mut [f64],
    sums: &mut [f64],
) {
    let (m, n) = (a.rows, b.cols);
    let strips = n.div_ceil(NR_AVX512_WIDE);
    let blocks = threads.min(strips);
    let columns = |i: usize| {
        let first = i * strips / blocks * NR_AVX512_WIDE;
        first..((i + 1) * strips / blocks * NR_AVX512_WIDE).min(n)
    };
    PACKED.with(|buffers| {
        COLUMN_BLOCKS.with(|outputs| {
            let buffers = &mut *buffers.borrow_mut();
            let outputs = &mut *outputs.borrow_mut();
            if buffers.len() < blocks {
                buffers.resize_with(blocks, Default::default);
            }
            if outputs.len() < blocks {
                outputs.resize_with(blocks, Vec::new);
            }
            for (i, output) in outputs[..blocks].iter_mut().enumerate() {
                if output.len() < m * columns(i).len() {
                    output.resize(m * columns(i).len(), 0.0);
                }
            }
            // Handed out in order from one queue, as the row blocks of `gemm_threaded_map` are.
            // Each block adds the sums of its own columns of B, if asked.
            let queue = Mutex::new((0, &mut buffers[..blocks], &mut outputs[..blocks], sums));
            let work = || loop {
                let (i, packed, output, sums) = {
                    let mut queue = queue
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    let i = queue.0;
                    if i == blocks {
                        return;
                    }
                    queue.0 += 1;
                    let (packed, rest) = std::mem::take(&mut queue.1)
                        .split_first_mut()
                        .expect("a pair of buffers per block");
                    queue.1 = rest;
                    let (output, rest) = std::mem::take(&mut queue.2)
                        .split_first_mut()
                        .expect("an output per block");
                    queue.2 = rest;
                    let width = if queue.3.is_empty() {
                        0
                    } else {
                        columns(i).len()
                    };
                    let (sums, rest) = std::mem::take(&mut queue.3).split_at_mut(width);
                    queue.3 = rest;
                    (i, packed, output, sums)
                };
                let columns = columns(i);
                let c_block = &mut output[..m * columns.len()];
                let b_block = b.column_range(columns);
                product(
                    kernel,
                    (a, b_block),
                    (c_block, &mut [], 0),
                    &|_, _, _| {},
                    packed,
                    sums,
                );
            };
            pool::run(blocks - 1, &work);
            for (i, output) in outputs[..blocks].iter().enumerate() {
                let columns = columns(i);
                let block_rows = output[..m * columns.len()].chunks_exact(columns.len());
                for (c_row, block_row) in c.chunks_exact_mut(n).zip(block_rows) {
                    c_row[columns.clone()].copy_from_slice(block_row);
                }
            }
        })
    });
}

/// What is left to hand out of a threaded product (see [`gemm_threaded`]).
struct Blocks<'c, 'b> {
    /// The next block's number.
    next: usize,
    /// The rows of C not yet handed out.
    c: &'c mut [f64],
    /// The same rows of D (empty if D is).
    d: &'c mut [f64],
    /// Packing buffers not yet handed out, one pair per block.
    buffers: &'b mut [(Vec<f64>, Vec<f64>)],
    /// The column sums of B (see [`gemm_column_sums`]) for the first block to add, or empty.
    sums: &'c mut [f64],
}

/// `C ← A·B` on this thread with the given kernel (already checked to exist) and buffers, then
/// `finish` on each block of finished rows; `C` and `D` are the rows from `first` on of the
/// whole product's.
fn product(
    kernel: Kernel,
    (a, b): (View, View),
    (c, d, first): (&mut [f64], &mut [f64], usize),
    finish: FinishRows,
    packed: &mut (Vec<f64>, Vec<f64>),
    sums: &mut [f64],
) {
    let (packed_a, packed_b) = packed;
    let n = b.cols;
    let mut finished = |i0: usize, c_rows: &mut [f64]| {
        let d_rows = match d.is_empty() {
            true => &mut [],
            false => &mut d[i0 * n..i0 * n + c_rows.len()],
        };
        finish(first + i0, c_rows, d_rows);
    };
    let rows_complete: RowsComplete = &mut finished;
    match kernel {
        Kernel::Portable => blocked::<MR_PORTABLE, NR_PORTABLE, false>(
            a,
            b,
            c,
            (packed_a, packed_b),
            rows_complete,
            true,
            sums,
        ),
        // SAFETY: each function is compiled for the instruction sets its attribute names;
        // `gemm_threaded` has checked that this processor has them, so every instruction in it
        // exists here.
        Kernel::Avx512Fma => unsafe {
            gemm_avx512_fma(
                wide_tile(a.cols, b.cols),
                a,
                b,
                c,
                (packed_a, packed_b),
                rows_complete,
                sums,
            )
        },
        Kernel::Avx2 | Kernel::Avx2Fma => unsafe {
            gemm_avx2(
                kernel.fused(),
                a,
                b,
                c,
                (packed_a, packed_b),
                rows_complete,
                sums,
            )
        },
    }
}

/// The packing buffers of one product, for `A` and for `B`.
type Buffers<'p> = (&'p mut Vec<f64>, &'p mut Vec<f64>);

/// What `blocked` calls on each block of finished rows: `(first_row, c_rows)`, rows counted
/// from the start of its `C`.
type RowsComplete<'f> = &'f mut dyn FnMut(usize, &mut [f64]);

thread_local! {
    /// The packing buffers (one pair per block of a threaded product), reused by every product
    /// this thread starts, so that after the first product of the largest size no product asks
    /// the allocator for memory, and no helper thread needs buffers of its own.
    static PACKED: RefCell<Vec<(Vec<f64>, Vec<f64>)>> = const { RefCell::new(Vec::new()) };
    /// The transposed result of a thin product (see `thin`), reused likewise.
    static THIN: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    /// The blocks of columns of a product cut by columns (see `column_blocks`), reused likewise.
    static COLUMN_BLOCKS: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

/// The five loops. `#[inline(always)]` so that each caller (the portable function and the AVX2
/// one) gets its own copy compiled with its own instruction set.
///
/// With `a_in_place`, whole strips of `A` are read where they lie instead of packed, when `A`
/// is row-major (`X·W`, `dZ·Wᵀ`) or the transpose of a row-major matrix (`Xᵀ·dZ`); see
/// [`StripA`]. Only a last strip with fewer than MR rows is still packed (padded with zeros).
#[inline(always)]
fn blocked<const MR: usize, const NR: usize, const FMA: bool>(
    a: View,
    b: View,
    c: &mut [f64],
    packed: Buffers,
    rows_complete: RowsComplete,
    a_in_place: bool,
    sums: &mut [f64],
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let (packed_a, packed_b) = packed;
    let a_in_place = a_in_place && reads_a_in_place(a, n);
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            let b_start = pc * b.row_stride + jc * b.col_stride;
            let b_strides = (b.row_stride, b.col_stride);
            let sums = match sums.is_empty() {
                true => &mut [],
                false => &mut sums[jc..jc + nc],
            };
            if pc == 0 {
                sums.fill(0.0);
            }
            let packed_b = pack::<NR>(packed_b, b.data, b_start, b_strides, (kc, nc), sums);
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                // Strips 0..in_place are read from A itself, the rest from the packed block.
                let in_place = if a_in_place { mc / MR } else { 0 };
                let first_packed = ic + in_place * MR;
                let a_start = first_packed * a.row_stride + pc * a.col_stride;
                let a_strides = (a.col_stride, a.row_stride);
                let to_pack = (kc, ic + mc - first_packed);
                let packed_a = pack::<MR>(packed_a, a.data, a_start, a_strides, to_pack, &mut []);
                for (jr, b_strip) in packed_b.chunks_exact(kc * NR).enumerate() {
                    let j0 = jc + jr * NR;
                    let cols = NR.min(n - j0);
                    for s in 0..mc.div_ceil(MR) {
                        let i0 = ic + s * MR;
                        let rows = MR.min(m - i0);
                        let a_strip = match s < in_place {
                            true => StripA::in_place(a, i0, pc, kc),
                            false => {
                                StripA::Packed(&packed_a[(s - in_place) * kc * MR..][..kc * MR])
                            }
                        };
                        let tile = &mut c[i0 * n + j0..];
                        kernel::<MR, NR, FMA>(a_strip, b_strip, tile, n, rows, cols, pc > 0);
                    }
                }
                if pc + kc == k && jc + nc == n {
                    // The last slice of the sum and the last columns: rows ic.. are finished.
                    rows_complete(ic, &mut c[ic * n..(ic + mc) * n]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product by the blocked loops with an MR × NR tile, with fused multiply-adds.
    /// (Outside the functions compiled for FMA, `mul_add` is a library call: slow, but rounded
    /// exactly as the instruction rounds, so the bits are those of the fast kernels.)
    fn fused<const MR: usize, const NR: usize>(a: View, b: View) -> Vec<u64> {
        blocked_bits::<MR, NR, true>(a, b, false)
    }

    /// The product by the blocked loops, `A` packed or (where it can be) read in place.
    fn blocked_bits<const MR: usize, const NR: usize, const FMA: bool>(
        a: View,
        b: View,
        a_in_place: bool,
    ) -> Vec<u64> {
        let mut c = vec![f64::NAN; a.rows * b.cols];
        let (mut packed_a, mut packed_b) = (Vec::new(), Vec::new());
        let buffers = (&mut packed_a, &mut packed_b);
        blocked::<MR, NR, FMA>(a, b, &mut c, buffers, &mut |_, _| {}, a_in_place, &mut []);
        c.into_iter().map(f64::to_bits).collect()
    }

    #[test]
    fn strips_of_a_read_in_place_give_the_bits_of_packed_ones() {
        let mut rng = crate::rng::Rng::new(7);
        // Row-major A with up to 16 columns in C, and transposed A: whole strips and a last
        // partial one, several slices of the sum (KC) and of the rows (MC).
        for (m, k, n) in [
            (1797, 64, 10),
            (250, 300, 16),
            (13, 40, 9),
            (64, 600, 70),
            (7, 5, 3),
        ] {
            let a = crate::matrix::Matrix::random_uniform(m, k, -1.0, 1.0, &mut rng);
            let a_t = crate::matrix::Matrix::random_uniform(k, m, -1.0, 1.0, &mut rng);
            let b = crate::matrix::Matrix::random_uniform(k, n, -1.0, 1.0, &mut rng);
            for a in [View::of(&a), View::of(&a_t).t()] {
                let b = View::of(&b);
                let what = format!(
                    "{m}×{k}·{k}×{n}, A strides {:?}",
                    (a.row_stride, a.col_stride)
                );
                let packed = blocked_bits::<MR_PORTABLE, NR_PORTABLE, false>(a, b, false);
                let in_place = blocked_bits::<MR_PORTABLE, NR_PORTABLE, false>(a, b, true);
                assert_eq!(in_place, packed, "portable, {what}");
                let packed = fused::<MR_AVX512_WIDE, NR_AVX512_WIDE>(a, b);
                for in_place in [
                    blocked_bits::<MR_AVX512_WIDE, NR_AVX512_WIDE, true>(a, b, true),
                    blocked_bits::<MR_AVX512, NR_AVX512, true>(a, b, true),
                    blocked_bits::<MR_AVX2, NR_AVX2, true>(a, b, true),
                ] {
                    assert_eq!(in_place, packed, "fused, {what}");
                }
            }
        }
    }

    #[test]
    fn a_thin_product_computed_transposed_gives_the_bits_of_the_direct_one() {
        let mut rng = crate::rng::Rng::new(6);
        for (m, k, n) in [(64, 1797, 10), (40, 300, 3), (33, 100, 15), (32, 33, 1)] {
            let a = crate::matrix::Matrix::random_uniform(m, k, -1.0, 1.0, &mut rng);
            let b = crate::matrix::Matrix::random_uniform(k, n, -1.0, 1.0, &mut rng);
            let (a, b) = (View::of(&a), View::of(&b));
            let thin_bits = |kernel: Kernel, threads: usize| {
                let mut c = vec![f64::NAN; m * n];
                thin(kernel, threads, (a, b), &mut c);
                c.into_iter().map(f64::to_bits).collect::<Vec<_>>()
            };
            let mut direct = vec![f64::NAN; m * n];
            let buffers = (&mut Vec::new(), &mut Vec::new());
            blocked::<MR_PORTABLE, NR_PORTABLE, false>(
                a,
                b,
                &mut direct,
                buffers,
                &mut |_, _| {},
                false,
                &mut [],
            );
            let direct: Vec<u64> = direct.into_iter().map(f64::to_bits).collect();
            assert_eq!(thin_bits(Kernel::Portable, 1), direct, "{m}×{k}·{k}×{n}");
            let direct_fused = fused::<MR_AVX512, NR_AVX512>(a, b);
            for kernel in Kernel::available().into_iter().filter(Kernel::fused) {
                for threads in [1, 2, 3] {
                    let what = format!("{}, {m}×{k}·{k}×{n}, {threads} threads", kernel.name());
                    assert_eq!(thin_bits(kernel, threads), direct_fused, "{what}");
                }
            }
        }
    }

    #[test]
    fn every_tile_shape_gives_the_same_bits() {
        let mut rng = crate::rng::Rng::new(5);
        for (m, k, n) in [(37, 300, 45), (130, 257, 21), (13, 40, 70), (6, 1, 16)] {
            let a = crate::matrix::Matrix::random_uniform(m, k, -1.0, 1.0, &mut rng);
            let b = crate::matrix::Matrix::random_uniform(k, n, -1.0, 1.0, &mut rng);
            let (a, b) = (View::of(&a), View::of(&b));
            let narrow = fused::<MR_AVX512, NR_AVX512>(a, b);
            assert_eq!(
                fused::<MR_AVX512_WIDE, NR_AVX512_WIDE>(a, b),
                narrow,
                "{m}×{k}·{k}×{n}"
            );
            assert_eq!(fused::<MR_AVX2, NR_AVX2>(a, b), narrow, "{m}×{k}·{k}×{n}");
        }
    }
}
