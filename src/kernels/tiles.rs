//! Small products in register tiles: the products of small networks, read where they lie.
//!
//! The i-p-j loop of `matrix.rs` keeps one row of `C` in memory and loads and stores it again
//! for every `p`; for the rows of 10 or 20 numbers of a small network, that traffic and the
//! loop's own bookkeeping cost more than the multiply-adds. Here an MR × NR block of `C` (MR ≤ 4
//! rows, NR ≤ 12 columns, both known when compiling) is a local array that the compiler keeps in
//! vector registers for the whole sum over `p`, reading `A` and `B` where they lie (no packing:
//! at these sizes both fit in the nearest cache):
//!
//! ```text
//! tile[r][j] ← 0;   for p = 0, 1, …, k−1:   tile[r][j] ← tile[r][j] + A[i+r, p]·B[p, j0+j]
//! ```
//!
//! (the tile starting from −0, as every sum of a product does) which is each entry's sum in the
//! order of the i-p-j loop, so the bits are the same (the tests compare them). The same holds for the other shapes here:
//!
//! ```text
//! product               C = A·B (+ b)     tiles of 4 rows of C, then single rows
//! column_product        c = A·b (+ b₀)    one output column: four rows' dot products at once
//! transposed_product    C = Aᵀ·B          tiles of C, each summed over all samples r = 0, 1, …;
//!                       (Σ_rows B)        the column sums of B ride along (db = Σ_rows dZ)
//! transposed_column     c = Aᵀ·b, Σ b     one column: four samples per pass over c
//! ```
//!
//! `A·Bᵀ` is `product` on a copy of `Bᵀ`; with one inner column (`dX = dZ·Wᵀ` of a layer with one
//! output, an outer product) `B` is its own transpose and no copy is made, and `product` with
//! `k = 1` is each row of `B` scaled: `−0 + a·b` is `a·b` itself, and the compiler knows it.
//!
//! A row of `C` is covered by blocks of 8 columns, then one of 4, 2 and 1 as needed, so no lane
//! is wasted, except that the last 10 or 12 columns (rows of 10 = 8 + 2 and 20 = 8 + 12) form
//! one tile of two vectors per row: each of a tile's sums waits for its previous addition, so a
//! narrow tile on its own leaves the vector units idle half the time, while in the same loop as
//! 8 more columns its additions fill those gaps. Every loop runs inside
//! [`on_widest_vectors`], compiled for the widest vectors the processor has: a tile row of 8
//! numbers is then one AVX-512 register.

use super::simd::on_widest_vectors;

/// `C ← A·B`, plus the row `bias` on every row when given, for `A` (n × k) and `B` (k × m)
/// row-major, `n = a.len() / k`, in register tiles of 4 rows (then single rows for the rest).
pub(super) fn product(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    bias: Option<&[f64]>,
    c: &mut [f64],
) {
    if m == 0 {
        return;
    }
    if k == 0 {
        // An empty sum is −0 (see `Matrix`'s docs, "Rounding"); the bias is then added to it,
        // as the plain form does.
        for c_row in c.chunks_exact_mut(m) {
            for (j, c_ij) in c_row.iter_mut().enumerate() {
                *c_ij = bias.map_or(-0.0, |bias| -0.0 + bias[j]);
            }
        }
        return;
    }
    // With one or two inputs (the first layer of sine or circles) the sum over p is one or two
    // steps, and a loop around it costs more than it does: those get copies of the loops in
    // which k is a constant, so the compiler writes the steps out.
    on_widest_vectors(
        #[inline(always)]
        || match k {
            1 => rows_in_tiles::<1>(a, k, b, m, bias, c),
            2 => rows_in_tiles::<2>(a, k, b, m, bias, c),
            _ => rows_in_tiles::<0>(a, k, b, m, bias, c),
        },
    )
}

/// The loops of [`product`], for `k = K` when `K > 0`.
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
/// for blocks of 8 columns, the last 10 or 12 as one block (8 + 2 or 8 + 4, see the module doc),
/// then 4, 2 and 1. Both tiled products follow it; each column's sums are the same whatever
/// block it falls in, so the cut changes the speed, never the bits.
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

/// MR whole rows of `C ← A·B (+ bias)`, one register tile per block of columns.
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
    let mut tile = [[-0.0; NR]; MR];
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
    // and `bias` do not overlap (the closure given to `on_widest_vectors` hides it), and with
    // slices it would add the bias and store the row one number at a time.
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

/// `c[i] ← (Σ_p A[i,p]·b[p]) + bias` for `A` (n × k) and a single column `b` (k numbers): a
/// matrix-vector product, `Z = X·W + b` of a layer with one output.
///
/// The i-p-j loop would run its inner loop over a row of length one, paying a loop's overhead
/// for each multiply-add. Here each `c[i]` is a sum along a contiguous row of `A`; four rows are
/// summed side by side, so four independent additions are in flight while each sum still takes
/// its products in the order p = 0, 1, 2, … from −0. `C = A·b` without a bias passes `−0.0`, the
/// one number whose addition changes nothing at all (a bias of `+0.0` would turn a sum of `−0.0`
/// into `+0.0`).
pub(super) fn column_product(a: &[f64], k: usize, column: &[f64], bias: f64, c: &mut [f64]) {
    if k == 0 {
        c.fill(-0.0 + bias);
        return;
    }
    let mut rows = a.chunks_exact(4 * k);
    let mut out = c.chunks_exact_mut(4);
    for (four_rows, c4) in (&mut rows).zip(&mut out) {
        let (r0, rest) = four_rows.split_at(k);
        let (r1, rest) = rest.split_at(k);
        let (r2, r3) = rest.split_at(k);
        let mut sums = [-0.0; 4];
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
        let mut sum = -0.0;
        for (&a, &x) in row.iter().zip(column) {
            sum += a * x;
        }
        *c_i = sum + bias;
    }
}

/// `C ← Aᵀ·B` for `A` (n × k) and `B` (n × m), giving k × m, and the column sums of `B` when
/// `column_sums` is given, in register tiles of `C`: each tile sums over all n samples in the
/// order r = 0, 1, …, reading its MR numbers of row r of `A` and NR numbers of row r of `B`.
///
/// A tile's sums form chains of n dependent additions, so a pass over the samples takes at
/// least n additions' latency however little it computes; the tiles are therefore as large as
/// the registers allow (4 rows of `C` × 8 columns), to do as much as possible per pass.
pub(super) fn transposed_product(
    a: &[f64],
    k: usize,
    b: &[f64],
    m: usize,
    c: &mut [f64],
    mut column_sums: Option<&mut [f64]>,
) {
    if m == 0 || k == 0 {
        return;
    }
    on_widest_vectors(
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

/// Rows `p0..p0 + MR` of `C ← Aᵀ·B`, one register tile per block of columns; the column sums
/// of `B` ride along with the first rows of `C` (p0 = 0).
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
    let mut tile = [[-0.0; NR]; MR];
    let mut sums = [0.0; NR]; // Σ_rows B, from 0 as `Matrix::sum_rows_into` adds it
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

/// `c[p] ← Σ_r A[r,p]·b[r]` for `A` (n × k) and a single column `b` (n numbers), so `c` is a
/// column of k, and returns `Σ_r b[r]`: `dW = Xᵀ·dZ` and `db = Σ_rows dZ` of a layer with one
/// output, in one pass.
///
/// Adding one sample at a time stores each `c[p]` and loads it back for the next sample, a
/// round trip through memory on every addition. Taking four samples per pass keeps the running
/// sum in a register for four additions, made in the same order r, r+1, r+2, r+3, so the bits do
/// not change. The sum of `b` is a chain of n dependent additions in the order r = 0, 1, … from
/// 0, which here runs beside the others instead of in a pass of its own.
pub(super) fn transposed_column(a: &[f64], k: usize, b: &[f64], c: &mut [f64]) -> f64 {
    c.fill(-0.0);
    let mut sum = 0.0; // Σ_r b[r], from 0 as `Matrix::sum_rows_into` adds it
    if k == 0 {
        return b.iter().fold(sum, |s, &x| s + x);
    }
    // Written with iterators over whole rows (no index to check): the update of c runs along p,
    // so it vectorises.
    on_widest_vectors(
        #[inline(always)]
        || {
            let mut rows = a.chunks_exact(4 * k);
            let mut samples = b.chunks_exact(4);
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

/// `row ← row + b` for each row of `rows` (rows of `b.len()` numbers), in the order of
/// `Matrix::add_row_in_place` (the same bits): the bias of `Z = X·W + b` on a block of rows.
pub(super) fn add_row(rows: &mut [f64], b: &[f64]) {
    for row in rows.chunks_exact_mut(b.len().max(1)) {
        for (x, &bias) in row.iter_mut().zip(b) {
            *x += bias;
        }
    }
}
