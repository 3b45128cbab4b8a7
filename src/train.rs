//! The training loop: forward, loss, backward, update, over and over.
//!
//! ```text
//! for epoch in 0..epochs:
//!     η ← schedule(epoch)
//!     shuffle the training rows (mini-batches only)
//!     for each batch (X, y):
//!         ŷ  = network.forward(X)                      network.rs
//!         L  = loss(ŷ, y)                              loss.rs
//!         dZ = (ŷ − y)/n                               loss.rs   Loss::output_error
//!         dW, db for every layer = network.backward(dZ) network.rs, dense.rs, activation.rs
//!         W ← W − η·dW  (or the chosen rule)           optim.rs
//!     record the epoch: losses, metric, ‖dWˡ‖ and ‖ΔWˡ‖ per layer
//! ```
//!
//! With `batch_size = 0` every step sees the whole training set (full-batch gradient descent);
//! otherwise the rows are shuffled each epoch with the seeded generator and cut into batches
//! (stochastic mini-batch gradient descent: noisier steps, many more of them per epoch).
//!
//! The loop stops at once when the loss or a gradient stops being a finite number (a learning
//! rate too large makes the weights overflow) and says in which epoch and layer, instead of
//! carrying on with NaN.
//!
//! After the first step the loop allocates nothing per step: batches, values, gradients and the
//! output error are written into matrices that are reused, and the accuracy is counted without
//! building lists. Each epoch's record ([`EpochStats`]) holds three small `Vec`s of per-layer
//! norms: that is the whole steady-state cost, three allocations per epoch whatever the number
//! of steps (`cargo bench --bench train` counts them).
//!
//! For large batches on several cores, `parallel.rs` computes each step's gradient in shards.

use crate::data::{Dataset, Task};
use crate::kernels;
use crate::loss::Loss;
use crate::matrix::Matrix;
use crate::network::{superscript, Network, ParameterKind};
use crate::optim::Optimizer;
use crate::rng::Rng;
use std::ops::ControlFlow;

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Rows per step; 0 means the whole training set (full batch).
    pub batch_size: usize,
    /// Seed of the generator that shuffles mini-batches.
    pub shuffle_seed: u64,
}

/// What is measured besides the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// The fraction of examples whose predicted class is right, in [0, 1].
    Accuracy,
    /// Mean squared error.
    Mse,
}

impl Metric {
    /// Accuracy for classification, MSE for regression.
    pub fn for_task(task: Task) -> Metric {
        if task.is_classification() {
            Metric::Accuracy
        } else {
            Metric::Mse
        }
    }

    /// `accuracy` or `mse`.
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Mse => "mse",
        }
    }

    /// The metric of predictions `ŷ` against targets `y`.
    pub fn value(&self, y_hat: &Matrix, y: &Matrix, task: Task) -> f64 {
        match self {
            Metric::Accuracy => accuracy(y_hat, y, task),
            Metric::Mse => Loss::MeanSquaredError.value(y_hat, y),
        }
    }
}

/// The fraction of rows whose predicted class (ŷ ≥ 0.5, or the largest ŷ) matches the target's.
///
/// Counted row by row without building lists of class ids, so that measuring accuracy each step
/// allocates nothing (`data::class_ids` gives the same classes as lists).
///
/// # Panics
/// If `ŷ` and `y` differ in shape.
pub fn accuracy(y_hat: &Matrix, y: &Matrix, task: Task) -> f64 {
    assert!(
        y_hat.shape() == y.shape(),
        "accuracy: ŷ is {:?} but y is {:?}",
        y_hat.shape(),
        y.shape()
    );
    let correct = match task {
        Task::Binary => y_hat
            .as_slice()
            .iter()
            .zip(y.as_slice())
            .filter(|(&p, &t)| (p >= 0.5) == (t >= 0.5))
            .count(),
        // Rows without columns all "predict" class 0, as `first_argmax` of an empty row says.
        _ if y.cols() == 0 => y.rows(),
        _ => y_hat
            .as_slice()
            .chunks_exact(y.cols())
            .zip(y.as_slice().chunks_exact(y.cols()))
            .filter(|(p, t)| first_argmax_without_branches(p) == first_argmax_without_branches(t))
            .count(),
    };
    let total = match task {
        Task::Binary => y.as_slice().len(),
        _ => y.rows(),
    };
    correct as f64 / total.max(1) as f64
}

/// The index of the largest entry, the first one on ties (as `Matrix::argmax_rows`): the
/// reference for [`first_argmax_without_branches`].
pub fn first_argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (j, &x) in row.iter().enumerate() {
        if x > row[best] {
            best = j;
        }
    }
    best
}

/// [`first_argmax`] with the same comparisons, written so that the compiler selects the new
/// best with conditional moves instead of a jump: whether a predicted probability beats the
/// best so far is a coin toss the processor cannot learn, and each wrong guess cost about
/// 15 cycles. The accuracy of digits' full batch (1797 rows of 10) took 93 µs with the jumps,
/// as long as a tenth of a matrix product, and 25–38 µs without; tested against
/// [`first_argmax`].
pub fn first_argmax_without_branches(row: &[f64]) -> usize {
    let (mut best, mut best_x) = (0, row.first().copied().unwrap_or(0.0));
    for (j, &x) in row.iter().enumerate() {
        let better = x > best_x;
        best = if better { j } else { best };
        best_x = if better { x } else { best_x };
    }
    best
}

/// One epoch of training, as measured.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// The epoch, counting from 1.
    pub epoch: usize,
    /// The learning rate in force.
    pub lr: f64,
    /// Mean training loss over the epoch's steps (each measured before its update).
    pub train_loss: f64,
    /// The metric on the training rows, from the same forward passes.
    pub train_metric: f64,
    /// Loss on the test set after the epoch, in inference mode (None without a test set).
    pub test_loss: Option<f64>,
    /// Metric on the test set after the epoch.
    pub test_metric: Option<f64>,
    /// `‖dWˡ‖` per dense layer, averaged over the epoch's steps.
    pub gradient_norms: Vec<f64>,
    /// `‖ΔWˡ‖` per dense layer, averaged over the epoch's steps.
    pub update_norms: Vec<f64>,
    /// `‖Wˡ‖` per dense layer at the end of the epoch.
    pub weight_norms: Vec<f64>,
}

/// Where and how training stopped making sense.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// The epoch (from 1) in which a non-finite number appeared.
    pub epoch: usize,
    /// What became non-finite, in words: `the gradient of W²`, `the output of layer 2 (Z²)`, ….
    pub culprit: String,
}

/// The record of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// The metric recorded in `EpochStats::train_metric` and `test_metric`.
    pub metric: Metric,
    /// One entry per completed epoch.
    pub epochs: Vec<EpochStats>,
    /// Set when training stopped early because numbers overflowed.
    pub divergence: Option<Divergence>,
}

impl History {
    /// The last completed epoch.
    pub fn last(&self) -> Option<&EpochStats> {
        self.epochs.last()
    }
}

/// The loss and metric of `network` on a whole dataset, in inference mode.
pub fn evaluate(network: &mut Network, data: &Dataset) -> (f64, f64) {
    let y_hat = network.forward(&data.x, false);
    let loss = data.task.loss().value(y_hat, &data.y);
    let metric = Metric::for_task(data.task).value(y_hat, &data.y, data.task);
    (loss, metric)
}

/// Trains `network` on `train` with `optimizer`, evaluating on `test` after every epoch.
///
/// `on_epoch` sees each epoch's stats and the network as they are at its end; returning
/// `ControlFlow::Break(())` stops training early. The returned history holds every completed
/// epoch; if numbers overflowed it says where in `divergence`, and the network is left as it was
/// at that point.
pub fn train(
    network: &mut Network,
    optimizer: &mut Optimizer,
    train: &Dataset,
    test: Option<&Dataset>,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochStats, &Network) -> ControlFlow<()>,
) -> History {
    let loss = train.task.loss();
    let metric = Metric::for_task(train.task);
    let n = train.len();
    let batch_size = if config.batch_size == 0 {
        n
    } else {
        config.batch_size.min(n)
    };
    let weight_slots: Vec<usize> = network
        .parameter_kinds()
        .iter()
        .enumerate()
        .filter(|(_, kind)| **kind == ParameterKind::Weights)
        .map(|(i, _)| i)
        .collect();
    let n_layers = weight_slots.len();

    let mut rng = Rng::new(config.shuffle_seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch_y = Matrix::zeros(0, 0);
    // Whether the network's input holds the whole training set (full batch): loaded once, and
    // again only after something else ran through the network (the test set).
    let mut full_batch_loaded = false;
    let mut output_error = Matrix::zeros(0, 0);
    let mut history = History {
        metric,
        epochs: Vec::with_capacity(config.epochs),
        divergence: None,
    };

    'epochs: for epoch in 1..=config.epochs {
        optimizer.start_epoch(epoch - 1);
        if batch_size < n {
            rng.shuffle(&mut order);
        }
        let mut loss_sum = 0.0;
        let mut metric_sum = 0.0;
        let mut gradient_norms = vec![0.0; n_layers];
        let mut update_norms = vec![0.0; n_layers];
        let mut steps = 0;
        for batch in order.chunks(batch_size) {
            // X goes straight into the network (`Network::input_mut`): the reference is
            // `network.forward(&X, true)`, which copies it there on every step.
            let y = if batch_size == n {
                if !full_batch_loaded {
                    network.input_mut(n).copy_from(&train.x);
                    full_batch_loaded = true;
                }
                &train.y
            } else {
                train
                    .x
                    .select_rows_into(batch, network.input_mut(batch.len()));
                train.y.select_rows_into(batch, &mut batch_y);
                &batch_y
            };
            let y_hat = network.forward_from_input(true);
            // The loss with the output error, and the metric, are independent passes over ŷ:
            // with threads, a helper computes the metric at the same time (`kernels::threads::join`).
            let ((batch_loss, ()), batch_metric) = kernels::threads::join(
                y_hat.as_slice().len(),
                || {
                    let batch_loss = loss.value(y_hat, y);
                    (batch_loss, loss.output_error(&mut output_error, y_hat, y))
                },
                || metric.value(y_hat, y, train.task),
            );
            if !batch_loss.is_finite() {
                history.divergence = Some(Divergence {
                    epoch,
                    culprit: crate::diagnose::divergence_culprit(network),
                });
                break 'epochs;
            }
            loss_sum += batch_loss * batch.len() as f64;
            metric_sum += batch_metric * batch.len() as f64;
            network.backward_from_output_error(&output_error);

            for (l, dense) in network.dense_layers().enumerate() {
                let norm = dense.dw.norm();
                if !norm.is_finite() || !dense.db.is_finite() {
                    history.divergence = Some(Divergence {
                        epoch,
                        culprit: format!("the gradient of W{}", superscript(l + 1)),
                    });
                    break 'epochs;
                }
                gradient_norms[l] += norm;
            }
            optimizer.step(network);
            for (l, &slot) in weight_slots.iter().enumerate() {
                update_norms[l] += optimizer.update_norms()[slot];
            }
            steps += 1;
        }
        let steps = steps.max(1) as f64;
        gradient_norms.iter_mut().for_each(|g| *g /= steps);
        update_norms.iter_mut().for_each(|u| *u /= steps);
        let (test_loss, test_metric) = match test {
            Some(test) => {
                let (l, m) = evaluate(network, test);
                full_batch_loaded = false;
                (Some(l), Some(m))
            }
            None => (None, None),
        };
        let stats = EpochStats {
            epoch,
            lr: optimizer.current_lr(),
            train_loss: loss_sum / n as f64,
            train_metric: metric_sum / n as f64,
            test_loss,
            test_metric,
            gradient_norms,
            update_norms,
            weight_norms: network.weight_norms(),
        };
        let flow = on_epoch(&stats, network);
        history.epochs.push(stats);
        if flow.is_break() {
            break;
        }
    }
    history
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argmax_without_branches_picks_what_the_reference_picks() {
        let mut rng = Rng::new(8);
        let mut rows: Vec<Vec<f64>> = vec![
            vec![],
            vec![1.0],
            vec![2.0, 2.0, 1.0],
            vec![0.0, 3.0, 3.0],
            vec![f64::NAN, 1.0, 2.0],
            vec![1.0, f64::NAN, 0.5, 3.0],
            vec![-0.0, 0.0],
            vec![f64::NEG_INFINITY, f64::NEG_INFINITY],
        ];
        for _ in 0..500 {
            // Few distinct values, so that ties are common.
            rows.push((0..10).map(|_| (rng.uniform() * 4.0).floor()).collect());
        }
        for row in &rows {
            assert_eq!(
                first_argmax_without_branches(row),
                first_argmax(row),
                "{row:?}"
            );
        }
    }

    /// The training loop written plainly: `network.forward(&X)` (which copies each batch into
    /// the network) on every step, the test set after every epoch. `train` must give its bits.
    fn train_reference(
        network: &mut Network,
        optimizer: &mut Optimizer,
        (data, test): (&Dataset, &Dataset),
        config: &TrainConfig,
    ) {
        let n = data.len();
        let batch_size = if config.batch_size == 0 {
            n
        } else {
            config.batch_size
        };
        let mut rng = Rng::new(config.shuffle_seed);
        let mut order: Vec<usize> = (0..n).collect();
        let mut dz = Matrix::zeros(0, 0);
        for epoch in 0..config.epochs {
            optimizer.start_epoch(epoch);
            if batch_size < n {
                rng.shuffle(&mut order);
            }
            for batch in order.chunks(batch_size) {
                let (x, y) = (data.x.select_rows(batch), data.y.select_rows(batch));
                let y_hat = network.forward(&x, true);
                data.task.loss().output_error(&mut dz, y_hat, &y);
                network.backward_from_output_error(&dz);
                optimizer.step(network);
            }
            evaluate(network, test);
        }
    }

    #[test]
    fn the_loop_that_writes_batches_into_the_network_gives_the_reference_bits() {
        let bits = |network: &Network| -> Vec<u64> {
            let parameters = network
                .dense_layers()
                .flat_map(|d| d.w.as_slice().iter().chain(d.b.as_slice()));
            parameters.map(|x| x.to_bits()).collect()
        };
        for batch_size in [0, 32, 70] {
            let mut rng = Rng::new(12);
            let data = crate::data::generate::blobs(200, 3, 1.0, &mut rng);
            // As many test rows as training rows: evaluating overwrites the same input buffers.
            let test = crate::data::generate::blobs(200, 3, 1.0, &mut rng);
            let architecture = crate::network::Architecture {
                n_in: 2,
                hidden: vec![16, 8],
                activation: crate::activation::Activation::Relu,
                n_out: 3,
                output: crate::activation::Activation::Softmax,
                batch_norm: false,
                dropout: 0.0,
            };
            let network = Network::mlp(&architecture, &mut rng);
            let optimizer = Optimizer::new(crate::optim::Rule::Sgd, 0.1);
            let config = TrainConfig {
                epochs: 4,
                batch_size,
                shuffle_seed: 5,
            };
            let (mut fast, mut fast_optimizer) = (network.clone(), optimizer.clone());
            let on_epoch = |_: &EpochStats, _: &Network| ControlFlow::Continue(());
            train(
                &mut fast,
                &mut fast_optimizer,
                &data,
                Some(&test),
                &config,
                on_epoch,
            );
            let (mut slow, mut slow_optimizer) = (network, optimizer);
            train_reference(&mut slow, &mut slow_optimizer, (&data, &test), &config);
            assert_eq!(bits(&fast), bits(&slow), "batch size {batch_size}");
        }
    }
}
