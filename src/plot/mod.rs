//! Pictures: every figure of the book as hand-written SVG, built from a small drawing module.
//!
//! A figure is text: `<svg>` with rectangles, lines and labels placed in pixels. The pieces:
//!
//! ```text
//! svg.rs      the writer: elements, escaping, rounded numbers, never NaN
//! scale.rs    value → pixel (linear, log) and nice ticks (1, 2, 5 × 10ⁿ)
//! colour.rs   viridis for fields, Okabe–Ito for lines and classes
//! axes.rs     panels with grid, ticks, labels, legends and titles
//! field.rs    a function of two variables as merged cells, and its contour lines
//! curves.rs   charts of a run over epochs: learning curves, gradient flow, learning rates,
//!             weights, comparisons, activations
//! maps.rs     pictures over an input or parameter plane: decision boundaries, the sine fit,
//!             the loss surface (flat and 3-D) and the two animations
//! network.rs  the architecture as neurons and connections
//! initialisation.rs
//!             activations and gradients through ten layers before training, for five weight
//!             scales: what the initialisation chapter (dense.rs) derives
//! ```
//!
//! Each figure trains what it needs with fixed seeds, so `backprop plot all` works in an empty
//! folder and writes the same bytes every time. [`Recorder`] keeps a bounded number of snapshots
//! of a network during training, for animations and the HTML replay (`report.rs`).

pub mod axes;
pub mod colour;
pub mod curves;
pub mod field;
pub mod initialisation;
pub mod maps;
pub mod network;
pub mod scale;
pub mod svg;

use crate::error::Result;
use crate::files;
use crate::network::Network;
use crate::run::Run;
use crate::train::EpochStats;
use std::path::{Path, PathBuf};

/// A finished figure: a file name and its SVG text.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The file name, e.g. `learning-curves.svg`.
    pub file: String,
    /// The SVG document.
    pub svg: String,
}

/// Settings shared by every figure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// Fewer epochs and samples: for tests, where the picture matters less than its structure.
    pub quick: bool,
    /// A finished `train` output folder to draw from (its `history.csv`), where it applies.
    pub run: Option<PathBuf>,
    /// A model saved by `train --save`, drawn by the architecture figure.
    pub model: Option<PathBuf>,
}

impl Settings {
    /// `full` epochs normally, a tenth (at least 20) in quick mode.
    pub fn epochs(&self, full: usize) -> usize {
        if self.quick {
            (full / 10).max(20)
        } else {
            full
        }
    }
}

/// Every figure: name (as typed after `plot`) and what it teaches.
pub const FIGURES: [(&str, &str); 12] = [
    (
        "activations",
        "each activation and its derivative; why deep sigmoid nets stop learning",
    ),
    (
        "initialisation",
        "zero, small, large, He and Glorot weights: signals and gradients layer by layer",
    ),
    (
        "architecture",
        "the network as neurons and weighted connections",
    ),
    (
        "loss-surface",
        "the loss over a plane of weights, flat and in 3-D, with the path of descent",
    ),
    (
        "learning-rates",
        "loss curves for η from too small to overflowing, the noise floor, weights",
    ),
    (
        "learning-curves",
        "train and test loss and the metric per epoch",
    ),
    (
        "decision-boundary",
        "what a classifier believes at every point of the plane",
    ),
    (
        "gradient-flow",
        "per-layer gradient norms (vanishing flagged as train warns) and update ratios",
    ),
    (
        "weights",
        "per-layer weight distributions before and after training",
    ),
    (
        "sine-fit",
        "a regression network's curve against the data and the truth",
    ),
    (
        "comparisons",
        "what 'compare' varies, on its task (circles); under- and over-fitting",
    ),
    (
        "animations",
        "the decision boundary forming, and descent rolling over the loss surface",
    ),
];

/// Makes the figure called `name`.
///
/// # Errors
/// If the name is unknown, or `--run` data cannot be read.
pub fn make(name: &str, settings: &Settings) -> Result<Vec<Figure>> {
    match name {
        "activations" => curves::activations(settings),
        "initialisation" => initialisation::figure(settings),
        "architecture" => network::architecture(settings),
        "loss-surface" => maps::loss_surface(settings),
        "learning-rates" => curves::learning_rates(settings),
        "learning-curves" => curves::learning_curves_figure(settings),
        "decision-boundary" => maps::decision_boundaries(settings),
        "gradient-flow" => curves::gradient_flow_figure(settings),
        "weights" => curves::weights(settings),
        "sine-fit" => maps::sine_fit_figure(settings),
        "comparisons" => curves::comparisons(settings),
        "animations" => maps::animations(settings),
        _ => {
            let names: Vec<&str> = FIGURES.iter().map(|(n, _)| *n).collect();
            Err(crate::error::unknown(
                "figure",
                name,
                &names,
                &format!("the figures are {} (or all)", names.join(", ")),
            ))
        }
    }
}

/// Writes figures into `folder` and returns the paths written.
///
/// # Errors
/// If a file cannot be written.
pub fn write(figures: &[Figure], folder: &Path) -> Result<Vec<PathBuf>> {
    files::prepare_folder(folder)?;
    let mut paths = Vec::new();
    for figure in figures {
        let path = folder.join(&figure.file);
        files::write_atomic(&path, figure.svg.as_bytes())?;
        paths.push(path);
    }
    Ok(paths)
}

/// The most snapshots a [`Recorder`] keeps during training: enough for a smooth replay, few
/// enough to keep an animation or an HTML report small. A replay shows one frame more, the
/// network before training (see [`Recorder::frames`]).
pub const MAX_FRAMES: usize = 30;

/// Snapshots of a network at evenly spaced, round-numbered epochs, taken from
/// `run::execute`'s `on_epoch`.
///
/// `on_epoch` is called after each epoch's updates, so the recorder never sees the untrained
/// network; [`Recorder::frames`] puts it first, as epoch 0, from [`Run::initial`].
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    epochs: usize,
    /// Epochs between two snapshots: 1, 2, 2.5 or 5 times a power of ten (a whole number).
    every: usize,
    /// `(epoch, network at the end of that epoch)`, in order.
    pub snapshots: Vec<(usize, Network)>,
}

impl Recorder {
    /// A recorder for a run of `epochs` epochs keeping at most `frames` snapshots.
    ///
    /// The spacing is the smallest of 1, 2, 5, 10, 20, 25, 50, 100, … epochs that needs no more
    /// than `frames` snapshots, so a replay's labels read 10, 20, 30 rather than 17, 34, 50.
    pub fn new(epochs: usize, frames: usize) -> Recorder {
        let frames = frames.clamp(1, MAX_FRAMES);
        let every = round_step(epochs.div_ceil(frames));
        Recorder {
            epochs,
            every,
            snapshots: Vec::new(),
        }
    }

    /// Keeps a copy of `network` if `stats.epoch` is a multiple of the spacing or the last epoch.
    /// (At most `frames` in all: with `every ≥ E/F` there are at most `F` multiples up to `E`,
    /// and `F` of them only when `E` is itself one.)
    pub fn observe(&mut self, stats: &EpochStats, network: &Network) {
        if stats.epoch.is_multiple_of(self.every) || stats.epoch == self.epochs {
            self.snapshots.push((stats.epoch, network.clone()));
        }
    }

    /// The frames of a replay: `initial`, the network before its first update, as epoch 0, then
    /// the snapshots.
    pub fn frames<'a>(&'a self, initial: &'a Network) -> Vec<(usize, &'a Network)> {
        std::iter::once((0, initial))
            .chain(self.snapshots.iter().map(|(e, n)| (*e, n)))
            .collect()
    }
}

/// The smallest of 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, … that is at least `n`.
fn round_step(n: usize) -> usize {
    let mut unit = 1usize;
    loop {
        // unit / 2 · 5 is 2.5 units from 10 on (and 0, never chosen, for unit 1).
        for step in [
            unit,
            unit.saturating_mul(2),
            (unit / 2).saturating_mul(5),
            unit.saturating_mul(5),
        ] {
            if step >= n {
                return step;
            }
        }
        unit = unit.saturating_mul(10);
    }
}

/// The figures `train` writes for its run: learning curves and gradient flow always, and the
/// decision boundary (2-D classification) or the fit (1-D regression) where they can be drawn.
pub fn run_figures(run: &Run) -> Vec<Figure> {
    let curves = curves::RunCurves::from_history(&run.history);
    let name = run.options.data_name();
    let mut figures = vec![
        curves::learning_curves(&curves, &name),
        curves::gradient_flow(&curves, &name),
    ];
    if let Some(figure) = maps::run_picture(run) {
        figures.push(figure);
    }
    figures
}

/// Writes [`run_figures`] into `folder` and returns the paths.
///
/// # Errors
/// If a file cannot be written.
pub fn write_run_figures(run: &Run, folder: &Path) -> Result<Vec<PathBuf>> {
    write(&run_figures(run), folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_round_numbered_and_at_most_the_frames_asked_for() {
        let steps: Vec<usize> = [1, 2, 3, 5, 6, 11, 21, 24, 26, 34, 51, 240, 251]
            .map(round_step)
            .to_vec();
        assert_eq!(steps, [1, 2, 5, 5, 10, 20, 25, 25, 50, 50, 100, 250, 500]);
        for frames in 1..=MAX_FRAMES {
            for epochs in 1..=1200 {
                let every = Recorder::new(epochs, frames).every;
                let kept: Vec<usize> = (1..=epochs)
                    .filter(|e| e.is_multiple_of(every) || *e == epochs)
                    .collect();
                assert!(
                    kept.len() <= frames,
                    "{epochs} epochs, {frames} frames: {kept:?}"
                );
                assert_eq!(kept.last(), Some(&epochs));
            }
        }
        // The default replay of a 300-epoch run: every 10th epoch.
        assert_eq!(Recorder::new(300, MAX_FRAMES).every, 10);
    }
}
