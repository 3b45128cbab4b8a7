//! Regression in the target's own units: why a target read from a file is standardised, and how
//! a fit is judged.
//!
//! The output layer of a regression network is the identity, `ŷ = Zᴸ`. When the target is in
//! the hundreds (a price, a count), `ŷ` must reach the hundreds: the output error
//! `dZ = 2(ŷ − y)/n` starts in the hundreds, so do the gradients, and a learning rate that suits
//! standardised features takes hundreds of epochs just to lift the output to the target's level.
//! Standardising the target with the **training** rows' statistics, as the features are,
//!
//! ```text
//! y′ = (y − μ_y)/σ_y          μ_y, σ_y: the target's mean and standard deviation (training rows)
//! ```
//!
//! gives the network the same problem at scale 1. It learns `ŷ′`, and a prediction returns to the
//! target's units by `ŷ = μ_y + σ_y·ŷ′` (the model file keeps μ_y and σ_y for this; see
//! `model_file.rs`). Since `ŷ − y = σ_y·(ŷ′ − y′)`,
//!
//! ```text
//! MSE(ŷ, y) = σ_y² · MSE(ŷ′, y′)
//! ```
//!
//! so the loss the network minimises (the MSE of the standardised target) and the MSE in the
//! target's units differ only by the constant σ_y². A run reports both: the **loss** is what was
//! minimised, the **mse** is in the target's squared units.
//!
//! Which targets: a regression target whose features are standardised (a CSV file, unless
//! `--no-standardize`). The generated tasks (sine) are not standardised at all: their targets are
//! already of scale 1 and their promised results are stated in those units.
//!
//! An MSE of 130 says little on its own: is that good for a target in the hundreds? Two numbers
//! put it beside the simplest predictor there is, the training rows' mean ȳ_train:
//!
//! ```text
//! baseline MSE   (1/n)·Σᵢ (yᵢ − ȳ_train)²             what always predicting ȳ_train scores
//! R²             1 − Σᵢ (yᵢ − ŷᵢ)² / Σᵢ (yᵢ − ȳ)²     ȳ: the mean of the rows being scored
//! ```
//!
//! R² is the share of the target's variance that the predictions explain: 1 is a perfect fit, 0
//! is no better than predicting the mean, below 0 is worse than that. It has no units, so it reads
//! the same for a target in the hundreds and for one near 1, and is unchanged by standardising.
//! R² uses the scored rows' own mean, as statistics texts and scikit-learn's `r2_score` do; on the
//! test rows that mean differs a little from the training mean the baseline predicts, so
//! `1 − MSE/baseline` is close to the test R² but not equal to it. On the training rows the two
//! means are the same.

use crate::loss::Loss;
use crate::matrix::Matrix;

/// How well regression predictions fit their targets, in the target's units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// Mean squared error, in the target's squared units.
    pub mse: f64,
    /// The MSE of always predicting the training rows' mean, in the same units.
    pub baseline_mse: f64,
    /// The coefficient of determination `1 − SS_res/SS_tot` (NaN when the targets are all equal,
    /// so that `SS_tot = 0`).
    pub r2: f64,
}

/// The [`Scores`] of predictions `ŷ′` against targets `y′` (n × k each), both in the units the
/// network learned in. `training_mean` is the training rows' mean of `y′`, one per column (0 for
/// a standardised target); `sigma_squared` is σ_y², which brings an MSE back to the target's
/// units (1 when the target was not standardised).
///
/// The MSE is `σ_y²` times [`Loss::MeanSquaredError`] of `ŷ′` and `y′`, so it has the same bits
/// as the training history's MSE of the same network brought back the same way.
///
/// # Panics
/// If `ŷ′` and `y′` differ in shape, or `training_mean` does not have one entry per column.
pub fn scores(y_hat: &Matrix, y: &Matrix, training_mean: &[f64], sigma_squared: f64) -> Scores {
    assert!(
        training_mean.len() == y.cols(),
        "regression::scores: {} training means for targets of {} columns",
        training_mean.len(),
        y.cols()
    );
    let mse = Loss::MeanSquaredError.value(y_hat, y);
    let (n, k) = y.shape();
    let entries = (n * k) as f64;
    // The mean of each column over the rows being scored, for SS_tot.
    let mut own_mean = vec![0.0; k];
    for i in 0..n {
        for (m, &v) in own_mean.iter_mut().zip(y.row(i)) {
            *m += v / n as f64;
        }
    }
    let (mut ss_res, mut ss_tot, mut ss_baseline) = (0.0, 0.0, 0.0);
    for i in 0..n {
        for j in 0..k {
            let (t, p) = (y[(i, j)], y_hat[(i, j)]);
            ss_res += (t - p) * (t - p);
            ss_tot += (t - own_mean[j]) * (t - own_mean[j]);
            ss_baseline += (t - training_mean[j]) * (t - training_mean[j]);
        }
    }
    let r2 = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        f64::NAN
    };
    Scores {
        mse: sigma_squared * mse,
        baseline_mse: sigma_squared * ss_baseline / entries,
        r2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_fit_scores_r2_one_and_the_mean_scores_zero() {
        let y = Matrix::from_vec(4, 1, vec![1.0, 2.0, 3.0, 6.0]);
        let perfect = scores(&y, &y, &[3.0], 1.0);
        assert_eq!((perfect.mse, perfect.r2), (0.0, 1.0));
        // Deviations from 3 are −2, −1, 0, 3: Σ² = 14 over 4 rows.
        assert_eq!(perfect.baseline_mse, 3.5);
        let mean = Matrix::from_vec(4, 1, vec![3.0; 4]);
        let at_mean = scores(&mean, &y, &[3.0], 1.0);
        assert_eq!((at_mean.mse, at_mean.r2), (3.5, 0.0));
    }

    #[test]
    fn standardised_scores_come_back_in_the_target_units() {
        // y = 100 + 10·y′: the MSE and the baseline scale by σ² = 100, R² does not change.
        let y_std = Matrix::from_vec(3, 1, vec![-1.0, 0.0, 1.0]);
        let y_hat_std = Matrix::from_vec(3, 1, vec![-0.5, 0.0, 1.5]);
        let s = scores(&y_hat_std, &y_std, &[0.0], 100.0);
        let units = |m: &Matrix| {
            Matrix::from_vec(
                3,
                1,
                m.as_slice().iter().map(|v| 100.0 + 10.0 * v).collect(),
            )
        };
        let u = scores(&units(&y_hat_std), &units(&y_std), &[100.0], 1.0);
        assert!((s.mse - u.mse).abs() < 1e-9 && (s.mse - 50.0 / 3.0).abs() < 1e-9);
        assert!((s.baseline_mse - u.baseline_mse).abs() < 1e-9);
        assert!((s.r2 - 0.75).abs() < 1e-12 && (u.r2 - 0.75).abs() < 1e-12);
    }

    #[test]
    fn constant_targets_have_no_r2() {
        let y = Matrix::from_vec(2, 1, vec![5.0, 5.0]);
        assert!(scores(&y, &y, &[4.0], 1.0).r2.is_nan());
    }
}
