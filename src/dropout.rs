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
