//! The exercises of the training chapters, checked.
//!
//! `network.rs`, `optim.rs`, `train.rs`, `dropout.rs` and `batch_norm.rs` end with exercises
//! whose answers quote numbers. Each test here is named after its chapter and computes the
//! numbers one answer quotes, from the crate as it is, so a change that breaks an answer breaks
//! `cargo test`. Where an answer quotes what a command prints, the test runs that command on the
//! real binary and looks for the printed line. Every test prints what it measured:
//!
//! ```text
//! cargo test --test exercises_training optim_ -- --nocapture
//! ```

use backprop::activation::Activation;
use backprop::data::generate;
use backprop::dropout::Dropout;
use backprop::layer::Layer;
use backprop::loss::Loss;
use backprop::matrix::Matrix;
use backprop::network::{Architecture, Network};
use backprop::optim::{Optimizer, Rule, Schedule};
use backprop::rng::Rng;
use backprop::run::{self, RunOptions};
use backprop::tasks;
use backprop::train::{self, TrainConfig};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::Command;

/// Runs `backprop ARGS --out <a temporary folder>` as a learner would, and returns what it wrote
/// to stdout and then to stderr (warnings and errors).
fn backprop(name: &str, args: &[&str]) -> String {
    let out = temp_folder(name);
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("the backprop binary runs");
    let _ = std::fs::remove_dir_all(&out);
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    println!("$ backprop {}\n{}", args.join(" "), printed_lines(&text));
    text
}

/// The output without the character pictures, for printing.
fn printed_lines(text: &str) -> String {
    text.lines()
        .filter(|l| l.contains(' ') && l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A folder for one command's files, named after the test process and `name`.
fn temp_folder(name: &str) -> PathBuf {
    let folder =
        std::env::temp_dir().join(format!("backprop-exercises-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    folder
}

/// Asserts that `output` has a line containing `expected`.
fn assert_prints(output: &str, expected: &str) {
    assert!(
        output.lines().any(|l| l.contains(expected)),
        "expected a line with {expected:?} in:\n{output}"
    );
}

fn task(name: &str) -> RunOptions {
    RunOptions::for_task(&tasks::find(name).expect("a named task"))
}

fn largest_magnitude(m: &Matrix) -> f64 {
    m.as_slice()
        .iter()
        .fold(0.0, |largest, v| v.abs().max(largest))
}

// ---------------------------------------------------------------------------------------------
// network.rs

/// Exercise 1 of `network.rs`: through a stack of sigmoids the gradient shrinks layer by layer,
/// because backward multiplies by `σ′(Z) ≤ 1/4` at every layer.
#[test]
fn network_sigmoid_gradients_shrink_layer_by_layer() {
    let args = [
        "train",
        "circles",
        "--hidden",
        "8,8,8,8,8",
        "--epochs",
        "1",
        "--activation",
    ];
    let sigmoid = backprop("sigmoid", &[&args[..], &["sigmoid"]].concat());
    assert_prints(
        &sigmoid,
        "gradients   ‖dW¹‖ 7.0e-6  ‖dW²‖ 3.4e-5  ‖dW³‖ 1.1e-4  ‖dW⁴‖ 5.9e-4  ‖dW⁵‖ 5.4e-3  ‖dW⁶‖ 1.1e-2",
    );
    let tanh = backprop("tanh", &[&args[..], &["tanh"]].concat());
    assert_prints(
        &tanh,
        "gradients   ‖dW¹‖ 2.8e-2  ‖dW²‖ 5.2e-2  ‖dW³‖ 4.5e-2  ‖dW⁴‖ 3.8e-2  ‖dW⁵‖ 1.1e-1  ‖dW⁶‖ 6.2e-2",
    );

    // The same run through the library: the factor per layer, and the mean of σ′(Z) = a·(1 − a)
    // over each sigmoid layer of the first forward pass (the five hidden ones, then the output).
    let mut options = task("circles");
    options.hidden = vec![8; 5];
    options.activation = Activation::Sigmoid;
    options.epochs = 1;
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).expect("runs");
    let norms = &run.history.epochs[0].gradient_norms;
    let per_layer = (norms[0] / norms[5]).powf(1.0 / 5.0);
    let mut network = run.initial.clone();
    network.forward(&run.data.train.x, true);
    let mut slopes = Vec::new();
    for (l, layer) in network.layers().iter().enumerate() {
        if let (Layer::Activation(Activation::Sigmoid), Some(a)) =
            (layer, network.values().get(l + 1))
        {
            let mean =
                a.as_slice().iter().map(|a| a * (1.0 - a)).sum::<f64>() / a.as_slice().len() as f64;
            slopes.push(format!("{mean:.3}"));
        }
    }
    println!(
        "‖dW¹‖/‖dW⁶‖ = {:.1e}, {per_layer:.2} per layer; mean σ′(Z) per layer {slopes:?}",
        norms[0] / norms[5]
    );
    assert_eq!(
        format!("{:.1e} {per_layer:.2}", norms[0] / norms[5]),
        "6.6e-4 0.23"
    );
    // The last entry is the output sigmoid's.
    assert_eq!(
        slopes,
        ["0.238", "0.243", "0.234", "0.220", "0.244", "0.250"]
    );
}

/// Exercise 2 of `network.rs`: backward overwrites the gradients, so calling it twice on the same
/// batch leaves the same gradients, where an accumulating `+=` would leave twice them.
#[test]
fn network_backward_twice_gives_the_same_gradients() {
    let xor = generate::xor();
    let shape = Architecture {
        n_in: 2,
        hidden: vec![3],
        activation: Activation::Tanh,
        n_out: 1,
        output: Activation::Sigmoid,
        batch_norm: false,
        dropout: 0.0,
    };
    let mut network = Network::mlp(&shape, &mut Rng::new(1));
    let gradients = |network: &Network| -> Vec<Matrix> {
        network
            .dense_layers()
            .flat_map(|d| [d.dw.clone(), d.db.clone()])
            .collect()
    };
    let mut dz = Matrix::zeros(0, 0);
    let y_hat = network.forward(&xor.x, true).clone();
    Loss::BinaryCrossEntropy.output_error(&mut dz, &y_hat, &xor.y);
    network.backward_from_output_error(&dz);
    let once = gradients(&network);
    network.backward_from_output_error(&dz);
    let twice = gradients(&network);
    println!(
        "‖dW¹‖ after one backward {:.6}, after two {:.6}",
        once[0].norm(),
        twice[0].norm()
    );
    assert_eq!(once, twice, "a second backward changed the gradients");
    assert_eq!(format!("{:.6}", once[0].norm()), "0.136579");
}

// ---------------------------------------------------------------------------------------------
// optim.rs

/// The Hessian of sine's loss without hidden layers: `ŷ = x·w + b`, `L = (1/n)·Σ (ŷ − y)²`, so
/// `H = 2·[[mean x², mean x], [mean x, 1]]`. Returns (mean x², mean x, λ_max, λ_min).
fn linear_sine_hessian() -> (f64, f64, f64, f64) {
    let data = run::prepare(&task("sine")).expect("sine");
    let x = data.train.x.as_slice();
    let n = x.len() as f64;
    let mean_square = x.iter().map(|x| x * x).sum::<f64>() / n;
    let mean = x.iter().sum::<f64>() / n;
    // The eigenvalues of 2·[[a, m], [m, 1]]: 2·(t ± √(t² − d)) with t = (a + 1)/2, d = a − m².
    let half_trace = (mean_square + 1.0) / 2.0;
    let root = (half_trace * half_trace - (mean_square - mean * mean)).sqrt();
    (
        mean_square,
        mean,
        2.0 * (half_trace + root),
        2.0 * (half_trace - root),
    )
}

/// Exercise 1 of `optim.rs`, first part: gradient descent on an exact quadratic is stable only
/// for η < 2/λ_max.
#[test]
fn optim_linear_sine_is_stable_below_two_over_lambda_max() {
    let (mean_square, mean, lambda_max, lambda_min) = linear_sine_hessian();
    println!(
        "mean x² {mean_square:.3}, mean x {mean:.3}: λ_max {lambda_max:.2}, λ_min {lambda_min:.2}, \
         2/λ_max {:.4}",
        2.0 / lambda_max
    );
    assert_eq!(format!("{mean_square:.3} {mean:.3}"), "12.794 -0.088");
    assert_eq!(format!("{lambda_max:.2} {lambda_min:.2}"), "25.59 2.00");
    assert_eq!(format!("{:.4}", 2.0 / lambda_max), "0.0782");
    // Along the steep direction each step multiplies the error by 1 − η·λ_max.
    assert_eq!(format!("{:.3}", 1.0 - 0.077 * lambda_max), "-0.970");
    assert_eq!(format!("{:.3}", (0.08 * lambda_max - 1.0).powi(2)), "1.096");

    let args = |lr: &'static str| {
        [
            "train",
            "sine",
            "--hidden",
            "none",
            "--batch-size",
            "0",
            "--optimizer",
            "sgd",
            "--lr",
            lr,
        ]
    };
    let stable = backprop("lr-0.07", &args("0.07"));
    assert_prints(&stable, "epoch    60/300  loss 0.4141");
    assert_prints(&stable, "12.8584 → 0.4141");
    let edge = backprop("lr-0.077", &args("0.077"));
    assert_prints(&edge, "epoch    60/300  loss 0.7699");
    assert_prints(&edge, "12.8584 → 0.4141");
    let unstable = backprop("lr-0.08", &args("0.08"));
    assert_prints(&unstable, "12.8584 → 1.110e13");
    assert_prints(&unstable, "train       loss 1.217e13");

    // The loss of the diverging run grows by (η·λ_max − 1)² per epoch, one step per epoch.
    let mut options = task("sine");
    options.hidden = Vec::new();
    options.batch_size = 0;
    options.rule = Rule::Sgd;
    options.lr = 0.08;
    options.schedule = Schedule::Constant;
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).expect("runs");
    let losses: Vec<f64> = run.history.epochs.iter().map(|e| e.train_loss).collect();
    let growth = losses[299] / losses[298];
    println!("growth of the loss per epoch at η = 0.08: {growth:.4}");
    assert_eq!(format!("{growth:.3}"), "1.096");
}

/// Moves every parameter of `network` by `h·direction` (`direction` lists them in the order of
/// `for_each_parameter`).
fn shift_parameters(network: &mut Network, direction: &[f64], h: f64) {
    let mut k = 0;
    network.for_each_parameter(|_, _, w, _| {
        for w in w.as_mut_slice() {
            *w += h * direction[k];
            k += 1;
        }
    });
}

/// ∂L/∂(every parameter) of the mean squared error on (x, y), in one list.
fn full_gradient(network: &mut Network, x: &Matrix, y: &Matrix) -> Vec<f64> {
    let mut dz = Matrix::zeros(0, 0);
    let y_hat = network.forward(x, true).clone();
    Loss::MeanSquaredError.output_error(&mut dz, &y_hat, y);
    network.backward_from_output_error(&dz);
    let mut gradient = Vec::new();
    network.for_each_parameter(|_, _, _, dw| gradient.extend_from_slice(dw.as_slice()));
    gradient
}

/// The largest eigenvalue of the loss's Hessian at `network`, by power iteration: `H·v` is the
/// central difference of two gradients, `(∇L(w + h·v) − ∇L(w − h·v))/(2h)`.
fn sharpest_curvature(network: &Network, x: &Matrix, y: &Matrix) -> f64 {
    let mut network = network.clone();
    let mut rng = Rng::new(5);
    let mut v: Vec<f64> = (0..network.parameter_count())
        .map(|_| rng.normal())
        .collect();
    let h = 1e-4;
    let mut lambda = 0.0;
    for _ in 0..100 {
        let norm = v.iter().map(|v| v * v).sum::<f64>().sqrt();
        v.iter_mut().for_each(|v| *v /= norm);
        shift_parameters(&mut network, &v, h);
        let plus = full_gradient(&mut network, x, y);
        shift_parameters(&mut network, &v, -2.0 * h);
        let minus = full_gradient(&mut network, x, y);
        shift_parameters(&mut network, &v, h);
        let hv: Vec<f64> = plus
            .iter()
            .zip(&minus)
            .map(|(p, m)| (p - m) / (2.0 * h))
            .collect();
        lambda = hv.iter().zip(&v).map(|(a, b)| a * b).sum();
        v = hv;
    }
    lambda
}

/// Exercise 1 of `optim.rs`, second part: the default sine network with plain SGD trains at
/// η = 0.14 and diverges at η = 0.15, and it trains where the curvature is below 2/η.
#[test]
fn optim_sine_network_settles_where_eta_is_below_two_over_lambda_max() {
    let trains = backprop(
        "sgd-0.14",
        &["train", "sine", "--optimizer", "sgd", "--lr", "0.14"],
    );
    assert_prints(&trains, "train       loss 0.1146");
    assert_prints(&trains, "2.7601 → 0.0213");
    let diverges = backprop(
        "sgd-0.15",
        &["train", "sine", "--optimizer", "sgd", "--lr", "0.15"],
    );
    assert_prints(&diverges, "epoch     1/300  loss 68132.3851");
    assert_prints(&diverges, "error: training diverged in epoch 34");

    let mut options = task("sine");
    options.rule = Rule::Sgd;
    options.lr = 0.14;
    options.schedule = Schedule::Constant;
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).expect("runs");
    let (x, y) = (&run.data.train.x, &run.data.train.y);
    let at_start = sharpest_curvature(&run.initial, x, y);
    let at_end = sharpest_curvature(&run.network, x, y);
    println!(
        "λ_max {at_start:.1} at the initial weights (2/λ_max = {:.3}), {at_end:.1} after 300 \
         epochs at η = 0.14 (2/η = {:.1})",
        2.0 / at_start,
        2.0 / 0.14
    );
    assert_eq!(format!("{at_start:.1} {:.3}", 2.0 / at_start), "43.6 0.046");
    assert_eq!(format!("{at_end:.1}"), "13.2");
}

/// Exercise 2 of `optim.rs`: momentum μ on a quadratic is stable for η·λ_max < 2·(1 + μ).
#[test]
fn optim_momentum_moves_the_limit_to_two_times_one_plus_mu_over_lambda_max() {
    let (_, _, lambda_max, _) = linear_sine_hessian();
    let limit = 2.0 * (1.0 + 0.9) / lambda_max;
    println!("momentum 0.9: η < 3.8/λ_max = {limit:.4}");
    assert_eq!(format!("{limit:.4}"), "0.1485");
    let args = |lr: &'static str| {
        [
            "train",
            "sine",
            "--hidden",
            "none",
            "--batch-size",
            "0",
            "--optimizer",
            "momentum",
            "--lr",
            lr,
        ]
    };
    assert_prints(
        &backprop("momentum-0.145", &args("0.145")),
        "12.8584 → 0.4141",
    );
    assert_prints(
        &backprop("momentum-0.15", &args("0.15")),
        "12.8584 → 4.937e42",
    );
}

/// Exercise 3 of `optim.rs`: Adam's first step moves every weight by η (almost exactly), whatever
/// the size of its gradient, so `‖ΔW‖ = η·√(entries of W)`.
#[test]
fn optim_adams_first_step_moves_every_weight_by_eta() {
    let mut options = task("sine");
    options.epochs = 1;
    options.batch_size = 0;
    options.schedule = Schedule::Constant;
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).expect("runs");
    let first = &run.history.epochs[0];
    let show = |v: &[f64], digits: usize| -> Vec<String> {
        v.iter().map(|v| format!("{v:.digits$}")).collect()
    };
    println!(
        "‖dW‖ {:?}, ‖ΔW‖ {:?}; η·√20 = {:.8}, η·√400 = {:.8}",
        show(&first.gradient_norms, 2),
        show(&first.update_norms, 8),
        0.01 * 20f64.sqrt(),
        0.01 * 400f64.sqrt()
    );
    assert_eq!(show(&first.gradient_norms, 2), ["2.36", "4.09", "2.54"]);
    assert_eq!(
        show(&first.update_norms, 8),
        ["0.04472130", "0.19999993", "0.04472136"]
    );
    assert_eq!(format!("{:.8}", 0.01 * 20f64.sqrt()), "0.04472136");
}

// ---------------------------------------------------------------------------------------------
// train.rs

/// Exercise 1 of `train.rs`: an epoch's training loss is measured before its step; the summary's
/// loss after training.
#[test]
fn training_epoch_loss_is_measured_before_the_step() {
    let args = [
        "train",
        "sine",
        "--hidden",
        "none",
        "--batch-size",
        "0",
        "--optimizer",
        "sgd",
        "--lr",
        "0.07",
        "--epochs",
    ];
    let one = backprop("one-epoch", &[&args[..], &["1"]].concat());
    assert_prints(&one, "epoch     1/1  loss 12.8584  test mse 9.7023");
    assert_prints(&one, "train       loss 8.2043");
    let two = backprop("two-epochs", &[&args[..], &["2"]].concat());
    assert_prints(&two, "epoch     2/2  loss 8.2043  test mse 5.9832");
}

/// A network of sine's default shape.
fn sine_network() -> Network {
    let shape = Architecture {
        n_in: 1,
        hidden: vec![20, 20],
        activation: Activation::Tanh,
        n_out: 1,
        output: Activation::Identity,
        batch_norm: false,
        dropout: 0.0,
    };
    Network::mlp(&shape, &mut Rng::new(2))
}

/// Sine's optimizer: Adam, η = 0.01 × 0.99 per epoch.
fn sine_optimizer() -> Optimizer {
    let mut adam = Optimizer::new(Rule::from_name("adam").expect("adam"), 0.01);
    adam.schedule = Schedule::Exponential { rate: 0.99 };
    adam
}

/// Exercise 2 of `train.rs`: mini-batches of rows sorted by x, with and without the shuffle.
#[test]
fn training_shuffles_sorted_rows() {
    // `generate::sine` lays its rows out in order of x.
    let data = generate::sine(400, 0.05, &mut Rng::new(1));
    let epochs = 300;

    let mut network = sine_network();
    let config = TrainConfig {
        epochs,
        batch_size: 32,
        shuffle_seed: 3,
    };
    train::train(
        &mut network,
        &mut sine_optimizer(),
        &data,
        None,
        &config,
        |_, _| ControlFlow::Continue(()),
    );
    let shuffled = train::evaluate(&mut network, &data).0;

    // The loop of `train::train` without the shuffle: the batches are the rows in order, the
    // same 13 batches in the same order every epoch.
    let mut network = sine_network();
    let mut optimizer = sine_optimizer();
    let mut dz = Matrix::zeros(0, 0);
    let rows: Vec<usize> = (0..data.len()).collect();
    for epoch in 0..epochs {
        optimizer.start_epoch(epoch);
        for batch in rows.chunks(32) {
            let y = data.y.select_rows(batch);
            let y_hat = network.forward(&data.x.select_rows(batch), true);
            Loss::MeanSquaredError.output_error(&mut dz, y_hat, &y);
            network.backward_from_output_error(&dz);
            optimizer.step(&mut network);
        }
    }
    let in_order = train::evaluate(&mut network, &data).0;
    println!("mse after {epochs} epochs: shuffled {shuffled:.4}, rows in order {in_order:.4}");
    assert_eq!(format!("{shuffled:.4}"), "0.0028");
    assert_eq!(format!("{in_order:.4}"), "0.0441");
}

/// Exercise 3 of `train.rs`: a mini-batch's gradient does not vanish at the minimum of the whole
/// set's loss; a shrinking η is what lets the loss settle there.
#[test]
fn training_mini_batch_gradients_do_not_vanish() {
    let args = [
        "train",
        "sine",
        "--hidden",
        "none",
        "--optimizer",
        "sgd",
        "--lr",
        "0.02",
        "--batch-size",
    ];
    let full = backprop("full-batch", &[&args[..], &["0"]].concat());
    assert_prints(&full, "train       loss 0.4141");
    assert_prints(&full, "gradients   ‖dW¹‖ 9.7e-10");
    let batches = backprop("batches", &[&args[..], &["32"]].concat());
    assert_prints(&batches, "train       loss 0.4159");
    assert_prints(&batches, "gradients   ‖dW¹‖ 4.1e-1");
    let decaying = backprop(
        "decaying",
        &[&args[..], &["32", "--lr-decay", "0.98"]].concat(),
    );
    assert_prints(&decaying, "4.760e-5 in epoch 300");
    assert_prints(&decaying, "train       loss 0.4141");
    assert_prints(&decaying, "gradients   ‖dW¹‖ 3.7e-1");
}

// ---------------------------------------------------------------------------------------------
// dropout.rs

/// The mean of 10⁶ mask entries of rate `p`, and the fraction of them kept.
fn mask_mean(p: f64) -> (f64, f64) {
    let mut dropout = Dropout::new(p, Rng::new(1));
    let mut a = Matrix::zeros(0, 0);
    dropout.forward(&mut a, &Matrix::filled(1000, 1000, 1.0), true);
    let n = a.as_slice().len() as f64;
    let mean = a.as_slice().iter().sum::<f64>() / n;
    let kept = a.as_slice().iter().filter(|&&m| m != 0.0).count() as f64 / n;
    (mean, kept)
}

/// Inverted dropout keeps the expected value: `E[m] = (1 − p)·1/(1 − p) + p·0 = 1`, measured on
/// 10⁶ entries with the standard error from `Var(m) = p/(1 − p)` (exercise 1 of `dropout.rs`).
#[test]
fn dropout_mask_mean_is_one() {
    for p in [0.5, 0.2] {
        let (mean, kept) = mask_mean(p);
        let standard_error = (p / (1.0 - p) / 1e6).sqrt();
        let z = (mean - 1.0) / standard_error;
        println!(
            "p = {p}: mask mean {mean:.6}, standard error {standard_error:.4}, {z:.2} standard \
             errors from 1; kept {kept:.6}"
        );
        assert!(
            z.abs() < 4.0,
            "p = {p}: the mask mean {mean:.6} is {z:.1} standard errors of {standard_error:.4} \
             from 1"
        );
    }
    let (mean, kept) = mask_mean(0.5);
    assert_eq!(format!("{mean:.6} {kept:.6}"), "0.998308 0.499154");
    assert_eq!(format!("{:.1}", (kept - 1.0) / 0.001), "-500.8");
}

/// Exercise 2 of `dropout.rs`: the loss with dropout on (training) against the loss of the same
/// network with every unit (inference).
#[test]
fn dropout_training_loss_is_above_the_inference_loss() {
    let output = backprop("dropout", &["train", "circles", "--dropout", "0.5"]);
    assert_prints(&output, "epoch   300/300  loss 0.2715");
    assert_prints(&output, "train       loss 0.1368  accuracy 0.9912");
    assert_prints(&output, "test        loss 0.1649  accuracy 0.9850");
    // Without dropout the two differ only by the last step (`train.rs`, exercise 1).
    let output = backprop("no-dropout", &["train", "circles"]);
    assert_prints(&output, "epoch   300/300  loss 0.0434");
    assert_prints(&output, "train       loss 0.0433  accuracy 0.9975");
}

// ---------------------------------------------------------------------------------------------
// batch_norm.rs

/// Exercise 1 of `batch_norm.rs`: the bias of a dense layer followed by batch normalisation gets
/// no gradient, since `Σ_rows dX = 0`: it stays at 0 up to rounding (and Adam's ε keeps the
/// rounding from being amplified to steps of η).
#[test]
fn batch_norm_bias_before_it_gets_no_gradient() {
    let mut found = Vec::new();
    for (rule, lr) in [("sgd", 1.0), ("adam", 0.01)] {
        let mut options = task("circles");
        options.batch_norm = true;
        options.rule = Rule::from_name(rule).expect("a rule");
        options.lr = lr;
        let run = run::execute(&options, |_, _| ControlFlow::Continue(())).expect("runs");
        let first = run.network.dense_layers().next().expect("a dense layer");
        let (b, db) = (largest_magnitude(&first.b), largest_magnitude(&first.db));
        println!("{rule}: largest |b¹| {b:.1e}, largest |db¹| of the last step {db:.1e}");
        found.push(format!("{b:.1e} {db:.1e}"));
    }
    assert_eq!(found, ["3.7e-16 4.3e-18", "1.4e-10 6.7e-18"]);
}

/// Exercise 2 of `batch_norm.rs`: the command line refuses batch norm on batches of one row; the
/// library trains it anyway, and shows why: with one row `X̂ = 0` whatever the input, nothing
/// flows back, and the running variance decays towards 0.
#[test]
fn batch_norm_with_batches_of_one_learns_nothing() {
    let refused = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["train", "circles", "--batch-norm", "--batch-size", "1"])
        .output()
        .expect("the backprop binary runs");
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    println!("{message}");
    assert!(message.contains("x − μ = 0, and nothing below the batch norm learns"));

    let mut options = task("circles");
    options.batch_norm = true;
    options.batch_size = 1;
    options.epochs = 3;
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).expect("runs");
    let mut seen = Vec::new();
    for stats in &run.history.epochs {
        let norms: Vec<String> = stats
            .gradient_norms
            .iter()
            .map(|v| format!("{v:.2}"))
            .collect();
        println!(
            "epoch {}: loss {:.4}, ‖dW‖ per layer {norms:?}",
            stats.epoch, stats.train_loss
        );
        seen.push(format!("{:.4} {}", stats.train_loss, norms.join(" ")));
    }
    assert_eq!(
        seen,
        ["0.7615 0.00 0.00", "0.7676 0.00 0.00", "0.7698 0.00 0.00"]
    );
    let every_norm = run.history.epochs.iter().flat_map(|s| &s.gradient_norms);
    assert!(
        every_norm.into_iter().all(|&norm| norm == 0.0),
        "a gradient reached W"
    );
    let (train_loss, train_accuracy) = run.scores().train;
    println!("trained network: loss {train_loss:.4}, accuracy {train_accuracy:.4}");
    assert_eq!(
        format!("{train_loss:.4} {train_accuracy:.4}"),
        "12.8083 0.5200"
    );
    // W¹, b¹, W² and β do not move; only b², the output bias, does.
    let dense = |network: &Network, l: usize| network.dense_layers().nth(l).expect("dense").clone();
    let (first_before, first_after) = (dense(&run.initial, 0), dense(&run.network, 0));
    let (second_before, second_after) = (dense(&run.initial, 1), dense(&run.network, 1));
    assert_eq!(first_before.w, first_after.w, "W¹ moved");
    assert_eq!(first_before.b, first_after.b, "b¹ moved");
    assert_eq!(second_before.w, second_after.w, "W² moved");
    assert_ne!(second_before.b, second_after.b, "b² did not move");
    let Some(Layer::BatchNorm(norm)) = run.network.layers().get(1) else {
        panic!("the second layer is batch normalisation");
    };
    assert_eq!(norm.beta, Matrix::zeros(1, 10), "β moved");
    let largest = largest_magnitude(&norm.running_var);
    let scale = 1.0 / (largest + backprop::batch_norm::EPSILON).sqrt();
    println!("largest running σ² {largest:.1e}, so 1/√(σ² + ε) = {scale:.1}");
    assert!(largest < 1e-100);
    assert_eq!(format!("{scale:.1}"), "316.2");
}
