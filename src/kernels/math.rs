//! The crate's own `exp`, `ln` and `tanh`: a few additions and multiplications that the compiler
//! can inline and run on vector lanes, and that give the same bits on every machine.
//!
//! The system library's `exp`, `log` and `tanh` are accurate, but each is a function call the
//! compiler cannot vectorise, and a C library's last bit may differ from one version or machine
//! to another. A network with tanh layers spends most of its time in `tanh`, and cross-entropy in
//! `ln`, so both are written here in plain `+ − × ÷`, to within a few units in the last place
//! (the tests compare them with the system library over their whole range):
//!
//! ```text
//! eˣ       x = k·ln 2 + r, |r| ≤ ln 2 / 2      eˣ = 2ᵏ·(1 + q),  q = e^r − 1 = r + r²/2! + … + r¹³/13!
//! tanh z   sign(z) · (−e)/(2 + e)              e = e^(−2|z|) − 1, so there is no cancellation near 0
//! ln x     x = 2ᵏ·(1 + f), s = f/(2 + f)       ln x = k·ln 2 + ln((1 + s)/(1 − s)), a series in s²
//! ```
//!
//! `activation.rs` computes the sigmoid, tanh and softmax's exponentials with these, and
//! `loss.rs` the logarithms of cross-entropy.

/// `tanh z = (e²ᶻ − 1)/(e²ᶻ + 1)`, written out in plain arithmetic.
///
/// The system library's `tanh` is accurate but is a function call the compiler cannot vectorise,
/// and a network with tanh layers spends most of its time in it. This version is a few additions
/// and multiplications the compiler can inline and vectorise, accurate to a few units in the last
/// place, and, being plain `+ − × ÷`, gives the same bits on every machine, which a system
/// library does not promise.
///
/// ```text
/// tanh z = sign(z) · (−e)/(2 + e)     with e = e^(−2|z|) − 1 ∈ (−1, 0]   (no cancellation near 0)
/// ```
/// For |z| > 20, tanh z rounds to ±1. NaN stays NaN.
#[inline(always)]
pub fn tanh(z: f64) -> f64 {
    let t = z.abs();
    let t = if t > 20.0 { 20.0 } else { t };
    let e = exp_m1_nonpositive(-2.0 * t);
    let magnitude = -e / (2.0 + e);
    magnitude.copysign(z)
}

/// `eˣ − 1` for `x` in `[−708, 0]`, in plain arithmetic (see [`exp_parts`]). For k = 0 the result
/// is `p(r)·r` itself, so there is no cancellation near 0.
#[inline(always)]
fn exp_m1_nonpositive(x: f64) -> f64 {
    let (two_k, q) = exp_parts(x);
    two_k * q + (two_k - 1.0)
}

/// `eˣ` for `x ≤ 0`, in plain arithmetic (see `exp_parts`). Below `x = −708` the result would
/// be a subnormal number under 3·10⁻³⁰⁸ (and exactly 0 below −745): it is flushed to 0, so
/// `σ(−1000)` and softmax's far-off classes are exactly 0, as the system library gives.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    let (two_k, q) = exp_parts(x);
    let e = two_k + two_k * q;
    // A select, not a branch, so the loops that call this still vectorise.
    if x < -708.0 {
        0.0
    } else {
        e
    }
}

/// `(2ᵏ, q)` with `eˣ = 2ᵏ·(1 + q)`, for `x` in `[−708, 0]` (smaller `x` are treated as −708,
/// where eˣ ≈ 3·10⁻³⁰⁸), accurate to a couple of units in the last place:
///
/// ```text
/// x = k·ln 2 + r,  k = round(x/ln 2),  |r| ≤ ln 2 / 2
/// q = e^r − 1 = r + r²/2! + … + r¹³/13!     (the truncation errs by less than 10⁻¹⁷·|r|)
/// ```
/// No library call, no table: the compiler inlines and vectorises it, and the bits are the same
/// on every machine. NaN stays NaN.
#[inline(always)]
fn exp_parts(x: f64) -> (f64, f64) {
    const LN2_HI: f64 = 0.693_147_180_369_123_8; // ln 2 rounded to 32 bits, so k·LN2_HI is exact
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10; // ln 2 − LN2_HI
                                                     // Adding and subtracting 1.5·2⁵² rounds to the nearest integer without a library call.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let x = if x < -708.0 { -708.0 } else { x };
    let k_plus_round = x * std::f64::consts::LOG2_E + ROUND;
    let k = k_plus_round - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // 2ᵏ, built from k's bits (k is in [−1022, 0], so the exponent field k + 1023 is positive).
    let two_k = f64::from_bits((k_plus_round.to_bits() << 52).wrapping_add(1023 << 52));
    let mut p = 1.0 / 6_227_020_800.0;
    for factorial in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
    ] {
        p = p * r + 1.0 / factorial;
    }
    (two_k, p * r)
}

/// `ln x` in plain arithmetic, within one unit in the last place of the system library's `log`
/// for every positive `x` (the clamped probabilities of cross-entropy are in `[10⁻¹², 1]`).
///
/// The system library's `log` is accurate but is a function call the compiler cannot vectorise,
/// and its last bit may differ between versions of the C library. This is the algorithm of
/// fdlibm's `e_log.c` (Sun Microsystems, 1993; also in FreeBSD and musl) in branch-free form:
///
/// ```text
/// x = 2ᵏ·(1 + f)         with 1 + f in [√2/2, √2), so |f| < 0.42
/// s = f/(2 + f)          then ln(1 + f) = ln((1 + s)/(1 − s)) = 2s + 2s³/3 + 2s⁵/5 + …
///                        = f − s·(f − R),   R = Lg1·s² + Lg2·s⁴ + … + Lg7·s¹⁴  (error < 2⁻⁵⁸·|…|)
/// ln x = k·ln 2 + ln(1 + f)      with ln 2 = LN2_HI + LN2_LO, k·LN2_HI exact
/// ```
/// For larger |f| fdlibm writes `ln(1 + f) = f − (f²/2 − s·(f²/2 + R))`, which loses less to
/// rounding; both forms are computed here and one is selected, so the loop vectorises. The
/// same plain `+ − × ÷` on every machine give the same bits everywhere. NaN stays NaN.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    // fdlibm's constants, given by their bits: ln 2 split so that k·LN2_HI is exact for any
    // exponent k, and the coefficients Lg1…Lg7 of its polynomial (≈ 2/3, 2/5, 2/7, …).
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    const LG1: f64 = f64::from_bits(0x3FE5_5555_5555_5593);
    const LG2: f64 = f64::from_bits(0x3FD9_9999_9997_FA04);
    const LG3: f64 = f64::from_bits(0x3FD2_4924_9422_9359);
    const LG4: f64 = f64::from_bits(0x3FCC_71C5_1D8E_78AF);
    const LG5: f64 = f64::from_bits(0x3FC7_4664_96CB_03DE);
    const LG6: f64 = f64::from_bits(0x3FC3_9A09_D078_C69F);
    const LG7: f64 = f64::from_bits(0x3FC2_F112_DF3E_5244);
    const TWO_54: f64 = 18_014_398_509_481_984.0;
    // A subnormal x (below 2⁻¹⁰²²) is first scaled by 2⁵⁴ into the normal range.
    let subnormal = x < f64::MIN_POSITIVE;
    let scaled = if subnormal { x * TWO_54 } else { x };
    let bits = scaled.to_bits();
    let high = (bits >> 32) as i64; // sign, exponent and the top 20 bits of the fraction
    let fraction_high = high & 0x000f_ffff;
    // Whether the fraction is at least √2 − 1 (0x6a09e is its top 20 bits): then divide x by 2,
    // so that 1 + f lands in [√2/2, √2) instead of [1, 2).
    let halve = (fraction_high + 0x95f64) & 0x10_0000;
    let k = (high >> 20) - 1023 + (halve >> 20) - if subnormal { 54 } else { 0 };
    let one_plus_f = f64::from_bits(
        (((fraction_high | (halve ^ 0x3ff0_0000)) as u64) << 32) | (bits & 0xffff_ffff),
    );
    let f = one_plus_f - 1.0;
    let s = f / (2.0 + f);
    let dk = k as f64;
    let z = s * s;
    let w = z * z;
    let odd = w * (LG2 + w * (LG4 + w * LG6));
    let even = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = even + odd;
    let half_f_squared = 0.5 * f * f;
    // fdlibm's test for "f is far from 0" on the fraction's top bits: (hx − 0x6147a) | (0x6b851 − hx) > 0.
    let far = ((fraction_high - 0x6147a) | (0x6b851 - fraction_high)) > 0;
    let far_form = dk * LN2_HI - ((half_f_squared - (s * (half_f_squared + r) + dk * LN2_LO)) - f);
    let near_form = dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f);
    let ln_x = if far { far_form } else { near_form };
    // Outside (0, ∞) the result is the limit or NaN, as the system library gives: selects, not
    // branches, so the loops that call this still vectorise.
    if x > 0.0 && x <= f64::MAX {
        ln_x
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else if x == f64::INFINITY {
        x
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::{ln, tanh};
    use crate::rng::Rng;

    /// The distance from `ours` to `exact` in units of the last place of `exact`.
    fn ulps(ours: f64, exact: f64) -> f64 {
        let ulp = f64::from_bits(exact.abs().to_bits() + 1) - exact.abs();
        (ours - exact).abs() / ulp
    }

    #[test]
    fn ln_is_within_one_unit_in_the_last_place_of_the_system_library() {
        // The system library's log is correctly rounded or nearly so (within ½–1 ulp); ours is
        // within 1 ulp of it everywhere tested: every power of two's neighbourhood from 2⁻¹⁰²²
        // to 2¹⁰²³, subnormals, a dense sweep of [10⁻¹², 1] (cross-entropy's range) and
        // around 1.
        let mut rng = Rng::new(5);
        let mut worst: f64 = 0.0;
        let mut check = |x: f64| {
            let (ours, libm) = (ln(x), x.ln());
            if libm == 0.0 {
                assert_eq!(ours, 0.0, "ln({x})");
                return;
            }
            let error = ulps(ours, libm);
            worst = worst.max(error);
            assert!(error <= 1.0, "ln({x}) = {ours}, libm {libm}: {error} ulps");
        };
        for e in -1022..1024 {
            let power = 2f64.powi(e);
            for m in [
                1.0,
                1.0 + 1e-15,
                1.25,
                // Either side of √2, where 1 + f is halved.
                std::f64::consts::SQRT_2 - 1e-9,
                std::f64::consts::SQRT_2 + 1e-9,
                1.5,
                1.999_999_999,
            ] {
                check(power * m);
            }
            check(power * rng.uniform_range(1.0, 2.0));
        }
        for _ in 0..200_000 {
            check(10f64.powf(rng.uniform_range(-12.0, 0.0)));
            check(1.0 + rng.uniform_range(-0.3, 0.3));
            check(1.0 + rng.uniform_range(-1e-6, 1e-6));
        }
        for x in [f64::MAX, f64::MIN_POSITIVE, 5e-324, 1e-310, 3.7e-320] {
            check(x);
        }
        assert!(worst <= 1.0);
        assert_eq!(ln(1.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        for x in [f64::NAN, -1.0, -0.0 - 1e-300, f64::NEG_INFINITY] {
            assert!(ln(x).is_nan(), "ln({x})");
        }
    }

    #[test]
    fn tanh_agrees_with_the_system_library_to_a_few_units_in_the_last_place() {
        let mut z = -25.0;
        while z < 25.0 {
            let (ours, libm) = (tanh(z), z.tanh());
            let ulp = libm.abs().max(f64::MIN_POSITIVE) * f64::EPSILON;
            assert!(
                (ours - libm).abs() <= 3.0 * ulp,
                "tanh({z}) = {ours}, libm {libm}"
            );
            z += 0.000_913;
        }
    }

    #[test]
    fn tanh_keeps_signs_limits_and_nan() {
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(tanh(1e-300), 1e-300);
        assert_eq!(tanh(f64::INFINITY), 1.0);
        assert_eq!(tanh(-f64::INFINITY), -1.0);
        assert!(tanh(f64::NAN).is_nan());
    }
}
