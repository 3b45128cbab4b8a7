//! Data-parallel training: every batch is cut into shards, each shard's gradient is computed on
//! its own copy of the network, and the gradients are summed before one update.
//!
//! The loss is a mean over the batch, and a mean splits into a weighted sum of means over shards:
//!
//! ```text
//! L = (1/n) Σᵢ ℓᵢ = Σₛ (nₛ/n) · Lₛ        Lₛ = (1/nₛ) Σ_{i in shard s} ℓᵢ
//! dW = ∂L/∂W = Σₛ (nₛ/n) · dWₛ           (the same for every parameter)
//! ```
//!
//! So each shard runs the ordinary forward and backward pass on its own rows, with its output
//! error scaled by `nₛ/n`, and the shard gradients are added. One optimizer step on the sum is the
//! same step the whole batch would have taken, up to rounding.
//!
//! ```text
//! for each batch:
//!     cut the batch into SHARDS contiguous pieces
//!     in parallel, for each shard s:  copy W into the shard's network → forward → dZₛ·(nₛ/n)
//!                                     → backward → dWₛ
//!     dW = dW₀ + dW₁ + … + dW_{SHARDS−1}        (always in this order)
//!     W ← W − η·dW
//! ```
//!
//! # Same bits for any number of threads
//!
//! The number of shards is fixed ([`SHARDS`]) whatever the number of threads: threads only decide
//! *who* computes a shard, never *what* a shard is, and the shard gradients are always added in
//! shard order. Floating-point addition is not associative, so this is what makes the result
//! bit-identical whether it runs on one thread or eight. (It is not bit-identical to the serial
//! `train::train`, whose sums over the batch are grouped differently; both are deterministic.)
//!
//! # Many machines
//!
//! This is how data-parallel training across many machines works: each machine (a "worker")
//! holds a full copy of the model and a shard of every batch, computes its shard's gradient, and
//! the workers add their gradients (an "all-reduce") before every one of them applies the same
//! update, so the copies never drift apart. Here the workers are threads and the all-reduce is a
//! loop over shards; across machines it is a network collective, and a fixed reduction order is
//! again what makes the result reproducible.
//!
//! # What is excluded
//!
//! Batch normalisation needs the mean and variance of the *whole* batch; computed per shard it
//! would be a different layer (frameworks call the whole-batch version "synchronised batch
//! norm"). Dropout would need a mask stream per shard. Networks with either are refused by a
//! panic; only dense layers and activations are sharded.
//!
//! # Threads
//!
//! Who computes which shard is the engine room's business (`kernels::threads::Workers`): each
//! thread takes the next shard not yet taken, and a shard's own products stay on its thread.
//! Whatever the order the shards finish in, their gradients are added in shard order.
//!
//! The other way to use several cores is inside the products (`kernels/gemm/`), which leaves
//! the order of every sum alone: ordinary `train::train` then gives the serial bits on any
//! number of threads, and it is what `cargo run -- train` does. On this crate's two-core
//! benchmark machine sharing the products is as fast as sharding on full batches and faster on
//! batches of 256, whose 32-row shards are too small for the products to run at full speed
//! (`benches/README.md`). Sharding is how training spreads over many machines, where no
//! product can be shared.

use crate::data::Dataset;
use crate::kernels::threads::Workers;
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::network::Network;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::train::{EpochTally, History, Metric, TrainConfig};

/// Number of shards each batch is cut into, whatever the number of threads (a multiple of the
/// usual 1, 2, 4 or 8 threads, so that they share the work evenly).
pub const SHARDS: usize = 8;

/// One shard: its own copy of the network (whose input holds the shard's rows of `X`) and
/// buffers for its rows.
struct Shard {
    network: Network,
    y: Matrix,
    dz: Matrix,
    /// `nₛ · Lₛ` and `nₛ · metric` of the last step (sums, so the batch mean is their total / n).
    loss_sum: f64,
    metric_sum: f64,
}

/// Trains `network` like `train::train` (without a test set), computing each batch's gradient as
/// [`SHARDS`] shard gradients spread over `threads` threads.
///
/// # Panics
/// If the network has a batch-normalisation or dropout layer (see the module docs), or
/// `threads` is 0.
pub fn train(
    network: &mut Network,
    optimizer: &mut Optimizer,
    train: &Dataset,
    config: &TrainConfig,
    threads: usize,
) -> History {
    assert!(threads > 0, "parallel::train: threads must be at least 1");
    assert!(
        network
            .layers()
            .iter()
            .all(|l| matches!(l, Layer::Dense(_) | Layer::Activation(_))),
        "parallel::train: only dense layers and activations can be sharded, not {}",
        network.description()
    );
    let loss = train.task.loss();
    let metric = Metric::for_task(train.task);
    let n = train.len();
    let batch_size = config.rows_per_step(n);
    let mut shards: Vec<Shard> = (0..SHARDS)
        .map(|_| Shard {
            network: network.clone(),
            y: Matrix::zeros(0, 0),
            dz: Matrix::zeros(0, 0),
            loss_sum: 0.0,
            metric_sum: 0.0,
        })
        .collect();
    let mut workers = Workers::new(threads);
    let mut rng = Rng::new(config.shuffle_seed);
    let mut order: Vec<usize> = (0..n).collect();
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
            // In parallel, for each shard: copy W, forward, dZₛ·(nₛ/n), backward.
            let parameters = &*network;
            workers.for_each(&mut shards, |s, shard| {
                let rows = &batch[s * batch.len() / SHARDS..(s + 1) * batch.len() / SHARDS];
                copy_parameters(parameters, &mut shard.network);
                shard_step(shard, rows, batch.len(), train, (loss, metric));
            });
            // The batch's loss and metric are the sums of the shards' nₛ·Lₛ, over n rows.
            let batch_loss = shards.iter().map(|s| s.loss_sum).sum::<f64>() / batch.len() as f64;
            let batch_metric =
                shards.iter().map(|s| s.metric_sum).sum::<f64>() / batch.len() as f64;
            let diverged = shards.iter().find(|s| !s.loss_sum.is_finite());
            let forward = diverged.map_or(&*network, |shard| &shard.network);
            if let Err(divergence) = tally.add_loss(batch_loss, batch_metric, batch.len(), forward)
            {
                history.divergence = Some(divergence);
                break 'epochs;
            }
            // The all-reduce: dW = Σₛ dWₛ, in shard order, into the main network.
            sum_gradients(network, &shards);
            if let Err(divergence) = tally.add_gradients(network) {
                history.divergence = Some(divergence);
                break 'epochs;
            }
            optimizer.step(network);
            tally.add_updates(optimizer);
        }
        history
            .epochs
            .push(tally.finish(optimizer, network, n, None));
    }
    history
}

/// One shard's forward and backward pass on the rows `rows` of a batch of `batch_len` rows.
fn shard_step(
    shard: &mut Shard,
    rows: &[usize],
    batch_len: usize,
    data: &Dataset,
    (loss, metric): (crate::loss::Loss, Metric),
) {
    shard.loss_sum = 0.0;
    shard.metric_sum = 0.0;
    if rows.is_empty() {
        // A batch smaller than SHARDS leaves some shards without rows: they contribute zero.
        for layer in shard.network.layers_mut() {
            if let Layer::Dense(dense) = layer {
                dense.dw.as_mut_slice().fill(0.0);
                dense.db.as_mut_slice().fill(0.0);
            }
        }
        return;
    }
    // The rows of X go straight into the network's input (`forward` would copy them again).
    data.x
        .select_rows_into(rows, shard.network.input_for_batch(rows.len()));
    data.y.select_rows_into(rows, &mut shard.y);
    let y_hat = shard.network.forward_from_input(true);
    let n_s = rows.len() as f64;
    shard.loss_sum = loss.value(y_hat, &shard.y) * n_s;
    shard.metric_sum = metric.value(y_hat, &shard.y, data.task) * n_s;
    // dZₛ = (ŷ − y)/nₛ for the shard's mean loss; the batch's mean loss weighs it by nₛ/n.
    loss.output_error(&mut shard.dz, y_hat, &shard.y);
    let weight = n_s / batch_len as f64;
    shard
        .dz
        .as_mut_slice()
        .iter_mut()
        .for_each(|d| *d *= weight);
    shard.network.backward_from_output_error(&shard.dz);
}

/// `dW ← Σₛ dWₛ` and `db ← Σₛ dbₛ` for every dense layer, adding the shards in order.
fn sum_gradients(network: &mut Network, shards: &[Shard]) {
    for (l, layer) in network.layers_mut().iter_mut().enumerate() {
        if let Layer::Dense(dense) = layer {
            dense.dw.as_mut_slice().fill(0.0);
            dense.db.as_mut_slice().fill(0.0);
            for shard in shards {
                if let Layer::Dense(part) = &shard.network.layers()[l] {
                    dense.dw.add_scaled(1.0, &part.dw);
                    dense.db.add_scaled(1.0, &part.db);
                }
            }
        }
    }
}

/// Copies `W` and `b` of every dense layer from `from` into `to` (no allocation). Each shard's
/// thread does this for its shard at the start of a step, so the copies run in parallel and the
/// parameters are in that thread's caches when its forward pass reads them.
fn copy_parameters(from: &Network, to: &mut Network) {
    for (source, target) in from.layers().iter().zip(to.layers_mut()) {
        if let (Layer::Dense(source), Layer::Dense(target)) = (source, target) {
            target.w.copy_from(&source.w);
            target.b.copy_from(&source.b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::data::generate;
    use crate::network::Architecture;
    use crate::optim::Rule;
    use std::ops::ControlFlow;

    fn setup(batch_norm: bool) -> (Network, Optimizer, Dataset) {
        let mut rng = Rng::new(11);
        let data = generate::blobs(300, 3, 1.0, &mut rng);
        let architecture = Architecture {
            n_in: 2,
            hidden: vec![16, 8],
            activation: Activation::Tanh,
            n_out: 3,
            output: Activation::Softmax,
            batch_norm,
            dropout: 0.0,
        };
        let network = Network::mlp(&architecture, &mut rng);
        (network, Optimizer::new(Rule::Sgd, 0.1), data)
    }

    fn weights(network: &Network) -> Vec<u64> {
        network
            .dense_layers()
            .flat_map(|d| d.w.as_slice().iter().chain(d.b.as_slice()))
            .map(|x| x.to_bits())
            .collect()
    }

    /// Trains the same network with `config` on each number of threads and checks that the
    /// weights and the history are those of the first.
    fn assert_same_bits_on(threads: &[usize], config: &TrainConfig) {
        let mut results = Vec::new();
        for &threads in threads {
            let (mut network, mut optimizer, data) = setup(false);
            let history = train(&mut network, &mut optimizer, &data, config, threads);
            results.push((threads, weights(&network), history));
        }
        let (_, first_weights, first_history) = &results[0];
        for (threads, weights, history) in &results[1..] {
            assert_eq!(weights, first_weights, "weights on {threads} threads");
            assert_eq!(history, first_history, "history on {threads} threads");
        }
    }

    #[test]
    fn any_number_of_threads_gives_the_same_bits() {
        let config = TrainConfig {
            epochs: 5,
            batch_size: 64,
            shuffle_seed: 3,
        };
        assert_same_bits_on(&[1, 2, 3, 8], &config);
    }

    #[test]
    fn more_threads_than_shards_and_fewer_rows_than_shards_give_the_same_bits() {
        // Batches of 5 rows leave three shards empty; 16 threads are more than there are
        // shards to take. Neither may change a bit of what one thread computes.
        let config = TrainConfig {
            epochs: 2,
            batch_size: 5,
            shuffle_seed: 4,
        };
        assert_same_bits_on(&[1, 16], &config);
    }

    #[test]
    fn the_sharded_step_is_the_whole_batch_step_up_to_rounding() {
        let config = TrainConfig {
            epochs: 1,
            batch_size: 0,
            shuffle_seed: 3,
        };
        let (mut sharded, mut optimizer, data) = setup(false);
        let parallel_history = train(&mut sharded, &mut optimizer, &data, &config, 2);
        let (mut serial, mut optimizer, data) = setup(false);
        let serial_history =
            crate::train::train(&mut serial, &mut optimizer, &data, None, &config, |_, _| {
                ControlFlow::Continue(())
            });
        for (a, b) in sharded.dense_layers().zip(serial.dense_layers()) {
            for (x, y) in a.w.as_slice().iter().zip(b.w.as_slice()) {
                assert!((x - y).abs() < 1e-13, "{x} vs {y}");
            }
        }
        let (p, s) = (&parallel_history.epochs[0], &serial_history.epochs[0]);
        assert!((p.train_loss - s.train_loss).abs() < 1e-13);
        assert_eq!(p.train_metric, s.train_metric);
    }

    #[test]
    #[should_panic(expected = "only dense layers and activations can be sharded")]
    fn batch_normalisation_is_refused() {
        let (mut network, mut optimizer, data) = setup(true);
        let config = TrainConfig {
            epochs: 1,
            batch_size: 0,
            shuffle_seed: 0,
        };
        train(&mut network, &mut optimizer, &data, &config, 2);
    }
}
