//! Batch normalisation: give every unit mean 0 and variance 1 over the batch, then let the
//! network choose its own scale `γ` and shift `β`.
//!
//! Placed between a dense layer and its activation, it keeps pre-activations in the range where
//! the activation is responsive, whatever the earlier layers do, which makes training less
//! sensitive to the learning rate and the initial weights (Ioffe & Szegedy 2015).
//!
//! ```text
//! forward (training), for each column j over the n rows of the batch:
//!   μ  = (1/n) Σᵢ Xᵢ                    batch mean             (1 × k)
//!   σ² = (1/n) Σᵢ (Xᵢ − μ)²             batch variance         (1 × k)
//!   X̂  = (X − μ) / √(σ² + ε)            normalised input       (n × k)
//!   Y  = γ ⊙ X̂ + β                      scaled and shifted     (n × k)
//!   running μ ← 0.9·running μ + 0.1·μ   (and the same for σ²), remembered for inference
//!   (σ² here divides by n, as the normalisation does; PyTorch keeps the n − 1 version instead)
//!
//! forward (inference): the running averages stand in for μ and σ².
//!
//! backward, given dY:
//!   dγ = Σ_rows (dY ⊙ X̂)
//!   dβ = Σ_rows dY
//!   dX̂ = dY ⊙ γ
//!   dX = (1/n) · (1/√(σ² + ε)) ⊙ (n·dX̂ − Σ_rows dX̂ − X̂ ⊙ Σ_rows (dX̂ ⊙ X̂))
//! ```
//!
//! The last line is longer than the others because every sample's `X̂` depends, through μ and σ²,
//! on every other sample of the batch: moving one input moves the mean and variance that all the
//! others were normalised with. The two sums are those indirect paths.
//!
//! # Where the two sums come from
//!
//! Take one column, write `s = 1/√(σ² + ε)` so that `X̂ᵢ = (Xᵢ − μ)·s`, and follow the three ways
//! in which `Xᵢ` reaches the loss: directly through its own `X̂ᵢ`, through μ (which appears in
//! every `X̂ⱼ`), and through σ² (which is inside every `s`):
//!
//! ```text
//! ∂L/∂Xᵢ = dX̂ᵢ·s  +  ∂L/∂μ · ∂μ/∂Xᵢ  +  ∂L/∂σ² · ∂σ²/∂Xᵢ
//!          with ∂μ/∂Xᵢ = 1/n  and  ∂σ²/∂Xᵢ = 2(Xᵢ − μ)/n
//!
//! through μ:   every X̂ⱼ has −μ·s in it, so  ∂L/∂μ = −s·Σⱼ dX̂ⱼ
//!              (μ is also inside σ², but ∂σ²/∂μ = −(2/n)·Σⱼ (Xⱼ − μ) = 0)
//! through σ²:  ∂X̂ⱼ/∂σ² = (Xⱼ − μ)·(−½)·(σ² + ε)^(−3/2) = −½·s²·X̂ⱼ,
//!              so  ∂L/∂σ² = −½·s²·Σⱼ dX̂ⱼ·X̂ⱼ
//!
//! ∂L/∂Xᵢ = s·dX̂ᵢ − (s/n)·Σⱼ dX̂ⱼ − (2(Xᵢ − μ)/n)·½·s²·Σⱼ dX̂ⱼ·X̂ⱼ
//!        = (s/n)·( n·dX̂ᵢ  −  Σⱼ dX̂ⱼ  −  X̂ᵢ·Σⱼ dX̂ⱼ·X̂ⱼ )
//!                  direct    through μ   through σ²
//! ```
//!
//! which is the last line above, column by column. Summed over the rows, the three terms cancel:
//! `Σᵢ dXᵢ = (s/n)·(n·Σ dX̂ − n·Σ dX̂ − (Σᵢ X̂ᵢ)·Σ (dX̂ ⊙ X̂)) = 0`, because `Σᵢ X̂ᵢ = 0`. Moving
//! every input of a column by the same amount moves μ by that amount and changes no `X̂`: the
//! loss cannot feel it, so the gradient has no such component (exercise 1).
//!
//! # The two constants
//!
//! `ε = 1e-5` ([`EPSILON`]) keeps `1/√(σ² + ε)` finite when a column is constant over the batch
//! (σ² = 0, as for every column of a batch of one row: then `X̂ = 0/√ε = 0`, not 0/0), and is
//! otherwise too small to notice: for a column with σ² = 1, the scale of standardised values, it
//! changes `1/√σ²` by the factor `(1 + 10⁻⁵)^(−½) ≈ 1 − 5·10⁻⁶`, and by less for a larger σ². It
//! matters only for columns whose σ² is near 10⁻⁵ or below, nearly constant over the batch.
//!
//! The running averages keep `0.9` of their value at each step ([`RUNNING_MOMENTUM`]): after k
//! steps a batch's statistics weigh `0.1·0.9ᵏ`, so the average is over roughly the last
//! `1/(1 − 0.9) = 10` batches. Long enough to smooth the noise of one batch's μ and σ², short
//! enough to follow them as the layers below learn (and to forget the starting 0 and 1: after 44
//! steps `0.9⁴⁴ < 1%` of them is left).
//!
//! Because it needs whole-batch statistics, batch normalisation is the one layer for which a
//! batch split into shards and processed separately would not give the same result.
//!
//! Like the dense layer, backward overwrites `dγ` and `dβ` rather than adding to them: each
//! parameter is used once per step (see `dense.rs`).
//!
//! # Exercises
//!
//! 1. **The bias before the normalisation.** The dense layer before a batch normalisation adds
//!    `b¹` to every row of `Z¹`, and the normalisation then subtracts each column's mean.
//!    Predict `db¹`. Then train `cargo run -- train circles --batch-norm --save out/bn.model`
//!    and read `b¹`: the line `b` under `layer 1 dense` in `out/bn.model`. Train again with
//!    `--optimizer adam --lr 0.01` added and read `b¹` again: what keeps Adam, which divides
//!    each gradient by its own size, from turning it into steps of η?
//! 2. **A batch of one.** `cargo run -- train circles --batch-norm --batch-size 1` is refused.
//!    Predict why, and what the network would learn if it were not: the gradient norms of three
//!    epochs, and the trained network's loss. The test
//!    `exercises_training::batch_norm_with_batches_of_one_learns_nothing` trains it through the
//!    library and prints them (`cargo test --test exercises_training batch_norm_with --
//!    --nocapture`).
//!
//! <details><summary>Answers</summary>
//!
//! 1. `db¹ = Σ_rows dZ¹`, and `dZ¹` is this layer's `dX`, whose column sums are 0 (the paths
//!    through μ and σ² above): the mean that `b¹` adds is the mean the normalisation removes, so
//!    no `b¹` changes the loss. Only rounding is left: the last step's largest `|db¹|` is 4.3e-18,
//!    and after 300 epochs of SGD at η = 1 the largest `|b¹|` is 3.7e-16 (the file writes
//!    `-0.00000000000000037265…`). With Adam it is 1.4e-10 (the largest `|db¹|` 6.7e-18):
//!    `m̂/√v̂` of pure rounding noise would be about ±1, steps of η = 0.01, but with
//!    `√v̂ ≈ 10⁻¹⁷` Adam's ε = 1e-8 is the larger part of the denominator and each step is about
//!    `η·10⁻¹⁷/10⁻⁸ = 10⁻¹¹`. A bias just before a batch normalisation is dead weight, and
//!    networks usually leave it out.
//! 2. Nothing, which is why the command line refuses it: every epoch's `‖dW‖` is exactly 0 in
//!    both layers, and `W¹` never moves. With one row, μ is that row and σ² = 0, so
//!    `X̂ = 0/√(0 + ε) = 0` whatever the input: the layer outputs β, and its `dX` is 0 (with
//!    n = 1, `n·dX̂ − Σ_rows dX̂ = 0` and `X̂ = 0`). Here it is worse still: β starts at 0, and
//!    ReLU gives 0 with slope 0 there, so the hidden layer's output is 0 for every row, and
//!    neither `W²` nor β gets a gradient either. Only the output bias `b²` learns, the same
//!    prediction for every row. And the running variance follows the batches' σ² = 0 down by a
//!    factor 0.9 per step, to below 1e-100 after 3 epochs, so at inference
//!    `1/√(σ² + ε) = 1/√ε = 316.2` magnifies every input's distance from the running mean
//!    316-fold: the trained network's loss is 12.8083, against 0.7698 for epoch 3 in training.
//!    Without ε the first step would have been 0/0 = NaN.
//!
//! </details>

use crate::matrix::Matrix;

/// ε inside the square root, so a column with zero variance does not divide by zero; it changes
/// a column with σ² = 1 by a factor 1 − 5·10⁻⁶ (see the module docs).
pub const EPSILON: f64 = 1e-5;

/// How much of the old running average is kept at each training step: an average over roughly
/// the last `1/(1 − 0.9) = 10` batches (see the module docs).
pub const RUNNING_MOMENTUM: f64 = 0.9;

/// A batch-normalisation layer over k features.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    /// Scale `γ`, 1 × k, starting at 1.
    pub gamma: Matrix,
    /// Shift `β`, 1 × k, starting at 0.
    pub beta: Matrix,
    /// `dγ` from the last backward pass.
    pub d_gamma: Matrix,
    /// `dβ` from the last backward pass.
    pub d_beta: Matrix,
    /// Running mean of the batch means, used at inference.
    pub running_mean: Matrix,
    /// Running mean of the batch variances, used at inference.
    pub running_var: Matrix,
    /// Cached for backward: `X̂` of the last training pass (n × k).
    x_hat: Matrix,
    /// Cached for backward: `1/√(σ² + ε)` of the last training pass (1 × k).
    inv_std: Matrix,
}

impl BatchNorm {
    /// A layer over `features` columns with `γ = 1`, `β = 0`, running mean 0 and variance 1.
    pub fn new(features: usize) -> BatchNorm {
        BatchNorm {
            gamma: Matrix::filled(1, features, 1.0),
            beta: Matrix::zeros(1, features),
            d_gamma: Matrix::zeros(1, features),
            d_beta: Matrix::zeros(1, features),
            running_mean: Matrix::zeros(1, features),
            running_var: Matrix::filled(1, features, 1.0),
            x_hat: Matrix::zeros(0, features),
            inv_std: Matrix::zeros(1, features),
        }
    }

    /// Number of features k.
    pub fn features(&self) -> usize {
        self.gamma.cols()
    }

    /// `Y ← γ ⊙ X̂ + β` for `X` (n × k), with batch statistics in training (which also moves the
    /// running averages) and the running ones at inference. `X̂` and `1/√(σ² + ε)` are cached for
    /// backward.
    ///
    /// # Panics
    /// If `X` does not have k columns.
    pub fn forward(&mut self, y: &mut Matrix, x: &Matrix, training: bool) {
        trace!("batch_norm.rs BatchNorm::forward");
        let (n, k) = x.shape();
        assert_eq!(
            k,
            self.features(),
            "BatchNorm forward: X is {:?} but the layer has {} features",
            x.shape(),
            self.features()
        );
        self.inv_std.resize(1, k);
        let mut mean = vec![0.0; k];
        if training {
            let mut var = vec![0.0; k];
            for i in 0..n {
                for (m, &v) in mean.iter_mut().zip(x.row(i)) {
                    *m += v / n as f64;
                }
            }
            for i in 0..n {
                for j in 0..k {
                    let d = x[(i, j)] - mean[j];
                    var[j] += d * d / n as f64;
                }
            }
            for j in 0..k {
                self.inv_std[(0, j)] = 1.0 / (var[j] + EPSILON).sqrt();
                let running_mean = &mut self.running_mean[(0, j)];
                *running_mean =
                    RUNNING_MOMENTUM * *running_mean + (1.0 - RUNNING_MOMENTUM) * mean[j];
                let running_var = &mut self.running_var[(0, j)];
                *running_var = RUNNING_MOMENTUM * *running_var + (1.0 - RUNNING_MOMENTUM) * var[j];
            }
        } else {
            for j in 0..k {
                mean[j] = self.running_mean[(0, j)];
                self.inv_std[(0, j)] = 1.0 / (self.running_var[(0, j)] + EPSILON).sqrt();
            }
        }
        self.x_hat.resize(n, k);
        y.resize(n, k);
        for i in 0..n {
            for j in 0..k {
                let x_hat = (x[(i, j)] - mean[j]) * self.inv_std[(0, j)];
                self.x_hat[(i, j)] = x_hat;
                y[(i, j)] = self.gamma[(0, j)] * x_hat + self.beta[(0, j)];
            }
        }
    }

    /// Stores `dγ` (1 × k) and `dβ` (1 × k) and writes `dX` (n × k) from `dY` (n × k), after a
    /// training-mode forward pass (see the module docs for the formulas). After an inference pass
    /// μ and σ² are constants and the formula would be a different one; training never does that.
    ///
    /// # Panics
    /// If `dY` is not the shape of the last forward pass's input.
    pub fn backward(&mut self, dx: &mut Matrix, dy: &Matrix) {
        trace!("batch_norm.rs BatchNorm::backward");
        let (n, k) = dy.shape();
        assert!(
            self.x_hat.shape() == (n, k),
            "BatchNorm backward: dY is {:?} but the last forward pass saw {:?}",
            dy.shape(),
            self.x_hat.shape()
        );
        // Forward was Y = γ ⊙ X̂ + β, so dγ = Σ_rows (dY ⊙ X̂), dβ = Σ_rows dY and dX̂ = dY ⊙ γ.
        self.d_gamma.resize(1, k);
        self.d_beta.resize(1, k);
        self.d_gamma.as_mut_slice().fill(0.0);
        self.d_beta.as_mut_slice().fill(0.0);
        // Σ_rows dX̂ and Σ_rows (dX̂ ⊙ X̂), with dX̂ = dY ⊙ γ.
        let mut sum_dx_hat = vec![0.0; k];
        let mut sum_dx_hat_x_hat = vec![0.0; k];
        for i in 0..n {
            for j in 0..k {
                let x_hat = self.x_hat[(i, j)];
                let dy_ij = dy[(i, j)];
                self.d_gamma[(0, j)] += dy_ij * x_hat;
                self.d_beta[(0, j)] += dy_ij;
                let dx_hat = dy_ij * self.gamma[(0, j)];
                sum_dx_hat[j] += dx_hat;
                sum_dx_hat_x_hat[j] += dx_hat * x_hat;
            }
        }
        // X̂ = (X − μ)/√(σ² + ε), where μ and σ² depend on every row of X: n·dX̂ is the direct
        // path, Σ_rows dX̂ the path through μ, X̂ ⊙ Σ_rows (dX̂ ⊙ X̂) the path through σ².
        dx.resize(n, k);
        let n_f = n as f64;
        for i in 0..n {
            for j in 0..k {
                let x_hat = self.x_hat[(i, j)];
                let dx_hat = dy[(i, j)] * self.gamma[(0, j)];
                dx[(i, j)] = self.inv_std[(0, j)] / n_f
                    * (n_f * dx_hat - sum_dx_hat[j] - x_hat * sum_dx_hat_x_hat[j]);
            }
        }
    }
}
