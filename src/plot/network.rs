//! The architecture: neurons as circles in columns, one column per layer, and every weight as a
//! line between two neurons.
//!
//! ```text
//! Wˡ[i][j]   the line from neuron i of layer l−1 to neuron j of layer l
//! colour     sign: blue for w > 0 (excites), vermilion for w < 0 (inhibits)
//! width      |w| / max |w| of the whole network (thin lines barely matter)
//! ```
//!
//! Layers wider than [`MAX_DRAWN`] show their first neurons and an ellipsis. The figure draws a
//! network it trains itself (moons, 2 → 8 → 6 → 1); reading a saved model (`--model FILE`) waits
//! for the model loader.

use super::axes::{self, legend, Mark};
use super::colour;
use super::curves::{task, train};
use super::svg::Svg;
use super::{Figure, Settings};
use crate::error::Result;
use crate::layer::Layer;
use crate::network::{superscript, Network};

/// The most neurons drawn in one column.
pub const MAX_DRAWN: usize = 16;

/// The architecture figure of `network`.
pub fn architecture_of(network: &Network, title: &str) -> Figure {
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
    let width = 200.0 + 200.0 * (columns.len() - 1) as f64;
    let height = 560.0;
    let mut svg = Svg::new(width, height);
    axes::title(&mut svg, title);
    axes::subtitle(&mut svg, &network.description());
    let (top, bottom) = (90.0, 480.0);
    let position = |c: usize, i: usize| {
        let n = columns[c].0.min(MAX_DRAWN);
        let x = 100.0 + 200.0 * c as f64;
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
            svg.circle(position(c, i), 9.0, "#fff", "#222", "neuron");
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
        } else if c == columns.len() - 1 {
            format!("output: {n}")
        } else {
            format!("hidden {c}: {n}")
        };
        svg.text((x, top - 22.0), &name, axes::LABEL.middle().bold());
        if c > 0 {
            svg.text((x, top - 8.0), label, axes::SMALL.middle());
        }
    }
    legend(
        &mut svg,
        (20.0, height - 60.0),
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

/// `plot architecture`: the network of a saved model (`--model FILE`), or else a moons network
/// 2 → 8 → 6 → 1 trained for the picture.
///
/// # Errors
/// If the model file cannot be read or is malformed.
pub fn architecture(settings: &Settings) -> Result<Vec<Figure>> {
    if let Some(path) = &settings.model {
        let model = crate::model_file::Model::load(path)?;
        let title = format!("A trained network ({}): neurons and weights", model.task);
        return Ok(vec![architecture_of(&model.network, &title)]);
    }
    let mut options = task("moons");
    options.hidden = vec![8, 6];
    options.epochs = settings.epochs(options.epochs);
    let run = train(&options)?;
    Ok(vec![architecture_of(
        &run.network,
        "A trained network (moons): neurons and weights",
    )])
}
