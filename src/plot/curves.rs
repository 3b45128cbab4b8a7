//! Charts over epochs and over settings: how a run (or a family of runs) went.
//!
//! ```text
//! learning curves   L_train, L_test and the metric against the epoch
//! gradient flow     ‖dWˡ‖ per layer on a log scale, against log epochs, with train's vanishing
//!                   threshold 10⁻³ · maxₖ ‖dWᵏ‖; ‖ΔWˡ‖/‖Wˡ‖, the relative size of a step
//!                   (about 10⁻³ is healthy; 10⁻⁶ means the layer has stopped, 1 that it jumps)
//! learning rates    the same task for η from too small to overflowing, against the noise
//!                   floor σ² (the loss of the true curve)
//! weights           histograms of every Wˡ before and after training
//! comparisons       one setting varied at a time, as `backprop compare` varies it; train
//!                   against test loss for under- and over-fitting
//! activations       f(z) and f′(z) side by side, and the gradient reaching each layer of a
//!                   deep sigmoid network against a ReLU one (σ′ ≤ ¼, so ‖dWˡ‖ shrinks layer by
//!                   layer going backward)
//! ```

use super::axes::{self, legend, Mark, Panel};
use super::colour;
use super::scale::{extent, format_number, positive_extent, power_of_ten, Scale};
use super::svg::Svg;
use super::{Figure, Settings};
use crate::activation::Activation;
use crate::compare::{self, Comparison, Study};
use crate::diagnose::{self, VANISHING_RATIO};
use crate::error::{Error, Result};
use crate::optim::{Rule, Schedule};
use crate::run::{self, Run, RunOptions};
use crate::tasks;
use crate::train::History;
use std::ops::ControlFlow;

/// The per-epoch numbers of a run, from a [`History`] or a `history.csv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunCurves {
    /// `accuracy` or `mse`.
    pub metric: String,
    /// Epoch numbers.
    pub epoch: Vec<f64>,
    /// Training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Test loss per epoch (NaN where absent).
    pub test_loss: Vec<f64>,
    /// Training metric per epoch.
    pub train_metric: Vec<f64>,
    /// Test metric per epoch (NaN where absent).
    pub test_metric: Vec<f64>,
    /// `gradient[l][e]` = ‖dWˡ⁺¹‖ in epoch e.
    pub gradient: Vec<Vec<f64>>,
    /// `update[l][e]` = ‖ΔWˡ⁺¹‖ in epoch e.
    pub update: Vec<Vec<f64>>,
    /// `weight[l][e]` = ‖Wˡ⁺¹‖ after epoch e (empty when read from a CSV without
    /// `weight_norm_l` columns).
    pub weight: Vec<Vec<f64>>,
}

impl RunCurves {
    /// The curves of a training history.
    pub fn from_history(history: &History) -> RunCurves {
        let layers = history.epochs.first().map_or(0, |e| e.gradient_norms.len());
        let per_layer = |f: &dyn Fn(&crate::train::EpochStats) -> &Vec<f64>| -> Vec<Vec<f64>> {
            (0..layers)
                .map(|l| {
                    history
                        .epochs
                        .iter()
                        .map(|e| f(e).get(l).copied().unwrap_or(f64::NAN))
                        .collect()
                })
                .collect()
        };
        RunCurves {
            metric: history.metric.name().to_string(),
            epoch: history.epochs.iter().map(|e| e.epoch as f64).collect(),
            train_loss: history.epochs.iter().map(|e| e.train_loss).collect(),
            test_loss: history
                .epochs
                .iter()
                .map(|e| e.test_loss.unwrap_or(f64::NAN))
                .collect(),
            train_metric: history.epochs.iter().map(|e| e.train_metric).collect(),
            test_metric: history
                .epochs
                .iter()
                .map(|e| e.test_metric.unwrap_or(f64::NAN))
                .collect(),
            gradient: per_layer(&|e| &e.gradient_norms),
            update: per_layer(&|e| &e.update_norms),
            weight: per_layer(&|e| &e.weight_norms),
        }
    }

    /// The curves of a `history.csv` written by `train`.
    ///
    /// # Errors
    /// If the text lacks the expected columns.
    pub fn from_csv(text: &str, source: &str) -> Result<RunCurves> {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        let column = |name: &str| header.iter().position(|h| *h == name);
        let (Some(epoch), Some(train_loss), Some(test_loss)) =
            (column("epoch"), column("train_loss"), column("test_loss"))
        else {
            return Err(Error::Input(format!(
                "{source}: not a history.csv written by train (no epoch, train_loss, test_loss columns); give --run a train output folder"
            )));
        };
        let metric = if column("train_accuracy").is_some() {
            "accuracy"
        } else {
            "mse"
        };
        let rows: Vec<Vec<f64>> = lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                l.split(',')
                    .map(|v| v.trim().parse::<f64>().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let get = |c: Option<usize>| -> Vec<f64> {
            rows.iter()
                .map(|r| c.and_then(|c| r.get(c)).copied().unwrap_or(f64::NAN))
                .collect()
        };
        let layers = (1..)
            .take_while(|l| column(&format!("grad_norm_{l}")).is_some())
            .count();
        Ok(RunCurves {
            metric: metric.to_string(),
            epoch: get(Some(epoch)),
            train_loss: get(Some(train_loss)),
            test_loss: get(Some(test_loss)),
            train_metric: get(column(&format!("train_{metric}"))),
            test_metric: get(column(&format!("test_{metric}"))),
            gradient: (1..=layers)
                .map(|l| get(column(&format!("grad_norm_{l}"))))
                .collect(),
            update: (1..=layers)
                .map(|l| get(column(&format!("update_norm_{l}"))))
                .collect(),
            // ‖Wˡ‖ where the file has it (`weight_norm_l`), for the update-to-weight ratio.
            weight: if (1..=layers).all(|l| column(&format!("weight_norm_{l}")).is_some()) {
                (1..=layers)
                    .map(|l| get(column(&format!("weight_norm_{l}"))))
                    .collect()
            } else {
                Vec::new()
            },
        })
    }
}

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// x values.
    pub xs: Vec<f64>,
    /// y values (non-finite values leave gaps).
    pub ys: Vec<f64>,
    /// Stroke colour.
    pub colour: String,
    /// Dashed (for the second of a pair, e.g. test against train).
    pub dashed: bool,
}

impl Series {
    /// A solid series.
    pub fn new(label: impl Into<String>, xs: Vec<f64>, ys: Vec<f64>, colour: &str) -> Series {
        Series {
            label: label.into(),
            xs,
            ys,
            colour: colour.to_string(),
            dashed: false,
        }
    }

    /// The same series dashed.
    pub fn dashed(self) -> Series {
        Series {
            dashed: true,
            ..self
        }
    }
}

/// Where a chart's legend goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendAt {
    /// Top-right inside the panel.
    TopRight,
    /// Top-left inside the panel.
    TopLeft,
    /// Bottom-right inside the panel.
    BottomRight,
    /// Bottom-left inside the panel.
    BottomLeft,
    /// To the right of the panel.
    Outside,
    /// No legend.
    None,
}

/// How a chart is labelled and scaled.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart<'a> {
    /// Panel title.
    pub title: &'a str,
    /// x axis label (with unit).
    pub x_label: &'a str,
    /// y axis label (with unit).
    pub y_label: &'a str,
    /// Log scales.
    pub log: (bool, bool),
    /// A log x axis that ends where the data ends instead of at the next power of ten (an epoch
    /// axis: a run of 300 epochs should not leave a third of the panel empty).
    pub x_ends_at_data: bool,
    /// Fixed y limits instead of the data's extent.
    pub y_limits: Option<(f64, f64)>,
    /// Where the legend goes.
    pub legend: LegendAt,
}

/// Draws `series` as a line chart in the rectangle `rect` and returns its panel.
pub fn line_chart(
    svg: &mut Svg,
    rect: (f64, f64, f64, f64),
    series: &[Series],
    chart: &Chart,
) -> Panel {
    let xs = extent(series.iter().flat_map(|s| s.xs.iter().copied())).unwrap_or((0.0, 1.0));
    let ys = || series.iter().flat_map(|s| s.ys.iter().copied());
    let y = chart.y_limits.unwrap_or_else(|| {
        if chart.log.1 {
            positive_extent(ys()).unwrap_or((1e-3, 1.0))
        } else {
            extent(ys()).unwrap_or((0.0, 1.0))
        }
    });
    let x = if chart.log.0 {
        positive_extent(series.iter().flat_map(|s| s.xs.iter().copied())).unwrap_or((1.0, 10.0))
    } else {
        xs
    };
    let mut panel = Panel::new(rect, x, y, chart.log);
    if chart.log.0 && chart.x_ends_at_data {
        let x = (x.0.max(1e-300), x.1);
        panel.x = Scale::log_exact(x, panel.x.range);
    }
    panel.draw_axes(svg, chart.x_label, chart.y_label, chart.title);
    for s in series {
        let ys: Vec<f64> =
            s.ys.iter()
                .map(|v| {
                    // Values beyond the chart (a diverging loss) are cut, not drawn off the page.
                    if chart.y_limits.is_some_and(|(lo, hi)| *v < lo || *v > hi) {
                        f64::NAN
                    } else {
                        *v
                    }
                })
                .collect();
        let dash = if s.dashed { "6 4" } else { "" };
        panel.curve(svg, &s.xs, &ys, &s.colour, dash);
    }
    let entries: Vec<(String, String, Mark)> = series
        .iter()
        .filter(|s| !s.label.is_empty())
        .map(|s| {
            let mark = if s.dashed { Mark::Dashed } else { Mark::Line };
            (s.label.clone(), s.colour.clone(), mark)
        })
        .collect();
    let longest = entries
        .iter()
        .map(|e| e.0.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let box_width = 36.0 + longest * 6.4;
    let box_height = 8.0 + 17.0 * entries.len() as f64;
    let (left, top, width, height) = rect;
    match chart.legend {
        LegendAt::TopRight => legend(svg, (left + width - box_width - 6.0, top + 6.0), &entries),
        LegendAt::TopLeft => legend(svg, (left + 6.0, top + 6.0), &entries),
        LegendAt::BottomRight => legend(
            svg,
            (
                left + width - box_width - 6.0,
                top + height - box_height - 6.0,
            ),
            &entries,
        ),
        LegendAt::BottomLeft => {
            legend(svg, (left + 6.0, top + height - box_height - 6.0), &entries)
        }
        LegendAt::Outside => legend(svg, (left + width + 12.0, top), &entries),
        LegendAt::None => {}
    }
    panel
}

/// The colour of a noise-floor line (σ², the loss of the true curve).
pub const NOISE_FLOOR_COLOUR: &str = "#888";

/// The default options of a named task.
pub fn task(name: &str) -> RunOptions {
    RunOptions::for_task(&tasks::find(name).expect("a task of tasks.rs"))
}

/// Runs `options` without watching.
pub fn train(options: &RunOptions) -> Result<Run> {
    run::execute(options, |_, _| ControlFlow::Continue(()))
}

/// The learning-curves figure: loss (log scale) and metric per epoch.
pub fn learning_curves(curves: &RunCurves, name: &str) -> Figure {
    let mut svg = Svg::new(900.0, 400.0);
    axes::title(&mut svg, &format!("Learning curves: {name}"));
    let loss = [
        Series::new(
            "train",
            curves.epoch.clone(),
            curves.train_loss.clone(),
            colour::line(0),
        ),
        Series::new(
            "test",
            curves.epoch.clone(),
            curves.test_loss.clone(),
            colour::line(1),
        )
        .dashed(),
    ];
    line_chart(
        &mut svg,
        (80.0, 70.0, 330.0, 260.0),
        &loss,
        &Chart {
            title: "loss L (mean over samples)",
            x_label: "epoch",
            y_label: "loss (log scale)",
            log: (false, true),
            x_ends_at_data: false,
            y_limits: None,
            legend: LegendAt::TopRight,
        },
    );
    let metric = [
        Series::new(
            "train",
            curves.epoch.clone(),
            curves.train_metric.clone(),
            colour::line(0),
        ),
        Series::new(
            "test",
            curves.epoch.clone(),
            curves.test_metric.clone(),
            colour::line(1),
        )
        .dashed(),
    ];
    let accuracy = curves.metric == "accuracy";
    line_chart(
        &mut svg,
        (530.0, 70.0, 330.0, 260.0),
        &metric,
        &Chart {
            title: if accuracy {
                "accuracy"
            } else {
                "mean squared error"
            },
            x_label: "epoch",
            y_label: if accuracy {
                "fraction correct"
            } else {
                "MSE (log scale)"
            },
            log: (false, !accuracy),
            x_ends_at_data: false,
            y_limits: if accuracy { Some((0.0, 1.0)) } else { None },
            // Accuracy rises to the top, an error falls to the bottom: the legend goes where the
            // curves are not.
            legend: if accuracy {
                LegendAt::BottomRight
            } else {
                LegendAt::TopRight
            },
        },
    );
    Figure {
        file: "learning-curves.svg".to_string(),
        svg: svg.finish(),
    }
}

/// `plot learning-curves`: a moons run, or `--run DIR`'s history.
///
/// # Errors
/// If the run folder cannot be read.
pub fn learning_curves_figure(settings: &Settings) -> Result<Vec<Figure>> {
    let (curves, name) = curves_for(settings, "moons")?;
    Ok(vec![learning_curves(&curves, &name)])
}

/// The curves of `--run DIR`, or of a fresh run of `default_task`.
fn curves_for(settings: &Settings, default_task: &str) -> Result<(RunCurves, String)> {
    if let Some(folder) = &settings.run {
        let path = folder.join("history.csv");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::Input(format!(
                "cannot read {}: {}; give --run a folder written by train",
                path.display(),
                crate::error::io_reason(&e)
            ))
        })?;
        let name = folder
            .file_name()
            .map_or("run".to_string(), |n| n.to_string_lossy().into_owned());
        return Ok((
            RunCurves::from_csv(&text, &path.display().to_string())?,
            name,
        ));
    }
    let mut options = task(default_task);
    options.epochs = settings.epochs(options.epochs);
    let run = train(&options)?;
    Ok((
        RunCurves::from_history(&run.history),
        default_task.to_string(),
    ))
}

/// What the gradient-flow figure says of a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerFlag {
    /// The dense layer, from 0.
    pub layer: usize,
    /// `vanishing` or `exploding`.
    pub what: &'static str,
    /// The first and last epoch it was seen in.
    pub epochs: (f64, f64),
}

/// Layers whose gradient vanishes or explodes, by the rules `train` warns by
/// ([`crate::diagnose`]), applied epoch by epoch:
///
/// ```text
/// vanishing   ‖dWˡ‖ < VANISHING_RATIO · maxₖ ‖dWᵏ‖ (10⁻³) in the same epoch, the strongest layer
///             k being a later one: the loss barely reaches layer l
/// exploding   ‖dWˡ‖ grown more than EXPLODING_GROWTH-fold (10³) over its reference, the first
///             epoch's norm (diagnose::reference_norms), or not a finite number
/// ```
///
/// One diagnosis per layer: a layer that explodes is not also called vanishing, because
/// beside an exploding layer every other layer looks small.
pub fn flagged_layers(curves: &RunCurves) -> Vec<LayerFlag> {
    let epochs = curves.epoch.len();
    let mut flags = Vec::new();
    let span = |seen: &[usize]| -> Option<(f64, f64)> {
        let epoch = |i: usize| curves.epoch.get(i).copied().unwrap_or(i as f64 + 1.0);
        Some((epoch(*seen.first()?), epoch(*seen.last()?)))
    };
    // The norms of every layer in epoch e (an epoch missing from a layer's curve, or not
    // finite, counts as 0 here and is flagged as exploding below when not finite).
    let norms_in = |e: usize| -> Vec<f64> {
        let norm = |layer: &Vec<f64>| layer.get(e).copied().filter(|v| v.is_finite());
        curves
            .gradient
            .iter()
            .map(|layer| norm(layer).unwrap_or(0.0))
            .collect()
    };
    let reference = diagnose::reference_norms(&norms_in(0));
    for (l, g) in curves.gradient.iter().enumerate() {
        // The tests `train`'s diagnosis uses (diagnose.rs), epoch by epoch and layer by layer.
        let exploding: Vec<usize> = (0..g.len())
            .filter(|&e| !g[e].is_finite() || diagnose::is_exploding(&norms_in(e), &reference, l))
            .collect();
        let vanishing: Vec<usize> = (0..epochs)
            .filter(|&e| diagnose::is_vanishing(&norms_in(e), l))
            .collect();
        if let Some(epochs) = span(&exploding) {
            flags.push(LayerFlag {
                layer: l,
                what: "exploding",
                epochs,
            });
        } else if let Some(epochs) = span(&vanishing) {
            flags.push(LayerFlag {
                layer: l,
                what: "vanishing",
                epochs,
            });
        }
    }
    flags
}

/// The colour of the vanishing threshold and of the flags.
const FLAG_COLOUR: &str = "#a33";

/// The gradient-flow figure: ‖dWˡ‖ per layer with the vanishing threshold, and ‖ΔWˡ‖/‖Wˡ‖ per
/// layer, over epochs on a log scale (so the first epochs, where gradients vanish or explode,
/// get as much room as the rest).
pub fn gradient_flow(curves: &RunCurves, name: &str) -> Figure {
    let mut svg = Svg::new(980.0, 440.0);
    axes::title(&mut svg, &format!("Gradient flow: {name}"));
    let threshold = power_of_ten(VANISHING_RATIO);
    let flagged = flagged_layers(curves);
    let label = |l: usize| {
        let mut text = format!("layer {}", l + 1);
        if let Some(flag) = flagged.iter().find(|f| f.layer == l) {
            text.push_str(&format!(" ({})", flag.what));
        }
        text
    };
    let mut gradient: Vec<Series> = curves
        .gradient
        .iter()
        .enumerate()
        .map(|(l, g)| Series::new(label(l), curves.epoch.clone(), g.clone(), colour::line(l)))
        .collect();
    // The threshold, epoch by epoch: a layer below this line is vanishing.
    let strongest: Vec<f64> = (0..curves.epoch.len())
        .map(|e| {
            curves
                .gradient
                .iter()
                .filter_map(|g| g.get(e).copied())
                .filter(|v| v.is_finite())
                .fold(f64::NAN, f64::max)
        })
        .collect();
    if curves.gradient.len() > 1 {
        gradient.push(
            Series::new(
                "",
                curves.epoch.clone(),
                strongest.iter().map(|v| VANISHING_RATIO * v).collect(),
                FLAG_COLOUR,
            )
            .dashed(),
        );
    }
    // The layers' gradients set the y range, in whole decades; the threshold is cut where it
    // leaves it (it falls far below every layer once no layer vanishes).
    let decades = positive_extent(curves.gradient.iter().flatten().copied()).map(|(lo, hi)| {
        (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        )
    });
    line_chart(
        &mut svg,
        (80.0, 70.0, 300.0, 270.0),
        &gradient,
        &Chart {
            title: "gradient norm ‖dWˡ‖ per layer",
            x_label: "epoch (log scale)",
            y_label: "‖dW‖ (log scale)",
            log: (true, true),
            x_ends_at_data: true,
            y_limits: decades,
            legend: LegendAt::None,
        },
    );
    let (ratio, title, y_label) = if curves.weight.is_empty() {
        (
            curves.update.clone(),
            "update size ‖ΔWˡ‖ per layer",
            "‖ΔW‖ (log scale)",
        )
    } else {
        (
            curves
                .update
                .iter()
                .zip(&curves.weight)
                .map(|(u, w)| u.iter().zip(w).map(|(u, w)| u / w).collect())
                .collect(),
            "update-to-weight ratio ‖ΔWˡ‖ / ‖Wˡ‖",
            "ratio (log scale)",
        )
    };
    let mut series: Vec<Series> = ratio
        .iter()
        .enumerate()
        .map(|(l, r)| Series::new(label(l), curves.epoch.clone(), r.clone(), colour::line(l)))
        .collect();
    if !curves.weight.is_empty() {
        let n = curves.epoch.len();
        series.push(Series::new("", curves.epoch.clone(), vec![1e-3; n], "#888").dashed());
    }
    let panel = line_chart(
        &mut svg,
        (490.0, 70.0, 300.0, 270.0),
        &series,
        &Chart {
            title,
            x_label: "epoch (log scale)",
            y_label,
            log: (true, true),
            x_ends_at_data: true,
            y_limits: None,
            legend: LegendAt::None,
        },
    );
    let mut entries: Vec<(String, String, Mark)> = (0..curves.gradient.len())
        .map(|l| (label(l), colour::line(l).to_string(), Mark::Line))
        .collect();
    if curves.gradient.len() > 1 {
        entries.push((
            format!("{threshold} × strongest ‖dW‖ (left)"),
            FLAG_COLOUR.to_string(),
            Mark::Dashed,
        ));
    }
    if !curves.weight.is_empty() {
        entries.push((
            "10⁻³: a healthy step (right)".to_string(),
            "#888".to_string(),
            Mark::Dashed,
        ));
    }
    legend(
        &mut svg,
        (panel.left + panel.width + 12.0, panel.top),
        &entries,
    );
    let note = if flagged.is_empty() {
        format!("no layer flagged: in every epoch each layer's ‖dW‖ is above {threshold} × the strongest layer's, and finite")
    } else {
        let list: Vec<String> = flagged
            .iter()
            .map(|f| {
                let (a, b) = f.epochs;
                let when = if a == b {
                    format!("epoch {a}")
                } else {
                    format!("epochs {a}–{b}")
                };
                format!("layer {} {} ({when})", f.layer + 1, f.what)
            })
            .collect();
        format!("flagged: {}", list.join(", "))
    };
    svg.text((80.0, 398.0), &note, axes::SMALL.coloured(FLAG_COLOUR));
    svg.text(
        (80.0, 418.0),
        &format!("vanishing: ‖dWˡ‖ below {threshold} × the strongest (later) layer's in the same epoch, the threshold at which train warns"),
        axes::SMALL.coloured("#555"),
    );
    Figure {
        file: "gradient-flow.svg".to_string(),
        svg: svg.finish(),
    }
}

/// The run of `plot gradient-flow`: six sigmoid layers of 16 on moons with plain SGD (η = 2),
/// deep enough that the first layers' gradients vanish in the first epochs.
pub fn gradient_flow_options(settings: &Settings) -> RunOptions {
    let mut options = task("moons");
    options.hidden = vec![16; 6];
    options.activation = Activation::Sigmoid;
    options.rule = Rule::Sgd;
    options.lr = 2.0;
    options.samples = 300;
    options.epochs = settings.epochs(300);
    options
}

/// `plot gradient-flow`: the run of [`gradient_flow_options`] (so there is something to see), or
/// `--run DIR`.
///
/// # Errors
/// If the run folder cannot be read.
pub fn gradient_flow_figure(settings: &Settings) -> Result<Vec<Figure>> {
    if settings.run.is_some() {
        let (curves, name) = curves_for(settings, "moons")?;
        return Ok(vec![gradient_flow(&curves, &name)]);
    }
    let run = train(&gradient_flow_options(settings))?;
    Ok(vec![gradient_flow(
        &RunCurves::from_history(&run.history),
        "moons, 6 hidden sigmoid layers of 16, SGD",
    )])
}

/// The activations figure and the vanishing-gradient figure.
///
/// # Errors
/// Never in practice (the runs use built-in tasks).
pub fn activations(settings: &Settings) -> Result<Vec<Figure>> {
    let functions = [
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.1 },
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Swish,
    ];
    let mut svg = Svg::new(1100.0, 330.0);
    axes::title(
        &mut svg,
        "Activation functions f(z) and their derivatives f′(z)",
    );
    axes::subtitle(
        &mut svg,
        "backward multiplies by f′(Z): where f′ is near 0 the gradient stops (Leaky ReLU drawn with slope 0.1 to be visible)",
    );
    let zs: Vec<f64> = (0..=160).map(|i| -4.0 + 8.0 * i as f64 / 160.0).collect();
    for (k, f) in functions.iter().enumerate() {
        let left = 60.0 + k as f64 * 210.0;
        let series = [
            Series::new(
                "f(z)",
                zs.clone(),
                zs.iter().map(|z| f.value(*z)).collect(),
                colour::line(0),
            ),
            Series::new(
                "f′(z)",
                zs.clone(),
                zs.iter().map(|z| f.derivative(*z, f.value(*z))).collect(),
                colour::line(1),
            )
            .dashed(),
        ];
        line_chart(
            &mut svg,
            (left, 80.0, 160.0, 180.0),
            &series,
            &Chart {
                title: f.name(),
                x_label: "z",
                y_label: if k == 0 { "f(z), f′(z)" } else { "" },
                log: (false, false),
                x_ends_at_data: false,
                y_limits: Some((-1.5, 4.0)),
                legend: if k == 0 {
                    LegendAt::TopLeft
                } else {
                    LegendAt::None
                },
            },
        );
    }
    let mut figures = vec![Figure {
        file: "activations.svg".to_string(),
        svg: svg.finish(),
    }];
    figures.push(vanishing_gradients(settings)?);
    Ok(figures)
}

/// ‖dWˡ‖ per layer at the start of training for a 10-layer sigmoid and a 10-layer ReLU network.
fn vanishing_gradients(settings: &Settings) -> Result<Figure> {
    let mut series = Vec::new();
    for (k, f) in [Activation::Sigmoid, Activation::Tanh, Activation::Relu]
        .iter()
        .enumerate()
    {
        let mut options = task("circles");
        options.hidden = vec![32; 10];
        options.activation = *f;
        options.rule = Rule::Sgd;
        options.lr = 0.01;
        options.epochs = 1;
        options.samples = if settings.quick { 200 } else { 1000 };
        let run = train(&options)?;
        let norms = run
            .history
            .epochs
            .first()
            .map(|e| e.gradient_norms.clone())
            .unwrap_or_default();
        let layers: Vec<f64> = (1..=norms.len()).map(|l| l as f64).collect();
        series.push(Series::new(
            format!("{} network", f.name()),
            layers,
            norms,
            colour::line(k),
        ));
    }
    let mut svg = Svg::new(760.0, 420.0);
    axes::title(
        &mut svg,
        "Vanishing gradients: ‖dWˡ‖ per layer in a 10-hidden-layer network",
    );
    axes::subtitle(
        &mut svg,
        "first epoch on circles; σ′(z) ≤ ¼, so each sigmoid layer shrinks the gradient on its way back",
    );
    line_chart(
        &mut svg,
        (90.0, 80.0, 460.0, 270.0),
        &series,
        &Chart {
            title: "",
            x_label: "layer l (1 = next to the input, 11 = output)",
            y_label: "‖dWˡ‖ (log scale)",
            log: (false, true),
            x_ends_at_data: false,
            y_limits: None,
            legend: LegendAt::Outside,
        },
    );
    Ok(Figure {
        file: "vanishing-gradients.svg".to_string(),
        svg: svg.finish(),
    })
}

/// The rates of the learning-rates figure and what each one shows, for the runs of
/// [`learning_rate_options`]. Measured over 1000 epochs: η = 0.001 is still falling at the end
/// (L = 0.090), η = 0.15 settles on the noise floor (L = 0.0028 against σ² = 0.0025), η = 0.3
/// still jumps between 0.007 and 0.49 in the last 200 epochs, and η = 0.8 overflows in epoch 1.
pub const LEARNING_RATES: [(f64, &str); 4] = [
    (0.001, "crawls"),
    (0.15, "settles"),
    (0.3, "oscillates"),
    (0.8, "overflows"),
];

/// The run behind one curve of the learning-rates figure: sine (σ = 0.05, so the noise floor is
/// σ² = 0.0025) with 16 tanh units, plain SGD in batches of 32 at a constant η.
///
/// Two settings differ from the task's defaults, and why. The input x is standardised (as CSV
/// features are): with the raw x of ±2π the stable rates end abruptly (η = 0.12 settles, 0.15
/// overflows in the first epoch), and no rate oscillates without overflowing. And 4000 samples
/// give 100 steps per epoch, so that a good η reaches the floor within the 1000 epochs a log
/// epoch axis shows.
pub fn learning_rate_options(lr: f64, settings: &Settings) -> RunOptions {
    let mut options = task("sine");
    options.hidden = vec![16];
    options.rule = Rule::Sgd;
    options.lr = lr;
    // A constant η: the task's decay would calm the oscillating and diverging rates.
    options.schedule = Schedule::Constant;
    options.standardize = true;
    options.samples = 4000;
    options.epochs = settings.epochs(1000);
    options
}

/// One curve of the learning-rates figure.
#[derive(Clone, Debug)]
pub struct RateRun {
    /// The learning rate η.
    pub lr: f64,
    /// What it shows: `crawls`, `settles`, `oscillates` or `overflows`.
    pub behaviour: &'static str,
    /// The run.
    pub run: Run,
    /// `(W¹₁₁, W¹₁₂)` after each epoch.
    pub weights: Vec<[f64; 2]>,
}

/// The runs of the learning-rates figure, one per entry of [`LEARNING_RATES`].
///
/// # Errors
/// Never in practice (the runs use a built-in task).
pub fn learning_rate_runs(settings: &Settings) -> Result<Vec<RateRun>> {
    LEARNING_RATES
        .iter()
        .map(|&(lr, behaviour)| {
            let options = learning_rate_options(lr, settings);
            let mut weights = Vec::new();
            let run = run::execute(&options, |_, network| {
                let w = &network.dense_layers().next().expect("a dense layer").w;
                weights.push([w.get(0, 0), w.get(0, 1)]);
                ControlFlow::Continue(())
            })?;
            Ok(RateRun {
                lr,
                behaviour,
                run,
                weights,
            })
        })
        .collect()
}

/// Cuts a rising series where it first leaves the top of a chart at `top`: the points before,
/// then the crossing itself (interpolated on log x and log y, the scales the figure uses).
/// Returns the kept points and the crossing, or `None` when the series stays below `top`.
pub fn clip_at_top(xs: &[f64], ys: &[f64], top: f64) -> Option<(Vec<f64>, Vec<f64>, f64)> {
    let i = ys.iter().position(|y| !(y.is_finite() && *y <= top))?;
    let (mut kept_x, mut kept_y) = (xs[..i].to_vec(), ys[..i].to_vec());
    let crossing = match (i.checked_sub(1), ys[i].is_finite()) {
        // Between two points: where the straight line (in log-log) reaches `top`.
        (Some(j), true) => {
            let t = (top.ln() - ys[j].ln()) / (ys[i].ln() - ys[j].ln());
            (xs[j].ln() + t * (xs[i].ln() - xs[j].ln())).exp()
        }
        // Already off the chart at its first point, or overflowed between two points.
        _ => xs[i],
    };
    kept_x.push(crossing);
    kept_y.push(top);
    Some((kept_x, kept_y, crossing))
}

/// The loss panel's y range of the learning-rates figure: below the noise floor (σ² = 0.0025)
/// to well above the start (L ≈ 0.45), so an overflowing loss is seen leaving.
pub const LEARNING_RATE_LOSS_RANGE: (f64, f64) = (1e-3, 10.0);

/// Loss curves on sine for η from too small to overflowing with plain SGD, the noise floor σ²
/// as a line, and two weights' trajectories for each η.
///
/// # Errors
/// Never in practice (the runs use built-in tasks).
pub fn learning_rates(settings: &Settings) -> Result<Vec<Figure>> {
    let (bottom, top) = LEARNING_RATE_LOSS_RANGE;
    let runs = learning_rate_runs(settings)?;
    let noise = runs.first().map_or(0.0, |r| r.run.options.noise);
    let floor = noise * noise;
    let mut losses = Vec::new();
    let mut trajectories = Vec::new();
    let mut exits = Vec::new();
    for (k, rate) in runs.iter().enumerate() {
        let (lr, history) = (rate.lr, &rate.run.history);
        let epochs: Vec<f64> = history.epochs.iter().map(|e| e.epoch as f64).collect();
        let loss: Vec<f64> = history.epochs.iter().map(|e| e.train_loss).collect();
        let label = format!("η = {} {}", format_number(lr), rate.behaviour);
        match clip_at_top(&epochs, &loss, top) {
            Some((xs, ys, crossing)) => {
                // The first epoch that ends above the chart.
                let above = epochs[xs.len().min(epochs.len()) - 1] as usize;
                let lr = format_number(lr);
                let top = format_number(top);
                let notes = match &history.divergence {
                    Some(d) if d.epoch == above => {
                        vec![format!(
                            "η = {lr}: L > {top} and overflows (L = ∞) in epoch {above}"
                        )]
                    }
                    Some(d) => vec![
                        format!("η = {lr}: L > {top} from epoch {above}"),
                        format!("and overflows (L = ∞) in epoch {}", d.epoch),
                    ],
                    None => vec![format!("η = {lr}: L > {top} from epoch {above}")],
                };
                exits.push((crossing, notes, colour::line(k)));
                losses.push(Series::new(label, xs, ys, colour::line(k)));
            }
            None => losses.push(Series::new(label, epochs.clone(), loss, colour::line(k))),
        }
        for i in 0..2 {
            let ys: Vec<f64> = rate.weights.iter().map(|p| p[i]).collect();
            let mut s = Series::new("", epochs.clone(), ys, colour::line(k));
            s.dashed = i == 1;
            trajectories.push(s);
        }
    }
    let last_epoch = runs.iter().map(|r| r.run.options.epochs).max().unwrap_or(1) as f64;
    losses.push(
        Series::new(
            format!("noise floor σ² = {}", format_number(floor)),
            vec![1.0, last_epoch],
            vec![floor, floor],
            NOISE_FLOOR_COLOUR,
        )
        .dashed(),
    );
    let mut svg = Svg::new(1000.0, 480.0);
    axes::title(
        &mut svg,
        "Learning rates: the same network on sine, plain SGD in batches of 32",
    );
    axes::subtitle(
        &mut svg,
        "W ← W − η·dW: too small crawls, a good η settles on the noise floor σ², too large oscillates, larger still overflows",
    );
    // The oscillating curve is drawn first, underneath: it would hide the settling one.
    let oscillating = LEARNING_RATES
        .iter()
        .position(|(_, b)| *b == "oscillates")
        .expect("an oscillating rate");
    let mut drawn = losses.clone();
    let under = drawn.remove(oscillating);
    drawn.insert(0, under);
    let loss_panel = line_chart(
        &mut svg,
        (80.0, 85.0, 390.0, 290.0),
        &drawn,
        &Chart {
            title: "training loss",
            x_label: "epoch (log scale)",
            y_label: "MSE loss (log scale)",
            log: (true, true),
            x_ends_at_data: false,
            y_limits: Some((bottom, top)),
            legend: LegendAt::None,
        },
    );
    let entries: Vec<(String, String, Mark)> = losses
        .iter()
        .map(|s| {
            let mark = if s.dashed { Mark::Dashed } else { Mark::Line };
            (s.label.clone(), s.colour.clone(), mark)
        })
        .collect();
    legend(
        &mut svg,
        (
            loss_panel.left + 6.0,
            loss_panel.top + loss_panel.height - (8.0 + 17.0 * entries.len() as f64) - 6.0,
        ),
        &entries,
    );
    // A triangle where an overflowing loss leaves the panel, and its story beside it, in the
    // decade below the top that the other curves never reach (they start at L ≈ 0.45).
    let mut row = loss_panel.y.map(top / 2.5);
    for (crossing, notes, c) in &exits {
        let (x, y) = loss_panel.at(*crossing, top);
        svg.polygon(
            &[(x, y - 1.0), (x - 6.0, y + 9.0), (x + 6.0, y + 9.0)],
            c,
            "#fff",
            0.8,
        );
        for note in notes {
            svg.text((x + 14.0, row), note, axes::SMALL.coloured(c));
            row += 15.0;
        }
    }
    // The weights of the calm rates set the scale; the overflowing rate's run off the panel.
    let calm = extent(
        trajectories
            .iter()
            .filter(|s| s.colour != colour::line(LEARNING_RATES.len() - 1))
            .flat_map(|s| s.ys.iter().copied()),
    )
    .map(|(lo, hi)| (lo - 0.25 * (hi - lo), hi + 0.25 * (hi - lo)));
    let mut weights = trajectories;
    if let Some((lo, hi)) = calm {
        for s in &mut weights {
            if let Some(i) =
                s.ys.iter()
                    .position(|y| !(y.is_finite() && (lo..=hi).contains(y)))
            {
                // Keep the point where it leaves, drawn on the edge, then stop.
                s.ys[i] = s.ys[i].clamp(lo, hi);
                s.xs.truncate(i + 1);
                s.ys.truncate(i + 1);
            }
        }
    }
    let panel = line_chart(
        &mut svg,
        (580.0, 85.0, 390.0, 290.0),
        &weights,
        &Chart {
            title: "two weights of W¹ over training",
            x_label: "epoch (log scale)",
            y_label: "weight value",
            log: (true, false),
            x_ends_at_data: false,
            y_limits: calm,
            legend: LegendAt::None,
        },
    );
    // Top left, above the weights, which all start within ±1.
    legend(
        &mut svg,
        (panel.left + 8.0, panel.top + 8.0),
        &[
            ("W¹₁₁ (solid)".to_string(), "#555".to_string(), Mark::Line),
            (
                "W¹₁₂ (dashed)".to_string(),
                "#555".to_string(),
                Mark::Dashed,
            ),
        ],
    );
    svg.text(
        (500.0, 440.0),
        "colours as in the left panel; the overflowing rate's weights are cut where they leave the panel",
        axes::SMALL.middle().coloured("#555"),
    );
    svg.text(
        (500.0, 460.0),
        "why a sharp limit: on a quadratic L, gradient descent is stable only for η < 2/λ_max (λ_max the largest eigenvalue of the Hessian ∇²L)",
        axes::SMALL.middle().coloured("#555"),
    );
    Ok(vec![Figure {
        file: "learning-rates.svg".to_string(),
        svg: svg.finish(),
    }])
}

/// Counts of `values` in `bins` equal bins over `[lo, hi]`.
pub fn histogram(values: &[f64], (lo, hi): (f64, f64), bins: usize) -> Vec<f64> {
    let mut counts = vec![0.0; bins];
    for v in values.iter().filter(|v| v.is_finite()) {
        let t = ((v - lo) / (hi - lo) * bins as f64).floor();
        let i = (t.max(0.0) as usize).min(bins - 1);
        counts[i] += 1.0;
    }
    counts
}

/// The standard deviation of `values` (over all of them: the spread of a layer's weights).
pub fn std_dev(values: &[f64]) -> f64 {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

/// The three colours of the weights figure's bars: before training, after training, and where
/// the two histograms overlap. Each is what a translucent bar would show on white (grey at 50 %,
/// orange at 55 %, orange at 55 % over grey), painted opaque so the legend can name all three.
pub fn weight_bar_colours() -> [String; 3] {
    let before = colour::mix("#ffffff", "#888888", 0.5);
    let after = colour::mix("#ffffff", colour::class(1), 0.55);
    let both = colour::mix(&before, colour::class(1), 0.55);
    [before, after, both]
}

/// Histograms of each layer's weights before and after training (moons, two hidden layers).
///
/// # Errors
/// Never in practice (the runs use built-in tasks).
pub fn weights(settings: &Settings) -> Result<Vec<Figure>> {
    let mut options = task("moons");
    options.hidden = vec![32, 32];
    options.samples = 300;
    options.epochs = settings.epochs(500);
    let run = train(&options)?;
    let before: Vec<Vec<f64>> = run
        .initial
        .dense_layers()
        .map(|d| d.w.as_slice().to_vec())
        .collect();
    let after: Vec<Vec<f64>> = run
        .network
        .dense_layers()
        .map(|d| d.w.as_slice().to_vec())
        .collect();
    let n_in: Vec<usize> = run.initial.dense_layers().map(|d| d.w.rows()).collect();
    let layers = before.len();
    let spread: Vec<(f64, f64)> = (0..layers)
        .map(|l| (std_dev(&before[l]), std_dev(&after[l])))
        .collect();
    let mut svg = Svg::new(300.0 * layers as f64 + 80.0, 470.0);
    axes::title(
        &mut svg,
        &format!(
            "Weights before and after training (moons, {}, {} epochs)",
            run.network.description().split(" · ").next().unwrap_or(""),
            run.history.epochs.len()
        ),
    );
    // What the data show, in words: the start is set by n_in, and which layers training widened.
    let widened: Vec<String> = (0..layers)
        .filter(|&l| spread[l].1 > spread[l].0)
        .map(|l| format!("W{}", crate::network::superscript(l + 1)))
        .collect();
    let change = match widened.len() {
        0 => "training narrows every layer".to_string(),
        n if n == layers => "training widens every layer".to_string(),
        _ => format!("training widens {}", widened.join(" and ")),
    };
    let widest = (0..layers)
        .max_by(|a, b| spread[*a].0.total_cmp(&spread[*b].0))
        .unwrap_or(0);
    axes::subtitle(
        &mut svg,
        &format!(
            "initial spread ∝ 1/√n_in, so W{} ({} inputs per unit) starts widest and the layers after it narrower; {change}",
            crate::network::superscript(widest + 1),
            n_in[widest]
        ),
    );
    let [before_colour, after_colour, both_colour] = weight_bar_colours();
    for l in 0..layers {
        let all = before[l].iter().chain(&after[l]).copied();
        let (lo, hi) = extent(all).unwrap_or((-1.0, 1.0));
        let bins = 24;
        let width = (hi - lo) / bins as f64;
        let centres: Vec<f64> = (0..bins).map(|i| lo + width * (i as f64 + 0.5)).collect();
        let h0 = histogram(&before[l], (lo, hi), bins);
        let h1 = histogram(&after[l], (lo, hi), bins);
        let top = h0.iter().chain(&h1).copied().fold(1.0, f64::max);
        let left = 70.0 + 300.0 * l as f64;
        let panel = Panel::new(
            (left, 80.0, 230.0, 240.0),
            (lo, hi),
            (0.0, top * 1.1),
            (false, false),
        );
        panel.draw_axes(
            &mut svg,
            "weight value",
            if l == 0 { "number of weights" } else { "" },
            &format!(
                "W{} ({} weights)",
                crate::network::superscript(l + 1),
                before[l].len()
            ),
        );
        svg.text(
            (left + 115.0, 374.0),
            &format!(
                "standard deviation {} → {}",
                format_number((spread[l].0 * 100.0).round() / 100.0),
                format_number((spread[l].1 * 100.0).round() / 100.0)
            ),
            axes::SMALL.middle().coloured("#555"),
        );
        // Each bin: the overlap from 0 to the smaller count, then the larger one's excess.
        for (c, (b, a)) in centres.iter().zip(h0.iter().zip(&h1)) {
            let overlap = b.min(*a);
            let (excess, fill) = if a > b {
                (*a, &after_colour)
            } else {
                (*b, &before_colour)
            };
            for (from, to, fill) in [(0.0, overlap, &both_colour), (overlap, excess, fill)] {
                if to <= from {
                    continue;
                }
                let (x0, y0) = panel.at(c - width / 2.0, to);
                let (x1, y1) = panel.at(c + width / 2.0, from);
                svg.leaf(
                    "rect",
                    &[
                        ("class", "bar".into()),
                        ("x", x0.into()),
                        ("y", y0.into()),
                        ("width", (x1 - x0).into()),
                        ("height", (y1 - y0).into()),
                        ("fill", fill.as_str().into()),
                    ],
                );
            }
        }
    }
    legend(
        &mut svg,
        (70.0, 398.0),
        &[
            ("before training".to_string(), before_colour, Mark::Square),
            ("after training".to_string(), after_colour, Mark::Square),
            (
                "both (the histograms overlap)".to_string(),
                both_colour,
                Mark::Square,
            ),
        ],
    );
    Ok(vec![Figure {
        file: "weights.svg".to_string(),
        svg: svg.finish(),
    }])
}

/// The task `compare` trains on by default, and so the comparison figures.
pub const COMPARISON_TASK: &str = "circles";

/// What each study varies, in words for a title.
fn study_title(study: Study) -> &'static str {
    match study {
        Study::Activations => "hidden activations",
        Study::LearningRates => "learning rates",
        Study::HiddenSizes => "hidden layer sizes",
        Study::Depths => "depths",
        Study::Optimizers => "optimizers",
    }
}

/// The runs of one comparison figure: what `backprop compare <study>` runs by default (the task
/// [`COMPARISON_TASK`] with its defaults and seed 42, one run per variant of
/// [`Study::variants`]), with a tenth of the epochs in quick mode.
///
/// # Errors
/// Never in practice (the runs use a built-in task).
pub fn comparison_runs(study: Study, settings: &Settings) -> Result<Comparison> {
    compare::compare_with(study, &comparison_base(settings), |_, _| {})
}

/// The options every comparison varies one setting of: [`COMPARISON_TASK`]'s defaults.
pub fn comparison_base(settings: &Settings) -> RunOptions {
    let mut base = task(COMPARISON_TASK);
    base.epochs = settings.epochs(base.epochs);
    base
}

/// One comparison figure: test loss and test metric per epoch, one curve per variant of `base`.
pub fn comparison_figure(comparison: &Comparison, base: &RunOptions) -> Figure {
    let study = comparison.study;
    let mut svg = Svg::new(1000.0, 420.0);
    axes::title(
        &mut svg,
        &format!(
            "Comparing {} on {} (backprop compare {})",
            study_title(study),
            comparison.task,
            study.name()
        ),
    );
    let hidden: Vec<String> = base.hidden.iter().map(usize::to_string).collect();
    axes::subtitle(
        &mut svg,
        &format!(
            "the rest as the task's defaults (hidden {} {}, {} η = {}, {} epochs) and seed {}: the same data, first weights and batches",
            hidden.join(","),
            base.activation.name(),
            base.rule.name(),
            format_number(base.lr),
            base.epochs,
            comparison.seed
        ),
    );
    let mut loss = Vec::new();
    let mut metric = Vec::new();
    for (k, v) in comparison.variants.iter().enumerate() {
        let epochs: Vec<f64> = v.history.epochs.iter().map(|e| e.epoch as f64).collect();
        let mut test_loss: Vec<f64> = v
            .history
            .epochs
            .iter()
            .map(|e| e.test_loss.unwrap_or(f64::NAN))
            .collect();
        let test_metric: Vec<f64> = v
            .history
            .epochs
            .iter()
            .map(|e| e.test_metric.unwrap_or(f64::NAN))
            .collect();
        let mut label = v.label.clone();
        if let Some(d) = &v.history.divergence {
            label.push_str(&format!(" (overflowed in epoch {})", d.epoch));
            test_loss.push(f64::INFINITY);
        }
        loss.push(Series::new(
            label.clone(),
            epochs.clone(),
            test_loss,
            colour::line(k),
        ));
        metric.push(Series::new(label, epochs, test_metric, colour::line(k)));
    }
    line_chart(
        &mut svg,
        (80.0, 80.0, 330.0, 260.0),
        &loss,
        &Chart {
            title: "test loss",
            x_label: "epoch",
            y_label: "test loss (log scale)",
            log: (false, true),
            x_ends_at_data: false,
            y_limits: None,
            legend: LegendAt::None,
        },
    );
    let accuracy = comparison
        .variants
        .first()
        .is_some_and(|v| v.history.metric.name() == "accuracy");
    line_chart(
        &mut svg,
        (500.0, 80.0, 260.0, 260.0),
        &metric,
        &Chart {
            title: if accuracy {
                "test accuracy"
            } else {
                "test mean squared error"
            },
            x_label: "epoch",
            y_label: if accuracy {
                "fraction correct"
            } else {
                "MSE (log scale)"
            },
            log: (false, !accuracy),
            x_ends_at_data: false,
            y_limits: if accuracy { Some((0.0, 1.0)) } else { None },
            legend: LegendAt::Outside,
        },
    );
    svg.text(
        (80.0, 400.0),
        "the final numbers of each run are in the table 'backprop compare' prints",
        axes::SMALL.coloured("#555"),
    );
    Figure {
        file: format!("comparison-{}.svg", study.name()),
        svg: svg.finish(),
    }
}

/// The comparison figures, one per study of `backprop compare` on its default task and variants,
/// and under/over-fitting (train and test loss against network size on a small, noisy sine).
///
/// # Errors
/// Never in practice (the runs use built-in tasks).
pub fn comparisons(settings: &Settings) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let base = comparison_base(settings);
    for (_, study) in Study::ALL {
        let comparison = compare::compare_with(study, &base, |_, _| {})?;
        figures.push(comparison_figure(&comparison, &base));
    }
    figures.push(fitting(settings)?);
    Ok(figures)
}

/// The hidden sizes of the under- and over-fitting figure.
pub const FITTING_SIZES: [usize; 6] = [1, 2, 4, 8, 16, 64];

/// The noise σ of the under- and over-fitting data: the best possible MSE is σ² = 0.09.
pub const FITTING_NOISE: f64 = 0.3;

/// The runs behind the under- and over-fitting figure: for each of [`FITTING_SIZES`], two hidden
/// layers of that many units trained with Adam (η = 0.01, full batch) on 15 noisy sine points
/// and tested on 15 others.
///
/// Measured with 1500 epochs (final train / test MSE): 1 unit 0.43 / 0.57, 2 units 0.21 / 0.28,
/// 4 units 0.006 / 0.15, 8 units 0.004 / 1.08, 16 units 0.004 / 0.35, 64 units 0.00001 / 0.39.
///
/// # Errors
/// Never in practice (the runs use built-in tasks).
pub fn fitting_runs(settings: &Settings) -> Result<Vec<(usize, Run)>> {
    FITTING_SIZES
        .iter()
        .map(|&h| {
            let mut options = task("sine");
            options.samples = 30;
            options.noise = FITTING_NOISE;
            options.test_fraction = 0.5;
            options.hidden = vec![h, h];
            options.rule = Rule::from_name("adam").expect("a known optimizer");
            options.lr = 0.01;
            options.schedule = Schedule::Constant;
            options.batch_size = 0;
            options.epochs = settings.epochs(1500);
            Ok((h, train(&options)?))
        })
        .collect()
}

/// Under- and over-fitting: final train and test loss against hidden size on 15 noisy sine
/// points, and the largest network's losses per epoch. Small networks cannot bend enough (both
/// losses high); large ones bend through the noise (train loss far below σ², test loss above).
fn fitting(settings: &Settings) -> Result<Figure> {
    let runs = fitting_runs(settings)?;
    let floor = FITTING_NOISE * FITTING_NOISE;
    let last = |run: &Run, test: bool| {
        run.history.last().map_or(f64::NAN, |e| {
            if test {
                e.test_loss.unwrap_or(f64::NAN)
            } else {
                e.train_loss
            }
        })
    };
    let xs: Vec<f64> = runs.iter().map(|(h, _)| *h as f64).collect();
    let train_loss: Vec<f64> = runs.iter().map(|(_, r)| last(r, false)).collect();
    let test_loss: Vec<f64> = runs.iter().map(|(_, r)| last(r, true)).collect();
    // One y range for both panels, so the same height means the same loss.
    let (big, big_run) = runs.last().expect("at least one size");
    let curves = RunCurves::from_history(&big_run.history);
    let y = positive_extent(
        train_loss
            .iter()
            .chain(&test_loss)
            .chain(&curves.train_loss)
            .chain(&curves.test_loss)
            .copied()
            .chain([floor]),
    );
    let mut svg = Svg::new(1000.0, 440.0);
    axes::title(
        &mut svg,
        "Under- and over-fitting: 15 noisy sine points (σ = 0.3), two hidden layers",
    );
    axes::subtitle(
        &mut svg,
        "1–2 units underfit: both losses high; from 4 units the train loss falls far below the noise σ², the test loss stays above it",
    );
    let noise_label = format!("noise floor σ² = {floor:.2}");
    let series = [
        Series::new("train loss", xs.clone(), train_loss, colour::line(0)),
        Series::new("test loss", xs.clone(), test_loss, colour::line(1)).dashed(),
        Series::new(
            &noise_label,
            xs.clone(),
            vec![floor; xs.len()],
            NOISE_FLOOR_COLOUR,
        )
        .dashed(),
    ];
    let panel = line_chart(
        &mut svg,
        (90.0, 85.0, 380.0, 270.0),
        &series,
        &Chart {
            title: "final loss against size",
            x_label: "units per hidden layer (log scale)",
            y_label: "final MSE loss (log scale)",
            log: (true, true),
            x_ends_at_data: false,
            y_limits: y,
            legend: LegendAt::BottomLeft,
        },
    );
    for s in &series[..2] {
        for (x, y) in s.xs.iter().zip(&s.ys) {
            svg.circle(panel.at(*x, *y), 3.5, &s.colour, "#fff", "point");
        }
    }
    let epochs = [
        Series::new(
            "train loss",
            curves.epoch.clone(),
            curves.train_loss.clone(),
            colour::line(0),
        ),
        Series::new(
            "test loss",
            curves.epoch.clone(),
            curves.test_loss.clone(),
            colour::line(1),
        )
        .dashed(),
        Series::new(
            "",
            curves.epoch.clone(),
            vec![floor; curves.epoch.len()],
            "#888",
        )
        .dashed(),
    ];
    line_chart(
        &mut svg,
        (580.0, 85.0, 380.0, 270.0),
        &epochs,
        &Chart {
            title: &format!("{big} units per layer, per epoch"),
            x_label: "epoch",
            y_label: "MSE loss (log scale)",
            log: (false, true),
            x_ends_at_data: false,
            y_limits: y,
            legend: LegendAt::None,
        },
    );
    svg.text(
        (500.0, 425.0),
        "test points: 15 other draws of the same noisy sine; grey dashed: σ², what the true curve sin x scores on average",
        axes::SMALL.middle().coloured("#555"),
    );
    Ok(Figure {
        file: "comparison-fitting.svg".to_string(),
        svg: svg.finish(),
    })
}
