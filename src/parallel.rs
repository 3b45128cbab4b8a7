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
//! # Where the time goes
//!
//! Measured on digits (64 → 128 → 64 → 10, full batch, 8 shards of 224 or 225 rows) on this
//! 2-core machine, timing each phase of a step on each thread:
//!
//! ```text
//! one thread   8 shards' forward + backward  4.6 ms     sum of the shard gradients  0.1 ms
//!              copy W to 8 shards            0.07 ms    optimizer step              0.04 ms
//! two threads  each thread's 4 shards        2.4–2.7 ms (two threads on 4 shards each, with no
//!              step in between, take 1.75 ms against 3.7 ms for one thread on 8: the cores,
//!              the caches and the memory are not what limits the speed-up)
//! ```
//!
//! What cost more than the arithmetic:
//!
//! - **Memory first touched on a worker thread.** A shard network's buffers (`Z`, `A`, `dA`,
//!   `dZ` of its rows, about 1.7 MB) are allocated on its first step. The allocator gives each
//!   thread its own heap and hands a heap's free memory back to the system, so buffers allocated
//!   on a worker thread were mapped and zeroed anew, page by page, on every call: the worker's
//!   first step took 7 ms instead of 3 (86 000 page faults in a benchmark run instead of 5 000,
//!   `perf stat -e page-faults`; `perf record -e page-faults` put them in the shards' first
//!   `Matrix::resize`). So the first step of a call runs on the calling thread alone, whose heap
//!   keeps its memory; one serial step costs less than the faults did.
//! - **Starting threads every step.** A thread started with `std::thread::scope` began its
//!   shards 50–100 µs after the step did, and up to 2 ms later while other programs held the
//!   other core; it also met cold caches and empty per-thread buffers of `gemm`. With two
//!   threads the second is therefore `gemm`'s helper thread (`kernels::threads::join`), which is started
//!   once and waits for work; with more threads they are started every step with
//!   `std::thread::scope`, the plain form.
//! - **Fixed halves.** With shards 0–3 on one thread and 4–7 on the other, the step waited for
//!   the slower half (up to 0.2 ms on a quiet machine, milliseconds when the cores are shared).
//!   The threads now take the next shard from a queue, so none waits while shards remain.
//! - **Serial work between the threads' parts:** copying `W` to the shards now happens in each
//!   shard's own work. The sum of the shard gradients (0.1 ms) and the optimizer step stay on
//!   the calling thread: summing half the layers on each of two threads (the same sums, the
//!   same bits) changed the time by less than the noise (±4 %), so the plain loop stays.
//!
//! With one or two threads a step allocates nothing; more threads allocate what starting them
//! allocates.
//!
//! # Threads inside the products instead
//!
//! `gemm.rs` can also share every large matrix product between threads (rows of `C` per
//! thread), which leaves the order of every sum alone: ordinary `train::train` then gives the
//! serial bits on any number of threads, and it is what `cargo run -- train` does by default.
//! Compare the `digits threads=2` and `digits shards=8 threads=2` rows of
//! `cargo bench --bench train`. Measured on 29 November 2026 as ratios of times per epoch
//! within one round, medians of 4–7 interleaved rounds (the shared cores swing the times
//! themselves by half from run to run):
//!
//! ```text
//!                                       full batch            batches of 256
//! 8 shards on 2 threads vs on 1         1.5–1.6×  (1.1–1.25×)  1.5×   (1.15×)
//! 8 shards on 2 threads vs serial       1.5×      (1.0×)       1.07×  (0.8×)
//! products on 2 threads vs 8 shards     4–13 % less (30 %)     about 15 % less time
//!                                       (in parentheses: before the changes above)
//! ```
//!
//! In batches of 256 a shard has 32 rows, products too small to run at full speed: the 8
//! shards on one thread take about 1.4× as long as the whole batch. Sharding is how training
//! spreads over many machines, where no product can be shared; here each shard's products run
//! on its own thread (`kernels::threads::with_threads(1, …)`) so that the two kinds of threads do not
//! compete for the cores.

use crate::data::Dataset;
use crate::kernels;
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::network::{superscript, Network};
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::train::{Divergence, EpochStats, History, Metric, TrainConfig};
use std::sync::{Mutex, PoisonError};

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
    let batch_size = if config.batch_size == 0 {
        n
    } else {
        config.batch_size.min(n)
    };
    let mut shards: Vec<Shard> = (0..SHARDS)
        .map(|_| Shard {
            network: network.clone(),
            y: Matrix::zeros(0, 0),
            dz: Matrix::zeros(0, 0),
            loss_sum: 0.0,
            metric_sum: 0.0,
        })
        .collect();
    let n_layers = network.dense_layers().count();
    let weight_slots: Vec<usize> = (0..n_layers).map(|l| 2 * l).collect();
    let mut rng = Rng::new(config.shuffle_seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut first_step = true;
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
        let (mut loss_sum, mut metric_sum, mut steps) = (0.0, 0.0, 0);
        let mut gradient_norms = vec![0.0; n_layers];
        let mut update_norms = vec![0.0; n_layers];
        for batch in order.chunks(batch_size) {
            let params = &*network;
            let work = |shard_index: usize, shard: &mut Shard| {
                let lo = shard_index * batch.len() / SHARDS;
                let hi = (shard_index + 1) * batch.len() / SHARDS;
                copy_parameters(params, &mut shard.network);
                shard_step(shard, &batch[lo..hi], batch.len(), train, loss, metric);
            };
            // The first step of a call runs on this thread alone (see "Where the time goes").
            let workers = if first_step { 1 } else { threads.min(SHARDS) };
            first_step = false;
            if workers == 1 {
                shards
                    .iter_mut()
                    .enumerate()
                    .for_each(|(s, shard)| work(s, shard));
            } else {
                // Each thread takes the next shard not yet taken until none is left, so a thread
                // that starts late or runs slower (the cores are shared) takes fewer shards and
                // none waits idle while shards remain. Who computes a shard never changes what it
                // computes, nor where its gradient goes.
                let queue = Mutex::new(shards.iter_mut().enumerate());
                let drain = || {
                    // The threads already share the work, so each shard's products run on its
                    // own thread (`gemm` would otherwise try to share them out again).
                    kernels::threads::with_threads(1, || loop {
                        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                        let Some((s, shard)) = next else { break };
                        work(s, shard);
                    });
                };
                if workers == 2 {
                    // The faster form for two threads: the second is `gemm`'s helper thread,
                    // already running, instead of a thread started for this step (see "Where
                    // the time goes"). The size only has to exceed `kernels::choose::JOIN_THRESHOLD`.
                    kernels::threads::with_threads(2, || {
                        kernels::threads::join(usize::MAX, drain, drain)
                    });
                } else {
                    std::thread::scope(|scope| {
                        for _ in 1..workers {
                            scope.spawn(drain);
                        }
                        // The calling thread drains the queue too instead of waiting idle.
                        drain();
                    });
                }
            }
            // The all-reduce: dW = Σₛ dWₛ, in shard order, into the main network.
            let batch_loss: f64 = shards.iter().map(|s| s.loss_sum).sum();
            if !batch_loss.is_finite() {
                history.divergence = Some(Divergence {
                    epoch,
                    culprit: "the loss".to_string(),
                });
                break 'epochs;
            }
            loss_sum += batch_loss;
            metric_sum += shards.iter().map(|s| s.metric_sum).sum::<f64>();
            sum_gradients(network, &shards);
            for (l, dense) in network.dense_layers().enumerate() {
                let norm = dense.dw.norm();
                if !norm.is_finite() {
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
        let steps = f64::from(steps.max(1));
        gradient_norms.iter_mut().for_each(|g| *g /= steps);
        update_norms.iter_mut().for_each(|u| *u /= steps);
        history.epochs.push(EpochStats {
            epoch,
            lr: optimizer.current_lr(),
            train_loss: loss_sum / n as f64,
            train_metric: metric_sum / n as f64,
            test_loss: None,
            test_metric: None,
            gradient_norms,
            update_norms,
            weight_norms: network.weight_norms(),
        });
    }
    history
}

/// One shard's forward and backward pass on the rows `rows` of a batch of `batch_len` rows.
fn shard_step(
    shard: &mut Shard,
    rows: &[usize],
    batch_len: usize,
    data: &Dataset,
    loss: crate::loss::Loss,
    metric: Metric,
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
        .select_rows_into(rows, shard.network.input_mut(rows.len()));
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
