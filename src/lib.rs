//! # backprop
//!
//! A neural network built from nothing, to learn how neural networks learn by reading and running
//! every line: the matrix, the forward pass, every local derivative, every gradient, every update.
//!
//! Read the modules in the order listed below; each opens with the mathematics it implements.
//!
//! ## Legend: one notation for the whole crate
//!
//! ```text
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
//! ## Invariants
//!
//! - No dependencies of any kind: everything is in this crate.
//! - Forward and backward of a thing sit side by side in one file.
//! - Backward computes gradients; a separate optimizer step applies them.
//! - The library never prints and never exits; user mistakes are [`error::Error`]s.
//! - The same seed gives the same numbers, bit for bit.

#![deny(missing_docs)]
// Index loops (`for i in 0..n`) are kept where they mirror a formula's Σᵢ or Σⱼ: for a learner
// `x[(i, j)] - mean[j]` reads like the mathematics, an iterator chain does not.
#![allow(clippy::needless_range_loop)]

// The engine, in reading order.
pub mod activation;
pub mod batch_norm;
pub mod dense;
pub mod dropout;
pub mod gemm;
pub mod gradcheck;
pub mod layer;
pub mod loss;
pub mod matrix;
pub mod network;
pub mod optim;
pub mod rng;

// Learning from data.
pub mod data;
pub mod parallel;
pub mod run;
pub mod tasks;
pub mod train;

// Around it: errors, files, the command line.
pub mod cli;
pub mod error;
pub mod files;
pub mod json;
