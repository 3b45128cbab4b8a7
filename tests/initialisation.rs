//! The initialisation chapter (`dense.rs`, "Initialisation") checked on the numbers that
//! `plot initialisation` draws: ten dense layers of 256 units, 1,000 unit-variance inputs.
//!
//! ```text
//! (1)  Var(z)  = n_in · σ² · E[x²]
//! (2)  E[a²]   = ½ · n_in · σ² · E[x²]          behind a ReLU
//! (3)  Var(dX) = n_out · σ² · E[dZ²],   E[dZ²] = E[dA²]·E[f′(Z)²]
//! ```

use backprop::activation::Activation;
use backprop::dense::{Dense, Init};
use backprop::matrix::Matrix;
use backprop::plot::initialisation::{self, Spread, WeightScale, DEPTH, SAMPLES, WIDTH};
use backprop::rng::Rng;
use std::sync::OnceLock;

/// The figure's numbers, computed once for all the tests of this file.
fn spreads() -> &'static [Spread] {
    static SPREADS: OnceLock<Vec<Spread>> = OnceLock::new();
    SPREADS.get_or_init(|| initialisation::spreads(SAMPLES))
}

fn find(scale: WeightScale, f: Activation) -> &'static Spread {
    spreads()
        .iter()
        .find(|s| s.scale == scale && s.activation == f)
        .unwrap_or_else(|| panic!("{scale:?} with {} is not in the figure", f.name()))
}

const SMALL: WeightScale = WeightScale::Fixed(0.01);
const LARGE: WeightScale = WeightScale::Fixed(1.0);
const HE: WeightScale = WeightScale::Scheme(Init::He);
const GLOROT: WeightScale = WeightScale::Scheme(Init::Glorot);

/// `(last / first)^(1/steps)`: the average factor per step of a geometric series.
fn per_step(first: f64, last: f64, steps: usize) -> f64 {
    (last / first).powf(1.0 / steps as f64)
}

/// σ² of a scale for the figure's square layers.
fn variance(scale: WeightScale) -> f64 {
    scale.std_dev(WIDTH, WIDTH).powi(2)
}

#[test]
fn the_figure_covers_every_scale_with_relu_and_tanh() {
    assert_eq!(spreads().len(), 10);
    for s in spreads() {
        assert_eq!(s.activations.len(), DEPTH + 1);
        assert_eq!(s.gradients.len(), DEPTH + 1);
        // Both start from draws of Normal(0, 1): a mean square within a few % of 1.
        assert!(
            (s.activations[0] - 1.0).abs() < 0.02,
            "E[x²] = {}",
            s.activations[0]
        );
        assert!(
            (s.gradients[DEPTH] - 1.0).abs() < 0.02,
            "E[(dA¹⁰)²] = {}",
            s.gradients[DEPTH]
        );
        assert!(s
            .activations
            .iter()
            .chain(&s.gradients)
            .all(|v| v.is_finite()));
    }
}

#[test]
fn he_keeps_the_mean_square_of_relu_layers_within_a_factor_of_two() {
    let he = find(HE, Activation::Relu);
    let first = he.activations[1];
    // (2) with σ² = 2/n_in: E[(A¹)²] = E[x²].
    assert!(
        (first / he.activations[0] - 1.0).abs() < 0.05,
        "E[(A¹)²] = {first}"
    );
    for (l, v) in he.activations.iter().enumerate().skip(1) {
        assert!(
            (0.5..=2.0).contains(&(v / first)),
            "He, ReLU: E[(A{l})²] = {v} against E[(A¹)²] = {first}"
        );
    }
    // Backward, (3) with ReLU's ½ gives n_out/n_in = 1 per layer: the gradient keeps its size.
    let top = he.gradients[DEPTH];
    for (l, v) in he.gradients.iter().enumerate() {
        assert!(
            (0.5..=2.0).contains(&(v / top)),
            "He, ReLU: E[(dA{l})²] = {v} against {top} at the top"
        );
    }
}

#[test]
fn each_relu_layer_multiplies_the_mean_square_by_half_n_sigma_squared() {
    // The chapter quotes the measured factors to two or three digits: 0.0126, 126, 0.98, 0.49.
    let quoted = [
        (SMALL, 0.0126, 5e-5),
        (LARGE, 126.0, 0.5),
        (HE, 0.98, 5e-3),
        (GLOROT, 0.49, 5e-3),
    ];
    for (scale, quote, half_digit) in quoted {
        let s = find(scale, Activation::Relu);
        let predicted = 0.5 * WIDTH as f64 * variance(scale);
        let forward = per_step(s.activations[0], s.activations[DEPTH], DEPTH);
        let backward = per_step(s.gradients[DEPTH], s.gradients[0], DEPTH);
        for (way, measured) in [("forward", forward), ("backward", backward)] {
            assert!(
                (measured / predicted - 1.0).abs() < 0.05,
                "{scale:?} {way}: ×{measured} per layer, (2)/(3) say ×{predicted}"
            );
        }
        assert!(
            (forward - quote).abs() <= half_digit,
            "{scale:?}: ×{forward} per layer, the chapter says {quote}"
        );
    }
}

#[test]
fn too_small_weights_shrink_the_signal_and_the_gradient_by_orders_of_magnitude() {
    let relu = find(SMALL, Activation::Relu);
    assert!(
        relu.activations[DEPTH] < 1e-15 * relu.activations[1],
        "σ = 0.01, ReLU: E[(A¹⁰)²] = {:e}",
        relu.activations[DEPTH]
    );
    assert!(relu.gradients[0] < 1e-15 * relu.gradients[DEPTH - 1]);
    // The chapter: 0.0128¹⁰ ≈ 10⁻¹⁹.
    assert_eq!(relu.activations[DEPTH].log10().round(), -19.0);
    // tanh z ≈ z near 0, so the factor is n_in·σ² (no ½).
    let tanh = find(SMALL, Activation::Tanh);
    let predicted = WIDTH as f64 * variance(SMALL);
    let forward = per_step(tanh.activations[1], tanh.activations[DEPTH], DEPTH - 1);
    assert!((forward / predicted - 1.0).abs() < 0.02, "×{forward}");
    let backward = per_step(tanh.gradients[DEPTH], tanh.gradients[0], DEPTH);
    assert!((backward / predicted - 1.0).abs() < 0.02, "×{backward}");
}

#[test]
fn too_large_weights_explode_relu_and_saturate_tanh() {
    let relu = find(LARGE, Activation::Relu);
    for l in 1..=DEPTH {
        // (2): ×128 per layer; each single layer within a factor of 2 of it.
        let step = relu.activations[l] / relu.activations[l - 1];
        assert!((64.0..256.0).contains(&step), "layer {l}: ×{step}");
    }
    // 128¹⁰ ≈ 10²¹, the chapter's figure, still far from f64's 10³⁰⁸.
    assert_eq!(relu.activations[DEPTH].log10().round(), 21.0);
    // tanh cannot pass 1: every layer is saturated near E[a²] ≈ 0.95 …
    let tanh = find(LARGE, Activation::Tanh);
    for (l, v) in tanh.activations.iter().enumerate().skip(1) {
        assert!((0.94..0.96).contains(v), "σ = 1, tanh: E[(A{l})²] = {v}");
    }
    // … while the gradient grows about ×9 per layer going down.
    let growth = per_step(tanh.gradients[DEPTH], tanh.gradients[0], DEPTH);
    assert!((8.5..9.5).contains(&growth), "×{growth}");
}

/// (3) layer by layer: E[(dAˡ⁻¹)²] / E[(dAˡ)²] = n_out · σ² · E[f′(Zˡ)²], with f′ read from the
/// forward pass of the same network.
///
/// (3) treats `dA` and `f′(Z)` as independent. Where tanh saturates, only the few units with
/// `Z` near 0 pass anything back, so a single layer's ratio is noisy (off by up to a fifth);
/// over the ten layers it averages out.
#[test]
fn the_gradient_shrinks_or_grows_as_n_out_sigma_squared_times_the_mean_square_slope() {
    let x = Matrix::random_normal(SAMPLES, WIDTH, 0.0, 1.0, &mut Rng::new(11));
    let upstream = Matrix::random_normal(SAMPLES, WIDTH, 0.0, 1.0, &mut Rng::new(12));
    for (scale, f) in [
        (LARGE, Activation::Tanh),
        (HE, Activation::Tanh),
        (GLOROT, Activation::Tanh),
        (HE, Activation::Relu),
        (LARGE, Activation::Relu),
    ] {
        let saturated = (scale, f) == (LARGE, Activation::Tanh);
        let mut network = initialisation::network(scale, f);
        network.forward(&x, false);
        network.backward(&upstream);
        let mean_square = |m: &Matrix| m.norm_squared() / m.as_slice().len() as f64;
        let mut slopes = Vec::new();
        let (mut measured_stack, mut predicted_stack) = (1.0, 1.0);
        for l in 1..=DEPTH {
            // values[2l − 1] = Zˡ, values[2l] = Aˡ; gradients[2l] = dAˡ.
            let (z, a) = (&network.values()[2 * l - 1], &network.values()[2 * l]);
            let slope = z
                .as_slice()
                .iter()
                .zip(a.as_slice())
                .map(|(z, a)| f.derivative(*z, *a).powi(2))
                .sum::<f64>()
                / z.as_slice().len() as f64;
            slopes.push(slope);
            let predicted = WIDTH as f64 * variance(scale) * slope;
            let measured = mean_square(&network.gradients()[2 * l - 2])
                / mean_square(&network.gradients()[2 * l]);
            let tolerance = if saturated { 0.25 } else { 0.1 };
            assert!(
                (measured / predicted - 1.0).abs() < tolerance,
                "{scale:?} {}: layer {l} passes ×{measured} down, (3) says ×{predicted}",
                f.name()
            );
            measured_stack *= measured;
            predicted_stack *= predicted;
        }
        assert!(
            (measured_stack / predicted_stack - 1.0).abs() < 0.1,
            "{scale:?} {}: ×{measured_stack} over the stack, (3) says ×{predicted_stack}",
            f.name()
        );
        if saturated {
            // The chapter: E[tanh′(Z)²] ≈ 0.034, far above 1/256.
            let mean = slopes.iter().sum::<f64>() / slopes.len() as f64;
            assert!((mean - 0.034).abs() < 0.0015, "E[tanh′(Z)²] = {mean}");
        }
        if f == Activation::Relu {
            // ReLU′ is 1 on about half the units (each unit's z has its own offset from the
            // inputs' mean, so the half is exact only on average over many units).
            assert!(slopes.iter().all(|s| (s - 0.5).abs() < 0.05), "{slopes:?}");
        }
    }
}

/// (1) and (2) on one wide layer `256 → 4096`, fed inputs that have a mean. The layer is wide so
/// that the average over its units is close to the expectation: each unit's `z` carries an offset
/// `mean(x)·Σ_p W[p, j]`, and 4096 of them average to their expectation within a few %.
#[test]
fn one_layer_follows_var_z_equals_n_in_sigma_squared_mean_square_x() {
    let (n_in, n_out) = (WIDTH, 4096);
    let mut rng = Rng::new(21);
    // Inputs with a mean (after a ReLU they have one): (1) needs E[x²], not Var(x).
    let x = Matrix::random_normal(500, n_in, 0.0, 1.0, &mut rng).map(|v| v.max(0.0) + 0.5);
    let mean_square = |m: &Matrix| m.norm_squared() / m.as_slice().len() as f64;
    for sigma in [0.01, Init::He.std_dev(n_in, n_out), 1.0] {
        let w = Matrix::random_normal(n_in, n_out, 0.0, sigma, &mut rng);
        let layer = Dense::from_parameters(w, Matrix::zeros(1, n_out));
        let mut z = Matrix::zeros(0, 0);
        layer.forward(&mut z, &x, None);
        let predicted = n_in as f64 * sigma * sigma * mean_square(&x);
        assert!(
            (mean_square(&z) / predicted - 1.0).abs() < 0.05,
            "σ = {sigma}: E[z²] = {}, n_in·σ²·E[x²] = {predicted}",
            mean_square(&z)
        );
        assert!(
            z.mean().abs() < 0.05 * mean_square(&z).sqrt(),
            "z has mean {}",
            z.mean()
        );
        // (2): the ReLU keeps half of it.
        let mut a = Matrix::zeros(0, 0);
        Activation::Relu.forward(&z, &mut a);
        let half = mean_square(&a) / mean_square(&z);
        assert!(
            (half - 0.5).abs() < 0.025,
            "σ = {sigma}: E[a²]/E[z²] = {half}"
        );
    }
}

#[test]
fn all_zero_weights_leave_nothing_but_the_input_and_the_last_bias() {
    for f in [Activation::Relu, Activation::Tanh] {
        let zero = find(WeightScale::Zero, f);
        assert!(
            zero.activations[1..].iter().all(|v| *v == 0.0),
            "{:?}",
            zero.activations
        );
        assert!(
            zero.gradients[..DEPTH].iter().all(|v| *v == 0.0),
            "{:?}",
            zero.gradients
        );
    }
    // Every dW is 0: above the first layer X = A = tanh(0) = 0, in it dZ = 0. Only db¹⁰ is not.
    let mut network = initialisation::network(WeightScale::Zero, Activation::Tanh);
    let x = Matrix::random_normal(50, WIDTH, 0.0, 1.0, &mut Rng::new(31));
    let upstream = Matrix::random_normal(50, WIDTH, 0.0, 1.0, &mut Rng::new(32));
    network.forward(&x, false);
    network.backward(&upstream);
    for (l, dense) in network.dense_layers().enumerate() {
        assert_eq!(dense.dw.max_abs(), 0.0, "dW{}", l + 1);
        let moves = dense.db.max_abs() > 0.0;
        assert_eq!(moves, l + 1 == DEPTH, "db{}", l + 1);
    }
}

#[test]
fn glorot_is_the_harmonic_mean_of_the_forward_and_backward_wishes() {
    for (n_in, n_out) in [(256, 256), (2, 16), (300, 100)] {
        let forward = 1.0 / n_in as f64;
        let backward = 1.0 / n_out as f64;
        let harmonic = 2.0 / (1.0 / forward + 1.0 / backward);
        let glorot = Init::Glorot.std_dev(n_in, n_out).powi(2);
        assert!((glorot - harmonic).abs() < 1e-15, "{n_in}→{n_out}");
        let he = Init::He.std_dev(n_in, n_out).powi(2);
        assert!((0.5 * n_in as f64 * he - 1.0).abs() < 1e-12);
    }
}
