//! A layer: one step of the stack, with a forward pass and a backward pass.
//!
//! A network is a list of these applied in order. Every kind turns an input matrix into an output
//! matrix of the same number of rows (one per sample), and every kind can send a gradient back:
//!
//! ```text
//! kind         forward                 backward (given the gradient of its output)
//! Dense        Z = X·W + b             dW = Xᵀ·dZ,  db = Σ_rows dZ,  dX = dZ·Wᵀ      dense.rs
//! Activation   A = f(Z)                dZ = dA ⊙ f′(Z)                              activation.rs
//! Dropout      A = X ⊙ M               dX = dA ⊙ M                                  dropout.rs
//! BatchNorm    Y = γ ⊙ X̂ + β           dγ, dβ, dX  (see the file)                   batch_norm.rs
//! ```
//!
//! Keeping the activation as a layer of its own, rather than inside `Dense`, makes the output of
//! every step (`Z¹`, `A¹`, `Z²`, …) a separate matrix that can be printed, and lets batch
//! normalisation sit between `Z` and `f`, where it belongs.

use crate::activation::Activation;
use crate::batch_norm::BatchNorm;
use crate::dense::{Below, Dense};
use crate::dropout::Dropout;
use crate::matrix::Matrix;

/// One step of a network.
#[derive(Clone, Debug)]
pub enum Layer {
    /// `Z = X·W + b`.
    Dense(Dense),
    /// `A = f(Z)`.
    Activation(Activation),
    /// `A = X ⊙ M` in training, `A = X` at inference.
    Dropout(Dropout),
    /// `Y = γ ⊙ X̂ + β`.
    BatchNorm(BatchNorm),
}

impl Layer {
    /// A short name: `dense`, `relu`, `dropout`, `batch_norm`, ….
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Activation(f) => f.name(),
            Layer::Dropout(_) => "dropout",
            Layer::BatchNorm(_) => "batch_norm",
        }
    }

    /// The source file and function that compute this layer's backward pass (printed by the
    /// demo so the output doubles as an index into the source).
    pub fn backward_source(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense.rs Dense::backward",
            Layer::Activation(f) if f.is_entrywise() => {
                "activation.rs Activation::backward_entries"
            }
            Layer::Activation(_) => "activation.rs Activation::backward",
            Layer::Dropout(_) => "dropout.rs Dropout::backward",
            Layer::BatchNorm(_) => "batch_norm.rs BatchNorm::backward",
        }
    }

    /// The source file and function that compute this layer's forward pass.
    pub fn forward_source(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense.rs Dense::forward",
            Layer::Activation(f) if f.is_entrywise() => "activation.rs Activation::forward_entries",
            Layer::Activation(_) => "activation.rs Activation::forward",
            Layer::Dropout(_) => "dropout.rs Dropout::forward",
            Layer::BatchNorm(_) => "batch_norm.rs BatchNorm::forward",
        }
    }

    /// Number of trainable numbers in the layer.
    pub fn parameter_count(&self) -> usize {
        match self {
            Layer::Dense(dense) => dense.parameter_count(),
            Layer::BatchNorm(norm) => 2 * norm.features(),
            Layer::Activation(_) | Layer::Dropout(_) => 0,
        }
    }

    /// `output ← layer(input)`.
    pub fn forward(&mut self, output: &mut Matrix, input: &Matrix, training: bool) {
        match self {
            Layer::Dense(dense) => dense.forward(output, input, None),
            Layer::Activation(f) => f.forward(input, output),
            Layer::Dropout(dropout) => dropout.forward(output, input, training),
            Layer::BatchNorm(norm) => norm.forward(output, input, training),
        }
    }

    /// Given `d_output = ∂L/∂output`, stores the layer's parameter gradients and writes
    /// `d_input = ∂L/∂input` when asked for. `input` and `output` are what forward saw and made.
    pub fn backward(
        &mut self,
        d_input: Option<&mut Matrix>,
        d_output: &Matrix,
        input: &Matrix,
        output: &Matrix,
        training: bool,
    ) {
        match self {
            Layer::Dense(dense) => {
                let below = d_input.map_or(Below::Nothing, Below::Input);
                dense.backward(below, d_output, input)
            }
            Layer::Activation(f) => {
                if let Some(d_input) = d_input {
                    f.backward(d_input, d_output, input, output);
                }
            }
            Layer::Dropout(dropout) => {
                if let Some(d_input) = d_input {
                    dropout.backward(d_input, d_output, training);
                }
            }
            Layer::BatchNorm(norm) => {
                let mut scratch = Matrix::zeros(0, 0);
                norm.backward(d_input.unwrap_or(&mut scratch), d_output);
            }
        }
    }
}
