//! Data: what a network learns from, and how it is prepared.
//!
//! A [`Dataset`] is a matrix of inputs `X` (n_samples × n_in, one example per row) and a matrix of
//! targets `y` (n_samples × n_out), plus what the task is:
//!
//! ```text
//! task          y                                   output layer      loss
//! binary        n × 1 of 0 or 1                     1 sigmoid         binary cross-entropy
//! multiclass    n × k one-hot (row i has a 1 in     k softmax         softmax cross-entropy
//!               the column of its class)
//! regression    n × 1 of real values                1 identity        mean squared error
//! ```
//!
//! Before training, the examples are split at random into a training and a test set (the test set
//! measures how well the network does on examples it never learned from), and the features are
//! standardised with the **training** split's statistics:
//!
//! ```text
//! x′ = (x − μ) / σ        μ, σ: each column's mean and standard deviation over the training rows
//! ```
//!
//! Features on very different scales (a cell's area in the hundreds, its smoothness near 0.1) make
//! the loss surface a long narrow valley that gradient descent crosses slowly; after
//! standardisation every feature has mean 0 and variance 1. The test rows use the training
//! statistics, because at prediction time nothing is known of the data to come.
//!
//! A regression target read from a file is standardised the same way, with its own μ_y and σ_y
//! over the training rows, and predictions are brought back to the target's units by
//! `ŷ = μ_y + σ_y·ŷ′` (`regression.rs` says why, and how a fit is then judged).
//!
//! The generated datasets are in `generate.rs`, the CSV reader in `csv.rs`, the measures of a
//! regression in `regression.rs`.

pub mod csv;
pub mod generate;
pub mod regression;

use crate::loss::Loss;
use crate::matrix::Matrix;
use crate::rng::Rng;

/// What is being predicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Two classes, targets 0 or 1.
    Binary,
    /// `classes` classes, one-hot targets.
    Multiclass {
        /// Number of classes k.
        classes: usize,
    },
    /// Real-valued targets.
    Regression,
}

impl Task {
    /// The loss trained with: binary or softmax cross-entropy, or mean squared error.
    pub fn loss(&self) -> Loss {
        match self {
            Task::Binary => Loss::BinaryCrossEntropy,
            Task::Multiclass { .. } => Loss::SoftmaxCrossEntropy,
            Task::Regression => Loss::MeanSquaredError,
        }
    }

    /// True for the two classification tasks.
    pub fn is_classification(&self) -> bool {
        !matches!(self, Task::Regression)
    }
}

/// Inputs, targets and what they mean.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// A short name (`circles`, `iris`, or the CSV file's stem).
    pub name: String,
    /// Inputs `X`, n_samples × n_in.
    pub x: Matrix,
    /// Targets `y`, n_samples × n_out (see the module docs for the encoding).
    pub y: Matrix,
    /// The kind of problem.
    pub task: Task,
    /// One name per input column.
    pub feature_names: Vec<String>,
    /// For classification, the name of each class id (`class_names[0]` is class 0).
    pub class_names: Vec<String>,
    /// For generated regression data, the noise-free targets (e.g. sin x without the noise), so the
    /// fit can be measured against the true curve too.
    pub clean_y: Option<Matrix>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.x.rows()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.x.rows() == 0
    }

    /// For classification, each example's class id (from the 0/1 target or the one-hot row).
    pub fn class_ids(&self) -> Vec<usize> {
        class_ids(&self.y, self.task)
    }

    /// The examples listed in `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            name: self.name.clone(),
            x: self.x.select_rows(indices),
            y: self.y.select_rows(indices),
            task: self.task,
            feature_names: self.feature_names.clone(),
            class_names: self.class_names.clone(),
            clean_y: self.clean_y.as_ref().map(|c| c.select_rows(indices)),
        }
    }

    /// A random split into (train, test) with `round(n · test_fraction)` test examples (at least
    /// one of each), shuffled with `rng`.
    ///
    /// # Panics
    /// If there are fewer than two examples (the command line checks this first).
    pub fn split(&self, test_fraction: f64, rng: &mut Rng) -> (Dataset, Dataset) {
        let n = self.len();
        assert!(
            n >= 2,
            "cannot split {n} examples into a training and a test set"
        );
        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        let n_test = ((n as f64 * test_fraction).round() as usize).clamp(1, n - 1);
        let (test, train) = order.split_at(n_test);
        (self.select(train), self.select(test))
    }
}

/// Class ids from targets: `ŷ ≥ 0.5` for one column, the largest column otherwise.
pub fn class_ids(y: &Matrix, task: Task) -> Vec<usize> {
    match task {
        Task::Binary => y
            .as_slice()
            .iter()
            .map(|&v| usize::from(v >= 0.5))
            .collect(),
        _ => y.argmax_rows(),
    }
}

/// One-hot targets: row i has a 1 in column `labels[i]` and 0 elsewhere (n × classes).
pub fn one_hot(labels: &[usize], classes: usize) -> Matrix {
    let mut y = Matrix::zeros(labels.len(), classes);
    for (i, &label) in labels.iter().enumerate() {
        y[(i, label)] = 1.0;
    }
    y
}

/// Per-column mean μ and standard deviation σ, learned from training data and applied to any.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// μ of each column.
    pub mean: Vec<f64>,
    /// σ of each column (1 where a column is constant, so it maps to 0 instead of NaN).
    pub std_dev: Vec<f64>,
}

impl Standardizer {
    /// μ and σ of each column of `x` (the population standard deviation, divided by n).
    pub fn fit(x: &Matrix) -> Standardizer {
        let (n, k) = x.shape();
        let n_f = n.max(1) as f64;
        let mut mean = vec![0.0; k];
        for i in 0..n {
            for (m, &v) in mean.iter_mut().zip(x.row(i)) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n_f;
        }
        let mut var = vec![0.0; k];
        for i in 0..n {
            for j in 0..k {
                let d = x[(i, j)] - mean[j];
                var[j] += d * d;
            }
        }
        let std_dev = var
            .iter()
            .map(|v| {
                let s = (v / n_f).sqrt();
                if s > 1e-12 {
                    s
                } else {
                    1.0
                }
            })
            .collect();
        Standardizer { mean, std_dev }
    }

    /// `x′ = (x − μ)/σ` column by column.
    pub fn apply(&self, x: &Matrix) -> Matrix {
        let mut out = x.clone();
        for i in 0..out.rows() {
            for (j, v) in out.row_mut(i).iter_mut().enumerate() {
                *v = (*v - self.mean[j]) / self.std_dev[j];
            }
        }
        out
    }

    /// `x = μ + σ·x′` column by column: [`apply`](Standardizer::apply) undone, up to rounding.
    /// This is how a prediction of a standardised target returns to the target's units.
    pub fn invert(&self, x: &Matrix) -> Matrix {
        let mut out = x.clone();
        for i in 0..out.rows() {
            for (j, v) in out.row_mut(i).iter_mut().enumerate() {
                *v = self.mean[j] + self.std_dev[j] * *v;
            }
        }
        out
    }
}
