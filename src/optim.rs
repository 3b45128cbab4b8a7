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
//! so the rule sees `dW · min(1, c/g) + λ·W`; the decay term is not clipped.
//!
//! and the learning rate may follow a schedule over the epochs (see [`Schedule`]).

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

    /// The rule named `name` with its usual hyper-parameters.
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
