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
//! The derivative at ReLU's kink (z = 0) is taken as 0, as most libraries do. Sigmoid and tanh
//! have derivatives written in terms of their own output `a = f(z)` (`σ′ = a·(1 − a)`,
//! `tanh′ = 1 − a²`), which is why [`Activation::derivative`] is given both `z` and `a`: it saves
//! an exponential per entry. The exponentials themselves (in σ, tanh and softmax) are the crate's
//! own, in plain arithmetic (`kernels/math.rs`), so they give the same bits on every machine.
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

use crate::kernels::{self, math};
use crate::matrix::{dot, Matrix};

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
