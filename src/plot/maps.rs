//! Pictures over a plane: what a network predicts at every input, and what the loss is at every
//! point of a slice of parameter space.
//!
//! ```text
//! decision boundary   P(class | x₁, x₂) on a grid of inputs, one forward pass for the whole grid
//! sine fit            ŷ(x) on a fine line of x, against the data and sin x
//! loss surface        θ(α, β) = θ₀ + α·d₁ + β·d₂ with d₁ = θ_end − θ₀ (the way training went)
//!                     and d₂ a random direction orthogonal to it, scaled to ‖d₁‖; the loss
//!                     L(θ(α, β)) on a grid of (α, β), and the path of descent projected onto the
//!                     plane: α = (θ − θ₀)·d₁/‖d₁‖², β = (θ − θ₀)·d₂/‖d₂‖²
//! 3-D view            the same grid as a mesh, rotated and projected, painted back to front,
//!                     the path cut into one piece per square and painted with its square
//! animations          SVG's own <animate>: each cell's fill steps through a values list, one
//!                     entry per frame (epoch 0, the untrained network, then the recorded
//!                     epochs); the P = 0.5 line and the epoch label of each frame show in turn;
//!                     no script
//! ```

use super::axes::{self, legend, Mark, Panel};
use super::colour;
use super::curves::{task, train};
use super::field::{self, Grid};
use super::scale::{extent, format_number, nice_ticks, Scale};
use super::svg::{num, points_text, Svg};
use super::{Figure, Recorder, Settings};
use crate::data::{Dataset, Task};
use crate::error::Result;
use crate::matrix::{dot, Matrix};
use crate::network::Network;
use crate::optim::Rule;
use crate::rng::Rng;
use crate::run::{self, Run};
use std::fmt::Write as _;
use std::ops::ControlFlow;

/// The input rectangle that holds every point of `data`, with a 10 % margin.
pub fn input_box(data: &[&Dataset]) -> ((f64, f64), (f64, f64)) {
    let column = |c: usize| {
        let (lo, hi) = extent(
            data.iter()
                .flat_map(|d| (0..d.len()).map(move |i| d.x.get(i, c))),
        )
        .unwrap_or((-1.0, 1.0));
        let pad = 0.1 * (hi - lo).max(1e-9);
        (lo - pad, hi + pad)
    };
    (column(0), column(1))
}

/// What the network predicts on a grid over `bounds`: for a binary classifier P(class 1), for
/// several classes `k + confidence` (the winning class and its probability, packed in one
/// number so one grid holds both).
pub fn prediction_grid(network: &mut Network, bounds: ((f64, f64), (f64, f64)), n: usize) -> Grid {
    let points = Grid::points(bounds.0, bounds.1, (n, n));
    let flat: Vec<f64> = points.iter().flat_map(|(x, y)| [*x, *y]).collect();
    let y_hat = network.predict(&Matrix::from_vec(points.len(), 2, flat)); // (n², n_out)
    let values = (0..points.len())
        .map(|i| {
            let row = y_hat.row(i);
            if row.len() == 1 {
                row[0]
            } else {
                let (k, p) = row
                    .iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (k, p)| {
                        if *p > best.1 {
                            (k, *p)
                        } else {
                            best
                        }
                    });
                k as f64 + p.clamp(0.0, 0.999)
            }
        })
        .collect();
    Grid {
        x: bounds.0,
        y: bounds.1,
        nx: n,
        ny: n,
        values,
    }
}

/// The colour of a prediction-grid value, quantised so neighbouring cells merge.
///
/// A probability falls in one of ten bands [0, 0.1), [0.1, 0.2), …, [0.9, 1] and is drawn in the
/// colour of its band's middle. 0.5 is the edge between the two palest bands, one blue and one
/// orange, equally pale: the shading is centred on the P = 0.5 line, which runs exactly where
/// the blue turns orange.
pub fn prediction_colour(v: f64, binary: bool) -> String {
    if binary {
        let band = (v * 10.0).floor().clamp(0.0, 9.0);
        colour::probability((band + 0.5) / 10.0)
    } else {
        let k = v.floor().max(0.0) as usize;
        let confidence = ((v - k as f64) * 10.0).round() / 10.0;
        colour::tint(colour::class(k), 0.15 + 0.45 * confidence)
    }
}

/// The key of a binary decision boundary's shading: the ten bands of [`prediction_colour`] as a
/// bar from P = 0 to 1, with the boundary P = 0.5 marked where blue turns orange.
pub fn probability_key(svg: &mut Svg, (x, y): (f64, f64), title: &str) {
    let (width, height) = (120.0, 14.0);
    svg.text((x, y - 6.0), title, axes::SMALL.bold());
    for band in 0..10 {
        let p = (band as f64 + 0.5) / 10.0;
        svg.rect(
            x + width * band as f64 / 10.0,
            y,
            width / 10.0 + 0.3,
            height,
            &prediction_colour(p, true),
        );
    }
    svg.leaf(
        "rect",
        &[
            ("x", x.into()),
            ("y", y.into()),
            ("width", width.into()),
            ("height", height.into()),
            ("fill", "none".into()),
            ("stroke", "#999".into()),
        ],
    );
    svg.line(
        (x + width / 2.0, y - 2.0),
        (x + width / 2.0, y + height + 2.0),
        "#222",
        1.5,
    );
    for (p, label) in [(0.0, "0"), (0.5, "0.5"), (1.0, "1")] {
        svg.text(
            (x + width * p, y + height + 13.0),
            label,
            axes::SMALL.middle(),
        );
    }
}

/// Draws the data points: training rows with a white rim, test rows with a dark one.
pub fn draw_points(svg: &mut Svg, panel: &Panel, train: &Dataset, test: Option<&Dataset>) {
    for (data, rim) in [(Some(train), "#fff"), (test, "#222")] {
        let Some(data) = data else { continue };
        let classes = data.class_ids();
        for i in 0..data.len() {
            let p = panel.at(data.x.get(i, 0), data.x.get(i, 1));
            svg.circle(p, 3.2, colour::class(classes[i]), rim, "sample");
        }
    }
}

/// A decision-boundary panel of a 2-input classifier.
pub fn boundary_panel(
    svg: &mut Svg,
    rect: (f64, f64, f64, f64),
    network: &mut Network,
    train: &Dataset,
    test: Option<&Dataset>,
    resolution: usize,
) -> Panel {
    let data: Vec<&Dataset> = std::iter::once(train).chain(test).collect();
    let bounds = input_box(&data);
    let panel = Panel::new(rect, bounds.0, bounds.1, (false, false));
    let grid = prediction_grid(network, bounds, resolution);
    let binary = train.task == Task::Binary;
    field::draw_cells(svg, &grid, &panel, |v| prediction_colour(v, binary));
    if binary {
        field::draw_contour(svg, &panel, &field::contour(&grid, 0.5), "#222", 1.5);
    }
    let feature = |c: usize| {
        train
            .feature_names
            .get(c)
            .cloned()
            .unwrap_or(format!("x{}", c + 1))
    };
    panel.draw_axes(svg, &feature(0), &feature(1), "");
    draw_points(svg, &panel, train, test);
    panel
}

/// The decision-boundary figure of a trained 2-input classifier.
pub fn decision_boundary(run: &Run, file: &str) -> Figure {
    let mut svg = Svg::new(640.0, 560.0);
    let name = run.options.data_name();
    axes::title(&mut svg, &format!("Decision boundary: {name}"));
    axes::subtitle(&mut svg, &run.network.description());
    let mut network = run.network.clone();
    boundary_panel(
        &mut svg,
        (70.0, 60.0, 420.0, 420.0),
        &mut network,
        &run.data.train,
        Some(&run.data.test),
        80,
    );
    let mut entries: Vec<(String, String, Mark)> = Vec::new();
    let classes = match run.data.train.task {
        Task::Multiclass { classes } => classes,
        _ => 2,
    };
    for k in 0..classes {
        let name = match run.data.train.class_names.get(k) {
            // Bare numbers read better as "class 0" in a legend.
            Some(name) if name.parse::<f64>().is_err() => name.clone(),
            Some(name) => format!("class {name}"),
            None => format!("class {k}"),
        };
        entries.push((name, colour::class(k).to_string(), Mark::Dot));
    }
    entries.push((
        "white rim: train".to_string(),
        "#bbb".to_string(),
        Mark::Dot,
    ));
    entries.push(("dark rim: test".to_string(), "#222".to_string(), Mark::Dot));
    if run.data.train.task == Task::Binary {
        entries.push((
            "P = 0.5 boundary".to_string(),
            "#222".to_string(),
            Mark::Line,
        ));
    }
    legend(&mut svg, (500.0, 60.0), &entries);
    if run.data.train.task == Task::Binary {
        let class_1 = run
            .data
            .train
            .class_names
            .get(1)
            .filter(|n| n.parse::<f64>().is_err())
            .map_or("y = 1".to_string(), |n| n.clone());
        probability_key(
            &mut svg,
            (505.0, 90.0 + 17.0 * entries.len() as f64),
            &format!("P({class_1})"),
        );
    }
    svg.text(
        (70.0, 535.0),
        "background: the predicted class, paler where the network is unsure",
        axes::SMALL.coloured("#555"),
    );
    Figure {
        file: file.to_string(),
        svg: svg.finish(),
    }
}

/// `plot decision-boundary`: circles, moons, xor and spiral with their default settings.
///
/// # Errors
/// Never in practice (the runs use built-in tasks).
pub fn decision_boundaries(settings: &Settings) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for name in ["circles", "moons", "xor", "spiral"] {
        let mut options = task(name);
        options.epochs = settings.epochs(options.epochs);
        let run = train(&options)?;
        figures.push(decision_boundary(
            &run,
            &format!("decision-boundary-{name}.svg"),
        ));
    }
    Ok(figures)
}

/// The sine-fit panel: data, the true curve and the network's curve.
pub fn fit_panel(
    svg: &mut Svg,
    rect: (f64, f64, f64, f64),
    run: &Run,
    network: &mut Network,
) -> Panel {
    let data = [&run.data.train, &run.data.test];
    let (x_range, _) = {
        let (lo, hi) = extent(
            data.iter()
                .flat_map(|d| (0..d.len()).map(move |i| d.x.get(i, 0))),
        )
        .unwrap_or((-1.0, 1.0));
        ((lo, hi), ())
    };
    let y_range =
        extent(data.iter().flat_map(|d| d.y.as_slice().iter().copied())).unwrap_or((-1.0, 1.0));
    let panel = Panel::new(
        rect,
        x_range,
        (y_range.0 - 0.2, y_range.1 + 0.2),
        (false, false),
    );
    panel.draw_axes(svg, "x", "y", "");
    for (data, fill) in [(&run.data.train, "#999"), (&run.data.test, "#222")] {
        for i in 0..data.len() {
            svg.circle(
                panel.at(data.x.get(i, 0), data.y.get(i, 0)),
                2.2,
                fill,
                "none",
                "sample",
            );
        }
    }
    let xs: Vec<f64> = (0..=200)
        .map(|i| x_range.0 + (x_range.1 - x_range.0) * i as f64 / 200.0)
        .collect();
    if run.data.train.clean_y.is_some() {
        let truth: Vec<f64> = xs.iter().map(|x| x.sin()).collect();
        panel.curve(svg, &xs, &truth, colour::line(2), "6 4");
    }
    let y_hat = network.predict(&Matrix::from_vec(xs.len(), 1, xs.clone()));
    panel.curve(svg, &xs, y_hat.as_slice(), colour::line(1), "");
    panel
}

/// The sine-fit figure of a trained 1-input regression.
pub fn sine_fit(run: &Run) -> Figure {
    let mut svg = Svg::new(770.0, 460.0);
    axes::title(&mut svg, &format!("Fit: {}", run.options.data_name()));
    axes::subtitle(&mut svg, &run.network.description());
    let mut network = run.network.clone();
    fit_panel(&mut svg, (70.0, 60.0, 520.0, 330.0), run, &mut network);
    let mut entries = vec![
        ("training data".to_string(), "#999".to_string(), Mark::Dot),
        ("test data".to_string(), "#222".to_string(), Mark::Dot),
        (
            "network ŷ(x)".to_string(),
            colour::line(1).to_string(),
            Mark::Line,
        ),
    ];
    if run.data.train.clean_y.is_some() {
        entries.insert(
            2,
            (
                "true curve sin x".to_string(),
                colour::line(2).to_string(),
                Mark::Dashed,
            ),
        );
    }
    legend(&mut svg, (610.0, 60.0), &entries);
    Figure {
        file: "sine-fit.svg".to_string(),
        svg: svg.finish(),
    }
}

/// `plot sine-fit`.
///
/// # Errors
/// Never in practice (the run uses a built-in task).
pub fn sine_fit_figure(settings: &Settings) -> Result<Vec<Figure>> {
    let mut options = task("sine");
    options.epochs = settings.epochs(1000);
    Ok(vec![sine_fit(&train(&options)?)])
}

/// The picture `train` draws of its run, if its data can be drawn on a plane.
pub fn run_picture(run: &Run) -> Option<Figure> {
    let train = &run.data.train;
    match (train.task, train.x.cols()) {
        (Task::Binary | Task::Multiclass { .. }, 2) => {
            Some(decision_boundary(run, "decision-boundary.svg"))
        }
        (Task::Regression, 1) if train.y.cols() == 1 => Some(sine_fit(run)),
        _ => None,
    }
}

/// Every parameter of the dense layers in one vector: W¹, b¹, W², b², … row-major.
pub fn flatten(network: &Network) -> Vec<f64> {
    network
        .dense_layers()
        .flat_map(|d| d.w.as_slice().iter().chain(d.b.as_slice()).copied())
        .collect()
}

/// Sets the dense layers' parameters from a vector made by [`flatten`].
///
/// # Panics
/// If the vector is not the network's parameter count.
pub fn unflatten(network: &mut Network, theta: &[f64]) {
    let mut offset = 0;
    network.for_each_parameter(|_, _, p, _| {
        let n = p.as_slice().len();
        p.as_mut_slice().copy_from_slice(&theta[offset..offset + n]);
        offset += n;
    });
    assert!(
        offset == theta.len(),
        "unflatten: {} numbers for {offset} parameters",
        theta.len()
    );
}

/// A loss surface: the grid of L over the (α, β) plane, and the descent path on it.
#[derive(Clone, Debug)]
pub struct Surface {
    /// log₁₀ L on the grid.
    pub grid: Grid,
    /// The path of descent as (α, β, log₁₀ L), one point per epoch (and the start).
    pub path: Vec<(f64, f64, f64)>,
    /// The lowest and highest log₁₀ L on the grid.
    pub range: (f64, f64),
}

/// Trains a small network on moons with full-batch gradient descent and measures the loss
/// around its path.
///
/// # Errors
/// Never in practice (the run uses a built-in task).
pub fn surface(settings: &Settings) -> Result<Surface> {
    let mut options = task("moons");
    options.hidden = vec![6];
    options.rule = Rule::Sgd;
    options.lr = 0.5;
    options.samples = 300;
    options.epochs = settings.epochs(300);
    let mut thetas = Vec::new();
    let run = run::execute(&options, |_, network| {
        thetas.push(flatten(network));
        ControlFlow::Continue(())
    })?;
    let theta0 = flatten(&run.initial);
    let theta1 = flatten(&run.network);
    let d1: Vec<f64> = theta1.iter().zip(&theta0).map(|(a, b)| a - b).collect();
    let mut rng = Rng::new(7);
    let mut d2: Vec<f64> = d1.iter().map(|_| rng.normal()).collect();
    // Gram–Schmidt: remove d₁'s share from d₂, then give d₂ the length of d₁.
    let share = dot(&d2, &d1) / dot(&d1, &d1).max(1e-300);
    d2.iter_mut().zip(&d1).for_each(|(v, d)| *v -= share * d);
    let scale = (dot(&d1, &d1) / dot(&d2, &d2).max(1e-300)).sqrt();
    d2.iter_mut().for_each(|v| *v *= scale);
    let mut network = run.initial.clone();
    let data = &run.data.train;
    let loss = data.task.loss();
    let mut loss_at = |a: f64, b: f64| {
        let theta: Vec<f64> = (0..theta0.len())
            .map(|i| theta0[i] + a * d1[i] + b * d2[i])
            .collect();
        unflatten(&mut network, &theta);
        let y_hat = network.forward(&data.x, false);
        loss.value(y_hat, &data.y).max(1e-12).log10()
    };
    let n = if settings.quick { 21 } else { 51 };
    let points = Grid::points((-0.5, 1.5), (-1.0, 1.0), (n, n));
    let values: Vec<f64> = points.iter().map(|(a, b)| loss_at(*a, *b)).collect();
    let grid = Grid {
        x: (-0.5, 1.5),
        y: (-1.0, 1.0),
        nx: n,
        ny: n,
        values,
    };
    let project = |theta: &[f64]| {
        let delta: Vec<f64> = theta.iter().zip(&theta0).map(|(a, b)| a - b).collect();
        (
            dot(&delta, &d1) / dot(&d1, &d1).max(1e-300),
            dot(&delta, &d2) / dot(&d2, &d2).max(1e-300),
        )
    };
    let path = std::iter::once(theta0.clone())
        .chain(thetas)
        .map(|theta| {
            let (a, b) = project(&theta);
            (a, b, loss_at(a, b))
        })
        .collect();
    let range = extent(grid.values.iter().copied()).unwrap_or((0.0, 1.0));
    Ok(Surface { grid, path, range })
}

const LEVELS: usize = 14;

impl Surface {
    fn level(&self, v: f64) -> f64 {
        let t = (v - self.range.0) / (self.range.1 - self.range.0).max(1e-12);
        ((t * LEVELS as f64).floor().min(LEVELS as f64 - 1.0) + 0.5) / LEVELS as f64
    }

    /// Filled contours, contour lines and (optionally) the static path in `rect`.
    fn draw_map(&self, svg: &mut Svg, rect: (f64, f64, f64, f64), with_path: bool) -> Panel {
        let panel = Panel::new(rect, self.grid.x, self.grid.y, (false, false));
        field::draw_cells(svg, &self.grid, &panel, |v| colour::viridis(self.level(v)));
        for k in 1..LEVELS {
            let level = self.range.0 + (self.range.1 - self.range.0) * k as f64 / LEVELS as f64;
            field::draw_contour(svg, &panel, &field::contour(&self.grid, level), "#fff", 0.6);
        }
        panel.draw_axes(
            svg,
            "α (along θ_end − θ₀)",
            "β (random orthogonal direction)",
            "",
        );
        let path: Vec<(f64, f64)> = self.path.iter().map(|(a, b, _)| panel.at(*a, *b)).collect();
        if with_path {
            svg.polyline(&path, "#e63", 2.2, "");
        } else {
            svg.polyline(&path, "#fff", 1.0, "3 3");
        }
        if let (Some(first), Some(last)) = (path.first(), path.last()) {
            svg.circle(*first, 5.0, "#fff", "#222", "start");
            svg.text(
                (first.0 + 8.0, first.1 - 6.0),
                "θ₀ (start)",
                axes::SMALL.coloured("#fff").bold(),
            );
            svg.circle(*last, 5.0, "#e63", "#fff", "end");
            svg.text(
                (last.0 + 8.0, last.1 - 6.0),
                "θ_end",
                axes::SMALL.coloured("#fff").bold(),
            );
        }
        panel
    }
}

/// The loss-surface figures: filled contours with the path, and a 3-D mesh.
///
/// # Errors
/// Never in practice (the run uses a built-in task).
pub fn loss_surface(settings: &Settings) -> Result<Vec<Figure>> {
    let surface = surface(settings)?;
    let mut svg = Svg::new(700.0, 560.0);
    axes::title(
        &mut svg,
        "Loss surface around the path of gradient descent (moons, 2 → 6 → 1)",
    );
    axes::subtitle(
        &mut svg,
        "θ = θ₀ + α·(θ_end − θ₀) + β·d₂; colour and contour lines: the loss L (log scale)",
    );
    surface.draw_map(&mut svg, (90.0, 70.0, 440.0, 420.0), true);
    axes::colour_bar_log(
        &mut svg,
        (580.0, 90.0, 300.0),
        surface.range.0,
        surface.range.1,
        "L",
    );
    legend(
        &mut svg,
        (560.0, 420.0),
        &[("GD path".to_string(), "#e63".to_string(), Mark::Line)],
    );
    let flat = Figure {
        file: "loss-surface.svg".to_string(),
        svg: svg.finish(),
    };
    Ok(vec![flat, mesh(&surface)])
}

/// The camera of the 3-D view: the unit cube (u, v, h) ∈ [−½, ½]³ turned by an azimuth about the
/// vertical, tilted by an elevation towards the viewer, and scaled to pixels.
#[derive(Clone, Copy, Debug)]
struct Camera {
    azimuth: f64,
    elevation: f64,
    centre: (f64, f64),
    size: f64,
}

impl Camera {
    /// The pixel position of a point of the cube, and its depth (larger is farther away).
    fn project(&self, (u, v, h): (f64, f64, f64)) -> ((f64, f64), f64) {
        let (sin_a, cos_a) = self.azimuth.sin_cos();
        let x = u * cos_a - v * sin_a;
        let depth = u * sin_a + v * cos_a;
        let y = depth * self.elevation.sin() + h * self.elevation.cos() * 0.8;
        (
            (self.centre.0 + self.size * x, self.centre.1 - self.size * y),
            depth,
        )
    }
}

/// The 3-D view's camera. Seen from the side of large α and small β, the valley the descent ends
/// in lies in front of the hill it starts on, so no fold of the surface hides the path.
const CAMERA: Camera = Camera {
    azimuth: -1.07,
    elevation: 0.55,
    centre: (390.0, 330.0),
    size: 330.0,
};

/// The 3-D view: each grid square a quadrilateral, painted from the back to the front so nearer
/// squares cover farther ones (the painter's algorithm). The path of descent is cut into pieces,
/// one per square it crosses, and each piece is painted right after its square: it lies on the
/// surface, covered by whatever is in front of it.
fn mesh(surface: &Surface) -> Figure {
    let mut svg = Svg::new(800.0, 620.0);
    axes::title(&mut svg, "The same loss surface in 3-D");
    axes::subtitle(
        &mut svg,
        "height and colour: the loss L (log scale); red: the path of gradient descent from θ₀ to θ_end",
    );
    let g = &surface.grid;
    let (lo, hi) = surface.range;
    // (α, β, log₁₀ L) → the unit cube.
    let cube = |a: f64, b: f64, z: f64| {
        (
            (a - g.x.0) / (g.x.1 - g.x.0) - 0.5,
            (b - g.y.0) / (g.y.1 - g.y.0) - 0.5,
            ((z - lo) / (hi - lo).max(1e-12)).clamp(0.0, 1.0) - 0.5,
        )
    };
    let camera = CAMERA;
    let at = |a: f64, b: f64, z: f64| camera.project(cube(a, b, z)).0;
    draw_box(&mut svg, &camera, g, (lo, hi));

    // Every other grid line: a mesh of 25 × 25 squares reads as well and weighs a quarter.
    let stride = if g.nx > 30 { 2 } else { 1 };
    let columns = (0..g.nx - stride).step_by(stride).count();
    let rows = (0..g.ny - stride).step_by(stride).count();
    let square_of = |a: f64, b: f64| {
        let j = (a - g.x.0) / (g.x.1 - g.x.0) * (g.nx - 1) as f64 / stride as f64;
        let i = (b - g.y.0) / (g.y.1 - g.y.0) * (g.ny - 1) as f64 / stride as f64;
        let j = (j.floor().max(0.0) as usize).min(columns - 1);
        let i = (i.floor().max(0.0) as usize).min(rows - 1);
        i * columns + j
    };
    let mut quads = Vec::with_capacity(rows * columns);
    for (ci, i) in (0..g.ny - stride).step_by(stride).enumerate() {
        for (cj, j) in (0..g.nx - stride).step_by(stride).enumerate() {
            let corners = [
                (i, j),
                (i, j + stride),
                (i + stride, j + stride),
                (i + stride, j),
            ];
            let mut points = Vec::with_capacity(4);
            let (mut depth, mut height) = (0.0, 0.0);
            for (gi, gj) in corners {
                let (a, b) = g.coordinates(gi, gj);
                let (p, d) = camera.project(cube(a, b, g.at(gi, gj)));
                points.push(p);
                depth += d / 4.0;
                height += g.at(gi, gj) / 4.0;
            }
            quads.push((depth, height, points, ci * columns + cj));
        }
    }
    // The path in pieces, each piece the run of steps whose midpoints lie in one square.
    let mut pieces: Vec<(usize, Vec<(f64, f64)>)> = Vec::new();
    for step in surface.path.windows(2) {
        let [(a0, b0, z0), (a1, b1, z1)] = [step[0], step[1]];
        let square = square_of((a0 + a1) / 2.0, (b0 + b1) / 2.0);
        match pieces.last_mut() {
            Some((s, points)) if *s == square => points.push(at(a1, b1, z1)),
            _ => pieces.push((square, vec![at(a0, b0, z0), at(a1, b1, z1)])),
        }
    }
    let mut on_square: Vec<Vec<usize>> = vec![Vec::new(); rows * columns];
    for (k, (square, _)) in pieces.iter().enumerate() {
        on_square[*square].push(k);
    }
    let ends = [surface.path.first(), surface.path.last()]
        .map(|p| p.map(|(a, b, z)| (square_of(*a, *b), at(*a, *b, *z))));
    // Farthest first: larger depth is farther from the viewer.
    quads.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, height, points, square) in &quads {
        let t = (height - lo) / (hi - lo).max(1e-12);
        svg.polygon(points, &colour::viridis(t), "#333", 0.25);
        for &k in &on_square[*square] {
            svg.leaf(
                "polyline",
                &[
                    ("class", "path".into()),
                    ("points", points_text(&pieces[k].1).into()),
                    ("fill", "none".into()),
                    ("stroke", "#e63".into()),
                    ("stroke-width", 2.5.into()),
                    ("stroke-linecap", "round".into()),
                    ("stroke-linejoin", "round".into()),
                ],
            );
        }
        for (end, (fill, stroke, class)) in ends
            .iter()
            .zip([("#fff", "#222", "start"), ("#e63", "#fff", "end")])
        {
            if let Some((_, p)) = end.filter(|(s, _)| s == square) {
                svg.circle(p, 5.0, fill, stroke, class);
            }
        }
    }
    // The names of the two ends on top of everything (the camera is chosen so that both show).
    for (end, name) in ends.iter().zip(["θ₀ (start)", "θ_end"]) {
        if let Some((_, p)) = end {
            svg.text((p.0 + 9.0, p.1 - 7.0), name, axes::LABEL.bold().haloed());
        }
    }
    axes::colour_bar_log(&mut svg, (700.0, 110.0, 300.0), lo, hi, "L");
    Figure {
        file: "loss-surface-3d.svg".to_string(),
        svg: svg.finish(),
    }
}

/// The floor of the 3-D view with ticked α and β axes along its two front edges, and a vertical
/// L axis (log scale) at its leftmost corner. Drawn before the surface, which covers them where
/// it is in front.
fn draw_box(svg: &mut Svg, camera: &Camera, g: &Grid, (lo, hi): (f64, f64)) {
    // A little below the lowest point of the surface, so the floor never cuts it.
    let floor = -0.56;
    let corners = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)];
    let point = |(u, v): (f64, f64), h: f64| camera.project((u, v, h));
    let outline: Vec<(f64, f64)> = corners.iter().map(|c| point(*c, floor).0).collect();
    svg.polygon(&outline, "#f4f4f4", "#bbb", 1.0);
    // The nearest corner: the front edges meet there.
    let near = corners
        .iter()
        .copied()
        .min_by(|a, b| point(*a, floor).1.total_cmp(&point(*b, floor).1))
        .expect("four corners");
    let out = |x: f64| if x < 0.0 { -1.0 } else { 1.0 };
    // Along α at the near β, then along β at the near α.
    for (axis, domain, name) in [(0, g.x, "α"), (1, g.y, "β")] {
        let along = |value: f64| (value - domain.0) / (domain.1 - domain.0) - 0.5;
        let at = |value: f64, outward: f64| {
            if axis == 0 {
                (along(value), near.1 + outward * out(near.1))
            } else {
                (near.0 + outward * out(near.0), along(value))
            }
        };
        svg.line(
            point(at(domain.0, 0.0), floor).0,
            point(at(domain.1, 0.0), floor).0,
            "#444",
            1.0,
        );
        for t in nice_ticks(domain.0, domain.1, 5) {
            svg.line(
                point(at(t, 0.0), floor).0,
                point(at(t, 0.03), floor).0,
                "#444",
                1.0,
            );
            let (x, y) = point(at(t, 0.08), floor).0;
            svg.text((x, y + 4.0), &format_number(t), axes::SMALL.middle());
        }
        let middle = (domain.0 + domain.1) / 2.0;
        let (x, y) = point(at(middle, 0.2), floor).0;
        svg.text((x, y + 4.0), name, axes::LABEL.middle().bold());
    }
    // The vertical axis at the corner drawn farthest left.
    let left = corners
        .iter()
        .copied()
        .min_by(|a, b| point(*a, floor).0 .0.total_cmp(&point(*b, floor).0 .0))
        .expect("four corners");
    let (bottom, top) = (point(left, floor).0, point(left, 0.5).0);
    svg.line(bottom, top, "#444", 1.0);
    let losses = Scale::log_exact((10f64.powf(lo), 10f64.powf(hi)), (0.0, 1.0));
    for t in losses.ticks(5) {
        let h = (t.log10() - lo) / (hi - lo).max(1e-12) - 0.5;
        let (x, y) = point(left, h).0;
        svg.line((x - 4.0, y), (x, y), "#444", 1.0);
        svg.text((x - 7.0, y + 4.0), &format_number(t), axes::SMALL.end());
    }
    svg.text(
        (top.0, top.1 - 12.0),
        "L (log scale)",
        axes::LABEL.middle().bold(),
    );
}

/// A `values` list for `<animate>`.
fn values_list(values: &[String]) -> String {
    values.join(";")
}

/// Opens an `<animate>` (a leaf) on the enclosing element.
fn animate(svg: &mut Svg, attribute: &str, values: String, seconds: f64) {
    svg.leaf(
        "animate",
        &[
            ("attributeName", attribute.into()),
            ("values", values.into()),
            ("dur", format!("{}s", num(seconds)).into()),
            ("calcMode", "discrete".into()),
            ("repeatCount", "indefinite".into()),
        ],
    );
}

/// Text labels that show one at a time, frame k visible during the k-th step.
fn frame_labels(svg: &mut Svg, at: (f64, f64), labels: &[String], seconds: f64) {
    for (k, label) in labels.iter().enumerate() {
        open_frame(svg, k, labels.len(), seconds);
        svg.text(at, label, axes::LABEL.end().bold());
        svg.close();
    }
}

/// Opens a group that is visible only during frame `k` of `n` (the first frame shows without
/// animation, e.g. in a still renderer); close it with [`Svg::close`].
fn open_frame(svg: &mut Svg, k: usize, n: usize, seconds: f64) {
    svg.open(
        "g",
        &[
            ("class", "frame".into()),
            ("opacity", if k == 0 { 1.0 } else { 0.0 }.into()),
        ],
    );
    let values: Vec<String> = (0..n)
        .map(|i| if i == k { "1" } else { "0" }.to_string())
        .collect();
    animate(svg, "opacity", values_list(&values), seconds);
}

/// The two animations: the decision boundary forming during training, and the descent path
/// rolling over the loss surface.
///
/// # Errors
/// Never in practice (the runs use built-in tasks).
pub fn animations(settings: &Settings) -> Result<Vec<Figure>> {
    Ok(vec![
        boundary_animation(settings)?,
        descent_animation(settings)?,
    ])
}

fn boundary_animation(settings: &Settings) -> Result<Figure> {
    let mut options = task("moons");
    options.samples = 300;
    options.epochs = settings.epochs(options.epochs);
    // Every 25 epochs of 500 (every 10 of 50 in quick mode), after the untrained network: 21
    // frames keep the file under 300 KB.
    let snapshots = if settings.quick { 5 } else { 20 };
    let mut recorder = Recorder::new(options.epochs, snapshots);
    let run = run::execute(&options, |stats, network| {
        recorder.observe(stats, network);
        ControlFlow::Continue(())
    })?;
    let frames = recorder.frames(&run.initial);
    let data = [&run.data.train, &run.data.test];
    let bounds = input_box(&data);
    let n = 24;
    let grids: Vec<Grid> = frames
        .iter()
        .map(|(_, network)| prediction_grid(&mut (*network).clone(), bounds, n))
        .collect();
    let seconds = 0.3 * grids.len() as f64;
    let mut svg = Svg::new(640.0, 560.0);
    axes::title(
        &mut svg,
        "The decision boundary forming during training (moons)",
    );
    axes::subtitle(&mut svg, &run.network.description());
    let panel = Panel::new(
        (70.0, 70.0, 420.0, 420.0),
        bounds.0,
        bounds.1,
        (false, false),
    );
    let first = &grids[0];
    for i in 0..n {
        for j in 0..n {
            let colours: Vec<String> = grids
                .iter()
                .map(|g| prediction_colour(g.at(i, j), true))
                .collect();
            let (x, y, w, h) = field::cell_rect(first, &panel, i, j, j);
            let still = colours.iter().all(|c| *c == colours[0]);
            let attrs = [
                ("x", x.into()),
                ("y", y.into()),
                ("width", w.into()),
                ("height", h.into()),
                ("fill", colours[0].clone().into()),
            ];
            if still {
                svg.leaf("rect", &attrs);
            } else {
                svg.open("rect", &attrs);
                animate(&mut svg, "fill", values_list(&colours), seconds);
                svg.close();
            }
        }
    }
    panel.draw_axes(&mut svg, "x₁", "x₂", "");
    draw_points(&mut svg, &panel, &run.data.train, Some(&run.data.test));
    // The P = 0.5 line of each frame, shown with its frame.
    for (k, grid) in grids.iter().enumerate() {
        open_frame(&mut svg, k, grids.len(), seconds);
        field::draw_contour(&mut svg, &panel, &field::contour(grid, 0.5), "#222", 1.8);
        svg.close();
    }
    let labels: Vec<String> = frames
        .iter()
        .map(|(e, _)| match e {
            0 => format!("epoch 0 of {}: untrained", options.epochs),
            e => format!("epoch {e} of {}", options.epochs),
        })
        .collect();
    frame_labels(&mut svg, (490.0, 62.0), &labels, seconds);
    legend(
        &mut svg,
        (498.0, 80.0),
        &[("P = 0.5".to_string(), "#222".to_string(), Mark::Line)],
    );
    probability_key(&mut svg, (498.0, 140.0), "P(lower)");
    Ok(Figure {
        file: "animation-decision-boundary.svg".to_string(),
        svg: svg.finish(),
    })
}

fn descent_animation(settings: &Settings) -> Result<Figure> {
    let surface = surface(settings)?;
    let mut svg = Svg::new(640.0, 560.0);
    axes::title(&mut svg, "Gradient descent rolling down the loss surface");
    axes::subtitle(
        &mut svg,
        "each step: θ ← θ − η·∇L(θ), projected onto the (α, β) plane",
    );
    let panel = surface.draw_map(&mut svg, (90.0, 70.0, 440.0, 420.0), false);
    // At most 60 positions: every k-th epoch, always ending on the last.
    let stride = surface.path.len().div_ceil(60).max(1);
    let mut steps: Vec<&(f64, f64, f64)> = surface.path.iter().step_by(stride).collect();
    if let Some(last) = surface.path.last() {
        steps.push(last);
    }
    let positions: Vec<(f64, f64)> = steps.iter().map(|(a, b, _)| panel.at(*a, *b)).collect();
    let seconds = 0.15 * positions.len() as f64;
    let xs: Vec<String> = positions.iter().map(|p| num(p.0)).collect();
    let ys: Vec<String> = positions.iter().map(|p| num(p.1)).collect();
    let (x0, y0) = positions[0];
    svg.open(
        "circle",
        &[
            ("cx", x0.into()),
            ("cy", y0.into()),
            ("r", 7.0.into()),
            ("fill", "#e63".into()),
            ("stroke", "#fff".into()),
            ("stroke-width", 2.0.into()),
        ],
    );
    animate(&mut svg, "cx", values_list(&xs), seconds);
    animate(&mut svg, "cy", values_list(&ys), seconds);
    svg.close();
    let mut label = String::new();
    let _ = write!(label, "{} steps of full-batch SGD", surface.path.len() - 1);
    svg.text((90.0, 530.0), &label, axes::SMALL.coloured("#555"));
    Ok(Figure {
        file: "animation-loss-surface.svg".to_string(),
        svg: svg.finish(),
    })
}
