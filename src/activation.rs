//! Activation functions: the non-linearity `A = f(Z)` and its derivative, side by side.
//!
//! A layer computes `Z = X·W + b` and then `A = f(Z)`. Without `f` a stack of layers collapses
//! into one affine map, `(X·W¹ + b¹)·W² + b² = X·(W¹·W²) + (b¹·W² + b²)`, a single layer again,
//! and a single sigmoid unit says "class 1" exactly where `w·x + b > 0`: on one side of a line.
//! No line separates XOR. Suppose one did, with `w·x + b > 0` on the class-1 points (0,1) and
//! (1,0) and `≤ 0` on the class-0 points (0,0) and (1,1):
//!
//! ```text
//! (0,0)   b ≤ 0
//! (0,1)   w₂ + b > 0
//! (1,0)   w₁ + b > 0
//! (1,1)   w₁ + w₂ + b ≤ 0
//!
//! adding the middle two:  w₁ + w₂ + 2b > 0,  so  w₁ + w₂ + b > −b ≥ 0,
//!                         against the last line
//! ```
//!
//! (With the classes on the other sides, every inequality turns round and the same steps give
//! `w₁ + w₂ + b < −b ≤ 0` against `w₁ + w₂ + b > 0`.) Nor does any line separate two concentric
//! circles. With `f`, each layer can bend space a little, and the next layer's line is drawn in
//! the bent space (`backprop demo xor` shows the four points becoming separable there).
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
//! Leaky ReLU's slope α = 0.01 for z < 0 is small enough that the function keeps ReLU's shape
//! (a negative input comes out 100 times smaller, nearly switched off) and large enough that a
//! unit whose z is negative on every example still gets a gradient, 1 % of what it would get
//! for z > 0, so it can climb back instead of staying dead (exercise 3).
//!
//! Sigmoid and tanh have derivatives written in terms of their own output `a = f(z)`:
//!
//! ```text
//! σ(z) = 1/(1 + e⁻ᶻ)       σ′(z) = e⁻ᶻ/(1 + e⁻ᶻ)² = 1/(1 + e⁻ᶻ) · e⁻ᶻ/(1 + e⁻ᶻ)
//!                                = a·(1 − a)              as 1 − σ(z) = e⁻ᶻ/(1 + e⁻ᶻ)
//! tanh z = sinh z/cosh z   tanh′ z = (cosh² z − sinh² z)/cosh² z
//!                                 = 1 − tanh² z = 1 − a²  as cosh² z − sinh² z = 1
//! ```
//!
//! The forward pass has already computed `a`, so [`Activation::derivative`] is given both `z`
//! and `a`: from `a` each derivative is one multiplication, with no exponential. The forms also
//! show the largest slopes, σ′ = ¼ at a = ½ and tanh′ = 1 at a = 0, and how both vanish as the
//! unit saturates (a → 0 or 1 for σ, a → ±1 for tanh). The exponentials themselves (in σ, tanh
//! and softmax) are the crate's own, in plain arithmetic (`kernels/math.rs`), so they give the
//! same bits on every machine.
//!
//! Softmax mixes the entries of a row, so its derivative is a matrix per row, the Jacobian
//! `J = diag(s) − s·sᵀ` with `s = softmax(z)`. Backward multiplies it by the row of `dA`:
//! `dz = J·da`, which simplifies to `dzⱼ = sⱼ·(daⱼ − Σₖ sₖ·daₖ)`. In training softmax is paired with
//! cross-entropy, whose combined gradient is the much simpler `dZ = (ŷ − y)/n` (see `loss.rs`);
//! the general path here is kept so the two can be checked against each other.
//!
//! # How the code maps onto the math
//!
//! [`Activation::value`] and [`Activation::derivative`] are the two columns of the table, one
//! number at a time, and the only place the formulas are written. [`Activation::forward`] and
//! [`Activation::backward`] apply them to whole matrices through the engine's named operations
//! `kernels::map` (`a = f(z)` for every entry) and `kernels::times_derivative`
//! (`dz = da·f′(z, a)`); [`Activation::forward_entries`] and [`Activation::backward_entries`] do
//! the same for a run of entries, which is how a dense layer applies the activation that
//! follows it to each block of rows it finishes (`dense.rs`).
//!
//! # Exercises
//!
//! 1. *XOR without a non-linearity.* Predict the final loss and accuracy of
//!    `cargo run -- train xor --activation identity` (2 → 4 identity → 1 sigmoid) and of
//!    `cargo run -- train xor --hidden none` (2 → 1 sigmoid), then run them. (Hint: where does
//!    the gradient of the loss of a line vanish?) The test is
//!    `activation_xor_without_a_nonlinearity_settles_at_ln_2`.
//! 2. *Derivative of the input or of the output?* In [`Activation::derivative`], write
//!    `Activation::Tanh => 1.0 - z * z,` (the formula with `z` where `a` belongs). Predict which
//!    rows of `cargo run -- gradcheck` (2 → 4 tanh → 1 sigmoid) fail, then run it and
//!    `cargo test --test exercises_foundations activation_tanh_derivative_agrees_with_central_differences`.
//! 3. *Dead units.* `cargo run -- train circles --lr 10` trains its 10 ReLU units with ten
//!    times the task's step η = 1. Predict what the final line `gradients ‖dW¹‖ … ‖dW²‖ …` shows once the
//!    units have died, and what the loss does from then on; then run it, and again with
//!    `--activation leaky_relu`. The test is `activation_dead_relus_get_no_gradient_leaky_ones_do`.
//!
//! <details><summary>Answers</summary>
//!
//! 1. Both end near ln 2 = 0.693147, at accuracy 0.5: `train loss 0.6931 accuracy 0.5000` for
//!    the identity layer, `train loss 0.6932 accuracy 0.5000` without a hidden layer (still a
//!    little above after 50 epochs). Either network computes σ(w·x + c) for some w and c, a line.
//!    For a line the cross-entropy's gradient vanishes at w = 0, c = 0, where ŷ = ½ on every
//!    point: `∂L/∂c = Σ(ŷ − y)/4 = (½ − ½ − ½ + ½)/4 = 0` and `∂L/∂w₁ = ((½ − 1) + (½ − 0))/4 = 0`,
//!    likewise w₂; the loss of a line is convex in (w, c), so that is its minimum, L = ln 2. The
//!    best line by the loss says "½" everywhere and gets half the points: a line could get
//!    three of the four right, but only with a larger cross-entropy.
//! 2. `W¹` (7.8e-1), `b¹` (7.3e-1) and `X` (9.0e-1) fail; `W²` (1.6e-10) and `b²` (1.6e-11)
//!    pass, as they are computed before backward reaches the tanh layer; only the gradients
//!    that pass through `tanh′` are wrong. The test fails with
//!    `W¹: backprop and central differences differ by a relative error of 7.8e-1`. Errors near
//!    1 mean "wrong", not "slightly off": `1 − z²` and `1 − tanh² z` agree only for small z
//!    (tanh z ≈ z), and at z = 1.2 the first is negative (−0.44) where the true slope is 0.31.
//!    Put the line back.
//! 3. `gradients ‖dW¹‖ 0.0e0 ‖dW²‖ 0.0e0`, and the diagnosis
//!    `10 of 10 relu units after layer 1 never activate on the training data`. The first steps
//!    push every unit's z below 0 on every training point; then `A¹ = 0`, so `dW² = A¹ᵀ·dZ² = 0`,
//!    and ReLU's `f′ = 0` stops `dZ¹`, so `dW¹ = 0`: nothing can bring the units back. The loss
//!    stays at 1.0164 at every listed epoch from 30 on, and the summary says 1.0587: only `b²`
//!    still moves, and η = 10 throws it back and forth between −1.9208 and 1.6015 (for `b²`
//!    alone, gradient descent settles only for η < 2/(q·(1 − q)) ≈ 8.01, with q = 0.48 the share
//!    of the inner class; see the optimizer chapter). With `leaky_relu` the units go just as
//!    negative (after 30 epochs every z is below 0), but each still passes 0.01 of its
//!    gradient: ‖dW¹‖ is 4.6e-4 there, not 0. The progress line reads `loss 1.0400` and
//!    `‖dW‖ 4.29e-2` at epoch 30 and `loss 0.7468` at epoch 300, when one unit has come back
//!    above 0; with `--epochs 1000` the training accuracy reaches 0.7812.
//!
//! </details>

use crate::kernels::{self, math};
use crate::matrix::{dot, Matrix};

/// The slope of Leaky ReLU for negative inputs unless configured otherwise: small enough to keep
/// ReLU's shape (a negative input is all but switched off), large enough that a unit with z < 0
/// on every example still gets 1 % of a gradient and can recover.
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

    /// `f(z)` for one number: the middle column of the table. Softmax has no single-number form
    /// (it needs the whole row).
    ///
    /// # Panics
    /// For `Softmax`.
    #[inline(always)]
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
            Activation::Tanh => math::tanh(z),
            Activation::Swish => z * sigmoid(z),
            Activation::Softmax => panic!("softmax works on whole rows; use Activation::forward"),
        }
    }

    /// `f′(z)` for one number, given also `a = f(z)` (as the forward pass left it): the right-hand
    /// column of the table.
    ///
    /// # Panics
    /// For `Softmax`.
    #[inline(always)]
    pub fn derivative(&self, z: f64, a: f64) -> f64 {
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
            Activation::Sigmoid => a * (1.0 - a),
            Activation::Tanh => 1.0 - a * a,
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
        trace!("activation.rs Activation::forward");
        a.resize(z.rows(), z.cols());
        match *self {
            Activation::Softmax if z.cols() > 0 => {
                kernels::softmax_rows(z.as_slice(), a.as_mut_slice(), z.cols())
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

    /// `a[i] ← f(z[i])` for every entry of two runs of the same length, for an entry-by-entry
    /// activation: what [`Activation::forward`] does to a whole matrix, applied to a part of one.
    ///
    /// # Panics
    /// For softmax, or if the runs differ in length.
    pub fn forward_entries(&self, z: &[f64], a: &mut [f64]) {
        trace!("activation.rs Activation::forward_entries");
        // Each arm names its activation as a constant, so that `value`'s match is settled when
        // compiling, once, rather than once per entry.
        use Activation::*;
        match *self {
            Identity => kernels::map(z, a, |z| Identity.value(z)),
            Relu => kernels::map(z, a, |z| Relu.value(z)),
            LeakyRelu { slope } => kernels::map(z, a, |z| LeakyRelu { slope }.value(z)),
            Sigmoid => kernels::map(z, a, |z| Sigmoid.value(z)),
            Tanh => kernels::map(z, a, |z| Tanh.value(z)),
            Swish => kernels::map(z, a, |z| Swish.value(z)),
            Softmax => panic!("softmax works on whole rows; use Activation::forward"),
        }
    }

    /// `dZ ← dA ⊙ f′(Z)` (for softmax, `dz = J·da` for each row); `dZ` takes the shape of `Z`.
    ///
    /// The forward pass was `A = f(Z)`; `A` is passed too, for the derivatives written in terms
    /// of it.
    ///
    /// # Panics
    /// If `dA`, `Z` and `A` do not all have the same shape.
    pub fn backward(&self, dz: &mut Matrix, da: &Matrix, z: &Matrix, a: &Matrix) {
        trace!("activation.rs Activation::backward");
        assert!(
            da.shape() == z.shape() && a.shape() == z.shape(),
            "{} backward: dA is {:?}, Z is {:?}, A is {:?}; all must have one shape",
            self.name(),
            da.shape(),
            z.shape(),
            a.shape()
        );
        dz.resize(z.rows(), z.cols());
        if *self != Activation::Softmax {
            return self.backward_entries(
                dz.as_mut_slice(),
                da.as_slice(),
                z.as_slice(),
                a.as_slice(),
            );
        }
        let cols = z.cols();
        for i in 0..z.rows() {
            let s = a.row(i);
            let da_row = da.row(i);
            // dzⱼ = Σₖ Jⱼₖ·daₖ with Jⱼₖ = sⱼ·(δⱼₖ − sₖ), which is sⱼ·(daⱼ − Σₖ sₖ·daₖ).
            let s_dot_da = dot(s, da_row);
            for (j, dz_ij) in dz.row_mut(i).iter_mut().enumerate().take(cols) {
                *dz_ij = s[j] * (da_row[j] - s_dot_da);
            }
        }
    }

    /// `dz[i] ← da[i]·f′(z[i], a[i])` for an entry-by-entry activation, on runs of entries of the
    /// same length: what [`Activation::backward`] does to whole matrices, applied to a part of
    /// them.
    ///
    /// # Panics
    /// For softmax, or if the runs differ in length.
    pub fn backward_entries(&self, dz: &mut [f64], da: &[f64], z: &[f64], a: &[f64]) {
        trace!("activation.rs Activation::backward_entries");
        // As in `forward_entries`: one arm per activation, named as a constant.
        use Activation::*;
        match *self {
            Identity => kernels::times_derivative(dz, da, (z, a), |z, a| Identity.derivative(z, a)),
            Relu => kernels::times_derivative(dz, da, (z, a), |z, a| Relu.derivative(z, a)),
            LeakyRelu { slope } => kernels::times_derivative(dz, da, (z, a), |z, a| {
                LeakyRelu { slope }.derivative(z, a)
            }),
            Sigmoid => kernels::times_derivative(dz, da, (z, a), |z, a| Sigmoid.derivative(z, a)),
            Tanh => kernels::times_derivative(dz, da, (z, a), |z, a| Tanh.derivative(z, a)),
            Swish => kernels::times_derivative(dz, da, (z, a), |z, a| Swish.derivative(z, a)),
            Softmax => panic!("softmax's derivative is a Jacobian; use Activation::backward"),
        }
    }
}

/// `σ(z) = 1 / (1 + e⁻ᶻ)`, computed without overflow for any z.
///
/// For z = −1000, `e⁻ᶻ = e¹⁰⁰⁰` overflows to ∞; the result 1/∞ = 0 would still be right, but the
/// mirrored form keeps every intermediate finite: for z < 0 use `σ(z) = eᶻ / (1 + eᶻ)`, where
/// `eᶻ` is at most 1.
#[inline(always)]
pub fn sigmoid(z: f64) -> f64 {
    // The exponent is −|z| ≤ 0 in both forms, the range of the crate's exponential (math.rs).
    let e = math::exp_nonpositive(-z.abs());
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
        // z − max ≤ 0, the range of the crate's exponential (math.rs).
        *s = math::exp_nonpositive(z - max);
        total += *s;
    }
    for s in s.iter_mut() {
        *s /= total;
    }
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

#[cfg(test)]
mod tests {
    use super::sigmoid;

    #[test]
    fn sigmoid_agrees_with_its_textbook_form() {
        let mut z: f64 = -700.0;
        while z < 40.0 {
            let textbook = 1.0 / (1.0 + (-z).exp());
            let ulp = textbook * f64::EPSILON;
            let ours = sigmoid(z);
            assert!(
                (ours - textbook).abs() <= 4.0 * ulp,
                "σ({z}) = {ours}, textbook {textbook}"
            );
            z += 0.0137;
        }
        assert!(sigmoid(f64::NAN).is_nan());
        assert_eq!(sigmoid(f64::INFINITY), 1.0);
    }
}
