//! Diagnosis: noticing, in plain words, the ways training commonly goes wrong.
//!
//! Four problems show in the numbers a run already records:
//!
//! ```text
//! vanishing gradients   ‖dW¹‖ far below ‖dWᴸ‖: the chain rule multiplies one f′(Z) per layer,
//!                       and σ′ ≤ 0.25, so in a deep sigmoid net the early layers barely learn.
//!                       Flagged when the smallest layer's gradient norm is less than
//!                       VANISHING_RATIO (10⁻³) times the largest, in an earlier layer.
//! exploding gradients   a layer's gradient norm above EXPLODING_NORM (10³), or grown more
//!                       than EXPLODING_GROWTH-fold (10³) since the first epoch: steps too
//!                       large to stay stable.
//! dead ReLUs            a ReLU unit whose Z ≤ 0 for every training example outputs 0 and gets
//!                       f′ = 0, so no gradient ever reaches its weights again.
//! saturated units       a sigmoid or tanh unit whose output sits within 0.01 of its bounds on
//!                       most examples (here: 90 %) has f′ ≈ 0, and learns as slowly as a dead one.
//! ```
//!
//! [`Monitor`] watches the epochs as they come and reports each gradient problem once;
//! [`inspect_units`] looks at the trained network's hidden units on the training data.

use crate::activation::Activation;
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::network::{superscript, Network};
use crate::train::{EpochStats, History};
use std::fmt;

/// Smallest/largest layer gradient norm below which gradients are called vanishing.
pub const VANISHING_RATIO: f64 = 1e-3;

/// A layer gradient norm above which gradients are called exploding.
pub const EXPLODING_NORM: f64 = 1e3;

/// How many times a layer's gradient norm may grow since the first epoch before gradients are
/// called exploding (a ratio, where [`EXPLODING_NORM`] is a size).
pub const EXPLODING_GROWTH: f64 = 1e3;

/// Share of examples on which a sigmoid/tanh unit must be saturated to be reported.
pub const SATURATED_SHARE: f64 = 0.9;

/// One problem found, with the numbers that show it.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// Early layers get far smaller gradients than later ones.
    VanishingGradients {
        /// The epoch (from 1) where it was first seen.
        epoch: usize,
        /// The dense layer (from 1) with the smallest gradient norm.
        layer: usize,
        /// Its gradient norm divided by the largest layer's.
        ratio: f64,
    },
    /// Gradients grew very large.
    ExplodingGradients {
        /// The epoch (from 1) where it was first seen.
        epoch: usize,
        /// The dense layer (from 1) with the largest gradient norm.
        layer: usize,
        /// That gradient norm.
        norm: f64,
    },
    /// ReLU units that never activate on the training data.
    DeadRelus {
        /// The dense layer (from 1) whose activation it is.
        layer: usize,
        /// How many units are dead.
        dead: usize,
        /// How many units the layer has.
        units: usize,
    },
    /// Sigmoid or tanh units stuck at their bounds.
    SaturatedUnits {
        /// The dense layer (from 1) whose activation it is.
        layer: usize,
        /// `sigmoid` or `tanh`.
        activation: &'static str,
        /// How many units are saturated.
        saturated: usize,
        /// How many units the layer has.
        units: usize,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::VanishingGradients { epoch, layer, ratio } => write!(
                f,
                "vanishing gradients from epoch {epoch}: ‖dW{}‖ is {ratio:.1e} of the largest layer's, so the early layers barely learn; try relu, batch normalisation or fewer layers",
                superscript(*layer)
            ),
            Finding::ExplodingGradients { epoch, layer, norm } => write!(
                f,
                "exploding gradients in epoch {epoch}: ‖dW{}‖ reached {norm:.1e}; try a smaller --lr or --clip 1",
                superscript(*layer)
            ),
            Finding::DeadRelus { layer, dead, units } => write!(
                f,
                "{dead} of {units} relu units after layer {layer} never activate on the training data (dead: they get no gradient); try leaky_relu or a smaller --lr"
            ),
            Finding::SaturatedUnits {
                layer,
                activation,
                saturated,
                units,
            } => write!(
                f,
                "{saturated} of {units} {activation} units after layer {layer} are saturated (output within 0.01 of its bounds on most examples, so f′ ≈ 0); try standardised inputs or relu"
            ),
        }
    }
}

/// Watches the epochs of a run and reports each gradient problem the first time it appears.
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    first_norms: Option<Vec<f64>>,
    seen_vanishing: bool,
    seen_exploding: bool,
    findings: Vec<Finding>,
}

impl Monitor {
    /// A monitor that has seen nothing yet.
    pub fn new() -> Monitor {
        Monitor::default()
    }

    /// Looks at one epoch; returns the findings that are new with it.
    pub fn observe(&mut self, stats: &EpochStats) -> Vec<Finding> {
        let norms = &stats.gradient_norms;
        let mut new = Vec::new();
        if norms.is_empty() || norms.iter().any(|g| !g.is_finite()) {
            return new;
        }
        let first = self
            .first_norms
            .get_or_insert_with(|| norms.clone())
            .clone();
        let (largest_layer, largest) = arg_extreme(norms, |a, b| a > b);
        let (smallest_layer, smallest) = arg_extreme(norms, |a, b| a < b);
        if !self.seen_vanishing
            && norms.len() > 1
            && largest > 0.0
            && smallest_layer < largest_layer
            && smallest / largest < VANISHING_RATIO
        {
            self.seen_vanishing = true;
            new.push(Finding::VanishingGradients {
                epoch: stats.epoch,
                layer: smallest_layer + 1,
                ratio: smallest / largest,
            });
        }
        let grew = norms
            .iter()
            .zip(&first)
            .any(|(now, then)| *then > 0.0 && now / then > EXPLODING_GROWTH);
        if !self.seen_exploding && (largest > EXPLODING_NORM || grew) {
            self.seen_exploding = true;
            new.push(Finding::ExplodingGradients {
                epoch: stats.epoch,
                layer: largest_layer + 1,
                norm: largest,
            });
        }
        self.findings.extend(new.iter().cloned());
        new
    }

    /// Everything reported so far.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// The index and value of the entry that wins `better` against all others (first on ties).
fn arg_extreme(values: &[f64], better: impl Fn(f64, f64) -> bool) -> (usize, f64) {
    let mut best = (0, values[0]);
    for (i, &v) in values.iter().enumerate().skip(1) {
        if better(v, best.1) {
            best = (i, v);
        }
    }
    best
}

/// Dead ReLU and saturated sigmoid/tanh units among the hidden layers of `network`, judged by an
/// inference pass over `x` (the training inputs).
pub fn inspect_units(network: &mut Network, x: &Matrix) -> Vec<Finding> {
    network.forward(x, false);
    let layers = network.layers();
    let last_activation = layers.len() - 1;
    let mut findings = Vec::new();
    let mut dense_seen = 0;
    for (l, layer) in layers.iter().enumerate() {
        let f = match layer {
            Layer::Dense(_) => {
                dense_seen += 1;
                continue;
            }
            Layer::Activation(f) if l != last_activation => *f,
            _ => continue,
        };
        // values[l] is this activation's input Z, values[l + 1] its output A.
        let z = &network.values()[l];
        let a = &network.values()[l + 1];
        let (n, units) = z.shape();
        if n == 0 {
            continue;
        }
        match f {
            Activation::Relu => {
                let dead = (0..units)
                    .filter(|&j| (0..n).all(|i| z[(i, j)] <= 0.0))
                    .count();
                if dead > 0 {
                    findings.push(Finding::DeadRelus {
                        layer: dense_seen,
                        dead,
                        units,
                    });
                }
            }
            Activation::Sigmoid | Activation::Tanh => {
                let (low, high) = if f == Activation::Sigmoid {
                    (0.01, 0.99)
                } else {
                    (-0.99, 0.99)
                };
                let saturated = (0..units)
                    .filter(|&j| {
                        let stuck = (0..n)
                            .filter(|&i| a[(i, j)] <= low || a[(i, j)] >= high)
                            .count();
                        stuck as f64 >= SATURATED_SHARE * n as f64
                    })
                    .count();
                if saturated > 0 {
                    findings.push(Finding::SaturatedUnits {
                        layer: dense_seen,
                        activation: f.name(),
                        saturated,
                        units,
                    });
                }
            }
            _ => {}
        }
    }
    findings
}

/// Where the numbers of `network` first stopped being finite, in forward order, for the message
/// that stops a diverging run: `the parameters of layer 1 (W¹, b¹)`, `the output of layer 2
/// (Z²)`, or, when every number is still finite but the loss overflowed, `the loss (the largest
/// pre-activation, in Z², reached 3.1e154)`.
pub fn divergence_culprit(network: &Network) -> String {
    let values = network.values();
    let mut dense = 0;
    let mut largest = (0.0, String::new());
    for (l, layer) in network.layers().iter().enumerate() {
        if let Layer::Dense(d) = layer {
            dense += 1;
            if !d.w.is_finite() || !d.b.is_finite() {
                return format!(
                    "the parameters of layer {dense} (W{0}, b{0})",
                    superscript(dense)
                );
            }
            let z = &values[l + 1];
            if !z.is_finite() {
                return format!("the output of layer {dense} (Z{})", superscript(dense));
            }
            if z.max_abs() > largest.0 {
                largest = (z.max_abs(), format!("Z{}", superscript(dense)));
            }
        }
    }
    format!(
        "the loss (the largest pre-activation, in {}, reached {:.1e})",
        largest.1, largest.0
    )
}

/// Every finding of a finished run: the gradient problems its history shows (replayed through a
/// [`Monitor`]) and the dead or saturated units of the trained network on the inputs `x`.
pub fn diagnose_run(history: &History, network: &Network, x: &Matrix) -> Vec<Finding> {
    let mut monitor = Monitor::new();
    for stats in &history.epochs {
        monitor.observe(stats);
    }
    let mut findings = monitor.findings().to_vec();
    findings.extend(inspect_units(&mut network.clone(), x));
    findings
}
