//! The initialisation figure: how the scale of the first weights carries a signal forward and a
//! gradient backward through a deep network, before any training.
//!
//! ```text
//! network    10 dense layers 256 → 256, each followed by f (ReLU or tanh), b = 0
//! input      X = A⁰: 1000 × 256 draws of Normal(0, 1), so E[x²] = 1
//! upstream   dA¹⁰: 1000 × 256 draws of Normal(0, 1), a gradient of unit mean square at the top
//! forward    E[(Aˡ)²]    for l = 0, 1, …, 10    (the mean over all n_samples × 256 entries)
//! backward   E[(dAˡ)²]   for l = 10, 9, …, 0    (dA⁰ = dX, the gradient that reaches the input)
//! ```
//!
//! (`--quick` feeds 200 rows instead of 1000: the same lines to within a few %.)
//!
//! The weights are drawn as `W ~ Normal(0, σ)` for five choices of σ: 0 (all weights zero), 0.01
//! (too small), 1 (too large), He's `√(2/n_in)` and Glorot's `√(2/(n_in + n_out))`, and the same
//! draws of `Normal(0, 1)` are scaled for each, so the five networks differ only in σ. The
//! chapter on initialisation (`dense.rs`) predicts every line of the figure:
//!
//! ```text
//! E[(Aˡ)²]    = g · n_in · σ² · E[(Aˡ⁻¹)²]      g = ½ for ReLU, g ≈ 1 for tanh while |z| is small
//! E[(dAˡ⁻¹)²] = g · n_out · σ² · E[(dAˡ)²]
//! ```
//!
//! With n_in = n_out = 256 the factor per layer is 128·σ² for ReLU: 0.0128 for σ = 0.01, 128 for
//! σ = 1, exactly 1 for He (and ½ for Glorot, which is tuned for g = 1). tanh cannot grow past 1
//! forward, so σ = 1 saturates it instead.
//!
//! The numbers come from the crate's own [`Network`] (`forward`, then `backward` from the fixed
//! `dA¹⁰`); [`spreads`] returns them for tests, [`figure`] draws them.

use super::axes::{self, legend, Mark, LABEL, SMALL, SUBTITLE};
use super::colour;
use super::scale::Scale;
use super::svg::Svg;
use super::{Figure, Settings};
use crate::activation::Activation;
use crate::dense::{Dense, Init};
use crate::error::Result;
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::network::{superscript, Network};
use crate::rng::Rng;

/// Dense layers in the network.
pub const DEPTH: usize = 10;
/// Units in every layer (n_in = n_out = 256).
pub const WIDTH: usize = 256;
/// Rows of the input batch.
pub const SAMPLES: usize = 1000;

/// The seeds of the input `X`, the weights and the upstream gradient `dA¹⁰`.
const SEEDS: (u64, u64, u64) = (1, 2, 3);

/// How the weights are drawn: `W ~ Normal(0, σ)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightScale {
    /// Every weight 0 (σ = 0).
    Zero,
    /// A fixed σ, whatever the layer's size.
    Fixed(f64),
    /// The σ of an initialisation scheme (He or Glorot), from the layer's size.
    Scheme(Init),
}

impl WeightScale {
    /// σ for a layer of `n_in` inputs and `n_out` outputs.
    pub fn std_dev(&self, n_in: usize, n_out: usize) -> f64 {
        match self {
            WeightScale::Zero => 0.0,
            WeightScale::Fixed(sigma) => *sigma,
            WeightScale::Scheme(init) => init.std_dev(n_in, n_out),
        }
    }

    /// The legend's text: `all weights 0`, `σ = 0.01`, `He: σ = √(2/n_in)`, ….
    pub fn label(&self) -> String {
        match self {
            WeightScale::Zero => "all weights 0".to_string(),
            WeightScale::Fixed(sigma) => format!("σ = {sigma}"),
            WeightScale::Scheme(Init::He) => "He: σ = √(2/n_in)".to_string(),
            WeightScale::Scheme(Init::Glorot) => "Glorot: σ = √(2/(n_in + n_out))".to_string(),
        }
    }
}

/// The five weight scales of the figure, in legend order.
pub const SCALES: [WeightScale; 5] = [
    WeightScale::Zero,
    WeightScale::Fixed(0.01),
    WeightScale::Fixed(1.0),
    WeightScale::Scheme(Init::He),
    WeightScale::Scheme(Init::Glorot),
];

/// The two activations of the figure, one row of panels each.
pub const ACTIVATIONS: [Activation; 2] = [Activation::Relu, Activation::Tanh];

/// The mean squares of the values and gradients of one network, layer by layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Spread {
    /// How the weights were drawn.
    pub scale: WeightScale,
    /// The activation after every dense layer.
    pub activation: Activation,
    /// `activations[l] = E[(Aˡ)²]` for l = 0 … DEPTH (`A⁰ = X`).
    pub activations: Vec<f64>,
    /// `gradients[l] = E[(dAˡ)²]` for l = 0 … DEPTH (`dA^DEPTH` is the upstream gradient,
    /// `dA⁰ = dX`).
    pub gradients: Vec<f64>,
}

/// `E[m²]`, the mean of the squares of all entries.
fn mean_square(m: &Matrix) -> f64 {
    m.norm_squared() / m.as_slice().len() as f64
}

/// The network of the figure: [`DEPTH`] dense layers of [`WIDTH`] units with weights
/// `Normal(0, σ)` for `scale` (from the seeded weights generator) and zero biases, each followed
/// by `f`.
pub fn network(scale: WeightScale, f: Activation) -> Network {
    let mut rng = Rng::new(SEEDS.1);
    let mut layers = Vec::new();
    for _ in 0..DEPTH {
        let sigma = scale.std_dev(WIDTH, WIDTH);
        let w = Matrix::random_normal(WIDTH, WIDTH, 0.0, sigma, &mut rng); // (n_in, n_out)
        layers.push(Layer::Dense(Dense::from_parameters(
            w,
            Matrix::zeros(1, WIDTH),
        )));
        layers.push(Layer::Activation(f));
    }
    let mut network = Network::new(layers);
    // The gradient that reaches X is the last point of the backward panel.
    network.input_gradient = true;
    network
}

/// Runs one network of the figure on `samples` rows: forward from `X`, backward from `dA¹⁰`,
/// and the mean square of every `Aˡ` and `dAˡ`.
pub fn spread(scale: WeightScale, f: Activation, samples: usize) -> Spread {
    let x = Matrix::random_normal(samples, WIDTH, 0.0, 1.0, &mut Rng::new(SEEDS.0)); // (n, 256)
    let upstream = Matrix::random_normal(samples, WIDTH, 0.0, 1.0, &mut Rng::new(SEEDS.2));
    let mut network = network(scale, f);
    network.forward(&x, false);
    network.backward(&upstream);
    // The stack is [Dense, f, Dense, f, …]: values[2l] = Aˡ and gradients[2l] = dAˡ.
    let every_other =
        |list: &[Matrix]| -> Vec<f64> { list.iter().step_by(2).map(mean_square).collect() };
    Spread {
        scale,
        activation: f,
        activations: every_other(network.values()),
        gradients: every_other(network.gradients()),
    }
}

/// Every network of the figure: each of [`ACTIVATIONS`] with each of [`SCALES`], on `samples`
/// rows ([`SAMPLES`] in the figure, a fifth of them with `--quick`).
pub fn spreads(samples: usize) -> Vec<Spread> {
    ACTIVATIONS
        .iter()
        .flat_map(|f| SCALES.iter().map(|s| spread(*s, *f, samples)))
        .collect()
}

/// The colour of each of [`SCALES`]: dark grey for zero, then Okabe–Ito blue, vermilion, bluish
/// green (He, the one to aim for) and reddish purple.
fn colour_of(scale: WeightScale) -> &'static str {
    match scale {
        WeightScale::Zero => "#333333",
        WeightScale::Fixed(sigma) if sigma < 0.1 => colour::line(0),
        WeightScale::Fixed(_) => colour::line(3),
        WeightScale::Scheme(Init::He) => colour::line(2),
        WeightScale::Scheme(Init::Glorot) => colour::line(4),
    }
}

/// A panel with a log y axis and, below a break, a row for the values that are exactly 0 (a log
/// scale has no 0, and all-zero weights make every value above the input 0).
struct Frame {
    x: Scale,
    y: Scale,
    /// The pixel row of the value 0.
    zero: f64,
}

/// Pixels between the bottom of the log axis and the frame's bottom edge: the break, then the
/// row of 0.
const ZERO_STRIP: f64 = 28.0;

impl Frame {
    /// Draws the frame in `(left, top, width, height)` for layers 0 … DEPTH and the powers of ten
    /// `10^lo … 10^hi` (labelled every 5), with its labels and title.
    fn draw(
        svg: &mut Svg,
        (left, top, width, height): (f64, f64, f64, f64),
        (lo, hi): (i32, i32),
        (x_label, y_label, title): (&str, &str, &str),
    ) -> Frame {
        let bottom = top + height;
        let log_bottom = bottom - ZERO_STRIP;
        let frame = Frame {
            x: Scale::linear((0.0, DEPTH as f64), (left, left + width)),
            y: Scale::log((10f64.powi(lo), 10f64.powi(hi)), (log_bottom, top)),
            zero: bottom - 8.0,
        };
        for l in 0..=DEPTH {
            let px = frame.x.map(l as f64);
            svg.line((px, top), (px, bottom), "#e6e6e6", 1.0);
            svg.line((px, bottom), (px, bottom + 4.0), "#444", 1.0);
            svg.text((px, bottom + 16.0), &l.to_string(), SMALL.middle());
        }
        for e in (lo..=hi).filter(|e| e % 5 == 0) {
            let v = 10f64.powi(e);
            let py = frame.y.map(v);
            // E = 1, what a well-scaled layer keeps, is drawn a little darker.
            let grid = if e == 0 { "#bbb" } else { "#e6e6e6" };
            svg.line((left, py), (left + width, py), grid, 1.0);
            svg.line((left - 4.0, py), (left, py), "#444", 1.0);
            svg.text((left - 7.0, py + 4.0), &frame.y.label(v), SMALL.end());
        }
        svg.line(
            (left, frame.zero),
            (left + width, frame.zero),
            "#e6e6e6",
            1.0,
        );
        svg.line((left - 4.0, frame.zero), (left, frame.zero), "#444", 1.0);
        svg.text((left - 7.0, frame.zero + 4.0), "0", SMALL.end());
        // The y axis, broken between the log scale and the row of 0.
        let (gap_top, gap_bottom) = (log_bottom + 4.0, log_bottom + 10.0);
        svg.line((left, top), (left, gap_top), "#444", 1.0);
        svg.line((left, gap_bottom), (left, bottom), "#444", 1.0);
        for y in [gap_top, gap_bottom] {
            svg.line((left - 5.0, y + 2.0), (left + 5.0, y - 2.0), "#444", 1.0);
        }
        svg.line((left, bottom), (left + width, bottom), "#444", 1.0);
        svg.text((left + width / 2.0, bottom + 34.0), x_label, LABEL.middle());
        svg.text(
            (left - 52.0, top + height / 2.0),
            y_label,
            LABEL.middle().rotated(-90.0),
        );
        svg.text((left + width / 2.0, top - 10.0), title, SUBTITLE.middle());
        frame
    }

    /// The pixel position of `value` at layer `l`: on the log scale, or on the row of 0.
    fn at(&self, l: usize, value: f64) -> (f64, f64) {
        let y = if value == 0.0 {
            self.zero
        } else {
            self.y.map(value)
        };
        (self.x.map(l as f64), y)
    }

    /// One network's values, layer by layer: a line, a dot per layer, and a cross for a value
    /// that is exactly 0.
    fn series(&self, svg: &mut Svg, values: &[f64], colour: &str) {
        let points: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .map(|(l, v)| self.at(l, *v))
            .collect();
        svg.polyline(&points, colour, 2.0, "");
        for (point, value) in points.iter().zip(values) {
            if *value == 0.0 {
                cross(svg, *point, colour);
            } else {
                svg.circle(*point, 3.0, colour, "#fff", "layer");
            }
        }
    }
}

/// The forward mean squares of `rows` on a linear scale from 0 to 1.1, in a small framed chart
/// at `(left, top, width, height)` over the same layers as the panel it sits in.
fn zoom(svg: &mut Svg, (left, top, width, height): (f64, f64, f64, f64), rows: &[&Spread]) {
    svg.leaf(
        "rect",
        &[
            ("x", left.into()),
            ("y", top.into()),
            ("width", width.into()),
            ("height", height.into()),
            ("fill", "#fff".into()),
            ("stroke", "#999".into()),
        ],
    );
    let x = Scale::linear((0.0, DEPTH as f64), (left, left + width));
    let y = Scale::linear((0.0, 1.1), (top + height, top));
    for v in [0.0, 0.5, 1.0] {
        let py = y.map(v);
        svg.line((left, py), (left + width, py), "#e6e6e6", 1.0);
        svg.text((left - 4.0, py + 4.0), &v.to_string(), SMALL.end());
    }
    svg.text(
        (left + width - 6.0, y.map(0.62)),
        "the same on a linear scale",
        SMALL.end().coloured("#555"),
    );
    for s in rows {
        let points: Vec<(f64, f64)> = s
            .activations
            .iter()
            .enumerate()
            .map(|(l, v)| (x.map(l as f64), y.map(*v)))
            .collect();
        svg.polyline(&points, colour_of(s.scale), 1.5, "");
        // The last layer's value beside the frame, for the lines that stay off 0.
        let last = s.activations[DEPTH];
        if last > 0.02 {
            let style = SMALL.coloured(colour_of(s.scale));
            svg.text(
                (left + width + 4.0, y.map(last) + 4.0),
                &three_digits(last),
                style,
            );
        }
    }
}

/// The marker of a value that is exactly 0: a cross.
fn cross(svg: &mut Svg, (x, y): (f64, f64), colour: &str) {
    let r = 4.0;
    svg.line((x - r, y - r), (x + r, y + r), colour, 2.0);
    svg.line((x - r, y + r), (x + r, y - r), colour, 2.0);
}

/// `(v_last / v_first)^(1/layers)`, the average factor per layer of a series.
fn factor_per_layer(values: &[f64]) -> f64 {
    let (first, last) = (values[0], values[values.len() - 1]);
    (last / first).powf(1.0 / (values.len() - 1) as f64)
}

/// A number to three significant digits: `0.0128`, `128`, `0.981`.
fn three_digits(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// `plot initialisation`: the mean square of the activations and of the gradients, layer by
/// layer, through the ten-layer network of [`spread`] for each weight scale, with ReLU and with
/// tanh.
///
/// # Errors
/// Never in practice (nothing is read).
pub fn figure(settings: &Settings) -> Result<Vec<Figure>> {
    let samples = if settings.quick { SAMPLES / 5 } else { SAMPLES };
    let spreads = spreads(samples);
    let all = spreads
        .iter()
        .flat_map(|s| s.activations.iter().chain(&s.gradients).copied());
    // One y range for every panel, so that the same height is the same mean square everywhere.
    let (smallest, largest) =
        super::scale::positive_extent(all).expect("the input's mean square is positive");
    let decades = (
        smallest.log10().floor() as i32,
        largest.log10().ceil() as i32,
    );
    let mut svg = Svg::new(1150.0, 735.0);
    axes::title(
        &mut svg,
        &format!(
            "Initialisation: {samples} inputs of unit variance through {DEPTH} dense layers of {WIDTH} units, before training"
        ),
    );
    axes::subtitle(
        &mut svg,
        "a layer multiplies E[x²] by n_in·σ², and ReLU halves it: He's σ² = 2/n_in keeps it at 1; backward, n_out·σ² (and ReLU's ½) act on the gradient",
    );
    let (width, height) = (340.0, 230.0);
    for (row, f) in ACTIVATIONS.iter().enumerate() {
        let top = 85.0 + 315.0 * row as f64;
        let name = match f {
            Activation::Relu => "ReLU",
            other => other.name(),
        };
        let forward = Frame::draw(
            &mut svg,
            (95.0, top, width, height),
            decades,
            (
                "layer l (A⁰ = X, the input)",
                "E[(Aˡ)²] (log scale)",
                &format!("{name}, forward: mean square of Aˡ"),
            ),
        );
        let backward = Frame::draw(
            &mut svg,
            (545.0, top, width, height),
            decades,
            (
                &format!(
                    "layer l (dA{} enters at the top; dA⁰ = dX)",
                    superscript(DEPTH)
                ),
                "E[(dAˡ)²] (log scale)",
                &format!("{name}, backward: mean square of dAˡ"),
            ),
        );
        let rows: Vec<&Spread> = spreads.iter().filter(|s| s.activation == *f).collect();
        for s in &rows {
            forward.series(&mut svg, &s.activations, colour_of(s.scale));
            backward.series(&mut svg, &s.gradients, colour_of(s.scale));
        }
        if *f == Activation::Tanh {
            // tanh's forward lines all end between 0 and 1, a decade or two apart on a scale of
            // forty: a linear zoom in the empty top of the panel tells them apart.
            zoom(
                &mut svg,
                (95.0 + 50.0, top + 8.0, width - 90.0, 72.0),
                &rows,
            );
        }
    }
    let mut entries: Vec<(String, String, Mark)> = SCALES
        .iter()
        .map(|s| (s.label(), colour_of(*s).to_string(), Mark::Line))
        .collect();
    // The cross is drawn over an invisible legend dot.
    entries.push((
        "exactly 0 (below the break)".to_string(),
        "#fff".to_string(),
        Mark::Dot,
    ));
    let (x, y) = (905.0, 85.0);
    legend(&mut svg, (x, y), &entries);
    cross(
        &mut svg,
        (x + 16.0, y + 13.0 + 17.0 * SCALES.len() as f64),
        "#333333",
    );
    svg.text(
        (x, y + 135.0),
        &format!("n_in = n_out = {WIDTH}, b = 0"),
        SMALL.coloured("#555"),
    );
    let find = |f: Activation, scale: WeightScale| {
        spreads
            .iter()
            .find(|s| s.activation == f && s.scale == scale)
            .expect("every pair is drawn")
    };
    let relu: Vec<String> = SCALES[1..]
        .iter()
        .map(|s| {
            let measured = factor_per_layer(&find(Activation::Relu, *s).activations);
            let predicted = 0.5 * WIDTH as f64 * s.std_dev(WIDTH, WIDTH).powi(2);
            format!(
                "×{} for {} (½·n_in·σ² = {})",
                three_digits(measured),
                short_name(*s),
                three_digits(predicted)
            )
        })
        .collect();
    svg.text(
        (95.0, 705.0),
        &format!("ReLU, E[(Aˡ)²] per layer: {}", relu.join(", ")),
        SMALL.coloured("#555"),
    );
    let small = find(Activation::Tanh, WeightScale::Fixed(0.01));
    let large = find(Activation::Tanh, WeightScale::Fixed(1.0));
    let last = |v: &[f64]| three_digits(v[DEPTH]);
    svg.text(
        (95.0, 722.0),
        &format!(
            "tanh: ×{} per layer for σ = 0.01 (tanh z ≈ z near 0: n_in·σ² = {}); σ = 1 saturates, E[(A{top})²] = {}, while the gradient grows ×{} per layer going down",
            three_digits(factor_per_layer(&small.activations)),
            three_digits(WIDTH as f64 * small.scale.std_dev(WIDTH, WIDTH).powi(2)),
            last(&large.activations),
            three_digits(1.0 / factor_per_layer(&large.gradients)),
            top = superscript(DEPTH),
        ),
        SMALL.coloured("#555"),
    );
    Ok(vec![Figure {
        file: "initialisation.svg".to_string(),
        svg: svg.finish(),
    }])
}

/// The scale's name in a note: `σ = 0.01`, `He`, `Glorot`.
fn short_name(scale: WeightScale) -> String {
    match scale {
        WeightScale::Scheme(Init::He) => "He".to_string(),
        WeightScale::Scheme(Init::Glorot) => "Glorot".to_string(),
        other => other.label(),
    }
}
