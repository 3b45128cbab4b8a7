use super::*;

/// The blocked product compiled for AVX2 and FMA; `fma` picks the fused kernel.
///
/// # Safety
/// The processor must have AVX2 and FMA (`is_x86_feature_detected!`).
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn gemm_avx2(
    fma: bool,
    a: View,
    b: View,
    c: &mut [f64],
    packed: Buffers,
    rows_complete: RowsComplete,
    sums: &mut [f64],
) {
    if fma {
        blocked::<MR_AVX2, NR_AVX2, true>(a, b, c, packed, rows_complete, true, sums)
    } else {
        blocked::<MR_AVX2, NR_AVX2, false>(a, b, c, packed, rows_complete, true, sums)
    }
}

/// The blocked product compiled for AVX-512 (and AVX2, FMA), with the fused kernel.
///
/// There is no unfused AVX-512 kernel: compiled with separate multiplies and adds, the compiler
/// vectorises the tile the wrong way round (with gathers) and it runs ten times slower; the
/// unfused AVX2 kernel gives the same bits at full speed.
///
/// # Safety
/// The processor must have AVX-512F, AVX2 and FMA (`is_x86_feature_detected!`).
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn gemm_avx512_fma(
    wide: bool,
    a: View,
    b: View,
    c: &mut [f64],
    packed: Buffers,
    rows_complete: RowsComplete,
    sums: &mut [f64],
) {
    if wide {
        blocked::<MR_AVX512_WIDE, NR_AVX512_WIDE, true>(a, b, c, packed, rows_complete, true, sums)
    } else {
        blocked::<MR_AVX512, NR_AVX512, true>(a, b, c, packed, rows_complete, true, sums)
    }
}

/// Never called: [`has_avx512`] is false on other architectures.
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
pub(super) unsafe fn gemm_avx512_fma(
    _wide: bool,
    a: View,
    b: View,
    c: &mut [f64],
    packed: Buffers,
    rows_complete: RowsComplete,
    sums: &mut [f64],
) {
    blocked::<MR_PORTABLE, NR_PORTABLE, false>(a, b, c, packed, rows_complete, true, sums)
}

/// Never called: [`has_avx2_fma`] is false on other architectures.
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
pub(super) unsafe fn gemm_avx2(
    _fma: bool,
    a: View,
    b: View,
    c: &mut [f64],
    packed: Buffers,
    rows_complete: RowsComplete,
    sums: &mut [f64],
) {
    blocked::<MR_PORTABLE, NR_PORTABLE, false>(a, b, c, packed, rows_complete, true, sums)
}

/// The MR × NR tile of `C` at the start of `c` (rows `row_stride` apart) plus
/// `Σ_p a_strip[p]ᵀ·b_strip[p]`. Only the first `rows × cols` of the tile exist in `C` (the rest
/// is padding at the matrix's edge). When `load` is false the tile starts from zero instead of
/// from `C`, which is the i-p-j loop's `C = 0`.
#[inline(always)]
pub(super) fn kernel<const MR: usize, const NR: usize, const FMA: bool>(
    a_strip: StripA<MR>,
    b_strip: &[f64],
    c: &mut [f64],
    row_stride: usize,
    rows: usize,
    cols: usize,
    load: bool,
) {
    // The tile is copied in and out whole, with sizes known at compile time, so that the compiler
    // can keep all of it in vector registers during the sum.
    let mut tile = [[-0.0; NR]; MR];
    let whole = rows == MR && cols == NR;
    if load {
        for i in 0..rows {
            let c_row = &c[i * row_stride..i * row_stride + cols];
            if whole {
                tile[i] = c_row.try_into().expect("a whole row of the tile");
            } else {
                // A plain loop: for a few numbers it beats a call to `memcpy`.
                for (t, &x) in tile[i].iter_mut().zip(c_row) {
                    *t = x;
                }
            }
        }
    }
    tile = match a_strip {
        StripA::Packed(data) => {
            let a = data
                .chunks_exact(MR)
                .map(|a| a.try_into().expect("MR numbers"));
            tile_sum::<MR, NR, FMA>(a, b_strip, tile)
        }
        StripA::Across { data, step } => {
            let a = data
                .chunks(step)
                .map(|a| a[..MR].try_into().expect("MR numbers"));
            tile_sum::<MR, NR, FMA>(a, b_strip, tile)
        }
        StripA::Along(rows) => {
            let kc = b_strip.len() / NR;
            let a = (0..kc).map(|p| std::array::from_fn(|r| rows[r][p]));
            tile_sum::<MR, NR, FMA>(a, b_strip, tile)
        }
    };
    for i in 0..rows {
        let c_row = &mut c[i * row_stride..i * row_stride + cols];
        if whole {
            let c_row: &mut [f64; NR] = c_row.try_into().expect("a whole row of the tile");
            *c_row = tile[i];
        } else {
            for (x, &t) in c_row.iter_mut().zip(&tile[i]) {
                *x = t;
            }
        }
    }
}

/// `tile ← tile + a·b` for each `p` in turn: the multiply-adds themselves, on a tile held in
/// registers.
#[inline(always)]
fn tile_sum<const MR: usize, const NR: usize, const FMA: bool>(
    a_strip: impl Iterator<Item = [f64; MR]>,
    b_strip: &[f64],
    mut tile: [[f64; NR]; MR],
) -> [[f64; NR]; MR] {
    for (a, b) in a_strip.zip(b_strip.chunks_exact(NR)) {
        let b: &[f64; NR] = b.try_into().expect("a strip is whole NR slots");
        for (row, &a_i) in tile.iter_mut().zip(&a) {
            // One row of the tile is one (or two) vector registers: row ← row + a_i·b.
            let mut sums = *row;
            for (sum, &b_j) in sums.iter_mut().zip(b) {
                *sum = if FMA {
                    a_i.mul_add(b_j, *sum)
                } else {
                    *sum + a_i * b_j
                };
            }
            *row = sums;
        }
    }
    tile
}
