//! `cargo bench --bench train`: time per epoch of the training loop, and heap allocations per
//! epoch, counted by a wrapper around the system allocator.
//!
//! One line per case, `train task=circles µs/epoch=41.2 allocations/epoch=3`:
//!
//! ```text
//! circles      2 → 10 relu → 1 sigmoid, 800 training rows, full batch, SGD η = 0.1
//! sine         1 → 20 tanh → 20 tanh → 1, 400 training rows, full batch, Adam η = 0.01
//! digits       64 → 128 relu → 64 relu → 10 softmax, all 1797 rows, SGD η = 0.1, full batch
//! digits-b64   the same with shuffled mini-batches of 64
//! digits-b256  the same with shuffled mini-batches of 256
//! ```
//!
//! Threads: a digits row without `threads=` uses the default of `kernels::threads::threads`
//! (every core, or `BACKPROP_THREADS`), as `cargo run -- train digits` does. `digits threads=1`
//! and `digits threads=2` set `kernels::threads::set_threads` to 1 and 2: the large products are
//! shared by that many threads, all else runs on one. `shards=8 threads=N` rows train through parallel.rs
//! instead (8 data-parallel shards on N threads, each shard's products on one thread).
//!
//! The time is that of `train::train` (the loop `cargo run -- train` runs, its `train_seconds`)
//! without a test set. Circles and sine are also timed two more ways:
//!
//! ```text
//! circles+test  train::train with the task's test rows, evaluated every epoch (loss and metric),
//!               as `cargo run -- train circles` runs it
//! circles step  the bare step: forward, loss, output error, backward, optimizer step, nothing
//!               else (no metric, no norms, no record); this is what the NumPy and PyTorch
//!               loops in benches/compare do, so it is the row compared with them
//! ```
//!
//! Rows named `kernels=naive` (circles and sine, each as `train::train` and as the bare step) run
//! every named operation on its plain definition (`BACKPROP_KERNELS=naive`): the same numbers,
//! to the last bit, so the ratio to the row without it is what the engine room buys.
//!
//! Allocations are counted in steady state: those of a run of 2E epochs minus those of a run of
//! E epochs, divided by E, so the buffers the first step sets up do not count. Each epoch's
//! record (`EpochStats`) holds three `Vec`s of per-layer norms, which is the small constant the
//! count shows; the steps themselves allocate nothing (parallel.rs's two-thread steps hand
//! shards to `gemm`'s helper thread, started once, so the `shards=8 threads=2` rows too).
//!
//! Extra words on the command line filter the cases: `cargo bench --bench train -- digits`.

mod common;

use backprop::activation::Activation;
use backprop::data::csv::TargetKind;
use backprop::data::{Dataset, Standardizer};
use backprop::kernels::{self, Kernels};
use backprop::matrix::Matrix;
use backprop::network::{Architecture, Network};
use backprop::optim::{Optimizer, Rule};
use backprop::parallel;
use backprop::rng::Rng;
use backprop::run::{self, RunOptions};
use backprop::tasks;
use backprop::train::{self, TrainConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The system allocator, counting every allocation and reallocation.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed unchanged to the system allocator, which upholds the contract;
// the wrapper only increments a counter. This is the bench-only `unsafe` the crate docs mention.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One benchmark case: a network, its optimizer and data, and how to train.
struct Case {
    name: &'static str,
    network: Network,
    optimizer: Optimizer,
    data: Dataset,
    batch_size: usize,
    /// Epochs per timed repetition.
    epochs: usize,
    /// `Some(threads)`: train with `parallel::train` on that many threads.
    threads: Option<usize>,
    /// Evaluated after every epoch (by `train::train`).
    test: Option<Dataset>,
    /// Time the bare full-batch step instead of `train::train` (see the module doc).
    bare: bool,
}

impl Case {
    fn train(&mut self, epochs: usize) {
        let config = TrainConfig {
            epochs,
            batch_size: self.batch_size,
            shuffle_seed: 1,
        };
        if self.bare {
            let loss = self.data.task.loss();
            let mut output_error = Matrix::zeros(0, 0);
            for _ in 0..epochs {
                let y_hat = self.network.forward(black_box(&self.data.x), true);
                black_box(loss.value(y_hat, &self.data.y));
                loss.output_error(&mut output_error, y_hat, &self.data.y);
                self.network.backward_from_output_error(&output_error);
                self.optimizer.step(&mut self.network);
            }
            return;
        }
        let history = match self.threads {
            None => train::train(
                &mut self.network,
                &mut self.optimizer,
                black_box(&self.data),
                self.test.as_ref(),
                &config,
                |_, _| ControlFlow::Continue(()),
            ),
            Some(threads) => parallel::train(
                &mut self.network,
                &mut self.optimizer,
                black_box(&self.data),
                &config,
                threads,
            ),
        };
        black_box(history);
    }

    /// Allocations per epoch in steady state.
    fn allocations_per_epoch(&mut self) -> f64 {
        let count = |case: &mut Case, epochs| {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            case.train(epochs);
            ALLOCATIONS.load(Ordering::Relaxed) - before
        };
        let e = self.epochs;
        let once = count(self, e);
        let twice = count(self, 2 * e);
        (twice.saturating_sub(once)) as f64 / e as f64
    }
}

/// The task's (training, test) rows, split as `cargo run -- train NAME` splits them.
fn task_data(name: &str) -> (Dataset, Option<Dataset>) {
    let spec = tasks::find(name).expect("a task of tasks.rs");
    let options = RunOptions::for_task(&spec);
    let split = run::prepare_data(&options, &mut Rng::new(42)).expect("the task's data");
    (split.train, Some(split.test))
}

fn digits() -> Dataset {
    let data = tasks::load_shipped("digits.csv", TargetKind::Auto).expect("datasets/digits.csv");
    let standardizer = Standardizer::fit(&data.x);
    Dataset {
        x: standardizer.apply(&data.x),
        ..data
    }
}

fn network(n_in: usize, hidden: &[usize], activation: Activation, n_out: usize) -> Network {
    let output = match n_out {
        1 if activation == Activation::Tanh => Activation::Identity,
        1 => Activation::Sigmoid,
        _ => Activation::Softmax,
    };
    let architecture = Architecture {
        n_in,
        hidden: hidden.to_vec(),
        activation,
        n_out,
        output,
        batch_norm: false,
        dropout: 0.0,
    };
    Network::mlp(&architecture, &mut Rng::new(3))
}

fn cases() -> Vec<Case> {
    let sgd = |lr| Optimizer::new(Rule::Sgd, lr);
    let adam = Optimizer::new(Rule::from_name("adam").expect("adam"), 0.01);
    let digits = digits();
    let digits_case = |name, batch_size, epochs, threads| Case {
        name,
        network: network(64, &[128, 64], Activation::Relu, 10),
        optimizer: sgd(0.1),
        data: digits.clone(),
        batch_size,
        epochs,
        threads,
        test: None,
        bare: false,
    };
    let (circles, circles_test) = task_data("circles");
    let (sine, sine_test) = task_data("sine");
    let circles_case = |name, test, bare| Case {
        name,
        network: network(2, &[10], Activation::Relu, 1),
        optimizer: sgd(0.1),
        data: circles.clone(),
        batch_size: 0,
        epochs: 50,
        threads: None,
        test,
        bare,
    };
    let sine_case = |name, test, bare| Case {
        name,
        network: network(1, &[20, 20], Activation::Tanh, 1),
        optimizer: adam.clone(),
        data: sine.clone(),
        batch_size: 0,
        epochs: 20,
        threads: None,
        test,
        bare,
    };
    vec![
        circles_case("circles", None, false),
        circles_case("circles+test", circles_test.clone(), false),
        circles_case("circles step", None, true),
        sine_case("sine", None, false),
        sine_case("sine+test", sine_test.clone(), false),
        sine_case("sine step", None, true),
        circles_case("circles kernels=naive", None, false),
        circles_case("circles step kernels=naive", None, true),
        sine_case("sine kernels=naive", None, false),
        sine_case("sine step kernels=naive", None, true),
        digits_case("digits", 0, 4, None),
        digits_case("digits threads=1", 0, 4, None),
        digits_case("digits threads=2", 0, 4, None),
        digits_case("digits-b64", 64, 2, None),
        digits_case("digits-b64 threads=1", 64, 2, None),
        digits_case("digits-b64 threads=2", 64, 2, None),
        digits_case("digits-b256", 256, 2, None),
        digits_case("digits-b256 threads=1", 256, 2, None),
        digits_case("digits-b256 threads=2", 256, 2, None),
        digits_case("digits-b256 shards=8 threads=1", 256, 2, Some(1)),
        digits_case("digits-b256 shards=8 threads=2", 256, 2, Some(2)),
        digits_case("digits shards=8 threads=1", 0, 4, Some(1)),
        digits_case("digits shards=8 threads=2", 0, 4, Some(2)),
    ]
}

fn main() {
    let filter = common::filter();
    let mut per_epoch = Vec::new();
    for mut case in cases() {
        let label = format!("train task={}", case.name);
        if !common::selected(&filter, &label) {
            continue;
        }
        // The products' threads: N for a row named `threads=N` (parallel.rs's own rows: 1, so
        // that they show the data-parallel speed-up alone), else the default.
        let named = label
            .split_once(" threads=")
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(0);
        kernels::threads::set_threads(if case.threads.is_some() { 1 } else { named });
        // A row named `kernels=naive` runs every named operation on its plain definition.
        let naive = label.contains("kernels=naive");
        kernels::set_kernels(if naive { Kernels::Naive } else { Kernels::Fast });
        let epochs = case.epochs;
        let timing = common::measure(41, Duration::from_millis(1500), || case.train(epochs));
        let micros = timing.median / epochs as f64 * 1e6;
        let allocations = case.allocations_per_epoch();
        println!(
            "{label} µs/epoch={micros:.1} allocations/epoch={allocations}   (±{:.0}%, {} samples)",
            timing.spread_percent(),
            timing.samples
        );
        per_epoch.push((case.name, micros));
    }
    kernels::threads::set_threads(0);
    kernels::set_kernels(Kernels::Fast);
    let time_of = |name: &str| per_epoch.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
    for task in ["digits", "digits-b64", "digits-b256"] {
        if let (Some(one), Some(two)) = (
            time_of(&format!("{task} threads=1")),
            time_of(&format!("{task} threads=2")),
        ) {
            println!(
                "threads task={task} speed-up(2 threads vs 1)={:.2}",
                one / two
            );
        }
    }
    for task in ["circles", "circles step", "sine", "sine step"] {
        if let (Some(fast), Some(naive)) =
            (time_of(task), time_of(&format!("{task} kernels=naive")))
        {
            println!(
                "kernels task={task} speed-up(fast vs naive)={:.2}",
                naive / fast
            );
        }
    }
    for task in ["digits-b256", "digits"] {
        let (serial, one, two) = (
            time_of(&format!("{task} threads=1")),
            time_of(&format!("{task} shards=8 threads=1")),
            time_of(&format!("{task} shards=8 threads=2")),
        );
        if let (Some(serial), Some(one), Some(two)) = (serial, one, two) {
            println!(
                "parallel task={task} shards=8 speed-up(2 threads vs 1)={:.2} speed-up(2 threads vs serial)={:.2}",
                one / two,
                serial / two
            );
        }
    }
}
