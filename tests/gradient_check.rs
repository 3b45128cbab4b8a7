//! Every gradient backpropagation computes, checked against the definition of a derivative.
//!
//! ```text
//! central difference   ∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h        h = 1e-5
//! relative error       |a − n| / max(|a|, |n|, 1e-8)  ≤ 1e-6      a: backprop, n: the estimate
//! ```
//!
//! A piece that is not a whole network (an activation, a dense layer, dropout, batch
//! normalisation) has no loss of its own, so it is given one: `L = Σ (A ⊙ R)` for a fixed random
//! `R` of the output's shape. Then `∂L/∂A = R`, which is the upstream gradient handed to the
//! piece's backward, and whatever backward returns must match the central differences of `L`.
//!
//! Each check prints one line, `OK` or `NOT OK` with its largest relative error, the way llm.c's
//! `test_gpt2.c` does (`cargo test --test gradient_check -- --nocapture` shows them), and asserts.
//! The last tests show that a check can fail: a deliberately wrong derivative is caught.

use backprop::activation::{softmax_jacobian, Activation};
use backprop::batch_norm::BatchNorm;
use backprop::dense::{Below, Dense, Init};
use backprop::dropout::Dropout;
use backprop::gradcheck::{
    central_differences, check_network, forward_backward, relative_error, Start, DEFAULT_STEP,
    TOLERANCE,
};
use backprop::layer::Layer;
use backprop::loss::Loss;
use backprop::matrix::Matrix;
use backprop::network::Network;
use backprop::rng::Rng;

// ----- Helpers ----------------------------------------------------------------------------------

/// The largest relative error between two gradients of the same shape.
fn max_relative_error(analytic: &Matrix, numeric: &Matrix) -> f64 {
    assert_eq!(analytic.shape(), numeric.shape(), "gradients to compare");
    analytic
        .as_slice()
        .iter()
        .zip(numeric.as_slice())
        .map(|(&a, &n)| relative_error(a, n))
        .fold(0.0, f64::max)
}

/// Prints `OK` or `NOT OK` with the error, llm.c style, and returns whether it passed.
fn report(what: &str, error: f64) -> bool {
    let passed = error <= TOLERANCE;
    let verdict = if passed { "OK    " } else { "NOT OK" };
    println!("{verdict} {what:<48} max relative error {error:.2e}");
    passed
}

/// Compares a backprop gradient with its central-difference estimate; panics if they disagree.
fn assert_gradient(what: &str, analytic: &Matrix, numeric: &Matrix) -> f64 {
    let error = max_relative_error(analytic, numeric);
    assert!(
        report(what, error),
        "{what}: backprop and central differences disagree (max relative error {error:.2e} > \
         {TOLERANCE:.0e})\nbackprop:\n{analytic}\ncentral differences:\n{numeric}"
    );
    error
}

/// The central-difference gradient of `loss(m)` with respect to every entry of `m`.
fn numeric_gradient(m: &Matrix, mut loss: impl FnMut(&Matrix) -> f64) -> Matrix {
    let mut shifted = m.clone();
    let numeric = central_differences(m.as_slice().len(), DEFAULT_STEP, |e, delta| {
        shifted.as_mut_slice()[e] = m.as_slice()[e] + delta;
        let value = loss(&shifted);
        shifted.as_mut_slice()[e] = m.as_slice()[e];
        value
    });
    Matrix::from_vec(m.rows(), m.cols(), numeric)
}

/// `Σ (A ⊙ R)`: a scalar loss whose gradient with respect to `A` is `R`.
fn weighted_sum(a: &Matrix, r: &Matrix) -> f64 {
    a.hadamard(r).sum()
}

/// Entries of random sign and magnitude in [0.1, 2]: away from ReLU's kink at 0 by far more than
/// h = 1e-5, so both sides of every central difference see the same branch.
fn away_from_zero(rows: usize, cols: usize, rng: &mut Rng) -> Matrix {
    let data = (0..rows * cols)
        .map(|_| {
            let magnitude = rng.uniform_range(0.1, 2.0);
            if rng.uniform() < 0.5 {
                -magnitude
            } else {
                magnitude
            }
        })
        .collect();
    Matrix::from_vec(rows, cols, data)
}

/// Applies `f` to `Z` in a fresh matrix.
fn activate(f: Activation, z: &Matrix) -> Matrix {
    let mut a = Matrix::zeros(0, 0);
    f.forward(z, &mut a);
    a
}

const ALL_ACTIVATIONS: [Activation; 7] = [
    Activation::Identity,
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.01 },
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Swish,
    Activation::Softmax,
];

// ----- Activations ------------------------------------------------------------------------------

#[test]
fn every_activation_backward_matches_central_differences() {
    let mut rng = Rng::new(1);
    let z = away_from_zero(4, 5, &mut rng); // (n_samples, k)
    let r = Matrix::random_uniform(4, 5, -1.0, 1.0, &mut rng); // (n_samples, k), ∂L/∂A
    assert!(z.as_slice().iter().any(|&v| v < 0.0) && z.as_slice().iter().any(|&v| v > 0.0));
    for f in ALL_ACTIVATIONS {
        // L = Σ (f(Z) ⊙ R), so dA = R and backward must give dZ = ∂L/∂Z.
        let a = activate(f, &z);
        let mut dz = Matrix::zeros(0, 0);
        f.backward(&mut dz, &r, &z, &a);
        let numeric = numeric_gradient(&z, |z| weighted_sum(&activate(f, z), &r));
        assert_gradient(&format!("{} backward dZ", f.name()), &dz, &numeric);
    }
}

#[test]
fn leaky_relu_uses_its_configured_slope() {
    let mut rng = Rng::new(2);
    let z = away_from_zero(3, 4, &mut rng);
    let r = Matrix::random_uniform(3, 4, -1.0, 1.0, &mut rng);
    let f = Activation::LeakyRelu { slope: 0.2 };
    let a = activate(f, &z);
    let mut dz = Matrix::zeros(0, 0);
    f.backward(&mut dz, &r, &z, &a);
    let numeric = numeric_gradient(&z, |z| weighted_sum(&activate(f, z), &r));
    assert_gradient("leaky_relu (slope 0.2) backward dZ", &dz, &numeric);
}

#[test]
fn softmax_backward_is_the_jacobian_times_the_upstream_gradient() {
    // Backward uses dzⱼ = sⱼ·(daⱼ − Σₖ sₖ·daₖ); it must equal the explicit product dz = J·da,
    // with J = diag(s) − s·sᵀ (symmetric, so J·da = Jᵀ·da).
    let mut rng = Rng::new(3);
    let z = Matrix::random_uniform(3, 4, -2.0, 2.0, &mut rng); // (n_samples, k)
    let da = Matrix::random_uniform(3, 4, -1.0, 1.0, &mut rng); // (n_samples, k)
    let a = activate(Activation::Softmax, &z);
    let mut dz = Matrix::zeros(0, 0);
    Activation::Softmax.backward(&mut dz, &da, &z, &a);
    let mut by_jacobian = Matrix::zeros(3, 4);
    for i in 0..z.rows() {
        let j = softmax_jacobian(z.row(i)); // (k, k)
        let da_row = Matrix::from_rows(&[da.row(i)]); // (1, k)
        let dz_row = da_row.matmul(&j); // (1, k) = (J·da)ᵀ
        by_jacobian.row_mut(i).copy_from_slice(dz_row.row(0));
    }
    assert_gradient("softmax backward = J·dA per row", &dz, &by_jacobian);

    // And the Jacobian itself is the central-difference derivative of one softmax row.
    let row = Matrix::from_rows(&[z.row(0)]); // (1, k)
    let j = softmax_jacobian(z.row(0)); // (k, k), J[r, c] = ∂s_r/∂z_c
    for r in 0..4 {
        let numeric = numeric_gradient(&row, |z| activate(Activation::Softmax, z)[(0, r)]);
        let analytic = Matrix::from_rows(&[j.row(r)]);
        assert_gradient(&format!("softmax Jacobian row {r}"), &analytic, &numeric);
    }
}

// ----- Losses -----------------------------------------------------------------------------------

/// Predictions and targets a loss can be checked on, away from the clamp at 0 and 1.
fn loss_inputs(loss: Loss, rng: &mut Rng) -> (Matrix, Matrix) {
    let (n, k) = (5, 3);
    match loss {
        Loss::MeanSquaredError => (
            Matrix::random_uniform(n, k, -2.0, 2.0, rng),
            Matrix::random_uniform(n, k, -2.0, 2.0, rng),
        ),
        Loss::BinaryCrossEntropy => (
            Matrix::random_uniform(n, k, 0.05, 0.95, rng),
            Matrix::random_uniform(n, k, 0.0, 1.0, rng).map(|t| t.round()),
        ),
        Loss::SoftmaxCrossEntropy => {
            let z = Matrix::random_uniform(n, k, -2.0, 2.0, rng);
            let mut y = Matrix::zeros(n, k);
            for i in 0..n {
                y[(i, rng.below(k))] = 1.0;
            }
            (activate(Activation::Softmax, &z), y)
        }
    }
}

const ALL_LOSSES: [Loss; 3] = [
    Loss::MeanSquaredError,
    Loss::BinaryCrossEntropy,
    Loss::SoftmaxCrossEntropy,
];

#[test]
fn every_loss_gradient_matches_central_differences() {
    let mut rng = Rng::new(4);
    for loss in ALL_LOSSES {
        let (y_hat, y) = loss_inputs(loss, &mut rng);
        let mut d_y_hat = Matrix::zeros(0, 0);
        loss.gradient(&mut d_y_hat, &y_hat, &y);
        let numeric = numeric_gradient(&y_hat, |y_hat| loss.value(y_hat, &y));
        assert_gradient(&format!("{} ∂L/∂ŷ", loss.name()), &d_y_hat, &numeric);
    }
}

#[test]
fn output_error_shortcut_equals_the_general_path_and_central_differences() {
    let mut rng = Rng::new(5);
    for loss in ALL_LOSSES {
        let f = loss.output_activation();
        let (_, y) = loss_inputs(loss, &mut rng);
        let z = Matrix::random_uniform(y.rows(), y.cols(), -2.0, 2.0, &mut rng); // (n, k)
        let y_hat = activate(f, &z);

        // The shortcut: dZ = (ŷ − y)/n, or 2(ŷ − y)/(n·k) for MSE.
        let mut shortcut = Matrix::zeros(0, 0);
        loss.output_error(&mut shortcut, &y_hat, &y);

        // The long way: dŶ = ∂L/∂ŷ, then dZ = dŶ ⊙ f′(Z) (the Jacobian product for softmax).
        let mut d_y_hat = Matrix::zeros(0, 0);
        loss.gradient(&mut d_y_hat, &y_hat, &y);
        let mut general = Matrix::zeros(0, 0);
        f.backward(&mut general, &d_y_hat, &z, &y_hat);

        let numeric = numeric_gradient(&z, |z| loss.value(&activate(f, z), &y));
        let pair = format!("{} + {}", f.name(), loss.name());
        assert_gradient(
            &format!("{pair}: output_error vs ∂L/∂Z"),
            &shortcut,
            &numeric,
        );
        assert_gradient(
            &format!("{pair}: general path vs ∂L/∂Z"),
            &general,
            &numeric,
        );
        assert_gradient(
            &format!("{pair}: output_error vs general"),
            &shortcut,
            &general,
        );
    }
}

// ----- Layers -----------------------------------------------------------------------------------

#[test]
fn dense_backward_matches_central_differences_for_w_b_and_x() {
    let mut rng = Rng::new(6);
    let (n_samples, n_in, n_out) = (4, 3, 5);
    let mut dense = Dense::new(n_in, n_out, Init::Glorot, &mut rng);
    dense.b = Matrix::random_uniform(1, n_out, -0.5, 0.5, &mut rng);
    let x = Matrix::random_uniform(n_samples, n_in, -1.0, 1.0, &mut rng);
    let r = Matrix::random_uniform(n_samples, n_out, -1.0, 1.0, &mut rng); // dZ
    let z_of = |dense: &Dense, x: &Matrix| {
        let mut z = Matrix::zeros(0, 0);
        dense.forward(&mut z, x, None);
        z
    };

    // L = Σ (Z ⊙ R), so dZ = R.
    let mut dx = Matrix::zeros(0, 0);
    dense.backward(Below::Input(&mut dx), &r, &x);

    let numeric_w = numeric_gradient(&dense.w, |w| {
        let probe = Dense::from_parameters(w.clone(), dense.b.clone());
        weighted_sum(&z_of(&probe, &x), &r)
    });
    let numeric_b = numeric_gradient(&dense.b, |b| {
        let probe = Dense::from_parameters(dense.w.clone(), b.clone());
        weighted_sum(&z_of(&probe, &x), &r)
    });
    let numeric_x = numeric_gradient(&x, |x| weighted_sum(&z_of(&dense, x), &r));
    assert_gradient("dense dW = Xᵀ·dZ", &dense.dw, &numeric_w);
    assert_gradient("dense db = Σ_rows dZ", &dense.db, &numeric_b);
    assert_gradient("dense dX = dZ·Wᵀ", &dx, &numeric_x);
}

#[test]
fn dense_backward_overwrites_its_gradients() {
    // Two backward passes with the same dZ leave the same dW (not twice it): see dense.rs.
    let mut rng = Rng::new(7);
    let mut dense = Dense::new(3, 2, Init::He, &mut rng);
    let x = Matrix::random_uniform(4, 3, -1.0, 1.0, &mut rng);
    let dz = Matrix::random_uniform(4, 2, -1.0, 1.0, &mut rng);
    dense.backward(Below::Nothing, &dz, &x);
    let first = (dense.dw.clone(), dense.db.clone());
    dense.backward(Below::Nothing, &dz, &x);
    assert_eq!((dense.dw.clone(), dense.db.clone()), first);
    assert_eq!(dense.dw, x.t_matmul(&dz));
}

#[test]
fn dropout_backward_with_a_frozen_mask_matches_central_differences() {
    let mut rng = Rng::new(8);
    let mut dropout = Dropout::new(0.5, rng.fork());
    let x = Matrix::random_uniform(6, 4, -1.0, 1.0, &mut rng);
    let r = Matrix::random_uniform(6, 4, -1.0, 1.0, &mut rng);
    let mut a = Matrix::zeros(0, 0);
    dropout.forward(&mut a, &x, true);
    dropout.frozen = true;
    let mask = dropout.mask.clone();
    // The check means something only if some units were dropped and some kept (scaled by 2).
    assert!(mask.as_slice().contains(&0.0) && mask.as_slice().contains(&2.0));

    let mut dx = Matrix::zeros(0, 0);
    dropout.backward(&mut dx, &r, true);
    let numeric = numeric_gradient(&x, |x| {
        let mut a = Matrix::zeros(0, 0);
        dropout.forward(&mut a, x, true);
        weighted_sum(&a, &r)
    });
    assert_eq!(dropout.mask, mask, "a frozen mask must not change");
    assert_gradient("dropout dX = dA ⊙ M (training)", &dx, &numeric);

    // At inference dropout is the identity, and so is its backward.
    dropout.backward(&mut dx, &r, false);
    let numeric = numeric_gradient(&x, |x| {
        let mut a = Matrix::zeros(0, 0);
        dropout.forward(&mut a, x, false);
        weighted_sum(&a, &r)
    });
    assert_gradient("dropout dX = dA (inference)", &dx, &numeric);
}

#[test]
fn batch_norm_backward_matches_central_differences_in_training_mode() {
    let mut rng = Rng::new(9);
    let (n_samples, k) = (6, 3);
    let mut norm = BatchNorm::new(k);
    norm.gamma = Matrix::random_uniform(1, k, 0.5, 1.5, &mut rng);
    norm.beta = Matrix::random_uniform(1, k, -0.5, 0.5, &mut rng);
    // Columns on different scales and offsets, so the normalisation has something to undo.
    let x = Matrix::random_uniform(n_samples, k, -1.0, 1.0, &mut rng)
        .hadamard(&Matrix::from_rows(&vec![[1.0, 3.0, 0.2]; n_samples]))
        .add_row(&Matrix::from_rows(&[[0.0, 2.0, -1.0]]));
    let r = Matrix::random_uniform(n_samples, k, -1.0, 1.0, &mut rng); // dY

    let y_of = |norm: &BatchNorm, x: &Matrix| {
        let mut probe = norm.clone();
        let mut y = Matrix::zeros(0, 0);
        probe.forward(&mut y, x, true);
        y
    };
    let mut y = Matrix::zeros(0, 0);
    norm.forward(&mut y, &x, true);
    let mut dx = Matrix::zeros(0, 0);
    norm.backward(&mut dx, &r);

    let numeric_gamma = numeric_gradient(&norm.gamma, |gamma| {
        let mut probe = norm.clone();
        probe.gamma = gamma.clone();
        weighted_sum(&y_of(&probe, &x), &r)
    });
    let numeric_beta = numeric_gradient(&norm.beta, |beta| {
        let mut probe = norm.clone();
        probe.beta = beta.clone();
        weighted_sum(&y_of(&probe, &x), &r)
    });
    let numeric_x = numeric_gradient(&x, |x| weighted_sum(&y_of(&norm, x), &r));
    assert_gradient("batch_norm dγ", &norm.d_gamma, &numeric_gamma);
    assert_gradient("batch_norm dβ", &norm.d_beta, &numeric_beta);
    assert_gradient("batch_norm dX", &dx, &numeric_x);
}

// ----- Whole networks ---------------------------------------------------------------------------

/// The names of the biases whose dense layer feeds straight into batch normalisation (`b¹` for
/// `[Dense, BatchNorm, …]`). Batch norm subtracts the batch mean, which removes any constant added
/// to a column, so these biases cannot change the loss: their true gradient is exactly 0, and
/// both backprop and central differences return rounding noise around it (about 1e-17 and 1e-11),
/// whose *relative* error means nothing. They are checked to be that small instead.
fn biases_before_batch_norm(network: &Network) -> Vec<String> {
    let names = network.parameter_names();
    let mut dense = 0;
    let mut zero = Vec::new();
    for pair in network.layers().windows(2) {
        if let Layer::Dense(_) = pair[0] {
            dense += 1;
            if let Layer::BatchNorm(_) = pair[1] {
                let bias = names
                    .iter()
                    .filter(|n| n.starts_with('b'))
                    .nth(dense - 1)
                    .expect("one bias per dense layer");
                zero.push(bias.clone());
            }
        }
    }
    zero
}

/// Runs `check_network` from both starting gradients and asserts every tensor passes.
fn check_both_starts(name: &str, network: &Network, loss: Loss, x: &Matrix, y: &Matrix) -> f64 {
    let mut worst: f64 = 0.0;
    let structurally_zero = biases_before_batch_norm(network);
    for start in [Start::OutputError, Start::LossGradient] {
        let mut network = network.clone();
        let checks = check_network(&mut network, loss, x, y, start, DEFAULT_STEP);
        // Every parameter tensor and the input X were checked.
        assert_eq!(checks.len(), network.parameter_names().len() + 1);
        assert_eq!(checks.last().map(|c| c.name.as_str()), Some("X"));
        for check in &checks {
            let what = format!("{name} {start:?} {}", check.name);
            if structurally_zero.contains(&check.name) {
                let (a, n) = (check.analytic.max_abs(), check.numeric.max_abs());
                println!(
                    "OK     {what:<48} zero by batch norm: |backprop| {a:.1e}, |estimate| {n:.1e}"
                );
                assert!(
                    a < 1e-14 && n < 1e-9,
                    "{what} should be 0: {a:.1e}, {n:.1e}"
                );
                continue;
            }
            worst = worst.max(assert_gradient(&what, &check.analytic, &check.numeric));
            assert!(check.passed(TOLERANCE));
        }
    }
    worst
}

/// Asserts that no value entering a ReLU is within `margin` of the kink at 0.
fn assert_relu_inputs_away_from_kink(network: &mut Network, x: &Matrix, margin: f64) {
    network.freeze_dropout_masks(true);
    network.forward(x, true);
    let closest = backprop::gradcheck::distance_to_kink(network)
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    assert!(
        closest > margin,
        "a ReLU input is {closest:.1e} from the kink; choose another seed"
    );
    network.freeze_dropout_masks(false);
}

#[test]
fn classifier_with_tanh_relu_batch_norm_dropout_and_softmax() {
    // 3 → 5 tanh → 4 (batch norm) relu (dropout 0.25) → 3 softmax, with softmax cross-entropy.
    let mut rng = Rng::new(10);
    let mut network = Network::new(vec![
        Layer::Dense(Dense::new(3, 5, Init::Glorot, &mut rng)),
        Layer::Activation(Activation::Tanh),
        Layer::Dense(Dense::new(5, 4, Init::He, &mut rng)),
        Layer::BatchNorm(BatchNorm::new(4)),
        Layer::Activation(Activation::Relu),
        Layer::Dropout(Dropout::new(0.25, rng.fork())),
        Layer::Dense(Dense::new(4, 3, Init::Glorot, &mut rng)),
        Layer::Activation(Activation::Softmax),
    ]);
    // Non-zero biases and a non-trivial γ, β, so every parameter's gradient is exercised.
    network.for_each_parameter(|_, _, p, _| {
        for v in p.as_mut_slice() {
            *v += rng.uniform_range(-0.3, 0.3);
        }
    });
    let x = Matrix::random_uniform(8, 3, -1.5, 1.5, &mut rng); // (n_samples, n_in)
    let mut y = Matrix::zeros(8, 3); // one-hot
    for i in 0..8 {
        y[(i, i % 3)] = 1.0;
    }
    assert_relu_inputs_away_from_kink(&mut network.clone(), &x, 1e-3);
    let worst = check_both_starts(
        "3→5 tanh→4 bn relu drop→3 softmax",
        &network,
        Loss::SoftmaxCrossEntropy,
        &x,
        &y,
    );
    println!("classifier: worst relative error {worst:.2e}");
}

#[test]
fn regression_network_with_swish_and_leaky_relu() {
    // 2 → 6 swish → 4 leaky_relu → 2 identity, with mean squared error.
    let mut rng = Rng::new(16);
    let mut network = Network::new(vec![
        Layer::Dense(Dense::new(2, 6, Init::He, &mut rng)),
        Layer::Activation(Activation::Swish),
        Layer::Dense(Dense::new(6, 4, Init::He, &mut rng)),
        Layer::Activation(Activation::LeakyRelu { slope: 0.01 }),
        Layer::Dense(Dense::new(4, 2, Init::Glorot, &mut rng)),
        Layer::Activation(Activation::Identity),
    ]);
    network.for_each_parameter(|_, _, p, _| {
        for v in p.as_mut_slice() {
            *v += rng.uniform_range(-0.3, 0.3);
        }
    });
    let x = Matrix::random_uniform(7, 2, -2.0, 2.0, &mut rng);
    let y = Matrix::random_uniform(7, 2, -1.0, 1.0, &mut rng);
    assert_relu_inputs_away_from_kink(&mut network.clone(), &x, 1e-3);
    check_both_starts(
        "2→6 swish→4 leaky_relu→2 identity",
        &network,
        Loss::MeanSquaredError,
        &x,
        &y,
    );
}

#[test]
fn binary_classifier_built_by_mlp_with_batch_norm() {
    // Network::mlp: 3 → 6 (batch norm) sigmoid → 6 (batch norm) sigmoid → 1 sigmoid, BCE.
    use backprop::network::Architecture;
    let mut rng = Rng::new(12);
    let architecture = Architecture {
        n_in: 3,
        hidden: vec![6, 6],
        activation: Activation::Sigmoid,
        n_out: 1,
        output: Activation::Sigmoid,
        batch_norm: true,
        dropout: 0.0,
    };
    let network = Network::mlp(&architecture, &mut rng);
    let x = Matrix::random_uniform(6, 3, -1.0, 1.0, &mut rng);
    let y = Matrix::from_rows(&[[0.0], [1.0], [1.0], [0.0], [1.0], [0.0]]);
    check_both_starts(
        "mlp 3→6 bn sigmoid→6 bn sigmoid→1 sigmoid",
        &network,
        Loss::BinaryCrossEntropy,
        &x,
        &y,
    );
}

#[test]
fn check_network_leaves_the_network_as_it_found_it() {
    let mut rng = Rng::new(13);
    let mut network = Network::new(vec![
        Layer::Dense(Dense::new(2, 3, Init::Glorot, &mut rng)),
        Layer::BatchNorm(BatchNorm::new(3)),
        Layer::Activation(Activation::Tanh),
        Layer::Dropout(Dropout::new(0.5, rng.fork())),
        Layer::Dense(Dense::new(3, 1, Init::Glorot, &mut rng)),
        Layer::Activation(Activation::Sigmoid),
    ]);
    let x = Matrix::random_uniform(4, 2, -1.0, 1.0, &mut rng);
    let y = Matrix::from_rows(&[[0.0], [1.0], [1.0], [0.0]]);
    let mut before = Vec::new();
    network.for_each_parameter(|_, _, p, _| before.push(p.clone()));
    let running = |network: &Network| match &network.layers()[1] {
        Layer::BatchNorm(norm) => (norm.running_mean.clone(), norm.running_var.clone()),
        _ => unreachable!("layer 1 is batch norm"),
    };
    let running_before = running(&network);
    check_network(
        &mut network,
        Loss::BinaryCrossEntropy,
        &x,
        &y,
        Start::OutputError,
        DEFAULT_STEP,
    );
    let mut after = Vec::new();
    network.for_each_parameter(|_, _, p, _| after.push(p.clone()));
    assert_eq!(before, after, "parameters restored bit for bit");
    assert_eq!(
        running(&network),
        running_before,
        "running averages restored"
    );
    assert!(!network.input_gradient, "input_gradient restored");
    let dropout_frozen = network
        .layers()
        .iter()
        .any(|l| matches!(l, Layer::Dropout(d) if d.frozen));
    assert!(!dropout_frozen, "dropout masks unfrozen again");
}

// ----- A check can fail -------------------------------------------------------------------------

#[test]
fn a_wrong_activation_derivative_is_caught() {
    // A classic slip: tanh′ written as 1 − A instead of 1 − A².
    let mut rng = Rng::new(14);
    let z = away_from_zero(4, 5, &mut rng);
    let r = Matrix::random_uniform(4, 5, -1.0, 1.0, &mut rng);
    let a = activate(Activation::Tanh, &z);
    let wrong_dz = r.zip_map(&a, "wrong tanh backward", |da, a| da * (1.0 - a));
    let numeric = numeric_gradient(&z, |z| weighted_sum(&activate(Activation::Tanh, z), &r));
    let error = max_relative_error(&wrong_dz, &numeric);
    assert!(!report(
        "deliberately wrong tanh′ = 1 − A (expected NOT OK)",
        error
    ));
    assert!(
        error > 1e-2,
        "a wrong derivative must be far outside tolerance, got {error:.2e}"
    );

    // And a wrong factor of 2 in the sigmoid derivative.
    let a = activate(Activation::Sigmoid, &z);
    let wrong_dz = r.zip_map(&a, "wrong sigmoid backward", |da, a| {
        2.0 * da * a * (1.0 - a)
    });
    let numeric = numeric_gradient(&z, |z| weighted_sum(&activate(Activation::Sigmoid, z), &r));
    let error = max_relative_error(&wrong_dz, &numeric);
    assert!(!report(
        "deliberately wrong σ′ = 2σ(1 − σ) (expected NOT OK)",
        error
    ));
    assert!(
        error > 0.4,
        "a factor of 2 gives a relative error of 1/2, got {error:.2e}"
    );
}

#[test]
fn a_corrupted_weight_gradient_is_caught() {
    // Backprop right, then one entry of dW¹ nudged by 1 %: the check must notice.
    let mut rng = Rng::new(15);
    let mut network = Network::new(vec![
        Layer::Dense(Dense::new(3, 4, Init::Glorot, &mut rng)),
        Layer::Activation(Activation::Tanh),
        Layer::Dense(Dense::new(4, 2, Init::Glorot, &mut rng)),
        Layer::Activation(Activation::Softmax),
    ]);
    let x = Matrix::random_uniform(5, 3, -1.0, 1.0, &mut rng);
    let y = Matrix::from_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]);
    let loss = Loss::SoftmaxCrossEntropy;
    forward_backward(&mut network, loss, &x, &y, Start::OutputError);
    let mut corrupted = network
        .dense_layers()
        .next()
        .expect("a dense layer")
        .dw
        .clone();
    let right = max_gradient_entry(&corrupted);
    corrupted.as_mut_slice()[right] *= 1.01;

    let w = network
        .dense_layers()
        .next()
        .expect("a dense layer")
        .w
        .clone();
    let numeric = numeric_gradient(&w, |w| {
        let mut probe = network.clone();
        if let Layer::Dense(dense) = &mut probe.layers_mut()[0] {
            dense.w = w.clone();
        }
        loss.value(probe.forward(&x, true), &y)
    });
    let error = max_relative_error(&corrupted, &numeric);
    assert!(!report(
        "dW¹ with one entry 1 % off (expected NOT OK)",
        error
    ));
    assert!(
        error > 5e-3,
        "a 1 % error must show as about 1e-2, got {error:.2e}"
    );

    // The same comparison without the corruption passes: the failure was the corruption.
    let right_dw = &network.dense_layers().next().expect("a dense layer").dw;
    assert_gradient("dW¹ uncorrupted", right_dw, &numeric);
}

/// The index of the largest |entry|, so a relative nudge there is not lost under the 1e-8 floor.
fn max_gradient_entry(m: &Matrix) -> usize {
    let mut best = 0;
    for (e, v) in m.as_slice().iter().enumerate() {
        if v.abs() > m.as_slice()[best].abs() {
            best = e;
        }
    }
    best
}
