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
                -pairs
                    .map(|(&p, &t)| binary_cross_entropy_term(clamp_probability(p), t))
                    .sum::<f64>()
                    / entries
            }
            Loss::SoftmaxCrossEntropy => {
                // Only the true class contributes (y is one-hot); skipping the zeros also avoids
                // 0·ln 0 = 0·(−∞) = NaN.
                -pairs
                    .filter(|(_, &t)| t != 0.0)
                    .map(|(&p, &t)| t * clamp_probability(p).ln())
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

/// ŷ clamped into `[ε, 1 − ε]` so that `ln ŷ` and `ln(1 − ŷ)` stay finite.
/// One entry's `y ln ŷ + (1−y) ln(1−ŷ)` (with `ŷ` already clamped), the textbook form.
fn binary_cross_entropy_term_reference(p: f64, t: f64) -> f64 {
    t * p.ln() + (1.0 - t) * (1.0 - p).ln()
}

/// The same term with one logarithm where the target is 0 or 1, as it is in classification.
///
/// A logarithm is most of this loss's cost, and for `y = 1` the second term is `0 · ln(1−ŷ)`,
/// which is −0 (ln(1−ŷ) is finite and negative thanks to the clamp); adding −0 changes nothing,
/// so `ln ŷ` alone has the same bits. Likewise `ln(1−ŷ)` alone for `y = 0`. Soft targets take
/// the full form. Tested against [`binary_cross_entropy_term_reference`].
fn binary_cross_entropy_term(p: f64, t: f64) -> f64 {
    if t == 1.0 {
        p.ln()
    } else if t == 0.0 {
        (1.0 - p).ln()
    } else {
        binary_cross_entropy_term_reference(p, t)
    }
}

fn clamp_probability(p: f64) -> f64 {
    p.clamp(PROBABILITY_CLAMP, 1.0 - PROBABILITY_CLAMP)
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
        binary_cross_entropy_term, binary_cross_entropy_term_reference, clamp_probability,
    };

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
