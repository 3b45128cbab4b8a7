//! Comparisons: train the same task once per variant of one setting and put the runs side by side.
//!
//! Everything but the setting under study stays fixed: the task, its data (generated and split
//! with the same seed), the initial weights' seed and the batch order. So the differences between
//! the rows are the setting's doing.
//!
//! ```text
//! study            variants
//! activations      relu, leaky_relu, tanh, sigmoid, swish, identity (identity: no non-linearity,
//!                  so the network is a linear model whatever its depth)
//! learning-rates   the task's η × 0.01, 0.1, 1, 10, 100 (too small crawls, too large may diverge)
//! hidden-sizes     one hidden layer of 5, 10, 20, 50 units (under- and over-fitting)
//! depths           1, 2, 3 hidden layers of the task's first hidden size
//! optimizers       sgd, momentum, nesterov, rmsprop, adam, each with a learning rate usual for it
//! ```
//!
//! For each run the table reports the final train and test loss and metric, how fast it got
//! there, and the seconds of its training loop. The final losses and metrics are measured on the
//! trained network, as `train` prints them (not the last epoch's running mean over its batches).
//!
//! "Epochs to 90 % of gain" is the first epoch whose test metric had made 90 % of the run's whole
//! improvement, counted from the first epoch m₁ to the last m_final:
//!
//! ```text
//! accuracy:  first epoch with m ≥ m₁ + 0.9 · (m_final − m₁)     (needs m_final > m₁)
//! MSE:       first epoch with m ≤ m₁ + 0.9 · (m_final − m₁)     (needs m_final < m₁)
//! ```
//!
//! A run whose final metric is no better than its first epoch's has no gain to measure (`-`):
//! a network that never learns does not get to look fast.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::optim::Rule;
use crate::run::{self, RunOptions};
use crate::tasks;
use crate::train::{History, Metric};
use std::ops::ControlFlow;

/// A setting to vary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Study {
    /// The hidden activation.
    Activations,
    /// The learning rate η.
    LearningRates,
    /// The size of a single hidden layer.
    HiddenSizes,
    /// The number of hidden layers.
    Depths,
    /// The update rule.
    Optimizers,
}

impl Study {
    /// Every study with its command-line name.
    pub const ALL: [(&'static str, Study); 5] = [
        ("activations", Study::Activations),
        ("learning-rates", Study::LearningRates),
        ("hidden-sizes", Study::HiddenSizes),
        ("depths", Study::Depths),
        ("optimizers", Study::Optimizers),
    ];

    /// The command-line names.
    pub fn names() -> Vec<&'static str> {
        Study::ALL.iter().map(|(n, _)| *n).collect()
    }

    /// The study called `name`.
    pub fn from_name(name: &str) -> Option<Study> {
        Study::ALL.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// The command-line name.
    pub fn name(&self) -> &'static str {
        Study::ALL
            .iter()
            .find(|(_, s)| s == self)
            .map_or("", |(n, _)| n)
    }

    /// The variants of `base`: a label for each and the options it runs with.
    pub fn variants(&self, base: &RunOptions) -> Vec<(String, RunOptions)> {
        let with = |change: &dyn Fn(&mut RunOptions)| {
            let mut options = base.clone();
            change(&mut options);
            options
        };
        match self {
            Study::Activations => Activation::HIDDEN_NAMES
                .iter()
                .map(|name| {
                    let f = Activation::from_name(name).expect("a hidden activation");
                    (name.to_string(), with(&|o| o.activation = f))
                })
                .collect(),
            Study::LearningRates => [0.01, 0.1, 1.0, 10.0, 100.0]
                .iter()
                .map(|factor| {
                    let lr = base.lr * factor;
                    (format!("η = {lr}"), with(&|o| o.lr = lr))
                })
                .collect(),
            Study::HiddenSizes => [5, 10, 20, 50]
                .iter()
                .map(|&h| (format!("hidden {h}"), with(&|o| o.hidden = vec![h])))
                .collect(),
            Study::Depths => {
                let width = base.hidden.first().copied().unwrap_or(10);
                (1..=3)
                    .map(|depth| {
                        let hidden = vec![width; depth];
                        let label = hidden
                            .iter()
                            .map(usize::to_string)
                            .collect::<Vec<_>>()
                            .join(",");
                        (
                            format!("hidden {label}"),
                            with(&|o| o.hidden = hidden.clone()),
                        )
                    })
                    .collect()
            }
            Study::Optimizers => {
                // Plain gradient descent keeps the task's η when the task uses it; momentum's
                // velocity grows to about 1/(1 − μ) = 10 steps' worth, so it gets a tenth; the
                // adaptive rules scale each step themselves and take their usual 0.01.
                let sgd_lr = if base.rule == Rule::Sgd { base.lr } else { 0.1 };
                [
                    ("sgd", sgd_lr),
                    ("momentum", sgd_lr / 10.0),
                    ("nesterov", sgd_lr / 10.0),
                    ("rmsprop", 0.01),
                    ("adam", 0.01),
                ]
                .iter()
                .map(|&(name, lr)| {
                    let rule = Rule::from_name(name).expect("a rule");
                    (
                        format!("{name} η = {lr}"),
                        with(&|o| {
                            o.rule = rule;
                            o.lr = lr;
                        }),
                    )
                })
                .collect()
            }
        }
    }
}

/// One variant's run.
#[derive(Clone, Debug)]
pub struct VariantResult {
    /// What was varied, e.g. `tanh` or `hidden 20`.
    pub label: String,
    /// The options it ran with.
    pub options: RunOptions,
    /// `2 → 10 tanh → 1 sigmoid · 41 parameters`.
    pub architecture: String,
    /// Every epoch's measurements.
    pub history: History,
    /// Seconds in the training loop.
    pub train_seconds: f64,
    /// The trained network's (loss, metric) on the training rows, from [`run::Run::scores`]:
    /// the numbers `train` prints for the same run. None if the run diverged.
    pub train_final: Option<(f64, f64)>,
    /// The trained network's (loss, metric) on the test rows. None if the run diverged.
    pub test_final: Option<(f64, f64)>,
}

impl VariantResult {
    /// The first epoch whose test metric had made 90 % of the improvement from the first epoch
    /// to the last (see the module docs); None if the run has no epochs, diverged, or ended no
    /// better than its first epoch.
    pub fn epochs_to_90_percent_of_gain(&self) -> Option<usize> {
        if self.history.divergence.is_some() {
            return None;
        }
        let metric = |e: &crate::train::EpochStats| e.test_metric.unwrap_or(e.train_metric);
        let first = metric(self.history.epochs.first()?);
        let last = metric(self.history.last()?);
        let target = first + 0.9 * (last - first);
        let improved = match self.history.metric {
            Metric::Accuracy => last > first,
            Metric::Mse => last < first,
        };
        if !improved {
            return None;
        }
        self.history
            .epochs
            .iter()
            .find(|e| match self.history.metric {
                Metric::Accuracy => metric(e) >= target,
                Metric::Mse => metric(e) <= target,
            })
            .map(|e| e.epoch)
    }
}

/// A finished comparison.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// What was varied.
    pub study: Study,
    /// The task's name.
    pub task: String,
    /// The seed every variant used.
    pub seed: u64,
    /// One run per variant, in the order of [`Study::variants`].
    pub variants: Vec<VariantResult>,
}

/// Runs `study` on the named task with its defaults and `seed`.
///
/// # Errors
/// For an unknown task, or data that cannot be prepared.
pub fn run_comparison(study: Study, task: &str, seed: u64) -> Result<Comparison> {
    let spec = tasks::find(task).ok_or_else(|| {
        Error::Usage(format!(
            "unknown task '{task}'; the tasks are {}",
            tasks::names().join(", ")
        ))
    })?;
    let mut base = RunOptions::for_task(&spec);
    base.seed = seed;
    compare_with(study, &base, |_, _| {})
}

/// Runs `study` around `base`, calling `on_variant(index, result)` after each run (for progress).
///
/// # Errors
/// If the data cannot be prepared.
pub fn compare_with(
    study: Study,
    base: &RunOptions,
    mut on_variant: impl FnMut(usize, &VariantResult),
) -> Result<Comparison> {
    let mut variants = Vec::new();
    for (i, (label, options)) in study.variants(base).into_iter().enumerate() {
        let run = run::execute(&options, |_, _| ControlFlow::Continue(()))?;
        let (train_final, test_final) = if run.history.divergence.is_none() {
            let scores = run.scores();
            (Some(scores.train), Some(scores.test))
        } else {
            (None, None)
        };
        let result = VariantResult {
            train_final,
            test_final,
            label,
            architecture: run.network.description(),
            options,
            history: run.history,
            train_seconds: run.train_seconds,
        };
        on_variant(i, &result);
        variants.push(result);
    }
    Ok(Comparison {
        study,
        task: base.data_name(),
        seed: base.seed,
        variants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variants_are_the_ones_the_original_design_names() {
        let base = RunOptions::for_task(&tasks::find("circles").unwrap());
        let labels = |study: Study| -> Vec<String> {
            study.variants(&base).into_iter().map(|(l, _)| l).collect()
        };
        assert_eq!(
            labels(Study::HiddenSizes),
            ["hidden 5", "hidden 10", "hidden 20", "hidden 50"]
        );
        assert_eq!(
            labels(Study::Depths),
            ["hidden 10", "hidden 10,10", "hidden 10,10,10"]
        );
        assert!(labels(Study::Activations).contains(&"identity".to_string()));
        for (name, study) in Study::ALL {
            assert_eq!(Study::from_name(name), Some(study));
            assert_eq!(study.name(), name);
        }
    }

    #[test]
    fn every_variant_shares_the_seed_and_changes_one_setting() {
        let comparison = run_comparison(Study::HiddenSizes, "xor", 3).unwrap();
        assert_eq!(comparison.variants.len(), 4);
        for v in &comparison.variants {
            assert_eq!(v.options.seed, 3);
            assert_eq!(v.history.epochs.len(), 50);
            let at = v.epochs_to_90_percent_of_gain().unwrap();
            let metric = |epoch: usize| v.history.epochs[epoch - 1].test_metric.unwrap();
            let (first, last) = (metric(1), metric(v.history.epochs.len()));
            assert!(metric(at) >= first + 0.9 * (last - first));
            assert!((1..at).all(|e| metric(e) < first + 0.9 * (last - first)));
            // The table's final numbers are the trained network's, as `train` prints them.
            let (_, test_metric) = v.test_final.unwrap();
            assert_eq!(test_metric, last);
        }
        assert!(run_comparison(Study::Depths, "circle", 0).is_err());
    }

    #[test]
    fn a_network_that_never_learns_has_no_epoch_to_90_percent_of_gain() {
        // A linear model cannot separate two rings: its test accuracy ends no better than the
        // first epoch's, so there is no gain to reach 90 % of, and no epoch may be named.
        let comparison = run_comparison(Study::Activations, "circles", 42).unwrap();
        let variant = |label: &str| {
            comparison
                .variants
                .iter()
                .find(|v| v.label == label)
                .unwrap()
        };
        let identity = variant("identity");
        let metric = |e: &crate::train::EpochStats| e.test_metric.unwrap();
        let (first, last) = (
            metric(identity.history.epochs.first().unwrap()),
            metric(identity.history.last().unwrap()),
        );
        assert!(last <= first, "identity learned: {first} → {last}");
        assert_eq!(identity.epochs_to_90_percent_of_gain(), None);
        assert!(variant("relu").epochs_to_90_percent_of_gain().unwrap() > 1);
    }
}
