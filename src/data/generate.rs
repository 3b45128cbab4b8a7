//! Generated datasets: small problems with a known shape, drawn with the seeded generator.
//!
//! ```text
//! xor       the four corners of the unit square; class 1 where exactly one coordinate is 1.
//!           No straight line separates the classes: the smallest problem that needs a hidden
//!           layer.
//! circles   two concentric rings: outer radius 1 (class 0, "outer"), inner radius `factor`
//!           (class 1, "inner"), plus Gaussian noise on each coordinate.
//! moons     two interleaved half circles, "upper" (class 0) and "lower" (class 1, shifted).
//! spiral    K arms winding out from the centre, one class per arm, with noise on the angle.
//! blobs     K Gaussian clusters around random centres in [−10, 10]², one class per cluster.
//! sine      x evenly spaced on [−2π, 2π], y = sin x + Gaussian noise (regression).
//! ```
//!
//! The random classification generators (circles, moons, spiral, blobs, the xor cloud) lay out
//! their points class by class and then shuffle the rows, so that a prefix of the rows never holds
//! one class only. The four xor corners and sine's evenly spaced x stay in order: the split and
//! the mini-batches draw their rows in a random order anyway.

use super::{one_hot, Dataset, Task};
use crate::matrix::Matrix;
use crate::rng::Rng;
use std::f64::consts::PI;

/// The four XOR points `(0,0) (0,1) (1,0) (1,1)` with targets `0 1 1 0`, in that order.
pub fn xor() -> Dataset {
    let x = Matrix::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
    let y = Matrix::from_rows(&[[0.0], [1.0], [1.0], [0.0]]);
    binary("xor", x, y, ["0", "1"])
}

/// `n_samples` points scattered around the four XOR corners with Gaussian noise σ = `noise`,
/// labelled by the corner they came from.
pub fn xor_cloud(n_samples: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let mut rows = Vec::with_capacity(n_samples);
    let mut labels = Vec::with_capacity(n_samples);
    for i in 0..n_samples {
        let (a, b) = ((i % 4) / 2, i % 2);
        rows.push([
            a as f64 + rng.normal_with(0.0, noise),
            b as f64 + rng.normal_with(0.0, noise),
        ]);
        labels.push(a ^ b);
    }
    shuffled_binary("xor", rows, labels, ["0", "1"], rng)
}

/// Two concentric circles: half the points on radius 1 (class 0), half on radius `factor`
/// (class 1), at evenly spaced angles, each coordinate plus Gaussian noise σ = `noise`.
pub fn circles(n_samples: usize, noise: f64, factor: f64, rng: &mut Rng) -> Dataset {
    let n_outer = n_samples / 2;
    let n_inner = n_samples - n_outer;
    let mut rows = Vec::with_capacity(n_samples);
    let mut labels = Vec::with_capacity(n_samples);
    for (count, radius, label) in [(n_outer, 1.0, 0), (n_inner, factor, 1)] {
        for i in 0..count {
            let angle = 2.0 * PI * i as f64 / count as f64;
            rows.push([
                radius * angle.cos() + rng.normal_with(0.0, noise),
                radius * angle.sin() + rng.normal_with(0.0, noise),
            ]);
            labels.push(label);
        }
    }
    shuffled_binary("circles", rows, labels, ["outer", "inner"], rng)
}

/// Two interleaving half circles: `(cos t, sin t)` for class 0 and `(1 − cos t, 0.5 − sin t)` for
/// class 1, t evenly spaced on [0, π], each coordinate plus Gaussian noise σ = `noise`.
pub fn moons(n_samples: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let n_upper = n_samples / 2;
    let n_lower = n_samples - n_upper;
    let mut rows = Vec::with_capacity(n_samples);
    let mut labels = Vec::with_capacity(n_samples);
    for (count, label) in [(n_upper, 0), (n_lower, 1)] {
        for i in 0..count {
            let t = PI * i as f64 / (count.max(2) - 1) as f64;
            let (x0, x1) = if label == 0 {
                (t.cos(), t.sin())
            } else {
                (1.0 - t.cos(), 0.5 - t.sin())
            };
            rows.push([
                x0 + rng.normal_with(0.0, noise),
                x1 + rng.normal_with(0.0, noise),
            ]);
            labels.push(label);
        }
    }
    shuffled_binary("moons", rows, labels, ["upper", "lower"], rng)
}

/// `arms` spiral arms of `points_per_arm` points each. Along arm k the radius grows evenly from 0
/// to 1 while the angle turns through 4 radians, starting at 4k, plus Gaussian noise σ = `noise`
/// on the angle: `(r·sin θ, r·cos θ)`.
pub fn spiral(arms: usize, points_per_arm: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let mut rows = Vec::with_capacity(arms * points_per_arm);
    let mut labels = Vec::with_capacity(arms * points_per_arm);
    for arm in 0..arms {
        for i in 0..points_per_arm {
            let fraction = i as f64 / (points_per_arm.max(2) - 1) as f64;
            let angle = 4.0 * (arm as f64 + fraction) + rng.normal_with(0.0, noise);
            rows.push([fraction * angle.sin(), fraction * angle.cos()]);
            labels.push(arm);
        }
    }
    let names = (0..arms).map(|k| format!("arm {k}")).collect();
    shuffled_multiclass("spiral", rows, labels, names, rng)
}

/// `centres` Gaussian clusters of (nearly) equal size with standard deviation `std_dev`, around
/// centres drawn uniformly from [−10, 10]².
pub fn blobs(n_samples: usize, centres: usize, std_dev: f64, rng: &mut Rng) -> Dataset {
    let centre_points: Vec<[f64; 2]> = (0..centres)
        .map(|_| {
            [
                rng.uniform_range(-10.0, 10.0),
                rng.uniform_range(-10.0, 10.0),
            ]
        })
        .collect();
    let mut rows = Vec::with_capacity(n_samples);
    let mut labels = Vec::with_capacity(n_samples);
    for i in 0..n_samples {
        let k = i % centres;
        let [cx, cy] = centre_points[k];
        rows.push([rng.normal_with(cx, std_dev), rng.normal_with(cy, std_dev)]);
        labels.push(k);
    }
    let names = (0..centres).map(|k| format!("blob {k}")).collect();
    shuffled_multiclass("blobs", rows, labels, names, rng)
}

/// `n_samples` values of x evenly spaced on [−2π, 2π] with targets `y = sin x + ε`,
/// `ε ~ Normal(0, noise)`. The noise-free `sin x` is kept as `clean_y`.
///
/// The noise sets a floor: even the true curve has a mean squared error of `noise²` against
/// these targets (0.0025 for the default σ = 0.05).
pub fn sine(n_samples: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let mut x = Matrix::zeros(n_samples, 1);
    let mut y = Matrix::zeros(n_samples, 1);
    let mut clean = Matrix::zeros(n_samples, 1);
    for i in 0..n_samples {
        let t = -2.0 * PI + 4.0 * PI * i as f64 / (n_samples.max(2) - 1) as f64;
        x[(i, 0)] = t;
        clean[(i, 0)] = t.sin();
        y[(i, 0)] = t.sin() + rng.normal_with(0.0, noise);
    }
    Dataset {
        name: "sine".to_string(),
        x,
        y,
        task: Task::Regression,
        feature_names: vec!["x".to_string()],
        class_names: Vec::new(),
        clean_y: Some(clean),
    }
}

fn binary(name: &str, x: Matrix, y: Matrix, class_names: [&str; 2]) -> Dataset {
    Dataset {
        name: name.to_string(),
        x,
        y,
        task: Task::Binary,
        feature_names: vec!["x₁".to_string(), "x₂".to_string()],
        class_names: class_names.iter().map(|c| c.to_string()).collect(),
        clean_y: None,
    }
}

fn shuffled_binary(
    name: &str,
    rows: Vec<[f64; 2]>,
    labels: Vec<usize>,
    class_names: [&str; 2],
    rng: &mut Rng,
) -> Dataset {
    let (x, labels) = shuffle_rows(rows, labels, rng);
    let y = Matrix::from_vec(labels.len(), 1, labels.iter().map(|&l| l as f64).collect());
    binary(name, x, y, class_names)
}

fn shuffled_multiclass(
    name: &str,
    rows: Vec<[f64; 2]>,
    labels: Vec<usize>,
    class_names: Vec<String>,
    rng: &mut Rng,
) -> Dataset {
    let classes = class_names.len();
    let (x, labels) = shuffle_rows(rows, labels, rng);
    Dataset {
        name: name.to_string(),
        x,
        y: one_hot(&labels, classes),
        task: Task::Multiclass { classes },
        feature_names: vec!["x₁".to_string(), "x₂".to_string()],
        class_names,
        clean_y: None,
    }
}

fn shuffle_rows(rows: Vec<[f64; 2]>, labels: Vec<usize>, rng: &mut Rng) -> (Matrix, Vec<usize>) {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    rng.shuffle(&mut order);
    let x = Matrix::from_rows(&order.iter().map(|&i| rows[i]).collect::<Vec<_>>());
    let labels = order.iter().map(|&i| labels[i]).collect();
    (x, labels)
}
