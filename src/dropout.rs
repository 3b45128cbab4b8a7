//! Dropout: randomly silence units while training, so no unit can rely on another.
//!
//! Inverted dropout with rate p: in training, each entry is kept with probability 1 − p and then
//! scaled by 1/(1 − p), so its expected value is unchanged and inference needs no correction.
//!
//! ```text
//! training    M[i,j] = 1/(1 − p) with probability 1 − p, else 0       (a fresh mask per step)
//!             A = X ⊙ M
//! inference   A = X
//! backward    dX = dA ⊙ M          (a dropped unit passed nothing forward, so it gets no gradient)
//! ```
//!
//! The mask is the one thing forward must cache for backward. For gradient checking the mask can
//! be frozen, so that every forward pass of the check uses the same one.
//!
//! # Why scale by 1/(1 − p): the expected value
//!
//! One entry `m` of the mask is 1/(1 − p) with probability 1 − p and 0 with probability p:
//!
//! ```text
//! E[m]  = (1 − p)·1/(1 − p) + p·0  = 1           so  E[A] = E[X ⊙ M] = X ⊙ E[M] = X
//! E[m²] = (1 − p)·1/(1 − p)²       = 1/(1 − p)
//! Var(m) = E[m²] − E[m]²           = p/(1 − p)   (1 for p = 0.5, 0.25 for p = 0.2)
//! ```
//!
//! On average over the masks the next layer receives exactly `X`, the input it receives at
//! inference, where every unit is kept: so inference needs no correction, and a saved network
//! knows nothing of p. Plain dropout, with `M ∈ {0, 1}`, would train the next layer on inputs
//! (1 − p) times smaller than it meets at inference, and inference would have to multiply by
//! 1 − p to make up for it. What the scaling does not keep is the spread: each entry of `A`
//! carries noise of variance `p/(1 − p)·X²`, the price of the regularisation.
//!
//! The test `dropout_mask_mean_is_one` (`tests/exercises_training.rs`) draws 10⁶ mask entries
//! and finds their mean within a few standard errors `√(p/(1 − p)/10⁶)` of 1.
//!
//! # Exercises
//!
//! 1. **The mask's mean.** For p = 0.5, predict the mean and the standard deviation of one mask
//!    entry, and how far from 1 the mean of 10⁶ entries may fall by chance. Then run
//!    `cargo test --test exercises_training dropout_mask_mean -- --nocapture`. Now make the
//!    dropout plain: in `Dropout::forward` change `1.0 / keep` to `1.0`, predict the mean the
//!    test will report, and run it again. (Undo the change afterwards.)
//! 2. **Two losses of one network.** `cargo run -- train circles --dropout 0.5` prints the
//!    training loss of epoch 300, measured while training, and in its summary (`train loss`) the
//!    loss of the trained network on the same training rows. Predict which is larger. Then run
//!    `cargo run -- train circles`, without dropout, and compare the same two numbers.
//!
//! <details><summary>Answers</summary>
//!
//! 1. `E[m] = 1` and `Var(m) = p/(1 − p) = 1`, so one entry's standard deviation is 1 and the mean
//!    of 10⁶ independent entries has a standard error of `1/√10⁶ = 0.001`: anything within about
//!    ±0.003 of 1 is chance. The test prints `mask mean 0.998308, standard error 0.0010, -1.69
//!    standard errors from 1` (and for p = 0.2, −1.54 standard errors of 0.0005). With `1.0`
//!    every kept entry is 1, so the mean is the fraction kept, about 1 − p = 0.5, and the test
//!    fails: `the mask mean 0.499154 is -500.8 standard errors of 0.0010 from 1`. Trained that
//!    way, the next layer would learn on inputs half the size of those it meets at inference.
//! 2. The epoch's loss, 0.2715, is twice the summary's, 0.1368 (accuracy 0.9912): in training
//!    each prediction is made by a random half of the hidden units, at inference by all of them,
//!    undiluted because `E[A] = X`. Without dropout the two are 0.0434 and 0.0433, apart only
//!    because an epoch's loss is measured before its step (`train.rs`). So with dropout, set the
//!    test loss (0.1649) beside the summary's training loss, not beside the epoch lines: below
//!    0.2715 does not mean the network does better on unseen rows than on its training rows.
//!
//! </details>

use crate::matrix::Matrix;
use crate::rng::Rng;

/// An inverted-dropout layer.
#[derive(Clone, Debug)]
pub struct Dropout {
    /// The probability p of dropping a unit, in [0, 1).
    pub rate: f64,
    /// The last mask `M`, entries 0 or 1/(1 − p); the same shape as the layer's input.
    pub mask: Matrix,
    /// When true, training-mode forward passes reuse `mask` instead of drawing a new one (a new
    /// one is still drawn if the input's shape changed).
    pub frozen: bool,
    rng: Rng,
}

impl Dropout {
    /// A dropout layer that drops each unit with probability `rate` and draws its masks from
    /// `rng`.
    ///
    /// # Panics
    /// If `rate` is not in [0, 1) (the command line checks this before it gets here).
    pub fn new(rate: f64, rng: Rng) -> Dropout {
        assert!(
            (0.0..1.0).contains(&rate),
            "dropout rate must be in [0, 1), got {rate}"
        );
        Dropout {
            rate,
            mask: Matrix::zeros(0, 0),
            frozen: false,
            rng,
        }
    }

    /// Training: `A ← X ⊙ M` with a new mask `M` (unless frozen), cached for backward.
    /// Inference: `A ← X`. `A` takes the shape of `X`.
    pub fn forward(&mut self, a: &mut Matrix, x: &Matrix, training: bool) {
        trace!("dropout.rs Dropout::forward");
        if !training || self.rate == 0.0 {
            a.copy_from(x);
            return;
        }
        if !self.frozen || self.mask.shape() != x.shape() {
            let keep = 1.0 - self.rate;
            self.mask.resize(x.rows(), x.cols());
            for m in self.mask.as_mut_slice() {
                *m = if self.rng.uniform() < keep {
                    1.0 / keep
                } else {
                    0.0
                };
            }
        }
        a.copy_from(x);
        for (a, &m) in a.as_mut_slice().iter_mut().zip(self.mask.as_slice()) {
            *a *= m;
        }
    }

    /// `dX ← dA ⊙ M` (after a training forward pass), or `dX ← dA` after an inference pass.
    ///
    /// # Panics
    /// In training mode, if `dA` is not the shape of the last mask.
    pub fn backward(&self, dx: &mut Matrix, da: &Matrix, training: bool) {
        trace!("dropout.rs Dropout::backward");
        dx.copy_from(da);
        if training && self.rate > 0.0 {
            assert!(
                da.shape() == self.mask.shape(),
                "Dropout backward: dA is {:?} but the last mask was {:?}",
                da.shape(),
                self.mask.shape()
            );
            // Forward was A = X ⊙ M, so ∂A/∂X = M entry by entry.
            for (d, &m) in dx.as_mut_slice().iter_mut().zip(self.mask.as_slice()) {
                *d *= m;
            }
        }
    }
}
