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
//! Why keep every value: each layer's backward needs what its forward saw, the input `X` for
//! `dW = Xᵀ·dZ`, `Z` for `f′(Z)`, dropout's mask, batch normalisation's `X̂`. Holding all of them
//! from forward until backward is the memory price of backpropagation: one matrix per step of the
//! stack, as many rows as the batch. And why backward runs in reverse: a layer can compute its
//! gradients only once it has the gradient of its output, and that comes from the layer above,
//! so the chain rule starts at the loss and walks down.
//!
//! Backward usually starts one step early: with the paired loss and output activation, the loss
//! gives the output error `dZᴸ = (ŷ − y)/n` directly (`2·(ŷ − y)/n` for the MSE; see
//! `loss.rs`), so [`Network::backward_from_output_error`] skips the last activation. The
//! shortcut saves a pass, and it stays finite where the long way would divide by `ŷ(1 − ŷ)` of a
//! saturated sigmoid.
//! [`Network::backward`] starts from `∂L/∂ŷ` and goes through it; the tests check that both agree.
//!
//! In docs and printed output a superscript numbers the dense layers: `W¹`, `b¹` and `Z¹` belong
//! to the first, `A¹ = f(Z¹)` is its activation.
//!
//! Backward writes every gradient afresh each step rather than adding to what was there: in a
//! stack each value and each parameter is used exactly once, so there is nothing to accumulate
//! (see `dense.rs` for when `+=` would be needed). So the optimizer always sees this step's
//! gradient and nothing older, and there is no zeroing pass to forget (micrograd's
//! `zero_grad()`; exercise 2 shows what forgetting it would do).
//!
//! Two pairs of neighbours are one equation of the book, and the loops take them together: a
//! dense layer and the entry-by-entry activation after it, `A = f(X·W + b)` forward
//! (`Dense::forward` with `Some((f, A))`), and backward a dense layer and the activation below
//! it, `dZ_below = (dZ·Wᵀ) ⊙ f′(Z)`, Nielsen's BP2 (`Dense::backward` with `Below::Activation`).
//! Every value and gradient is still stored, and each is exactly what running the layers one at
//! a time gives (`tests/engine.rs` compares them bit for bit).
//!
//! # Exercises
//!
//! 1. **Through a stack of sigmoids.** Backward multiplies the gradient, layer by layer, by `Wᵀ`
//!    and by `f′(Z)`, and the sigmoid's slope `σ′(z) = σ(z)·(1 − σ(z))` is at most 1/4, at z = 0.
//!    Predict by about what factor `‖dWˡ‖` shrinks from each layer to the one below it in
//!    `cargo run -- train circles --hidden 8,8,8,8,8 --activation sigmoid --epochs 1` (the line
//!    `gradients` at the end). Run it, and again with `--activation tanh`, whose slope at 0 is 1.
//! 2. **Backward twice.** micrograd adds every gradient into `.grad` with `+=` and must zero it
//!    before each backward pass; this network overwrites. The test
//!    `network_backward_twice_gives_the_same_gradients` runs XOR forward once through
//!    `2 → 3 tanh → 1 sigmoid`, then backward twice. Predict `‖dW¹‖` after the second backward
//!    against the first, and run `cargo test --test exercises_training network_backward_twice
//!    -- --nocapture`. Then: if backward added instead and nobody zeroed, what would training do?
//!
//! <details><summary>Answers</summary>
//!
//! 1. From `‖dW⁶‖ 1.1e-2` down to `‖dW¹‖ 7.0e-6`, a factor of 6.6e-4 over five layers: 0.23 per
//!    layer, close to the sigmoid's 1/4. The pre-activations start near 0, where σ′ is largest
//!    (the mean σ′(Z) of the five hidden layers is 0.238, 0.243, 0.234, 0.220, 0.244), and
//!    Glorot's scale keeps the `Wᵀ` factor near 1, so the slope is what is left. With tanh the six
//!    norms stay between 2.8e-2 and 1.1e-1. Deep in a sigmoid stack the first layers learn
//!    hundreds of times more slowly than the last: the vanishing gradient, and why hidden layers
//!    use tanh or ReLU.
//! 2. The same, 0.136579 both times, to the last bit: backward writes the gradients afresh. Adding
//!    without zeroing, the gradient at step t would be the sum of all t gradients so far, and
//!    `W ← W − η·Σ dW` is momentum with μ = 1: a velocity that forgets nothing. By the optimizer
//!    chapter's analysis its two roots then have `|r| = √μ = 1`, so near a minimum it circles
//!    without ever settling, and far from one its steps keep growing.
//!
//! </details>

use crate::activation::Activation;
use crate::batch_norm::BatchNorm;
use crate::dense::{Below, Dense, Init};
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
    /// in layer order; each dropout layer gets a generator forked from it, so that the masks it
    /// draws during training come from a stream of its own, fixed by the seed, and not from a
    /// generator shared with anything else.
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
        self.input_for_batch(x.rows()).copy_from(x);
        self.forward_from_input(training)
    }

    /// [`Network::forward`] on the input already in place: `values[0]` as the last pass left it,
    /// or as the caller wrote it through [`Network::input_for_batch`] (the training loop writes
    /// each mini-batch straight into the network instead of copying it there from a batch of its
    /// own).
    ///
    /// ```text
    /// A⁰ = X;   Aˡ⁺¹ = layerₗ(Aˡ) for each layer in order, or, for a dense layer followed by an
    ///           entry-by-entry activation f, Zˡ⁺¹ = Aˡ·W + b and Aˡ⁺² = f(Zˡ⁺¹) in one call
    /// ```
    ///
    /// # Panics
    /// If the input does not have the n_in columns the first layer expects.
    pub fn forward_from_input(&mut self, training: bool) -> &Matrix {
        trace!("network.rs Network::forward");
        self.training = training;
        let mut l = 0;
        while l < self.layers.len() {
            // values[l] is read while values[l + 1] (and values[l + 2]) are written.
            let (before, after) = self.values.split_at_mut(l + 1);
            let x = &before[l];
            let activation_next = match self.layers.get(l + 1) {
                Some(&Layer::Activation(f)) if f.is_entrywise() => Some(f),
                _ => None,
            };
            match (&mut self.layers[l], activation_next) {
                (Layer::Dense(dense), Some(f)) => {
                    let (z, a) = after.split_at_mut(1);
                    dense.forward(&mut z[0], x, Some((f, &mut a[0])));
                    l += 2;
                }
                (layer, _) => {
                    layer.forward(&mut after[0], x, training);
                    l += 1;
                }
            }
        }
        self.output()
    }

    /// The input `X` of the next forward pass, for a batch of `rows` rows, to be overwritten whole
    /// (with `Matrix::copy_from` or `Matrix::select_rows_into`, which also set its shape) before
    /// [`Network::forward_from_input`].
    ///
    /// The network keeps its values for two batch sizes, so that training, which alternates
    /// between its batches and the test set after every epoch, finds the matrices of each size
    /// where it left them instead of resizing them back and forth: asked for another number of
    /// rows than the last pass had, it first switches to the other set. The input returned holds
    /// whatever that set's last pass left there.
    pub fn input_for_batch(&mut self, rows: usize) -> &mut Matrix {
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
        trace!("network.rs Network::backward");
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
        trace!("network.rs Network::backward_from_output_error");
        let last = self.layers.len();
        assert!(
            matches!(self.layers[last - 1], Layer::Activation(_)),
            "backward_from_output_error: the network must end with an activation"
        );
        // dZ is the gradient of the output activation's input, values[last − 1].
        self.assert_gradient_shape(dz, last - 1, "backward_from_output_error");
        self.gradients[last - 1].copy_from(dz);
        self.backward_from(last - 1);
    }

    /// Runs `layers[start − 1], …, layers[0]` backward, given `gradients[start]`: each layer turns
    /// the gradient of its output into the gradient of its input, in the reverse order of forward.
    /// A dense layer whose input is the output of an entry-by-entry activation runs that
    /// activation's backward too, in the same call (BP2, `Below::Activation`).
    fn backward_from(&mut self, start: usize) {
        let mut l = start;
        while l > 0 {
            let layer = l - 1; // the layer to run now; gradients[l] is the gradient of its output
            let activation_below = match (layer.checked_sub(1), &self.layers[layer]) {
                // The activation's gradient is needed unless it is the first layer.
                (Some(below), Layer::Dense(_)) if below > 0 || self.input_gradient => {
                    match self.layers[below] {
                        Layer::Activation(f) if f.is_entrywise() => Some(f),
                        _ => None,
                    }
                }
                _ => None,
            };
            let (Some(f), Layer::Dense(dense)) = (activation_below, &mut self.layers[layer]) else {
                self.backward_one(layer);
                l -= 1;
                continue;
            };
            // gradients[layer − 1] (dZ below) and gradients[layer] (dA) are written while
            // gradients[layer + 1] (this layer's dZ) is read.
            let (lower, upper) = self.gradients.split_at_mut(layer);
            let (da, dz) = upper.split_at_mut(1);
            let below = Below::Activation {
                f,
                z: &self.values[layer - 1],
                da: &mut da[0],
                dz_below: &mut lower[layer - 1],
            };
            dense.backward(below, &dz[0], &self.values[layer]);
            l -= 2;
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
