//! Losses: one number `L` that says how wrong the predictions `ŷ` are, and its gradient.
//!
//! Every loss here is a **mean** over the batch, so its value does not grow with the batch size.
//! That mean is where backpropagation starts: the `1/n` of `L = (1/n)·Σ ℓᵢ` reaches every
//! gradient through the chain rule, and this file is the one place it is written. (Nielsen's book
//! sums the loss and divides by n in the update instead; the results are the same.)
//!
//! ```text
//! mean squared error     L = (1/(n·k)) Σᵢⱼ (ŷᵢⱼ − yᵢⱼ)²           ∂L/∂ŷ = 2·(ŷ − y)/(n·k)
//! binary cross-entropy   L = −(1/(n·k)) Σᵢⱼ [y ln ŷ + (1−y) ln(1−ŷ)]
//!                                                               ∂L/∂ŷ = (ŷ − y) / (ŷ·(1−ŷ)·n·k)
//! softmax cross-entropy  L = −(1/n) Σᵢ Σⱼ yᵢⱼ ln ŷᵢⱼ              ∂L/∂ŷ = −y / (ŷ·n)
//! ```
//! (n samples, k outputs; for cross-entropy `y` is one-hot and `ŷ` a row of probabilities.)
//!
//! # The output error shortcut
//!
//! The gradient backward needs first is not `∂L/∂ŷ` but the output error `dZ = ∂L/∂Z` of the last
//! layer, where `ŷ = f(Z)`. Chained the long way it is `dZ = ∂L/∂ŷ ⊙ f′(Z)`, and with the right
//! pairing of loss and output activation almost everything cancels:
//!
//! ```text
//! sigmoid + BCE:       ∂L/∂ŷ = (ŷ − y)/(ŷ(1−ŷ)·n·k),  σ′(Z) = ŷ(1−ŷ)       ⇒ dZ = (ŷ − y)/(n·k)
//!                      (k = 1 for a binary classifier, where this is (ŷ − y)/n)
//! softmax + CE:        dz = J·da with J = diag(ŷ) − ŷŷᵀ and da = −y/(ŷ·n)
//!                      dzⱼ = ŷⱼ·(−yⱼ/(ŷⱼn) + Σₖ ŷₖ·yₖ/(ŷₖn)) = (ŷⱼ − yⱼ)/n   (as Σₖ yₖ = 1)
//!                                                                          ⇒ dZ = (ŷ − y)/n
//! identity + MSE:      f′ = 1                                              ⇒ dZ = 2(ŷ − y)/(n·k)
//! ```
//!
//! [`Loss::output_error`] computes the shortcut and [`Loss::gradient`] the general `∂L/∂ŷ`; the
//! tests run both through the network and check that they agree. The shortcut is also the stable
//! one: it never divides by `ŷ(1−ŷ)`, which is 0 when a sigmoid saturates.
//!
//! # Finite at the extremes
//!
//! A sigmoid can output exactly 0.0 or 1.0 in floating point (σ(40) rounds to 1), and `ln 0 = −∞`.
//! Cross-entropy therefore clamps ŷ into `[ε, 1 − ε]` with `ε = 1e-12` before taking logarithms,
//! which caps one sample's loss at about 27.6; the output-error shortcut needs no clamp.
//!
//! # The logarithm
//!
//! The logarithms are computed by [`ln`], written here in plain arithmetic (fdlibm's algorithm)
//! rather than taken from the system library, as `activation.rs` does for `exp` and `tanh`: the
//! compiler can then compute several at once in vector registers, and the result has the same
//! bits on every machine (a C library's `log` may differ in the last bit between versions).

use crate::activation::Activation;
use crate::matrix::Matrix;

/// How far cross-entropy keeps ŷ from 0 and 1 before taking a logarithm.
pub const PROBABILITY_CLAMP: f64 = 1e-12;

/// A loss function, a mean over the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Mean squared error, for regression (paired with an identity output).
    MeanSquaredError,
    /// Binary cross-entropy, for two classes (paired with a sigmoid output).
    BinaryCrossEntropy,
    /// Categorical cross-entropy over softmax probabilities, for several classes.
    SoftmaxCrossEntropy,
}

impl Loss {
    /// The loss's name as written in output and model files.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mse",
            Loss::BinaryCrossEntropy => "binary_cross_entropy",
            Loss::SoftmaxCrossEntropy => "softmax_cross_entropy",
        }
    }

    /// The output activation this loss is paired with, for which [`Loss::output_error`] holds.
    pub fn output_activation(&self) -> Activation {
        match self {
            Loss::MeanSquaredError => Activation::Identity,
            Loss::BinaryCrossEntropy => Activation::Sigmoid,
            Loss::SoftmaxCrossEntropy => Activation::Softmax,
        }
    }

    /// The mean loss `L` of predictions `ŷ` (n × k) against targets `y` (n × k).
    ///
    /// # Panics
    /// If `ŷ` and `y` differ in shape.
    pub fn value(&self, y_hat: &Matrix, y: &Matrix) -> f64 {
        assert_same_shape(y_hat, y, self.name());
        let n = y_hat.rows() as f64;
        let entries = y_hat.as_slice().len() as f64;
        let pairs = y_hat.as_slice().iter().zip(y.as_slice());
        match self {
            Loss::MeanSquaredError => pairs.map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / entries,
            Loss::BinaryCrossEntropy => {
                -binary_cross_entropy_sum(y_hat.as_slice(), y.as_slice()) / entries
            }
            Loss::SoftmaxCrossEntropy => {
                // Only the true class contributes (y is one-hot); skipping the zeros also avoids
                // 0·ln 0 = 0·(−∞) = NaN.
                -pairs
                    .filter(|(_, &t)| t != 0.0)
                    .map(|(&p, &t)| t * ln(clamp_probability(p)))
                    .sum::<f64>()
                    / n
            }
        }
    }

    /// The general gradient `dŶ ← ∂L/∂ŷ` (n × k), before any output activation: the formulas in
    /// the right-hand column of the module docs, the `1/n` (or `1/(n·k)`) of the mean included.
    ///
    /// # Panics
    /// If `ŷ` and `y` differ in shape.
    pub fn gradient(&self, d_y_hat: &mut Matrix, y_hat: &Matrix, y: &Matrix) {
        assert_same_shape(y_hat, y, self.name());
        d_y_hat.resize(y_hat.rows(), y_hat.cols());
        let n = y_hat.rows() as f64;
        let entries = y_hat.as_slice().len() as f64;
        let pairs = y_hat.as_slice().iter().zip(y.as_slice());
        for (d, (&p, &t)) in d_y_hat.as_mut_slice().iter_mut().zip(pairs) {
            *d = match self {
                Loss::MeanSquaredError => 2.0 * (p - t) / entries,
                Loss::BinaryCrossEntropy => {
                    let p = clamp_probability(p);
                    (p - t) / (p * (1.0 - p) * entries)
                }
                Loss::SoftmaxCrossEntropy => -t / (clamp_probability(p) * n),
            };
        }
    }

    /// The output error `dZ ← ∂L/∂Z` (n × k) of the last layer, when its activation is
    /// [`Loss::output_activation`]: `(ŷ − y)/n` for softmax cross-entropy, `(ŷ − y)/(n·k)` for
    /// binary cross-entropy (k = 1 for one sigmoid output) and `2(ŷ − y)/(n·k)` for MSE.
    ///
    /// # Panics
    /// If `ŷ` and `y` differ in shape.
    pub fn output_error(&self, dz: &mut Matrix, y_hat: &Matrix, y: &Matrix) {
        assert_same_shape(y_hat, y, self.name());
        dz.resize(y_hat.rows(), y_hat.cols());
        let scale = match self {
            Loss::MeanSquaredError => 2.0 / y_hat.as_slice().len() as f64,
            Loss::BinaryCrossEntropy => 1.0 / y_hat.as_slice().len() as f64,
            Loss::SoftmaxCrossEntropy => 1.0 / y_hat.rows() as f64,
        };
        let pairs = y_hat.as_slice().iter().zip(y.as_slice());
        for (d, (&p, &t)) in dz.as_mut_slice().iter_mut().zip(pairs) {
            *d = scale * (p - t);
        }
    }
}

/// One entry's `y ln ŷ + (1−y) ln(1−ŷ)` (with `ŷ` already clamped), the textbook form.
fn binary_cross_entropy_term_reference(p: f64, t: f64) -> f64 {
    t * ln(p) + (1.0 - t) * ln(1.0 - p)
}

/// The same term with one logarithm where the target is 0 or 1, as it is in classification.
///
/// A logarithm is most of this loss's cost, and for `y = 1` the second term is `0 · ln(1−ŷ)`,
/// which is −0 (ln(1−ŷ) is finite and negative thanks to the clamp); adding −0 changes nothing,
/// so `ln ŷ` alone has the same bits. Likewise `ln(1−ŷ)` alone for `y = 0`. Soft targets take
/// the full form. Tested against [`binary_cross_entropy_term_reference`].
fn binary_cross_entropy_term(p: f64, t: f64) -> f64 {
    if t == 1.0 {
        ln(p)
    } else if t == 0.0 {
        ln(1.0 - p)
    } else {
        binary_cross_entropy_term_reference(p, t)
    }
}

/// `Σ [y ln ŷ + (1−y) ln(1−ŷ)]` over all entries (ŷ clamped), summed in entry order.
///
/// The reference is `pairs.map(binary_cross_entropy_term).sum()`. This computes the terms a
/// block of 64 at a time into a small array, on the widest vectors the processor has
/// ([`crate::kernels::simd::wide`]: eight logarithms per instruction with AVX-512), then adds them to the
/// running sum one by one, in the same order and from the same −0.0 start as `Iterator::sum`,
/// so the bits are those of the reference (a test compares them). A block with a soft target
/// (neither 0 nor 1) takes the reference's scalar path. For circles' 800 rows the logarithms
/// fell from about 3 µs per epoch (the system library's `log`) to about 1.
fn binary_cross_entropy_sum(y_hat: &[f64], y: &[f64]) -> f64 {
    const BLOCK: usize = 64;
    let mut total = -0.0;
    for (p_block, t_block) in y_hat.chunks(BLOCK).zip(y.chunks(BLOCK)) {
        let mut terms = [0.0; BLOCK];
        let terms = &mut terms[..p_block.len()];
        if t_block.iter().all(|&t| t == 0.0 || t == 1.0) {
            crate::kernels::simd::wide(
                #[inline(always)]
                || {
                    for ((term, &p), &t) in terms.iter_mut().zip(p_block).zip(t_block) {
                        // binary_cross_entropy_term for a target of 0 or 1: one logarithm.
                        let p = clamp_probability(p);
                        *term = ln(if t == 1.0 { p } else { 1.0 - p });
                    }
                },
            );
        } else {
            for ((term, &p), &t) in terms.iter_mut().zip(p_block).zip(t_block) {
                *term = binary_cross_entropy_term(clamp_probability(p), t);
            }
        }
        for &term in terms.iter() {
            total += term;
        }
    }
    total
}

/// ŷ clamped into `[ε, 1 − ε]` so that `ln ŷ` and `ln(1 − ŷ)` stay finite.
fn clamp_probability(p: f64) -> f64 {
    p.clamp(PROBABILITY_CLAMP, 1.0 - PROBABILITY_CLAMP)
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

fn assert_same_shape(y_hat: &Matrix, y: &Matrix, loss: &str) {
    assert!(
        y_hat.shape() == y.shape(),
        "{loss}: predictions ŷ are {:?} but targets y are {:?}",
        y_hat.shape(),
        y.shape()
    );
}

#[cfg(test)]
mod binary_cross_entropy_tests {
    use super::{
        binary_cross_entropy_sum, binary_cross_entropy_term, binary_cross_entropy_term_reference,
        clamp_probability, ln,
    };
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
    fn the_blocked_sum_gives_the_bits_of_the_reference() {
        // Hard targets (one logarithm per entry, on wide vectors) and soft ones (the scalar
        // path), with blocks of 64 and a remainder, against `map(term).sum()`.
        let mut rng = Rng::new(9);
        for n in [0, 1, 63, 64, 65, 800, 1001] {
            let y_hat: Vec<f64> = (0..n).map(|_| rng.uniform_range(-0.1, 1.1)).collect();
            let hard: Vec<f64> = (0..n).map(|_| rng.below(2) as f64).collect();
            let mut soft = hard.clone();
            if n > 70 {
                soft[70] = 0.3;
            }
            for y in [&hard, &soft] {
                let reference: f64 = y_hat
                    .iter()
                    .zip(y.iter())
                    .map(|(&p, &t)| binary_cross_entropy_term(clamp_probability(p), t))
                    .sum();
                let ours = binary_cross_entropy_sum(&y_hat, y);
                assert_eq!(ours.to_bits(), reference.to_bits(), "{n} entries");
            }
        }
    }

    #[test]
    fn one_logarithm_gives_the_bits_of_the_textbook_form() {
        let mut p = -0.5;
        while p <= 1.5 {
            let q = clamp_probability(p);
            for t in [0.0, 1.0, 0.25, 0.5, 0.9] {
                assert_eq!(
                    binary_cross_entropy_term(q, t).to_bits(),
                    binary_cross_entropy_term_reference(q, t).to_bits(),
                    "p = {p}, y = {t}"
                );
            }
            p += 1.0 / 1024.0;
        }
        for q in [1e-12, 1.0 - 1e-12, 0.5] {
            for t in [0.0, 1.0] {
                assert_eq!(
                    binary_cross_entropy_term(q, t).to_bits(),
                    binary_cross_entropy_term_reference(q, t).to_bits()
                );
            }
        }
    }
}
