//! Diagnosis: noticing, in plain words, the ways training commonly goes wrong.
//!
//! Four problems show in the numbers a run already records:
//!
//! ```text
//! vanishing gradients   ‖dW¹‖ far below ‖dWᴸ‖: the chain rule multiplies one f′(Z) per layer,
//!                       and σ′ ≤ 0.25, so in a deep sigmoid net the early layers barely learn.
//!                       Flagged when, two epochs running, the smallest layer's gradient norm
//!                       is less than VANISHING_RATIO (10⁻³) times the largest, in an earlier
//!                       layer.
//! exploding gradients   a layer's gradient norm grown more than EXPLODING_GROWTH-fold (10³)
//!                       over its own first epoch: steps that feed on themselves.
//! dead ReLUs            a ReLU unit whose Z ≤ 0 for every training example outputs 0 and gets
//!                       f′ = 0, so no gradient ever reaches its weights again.
//! saturated units       a sigmoid or tanh unit whose output sits within 0.01 of its bounds on
//!                       most examples (here: 90 %) has f′ ≈ 0, and learns as slowly as a dead one.
//! ```
//!
//! Both gradient tests compare gradients with gradients, never with a fixed size. The size of
//! `dW` follows the size of the output error, and so of the target: a regression on prices in the
//! hundreds has gradients in the hundreds from its first step, and is well behaved if they stay
//! there. Scaling the target by c scales every layer's `dW` by c, which leaves both a ratio between
//! layers and a growth over epochs unchanged. The first epoch is each layer's reference; a layer
//! whose first-epoch gradient was itself vanishing is measured from the vanishing threshold
//! instead (10⁻³ of the largest layer's then), so that a layer recovering from a vanishing start
//! is not mistaken for one that explodes: that growth is explained by the vanishing, which is
//! reported.
//!
//! The relative step `‖ΔWˡ‖/‖Wˡ‖` (also in `EpochStats`) does not tell an exploding run from a
//! healthy one: within an epoch of many mini-batch steps whose weights blow up, `‖Wˡ‖` at the
//! epoch's end has grown with the steps, so their mean is a small fraction of it, while a healthy
//! full-batch epoch with a large η can take a step half the size of its weights.
//!
//! One diagnosis explains the other: when one layer's gradient explodes, every other layer's
//! looks vanishingly small beside it (and the huge steps can saturate the units in front of it,
//! so their gradients really are 0). When both tests fire in the same epoch, only the explosion
//! is reported, and its message says that the vanishing follows from it; after an explosion,
//! vanishing is not reported at all. That is why vanishing must hold for two epochs: in a run that
//! explodes within its first epoch, the ratio is already tiny in epoch 1, and the growth that
//! shows the explosion can only be seen from epoch 2.
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

/// How many times a layer's gradient norm may grow over its first epoch's (its reference, see the
/// module docs) before gradients are called exploding.
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
    /// A layer's gradient grew far beyond its own start.
    ExplodingGradients {
        /// The epoch (from 1) where it was first seen.
        epoch: usize,
        /// The dense layer (from 1) whose gradient grew the most.
        layer: usize,
        /// Its gradient norm in that epoch divided by its reference: its first epoch's norm, or the
        /// vanishing threshold if that was lower (so at least this much over its first epoch).
        growth: f64,
        /// Its gradient norm in that epoch.
        norm: f64,
        /// When the same epoch also looked vanishing: the dense layer (from 1) with the smallest
        /// gradient norm, and that norm divided by `norm`. The explosion explains it.
        overshadowed: Option<(usize, f64)>,
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
            Finding::ExplodingGradients {
                epoch,
                layer,
                growth,
                norm,
                overshadowed,
            } => {
                write!(
                    f,
                    "exploding gradients in epoch {epoch}: ‖dW{}‖ grew {growth:.1e}-fold over its first epoch, to {norm:.1e}; try a smaller --lr or --clip 1",
                    superscript(*layer)
                )?;
                if let Some((small, ratio)) = overshadowed {
                    // A ratio that underflowed to 0 is said as such, not as "0.0e0 of it".
                    let share = if *ratio > 0.0 {
                        format!("only {ratio:.1e} of it")
                    } else {
                        "too small beside it to write as a fraction".to_string()
                    };
                    write!(
                        f,
                        " (this is also why ‖dW{}‖ is {share}: beside a layer that exploded every other looks vanishing, so that is not a problem of its own)",
                        superscript(*small)
                    )?;
                }
                Ok(())
            }
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

/// Watches the epochs of a run and reports each gradient problem the first time it appears, at
/// most one per epoch (see the module docs for which one).
#[derive(Clone, Debug, Default)]
pub struct Monitor {
    /// Each layer's reference norm: its first epoch's, floored at the vanishing threshold.
    reference: Option<Vec<f64>>,
    /// The vanishing seen in the epoch before, waiting for a second epoch: (epoch, layer, ratio).
    vanishing_candidate: Option<(usize, usize, f64)>,
    seen_vanishing: bool,
    seen_exploding: bool,
    findings: Vec<Finding>,
}

impl Monitor {
    /// A monitor that has seen nothing yet.
    pub fn new() -> Monitor {
        Monitor::default()
    }

    /// Looks at one epoch; returns the finding that is new with it, if any.
    pub fn observe(&mut self, stats: &EpochStats) -> Vec<Finding> {
        let norms = &stats.gradient_norms;
        if norms.is_empty() || norms.iter().any(|g| !g.is_finite()) {
            return Vec::new();
        }
        let reference = self
            .reference
            .get_or_insert_with(|| reference_norms(norms))
            .clone();
        let vanishing_now = vanishing(norms).map(|(layer, ratio)| (stats.epoch, layer, ratio));
        let confirmed = match (self.vanishing_candidate, vanishing_now) {
            (Some(first), Some(_)) => Some(first),
            _ => None,
        };
        self.vanishing_candidate = vanishing_now;

        let finding = if let (false, Some((layer, growth))) =
            (self.seen_exploding, exploding(norms, &reference))
        {
            self.seen_exploding = true;
            let norm = norms[layer];
            Some(Finding::ExplodingGradients {
                epoch: stats.epoch,
                layer: layer + 1,
                growth,
                norm,
                overshadowed: vanishing_now.map(|(_, small, _)| (small, norms[small - 1] / norm)),
            })
        } else if let (false, false, Some((epoch, layer, ratio))) =
            (self.seen_vanishing, self.seen_exploding, confirmed)
        {
            self.seen_vanishing = true;
            Some(Finding::VanishingGradients {
                epoch,
                layer,
                ratio,
            })
        } else {
            None
        };
        self.findings.extend(finding.iter().cloned());
        finding.into_iter().collect()
    }

    /// Everything reported so far.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// Each layer's reference for the exploding test, from the first epoch's `‖dWˡ‖`: that norm,
/// floored at the vanishing threshold of the epoch (`VANISHING_RATIO` times its largest norm), so
/// that a layer recovering from a vanishing start is not called exploding.
pub fn reference_norms(first_epoch: &[f64]) -> Vec<f64> {
    let floor = VANISHING_RATIO * arg_extreme(first_epoch, |a, b| a > b).1;
    first_epoch.iter().map(|&g| g.max(floor)).collect()
}

/// Whether layer `l` (from 0) has vanishing gradients in an epoch with these norms: its norm is
/// below [`VANISHING_RATIO`] times the largest layer's, and the largest is a later layer.
pub fn is_vanishing(norms: &[f64], l: usize) -> bool {
    let (largest_layer, largest) = arg_extreme(norms, |a, b| a > b);
    l < largest_layer && largest > 0.0 && norms[l] / largest < VANISHING_RATIO
}

/// Whether layer `l` (from 0) has exploding gradients in an epoch with these norms: grown more
/// than [`EXPLODING_GROWTH`]-fold over its reference ([`reference_norms`]).
pub fn is_exploding(norms: &[f64], reference: &[f64], l: usize) -> bool {
    reference[l] > 0.0 && norms[l] / reference[l] > EXPLODING_GROWTH
}

/// The vanishing test on one epoch's norms: the dense layer (from 1) with the smallest norm and
/// its ratio to the largest, when that ratio is below [`VANISHING_RATIO`] and the smallest layer
/// comes before the largest.
fn vanishing(norms: &[f64]) -> Option<(usize, f64)> {
    let largest = arg_extreme(norms, |a, b| a > b).1;
    let (smallest_layer, smallest) = arg_extreme(norms, |a, b| a < b);
    is_vanishing(norms, smallest_layer).then_some((smallest_layer + 1, smallest / largest))
}

/// The exploding test on one epoch's norms: the layer (from 0) that grew the most over its
/// reference, and that growth, when it exceeds [`EXPLODING_GROWTH`].
fn exploding(norms: &[f64], reference: &[f64]) -> Option<(usize, f64)> {
    let growth: Vec<f64> = norms
        .iter()
        .zip(reference)
        .map(|(now, then)| if *then > 0.0 { now / then } else { 0.0 })
        .collect();
    let (layer, most) = arg_extreme(&growth, |a, b| a > b);
    is_exploding(norms, reference, layer).then_some((layer, most))
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
