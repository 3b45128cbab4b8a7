//! The network: a stack of layers, run forward in order and backward in reverse.
//!
//! ```text
//! forward    A⁰ = X,   Aˡ⁺¹ = layerₗ(Aˡ)   for l = 0, 1, …, L−1,   ŷ = Aᴸ
//! backward   dAᴸ = ∂L/∂ŷ,   dAˡ = layerₗ.backward(dAˡ⁺¹)   for l = L−1, …, 1, 0
//! ```
//!
//! Here `Aˡ` is the output of the l-th step of the stack, whatever its kind, so a two-layer
//! perceptron `2 → 3 tanh → 1 sigmoid` is the stack `[Dense, tanh, Dense, sigmoid]` and its values
//! are `X, Z¹, A¹, Z², ŷ`. The network owns all of them (`values`) and their gradients
//! (`gradients`): forward fills the first list, backward the second, and each layer reads what it
//! needs from both. That is the "cache" of backpropagation, and after the first step it is reused,
//! never reallocated.
//!
//! Backward usually starts one step early: with the paired loss and output activation, the loss
//! gives the output error `dZᴸ = (ŷ − y)/n` directly (see `loss.rs`), so
//! [`Network::backward_from_output_error`] skips the last activation. [`Network::backward`]
//! starts from `∂L/∂ŷ` and goes through it; the tests check that both agree.
//!
//! In docs and printed output a superscript numbers the dense layers: `W¹`, `b¹` and `Z¹` belong
//! to the first, `A¹ = f(Z¹)` is its activation.
//!
//! Backward writes every gradient afresh each step rather than adding to what was there: in a
//! stack each value and each parameter is used exactly once, so there is nothing to accumulate
//! (see `dense.rs` for when `+=` would be needed).
//!
//! The loops above run one layer at a time, and [`Network::forward_reference`] and
//! [`Network::backward_from_output_error_reference`] keep them so. [`Network::forward`] and
//! the backward passes run a dense layer together with the entry-by-entry activation next to it
//! (`Z` and `A = f(Z)` forward; `dA = dZ·Wᵀ` and `dZ = dA ⊙ f′(Z)` one layer down backward),
//! 64 rows at a time, so that a block of rows is used again while it is still in the nearest
//! cache instead of after a whole matrix has passed. Every value and gradient is still stored,
//! with the same bits (tests/engine.rs compares them).

use crate::activation::Activation;
use crate::batch_norm::BatchNorm;
use crate::dense::{Dense, Init};
use crate::dropout::Dropout;
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::rng::Rng;

/// The shape of a multi-layer perceptron, from which [`Network::mlp`] builds one.
#[derive(Clone, Debug, PartialEq)]
pub struct Architecture {
    /// Number of input features.
    pub n_in: usize,
    /// Units in each hidden layer, e.g. `[20, 20]`.
    pub hidden: Vec<usize>,
    /// The activation after each hidden layer.
    pub activation: Activation,
    /// Number of outputs.
    pub n_out: usize,
    /// The activation of the output layer (sigmoid, softmax or identity).
    pub output: Activation,
    /// Insert batch normalisation between each hidden dense layer and its activation.
    pub batch_norm: bool,
    /// Dropout rate after each hidden activation (0 for none).
    pub dropout: f64,
}

/// The kind of a parameter tensor, for optimizers (L2 decays weights only) and for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterKind {
    /// A dense layer's `W`.
    Weights,
    /// A dense layer's `b`.
    Biases,
    /// A batch-normalisation layer's scale `γ`.
    Gamma,
    /// A batch-normalisation layer's shift `β`.
    Beta,
}

/// A stack of layers with the values and gradients of its last forward and backward passes.
#[derive(Clone, Debug)]
pub struct Network {
    layers: Vec<Layer>,
    /// `values[0] = X` and `values[l + 1]` = the output of `layers[l]`.
    values: Vec<Matrix>,
    /// The buffers of the last forward pass with another number of rows, kept for the next one
    /// (see [`Network::forward`]).
    other_values: Vec<Matrix>,
    /// `gradients[l] = ∂L/∂values[l]`, the same shape as `values[l]`.
    gradients: Vec<Matrix>,
    /// Whether the last forward pass was in training mode (dropout on, batch statistics).
    training: bool,
    /// Compute `gradients[0] = ∂L/∂X` too (gradient checks and the demo want it; training does
    /// not, and skips one matrix product per step).
    pub input_gradient: bool,
}

impl Network {
    /// A network from a list of layers.
    ///
    /// # Panics
    /// If the list is empty.
    pub fn new(layers: Vec<Layer>) -> Network {
        assert!(!layers.is_empty(), "a network needs at least one layer");
        let slots = layers.len() + 1;
        Network {
            layers,
            values: vec![Matrix::zeros(0, 0); slots],
            other_values: vec![Matrix::zeros(0, 0); slots],
            gradients: vec![Matrix::zeros(0, 0); slots],
            training: false,
            input_gradient: false,
        }
    }

    /// A multi-layer perceptron: for each hidden size `h`, `Dense(·→h)`, batch norm if asked,
    /// the activation, dropout if asked; then `Dense(·→n_out)` and the output activation. Weights
    /// are initialised for the activation that follows them (see `dense.rs`), drawing from `rng`
    /// in layer order; each dropout layer gets a generator forked from it.
    ///
    /// # Panics
    /// If the dropout rate is 1 or more.
    pub fn mlp(architecture: &Architecture, rng: &mut Rng) -> Network {
        let mut layers = Vec::new();
        let mut n_in = architecture.n_in;
        for &h in &architecture.hidden {
            let init = Init::for_activation(architecture.activation);
            layers.push(Layer::Dense(Dense::new(n_in, h, init, rng)));
            if architecture.batch_norm {
                layers.push(Layer::BatchNorm(BatchNorm::new(h)));
            }
            layers.push(Layer::Activation(architecture.activation));
            if architecture.dropout > 0.0 {
                layers.push(Layer::Dropout(Dropout::new(
                    architecture.dropout,
                    rng.fork(),
                )));
            }
            n_in = h;
        }
        let init = Init::for_activation(architecture.output);
        layers.push(Layer::Dense(Dense::new(
            n_in,
            architecture.n_out,
            init,
            rng,
        )));
        layers.push(Layer::Activation(architecture.output));
        Network::new(layers)
    }

    /// The layers, in forward order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The layers, for changing parameters (the optimizer and the loaders use this).
    pub fn layers_mut(&mut self) -> &mut [Layer] {
        &mut self.layers
    }

    /// The dense layers, in order: `dense_layers()[0]` holds `W¹` and `b¹`.
    pub fn dense_layers(&self) -> impl Iterator<Item = &Dense> {
        self.layers.iter().filter_map(|layer| match layer {
            Layer::Dense(dense) => Some(dense),
            _ => None,
        })
    }

    /// The values of the last forward pass: `[X, output of layer 0, output of layer 1, …]`.
    pub fn values(&self) -> &[Matrix] {
        &self.values
    }

    /// The gradients of the last backward pass, `∂L/∂` of each of [`Network::values`]. Entries the
    /// pass did not reach (the input, unless `input_gradient` is set) are left as they were.
    pub fn gradients(&self) -> &[Matrix] {
        &self.gradients
    }

    /// The output `ŷ` of the last forward pass.
    pub fn output(&self) -> &Matrix {
        &self.values[self.layers.len()]
    }

    /// Number of inputs the network expects.
    pub fn n_in(&self) -> usize {
        self.dense_layers().next().map_or(0, Dense::n_in)
    }

    /// Number of outputs.
    pub fn n_out(&self) -> usize {
        self.dense_layers().last().map_or(0, Dense::n_out)
    }

    /// The activation of the last layer, if the stack ends with one.
    pub fn output_activation(&self) -> Option<Activation> {
        match self.layers.last() {
            Some(Layer::Activation(f)) => Some(*f),
            _ => None,
        }
    }

    /// Total number of trainable numbers.
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(Layer::parameter_count).sum()
    }

    /// One line: `2 → 10 relu → 1 sigmoid · 41 parameters`.
    ///
    /// Batch normalisation and dropout are named once at the end, however many layers use them:
    /// `4 → 8 tanh → 8 tanh → 3 softmax +batchnorm +dropout 0.2 · 171 parameters`.
    pub fn description(&self) -> String {
        let mut text = self.n_in().to_string();
        let mut pending: Option<usize> = None;
        let mut extras: Vec<String> = Vec::new();
        for layer in &self.layers {
            let extra = match layer {
                Layer::BatchNorm(_) => Some(" +batchnorm".to_string()),
                Layer::Dropout(d) => Some(format!(" +dropout {}", d.rate)),
                Layer::Dense(_) | Layer::Activation(_) => None,
            };
            if let Some(extra) = extra.filter(|e| !extras.contains(e)) {
                extras.push(extra);
            }
            match layer {
                Layer::Dense(dense) => pending = Some(dense.n_out()),
                Layer::BatchNorm(_) | Layer::Dropout(_) => {}
                Layer::Activation(f) => {
                    let units = pending.take().map_or(String::new(), |u| u.to_string());
                    text.push_str(&format!(" → {units} {}", f.name()));
                }
            }
        }
        if let Some(units) = pending {
            text.push_str(&format!(" → {units}"));
        }
        let extras = extras.concat();
        format!("{text}{extras} · {} parameters", self.parameter_count())
    }

    /// Runs the stack on `x` (n × n_in) and returns `ŷ` (n × n_out), keeping every intermediate
    /// value for backward. In training mode dropout is active and batch normalisation uses (and
    /// updates) batch statistics.
    ///
    /// # Panics
    /// If `x` does not have the n_in columns the first layer expects.
    pub fn forward(&mut self, x: &Matrix, training: bool) -> &Matrix {
        self.take_input(x);
        self.forward_from_input(training)
    }

    /// [`Network::forward`] on the input already in place: `values[0]` as the last pass left it,
    /// or as the caller wrote it through [`Network::input_mut`].
    ///
    /// `forward` copies `X` into the network on every call (about 30 µs for digits' 1797 × 64
    /// inputs, 1 % of a full-batch epoch). The training loop writes each mini-batch straight
    /// into the network instead of into a batch of its own, and loads a full batch once and
    /// reuses it for every step; the numbers are the same, so are the bits.
    ///
    /// # Panics
    /// If the input does not have the n_in columns the first layer expects.
    pub fn forward_from_input(&mut self, training: bool) -> &Matrix {
        self.training = training;
        let mut l = 0;
        while l < self.layers.len() {
            // values[l] is read while values[l + 1] is written: split the list between them.
            let (before, after) = self.values.split_at_mut(l + 1);
            // A dense layer followed by an entry-by-entry activation computes Z and A = f(Z)
            // in one pass (`Dense::forward_activated`, the same bits as the two layers in turn).
            if let (Layer::Dense(dense), Some(&Layer::Activation(f))) =
                (&self.layers[l], self.layers.get(l + 1))
            {
                if f.is_entrywise() {
                    let (z, a) = after.split_at_mut(1);
                    dense.forward_activated(&mut z[0], &mut a[0], &before[l], f);
                    l += 2;
                    continue;
                }
            }
            self.layers[l].forward(&mut after[0], &before[l], training);
            l += 1;
        }
        self.output()
    }

    /// [`Network::forward`] one layer at a time, as the formula `Aˡ⁺¹ = layerₗ(Aˡ)` reads: the
    /// reference the tests hold `forward` (which runs each dense layer and its activation in
    /// one pass) to, bit for bit.
    pub fn forward_reference(&mut self, x: &Matrix, training: bool) -> &Matrix {
        self.training = training;
        self.take_input(x);
        for l in 0..self.layers.len() {
            let (before, after) = self.values.split_at_mut(l + 1);
            self.layers[l].forward(&mut after[0], &before[l], training);
        }
        self.output()
    }

    /// `values[0] ← X`, first swapping in the buffers of the last pass with X's number of rows.
    ///
    /// Training that evaluates a test set after every epoch alternates between two batch sizes
    /// (800 and 200 rows for circles). With one set of buffers, each switch back to the larger
    /// size regrows every value matrix and fills the new part with zeros before the layers
    /// overwrite it (for sine, 24 000 numbers per epoch, about a seventh of the instructions of
    /// an epoch with a test set); with two sets, each size keeps its own and nothing is refilled.
    fn take_input(&mut self, x: &Matrix) {
        self.input_mut(x.rows()).copy_from(x);
    }

    /// The input `values[0]` for a batch of `rows` rows, to be overwritten whole before
    /// [`Network::forward_from_input`] (with `Matrix::copy_from` or `Matrix::select_rows_into`,
    /// which also set its shape): first the buffers of the last pass with that many rows are
    /// swapped in (see `take_input`). It holds that pass's input, or, if no pass had that many
    /// rows, some other input of another shape.
    pub fn input_mut(&mut self, rows: usize) -> &mut Matrix {
        if rows != self.values[0].rows() {
            std::mem::swap(&mut self.values, &mut self.other_values);
        }
        &mut self.values[0]
    }

    /// `ŷ` for `x` in inference mode, as a new matrix.
    pub fn predict(&mut self, x: &Matrix) -> Matrix {
        self.forward(x, false).clone()
    }

    /// Backpropagation from `d_output = ∂L/∂ŷ` through every layer, the output activation too,
    /// in the reverse order of forward. Each layer's parameter gradients are overwritten.
    ///
    /// # Panics
    /// If `d_output` is not the shape of the last `ŷ`.
    pub fn backward(&mut self, d_output: &Matrix) {
        let last = self.layers.len();
        self.assert_gradient_shape(d_output, last, "backward");
        self.gradients[last].copy_from(d_output);
        self.backward_from(last);
    }

    /// Backpropagation from the output error `dZ = ∂L/∂Z` of the last layer, skipping the output
    /// activation (whose derivative the paired loss has already folded in; see `loss.rs`).
    ///
    /// # Panics
    /// If the network does not end with an activation, or `dz` is not the shape of the last `Z`.
    pub fn backward_from_output_error(&mut self, dz: &Matrix) {
        let start = self.seed_output_error(dz);
        self.backward_from(start);
    }

    /// Stores the output error `dZ` as the gradient below the output activation and returns that
    /// activation's index, where backward starts.
    fn seed_output_error(&mut self, dz: &Matrix) -> usize {
        let last = self.layers.len();
        assert!(
            matches!(self.layers[last - 1], Layer::Activation(_)),
            "backward_from_output_error: the network must end with an activation"
        );
        self.assert_gradient_shape(dz, last - 1, "backward_from_output_error");
        self.gradients[last - 1].copy_from(dz);
        last - 1
    }

    /// Runs `layers[start − 1], …, layers[0]` backward, given `gradients[start]`.
    ///
    /// A dense layer whose input is the output of an entry-by-entry activation runs that
    /// activation's backward too, in the same pass (`Dense::backward_activated`): the bits of
    /// the layer-at-a-time loop (`backward_from_reference`).
    fn backward_from(&mut self, start: usize) {
        let mut l = start;
        while l > 0 {
            let dense = l - 1; // the layer to run now
            let fused = match (self.layers.get(dense), dense.checked_sub(1)) {
                (Some(Layer::Dense(_)), Some(below)) => match self.layers[below] {
                    // The activation's gradient is needed unless it is the first layer.
                    Layer::Activation(f)
                        if f.is_entrywise() && (below > 0 || self.input_gradient) =>
                    {
                        Some(f)
                    }
                    _ => None,
                },
                _ => None,
            };
            let (Some(f), Layer::Dense(layer)) = (fused, &mut self.layers[dense]) else {
                self.backward_one(dense);
                l -= 1;
                continue;
            };
            // gradients[dense − 1] (dZ below) and gradients[dense] (dA) are written while
            // gradients[dense + 1] (this layer's dZ) is read.
            let (lower, upper) = self.gradients.split_at_mut(dense);
            let (da, dz) = upper.split_at_mut(1);
            let inputs = (&dz[0], &self.values[dense], &self.values[dense - 1]);
            layer.backward_activated(&mut lower[dense - 1], &mut da[0], inputs, f);
            l -= 2;
        }
    }

    /// [`Network::backward_from_output_error`] one layer at a time, as
    /// `dAˡ = layerₗ.backward(dAˡ⁺¹)` reads: the reference the tests hold the fused passes (a
    /// dense layer together with the activation below it) to, bit for bit.
    ///
    /// # Panics
    /// As [`Network::backward_from_output_error`].
    pub fn backward_from_output_error_reference(&mut self, dz: &Matrix) {
        let start = self.seed_output_error(dz);
        self.backward_from_reference(start);
    }

    /// Runs `layers[start − 1], …, layers[0]` backward one at a time.
    fn backward_from_reference(&mut self, start: usize) {
        for l in (0..start).rev() {
            self.backward_one(l);
        }
    }

    /// Runs `layers[l]` backward, given `gradients[l + 1]`.
    fn backward_one(&mut self, l: usize) {
        // gradients[l + 1] is read while gradients[l] is written.
        let (before, after) = self.gradients.split_at_mut(l + 1);
        let d_input = if l > 0 || self.input_gradient {
            Some(&mut before[l])
        } else {
            None
        };
        self.layers[l].backward(
            d_input,
            &after[0],
            &self.values[l],
            &self.values[l + 1],
            self.training,
        );
    }

    fn assert_gradient_shape(&self, gradient: &Matrix, slot: usize, operation: &str) {
        assert!(
            gradient.shape() == self.values[slot].shape(),
            "{operation}: the gradient is {:?} but the value it belongs to is {:?}",
            gradient.shape(),
            self.values[slot].shape()
        );
    }

    /// Calls `f(index, kind, parameter, gradient)` for every parameter tensor, in stack order
    /// (`W¹, b¹, W², b², …`, with `γ, β` where batch normalisation sits). Optimizers use it to
    /// apply updates; `index` numbers the tensors from 0 so they can keep per-tensor state.
    pub fn for_each_parameter(
        &mut self,
        mut f: impl FnMut(usize, ParameterKind, &mut Matrix, &Matrix),
    ) {
        let mut index = 0;
        for layer in &mut self.layers {
            match layer {
                Layer::Dense(dense) => {
                    f(index, ParameterKind::Weights, &mut dense.w, &dense.dw);
                    f(index + 1, ParameterKind::Biases, &mut dense.b, &dense.db);
                    index += 2;
                }
                Layer::BatchNorm(norm) => {
                    f(index, ParameterKind::Gamma, &mut norm.gamma, &norm.d_gamma);
                    f(index + 1, ParameterKind::Beta, &mut norm.beta, &norm.d_beta);
                    index += 2;
                }
                Layer::Activation(_) | Layer::Dropout(_) => {}
            }
        }
    }

    /// The kind of each parameter tensor, in the order of [`Network::for_each_parameter`].
    pub fn parameter_kinds(&self) -> Vec<ParameterKind> {
        let mut kinds = Vec::new();
        for layer in &self.layers {
            match layer {
                Layer::Dense(_) => kinds.extend([ParameterKind::Weights, ParameterKind::Biases]),
                Layer::BatchNorm(_) => kinds.extend([ParameterKind::Gamma, ParameterKind::Beta]),
                Layer::Activation(_) | Layer::Dropout(_) => {}
            }
        }
        kinds
    }

    /// `‖dWˡ‖` for each dense layer l of the last backward pass: how strongly the loss pulls on
    /// each layer's weights. Orders of magnitude between neighbours signal vanishing or exploding
    /// gradients.
    pub fn gradient_norms(&self) -> Vec<f64> {
        self.dense_layers().map(|dense| dense.dw.norm()).collect()
    }

    /// `‖Wˡ‖` for each dense layer.
    pub fn weight_norms(&self) -> Vec<f64> {
        self.dense_layers().map(|dense| dense.w.norm()).collect()
    }

    /// Freezes (or unfreezes) every dropout mask, so repeated training-mode forward passes see the
    /// same network: gradient checks need this.
    pub fn freeze_dropout_masks(&mut self, frozen: bool) {
        for layer in &mut self.layers {
            if let Layer::Dropout(dropout) = layer {
                dropout.frozen = frozen;
            }
        }
    }
}

/// `n` written in superscript digits, for layer numbers: `superscript(12)` is `"¹²"`.
pub fn superscript(n: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}

impl Network {
    /// A name for each parameter tensor in the order of [`Network::for_each_parameter`]:
    /// `W¹, b¹, W², b², …`, with `γ¹, β¹` for the first batch-normalisation layer.
    pub fn parameter_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let (mut dense, mut norms) = (0, 0);
        for layer in &self.layers {
            match layer {
                Layer::Dense(_) => {
                    dense += 1;
                    names.push(format!("W{}", superscript(dense)));
                    names.push(format!("b{}", superscript(dense)));
                }
                Layer::BatchNorm(_) => {
                    norms += 1;
                    names.push(format!("γ{}", superscript(norms)));
                    names.push(format!("β{}", superscript(norms)));
                }
                Layer::Activation(_) | Layer::Dropout(_) => {}
            }
        }
        names
    }
}
