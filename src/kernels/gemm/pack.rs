use super::*;

/// Whether `blocked` reads the whole strips of `A` where they lie (see [`StripA`]) for a product
/// with `n` columns: always for a transposed `A` (`Xᵀ` in `dW = Xᵀ·dZ`), whose strips are
/// as compact as packed ones; for a row-major `A` only when `C` has at most 16 columns (one
/// strip of `B`, so each strip of `A` is read once). With more strips of `B`, as in
/// `Z¹ = X·W¹` (eight of them), a strip of `A` in place is read once per strip of `B` through
/// scalar loads and broadcasts, where a packed strip is read with broadcasts straight from
/// memory, and packing wins.
/// (Both layouts as matrices store them: a row of the transposed matrix is at least as long as
/// `A` has rows, a row of a row-major one at least as long as it has columns.)
pub(super) fn reads_a_in_place(a: View, n: usize) -> bool {
    let transposed = a.row_stride == 1 && a.col_stride >= a.rows;
    let row_major = a.col_stride == 1 && a.row_stride >= a.cols;
    transposed || (row_major && n <= NR_AVX512_WIDE)
}

/// Where the kernel reads the MR numbers `A[i0..i0 + MR, p]` of its strip for each `p`.
///
/// Packing copies every number of `A` once more for every slice of `B`'s columns (`NC`), which
/// for the thin shapes of a network costs as much as a third of the product: for
/// `Z³ = A²·W³` (1797 × 64 · 64 × 10) it was most of the time. But the kernel only needs, for
/// each `p`, MR numbers it broadcasts one by one, and those can be read where they lie when `A`
/// is row-major (MR rows, each read along `p`) or the transpose of a row-major matrix (MR
/// neighbours in one row of `Xᵀ`'s matrix `X`, one row per `p`). Which numbers are multiplied
/// and added, and in what order, is unchanged: the same bits (tested, `StripA` against packing).
#[derive(Clone, Copy)]
pub(super) enum StripA<'a, const MR: usize> {
    /// A packed strip: `data[p·MR .. p·MR + MR]`.
    Packed(&'a [f64]),
    /// `data[p·step .. p·step + MR]`: MR neighbours in each row of the matrix `A` transposes.
    Across { data: &'a [f64], step: usize },
    /// `rows[r][p]`: MR rows of a row-major `A`, each `kc` long.
    Along([&'a [f64]; MR]),
}

impl<'a, const MR: usize> StripA<'a, MR> {
    /// Rows `i0..i0 + MR` and sums `pc..pc + kc` of `A`, where they lie (`A` row-major or
    /// transposed, checked by the caller).
    #[inline(always)]
    pub(super) fn in_place(a: View<'a>, i0: usize, pc: usize, kc: usize) -> StripA<'a, MR> {
        if a.row_stride == 1 && a.col_stride >= a.rows {
            let start = i0 + pc * a.col_stride;
            StripA::Across {
                data: &a.data[start..start + (kc - 1) * a.col_stride + MR],
                step: a.col_stride,
            }
        } else {
            StripA::Along(std::array::from_fn(|r| {
                let start = (i0 + r) * a.row_stride + pc;
                &a.data[start..start + kc]
            }))
        }
    }
}

/// Packs a `kc × len` block into strips of `W`: strip `s` holds, for each `p` in turn, the `W`
/// numbers at `(p, s·W), …, (p, s·W + W − 1)`, with zeros past `len`. Entry `(p, w)` of the
/// block is `data[start + p·p_stride + w·w_stride]`.
#[inline(always)]
pub(super) fn pack<'buffer, const W: usize>(
    buffer: &'buffer mut Vec<f64>,
    data: &[f64],
    start: usize,
    (p_stride, w_stride): (usize, usize),
    (kc, len): (usize, usize),
    sums: &mut [f64],
) -> &'buffer [f64] {
    let needed = len.div_ceil(W) * kc * W;
    // The packed block starts on a 64-byte boundary (a cache line, and one AVX-512 vector), so
    // that no vector load in the kernel, nor store here, straddles two cache lines, which costs
    // two accesses instead of one. The allocator only promises 16 bytes; up to 7 spare numbers
    // in front make room to align. The buffer only grows: its old numbers are all overwritten
    // below, and zeroing them first would cost as much as the packing itself.
    if buffer.len() < needed + ALIGN_SPARE {
        buffer.resize(needed + ALIGN_SPARE, 0.0);
    }
    let offset = buffer.as_ptr().align_offset(64).min(ALIGN_SPARE);
    let packed = &mut buffer[offset..offset + needed];
    for (s, strip) in packed.chunks_exact_mut(kc * W).enumerate() {
        let width = W.min(len - s * W);
        let first = start + s * W * w_stride;
        if width < W {
            // The last strip at the matrix's edge: its missing rows or columns are zeros.
            for slot in strip.chunks_exact_mut(W) {
                slot[width..].fill(0.0);
            }
        }
        if p_stride == 1 {
            // The rows of a row-major A: read each of the W rows along p (contiguous) and deal
            // its numbers into every W-th slot. (Read across the rows instead, the compiler
            // would gather W scattered numbers per slot, which is several times slower.)
            for w in 0..width {
                let row = &data[first + w * w_stride..first + w * w_stride + kc];
                for (slot, &x) in strip.chunks_exact_mut(W).zip(row) {
                    slot[w] = x;
                }
            }
            continue;
        }
        if !sums.is_empty() {
            // Also Σ_p B[p, j] for the strip's columns, added in the order p = 0, 1, … onto the
            // sums of the earlier slices, in registers (see `gemm_column_sums`).
            let sums = &mut sums[s * W..s * W + width];
            let mut acc = [0.0; W];
            acc[..width].copy_from_slice(sums);
            for (p, slot) in strip.chunks_exact_mut(W).enumerate() {
                let at = first + p * p_stride;
                if width == W {
                    let source: &[f64; W] = data[at..at + W].try_into().expect("W numbers");
                    let slot: &mut [f64; W] = slot.try_into().expect("a slot of W");
                    *slot = *source;
                    for (sum, &x) in acc.iter_mut().zip(source) {
                        *sum += x;
                    }
                } else {
                    let source = &data[at..at + width];
                    slot[..width].copy_from_slice(source);
                    for (sum, &x) in acc.iter_mut().zip(source) {
                        *sum += x;
                    }
                }
            }
            sums.copy_from_slice(&acc[..width]);
            continue;
        }
        for (p, slot) in strip.chunks_exact_mut(W).enumerate() {
            let at = first + p * p_stride;
            if w_stride == 1 && width == W {
                // A row of B (or of Aᵀ): W neighbours, one copy of a size known when compiling.
                let source: &[f64; W] = data[at..at + W].try_into().expect("W numbers");
                let slot: &mut [f64; W] = slot.try_into().expect("a slot of W");
                *slot = *source;
            } else {
                for (w, x) in slot[..width].iter_mut().enumerate() {
                    *x = data[at + w * w_stride];
                }
            }
        }
    }
    packed
}
