//! The dense (fully connected) layer: `Z = X·W + b`.
//!
//! Every input unit connects to every output unit with its own weight. For a batch of n samples:
//!
//! ```text
//! X  (n × n_in)     the layer's input, one sample per row
//! W  (n_in × n_out) weights: W[p, j] connects input p to output j
//! b  (1 × n_out)    biases, added to every row
//! Z  (n × n_out)    Z = X·W + b
//! ```
//!
//! # Backward
//!
//! Given the upstream gradient `dZ = ∂L/∂Z`, the chain rule through `Z = X·W + b` gives
//!
//! ```text
//! dW = Xᵀ·dZ        each weight's gradient sums, over the samples, input × output error
//! db = Σ_rows dZ    the bias is added to every row, so its gradient sums over the rows
//! dX = dZ·Wᵀ        each input reaches every output through its row of W
//! ```
//!
//! The `1/n` of the mean loss is already inside `dZ` (see `loss.rs`), so no division appears here.
//!
//! Why `Xᵀ·dZ`, and not `dZ·Xᵀ`? The shapes narrow it down. `dW` must have the shape of `W`,
//! n_in × n_out, and be made of `X` (n × n_in) and `dZ` (n × n_out), each used once:
//!
//! ```text
//! Xᵀ·dZ   (n_in × n)·(n × n_out) → n_in × n_out   the shape of W
//! dZᵀ·X   (n_out × n)·(n × n_in) → n_out × n_in   its transpose
//! dZ·Xᵀ   (n × n_out)·(n_in × n)                  only if n_out = n_in; then n × n
//! X·dZᵀ   (n × n_in)·(n_out × n)                  only if n_in = n_out; then n × n
//! ```
//!
//! Only `Xᵀ·dZ` is n_in × n_out for every layer. Shapes alone can be fooled by a square layer
//! (n_in = n_out, where `dZᵀ·X` fits too, and `dZ·Xᵀ` as well when n = n_in), so the index form
//! settles it. Forward is `Z[i,j] = Σ_p X[i,p]·W[p,j] + b[j]`: the weight `W[p,j]` appears in
//! column j of `Z` only, once per sample i, multiplied by `X[i,p]`, so `∂Z[i,j]/∂W[p,j] = X[i,p]`
//! and the chain rule sums over the samples:
//!
//! ```text
//! dW[p,j] = Σ_i X[i,p]·dZ[i,j] = Σ_i Xᵀ[p,i]·dZ[i,j] = (Xᵀ·dZ)[p,j]
//! dX[i,p] = Σ_j dZ[i,j]·W[p,j] = Σ_j dZ[i,j]·Wᵀ[j,p] = (dZ·Wᵀ)[i,p]
//! db[j]   = Σ_i dZ[i,j]                                (b[j] is added to every row)
//! ```
//!
//! Each sample adds its input times its output error, one outer product `X[i,:]ᵀ·dZ[i,:]` per
//! row, and a sample whose input `X[i,p]` is 0 adds nothing to row p of `dW` (exercise 2).
//!
//! # How the code maps onto the math
//!
//! [`Dense::forward`] is `Z = X·W + b` and [`Dense::backward`] the three lines above, each a
//! named operation of the engine: `kernels::affine` for `X·W + b`, `kernels::weight_gradients`
//! for `dW` with `db`, `kernels::matmul_t` for `dX` (their plain definitions are the loops of
//! `matrix.rs`). Two of the book's equations join a layer with its activation, and the calls
//! take them whole when the network asks: forward `A = f(X·W + b)` (`then = Some((f, A))`), and
//! backward BP2 below, `dZ_below = (dZ·Wᵀ) ⊙ f′(Z_below)` ([`Below::Activation`]).
//!
//! Where the layer is followed by an activation `A = f(Z)`, the `dZ` it receives was made by
//! `dZ = dA ⊙ f′(Z)` (`activation.rs`), and the `dX` it returns is the `dA` of the layer before.
//!
//! Readers of Nielsen's *Neural Networks and Deep Learning* will know these as the four equations
//! BP1–BP4. His δ is our `dZ`, and his matrices are the transpose of ours: he stores one sample
//! per **column** and `wˡ` as (n_out × n_in), we store one sample per **row** and `W` as
//! (n_in × n_out), so that `Z = X·W + b` works on a whole batch at once.
//!
//! ```text
//! Nielsen (one sample, columns)            here (a batch, rows)
//! BP1  δᴸ = ∇ₐC ⊙ σ′(zᴸ)                  dZ = dA ⊙ f′(Z)       for the last layer
//! BP2  δˡ = ((wˡ⁺¹)ᵀ·δˡ⁺¹) ⊙ σ′(zˡ)        dX = dZ·Wᵀ, then dZ = dA ⊙ f′(Z) one layer down
//! BP3  ∂C/∂bˡ = δˡ                         db = Σ_rows dZ        (the sum runs over the batch)
//! BP4  ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ·δˡⱼ                dW = Xᵀ·dZ            (X is the previous A)
//! ```
//!
//! This layer **computes** `dW` and `db` and stores them; it never changes `W` or `b`. Applying
//! the gradients is the optimizer's job (`optim.rs`), a separate step, so gradients can be
//! checked, printed and plotted before anything moves.
//!
//! `backward` **overwrites** `dW` and `db` each step. micrograd and llm.c accumulate with `+=`
//! instead, because in a general computation graph one parameter can be used twice and its
//! gradient is then the sum of both uses; in a plain stack of layers each `W` is used once, so
//! overwriting is correct and spares a zeroing pass.
//!
//! # Initialisation
//!
//! Weights start random. If they started equal, every unit of a layer would compute the same
//! value and receive the same gradient, and the units would stay clones forever. All zero is
//! worse still: with ReLU or tanh every `Z` and `A` above the input is 0, so `dX = dZ·Wᵀ` is 0
//! below the top layer and `dW = Xᵀ·dZ` is 0 in every layer (`X` is 0 above the first layer,
//! `dZ` is 0 in it): only the last layer's bias ever moves.
//!
//! How large should the random weights be? Follow the mean square of the signal through one
//! layer, `Z = X·W + b`. Take one unit of one sample, with `b = 0` as at the start, and weights
//! that are independent of each other and of the inputs, with mean 0 and variance `σ²` (σ is
//! the weights' standard deviation here, not the sigmoid):
//!
//! ```text
//! z = Σ_p x_p·w_p                                  p = 1 … n_in
//!
//! each term:   E[x_p·w_p]  = E[x_p]·E[w_p] = 0
//!              E[(x_p·w_p)²] = E[x_p²]·E[w_p²] = E[x²]·σ²
//! two terms:   E[x_p·w_p·x_q·w_q] = E[x_p·x_q]·E[w_p]·E[w_q] = 0       (p ≠ q)
//!
//! so the n_in variances add:
//!              Var(z) = n_in · σ² · E[x²]                                    (1)
//! ```
//!
//! It is `E[x²]`, the mean square, not `Var(x)`: the inputs need not have mean 0, and after a
//! ReLU they do not. And `z` is symmetric about 0 whatever `x` is (flipping the sign of every
//! `w` gives the same distribution), so its mean is 0 and `Var(z) = E[z²]`.
//!
//! The activation `A = f(Z)` decides what the next layer receives. ReLU keeps the positive half
//! of a symmetric `z` and zeroes the rest; tanh is `tanh z ≈ z` near 0 and flattens towards ±1:
//!
//! ```text
//! ReLU:   relu(z)² is z² where z > 0 and 0 where z ≤ 0; a symmetric z puts half of E[z²]
//!         on each side, so   E[relu(z)²] = ½·E[z²] = ½·Var(z)   and
//!              E[a²] = ½ · n_in · σ² · E[x²]                                 (2)
//! tanh:   E[a²] ≈ n_in · σ² · E[x²]   while z stays small;   E[a²] < 1 always
//!
//! L ReLU layers:   E[(Aᴸ)²] = (½ · n_in · σ²)ᴸ · E[x²]
//! ```
//!
//! A factor per layer, raised to the depth: anything but 1 vanishes or explodes. With
//! n_in = 256 the factor is 128·σ², so `σ = 0.01` gives 0.0128 per layer (10⁻¹⁹ after ten
//! layers) and `σ = 1` gives 128 (10²¹). Setting it to 1 is He's initialisation:
//!
//! ```text
//! He:   ½ · n_in · σ² = 1   ⇒   σ² = 2 / n_in,   W ~ Normal(0, √(2 / n_in))
//! ```
//!
//! The gradient goes the other way, through `dX = dZ·Wᵀ`: one input's gradient
//! `dx_p = Σ_j dz_j·W[p, j]` sums over the n_out units the input feeds. The same argument,
//! with the weights independent of `dZ` (true only approximately, since `dZ` was computed
//! through `W`, but close for wide layers at the start), gives
//!
//! ```text
//! Var(dX) = n_out · σ² · E[dZ²]                                              (3)
//! dZ = dA ⊙ f′(Z):   ReLU′ is 1 on half the units and 0 on the rest, so E[dZ²] = ½·E[dA²];
//!                    tanh′ ≈ 1 near 0, so E[dZ²] ≈ E[dA²]
//!
//! forward keeps its size when   g · n_in  · σ² = 1      g = ½ for ReLU, ≈ 1 for tanh
//! backward keeps its size when  g · n_out · σ² = 1
//! ```
//!
//! Both hold only when n_in = n_out. Glorot and Bengio, working with tanh (g ≈ 1), take the
//! harmonic mean of the two wishes, `1/n_in` and `1/n_out`:
//!
//! ```text
//! Glorot:   σ² = 2 / (n_in + n_out),   W ~ Normal(0, √(2 / (n_in + n_out)))
//!           (= 1/n when n_in = n_out = n: exactly right for a layer that is linear near 0)
//! ```
//!
//! He's choice, made for the forward pass, multiplies the gradient by n_out/n_in per layer; over
//! a stack the widths cancel (each layer's n_out is the next one's n_in), so the gradient at the
//! input differs from the one at the top by the fixed ratio of the first and last widths, not
//! by a power of the depth. Glorot's choice behind a ReLU halves the mean square at every layer
//! (g = ½, n·σ² = 1): 2⁻¹⁰ ≈ 10⁻³ after ten layers. Hence [`Init::for_activation`]: He for ReLU
//! and its relatives, Glorot for tanh and the rest, and `b = 0` for both.
//!
//! `cargo run -- plot initialisation` draws all of this for ten layers of 256 units fed 1,000
//! unit-variance inputs (`plot/initialisation.rs`): `E[(Aˡ)²]` and `E[(dAˡ)²]` layer by layer
//! for all weights 0, `σ = 0.01`, `σ = 1`, He and Glorot, behind ReLU and behind tanh. With
//! ReLU the measured factor per layer is 0.0126, 126, 0.98 and 0.49 against (2)'s 0.0128, 128,
//! 1 and 0.5. With tanh, `σ = 1` saturates (`E[a²]` ≈ 0.95 in every layer) while the gradient
//! grows about ×9 per layer on its way down: (3) multiplies by `n_out·σ² = 256`, and although
//! most units sit where tanh′ is nearly 0, `E[tanh′(Z)²]` ≈ 0.034 is still far above 1/256.
//! `tests/initialisation.rs` checks these numbers against (1)–(3).
//!
//! # Exercises
//!
//! 1. *The sign of `db²`.* `cargo run -- demo xor` prints, in its forward part,
//!    `ŷ = (0.5000, 0.6702, 0.7257, 0.8489)` for `y = (0, 1, 1, 0)`. From these alone, predict
//!    the sign of `db²` in the first step, and which way the update `b² ← b² − η·db²` with η = 2
//!    moves every prediction; then read the demo's `db²` and `b² after` (the test
//!    `dense_sign_of_db2_in_the_first_demo_step` computes them).
//! 2. *`dW = Xᵀ·dZ` by additions.* The demo prints `dZ¹` (4 × 3) and `X` =
//!    (0,0), (0,1), (1,0), (1,1). With `dW[p,j] = Σ_i X[i,p]·dZ[i,j]`, predict both rows of `dW¹`
//!    using additions only. Which sample adds nothing to `dW¹`? Compare with the demo's `dW¹`
//!    (test `dense_weight_gradient_rows_by_the_index_form`).
//! 3. *When shapes cannot tell.* In [`Dense::backward`], after the line
//!    `kernels::weight_gradients(x, dz, &mut self.dw, &mut self.db);`, add
//!    `self.dw = dz.matmul_t(x);` (that is, `dW = dZ·Xᵀ`). Predict what `cargo run -- demo xor`
//!    does. Then run
//!    `cargo test --test exercises_foundations dense_shapes_cannot_tell_dw_from_dz_times_x_transpose_in_a_square_layer`,
//!    which first checks a 3 → 3 softmax layer on 3 samples: what does it report?
//!
//! <details><summary>Answers</summary>
//!
//! 1. Positive. `db² = Σ_rows dZ² = Σ_i (ŷᵢ − yᵢ)/4`, the mean of ŷ minus the mean of y:
//!    0.6862 − 0.5 > 0, because the untrained network says "class 1" too often on average. The
//!    demo prints `db² = 0.186192`, and `b²` goes from 0 to 0 − 2·0.186192 = −0.3724, which
//!    lowers `Z²` and so every prediction ŷ by the same shift before the sigmoid.
//! 2. `X[i,0]` is 1 for the samples (1,0) and (1,1), rows 3 and 4; `X[i,1]` for (0,1) and (1,1),
//!    rows 2 and 4. So row 1 of `dW¹` is row 3 + row 4 of `dZ¹`,
//!    (0.044149 − 0.048193, −0.005909 + 0.053382, −0.062693 + 0.196196)
//!    = (−0.004044, 0.047473, 0.133503), and row 2 is row 2 + row 4,
//!    (0.051848 − 0.048193, −0.042940 + 0.053382, −0.059933 + 0.196196)
//!    = (0.003655, 0.010442, 0.136263), as the demo prints. Sample 1, the point (0, 0), adds
//!    nothing to `dW¹` although its row of `dZ¹` is large, (−0.122328, 0.091894, 0.124821): a
//!    weight's gradient is its input times the error, and this input is 0. It still reaches
//!    `db¹ = Σ_rows dZ¹`.
//! 3. The demo stops at once: the first layer backward meets is layer 2, with `dZ²` 4 × 1 and
//!    `X = A¹` 4 × 3, and `dZ·Xᵀ` needs the same number of columns in both. It panics with
//!    `… A is 4×1 and B is 4×3; they need the same number of columns`: here the shapes caught
//!    the mistake. In a 3 → 3 layer fed 3 samples, `dZ·Xᵀ` is 3 × 3 like `W`; nothing panics,
//!    and only the gradient check sees it: `W¹: relative error 1.7e0`. Shapes rule out most
//!    wrong formulas; the index form (or a gradient check) proves the right one. Remove the line.
//!
//! </details>

use crate::activation::Activation;
use crate::kernels;
use crate::matrix::Matrix;
use crate::rng::Rng;

/// How the weights of a dense layer are drawn: `W ~ Normal(0, σ)`, with σ from the layer's
/// size so that signals and gradients keep their size from layer to layer (the module docs,
/// "Initialisation", derive both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// He et al. 2015: `σ = √(2/n_in)`. A ReLU halves the mean square it passes on, and a layer
    /// multiplies it by `n_in·σ²`, so `σ² = 2/n_in` keeps `E[a²]` the same in every layer.
    He,
    /// Glorot & Bengio 2010: `σ = √(2/(n_in + n_out))`. For an activation with `f′(0) = 1`, the
    /// forward pass wants `σ² = 1/n_in` and the backward pass `σ² = 1/n_out`; this `σ²` is the
    /// harmonic mean of the two.
    Glorot,
}

impl Init {
    /// The initialisation suited to the activation that follows the layer: He for ReLU, leaky
    /// ReLU and swish, which pass on about half the mean square of a symmetric `z`; Glorot for
    /// the rest (tanh and identity are `f(z) ≈ z` near 0, as Glorot assumes; sigmoid and softmax
    /// take it by convention).
    pub fn for_activation(activation: Activation) -> Init {
        match activation {
            Activation::Relu | Activation::LeakyRelu { .. } | Activation::Swish => Init::He,
            _ => Init::Glorot,
        }
    }

    /// σ, the standard deviation of the initial weights of an `n_in × n_out` layer: `√(2/n_in)`
    /// for He, `√(2/(n_in + n_out))` for Glorot.
    pub fn std_dev(&self, n_in: usize, n_out: usize) -> f64 {
        match self {
            Init::He => (2.0 / n_in as f64).sqrt(),
            Init::Glorot => (2.0 / (n_in + n_out) as f64).sqrt(),
        }
    }
}

/// A fully connected layer `Z = X·W + b` with its parameters and their last gradients.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Weights `W`, n_in × n_out.
    pub w: Matrix,
    /// Biases `b`, 1 × n_out.
    pub b: Matrix,
    /// `dW = ∂L/∂W` from the last backward pass, n_in × n_out.
    pub dw: Matrix,
    /// `db = ∂L/∂b` from the last backward pass, 1 × n_out.
    pub db: Matrix,
}

impl Dense {
    /// A layer with random weights (see [`Init`]) and zero biases.
    pub fn new(n_in: usize, n_out: usize, init: Init, rng: &mut Rng) -> Dense {
        trace!("dense.rs Dense::new");
        let w = Matrix::random_normal(n_in, n_out, 0.0, init.std_dev(n_in, n_out), rng);
        Dense::from_parameters(w, Matrix::zeros(1, n_out))
    }

    /// A layer with the given weights `W` (n_in × n_out) and biases `b` (1 × n_out).
    ///
    /// # Panics
    /// If `b` is not 1 × n_out.
    pub fn from_parameters(w: Matrix, b: Matrix) -> Dense {
        assert!(
            b.shape() == (1, w.cols()),
            "Dense: W is {:?} so b must be (1, {}), not {:?}",
            w.shape(),
            w.cols(),
            b.shape()
        );
        let (n_in, n_out) = w.shape();
        Dense {
            dw: Matrix::zeros(n_in, n_out),
            db: Matrix::zeros(1, n_out),
            w,
            b,
        }
    }

    /// Number of inputs, `n_in`.
    pub fn n_in(&self) -> usize {
        self.w.rows()
    }

    /// Number of outputs, `n_out`.
    pub fn n_out(&self) -> usize {
        self.w.cols()
    }

    /// Number of parameters: `n_in·n_out + n_out`.
    pub fn parameter_count(&self) -> usize {
        self.n_in() * self.n_out() + self.n_out()
    }

    /// Forward through the layer: `Z ← X·W + b` for `X` (n × n_in), so `Z` is n × n_out. Nothing
    /// is cached here: backward needs `X`, which the network keeps.
    ///
    /// With `then = Some((f, A))`, where `f` is the entry-by-entry activation that follows the
    /// layer, also `A ← f(Z)`: the layer and its activation together, `A = f(X·W + b)`, one named
    /// operation of the engine (`kernels::affine_then`), which applies `f` to each block of rows
    /// of `Z` as soon as it is formed. Either way `Z` is `X·W + b` to the last bit.
    ///
    /// # Panics
    /// If `X` does not have n_in columns, or `f` is softmax.
    pub fn forward(&self, z: &mut Matrix, x: &Matrix, then: Option<(Activation, &mut Matrix)>) {
        trace!("dense.rs Dense::forward");
        match then {
            None => kernels::affine(x, &self.w, &self.b, z),
            Some((f, a)) => {
                let apply = |z: &[f64], a: &mut [f64]| f.forward_entries(z, a);
                kernels::affine_then(x, &self.w, &self.b, (z, a), apply)
            }
        }
    }

    /// Backward through the layer, given its output error `dZ` (n × n_out) and the input `X`
    /// (n × n_in) the forward pass saw: stores `dW = Xᵀ·dZ` and `db = Σ_rows dZ`, and writes the
    /// gradient below as `below` asks (see [`Below`]): nothing for the first layer, `dX = dZ·Wᵀ`,
    /// or, when `X` is the output `A = f(Z)` of an activation, `dA = dZ·Wᵀ` and that activation's
    /// `dZ_below = dA ⊙ f′(Z)` too (BP2).
    ///
    /// `dW` and `db` are overwritten, not added to (see the module docs for why that is right
    /// here).
    ///
    /// # Panics
    /// If `dZ` is not n × n_out or `X` is not n × n_in for the same n, or `Below::Activation`'s
    /// `Z` is not the shape of `X` or its `f` is softmax.
    pub fn backward(&mut self, below: Below<'_>, dz: &Matrix, x: &Matrix) {
        trace!("dense.rs Dense::backward");
        self.assert_backward_shapes(dz, x);
        // Forward was Z = X·W + b, that is Z[i,j] = Σ_p X[i,p]·W[p,j] + b[j]. W[p,j] meets
        // X[i,p] once per sample i, so dW[p,j] = Σ_i X[i,p]·dZ[i,j]: dW = Xᵀ·dZ (n_in × n_out,
        // the shape of W; see "Backward" in the module docs for why not dZ·Xᵀ).
        // b[j] is added to every row, so db[j] = Σ_i dZ[i,j]: db = Σ_rows dZ (1 × n_out).
        kernels::weight_gradients(x, dz, &mut self.dw, &mut self.db);
        // X[i,p] reaches every Z[i,j] through W[p,j], so dX[i,p] = Σ_j dZ[i,j]·W[p,j]: dX = dZ·Wᵀ.
        match below {
            Below::Nothing => {}
            Below::Input(dx) => kernels::matmul_t(dz, &self.w, dx),
            Below::Activation { f, z, da, dz_below } => {
                assert!(
                    z.shape() == x.shape() && f.is_entrywise(),
                    "Dense backward: Z below is {:?} and A is {:?} for {}",
                    z.shape(),
                    x.shape(),
                    f.name()
                );
                // X is A = f(Z) of the layer below, so dZ_below = dA ⊙ f′(Z) with dA = dX.
                let (z, a) = (z.as_slice(), x.as_slice());
                let apply = |entries: std::ops::Range<usize>, da: &mut [f64], dz: &mut [f64]| {
                    f.backward_entries(dz, da, &z[entries.clone()], &a[entries]);
                };
                kernels::matmul_t_then(dz, &self.w, (da, dz_below), apply)
            }
        }
    }

    fn assert_backward_shapes(&self, dz: &Matrix, x: &Matrix) {
        assert!(
            dz.rows() == x.rows() && dz.cols() == self.n_out() && x.cols() == self.n_in(),
            "Dense backward: dZ is {:?} and X is {:?} for a {}→{} layer",
            dz.shape(),
            x.shape(),
            self.n_in(),
            self.n_out()
        );
    }
}

/// What [`Dense::backward`] writes below the layer.
#[derive(Debug)]
pub enum Below<'m> {
    /// Nothing: the first layer, whose input is the data (no gradient of `X` is needed).
    Nothing,
    /// `dX = dZ·Wᵀ`, into this matrix.
    Input(&'m mut Matrix),
    /// The layer's input `X` is the output `A = f(Z)` of an entry-by-entry activation `f`:
    /// `dA = dZ·Wᵀ` into `da`, and then `dZ_below = dA ⊙ f′(Z)` into `dz_below`, the activation's
    /// backward in the same pass (Nielsen's BP2).
    Activation {
        /// The activation below.
        f: Activation,
        /// Its input `Z`, as the forward pass left it.
        z: &'m Matrix,
        /// `dA = dZ·Wᵀ`, the gradient of the activation's output (this layer's `dX`).
        da: &'m mut Matrix,
        /// `dZ_below = dA ⊙ f′(Z)`, the gradient of the activation's input.
        dz_below: &'m mut Matrix,
    },
}
