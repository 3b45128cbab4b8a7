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
//! The logarithms are the crate's own `ln` (`kernels/math.rs`, fdlibm's method in plain
//! arithmetic), not the system library's: the result has the same bits on every machine, and
//! the engine can compute several at once on vector lanes.
//!
//! # How the code maps onto the math
//!
//! [`Loss::value`], [`Loss::gradient`] and [`Loss::output_error`] are the three columns above,
//! written entry by entry. The one heavy sum, binary cross-entropy's logarithms, is added by the
//! engine's named operation `kernels::sum_of_terms`, in entry order.

use crate::activation::Activation;
use crate::kernels::{self, math::ln};
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
        trace!("loss.rs Loss::value");
        assert_same_shape(y_hat, y, self.name());
        let n = y_hat.rows() as f64;
        let entries = y_hat.as_slice().len() as f64;
        let pairs = y_hat.as_slice().iter().zip(y.as_slice());
        match self {
            Loss::MeanSquaredError => pairs.map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / entries,
            Loss::BinaryCrossEntropy => {
                let (p, t) = (y_hat.as_slice(), y.as_slice());
                // With hard targets (every y is 0 or 1), each entry's y ln ŷ + (1−y) ln(1−ŷ)
                // is the logarithm of the probability given to the true class, ln ŷ or
                // ln(1 − ŷ): the other term is 0·ln(…) = −0, which adds nothing, so it is not
                // computed (the same bits, one logarithm per entry instead of two).
                let total = if t.iter().all(|&t| t == 0.0 || t == 1.0) {
                    kernels::sum_of_terms(p, t, |p, t| {
                        let p = clamp_probability(p);
                        ln(if t == 1.0 { p } else { 1.0 - p })
                    })
                } else {
                    kernels::sum_of_terms(p, t, |p, t| {
                        let p = clamp_probability(p);
                        t * ln(p) + (1.0 - t) * ln(1.0 - p)
                    })
                };
                -total / entries
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
        trace!("loss.rs Loss::gradient");
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
        trace!("loss.rs Loss::output_error");
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
