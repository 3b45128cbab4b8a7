//! The training loop: forward, loss, backward, update, over and over.
//!
//! ```text
//! for epoch in 0..epochs:
//!     η ← schedule(epoch)
//!     shuffle the training rows (mini-batches only)
//!     for each batch (X, y):
//!         ŷ  = network.forward(X)                      network.rs
//!         L  = loss(ŷ, y)                              loss.rs
//!         dZ = (ŷ − y)/n   (2·(ŷ − y)/n for the MSE)   loss.rs   Loss::output_error
//!         dW, db for every layer = network.backward(dZ) network.rs, dense.rs, activation.rs
//!         W ← W − η·dW  (or the chosen rule)           optim.rs
//!     record the epoch: losses, metric, ‖dWˡ‖ and ‖ΔWˡ‖ per layer
//! ```
//!
//! With `batch_size = 0` every step sees the whole training set (full-batch gradient descent);
//! otherwise the rows are shuffled each epoch with the seeded generator and cut into batches
//! (stochastic mini-batch gradient descent: noisier steps, many more of them per epoch).
//!
//! # Why the loop is written this way
//!
//! - **The loss is a mean over the batch** (`loss.rs`), so the gradient does not grow with the
//!   number of rows: a step on 32 rows and a step on all of them have the same scale, and one η
//!   serves both. (With a summed loss, a full-batch step on circles' 800 training rows would be
//!   25 times a step on 32.) An epoch's loss is the mean of its steps' losses weighted by their
//!   rows, so it is the mean over the training rows even when the last batch is smaller.
//! - **A new order every epoch.** A mini-batch's gradient stands in for the whole set's only if
//!   its rows are a fair sample of the set. Rows that arrive in order (sorted by class, or by x
//!   as `generate::sine` lays them out) would make each batch one region of the data, and every
//!   epoch would end pulled towards the same last region (exercise 2). The command line's split
//!   (`Dataset::split`) already mixes the rows, but `train` does not count on its caller for
//!   that; and a new order each epoch keeps one epoch's noise from repeating in the next. The
//!   full batch is not shuffled: its gradient is the mean over all rows, whatever their order.
//! - **The epoch's training loss comes from the steps' own forward passes**, each measured before
//!   its update: it costs nothing, but it describes weights that are gone by the end of the epoch
//!   (exercise 1). The test set is evaluated once after the epoch, in inference mode (dropout
//!   off, batch normalisation's running statistics): the network as it will be used.
//!
//! The loop stops at once when the loss or a gradient stops being a finite number (a learning
//! rate too large makes the weights overflow) and says in which epoch and layer, instead of
//! carrying on with NaN.
//!
//! After the first step the loop allocates nothing per step: each batch is written straight into
//! the network's input, and values, gradients and the output error into matrices that are
//! reused. Each epoch's record ([`EpochStats`]) holds three small `Vec`s of per-layer norms,
//! three allocations per epoch whatever the number of steps.
//!
//! Every step of an epoch is tallied the same way here and in `parallel.rs` (data-parallel
//! training, the other loop): the loss and metric weighted by the batch's rows, `‖dWˡ‖` and
//! `‖ΔWˡ‖`, and the divergence check, which names the first number that stopped being finite.
//!
//! # Exercises
//!
//! 1. **Before or after the step?** `cargo run -- train sine --hidden none --batch-size 0
//!    --optimizer sgd --lr 0.07 --epochs 1` prints the epoch line `loss 12.8584  test mse
//!    9.7023`: lower on the test rows, which the network never trained on, than on its training
//!    rows. Why? Predict the summary's `train loss`, and the loss that epoch 2 would print; check
//!    with `--epochs 2`.
//! 2. **Sorted rows.** `generate::sine` lays its rows out in order of x, and the test
//!    `training_shuffles_sorted_rows` trains sine's network on 400 of them (Adam, η = 0.01 × 0.99
//!    per epoch, 300 epochs, batches of 32). In [`train()`], comment out the line
//!    `rng.shuffle(&mut order);`, predict what becomes of the MSE, and run
//!    `cargo test --test exercises_training training_shuffles -- --nocapture`. (Undo the change
//!    afterwards.)
//! 3. **The noise of a mini-batch.** With the full batch,
//!    `cargo run -- train sine --hidden none --optimizer sgd --lr 0.02 --batch-size 0` ends with
//!    `‖dW¹‖ 9.7e-10`: at the minimum the gradient vanishes. Predict `‖dW¹‖` and the training
//!    loss with `--batch-size 32` instead, and then with `--batch-size 32 --lr-decay 0.98`.
//!
//! <details><summary>Answers</summary>
//!
//! 1. With the full batch an epoch is one step, and its loss is measured in that step's forward
//!    pass, before the update: 12.8584 is the loss of the initial weights. The test rows are
//!    evaluated after the update: 9.7023. The summary evaluates the trained network, `train loss
//!    8.2043`, which is the loss epoch 2 prints (`epoch 2/2  loss 8.2043  test mse 5.9832`): the
//!    training loss of the epoch lines lags one step behind. With mini-batches it is the mean
//!    over the epoch's steps, each before its own update, about half an epoch behind.
//! 2. The test fails with `left: "0.0441"` and `right: "0.0028"`: the MSE is 16 times larger,
//!    and the same 0.0441 that the test's own loop without the shuffle computes. In order, each
//!    batch of 32 covers about a twelfth of the x range, the network is pulled towards one stretch
//!    of the curve at a time, and every epoch ends with its steps on x near 2π, which the rest of
//!    the curve pays for.
//! 3. With batches of 32, `‖dW¹‖` stays at 4.1e-1 and the training loss at 0.4159, above the
//!    minimum 0.4141: the gradient of 32 rows is not zero where the gradient of all 400 is, so
//!    every step kicks the weights away from the minimum by about `η·‖dW‖`. The decay does not
//!    quiet the gradients (`‖dW¹‖` is 3.7e-1 at the end) but shrinks the steps `η·dW` (η is
//!    4.760e-5 by epoch 300), and the loss settles at 0.4141. That is why sine's defaults, on
//!    batches of 32, decay η by 0.99 per epoch.
//!
//! </details>

use crate::data::{Dataset, Task};
use crate::kernels;
use crate::loss::Loss;
use crate::matrix::{argmax, Matrix};
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
    trace!("train.rs accuracy");
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
        // Rows without columns all "predict" class 0, as `argmax` of an empty row says.
        _ if y.cols() == 0 => y.rows(),
        _ => y_hat
            .as_slice()
            .chunks_exact(y.cols())
            .zip(y.as_slice().chunks_exact(y.cols()))
            .filter(|(p, t)| argmax(p) == argmax(t))
            .count(),
    };
    let total = match task {
        Task::Binary => y.as_slice().len(),
        _ => y.rows(),
    };
    correct as f64 / total.max(1) as f64
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
    trace!("train.rs train");
    let loss = train.task.loss();
    let metric = Metric::for_task(train.task);
    let n = train.len();
    let batch_size = config.rows_per_step(n);
    let mut rng = Rng::new(config.shuffle_seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch_y = Matrix::zeros(0, 0);
    // Whether the network's input holds the whole training set (full batch): loaded once, and
    // again only after something else ran through the network (the test set).
    let mut full_batch_loaded = false;
    let mut output_error = Matrix::zeros(0, 0); // (batch, n_out): dZ of the last layer
    let mut history = History {
        metric,
        epochs: Vec::with_capacity(config.epochs),
        divergence: None,
    };
    let mut tally = EpochTally::new(network);

    'epochs: for epoch in 1..=config.epochs {
        optimizer.start_epoch(epoch - 1);
        if batch_size < n {
            rng.shuffle(&mut order);
        }
        tally.start(epoch);
        for batch in order.chunks(batch_size) {
            // X goes straight into the network's input, y into a batch of its own.
            let y = if batch_size == n {
                if !full_batch_loaded {
                    network.input_for_batch(n).copy_from(&train.x);
                    full_batch_loaded = true;
                }
                &train.y
            } else {
                let x = network.input_for_batch(batch.len());
                train.x.select_rows_into(batch, x);
                train.y.select_rows_into(batch, &mut batch_y);
                &batch_y
            };
            // Forward: ŷ = network(X).
            let y_hat = network.forward_from_input(true);
            // The loss with the output error dZ = (ŷ − y)/n, and the metric: two independent
            // passes over ŷ, which the engine may run side by side (`kernels::run_both`).
            let ((batch_loss, ()), batch_metric) = kernels::run_both(
                y_hat.as_slice().len(),
                || {
                    let batch_loss = loss.value(y_hat, y);
                    (batch_loss, loss.output_error(&mut output_error, y_hat, y))
                },
                || metric.value(y_hat, y, train.task),
            );
            if let Err(divergence) = tally.add_loss(batch_loss, batch_metric, batch.len(), network)
            {
                history.divergence = Some(divergence);
                break 'epochs;
            }
            // Backward: every dW and db, from dZ.
            network.backward_from_output_error(&output_error);
            if let Err(divergence) = tally.add_gradients(network) {
                history.divergence = Some(divergence);
                break 'epochs;
            }
            // Update: W ← W − η·dW (or the chosen rule), for every parameter.
            optimizer.step(network);
            tally.add_updates(optimizer);
        }
        let evaluated = test.map(|test| {
            full_batch_loaded = false;
            evaluate(network, test)
        });
        let stats = tally.finish(optimizer, network, n, evaluated);
        let flow = on_epoch(&stats, network);
        history.epochs.push(stats);
        if flow.is_break() {
            break;
        }
    }
    history
}

impl TrainConfig {
    /// The rows of one step for a training set of `n` rows: `batch_size`, or all `n` for a full
    /// batch (0) or a batch size larger than the set.
    pub fn rows_per_step(&self, n: usize) -> usize {
        if self.batch_size == 0 {
            n
        } else {
            self.batch_size.min(n)
        }
    }
}

/// The running sums of an epoch, step by step, and the divergence check of each step: what
/// `train` and `parallel::train` record the same way. One tally serves every epoch of a run.
#[derive(Debug)]
pub(crate) struct EpochTally {
    epoch: usize,
    /// `Σ nₛ·Lₛ` and `Σ nₛ·metricₛ` over the steps so far (nₛ rows in step s).
    loss_sum: f64,
    metric_sum: f64,
    /// `Σ ‖dWˡ‖` and `Σ ‖ΔWˡ‖` over the steps, per dense layer l.
    gradient_norms: Vec<f64>,
    update_norms: Vec<f64>,
    /// Where each dense layer's `W` sits among the optimizer's tensors (`W¹, b¹, W², b², …`).
    weight_slots: Vec<usize>,
    steps: usize,
}

impl EpochTally {
    /// A tally for training `network`; [`EpochTally::start`] begins each epoch.
    pub(crate) fn new(network: &Network) -> EpochTally {
        let weight_slots: Vec<usize> = network
            .parameter_kinds()
            .iter()
            .enumerate()
            .filter(|(_, kind)| **kind == ParameterKind::Weights)
            .map(|(i, _)| i)
            .collect();
        EpochTally {
            epoch: 0,
            loss_sum: 0.0,
            metric_sum: 0.0,
            gradient_norms: vec![0.0; weight_slots.len()],
            update_norms: vec![0.0; weight_slots.len()],
            weight_slots,
            steps: 0,
        }
    }

    /// Starts `epoch` (from 1) with empty sums.
    pub(crate) fn start(&mut self, epoch: usize) {
        self.epoch = epoch;
        self.loss_sum = 0.0;
        self.metric_sum = 0.0;
        self.gradient_norms.fill(0.0);
        self.update_norms.fill(0.0);
        self.steps = 0;
    }

    /// Adds a step's loss and metric (means over its `rows` rows), or, when the loss is not a
    /// finite number, says where the numbers of `forward` (the network that computed it, with
    /// its values) first stopped being finite.
    pub(crate) fn add_loss(
        &mut self,
        loss: f64,
        metric: f64,
        rows: usize,
        forward: &Network,
    ) -> Result<(), Divergence> {
        if !loss.is_finite() {
            return Err(Divergence {
                epoch: self.epoch,
                culprit: crate::diagnose::divergence_culprit(forward),
            });
        }
        self.loss_sum += loss * rows as f64;
        self.metric_sum += metric * rows as f64;
        Ok(())
    }

    /// Adds `‖dWˡ‖` of every dense layer of `network` after a backward pass, or says which
    /// gradient (`W²` or `b²`) is not finite.
    pub(crate) fn add_gradients(&mut self, network: &Network) -> Result<(), Divergence> {
        for (l, dense) in network.dense_layers().enumerate() {
            let norm = dense.dw.norm();
            let bad = match (norm.is_finite(), dense.db.is_finite()) {
                (true, true) => None,
                (false, _) => Some("W"),
                (true, false) => Some("b"),
            };
            if let Some(tensor) = bad {
                return Err(Divergence {
                    epoch: self.epoch,
                    culprit: format!("the gradient of {tensor}{}", superscript(l + 1)),
                });
            }
            self.gradient_norms[l] += norm;
        }
        Ok(())
    }

    /// Adds the `‖ΔWˡ‖` of the optimizer's last step, which ends the step.
    pub(crate) fn add_updates(&mut self, optimizer: &Optimizer) {
        for (l, &slot) in self.weight_slots.iter().enumerate() {
            self.update_norms[l] += optimizer.update_norms()[slot];
        }
        self.steps += 1;
    }

    /// The epoch's record: means over its `n` training rows and over its steps, the test set's
    /// loss and metric if it was `evaluated`, and the weight norms at its end.
    pub(crate) fn finish(
        &self,
        optimizer: &Optimizer,
        network: &Network,
        n: usize,
        evaluated: Option<(f64, f64)>,
    ) -> EpochStats {
        let steps = self.steps.max(1) as f64;
        let mean = |sums: &[f64]| sums.iter().map(|sum| sum / steps).collect();
        EpochStats {
            epoch: self.epoch,
            lr: optimizer.current_lr(),
            train_loss: self.loss_sum / n as f64,
            train_metric: self.metric_sum / n as f64,
            test_loss: evaluated.map(|(loss, _)| loss),
            test_metric: evaluated.map(|(_, metric)| metric),
            gradient_norms: mean(&self.gradient_norms),
            update_norms: mean(&self.update_norms),
            weight_norms: network.weight_norms(),
        }
    }
}
