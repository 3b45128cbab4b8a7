//! The architecture: neurons as circles in columns, one column per layer, and every weight as a
//! line between two neurons.
//!
//! ```text
//! Wˡ[i][j]   the line from neuron i of layer l−1 to neuron j of layer l
//! colour     sign: blue for w > 0 (excites), vermilion for w < 0 (inhibits)
//! width      |w| / max |w| of the whole network (thin lines barely matter)
//! ```
//!
//! Layers wider than [`MAX_DRAWN`] show their first neurons and an ellipsis. Each input neuron is
//! labelled with its feature's name and each output neuron with what it computes (`P(setosa)`,
//! `ŷ`). The figure draws a network it trains itself (moons, 2 → 8 → 6 → 1), or a saved model
//! (`--model FILE`), whose file holds the feature and class names.

use super::axes::{self, legend, Mark};
use super::colour;
use super::curves::{task, train};
use super::svg::Svg;
use super::{Figure, Settings};
use crate::data::Task;
use crate::error::Result;
use crate::layer::Layer;
use crate::network::{superscript, Network};

/// The most neurons drawn in one column.
pub const MAX_DRAWN: usize = 16;

/// What the inputs and outputs of a network mean, for the labels beside its first and last
/// columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labels {
    /// One name per input (a feature's name), or empty for `x₁, x₂, …`.
    pub inputs: Vec<String>,
    /// One name per output (`P(setosa)`, `ŷ`), or empty for `ŷ₁, ŷ₂, …`.
    pub outputs: Vec<String>,
    /// A note under the figure (e.g. that the inputs are standardised first), or empty.
    pub note: String,
}

impl Labels {
    /// The labels of a network trained on data with these feature and class names.
    ///
    /// ```text
    /// binary       one output, σ(z) = P(y = class 1)       →  P(inner)
    /// multiclass   one output per class, softmax            →  P(setosa), P(versicolor), …
    /// regression   one output per target                    →  ŷ
    /// ```
    pub fn for_data(task: Task, feature_names: &[String], class_names: &[String]) -> Labels {
        // A class called by a number reads better as "y = 1" inside P(…).
        let class = |k: usize| match class_names.get(k) {
            Some(name) if name.parse::<f64>().is_err() => name.clone(),
            Some(name) => format!("y = {name}"),
            None => format!("y = {k}"),
        };
        let outputs = match task {
            Task::Binary => vec![format!("P({})", class(1))],
            Task::Multiclass { classes } => {
                (0..classes).map(|k| format!("P({})", class(k))).collect()
            }
            Task::Regression => vec!["ŷ".to_string()],
        };
        Labels {
            inputs: feature_names.to_vec(),
            outputs,
            note: String::new(),
        }
    }
}

/// `n` in subscript digits: 12 → ₁₂.
fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|d| char::from_u32('₀' as u32 + d.to_digit(10).unwrap_or(0)).unwrap_or('?'))
        .collect()
}

/// Labels for `n` neurons: `names` if there is one per neuron, else `symbol₁, symbol₂, …`.
fn names_or(names: &[String], n: usize, symbol: &str) -> Vec<String> {
    if names.len() == n {
        names.to_vec()
    } else if n == 1 {
        vec![symbol.to_string()]
    } else {
        (1..=n)
            .map(|i| format!("{symbol}{}", subscript(i)))
            .collect()
    }
}

/// The architecture figure of `network`, its inputs and outputs named by `labels`.
pub fn architecture_of(network: &Network, title: &str, labels: &Labels) -> Figure {
    // Sizes and activations of each column: the inputs, then each dense layer.
    let mut columns: Vec<(usize, String)> = vec![(network.n_in(), "input".to_string())];
    let mut weights = Vec::new();
    let mut dense = 0;
    for layer in network.layers() {
        match layer {
            Layer::Dense(d) => {
                dense += 1;
                columns.push((d.n_out(), format!("W{}", superscript(dense))));
                weights.push(d.w.clone());
            }
            Layer::Activation(f) => {
                if let Some(last) = columns.last_mut() {
                    last.1 = format!("{} {}", last.1, f.name());
                }
            }
            Layer::BatchNorm(_) => {}
            Layer::Dropout(_) => {}
        }
    }
    let max_abs = weights.iter().map(|w| w.max_abs()).fold(1e-12, f64::max);
    let last = columns.len() - 1;
    let inputs = names_or(&labels.inputs, columns[0].0, "x");
    let outputs = names_or(&labels.outputs, columns[last].0, "ŷ");
    // Room for the longest label beside the first and last columns (about 6.2 px a letter).
    let room = |names: &[String]| {
        let longest = names
            .iter()
            .take(MAX_DRAWN)
            .map(|n| n.chars().count())
            .max();
        (30.0 + 6.2 * longest.unwrap_or(0) as f64).max(100.0)
    };
    let (left, right) = (room(&inputs), room(&outputs));
    let width = (left + 200.0 * last as f64 + right).max(420.0);
    let height = 560.0;
    let mut svg = Svg::new(width, height);
    axes::title(&mut svg, title);
    axes::subtitle(&mut svg, &network.description());
    let (top, bottom) = (90.0, 480.0);
    let position = |c: usize, i: usize| {
        let n = columns[c].0.min(MAX_DRAWN);
        let x = left + 200.0 * c as f64;
        let spacing = ((bottom - top) / n.max(1) as f64).min(44.0);
        let y = (top + bottom) / 2.0 + (i as f64 - (n as f64 - 1.0) / 2.0) * spacing;
        (x, y)
    };
    for (l, w) in weights.iter().enumerate() {
        for i in 0..w.rows().min(MAX_DRAWN) {
            for j in 0..w.cols().min(MAX_DRAWN) {
                let v = w.get(i, j);
                let stroke = if v >= 0.0 {
                    colour::OKABE_ITO[4]
                } else {
                    colour::OKABE_ITO[5]
                };
                let width = 0.3 + 4.0 * v.abs() / max_abs;
                svg.leaf(
                    "line",
                    &[
                        ("class", "weight".into()),
                        ("x1", position(l, i).0.into()),
                        ("y1", position(l, i).1.into()),
                        ("x2", position(l + 1, j).0.into()),
                        ("y2", position(l + 1, j).1.into()),
                        ("stroke", stroke.into()),
                        ("stroke-width", width.into()),
                        ("stroke-opacity", 0.75.into()),
                    ],
                );
            }
        }
    }
    for (c, (n, label)) in columns.iter().enumerate() {
        for i in 0..(*n).min(MAX_DRAWN) {
            let (x, y) = position(c, i);
            svg.circle((x, y), 9.0, "#fff", "#222", "neuron");
            if c == 0 {
                svg.text((x - 15.0, y + 4.0), &inputs[i], axes::SMALL.end());
            }
            if c == last {
                svg.text((x + 15.0, y + 4.0), &outputs[i], axes::SMALL);
            }
        }
        let x = position(c, 0).0;
        if *n > MAX_DRAWN {
            svg.text(
                (x, bottom + 22.0),
                &format!("… {} more", n - MAX_DRAWN),
                axes::SMALL.middle(),
            );
        }
        let name = if c == 0 {
            format!("input: {n}")
        } else if c == last {
            format!("output: {n}")
        } else {
            format!("hidden {c}: {n}")
        };
        svg.text((x, top - 22.0), &name, axes::LABEL.middle().bold());
        if c > 0 {
            svg.text((x, top - 8.0), label, axes::SMALL.middle());
        }
    }
    if !labels.note.is_empty() {
        svg.text(
            (width - 20.0, height - 18.0),
            &labels.note,
            axes::SMALL.end().coloured("#555"),
        );
    }
    legend(
        &mut svg,
        (20.0, height - 48.0),
        &[
            (
                "w > 0 (width ∝ |w|)".to_string(),
                colour::OKABE_ITO[4].to_string(),
                Mark::Line,
            ),
            (
                "w < 0".to_string(),
                colour::OKABE_ITO[5].to_string(),
                Mark::Line,
            ),
        ],
    );
    Figure {
        file: "architecture.svg".to_string(),
        svg: svg.finish(),
    }
}

/// `plot architecture`: the network of a saved model (`--model FILE`), labelled with the
/// model's feature and class names, or else a moons network 2 → 8 → 6 → 1 trained for the
/// picture.
///
/// # Errors
/// If the model file cannot be read or is malformed.
pub fn architecture(settings: &Settings) -> Result<Vec<Figure>> {
    if let Some(path) = &settings.model {
        let model = crate::model_file::Model::load(path)?;
        let title = format!("A trained network ({}): neurons and weights", model.task);
        let mut labels = Labels::for_data(model.target, &model.feature_names, &model.class_names);
        if model.standardizer.is_some() {
            labels.note =
                "each input is standardised, (x − μ)/σ with the training rows' μ and σ, before W¹"
                    .to_string();
        }
        return Ok(vec![architecture_of(&model.network, &title, &labels)]);
    }
    let mut options = task("moons");
    options.hidden = vec![8, 6];
    options.epochs = settings.epochs(options.epochs);
    let run = train(&options)?;
    let data = &run.data.train;
    Ok(vec![architecture_of(
        &run.network,
        "A trained network (moons): neurons and weights",
        &Labels::for_data(data.task, &data.feature_names, &data.class_names),
    )])
}
