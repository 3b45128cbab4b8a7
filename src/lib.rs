//! # backprop
//!
//! A neural network built from nothing, to learn how neural networks learn by reading and running
//! every line: the matrix, the forward pass, every local derivative, every gradient, every update.
//!
//! Read the modules in the order listed below; each opens with the mathematics it implements.
//!
//! ## Example: learn XOR
//!
//! Four points, two classes that no straight line separates. A hidden layer of tanh units bends
//! the plane until one can:
//!
//! ```
//! use backprop::activation::Activation;
//! use backprop::network::{Architecture, Network};
//! use backprop::optim::{Optimizer, Rule};
//! use backprop::{data::generate, rng::Rng, train};
//! use std::ops::ControlFlow;
//!
//! let xor = generate::xor(); // X: (0,0) (0,1) (1,0) (1,1), y: 0 1 1 0
//! let shape = Architecture { n_in: 2, hidden: vec![8], activation: Activation::Tanh, n_out: 1,
//!                            output: Activation::Sigmoid, batch_norm: false, dropout: 0.0 };
//! let mut network = Network::mlp(&shape, &mut Rng::new(1)); // 2 → 8 tanh → 1 sigmoid
//! let mut adam = Optimizer::new(Rule::from_name("adam").unwrap(), 0.05);
//! let config = train::TrainConfig { epochs: 300, batch_size: 0, shuffle_seed: 1 };
//! train::train(&mut network, &mut adam, &xor, None, &config, |_, _| ControlFlow::Continue(()));
//! let y_hat = network.predict(&xor.x);
//! assert_eq!(train::accuracy(&y_hat, &xor.y, xor.task), 1.0);
//! ```
//!
//! ## Legend: one notation for the whole crate
//!
//! ```text
//! n        n_samples, the rows of the batch; the 1/n of the mean loss
//! X        input batch, n_samples × n_in (one example per row)
//! W, b     a dense layer's weights (n_in × n_out) and bias (1 × n_out)
//! Z        pre-activation  Z = X·W + b                          (n_samples × n_out)
//! A        activation      A = f(Z)
//! ŷ, y     prediction (the last A) and target
//! L        the loss, a mean over the batch
//! dZ, dW … ∂L/∂Z, ∂L/∂W …: a d prefix is "the gradient of L with respect to", same shape
//! η        the learning rate (`lr` in code)
//! ·  ⊙  ᵀ  matrix product, elementwise product, transpose
//! W¹, A²   superscripts number the dense layers from 1
//! ```
//!
//! The four equations of backpropagation for one dense layer with activation f:
//!
//! ```text
//! dZ = dA ⊙ f′(Z)      dW = Xᵀ·dZ      db = Σ_rows dZ      dX = dZ·Wᵀ
//! ```
//! and for the output layer with its paired loss, `dZ = (ŷ − y)/n`. Nielsen's book calls `dZ`
//! δ; his matrices are the transpose of ours (a column per sample).
//!
//! ## Code map
//!
//! ```text
//! Part 1, the book      matrix, rng, activation, loss, dense, dropout, batch_norm, layer,
//!                       network, optim, gradcheck, train: each chapter states its operations as
//!                       their formulas read, and that is the code that runs
//! Part 2, learning      data/, parallel, diagnose, tasks, run, compare, model_file
//!   from data
//! Part 3, showing it    demo/, text_plot, plot/, report
//! Part 4, around it     error, files, json, cli/
//! Appendix              kernels/, the engine room: the fast forms of the named operations the
//!                       chapters call (kernels::matmul, affine, weight_gradients, …); read last
//! ```
//!
//! Where a chapter needs a heavy loop, a product or an entry-by-entry pass, it calls a named
//! operation of `kernels`, whose docs give the formula, the shapes and the plain definition (the
//! three products are defined in `matrix.rs`, the formulas `f`, `f′`, the losses and the update
//! rules in their chapters, passed to the engine as closures). `BACKPROP_KERNELS=naive` runs
//! every named operation on its plain definition, with the same results to the last bit.
//!
//! ## Invariants
//!
//! - No dependencies of any kind: everything is in this crate.
//! - Forward and backward of a thing sit side by side in one file.
//! - Backward computes gradients; a separate optimizer step applies them.
//! - The library never prints and never exits; user mistakes are [`error::Error`]s.
//! - A chapter has no tiles, packing, vector instructions, threads or second copy of an
//!   operation: those are the engine room's, and each of its fast forms gives the bits of the
//!   plain form it stands for (`tests/kernels.rs`).
//! - The same seed gives the same numbers, bit for bit, with either set of kernels. Small
//!   networks (the demo, XOR, circles, sine) give the same bits on every x86-64 machine; products
//!   of at least `kernels::choose::FMA_THRESHOLD` multiply-adds use fused multiply-adds where the
//!   processor has them, so digits-sized runs may differ in the last bits between processors
//!   with and without FMA (never between two runs on one machine).
//! - `unsafe` appears in four files of the engine room only: `kernels/simd.rs` runs a loop
//!   compiled for wider vectors, `kernels/gemm/microkernel.rs` defines the packed product's
//!   kernels compiled for them and `kernels/gemm/mod.rs` calls those, each time after checking
//!   that this processor has the instructions; and `kernels/threads.rs` lends the caller's work
//!   to helper threads for no longer than the call. The benchmarks' counting allocator
//!   (`benches/`) is the only other `unsafe`, and it is not part of the library.
//! - Threads change only the time: a large product spread over several threads gives the same
//!   bits as on one, and so do the passes [`kernels::run_both`] runs side by side and the shards
//!   of `parallel.rs`; `BACKPROP_THREADS=1` keeps everything on one thread.

#![deny(missing_docs)]
// Index loops (`for i in 0..n`) are kept where they mirror a formula's Σᵢ or Σⱼ: for a learner
// `x[(i, j)] - mean[j]` reads like the mathematics, an iterator chain does not.
#![allow(clippy::needless_range_loop)]

/// Records, in the library's own unit tests only, that a chapter function ran: the demo's source
/// tags (`[dense.rs Dense::forward]`) are checked against these records. Elsewhere it is nothing.
macro_rules! trace {
    ($function:literal) => {
        #[cfg(test)]
        crate::demo::trace::ran($function);
    };
}

// The modules in reading order. (Each is preceded by a comment, which also keeps rustfmt from
// sorting them alphabetically.)

// Part 1, the book: the mathematics, and what runs.
// The matrix and its three products.
pub mod matrix;
// Seeded random numbers.
pub mod rng;
// Non-linearities and their derivatives.
pub mod activation;
// Losses, their gradients and the output-error shortcut.
pub mod loss;
// The dense layer Z = X·W + b.
pub mod dense;
// Inverted dropout.
pub mod dropout;
// Batch normalisation.
pub mod batch_norm;
// One step of the stack.
pub mod layer;
// The stack, forward and backward.
pub mod network;
// Applying gradients: SGD, momentum, RMSprop, Adam.
pub mod optim;
// Checking gradients against central differences.
pub mod gradcheck;
// The training loop and its history.
pub mod train;

// Part 2, learning from data.
// Datasets: generated, CSV, split, standardisation.
pub mod data;
// Data-parallel training: shards of a batch, summed in a fixed order.
pub mod parallel;
// Noticing vanishing gradients, dead units and divergence.
pub mod diagnose;
// The named tasks and their defaults.
pub mod tasks;
// From options to a trained network.
pub mod run;
// Many runs side by side: activations, learning rates, sizes, depths, optimizers.
pub mod compare;
// Saving and loading trained networks as plain text.
pub mod model_file;

// Part 3, showing it.
// Backpropagation step by step, with real numbers.
pub mod demo;
// Sparklines and character pictures for the terminal.
pub mod text_plot;
// Figures as SVG.
pub mod plot;
// The HTML report of a run, with its training replay.
pub mod report;

// Part 4, around it.
// User-facing errors.
pub mod error;
// Atomic file writing.
pub mod files;
// A small JSON writer.
pub mod json;
// The command line.
pub mod cli;

// Appendix, the engine room: the named operations' fast forms, read last.
pub mod kernels;
