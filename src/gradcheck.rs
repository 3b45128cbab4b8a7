//! Gradient checking: is backpropagation right? Compare it with the definition of a derivative.
//!
//! Backward computes every gradient with the chain rule, which is fast but easy to get wrong. The
//! definition of the derivative gives a slow, independent estimate: nudge one number θ up and down
//! by a small h and see how the loss moves.
//!
//! ```text
//! central difference   ∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h        error O(h²), h = 1e-5
//! relative error       |a − n| / max(|a|, |n|, 1e-8)             a: backprop, n: the estimate
//! ```
//!
//! In f64 a correct gradient agrees to a relative error around 1e-7 to 1e-10; a wrong derivative
//! is typically off by 1e-2 or more. The one-sided difference `(L(θ + h) − L(θ))/h` would have
//! error O(h), too coarse to tell the two apart reliably.
//!
//! # Choosing h
//!
//! A smaller h is not always better. Two errors pull in opposite directions:
//!
//! ```text
//! truncation  L(θ ± h) = L ± h·L′ + h²·L″/2 ± h³·L‴/6 + …, and the even terms
//!             cancel in (L(θ + h) − L(θ − h))/2h = L′ + h²·L‴/6 + …   error ∝ h²
//! rounding    each computed L is off by about ε·|L|, and the
//!             difference of the two is divided by 2h                  error ∝ ε/h
//! total       E(h) ≈ h²·|L‴|/6 + ε·|L|/h,
//!             smallest where E′(h) = 0, at h³ = 3ε·|L|/|L‴|
//! ```
//!
//! (ε = 2.2·10⁻¹⁶, the spacing of f64 numbers near 1.)
//!
//! For a loss and derivatives of ordinary size (|L|, |L‴| near 1) that is h ≈ ε^⅓ ≈ 6·10⁻⁶, and
//! the error there is about ε^⅔ ≈ 4·10⁻¹¹: [`DEFAULT_STEP`] is that h rounded to a power of ten,
//! 1e-5. The test `gradcheck_step_sweep_error_falls_then_rises` (`tests/exercises_foundations.rs`)
//! runs `backprop gradcheck --h` from 1e-2 to 1e-10 and sees both laws in the largest difference
//! `|a − e|` of XOR's `W¹`: it falls a hundredfold per tenfold smaller h down to 1e-4, is
//! smallest at 1e-5, and grows tenfold per tenfold smaller h from 1e-6 on, until at 1e-10 it is
//! nearly as large as at 1e-2.
//!
//! The same arithmetic sets [`TOLERANCE`]: with h = 1e-5 a correct gradient of size 10⁻² shows a
//! relative error of a few 10⁻⁹ (4·10⁻¹¹/10⁻²; XOR's `W¹` shows 1.1·10⁻⁹), and a derivative that
//! is wrong by 1 % shows 10⁻²; 1e-6 leaves a factor of a thousand on either side.
//!
//! Two cautions: ReLU has a kink at 0, where the two sides disagree, so checks keep inputs away
//! from it ([`distance_to_kink`], used by the command line, the demo and the tests alike); and
//! dropout must use the same mask on every evaluation (the network's masks are frozen during a
//! check).
//!
//! # Exercises
//!
//! 1. *Both sides of h.* Run `cargo run -- gradcheck --h 1e-2` and note the largest difference
//!    `max |a − e|` of `W¹`. Predict it for `--h 1e-3` and `--h 1e-4`, and run them. Then run
//!    `--h 1e-8`, predict `--h 1e-9`, and run it. From the two laws, at which h do the two
//!    errors of `W¹` meet, and how does that compare with ε^⅓? (The test
//!    `gradcheck_step_sweep_error_falls_then_rises` runs all nine steps from 1e-2 to 1e-10.)
//! 2. *Where a wrong derivative shows.* Make the sigmoid's derivative 1 % too large: in
//!    [`Activation::derivative`], write `Activation::Sigmoid => a * (1.0 - a) * 1.01,`. Predict
//!    which rows of `cargo run -- gradcheck --activation sigmoid` (2 → 4 sigmoid → 1 sigmoid)
//!    fail, and their relative error; run it, and
//!    `cargo test --test exercises_foundations gradcheck_a_one_percent_error_in_sigmoid_prime`.
//! 3. *Why central.* In [`central_differences`], replace the central difference by the one-sided
//!    one: `.map(|e| (loss_at(e, h) - loss_at(e, 0.0)) / h)`. Predict the relative errors of
//!    `cargo run -- gradcheck`, and the best h for this estimate; run it with that h too, then
//!    `cargo test --test exercises_foundations gradcheck_one_sided_differences_are_too_coarse`.
//!
//! <details><summary>Answers</summary>
//!
//! 1. `4.3e-6` at h = 1e-2, `4.3e-8` at 1e-3, `4.3e-10` at 1e-4: a tenth of the step, a
//!    hundredth of the error, the h² of truncation. `7.9e-9` at 1e-8 and `7.9e-8` at 1e-9: a tenth
//!    of the step, ten times the error, the ε/h of rounding. With c₁ = 4.3e-6/(1e-2)² = 0.043 and
//!    c₂ = 7.9e-9 · 1e-8 = 7.9e-17, the two meet where c₁·h² = c₂/h: h = (c₂/c₁)^⅓ ≈ 1.2e-5,
//!    next to ε^⅓ ≈ 6.1e-6 (|L‴| and |L| are not exactly 1). The sweep finds the smallest error
//!    at h = 1e-5 (`W¹`: relative 1.1e-9, absolute 7.3e-12); at 1e-2 (8.5e-4) and 1e-10 (2.1e-4)
//!    every tensor is more than a hundred times worse. At 1e-8 the command reports `W¹` as a
//!    failure (1.1e-6) although backpropagation is right: the estimate failed, not backward, and
//!    the error line says so (the step is small).
//! 2. `W¹`, `b¹` and `X` fail, each with `9.9e-3` = 0.01/1.01: every entry of `dZ¹ = dA¹ ⊙ σ′(Z¹)`
//!    is 1.01 times too large, and so are `dW¹ = Xᵀ·dZ¹`, `db¹` and `dX = dZ¹·W¹ᵀ`. `W²` and `b²`
//!    pass (`4.0e-11`, `1.9e-11`): backward computes them before it reaches the hidden sigmoid,
//!    and it never uses the output sigmoid's derivative at all, since it starts from the
//!    shortcut `dZ² = (ŷ − y)/n` (`loss.rs`). The test fails with
//!    `W¹: relative error 9.9e-3`. The same error in every entry points to a constant factor; the
//!    first layer from the top that fails points to where it sits. Put the line back.
//! 3. With h = 1e-5 every tensor fails: `W¹` 2.1e-4, `b¹` 9.0e-5, `W²` 6.1e-6, `b²` 1.5e-5,
//!    `X` 8.7e-5 (the test reports `worst relative error 2.1e-4`). The one-sided difference is
//!    `L′ + h·L″/2 + …`, an error ∝ h rather than h². Balanced against the rounding ε/h, its best
//!    step is h ≈ √ε ≈ 1.5e-8, and even there (`--h 1e-8`) `W¹` fails with 1.8e-6 (`b¹` 9.1e-7,
//!    `W²` 3.0e-7, `b²` 1.4e-7, `X` 2.2e-7 pass): its best error is about √ε ≈ 10⁻⁸, the central
//!    difference's ε^⅔ ≈ 10⁻¹¹. One more evaluation of the loss per number buys a thousandfold.
//!    Put the line back.
//!
//! </details>

use crate::activation::Activation;
use crate::layer::Layer;
use crate::loss::Loss;
use crate::matrix::Matrix;
use crate::network::Network;

/// The finite-difference step h: near ε^⅓ ≈ 6·10⁻⁶, where the central difference's truncation
/// error (∝ h²) and rounding error (∝ ε/h) are about equal and their sum is smallest (see
/// "Choosing h" in the module docs).
pub const DEFAULT_STEP: f64 = 1e-5;

/// The largest relative error a correct gradient is expected to show in f64: a thousand times
/// the 10⁻⁹ a correct gradient shows with h = 1e-5, a ten-thousandth of the 10⁻² a derivative
/// wrong by 1 % shows.
pub const TOLERANCE: f64 = 1e-6;

/// How far from 0 an input `z` of a kinked activation (ReLU, Leaky ReLU) must be for the
/// central difference to see one side of the kink only: far more than the step h = 1e-5, which
/// moves a pre-activation by about h·|input|.
pub const KINK_MARGIN: f64 = 1e-3;

/// For each row of the last forward pass, the smallest `|z|` that entered an activation with a
/// kink (ReLU and Leaky ReLU, whose slope jumps at z = 0), or ∞ when none did: a row whose
/// distance is below [`KINK_MARGIN`] sits at a kink, where the two one-sided slopes differ and
/// the central difference estimates neither.
pub fn distance_to_kink(network: &Network) -> Vec<f64> {
    let rows = network.values()[0].rows();
    let mut distance = vec![f64::INFINITY; rows];
    for (l, layer) in network.layers().iter().enumerate() {
        if let Layer::Activation(Activation::Relu | Activation::LeakyRelu { .. }) = layer {
            // values[l] is the activation's input Z.
            for (d, z_row) in distance.iter_mut().zip(
                network.values()[l]
                    .as_slice()
                    .chunks(network.values()[l].cols().max(1)),
            ) {
                *d = z_row.iter().fold(*d, |d, z| d.min(z.abs()));
            }
        }
    }
    distance
}

/// `|a − n| / max(|a|, |n|, 1e-8)`: the disagreement scaled by the size of the numbers, with a
/// floor so two gradients that are both essentially zero count as agreeing.
pub fn relative_error(analytic: f64, numeric: f64) -> f64 {
    trace!("gradcheck.rs relative_error");
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-8)
}

/// The central-difference estimate `(L(θₑ + h) − L(θₑ − h)) / 2h` for each of `count` numbers.
///
/// `loss_at(e, δ)` must return the loss with number `e` shifted by δ, and put it back afterwards.
pub fn central_differences(
    count: usize,
    h: f64,
    mut loss_at: impl FnMut(usize, f64) -> f64,
) -> Vec<f64> {
    trace!("gradcheck.rs central_differences");
    (0..count)
        .map(|e| (loss_at(e, h) - loss_at(e, -h)) / (2.0 * h))
        .collect()
}

/// One parameter tensor (or the input) checked: the two gradients and how far apart they are.
#[derive(Clone, Debug)]
pub struct GradientCheck {
    /// What was checked: `W¹`, `b²`, `γ¹`, or `X` for the input.
    pub name: String,
    /// The gradient backpropagation computed.
    pub analytic: Matrix,
    /// The central-difference estimate.
    pub numeric: Matrix,
    /// The largest relative error over the entries.
    pub max_relative_error: f64,
}

impl GradientCheck {
    fn new(name: String, analytic: Matrix, numeric: Vec<f64>) -> GradientCheck {
        let numeric = Matrix::from_vec(analytic.rows(), analytic.cols(), numeric);
        let max_relative_error = analytic
            .as_slice()
            .iter()
            .zip(numeric.as_slice())
            .map(|(&a, &n)| relative_error(a, n))
            .fold(0.0, f64::max);
        GradientCheck {
            name,
            analytic,
            numeric,
            max_relative_error,
        }
    }

    /// True when the largest relative error is within `tolerance`.
    pub fn passed(&self, tolerance: f64) -> bool {
        self.max_relative_error <= tolerance
    }
}

/// Which gradient backward starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The paired loss's output error `dZ = (ŷ − y)/n` (what training uses).
    OutputError,
    /// The general `∂L/∂ŷ`, passed back through the output activation too.
    LossGradient,
}

/// One training-mode forward and backward pass of `network` on `(x, y)`; the gradients are left
/// in the network (and its layers) and the loss is returned.
///
/// # Panics
/// If `x` or `y` do not fit the network, or (for [`Start::OutputError`]) the network does not
/// end with an activation.
pub fn forward_backward(
    network: &mut Network,
    loss: Loss,
    x: &Matrix,
    y: &Matrix,
    start: Start,
) -> f64 {
    let y_hat = network.forward(x, true);
    let value = loss.value(y_hat, y);
    let mut gradient = Matrix::zeros(0, 0); // (n_samples, n_out): dZ of the last layer, or ∂L/∂ŷ
    match start {
        Start::OutputError => {
            loss.output_error(&mut gradient, y_hat, y);
            network.backward_from_output_error(&gradient);
        }
        Start::LossGradient => {
            loss.gradient(&mut gradient, y_hat, y);
            network.backward(&gradient);
        }
    }
    value
}

/// Checks every parameter gradient of `network`, and the gradient with respect to the input `X`,
/// against central differences of `loss` on `(x, y)` in training mode.
///
/// For a network with P parameters and an input of E entries this costs 2·(P + E) + 1 forward
/// passes: fine for the small networks it is meant for, far too slow to train with.
///
/// Dropout masks are frozen for the check and unfrozen afterwards. The parameters, and batch
/// normalisation's running averages (which every training-mode pass moves), are left exactly as
/// they were.
///
/// # Panics
/// If `x` or `y` do not fit the network (see [`Network::forward`] and [`Loss::value`]).
pub fn check_network(
    network: &mut Network,
    loss: Loss,
    x: &Matrix,
    y: &Matrix,
    start: Start,
    h: f64,
) -> Vec<GradientCheck> {
    network.freeze_dropout_masks(true);
    let running_averages: Vec<(Matrix, Matrix)> = network
        .layers()
        .iter()
        .filter_map(|layer| match layer {
            Layer::BatchNorm(norm) => Some((norm.running_mean.clone(), norm.running_var.clone())),
            _ => None,
        })
        .collect();
    let keep_input_gradient = network.input_gradient;
    network.input_gradient = true;
    forward_backward(network, loss, x, y, start);

    let names = network.parameter_names();
    let mut analytic = Vec::new();
    network.for_each_parameter(|_, _, _, dw| analytic.push(dw.clone()));
    let input_analytic = network.gradients()[0].clone();

    let mut checks = Vec::new();
    for (index, (name, analytic)) in names.into_iter().zip(analytic).enumerate() {
        let count = analytic.as_slice().len();
        let numeric = central_differences(count, h, |entry, delta| {
            let mut original = 0.0;
            network.for_each_parameter(|i, _, w, _| {
                if i == index {
                    original = w.as_slice()[entry];
                    w.as_mut_slice()[entry] = original + delta;
                }
            });
            let value = loss.value(network.forward(x, true), y);
            network.for_each_parameter(|i, _, w, _| {
                if i == index {
                    w.as_mut_slice()[entry] = original;
                }
            });
            value
        });
        checks.push(GradientCheck::new(name, analytic, numeric));
    }

    let mut shifted = x.clone(); // X with one entry moved by ±h at a time
    let numeric = central_differences(x.as_slice().len(), h, |entry, delta| {
        shifted.as_mut_slice()[entry] = x.as_slice()[entry] + delta;
        let value = loss.value(network.forward(&shifted, true), y);
        shifted.as_mut_slice()[entry] = x.as_slice()[entry];
        value
    });
    checks.push(GradientCheck::new("X".to_string(), input_analytic, numeric));

    network.input_gradient = keep_input_gradient;
    network.freeze_dropout_masks(false);
    let norms = network
        .layers_mut()
        .iter_mut()
        .filter_map(|layer| match layer {
            Layer::BatchNorm(norm) => Some(norm),
            _ => None,
        });
    for (norm, (mean, var)) in norms.zip(running_averages) {
        norm.running_mean = mean;
        norm.running_var = var;
    }
    checks
}
