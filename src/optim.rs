//! Optimizers: how the gradients that backward computed become a change of the parameters.
//!
//! Backward leaves `dW = ∂L/∂W` beside every `W` and changes nothing; the optimizer is the second,
//! separate step that moves the parameters. Keeping them apart is what lets gradients be checked
//! and printed before anything moves. For every parameter tensor `W` with gradient `dW`, at step
//! t (counting from 1), with learning rate η:
//!
//! ```text
//! sgd        W ← W − η·dW
//! momentum   v ← μ·v + dW                    W ← W − η·v            (μ = 0.9)
//!  nesterov  v ← μ·v + dW                    W ← W − η·(dW + μ·v)   (look one step ahead)
//! rmsprop    s ← ρ·s + (1 − ρ)·dW²           W ← W − η·dW / (√s + ε)          (ρ = 0.9)
//! adam       m ← β₁·m + (1 − β₁)·dW          (β₁ = 0.9, β₂ = 0.999, ε = 1e-8)
//!            v ← β₂·v + (1 − β₂)·dW²
//!            m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)          (undo the pull towards the zero start)
//!            W ← W − η·m̂ / (√v̂ + ε)
//! ```
//! (`dW²` and the division are entry by entry.) Momentum follows the form PyTorch uses, so the
//! numbers can be compared with it.
//!
//! Before the rule is applied, the gradient may be changed in two ways, clipping first:
//!
//! ```text
//! clipping          g = √(Σ over all tensors ‖dW‖²)      (of the gradients backward left)
//!                   if g > c:  dW ← dW · c/g   for every tensor (one global norm, so the
//!                                           direction of the whole step is kept)
//! L2 weight decay   dW ← dW + λ·W          (the gradient of (λ/2)·‖W‖² added to the loss;
//!                                           weights only: biases and γ, β are not decayed)
//! ```
//! so the rule sees `dW · min(1, c/g) + λ·W`; the decay term is not clipped. The learning rate
//! may follow a schedule over the epochs (see [`Schedule`]).
//!
//! # Why these constants
//!
//! Each running average `a ← β·a + (1 − β)·g` weighs the gradient of k steps ago by
//! `(1 − β)·βᵏ`: weights that sum to 1 and fall to 1/e of the newest one's after about
//! `1/(1 − β)` steps. So `1/(1 − β)` is roughly how many recent steps it remembers.
//!
//! - **Momentum μ = 0.9.** The velocity is a sum of the last ~1/(1 − μ) = 10 gradients. Along a
//!   direction where the gradient keeps its sign it grows to `dW/(1 − μ)`, ten times the plain
//!   step; along one where the sign alternates (the zigzag across a steep valley) its terms
//!   cancel. Ten steps are enough to cancel a zigzag and few enough to turn when the slope does.
//! - **RMSprop ρ = 0.9.** `s` is the mean of the last ~10 squared gradients, so the scale each
//!   entry is divided by follows its gradient's size within about ten steps. RMSprop has no bias
//!   correction: `s` starts at 0, so the first step is `η·dW/√((1 − ρ)·dW²) = η/√(1 − ρ)` per
//!   entry, 3.2·η; a longer memory would make it larger (31.6·η for ρ = 0.999).
//! - **Adam β₁ = 0.9.** `m` averages the last ~10 gradients: the direction, as momentum keeps it.
//! - **Adam β₂ = 0.999.** `v` averages the last ~1000 squared gradients, so the scale each step is
//!   divided by changes slowly, and the steps keep a steady size while their direction turns. An
//!   average that slow starts far too small (at t = 1, `v = 0.001·dW²`), which is what the bias
//!   correction repairs: `v̂ = v/(1 − β₂ᵗ) = dW²` at t = 1 (and `m̂ = dW`).
//! - **ε = 1e-8** (RMSprop and Adam) is there only so that an entry whose gradient has always
//!   been exactly 0 takes the step 0/ε = 0 instead of 0/0. It is far below the typical `√v̂`, the
//!   size of a gradient entry: for an entry of size 10⁻⁴ it shortens the step by one part in 10⁴.
//!   It only takes over for gradients that are rounding noise (`batch_norm.rs`, exercise 1).
//!
//! These are the values of Kingma & Ba (2015) for Adam and the customary ones for the others.
//!
//! # How large may η be?
//!
//! Near a minimum `w*` the loss is close to a quadratic, `L ≈ L(w*) + ½·(w − w*)ᵀ·H·(w − w*)`,
//! with `H` the Hessian (the second derivatives). Along an eigenvector of `H` with eigenvalue λ,
//! the curvature in that direction, and with w now the distance from `w*` along it:
//!
//! ```text
//! L = ½·λ·w²,   dL/dw = λ·w,   so one step of gradient descent is
//! w ← w − η·λ·w = (1 − η·λ)·w,   and after t steps w is (1 − η·λ)ᵗ times what it was.
//!
//! 0 < η·λ < 1    w shrinks, keeping its sign: the loss creeps down
//! η·λ = 1        one step lands on the minimum
//! 1 < η·λ < 2    w changes sign at every step and shrinks: a damped oscillation
//! η·λ > 2        w changes sign and grows: the loss grows by (η·λ − 1)² per step
//! ```
//!
//! Every direction must shrink, and the steepest decides: gradient descent is stable only for
//! `η < 2/λ_max`. Beyond it the iterates oscillate with growing amplitude, whatever the other
//! directions do; the learning-rates figure (`cargo run -- plot learning-rates`) shows it on
//! sine. And η so bounded moves the flattest direction by at most a factor
//! `1 − 2·λ_min/λ_max` per step: when the ratio `λ_max/λ_min` is large, gradient descent is slow.
//!
//! With momentum the step remembers the last one, `wₜ₊₁ = (1 + μ − η·λ)·wₜ − μ·wₜ₋₁`, and
//! the same question (do both roots r of `r² − (1 + μ − η·λ)·r + μ = 0` lie inside the unit
//! circle?) gives `η < 2·(1 + μ)/λ_max`: for μ = 0.9, 3.8/λ_max (exercise 2). Adam divides each
//! entry's step by the entry's own gradient size, so its steps have size about η whatever the
//! curvature (exercise 3), and this bound does not apply to it as it stands.
//!
//! # Exercises
//!
//! 1. **Where gradient descent breaks.** (a) Without hidden layers, sine's network is
//!    `ŷ = x·w + b` and its loss `L = (1/n)·Σ (x·w + b − y)²` is exactly a quadratic in (w, b),
//!    with the Hessian `H = 2·[[mean x², mean x], [mean x, 1]]` (means over the training rows).
//!    The x are spread evenly over [−2π, 2π]: estimate mean x², mean x, λ_max and the largest
//!    stable η. Then run
//!    `cargo run -- train sine --hidden none --batch-size 0 --optimizer sgd --lr 0.07`, and again
//!    with `--lr 0.077` and `--lr 0.08`.
//!
//!    (b) Now sine's own network, `1 → 20 tanh → 20 tanh → 1`, trained by plain SGD on batches
//!    of 32: starting from `cargo run -- train sine --optimizer sgd --lr 0.1`, raise η until
//!    training breaks (a learning rate given with `--lr` stays constant). Is the limit where 1(a)
//!    would put it?
//! 2. **Momentum's limit.** Derive the bound `η < 2·(1 + μ)/λ_max` stated above: write `wₜ₊₁`
//!    with `wₜ` and `wₜ₋₁`, and use that `wₜ₊₁ = a·wₜ − μ·wₜ₋₁` with 0 < μ < 1 dies out
//!    exactly when `|a| < 1 + μ`. Compute it for the quadratic of 1(a) with μ = 0.9, then run the
//!    command of 1(a) with `--optimizer momentum --lr 0.145`, and with `--lr 0.15`.
//! 3. **Adam's first step.** `cargo run -- train sine --optimizer adam --lr 0.01 --batch-size 0
//!    --epochs 1` takes one step on the network `1 → 20 → 20 → 1`, and `out/sine/history.csv`
//!    records the gradient norms `grad_norm_l` (2.36, 4.09 and 2.54) and the step's
//!    `update_norm_l = ‖ΔWˡ‖`. Predict the three `update_norm` before opening the file.
//!
//! <details><summary>Answers</summary>
//!
//! 1. (a) Over [−2π, 2π], mean x² ≈ (2π)²/3 = 13.16 and mean x ≈ 0, so λ_max ≈ 2·13.16 = 26.3 (the
//!    other eigenvalue ≈ 2) and η < 2/26.3 = 0.076. The 400 training rows, a random four fifths
//!    of the 500 points, have mean x² = 12.794 and mean x = −0.088: λ_max = 25.59, λ_min = 2.00,
//!    and the limit is 2/25.59 = 0.0782. At η = 0.07 the loss reaches its minimum, 0.4141, by
//!    epoch 60. At 0.077, inside but close, `1 − η·λ_max = −0.970`: along the steep direction the
//!    error flips sign and shrinks only 3% a step, so epoch 60 is still at 0.7699 and 0.4141
//!    comes by epoch 300. At 0.08 the loss grows by `(η·λ_max − 1)² = 1.096` per step, to
//!    1.110e13 in epoch 300 (and 1.217e13 = 1.096 × 1.110e13 in the summary, one step later),
//!    although the flat direction (λ_min = 2) alone would converge: one direction beyond the
//!    limit is enough.
//!
//!    (b) 0.14 trains and 0.15 diverges (`error: training diverged in epoch 34`), about twice
//!    the linear model's limit. The network's loss is not a quadratic, but near any weights it
//!    is close to one whose Hessian changes as the weights move. The test
//!    `optim_sine_network_settles_where_eta_is_below_two_over_lambda_max` measures its largest
//!    eigenvalue: 43.6 at the initial weights, where only η < 0.046 would be safe, and 13.2 after
//!    300 epochs at η = 0.14, just below 2/η = 14.3. The first steps overshoot and carry the
//!    weights to flatter places, and training at a constant η goes on where `η < 2/λ_max` only
//!    just holds (Cohen et al. 2021 call it the edge of stability). At 0.15 the first epoch
//!    already throws the loss to 68132.3851, and no flatter place is found before the numbers
//!    overflow. At 0.14 the loss still jumps: the last epoch's running loss is 0.0213, the
//!    trained network's 0.1146.
//! 2. The step is `wₜ₊₁ = wₜ − η·vₜ₊₁` with `vₜ₊₁ = μ·vₜ + λ·wₜ`, and
//!    `η·vₜ = wₜ₋₁ − wₜ`, so `wₜ₊₁ = (1 + μ − η·λ)·wₜ − μ·wₜ₋₁`: with
//!    `a = 1 + μ − η·λ`, it dies out for `0 < η·λ < 2·(1 + μ)`. Here η < 3.8/25.59 = 0.1485,
//!    nearly twice plain SGD's 0.0782. At 0.145 the loss reaches 0.4141; at 0.15 it
//!    ends at 4.937e42. Along the flat direction a steady gradient builds the velocity to
//!    `dW/(1 − μ)`, so momentum at η = 0.145 moves there like plain SGD at 1.45: that, not the
//!    steep direction, is where it gains.
//! 3. At t = 1, `m̂ = dW` and `v̂ = dW²`, so every entry moves by `η·dW/(|dW| + ε) ≈ ±η`, whatever
//!    its gradient: `‖ΔW¹‖ = η·√20 = 0.04472136`, `‖ΔW²‖ = η·√400 = 0.2` and `‖ΔW³‖ = η·√20`,
//!    although the gradient norms differ. The file has 0.04472130…, 0.19999993… and
//!    0.04472136…, a little short where some gradient entries are small enough for ε to count.
//!    Adam's η is a step length in the units of the weights, not a multiple of the gradient,
//!    which is why it is usually far smaller than plain SGD's (sine's default 0.01, against the
//!    0.1 of exercise 1b).
//!
//! </details>

use crate::kernels;
use crate::matrix::Matrix;
use crate::network::{Network, ParameterKind};

/// An update rule and its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// Plain gradient descent.
    Sgd,
    /// Gradient descent with a velocity that remembers past steps.
    Momentum {
        /// μ, how much of the velocity is kept each step.
        momentum: f64,
        /// Use Nesterov's look-ahead form.
        nesterov: bool,
    },
    /// Divide each gradient entry by a running root mean square of its recent values.
    RmsProp {
        /// ρ, the decay of the running mean of dW².
        decay: f64,
        /// ε, keeps the division finite.
        epsilon: f64,
    },
    /// Momentum and RMSprop together, with bias correction (Kingma & Ba 2015).
    Adam {
        /// β₁, the decay of the first moment.
        beta1: f64,
        /// β₂, the decay of the second moment.
        beta2: f64,
        /// ε, keeps the division finite.
        epsilon: f64,
    },
}

impl Rule {
    /// The rules by their command-line names.
    pub const NAMES: [&'static str; 5] = ["sgd", "momentum", "nesterov", "rmsprop", "adam"];

    /// The rule named `name` with its usual hyper-parameters (why these values: the module
    /// docs, "Why these constants").
    pub fn from_name(name: &str) -> Option<Rule> {
        Some(match name {
            "sgd" => Rule::Sgd,
            "momentum" => Rule::Momentum {
                momentum: 0.9,
                nesterov: false,
            },
            "nesterov" => Rule::Momentum {
                momentum: 0.9,
                nesterov: true,
            },
            "rmsprop" => Rule::RmsProp {
                decay: 0.9,
                epsilon: 1e-8,
            },
            "adam" => Rule::Adam {
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
            },
            _ => return None,
        })
    }

    /// The rule's command-line name.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Sgd => "sgd",
            Rule::Momentum {
                nesterov: false, ..
            } => "momentum",
            Rule::Momentum { nesterov: true, .. } => "nesterov",
            Rule::RmsProp { .. } => "rmsprop",
            Rule::Adam { .. } => "adam",
        }
    }
}

/// How the learning rate changes over the epochs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// `ηₑ = η` for every epoch e.
    Constant,
    /// `ηₑ = η · factor^⌊e / every⌋`: drop by `factor` every `every` epochs.
    Step {
        /// Epochs between drops.
        every: usize,
        /// Multiplier at each drop, e.g. 0.5.
        factor: f64,
    },
    /// `ηₑ = η · rateᵉ`: a little smaller every epoch.
    Exponential {
        /// Multiplier per epoch, e.g. 0.999.
        rate: f64,
    },
}

impl Schedule {
    /// The learning rate at epoch `epoch` (counting from 0) for a base rate `lr`.
    pub fn learning_rate(&self, lr: f64, epoch: usize) -> f64 {
        match *self {
            Schedule::Constant => lr,
            Schedule::Step { every, factor } => lr * factor.powi((epoch / every.max(1)) as i32),
            Schedule::Exponential { rate } => lr * rate.powi(epoch as i32),
        }
    }
}

/// An optimizer: a rule, a learning rate and its schedule, the optional L2 decay and clipping,
/// and the per-tensor state (velocities, moments) the rule keeps between steps.
#[derive(Clone, Debug)]
pub struct Optimizer {
    /// The update rule.
    pub rule: Rule,
    /// The base learning rate η.
    pub lr: f64,
    /// L2 weight decay λ (0 for none).
    pub l2: f64,
    /// Clip the global gradient norm to this value (None: never clip).
    pub clip: Option<f64>,
    /// How η changes with the epoch.
    pub schedule: Schedule,
    /// The learning rate in force, after the schedule.
    current_lr: f64,
    /// Steps taken so far, `t` of Adam's bias correction.
    step_count: u64,
    /// Per tensor: momentum's `v`, RMSprop's `s`, Adam's `m`.
    first_state: Vec<Matrix>,
    /// Per tensor: Adam's `v`.
    second_state: Vec<Matrix>,
    /// Per tensor: `‖ΔW‖` of the last step.
    update_norms: Vec<f64>,
    /// The global gradient norm before clipping, of the last step.
    last_gradient_norm: f64,
}

impl Optimizer {
    /// An optimizer with no decay, no clipping and a constant learning rate.
    pub fn new(rule: Rule, lr: f64) -> Optimizer {
        Optimizer {
            rule,
            lr,
            l2: 0.0,
            clip: None,
            schedule: Schedule::Constant,
            current_lr: lr,
            step_count: 0,
            first_state: Vec::new(),
            second_state: Vec::new(),
            update_norms: Vec::new(),
            last_gradient_norm: 0.0,
        }
    }

    /// Sets the learning rate for `epoch` from the schedule.
    pub fn start_epoch(&mut self, epoch: usize) {
        self.current_lr = self.schedule.learning_rate(self.lr, epoch);
    }

    /// The learning rate in force.
    pub fn current_lr(&self) -> f64 {
        self.current_lr
    }

    /// `‖ΔW‖` of each parameter tensor in the last step, in the order of
    /// [`Network::for_each_parameter`].
    pub fn update_norms(&self) -> &[f64] {
        &self.update_norms
    }

    /// The global gradient norm `√(Σ ‖dW‖²)` of the last step, before clipping.
    pub fn last_gradient_norm(&self) -> f64 {
        self.last_gradient_norm
    }

    /// Applies one update to every parameter of `network` from the gradients its last backward
    /// pass stored (clipped, then decayed, then the rule; see the module docs), and records
    /// `‖ΔW‖` per tensor. The network's gradients are read, never changed.
    ///
    /// The formulas, one entry at a time, are in `Update::entry` below; the engine's named
    /// operation `kernels::update` runs them over every entry of a tensor.
    pub fn step(&mut self, network: &mut Network) {
        trace!("optim.rs Optimizer::step");
        self.step_count += 1;
        let clip_scale = self.clip_scale(network);
        let lr = self.current_lr;
        let weight_decay = self.l2;
        let rule = self.rule;
        let t = self.step_count as i32;
        // Adam's bias corrections `1 − β₁ᵗ` and `1 − β₂ᵗ` are the same for every parameter of
        // this step: computed once here rather than once per entry.
        let (bias_correction1, bias_correction2) = match rule {
            Rule::Adam { beta1, beta2, .. } => (1.0 - beta1.powi(t), 1.0 - beta2.powi(t)),
            _ => (1.0, 1.0),
        };
        let first_state = &mut self.first_state;
        let second_state = &mut self.second_state;
        let update_norms = &mut self.update_norms;
        network.for_each_parameter(|index, kind, w, dw| {
            if first_state.len() <= index {
                first_state.push(Matrix::zeros(w.rows(), w.cols()));
                second_state.push(Matrix::zeros(w.rows(), w.cols()));
                update_norms.push(0.0);
            }
            let l2 = if kind == ParameterKind::Weights {
                weight_decay
            } else {
                0.0
            };
            let update = Update {
                rule,
                lr,
                clip_scale,
                l2,
                bias_corrections: (bias_correction1, bias_correction2),
            };
            let states = (
                first_state[index].as_mut_slice(),
                second_state[index].as_mut_slice(),
            );
            update_norms[index] = update.apply(w.as_mut_slice(), dw.as_slice(), states);
        });
    }

    /// `min(1, c/g)` for the global gradient norm g, or 1 without clipping.
    fn clip_scale(&mut self, network: &mut Network) -> f64 {
        let mut total = 0.0;
        network.for_each_parameter(|_, _, _, dw| total += dw.norm_squared());
        self.last_gradient_norm = total.sqrt();
        match self.clip {
            Some(c) if self.last_gradient_norm > c => c / self.last_gradient_norm,
            _ => 1.0,
        }
    }
}

/// One tensor's update: the rule and the numbers that are the same for all its entries.
#[derive(Clone, Copy)]
struct Update {
    rule: Rule,
    lr: f64,
    clip_scale: f64,
    l2: f64,
    /// Adam's `(1 − β₁ᵗ, 1 − β₂ᵗ)`.
    bias_corrections: (f64, f64),
}

impl Update {
    /// The step `ΔW[e]` of entry `e`, updating the rule's state (`s1`, `s2`) for that entry: the
    /// formulas of the module docs, one entry at a time, as a learner reads them.
    #[inline(always)]
    fn entry(&self, w: f64, dw: f64, s1: &mut f64, s2: &mut f64) -> f64 {
        let lr = self.lr;
        // g = dW·min(1, c/‖g‖) + λ·W: clipped gradient, then the L2 term.
        let g = self.clip_scale * dw + self.l2 * w;
        match self.rule {
            Rule::Sgd => lr * g,
            Rule::Momentum { momentum, nesterov } => {
                *s1 = momentum * *s1 + g;
                if nesterov {
                    lr * (g + momentum * *s1)
                } else {
                    lr * *s1
                }
            }
            Rule::RmsProp { decay, epsilon } => {
                *s1 = decay * *s1 + (1.0 - decay) * g * g;
                lr * g / (s1.sqrt() + epsilon)
            }
            Rule::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                let (bias_correction1, bias_correction2) = self.bias_corrections;
                *s1 = beta1 * *s1 + (1.0 - beta1) * g;
                *s2 = beta2 * *s2 + (1.0 - beta2) * g * g;
                let m_hat = *s1 / bias_correction1;
                let v_hat = *s2 / bias_correction2;
                lr * m_hat / (v_hat.sqrt() + epsilon)
            }
        }
    }

    /// `W ← W − ΔW` for every entry of one tensor, and `‖ΔW‖` (`kernels::update`).
    fn apply(&self, w: &mut [f64], dw: &[f64], states: (&mut [f64], &mut [f64])) -> f64 {
        // Each arm names its rule inside the closure, as a constant, so that the `match` in
        // `entry` is settled when compiling, once, instead of once per entry.
        // The numbers every entry's step shares, as a value the closure carries.
        let shared = *self;
        macro_rules! with_rule {
            ($rule:expr) => {
                kernels::update(w, dw, states, move |w, dw, s1, s2| {
                    let update = Update {
                        rule: $rule,
                        ..shared
                    };
                    update.entry(w, dw, s1, s2)
                })
            };
        }
        match self.rule {
            Rule::Sgd => with_rule!(Rule::Sgd),
            Rule::Momentum { momentum, nesterov } => {
                with_rule!(Rule::Momentum { momentum, nesterov })
            }
            Rule::RmsProp { decay, epsilon } => with_rule!(Rule::RmsProp { decay, epsilon }),
            Rule::Adam {
                beta1,
                beta2,
                epsilon,
            } => with_rule!(Rule::Adam {
                beta1,
                beta2,
                epsilon
            }),
        }
    }
}
