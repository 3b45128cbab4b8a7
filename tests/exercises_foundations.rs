//! The answers to the exercises at the end of the first chapters of the book (matrix, rng,
//! activation, loss, dense, gradcheck), computed here from the crate itself, so that a change
//! that breaks an answer breaks `cargo test`.
//!
//! Each test is named in its exercise (`cargo test --test exercises_foundations NAME`). Where an
//! exercise asks the learner to change one line of a chapter, the test's first assertion holds
//! for the intact chapter and fails, with the number the answer quotes, once the line is
//! changed; and the test also computes that number here, from the intact crate, by making the
//! same mistake itself, so the answer stays checked while nobody breaks anything.

use backprop::activation::Activation;
use backprop::demo::{self, DemoOptions};
use backprop::gradcheck::{self, GradientCheck, Start};
use backprop::layer::Layer;
use backprop::loss::{Loss, PROBABILITY_CLAMP};
use backprop::matrix::Matrix;
use backprop::network::{Architecture, Network};
use backprop::rng::Rng;
use backprop::{data::Dataset, run, tasks};
use std::ops::ControlFlow;
use std::process::Command;

// ----- Helpers ----------------------------------------------------------------------------------

/// Runs the real binary; returns what it printed (standard output, then standard error, where
/// `train` reports its progress) and whether it exited with 0.
fn backprop(args: &[&str]) -> (String, bool) {
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .output()
        .expect("the backprop binary runs");
    let mut text = String::from_utf8(output.stdout).expect("backprop writes UTF-8");
    text.push_str(&String::from_utf8(output.stderr).expect("backprop writes UTF-8"));
    (text, output.status.success())
}

/// A fresh temporary folder for the files of one `train` run.
fn temp_folder(name: &str) -> String {
    let folder =
        std::env::temp_dir().join(format!("backprop-exercises-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    folder.to_str().unwrap().to_string()
}

/// `backprop train ARGS --out TEMP`, which must succeed: its standard output.
fn train(name: &str, args: &[&str]) -> String {
    let out = temp_folder(name);
    let mut words = vec!["train"];
    words.extend_from_slice(args);
    words.extend_from_slice(&["--out", &out]);
    let (text, success) = backprop(&words);
    assert!(success, "backprop {words:?} failed:\n{text}");
    let _ = std::fs::remove_dir_all(&out);
    text
}

/// The line of `text` that starts with `start` (after indentation).
fn line<'t>(text: &'t str, start: &str) -> &'t str {
    text.lines()
        .find(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with '{start}' in:\n{text}"))
}

/// The row of `gradcheck`'s table for `name` (`W¹`, `b²`, `X`): its largest relative error and
/// largest difference |a − e| as printed, and `pass` or `FAIL`.
fn table_row<'t>(text: &'t str, name: &str) -> (&'t str, &'t str, &'t str) {
    let words: Vec<&str> = line(text, &format!("{name} ")).split_whitespace().collect();
    (words[2], words[3], words[4])
}

/// A number as `gradcheck` prints it: one decimal, an exponent.
fn e1(x: f64) -> String {
    format!("{x:.1e}")
}

/// The network and batch `backprop gradcheck` checks for xor (`2 → 4 f → 1 sigmoid`, seed 42,
/// the four XOR points), with the hidden activation `f` (tanh, the task's, when `None`).
fn gradcheck_xor(activation: Option<Activation>) -> (Network, Matrix, Matrix) {
    let mut options = run::RunOptions::for_task(&tasks::find("xor").unwrap());
    if let Some(f) = activation {
        options.activation = f;
    }
    let (mut data_rng, mut weight_rng, _) = run::generators(options.seed);
    let data = run::prepare_data(&options, &mut data_rng).unwrap();
    let network = Network::mlp(&run::architecture(&options, &data.train), &mut weight_rng);
    // Tanh and sigmoid have no kink, so gradcheck keeps the first 8 rows: all four.
    assert_eq!(data.train.len(), 4);
    (network, data.train.x, data.train.y)
}

/// The gradients `[dW¹, db¹, dW², db², …, dX]` of a stack of dense layers, each followed by an
/// entry-by-entry activation whose derivative is taken to be `f_prime(z, a)`, and a sigmoid
/// output trained with binary cross-entropy: backpropagation written out here, so that a
/// mistaken derivative can be tried without changing the crate. With the right `f′` it gives the
/// crate's own gradients, bit for bit (checked in the tests that use it).
fn backward_with(
    network: &mut Network,
    x: &Matrix,
    y: &Matrix,
    f_prime: impl Fn(f64, f64) -> f64,
) -> Vec<Matrix> {
    network.forward(x, true);
    let values = network.values().to_vec(); // X, Z¹, A¹, Z², …, ŷ
    let layers = network.layers().to_vec(); // dense, f, dense, f, …, dense, sigmoid
    let mut dz = Matrix::zeros(0, 0);
    Loss::BinaryCrossEntropy.output_error(&mut dz, values.last().unwrap(), y); // (ŷ − y)/n
    let mut gradients = Vec::new(); // from the last layer down: (dW, db) pairs
    let mut l = layers.len() - 2; // the last dense layer
    let dx = loop {
        let Layer::Dense(dense) = &layers[l] else {
            panic!("layer {l} is not dense")
        };
        gradients.push((values[l].t_matmul(&dz), dz.sum_rows())); // Xᵀ·dZ, Σ_rows dZ
        let dx = dz.matmul_t(&dense.w); // dZ·Wᵀ
        if l == 0 {
            break dx;
        }
        // values[l] = A = f(Z) with Z = values[l − 1]: dZ = dA ⊙ f′(Z).
        let (z, a) = (&values[l - 1], &values[l]);
        dz = Matrix::from_vec(
            dx.rows(),
            dx.cols(),
            (0..dx.as_slice().len())
                .map(|e| dx.as_slice()[e] * f_prime(z.as_slice()[e], a.as_slice()[e]))
                .collect(),
        );
        l -= 2;
    };
    let mut all: Vec<Matrix> = gradients
        .into_iter()
        .rev()
        .flat_map(|(dw, db)| [dw, db])
        .collect();
    all.push(dx);
    all
}

/// The largest relative error between `analytic` and the estimate of a check.
fn max_relative_error(analytic: &Matrix, check: &GradientCheck) -> f64 {
    analytic
        .as_slice()
        .iter()
        .zip(check.numeric.as_slice())
        .map(|(&a, &e)| gradcheck::relative_error(a, e))
        .fold(0.0, f64::max)
}

/// The loss of `network` on `(x, y)` in training mode with entry `entry` of parameter tensor
/// `tensor` (in the order of `Network::for_each_parameter`; one past the last is the input X)
/// moved by `delta`, as `gradcheck::check_network` computes it.
fn shifted_loss(
    network: &mut Network,
    (x, y): (&Matrix, &Matrix),
    tensor: usize,
    entry: usize,
    delta: f64,
) -> f64 {
    let loss = Loss::BinaryCrossEntropy;
    if tensor == network.parameter_names().len() {
        let mut shifted = x.clone();
        shifted.as_mut_slice()[entry] += delta;
        return loss.value(network.forward(&shifted, true), y);
    }
    let mut original = 0.0;
    network.for_each_parameter(|i, _, w, _| {
        if i == tensor {
            original = w.as_slice()[entry];
            w.as_mut_slice()[entry] = original + delta;
        }
    });
    let value = loss.value(network.forward(x, true), y);
    network.for_each_parameter(|i, _, w, _| {
        if i == tensor {
            w.as_mut_slice()[entry] = original;
        }
    });
    value
}

/// The demo's network and data (`backprop demo xor`: 2 → 3 tanh → 1 sigmoid, seed 42), after
/// one forward and backward pass.
fn demo_xor_after_backward() -> (Network, Dataset) {
    let options = DemoOptions::for_task("xor").unwrap();
    let (mut network, data) = (demo::network(&options), demo::data(&options));
    network.input_gradient = true;
    gradcheck::forward_backward(
        &mut network,
        Loss::BinaryCrossEntropy,
        &data.x,
        &data.y,
        Start::OutputError,
    );
    (network, data)
}

// ----- matrix.rs --------------------------------------------------------------------------------

/// Exercise 1 of the matrix chapter: a sum of products depends on the order of its terms, and
/// the engine is held to the order of the plain definition.
#[test]
fn matrix_products_add_in_the_order_of_the_formula() {
    let a = Matrix::from_rows(&[[0.1, 0.2, 0.3]]);
    let ones = Matrix::filled(3, 1, 1.0);
    let in_order = (0.1 + 0.2) + 0.3; // p = 0, 1, 2
    let reversed = (0.3 + 0.2) + 0.1; // p = 2, 1, 0
    assert_eq!(format!("{}", 0.1 + 0.2), "0.30000000000000004");
    assert_eq!(format!("{in_order}"), "0.6000000000000001");
    assert_eq!(format!("{reversed}"), "0.6");
    // They differ by one unit in the last place of numbers in [0.5, 1): 2⁻⁵³ ≈ 1.1e-16.
    assert_eq!(in_order - reversed, 2f64.powi(-53));

    let mut plain = Matrix::zeros(0, 0);
    a.matmul_plain(&ones, &mut plain);
    let engine = a.matmul(&ones);
    println!(
        "A·B with A = [0.1 0.2 0.3], B = [1 1 1]ᵀ: matmul_plain gives {}, the engine {}",
        plain[(0, 0)],
        engine[(0, 0)]
    );
    assert_eq!(
        plain[(0, 0)].to_bits(),
        in_order.to_bits(),
        "matmul_plain gave {}, but the formula adds p = 0, 1, 2 in that order: {in_order}",
        plain[(0, 0)]
    );
    assert_eq!(engine[(0, 0)].to_bits(), plain[(0, 0)].to_bits());
}

/// Exercise 2 of the matrix chapter: the shapes of backward's three products in
/// `backprop demo xor --hidden 5`.
#[test]
fn matrix_shapes_of_the_backward_products() {
    let (text, success) = backprop(&["demo", "xor", "--hidden", "5"]);
    assert!(success, "{text}");
    for (product, shapes) in [
        ("dW² = A¹ᵀ·dZ²", "5×4 · 4×1 → 5×1"),
        ("dA¹ = dZ²·W²ᵀ", "4×1 · 1×5 → 4×5"),
        ("dW¹ = Xᵀ·dZ¹", "2×4 · 4×5 → 2×5"),
    ] {
        let printed = line(&text, product);
        assert!(printed.contains(shapes), "expected {shapes} in: {printed}");
    }
    // The same shapes from the products themselves: Aᵀ·B is t_matmul, A·Bᵀ is matmul_t.
    let (x, z1, a1, dz2, w2) = (
        Matrix::zeros(4, 2),
        Matrix::zeros(4, 5),
        Matrix::zeros(4, 5),
        Matrix::zeros(4, 1),
        Matrix::zeros(5, 1),
    );
    assert_eq!(a1.t_matmul(&dz2).shape(), (5, 1));
    assert_eq!(dz2.matmul_t(&w2).shape(), (4, 5));
    assert_eq!(x.t_matmul(&z1).shape(), (2, 5));
}

// ----- rng.rs -----------------------------------------------------------------------------------

/// Exercise 1 of the rng chapter: the seed whose first uniform sample is exactly 0, and what
/// Box–Muller's `1 − u` does with it.
#[test]
fn rng_box_muller_never_takes_the_logarithm_of_0() {
    // The mixer maps 0 to 0 (x ⊕ (x ≫ s) and x·m both keep 0), so a state that becomes 0 after
    // the addition gives next_u64() = 0: seed = −0x9E3779B97F4A7C15 mod 2⁶⁴.
    let seed = 0x9E37_79B9_7F4A_7C15_u64.wrapping_neg();
    assert_eq!(seed, 0x61C8_8646_80B5_83EB);
    assert_eq!(seed, 7_046_029_254_386_353_131);
    assert_eq!(Rng::new(seed).next_u64(), 0);
    assert_eq!(Rng::new(seed).uniform(), 0.0);

    let z = Rng::new(seed).normal();
    println!("seed {seed}: first uniform 0, first normal {z}");
    assert!(
        z.is_finite(),
        "normal() = {z} for the seed whose first uniform is 0"
    );
    assert_eq!(z, 0.0); // u₁ = 1 − 0 = 1, so r = √(−2 ln 1) = 0
    assert!(z.is_sign_negative()); // −2·0.0 = −0.0, and √−0 = −0

    // The same draw with u₁ = u instead of 1 − u: r = √(−2 ln 0) = ∞.
    let mut rng = Rng::new(seed);
    let (u1, u2) = (rng.uniform(), rng.uniform());
    let with_u = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    assert_eq!(format!("{u2:.4}"), "0.8833");
    assert_eq!(with_u, f64::INFINITY);
}

/// Exercise 2 of the rng chapter: how close to 0 and 1 the mean and variance of a million
/// normal samples come.
#[test]
fn rng_normal_samples_have_mean_0_and_variance_1() {
    let n = 1_000_000;
    let mut rng = Rng::new(1);
    let samples: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let mean = samples.iter().sum::<f64>() / n as f64;
    let variance = samples.iter().map(|z| (z - mean) * (z - mean)).sum::<f64>() / n as f64;
    let (se_mean, se_variance) = (1.0 / (n as f64).sqrt(), (2.0 / n as f64).sqrt());
    println!(
        "{n} samples: mean {mean:.6} (standard error {se_mean:.4}), variance {variance:.6} \
         (standard error {se_variance:.4})"
    );
    assert_eq!(format!("{mean:.6}"), "0.000526");
    assert_eq!(format!("{variance:.6}"), "1.000655");
    assert_eq!(format!("{se_mean:.4} {se_variance:.4}"), "0.0010 0.0014");
    assert!(mean.abs() < se_mean && (variance - 1.0).abs() < se_variance);
    // The same scatter for the 20 weights of a 2 × 10 layer: √(2/20) of the intended variance.
    assert_eq!(format!("{:.2}", (2.0f64 / 20.0).sqrt()), "0.32");
}

/// Exercise 3 of the rng chapter: what a dropout layer's forked generator shifts.
#[test]
fn rng_a_fork_takes_one_number_from_the_stream() {
    let shape = |dropout| Architecture {
        n_in: 2,
        hidden: vec![10],
        activation: Activation::Relu,
        n_out: 1,
        output: Activation::Sigmoid,
        batch_norm: false,
        dropout,
    };
    let weights = |dropout| {
        let (_, mut weight_rng, _) = run::generators(42);
        let network = Network::mlp(&shape(dropout), &mut weight_rng);
        let dense: Vec<Matrix> = network.dense_layers().map(|d| d.w.clone()).collect();
        dense
    };
    let (plain, with_dropout) = (weights(0.0), weights(0.1));
    println!(
        "W¹[0,0]: {:.4} and {:.4}",
        plain[0][(0, 0)],
        with_dropout[0][(0, 0)]
    );
    println!(
        "W²[0,0]: {:.4} and {:.4}",
        plain[1][(0, 0)],
        with_dropout[1][(0, 0)]
    );
    assert_eq!(plain[0], with_dropout[0], "W¹ is drawn before the fork");
    assert_ne!(plain[1], with_dropout[1], "W² is drawn after it");

    // W² with dropout is W² drawn after skipping the one number the fork took.
    let (_, mut weight_rng, _) = run::generators(42);
    for _ in 0..20 {
        weight_rng.normal(); // W¹: 2 × 10, ten Box–Muller pairs, no spare left
    }
    weight_rng.next_u64(); // the fork
    let glorot = (2.0f64 / 11.0).sqrt(); // W² is followed by sigmoid: Glorot, √(2/(10 + 1))
    let w2 = Matrix::random_normal(10, 1, 0.0, glorot, &mut weight_rng);
    assert_eq!(w2, with_dropout[1]);
}

// ----- activation.rs ----------------------------------------------------------------------------

/// Exercise 1 of the activation chapter: XOR without a non-linearity.
#[test]
fn activation_xor_without_a_nonlinearity_settles_at_ln_2() {
    let identity = train(
        "xor-identity",
        &["xor", "--activation", "identity", "--quiet"],
    );
    let none = train("xor-none", &["xor", "--hidden", "none", "--quiet"]);
    assert!(
        identity.contains("2 → 4 identity → 1 sigmoid"),
        "{identity}"
    );
    assert!(none.contains("2 → 1 sigmoid · 3 parameters"), "{none}");
    assert_eq!(
        line(&identity, "train ")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["train", "loss", "0.6931", "accuracy", "0.5000"]
    );
    assert_eq!(
        line(&none, "train ").split_whitespace().collect::<Vec<_>>(),
        ["train", "loss", "0.6932", "accuracy", "0.5000"]
    );
    assert_eq!(format!("{:.6}", 2f64.ln()), "0.693147");

    // ŷ = ½ everywhere (w = 0, b = 0) is where the gradient of the loss of a line vanishes:
    // ∂L/∂b = Σ(ŷ − y)/4 = (½ − ½ − ½ + ½)/4 = 0, ∂L/∂w₁ = ((½ − 1) + (½ − 0))/4 = 0, and w₂ alike.
    let xor = backprop::data::generate::xor();
    let line_net = Network::new(vec![
        Layer::Dense(backprop::dense::Dense::from_parameters(
            Matrix::zeros(2, 1),
            Matrix::zeros(1, 1),
        )),
        Layer::Activation(Activation::Sigmoid),
    ]);
    let mut line_net = line_net;
    let loss = gradcheck::forward_backward(
        &mut line_net,
        Loss::BinaryCrossEntropy,
        &xor.x,
        &xor.y,
        Start::OutputError,
    );
    assert_eq!(loss, 2f64.ln());
    let dense = line_net.dense_layers().next().unwrap();
    assert_eq!((dense.dw.max_abs(), dense.db.max_abs()), (0.0, 0.0));
}

/// Exercise 2 of the activation chapter: `tanh′` written as `1 − z²` instead of `1 − a²`.
#[test]
fn activation_tanh_derivative_agrees_with_central_differences() {
    let (mut network, x, y) = gradcheck_xor(None);
    let checks = gradcheck::check_network(
        &mut network,
        Loss::BinaryCrossEntropy,
        &x,
        &y,
        Start::OutputError,
        gradcheck::DEFAULT_STEP,
    );
    for check in &checks {
        assert!(
            check.passed(gradcheck::TOLERANCE),
            "{}: backprop and central differences differ by a relative error of {}",
            check.name,
            e1(check.max_relative_error)
        );
    }
    let right = backward_with(&mut network, &x, &y, |_, a| 1.0 - a * a);
    let wrong = backward_with(&mut network, &x, &y, |z, _| 1.0 - z * z);
    let mut errors = Vec::new();
    for ((check, right), wrong) in checks.iter().zip(&right).zip(&wrong) {
        assert_eq!(
            right, &check.analytic,
            "{}: backward_with is the crate's",
            check.name
        );
        errors.push(format!(
            "{} {}",
            check.name,
            e1(max_relative_error(wrong, check))
        ));
    }
    assert_eq!(
        errors,
        [
            "W¹ 7.8e-1",
            "b¹ 7.3e-1",
            "W² 1.6e-10",
            "b² 1.6e-11",
            "X 9.0e-1"
        ]
    );
    // The two forms at z = 1.2: 1 − z² is negative where the true slope is positive.
    let tanh = Activation::Tanh;
    assert_eq!(format!("{:.2}", 1.0 - 1.2 * 1.2), "-0.44");
    assert_eq!(
        format!("{:.2}", tanh.derivative(1.2, tanh.value(1.2))),
        "0.31"
    );
}

/// Exercise 3 of the activation chapter: dead ReLUs at η = 10, and Leaky ReLU's way back.
#[test]
fn activation_dead_relus_get_no_gradient_leaky_ones_do() {
    let relu = train("circles-relu-10", &["circles", "--lr", "10"]);
    assert_eq!(
        line(&relu, "gradients")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["gradients", "‖dW¹‖", "0.0e0", "‖dW²‖", "0.0e0"]
    );
    assert!(line(&relu, "diagnosis").contains("10 of 10 relu units after layer 1 never activate"));
    assert!(line(&relu, "epoch    30/300").contains("loss 1.0164"));
    assert!(line(&relu, "epoch   300/300").contains("loss 1.0164"));
    assert!(line(&relu, "train ").contains("loss 1.0587"));

    let leaky = train(
        "circles-leaky-10",
        &["circles", "--lr", "10", "--activation", "leaky_relu"],
    );
    assert!(line(&leaky, "epoch    30/300").contains("loss 1.0400"));
    assert!(line(&leaky, "epoch    30/300").contains("‖dW‖ 4.29e-2"));
    assert!(line(&leaky, "epoch   300/300").contains("loss 0.7468"));
    let longer = train(
        "circles-leaky-10-long",
        &[
            "circles",
            "--lr",
            "10",
            "--activation",
            "leaky_relu",
            "--epochs",
            "1000",
            "--quiet",
        ],
    );
    assert!(
        line(&longer, "train ").contains("accuracy 0.7812"),
        "{longer}"
    );

    // Inside: after 30 epochs every pre-activation of either network is negative on every
    // training point, and from then on the ReLU network's only moving parameter is b², which
    // the step η = 10 throws back and forth between two values (the two losses printed).
    let mut options = run::RunOptions::for_task(&tasks::find("circles").unwrap());
    options.lr = 10.0;
    let after = |options: &run::RunOptions, epochs| {
        let mut options = options.clone();
        options.epochs = epochs;
        let mut run = run::execute(&options, |_, _| ControlFlow::Continue(())).unwrap();
        let x = run.data.train.x.clone();
        run.network.forward(&x, true);
        let z1 = &run.network.values()[1]; // (n_samples, 10)
        let largest_z = z1.as_slice().iter().fold(f64::MIN, |m, &z| m.max(z));
        let alive = (0..z1.cols())
            .filter(|&j| (0..z1.rows()).any(|i| z1[(i, j)] > 0.0))
            .count();
        let b2 = run.network.dense_layers().nth(1).unwrap().b[(0, 0)];
        (largest_z, b2, run.network.gradient_norms(), alive)
    };
    let q = tasks::find("circles").map(|spec| {
        let (mut data_rng, _, _) = run::generators(42);
        let data = run::prepare_data(&run::RunOptions::for_task(&spec), &mut data_rng).unwrap();
        data.train.y.mean()
    });
    let q = q.unwrap(); // the share of the inner class (y = 1) in the training set
    assert_eq!(format!("{q:.2} {:.2}", 2.0 / (q * (1.0 - q))), "0.48 8.01");
    let (largest_z, b2_at_30, norms, _) = after(&options, 30);
    assert!(
        largest_z < 0.0 && norms == [0.0, 0.0],
        "{largest_z} {norms:?}"
    );
    let (_, b2_at_31, _, _) = after(&options, 31);
    assert_eq!(
        format!("{:.4}", after(&options, 32).1),
        format!("{b2_at_30:.4}")
    );
    println!("relu, η = 10: b² = {b2_at_30:.4} after 30 epochs, {b2_at_31:.4} after 31");
    assert_eq!(format!("{b2_at_30:.4} {b2_at_31:.4}"), "-1.9208 1.6015");

    options.activation = Activation::from_name("leaky_relu").unwrap();
    let (largest_z, _, norms, _) = after(&options, 30);
    println!(
        "leaky_relu, η = 10, after 30 epochs: largest z {largest_z:.4}, ‖dW¹‖, ‖dW²‖ = {norms:?}"
    );
    assert!(largest_z < 0.0);
    assert_eq!(e1(norms[0]), "4.6e-4");
    let (_, _, _, alive) = after(&options, 300);
    assert_eq!(
        alive, 1,
        "units with z > 0 on some training point after 300 epochs"
    );
}

// ----- loss.rs ----------------------------------------------------------------------------------

/// Exercise 1 of the loss chapter: the first and last rows of ∂L/∂ŷ and dZ² in the demo.
#[test]
fn loss_output_error_of_the_demo_by_hand() {
    let (network, data) = demo_xor_after_backward();
    let y_hat = network.output().clone(); // (4, 1)
    let dz2 = network.gradients()[3].clone(); // ∂L/∂Z², values[3] = Z²
    let mut d_y_hat = Matrix::zeros(0, 0);
    Loss::BinaryCrossEntropy.gradient(&mut d_y_hat, &y_hat, &data.y);
    assert_eq!(y_hat[(0, 0)], 0.5); // Z²₁ = 0: X's first row is (0, 0) and the biases are 0
    assert_eq!(d_y_hat[(0, 0)], 0.5); // (0.5 − 0)/(0.5 · 0.5 · 4)
    assert_eq!(dz2[(0, 0)], 0.125); // (0.5 − 0)/4
    assert_eq!(format!("{:.4}", y_hat[(3, 0)]), "0.8489");
    assert_eq!(format!("{:.6}", y_hat[(3, 0)]), "0.848878");
    assert_eq!(format!("{:.6}", 0.8489 / 4.0), "0.212225"); // from the four printed digits
    let simplified = 1.0 / (4.0 * (1.0 - y_hat[(3, 0)])); // the ŷ₄ cancels
    assert!((d_y_hat[(3, 0)] - simplified).abs() < 1e-15);
    assert_eq!(format!("{:.6}", d_y_hat[(3, 0)]), "1.654290");
    assert_eq!(format!("{:.6}", dz2[(3, 0)]), "0.212219");
    assert_eq!(dz2[(3, 0)], (y_hat[(3, 0)] - 0.0) / 4.0);
    // The chain rule's ∂L/∂ŷ ⊙ σ′ gives the same 0.212219 the long way.
    let sigma_prime = y_hat[(3, 0)] * (1.0 - y_hat[(3, 0)]);
    assert_eq!(format!("{:.6}", d_y_hat[(3, 0)] * sigma_prime), "0.212219");
}

/// Exercise 2 of the loss chapter: one confident mistake, with and without the clamp.
#[test]
fn loss_one_confident_mistake_costs_27_6() {
    let y_hat = Matrix::from_rows(&[[Activation::Sigmoid.value(40.0)]]);
    assert_eq!(y_hat[(0, 0)], 1.0); // σ(40) = 1 − 4.2e-18 rounds to 1
    assert_eq!(format!("{:.1e}", (-40f64).exp()), "4.2e-18");
    // A loss of 10 on one sample: probability e⁻¹⁰ for its true class. Guessing ½: ln 2.
    assert_eq!(
        format!("{:.1e} {:.2}", (-10f64).exp(), 2f64.ln()),
        "4.5e-5 0.69"
    );
    // A sigmoid comes within 1e-12 of 0 or 1 only beyond |z| = −ln 1e-12 ≈ 27.6.
    assert!(Activation::Sigmoid.value(-27.6) > PROBABILITY_CLAMP);
    assert!(Activation::Sigmoid.value(-27.7) < PROBABILITY_CLAMP);
    // At the top, a clamp of 1e-17 would round back to 1: 1 − 1e-17 is 1 in f64.
    assert_eq!(1.0 - 1e-17, 1.0);
    const { assert!(1.0 - PROBABILITY_CLAMP < 1.0) };
    let value = Loss::BinaryCrossEntropy.value(&y_hat, &Matrix::from_rows(&[[0.0]]));
    println!("one sample, ŷ = σ(40), y = 0: L = {value}");
    assert!(value.is_finite(), "L = {value}");
    assert_eq!(format!("{value}"), "27.63104323789336");
    assert_eq!(format!("{:.6}", -(PROBABILITY_CLAMP.ln())), "27.631021");
    // 1 − 1e-12 is not an f64: the clamp's upper end is the nearest one, and 1 minus it is
    // 9.99978e-13, a little below 1e-12, which is why L is a little above −ln 1e-12.
    let upper = 1.0 - PROBABILITY_CLAMP;
    assert_eq!(format!("{:.5e}", 1.0 - upper), "9.99978e-13");
    assert_eq!(-(1.0 - upper).ln(), value);
    // Without the clamp: ln(1 − 1) = ln 0 = −∞.
    assert_eq!(-(1.0 - y_hat[(0, 0)]).ln(), f64::INFINITY);
}

/// Exercise 3 of the loss chapter: a saturated sigmoid, the long way and the shortcut.
#[test]
fn loss_a_saturated_sigmoid_learns_only_through_the_shortcut() {
    let z = Matrix::from_rows(&[[40.0]]);
    let y = Matrix::from_rows(&[[0.0]]);
    let mut y_hat = Matrix::zeros(0, 0);
    Activation::Sigmoid.forward(&z, &mut y_hat);
    let (mut d_y_hat, mut long_way, mut shortcut) = (
        Matrix::zeros(0, 0),
        Matrix::zeros(0, 0),
        Matrix::zeros(0, 0),
    );
    Loss::BinaryCrossEntropy.gradient(&mut d_y_hat, &y_hat, &y);
    Activation::Sigmoid.backward(&mut long_way, &d_y_hat, &z, &y_hat);
    Loss::BinaryCrossEntropy.output_error(&mut shortcut, &y_hat, &y);
    println!(
        "z = 40, y = 0: ∂L/∂ŷ = {:.6e}, σ′ = {}, chain rule dZ = {}, shortcut dZ = {}",
        d_y_hat[(0, 0)],
        Activation::Sigmoid.derivative(40.0, y_hat[(0, 0)]),
        long_way[(0, 0)],
        shortcut[(0, 0)]
    );
    assert_eq!(format!("{:.6e}", d_y_hat[(0, 0)]), "1.000022e12");
    assert_eq!(Activation::Sigmoid.derivative(40.0, y_hat[(0, 0)]), 0.0);
    assert_eq!(long_way[(0, 0)], 0.0);
    assert_eq!(shortcut[(0, 0)], 1.0);
    // Without the clamp the long way would be (1 − 0)/(1·0·1) = ∞ times σ′ = 0: NaN.
    let unclamped = (1.0 - 0.0) / (1.0 * (1.0 - y_hat[(0, 0)]) * 1.0);
    assert_eq!(unclamped, f64::INFINITY);
    assert!((unclamped * 0.0).is_nan());
}

// ----- dense.rs ---------------------------------------------------------------------------------

/// Exercise 1 of the dense chapter: the sign of db² in the demo's first step.
#[test]
fn dense_sign_of_db2_in_the_first_demo_step() {
    let (network, data) = demo_xor_after_backward();
    let db2 = network.dense_layers().nth(1).unwrap().db[(0, 0)];
    // db² = Σ_rows dZ² = Σ (ŷ − y)/n = mean ŷ − mean y.
    let mean_y_hat = network.output().mean();
    assert_eq!(format!("{mean_y_hat:.4}"), "0.6862");
    assert_eq!(data.y.mean(), 0.5);
    assert!((db2 - (mean_y_hat - 0.5)).abs() < 1e-15);
    assert_eq!(format!("{db2:.6}"), "0.186192");
    let lr = DemoOptions::for_task("xor").unwrap().lr;
    assert_eq!(format!("{:.4}", 0.0 - lr * db2), "-0.3724"); // b² ← b² − η·db²
}

/// Exercise 2 of the dense chapter: the rows of dW¹ by the index form
/// dW[p,j] = Σ_i X[i,p]·dZ[i,j].
#[test]
fn dense_weight_gradient_rows_by_the_index_form() {
    let (network, data) = demo_xor_after_backward();
    let dz1 = &network.gradients()[1]; // ∂L/∂Z¹ (4, 3), values[1] = Z¹
    let dw1 = &network.dense_layers().next().unwrap().dw; // (2, 3)
    let rows = |m: &Matrix| -> Vec<String> {
        (0..m.rows())
            .map(|i| {
                let row: Vec<String> = m.row(i).iter().map(|v| format!("{v:.6}")).collect();
                row.join(" ")
            })
            .collect()
    };
    assert_eq!(
        rows(dz1),
        [
            "-0.122328 0.091894 0.124821",
            "0.051848 -0.042940 -0.059933",
            "0.044149 -0.005909 -0.062693",
            "-0.048193 0.053382 0.196196"
        ]
    );
    assert_eq!(
        rows(dw1),
        ["-0.004044 0.047473 0.133503", "0.003655 0.010442 0.136263"]
    );
    // X is (0,0), (0,1), (1,0), (1,1): X[i,0] = 1 for rows 3 and 4, X[i,1] for rows 2 and 4.
    assert_eq!(data.x.as_slice(), [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    for j in 0..3 {
        assert_eq!(dw1[(0, j)], dz1[(2, j)] + dz1[(3, j)]);
        assert_eq!(dw1[(1, j)], dz1[(1, j)] + dz1[(3, j)]);
    }
}

/// Exercise 3 of the dense chapter: `dZ·Xᵀ` in place of `Xᵀ·dZ`, which the shapes reject
/// except in a square layer fed as many samples as it has inputs, where only the gradient
/// check can tell.
#[test]
fn dense_shapes_cannot_tell_dw_from_dz_times_x_transpose_in_a_square_layer() {
    // A 3 → 3 softmax layer on 3 samples: dZ·Xᵀ is 3×3, the shape of W.
    let mut rng = Rng::new(7);
    let mut network = Network::mlp(
        &Architecture {
            n_in: 3,
            hidden: vec![],
            activation: Activation::Identity,
            n_out: 3,
            output: Activation::Softmax,
            batch_norm: false,
            dropout: 0.0,
        },
        &mut rng,
    );
    let x = Matrix::random_normal(3, 3, 0.0, 1.0, &mut rng);
    let y = Matrix::from_rows(&[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]);
    let loss = Loss::SoftmaxCrossEntropy;
    let checks = gradcheck::check_network(&mut network, loss, &x, &y, Start::OutputError, 1e-5);
    assert!(
        checks[0].passed(gradcheck::TOLERANCE),
        "W¹: relative error {}",
        e1(checks[0].max_relative_error)
    );
    gradcheck::forward_backward(&mut network, loss, &x, &y, Start::OutputError);
    let dz = network.gradients()[1].clone(); // (3, 3), values[1] = Z¹
    let wrong = dz.matmul_t(&x); // dZ·Xᵀ: (3×3)·(3×3) → 3×3
    assert_eq!(wrong.shape(), checks[0].analytic.shape());
    assert_eq!(x.t_matmul(&dz), checks[0].analytic);
    assert_eq!(e1(max_relative_error(&wrong, &checks[0])), "1.7e0");

    // In the demo, the first layer backward meets is layer 2: dZ² (4×1), X = A¹ (4×3).
    let (network, _) = demo_xor_after_backward();
    let (dz2, a1) = (network.gradients()[3].clone(), network.values()[2].clone());
    let panic = std::panic::catch_unwind(|| dz2.matmul_t(&a1)).unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(
        message.contains("matmul_t (A·Bᵀ)")
            && message.contains("A is 4×1 and B is 4×3; they need the same number of columns"),
        "{message}"
    );
}

// ----- gradcheck.rs -----------------------------------------------------------------------------

/// Exercise 1 of the gradient-check chapter, and the reason for h = 1e-5: `gradcheck --h` from
/// 1e-2 to 1e-10. The estimate's error falls as h² (truncation) down to h ≈ 1e-5 and then rises
/// as 1/h (rounding).
#[test]
fn gradcheck_step_sweep_error_falls_then_rises() {
    let steps = [
        "1e-2", "1e-3", "1e-4", "1e-5", "1e-6", "1e-7", "1e-8", "1e-9", "1e-10",
    ];
    let names = ["W¹", "b¹", "W²", "b²", "X"];
    let mut largest = Vec::new(); // per step: the largest relative error over the five tensors
    let mut w1 = Vec::new(); // per step: W¹'s (max rel_err, max |a − e|) as printed
    let mut relative = Vec::new(); // per step: each tensor's max rel_err
    for h in steps {
        let (text, _) = backprop(&["gradcheck", "--h", h]);
        assert!(text.contains(&format!("h = {h}")), "{text}");
        if h == "1e-8" {
            // W¹ fails here although backward is right: the error line blames the step.
            assert!(text.contains("the step --h 1e-8 is small"), "{text}");
        }
        let errors: Vec<f64> = names
            .iter()
            .map(|name| table_row(&text, name).0.parse().unwrap())
            .collect();
        largest.push(errors.iter().fold(0.0, |m: f64, &e| m.max(e)));
        let (rel, diff, _) = table_row(&text, "W¹");
        w1.push(format!("{rel} {diff}"));
        relative.push(errors);
    }
    assert_eq!(
        w1,
        [
            "8.5e-4 4.3e-6",
            "8.5e-6 4.3e-8",
            "8.5e-8 4.3e-10",
            "1.1e-9 7.3e-12",
            "5.2e-9 7.3e-11",
            "5.1e-8 7.7e-10",
            "1.1e-6 7.9e-9",
            "4.2e-6 7.9e-8",
            "2.1e-4 1.1e-6"
        ]
    );
    // The minimum sits at h = 1e-5, near ε^⅓ ≈ 6e-6 …
    let best = (0..steps.len())
        .min_by(|&a, &b| largest[a].total_cmp(&largest[b]))
        .unwrap();
    assert_eq!(steps[best], "1e-5", "{largest:?}");
    // … and every tensor's error at both ends is more than 100 times its error there.
    for (t, name) in names.iter().enumerate() {
        let at_best = relative[best][t];
        assert!(
            relative[0][t] > 100.0 * at_best,
            "{name} at h = 1e-2: {relative:?}"
        );
        assert!(
            relative[8][t] > 100.0 * at_best,
            "{name} at h = 1e-10: {relative:?}"
        );
    }
    let eps_cube_root = f64::EPSILON.cbrt();
    assert_eq!(format!("{eps_cube_root:.1e}"), "6.1e-6");
    // Where the two laws of W¹ meet: c₁·h² with c₁ = 4.3e-6/1e-4, and c₂/h with c₂ = 7.9e-9·1e-8.
    let (c1, c2): (f64, f64) = (4.3e-6 / 1e-4, 7.9e-9 * 1e-8);
    assert_eq!(format!("{:.1e}", (c2 / c1).cbrt()), "1.2e-5");
}

/// Exercise 2 of the gradient-check chapter: a derivative that is 1 % too large, and where the
/// check sees it.
#[test]
fn gradcheck_a_one_percent_error_in_sigmoid_prime() {
    let sigmoid = Activation::Sigmoid;
    let (mut network, x, y) = gradcheck_xor(Some(sigmoid));
    let checks = gradcheck::check_network(
        &mut network,
        Loss::BinaryCrossEntropy,
        &x,
        &y,
        Start::OutputError,
        gradcheck::DEFAULT_STEP,
    );
    for check in &checks {
        assert!(
            check.passed(gradcheck::TOLERANCE),
            "{}: relative error {}",
            check.name,
            e1(check.max_relative_error)
        );
    }
    let right = backward_with(&mut network, &x, &y, |_, a| a * (1.0 - a));
    let wrong = backward_with(&mut network, &x, &y, |_, a| a * (1.0 - a) * 1.01);
    let mut results = Vec::new();
    for ((check, right), wrong) in checks.iter().zip(&right).zip(&wrong) {
        assert_eq!(right, &check.analytic);
        let error = max_relative_error(wrong, check);
        let verdict = if error <= gradcheck::TOLERANCE {
            "pass"
        } else {
            "FAIL"
        };
        results.push(format!("{} {} {verdict}", check.name, e1(error)));
    }
    assert_eq!(
        results,
        [
            "W¹ 9.9e-3 FAIL",
            "b¹ 9.9e-3 FAIL",
            "W² 4.0e-11 pass",
            "b² 1.9e-11 pass",
            "X 9.9e-3 FAIL"
        ]
    );
    assert_eq!(e1(0.01 / 1.01), "9.9e-3");
}

/// Exercise 3 of the gradient-check chapter: the one-sided difference (L(θ + h) − L(θ))/h.
#[test]
fn gradcheck_one_sided_differences_are_too_coarse() {
    let (mut network, x, y) = gradcheck_xor(None);
    let checks = gradcheck::check_network(
        &mut network,
        Loss::BinaryCrossEntropy,
        &x,
        &y,
        Start::OutputError,
        gradcheck::DEFAULT_STEP,
    );
    // The central difference, as check_network computes it, passes …
    let worst = checks
        .iter()
        .map(|c| c.max_relative_error)
        .fold(0.0, f64::max);
    assert!(
        worst <= gradcheck::TOLERANCE,
        "worst relative error {}",
        e1(worst)
    );
    // … the one-sided one, with the same h and with its own best h ≈ √ε ≈ 1e-8, does not.
    let mut one_sided = |h: f64| -> Vec<String> {
        checks
            .iter()
            .enumerate()
            .map(|(t, check)| {
                let count = check.analytic.as_slice().len();
                let mut estimates = Vec::new();
                for e in 0..count {
                    let up = shifted_loss(&mut network, (&x, &y), t, e, h);
                    let here = shifted_loss(&mut network, (&x, &y), t, e, 0.0);
                    estimates.push((up - here) / h);
                }
                let error = check
                    .analytic
                    .as_slice()
                    .iter()
                    .zip(&estimates)
                    .map(|(&a, &n)| gradcheck::relative_error(a, n))
                    .fold(0.0, f64::max);
                format!("{} {}", check.name, e1(error))
            })
            .collect()
    };
    assert_eq!(
        one_sided(1e-5),
        [
            "W¹ 2.1e-4",
            "b¹ 9.0e-5",
            "W² 6.1e-6",
            "b² 1.5e-5",
            "X 8.7e-5"
        ]
    );
    assert_eq!(
        one_sided(1e-8),
        [
            "W¹ 1.8e-6",
            "b¹ 9.1e-7",
            "W² 3.0e-7",
            "b² 1.4e-7",
            "X 2.2e-7"
        ]
    );
    assert_eq!(format!("{:.1e}", f64::EPSILON.sqrt()), "1.5e-8");
}
