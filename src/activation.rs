//! Activation functions: the non-linearity `A = f(Z)` and its derivative, side by side.
//!
//! A layer computes `Z = X·W + b` and then `A = f(Z)`. Without `f` a stack of layers collapses
//! into one linear map (`X·W¹·W² = X·(W¹·W²)`), which cannot separate XOR or two circles; with it,
//! each layer can bend space a little.
//!
//! Backward, the chain rule passes the gradient through `f` entry by entry:
//!
//! ```text
//! forward    A  = f(Z)
//! backward   dZ = dA ⊙ f′(Z)
//! ```
//!
//! | name       | f(z)                         | f′(z)                                 |
//! |------------|------------------------------|---------------------------------------|
//! | identity   | z                            | 1                                     |
//! | relu       | max(0, z)                    | 1 if z > 0, else 0                    |
//! | leaky_relu | z if z > 0, else α·z         | 1 if z > 0, else α   (α = 0.01)       |
//! | sigmoid    | σ(z) = 1 / (1 + e⁻ᶻ)         | σ(z)·(1 − σ(z))                       |
//! | tanh       | tanh z                       | 1 − tanh² z                           |
//! | swish      | z·σ(z)                       | σ(z) + z·σ(z)·(1 − σ(z))              |
//! | softmax    | eᶻʲ / Σₖ eᶻᵏ  (per row)       | a full Jacobian per row, see below    |
//!
//! The derivative at ReLU's kink (z = 0) is taken as 0, as most libraries do.
//!
//! Softmax mixes the entries of a row, so its derivative is a matrix per row, the Jacobian
//! `J = diag(s) − s·sᵀ` with `s = softmax(z)`. Backward multiplies it by the row of `dA`:
//! `dz = J·da`, which simplifies to `dzⱼ = sⱼ·(daⱼ − Σₖ sₖ·daₖ)`. In training softmax is paired with
//! cross-entropy, whose combined gradient is the much simpler `dZ = (ŷ − y)/n` (see `loss.rs`);
//! the general path here is kept so the two can be checked against each other.

use crate::matrix::Matrix;

/// The slope of Leaky ReLU for negative inputs unless configured otherwise.
pub const DEFAULT_LEAKY_SLOPE: f64 = 0.01;

/// An activation function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `f(z) = z`: no non-linearity (the output of a regression network).
    Identity,
    /// `f(z) = max(0, z)`.
    Relu,
    /// `f(z) = z` for z > 0, `slope·z` otherwise: ReLU that never quite switches off.
    LeakyRelu {
        /// The slope α for negative inputs.
        slope: f64,
    },
    /// `f(z) = 1 / (1 + e⁻ᶻ)`, squashing to (0, 1): the output of a binary classifier.
    Sigmoid,
    /// `f(z) = tanh z`, squashing to (−1, 1), centred at 0.
    Tanh,
    /// `f(z) = z·σ(z)`, also called SiLU: a smooth ReLU.
    Swish,
    /// Row-wise `eᶻʲ / Σₖ eᶻᵏ`: each row becomes a probability distribution over classes.
    Softmax,
}

impl Activation {
    /// The activations a user can choose for hidden layers, by their command-line names.
    pub const HIDDEN_NAMES: [&'static str; 6] =
        ["relu", "leaky_relu", "tanh", "sigmoid", "swish", "identity"];

    /// Looks up an activation by its name (`relu`, `leaky_relu`, `sigmoid`, `tanh`, `swish`,
    /// `identity`, `softmax`).
    pub fn from_name(name: &str) -> Option<Activation> {
        Some(match name {
            "identity" | "linear" => Activation::Identity,
            "relu" => Activation::Relu,
            "leaky_relu" | "leaky-relu" => Activation::LeakyRelu {
                slope: DEFAULT_LEAKY_SLOPE,
            },
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "swish" | "silu" => Activation::Swish,
            "softmax" => Activation::Softmax,
            _ => return None,
        })
    }

    /// The activation's name as written on the command line and in model files.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Swish => "swish",
            Activation::Softmax => "softmax",
        }
    }

    /// `f(z)` for one number. Softmax has no single-number form (it needs the whole row).
    ///
    /// # Panics
    /// For `Softmax`.
    pub fn value(&self, z: f64) -> f64 {
        match *self {
            Activation::Identity => z,
            Activation::Relu => z.max(0.0),
            Activation::LeakyRelu { slope } => {
                if z > 0.0 {
                    z
                } else {
                    slope * z
                }
            }
            Activation::Sigmoid => sigmoid(z),
            Activation::Tanh => tanh(z),
            Activation::Swish => z * sigmoid(z),
            Activation::Softmax => panic!("softmax works on whole rows; use Activation::forward"),
        }
    }

    /// `f′(z)` for one number.
    ///
    /// # Panics
    /// For `Softmax`.
    pub fn derivative(&self, z: f64) -> f64 {
        match *self {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu { slope } => {
                if z > 0.0 {
                    1.0
                } else {
                    slope
                }
            }
            Activation::Sigmoid => {
                let s = sigmoid(z);
                s * (1.0 - s)
            }
            Activation::Tanh => {
                let t = tanh(z);
                1.0 - t * t
            }
            Activation::Swish => {
                let s = sigmoid(z);
                s + z * s * (1.0 - s)
            }
            Activation::Softmax => panic!("softmax's derivative is a Jacobian; use backward"),
        }
    }

    /// `A ← f(Z)`, entry by entry (row by row for softmax). `Z` is (n_samples × k) and `A` is
    /// resized to match. Nothing is cached: backward is handed `Z` and `A` again by the network.
    pub fn forward(&self, z: &Matrix, a: &mut Matrix) {
        a.resize(z.rows(), z.cols());
        match *self {
            Activation::Softmax if z.cols() > 0 => {
                softmax_rows(z.as_slice(), a.as_mut_slice(), z.cols())
            }
            Activation::Softmax => {}
            _ => self.forward_entries(z.as_slice(), a.as_mut_slice()),
        }
    }

    /// Whether `f` works entry by entry (every activation but softmax), so that it can be
    /// applied to any run of entries ([`Activation::forward_entries`]).
    pub fn is_entrywise(&self) -> bool {
        !matches!(self, Activation::Softmax)
    }

    /// `a[i] ← f(z[i])` for every entry of two slices of the same length, for an entry-by-entry
    /// activation: what [`Activation::forward`] does to a whole matrix, applied to a part of one
    /// (`Dense::forward_activated` applies it to blocks of rows).
    ///
    /// # Panics
    /// For softmax, or if the slices differ in length.
    pub fn forward_entries(&self, z: &[f64], a: &mut [f64]) {
        assert_eq!(
            z.len(),
            a.len(),
            "{} forward: Z has {} entries but A has {}",
            self.name(),
            z.len(),
            a.len()
        );
        match *self {
            Activation::Softmax => panic!("softmax works on whole rows; use Activation::forward"),
            Activation::Sigmoid => map_wide(z, a, sigmoid),
            Activation::Tanh => map_wide(z, a, tanh),
            // ReLU gets its own loop (rather than `value` per entry) so that it compiles to a
            // vector max instead of a call and a match per number.
            Activation::Relu => map_wide(z, a, |z| z.max(0.0)),
            _ => {
                for (a, &z) in a.iter_mut().zip(z) {
                    *a = self.value(z);
                }
            }
        }
    }

    /// `dZ ← dA ⊙ f′(Z)` (for softmax, `dz = J·da` for each row); `dZ` takes the shape of `Z`.
    ///
    /// The forward pass was `A = f(Z)`. Sigmoid and tanh have derivatives written in terms of
    /// their own output (`σ′ = A·(1 − A)`, `tanh′ = 1 − A²`), which is why `A` is passed in too:
    /// it saves recomputing an exponential per entry.
    ///
    /// # Panics
    /// If `dA`, `Z` and `A` do not all have the same shape.
    pub fn backward(&self, dz: &mut Matrix, da: &Matrix, z: &Matrix, a: &Matrix) {
        assert!(
            da.shape() == z.shape() && a.shape() == z.shape(),
            "{} backward: dA is {:?}, Z is {:?}, A is {:?}; all must have one shape",
            self.name(),
            da.shape(),
            z.shape(),
            a.shape()
        );
        dz.resize(z.rows(), z.cols());
        let dz_out = dz.as_mut_slice();
        let da = da.as_slice();
        match *self {
            Activation::Softmax => {
                let cols = z.cols();
                for i in 0..z.rows() {
                    let s = a.row(i);
                    let da_row = &da[i * cols..(i + 1) * cols];
                    // dzⱼ = Σₖ Jⱼₖ·daₖ with Jⱼₖ = sⱼ·(δⱼₖ − sₖ), which is sⱼ·(daⱼ − Σₖ sₖ·daₖ).
                    let s_dot_da: f64 = s.iter().zip(da_row).map(|(s, d)| s * d).sum();
                    for j in 0..cols {
                        dz_out[i * cols + j] = s[j] * (da_row[j] - s_dot_da);
                    }
                }
            }
            _ => self.backward_entries(dz_out, da, z.as_slice(), a.as_slice()),
        }
    }

    /// `dz[i] ← da[i]·f′(z[i])` for an entry-by-entry activation, on runs of entries of the
    /// same length (`a[i] = f(z[i])` is passed too, see [`Activation::backward`]): what
    /// `backward` does to whole matrices, applied to a part of them (`Dense::backward_activated`
    /// applies it to blocks of rows).
    ///
    /// # Panics
    /// For softmax, or if the slices differ in length.
    pub fn backward_entries(&self, dz: &mut [f64], da: &[f64], z: &[f64], a: &[f64]) {
        assert!(
            da.len() == dz.len() && z.len() == dz.len() && a.len() == dz.len(),
            "{} backward: dZ, dA, Z and A have {}, {}, {} and {} entries",
            self.name(),
            dz.len(),
            da.len(),
            z.len(),
            a.len()
        );
        if *self == Activation::Softmax {
            panic!("softmax's derivative is a Jacobian; use backward");
        }
        // On the widest vectors (`gemm::wide`, as `map_wide`): a few operations per entry, so
        // what the wider vectors save is loop overhead; the same operations, the same bits.
        crate::kernels::simd::wide(
            #[inline(always)]
            || self.backward_entries_reference(dz, da, z, a),
        )
    }

    /// The loops of [`Activation::backward_entries`], compiled for the baseline.
    #[inline(always)]
    fn backward_entries_reference(&self, dz: &mut [f64], da: &[f64], z: &[f64], a: &[f64]) {
        match *self {
            Activation::Softmax => panic!("softmax's derivative is a Jacobian; use backward"),
            Activation::Sigmoid => {
                for ((dz, &da), &a) in dz.iter_mut().zip(da).zip(a) {
                    *dz = da * a * (1.0 - a);
                }
            }
            Activation::Tanh => {
                for ((dz, &da), &a) in dz.iter_mut().zip(da).zip(a) {
                    *dz = da * (1.0 - a * a);
                }
            }
            Activation::Relu => {
                // `if z > 0 { da } else { 0·da }`, written as a product with the derivative
                // (1 or 0) so that it compiles to vector instructions rather than a branch per
                // entry; `1·da` is `da` exactly, NaN and −0 included.
                for ((dz, &da), &z) in dz.iter_mut().zip(da).zip(z) {
                    *dz = da * if z > 0.0 { 1.0 } else { 0.0 };
                }
            }
            _ => {
                for ((dz, &da), &z) in dz.iter_mut().zip(da).zip(z) {
                    *dz = da * self.derivative(z);
                }
            }
        }
    }
}

/// `a[i] ← f(z[i])` for a plain-arithmetic `f` such as [`tanh`] or [`sigmoid`], the reference loop.
#[inline(always)]
fn map_entries(z: &[f64], a: &mut [f64], f: impl Fn(f64) -> f64) {
    for (a, &z) in a.iter_mut().zip(z) {
        *a = f(z);
    }
}

/// [`map_entries`] on the widest vectors this processor has ([`crate::kernels::simd::wide`]).
///
/// A plain `cargo build` targets the x86-64 baseline, whose vectors hold two `f64`, so the loop
/// above computes two exponentials at a time. The same loop compiled for AVX2 (four lanes) or
/// AVX-512 (eight) does four or eight: a tanh network's epoch (sine, 1 → 20 → 20 → 1) fell from
/// about 195 to 133 µs. The arithmetic is the same `+ − × ÷` in the same order (Rust never fuses
/// a multiply and an add on its own), so every lane gives the bits the two-lane loop gives; the
/// test below compares them.
fn map_wide(z: &[f64], a: &mut [f64], f: impl Fn(f64) -> f64) {
    crate::kernels::simd::wide(
        #[inline(always)]
        || map_entries(z, a, f),
    )
}

/// `σ(z) = 1 / (1 + e⁻ᶻ)`, computed without overflow for any z.
///
/// For z = −1000, `e⁻ᶻ = e¹⁰⁰⁰` overflows to ∞; the result 1/∞ = 0 would still be right, but the
/// mirrored form keeps every intermediate finite: for z < 0 use `σ(z) = eᶻ / (1 + eᶻ)`, where
/// `eᶻ` is at most 1.
#[inline(always)]
pub fn sigmoid(z: f64) -> f64 {
    // The exponent is −|z| ≤ 0 in both forms, the range of the plain-arithmetic exponential.
    let e = exp_nonpositive(-z.abs());
    if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// One row of softmax: `sⱼ = e^(zⱼ − m) / Σₖ e^(zₖ − m)` with `m = maxₖ zₖ`.
///
/// Subtracting the row's maximum changes nothing mathematically (it cancels between numerator and
/// denominator) but keeps every exponent ≤ 0, so `e^1000` never overflows; and the largest term
/// is `e⁰ = 1`, so the sum is at least 1 and the division is safe.
///
/// # Panics
/// If `z` and `s` differ in length.
pub fn softmax_row(z: &[f64], s: &mut [f64]) {
    assert_eq!(
        z.len(),
        s.len(),
        "softmax_row: z has {} entries but s has {}",
        z.len(),
        s.len()
    );
    let max = z.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    let mut total = 0.0;
    for (s, &z) in s.iter_mut().zip(z) {
        // z − max ≤ 0, the range of the plain-arithmetic exponential.
        *s = exp_nonpositive(z - max);
        total += *s;
    }
    for s in s.iter_mut() {
        *s /= total;
    }
}

/// [`softmax_row`] on each row (of `k` entries) of `z`, into the same row of `s`: the same bits
/// in a third of the time (digits' 1797 rows of 10: 0.28–0.30 ms row by row, 0.09–0.11 ms here).
///
/// `softmax_row` adds each exponential to the total as soon as it is computed; that running sum
/// must be added in order, which keeps the compiler from computing several exponentials at once.
/// Here the exponentials of all the rows are computed first, in one run, independently of one
/// another, so they fill vector lanes (on the widest vectors, `gemm::wide`); then each row's are
/// summed in the same order `e₀ + e₁ + …`, so every rounding is the one `softmax_row` makes
/// (a test compares the bits).
fn softmax_rows(z: &[f64], s: &mut [f64], k: usize) {
    crate::kernels::simd::wide(
        #[inline(always)]
        || {
            for (z, s) in z.chunks_exact(k).zip(s.chunks_exact_mut(k)) {
                let max = z.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                for (s, &z) in s.iter_mut().zip(z) {
                    *s = z - max;
                }
            }
            // All the exponentials in one run, so that no vector lane idles at a row's end.
            for s in s.iter_mut() {
                *s = exp_nonpositive(*s);
            }
            for s in s.chunks_exact_mut(k) {
                let total = s.iter().fold(0.0, |total, &e| total + e);
                for s in s.iter_mut() {
                    *s /= total;
                }
            }
        },
    )
}

/// The full softmax Jacobian of one row, `J = diag(s) − s·sᵀ`, as a k × k matrix.
///
/// Backward never builds it (it uses the simplified product in [`Activation::backward`]); it is
/// here so tests and learners can see the matrix that product stands for.
pub fn softmax_jacobian(z: &[f64]) -> Matrix {
    let k = z.len();
    let mut s = vec![0.0; k];
    softmax_row(z, &mut s);
    let mut j = Matrix::zeros(k, k);
    for r in 0..k {
        for c in 0..k {
            let diagonal = if r == c { s[r] } else { 0.0 };
            j[(r, c)] = diagonal - s[r] * s[c];
        }
    }
    j
}

/// `tanh z = (e²ᶻ − 1)/(e²ᶻ + 1)`, written out in plain arithmetic.
///
/// The system library's `tanh` is accurate but takes a function call and about 20 ns per number;
/// a network with tanh layers spent most of its time there. This version is a few additions and
/// multiplications the compiler can inline and vectorise (about 6 ns), accurate to a few units in
/// the last place, and — being plain `+ − × ÷` — gives the same bits on every machine, which a
/// system library does not promise.
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

/// `eˣ` for `x ≤ 0`, in plain arithmetic (see [`exp_parts`]). Below `x = −708` the result would
/// be a subnormal number under 3·10⁻³⁰⁸ (and exactly 0 below −745): it is flushed to 0, so
/// `σ(−1000)` and softmax's far-off classes are exactly 0, as the system library gives.
#[inline(always)]
fn exp_nonpositive(x: f64) -> f64 {
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

#[cfg(test)]
mod tanh_tests {
    use super::tanh;

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
    fn sigmoid_agrees_with_its_textbook_form() {
        let mut z: f64 = -700.0;
        while z < 40.0 {
            let textbook = 1.0 / (1.0 + (-z).exp());
            let ulp = textbook * f64::EPSILON;
            let ours = super::sigmoid(z);
            assert!(
                (ours - textbook).abs() <= 4.0 * ulp,
                "σ({z}) = {ours}, textbook {textbook}"
            );
            z += 0.0137;
        }
        assert!(super::sigmoid(f64::NAN).is_nan());
        assert_eq!(super::sigmoid(f64::INFINITY), 1.0);
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

#[cfg(test)]
mod wide_tests {
    use super::{map_entries, map_wide, sigmoid, tanh, Activation};

    #[test]
    fn wide_backward_gives_the_bits_of_the_reference_loop_and_of_the_branch() {
        // dA, Z and A with signed zeros, infinities and NaN among ordinary numbers, 1003 long so
        // that the vector loops' tails run too.
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e-310,
        ];
        let pick = |i: usize, salt: usize| {
            if (i * 7 + salt).is_multiple_of(5) {
                specials[(i + salt) % specials.len()]
            } else {
                ((i * 37 + salt * 11) % 200) as f64 / 50.0 - 2.0
            }
        };
        let n = 1003;
        let da: Vec<f64> = (0..n).map(|i| pick(i, 1)).collect();
        let z: Vec<f64> = (0..n).map(|i| pick(i, 2)).collect();
        let a: Vec<f64> = (0..n).map(|i| pick(i, 3)).collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for f in [
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Swish,
            Activation::LeakyRelu { slope: 0.01 },
            Activation::Identity,
        ] {
            let (mut wide, mut reference) = (vec![0.0; n], vec![0.0; n]);
            f.backward_entries(&mut wide, &da, &z, &a);
            f.backward_entries_reference(&mut reference, &da, &z, &a);
            assert_eq!(bits(&wide), bits(&reference), "{}", f.name());
        }
        // ReLU's derivative as a product gives the bits of the branch it replaced.
        let mut relu = vec![0.0; n];
        Activation::Relu.backward_entries(&mut relu, &da, &z, &a);
        let branch: Vec<f64> = (da.iter().zip(&z))
            .map(|(&da, &z)| if z > 0.0 { da } else { 0.0 * da })
            .collect();
        assert_eq!(bits(&relu), bits(&branch));
    }

    #[test]
    fn wide_vectors_give_the_bits_of_the_reference_loop() {
        // 4001 numbers (not a multiple of any vector width, so the tails run too) from −50 to 50,
        // with the edge cases of the exponential.
        let mut z: Vec<f64> = (0..4001).map(|i| -50.0 + 0.025 * i as f64).collect();
        z.extend([
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            710.0,
            -710.0,
            -1000.0,
            f64::INFINITY,
        ]);
        z.extend([f64::NEG_INFINITY, f64::NAN]);
        for (name, f) in [("tanh", tanh as fn(f64) -> f64), ("sigmoid", sigmoid)] {
            let mut reference = vec![0.0; z.len()];
            let mut wide = vec![0.0; z.len()];
            map_entries(&z, &mut reference, f);
            map_wide(&z, &mut wide, f);
            for ((r, w), z) in reference.iter().zip(&wide).zip(&z) {
                assert_eq!(r.to_bits(), w.to_bits(), "{name}({z})");
            }
        }
    }
}

#[cfg(test)]
mod softmax_tests {
    use super::{softmax_row, Activation};
    use crate::matrix::Matrix;
    use crate::rng::Rng;

    #[test]
    fn softmax_of_a_matrix_gives_the_bits_of_softmax_row() {
        // Rows of 1, 3, 10 and 17 entries (the vector loops' tails), with large, tiny, equal and
        // infinite entries among ordinary ones.
        let mut rng = Rng::new(31);
        for k in [1, 3, 10, 17] {
            let mut z = Matrix::random_normal(40, k, 0.0, 30.0, &mut rng); // (40, k)
            let specials = [800.0, -800.0, 0.0, -0.0, f64::NEG_INFINITY, 1e-300];
            for (i, &special) in specials.iter().enumerate() {
                z.set(i, (i * 7) % k, special);
                z.set(i + specials.len(), 0, special);
                z.set(i + specials.len(), k - 1, special);
            }
            let mut a = Matrix::zeros(0, 0);
            Activation::Softmax.forward(&z, &mut a);
            for i in 0..z.rows() {
                let mut want = vec![0.0; k];
                softmax_row(z.row(i), &mut want);
                let bits = |row: &[f64]| row.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(a.row(i)),
                    bits(&want),
                    "row {i} of {k}: {:?}",
                    z.row(i)
                );
            }
        }
    }
}
