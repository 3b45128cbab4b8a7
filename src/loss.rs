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
//! which caps one sample's loss at about −ln 10⁻¹² ≈ 27.6; the output-error shortcut needs no
//! clamp. Why 1e-12:
//!
//! - 27.6 is finite, so one hopeless sample cannot make the batch's mean loss ∞, yet far above
//!   any loss a learning network produces: guessing ½ everywhere costs ln 2 ≈ 0.69, and a loss
//!   of 10 on a sample already means a probability of e⁻¹⁰ ≈ 4.5·10⁻⁵ for its true class.
//! - The clamp leaves alone every probability a network actually outputs: a sigmoid comes within
//!   10⁻¹² of 0 or 1 only for |z| > 27.6, where the network is certain anyway.
//! - It is far from the limits of f64: `1 − 1e-12` is still a number below 1 (the spacing of
//!   f64 near 1 is 1.1·10⁻¹⁶, so a clamp of 1e-17 would round back to 1 at the top and leave
//!   `ln(1 − ŷ) = −∞` possible), and 1e-12 is nowhere near the smallest f64, 10⁻³⁰⁸.
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
//!
//! # Exercises
//!
//! 1. *The first backward numbers by hand.* `cargo run -- demo xor` prints, in its forward part,
//!    `ŷ = (0.5000, 0.6702, 0.7257, 0.8489)` for `y = (0, 1, 1, 0)`, n = 4, and binary
//!    cross-entropy. Before reading its backward part, compute the first and the last row of
//!    `∂L/∂ŷ` and of the output error `dZ²` by the formulas above; then compare (the test
//!    `loss_output_error_of_the_demo_by_hand` computes them).
//! 2. *One confident mistake.* A sample of class 0 gets ŷ = σ(40). Predict its loss, then run
//!    `cargo test --test exercises_foundations loss_one_confident_mistake_costs_27_6 -- --nocapture`.
//!    Then remove the clamp (make `clamp_probability` return `p`) and run the test again.
//! 3. *A saturated sigmoid, two ways.* For the same sample (z = 40, y = 0, n = 1), predict
//!    `dZ` by the chain rule, `∂L/∂ŷ ⊙ σ′(Z)` as [`Loss::gradient`] and
//!    `Activation::backward` compute it, and by the shortcut [`Loss::output_error`]; then run
//!    `cargo test --test exercises_foundations loss_a_saturated_sigmoid_learns_only_through_the_shortcut -- --nocapture`.
//!
//! <details><summary>Answers</summary>
//!
//! 1. Row 1: `Z²₁ = 0` exactly (the point (0, 0) meets only the biases, which start at 0), so
//!    ŷ₁ = σ(0) = ½, `∂L/∂ŷ₁ = (½ − 0)/(½·½·4) = 0.5` and `dZ²₁ = (½ − 0)/4 = 0.125`, both
//!    exact. Row 4: `∂L/∂ŷ₄ = (ŷ₄ − 0)/(ŷ₄·(1 − ŷ₄)·4) = 1/(4·(1 − ŷ₄)) = 1.654290` and
//!    `dZ²₄ = ŷ₄/4 = 0.212219`, with ŷ₄ = 0.848878 to six places (the four printed ones give
//!    0.8489/4 = 0.212225: a result carries only as many digits as its inputs). The long way,
//!    `1.654290 · ŷ₄(1 − ŷ₄)`, gives the same 0.212219: the `ŷ(1 − ŷ)` cancels.
//! 2. ŷ = σ(40) = 1 − 4·10⁻¹⁸ rounds to exactly 1.0, which the clamp moves to 1 − 10⁻¹², so
//!    L ≈ −ln 10⁻¹² = 27.631021. The test prints `L = 27.63104323789336`, a little more:
//!    1 − 10⁻¹² is not an f64, the clamp's top is the nearest one, and 1 minus it is
//!    9.99978·10⁻¹³. Without the clamp, `L = −ln(1 − 1) = −ln 0 = ∞`, and the test fails with
//!    `L = inf`: one such sample would make the whole batch's mean loss infinite, and the
//!    training history useless, for a network that is only very wrong on one point.
//!    (`loss_a_saturated_sigmoid_learns_only_through_the_shortcut` fails too: unclamped,
//!    `∂L/∂ŷ = 1/(1·0)` is ∞.) Put the line back.
//! 3. The chain rule: `∂L/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ)·n)` with the clamped ŷ is `1.000022e12`, but
//!    `σ′ = a·(1 − a) = 1·0 = 0`, and the product is `dZ = 0`: the long way says this sample
//!    teaches nothing, exactly when the network is most confidently wrong. The shortcut gives
//!    `dZ = (ŷ − y)/n = 1`, the full pull back. (Without the clamp the long way would be
//!    `∞·0 = NaN`.) This is why training starts backward from [`Loss::output_error`].
//!
//! </details>

use crate::activation::Activation;
use crate::kernels::{self, math::ln};
use crate::matrix::Matrix;

/// How far cross-entropy keeps ŷ from 0 and 1 before taking a logarithm: one sample's loss is
/// then at most about −ln 10⁻¹² ≈ 27.6, finite yet far above the losses of learning, while every
/// probability a network actually outputs (a sigmoid reaches 10⁻¹² only for |z| > 27.6) is left
/// untouched, and `1 − 1e-12` is still an f64 below 1 (see "Finite at the extremes").
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
