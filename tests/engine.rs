//! The engine's promises that are not gradients: finite numbers at the extremes, a seeded
//! generator that is the published SplitMix64, training that is reproducible bit for bit, and
//! the one-line description of a network.

use backprop::activation::{sigmoid, softmax_row, Activation};
use backprop::dense::{Dense, Init};
use backprop::kernels;
use backprop::loss::Loss;
use backprop::matrix::Matrix;
use backprop::network::{Architecture, Network};
use backprop::rng::Rng;
use backprop::run::{self, RunOptions};
use backprop::tasks;
use std::ops::ControlFlow;

// ----- Finite at the extremes -------------------------------------------------------------------

#[test]
fn sigmoid_and_swish_are_finite_at_plus_and_minus_1000() {
    assert_eq!(sigmoid(1000.0), 1.0);
    assert_eq!(sigmoid(-1000.0), 0.0);
    assert_eq!(sigmoid(0.0), 0.5);
    let z = Matrix::from_rows(&[[-1000.0, -40.0, 0.0, 40.0, 1000.0]]);
    for f in [Activation::Sigmoid, Activation::Swish, Activation::Tanh] {
        let mut a = Matrix::zeros(0, 0);
        f.forward(&z, &mut a);
        assert!(a.is_finite(), "{} forward at ±1000: {a}", f.name());
        let mut dz = Matrix::zeros(0, 0);
        f.backward(&mut dz, &Matrix::filled(1, 5, 1.0), &z, &a);
        assert!(dz.is_finite(), "{} backward at ±1000: {dz}", f.name());
        assert!(f.derivative(1000.0).is_finite() && f.derivative(-1000.0).is_finite());
    }
}

#[test]
fn softmax_is_finite_and_sums_to_one_at_extreme_inputs() {
    // e¹⁰⁰⁰ overflows; subtracting the row maximum keeps every exponent ≤ 0.
    let z = Matrix::from_rows(&[
        [1000.0, -1000.0, 0.0],
        [1000.0, 1000.0, 1000.0],
        [-1000.0, -1000.0, -999.0],
    ]);
    let mut a = Matrix::zeros(0, 0);
    Activation::Softmax.forward(&z, &mut a);
    assert!(a.is_finite(), "{a}");
    for i in 0..3 {
        let total: f64 = a.row(i).iter().sum();
        assert!((total - 1.0).abs() < 1e-15, "row {i} sums to {total}");
    }
    assert_eq!(a.row(0), &[1.0, 0.0, 0.0]);
    assert!((a[(1, 0)] - 1.0 / 3.0).abs() < 1e-15);
    // −999 is e times as likely as −1000: e/(2 + e).
    let e = std::f64::consts::E;
    assert!((a[(2, 2)] - e / (2.0 + e)).abs() < 1e-15);

    let mut s = [0.0; 2];
    softmax_row(&[800.0, 0.0], &mut s);
    assert_eq!(s, [1.0, 0.0]);
}

#[test]
fn cross_entropies_are_finite_when_predictions_are_exactly_0_or_1() {
    // ŷ exactly 0 or 1, right and wrong: ln 0 = −∞ is avoided by the clamp ε = 1e-12.
    let y_hat = Matrix::from_rows(&[[0.0], [1.0], [0.0], [1.0]]);
    let y = Matrix::from_rows(&[[0.0], [1.0], [1.0], [0.0]]);
    let bce = Loss::BinaryCrossEntropy;
    let value = bce.value(&y_hat, &y);
    assert!(value.is_finite());
    // Two rows right (loss ≈ 0), two wrong (−ln 1e-12 ≈ 27.63 each): a mean of ≈ 13.8.
    assert!((value - (-(1e-12f64).ln()) / 2.0).abs() < 1e-3, "{value}");
    let mut gradient = Matrix::zeros(0, 0);
    bce.gradient(&mut gradient, &y_hat, &y);
    assert!(gradient.is_finite(), "{gradient}");
    bce.output_error(&mut gradient, &y_hat, &y);
    assert!(gradient.is_finite(), "{gradient}");
    // All right: the loss is (essentially) zero, never NaN from 0·ln 0.
    assert!(bce.value(&y, &y) < 1e-11);

    // Softmax cross-entropy with the true class given probability 0, and 1.
    let y_hat = Matrix::from_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
    let y = Matrix::from_rows(&[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]);
    let ce = Loss::SoftmaxCrossEntropy;
    let value = ce.value(&y_hat, &y);
    assert!(value.is_finite() && value > 13.0, "{value}");
    ce.gradient(&mut gradient, &y_hat, &y);
    assert!(gradient.is_finite(), "{gradient}");
    ce.output_error(&mut gradient, &y_hat, &y);
    assert!(gradient.is_finite(), "{gradient}");

    // And straight from logits of ±1000 through the whole output path.
    let z = Matrix::from_rows(&[[1000.0], [-1000.0]]);
    let mut y_hat = Matrix::zeros(0, 0);
    Activation::Sigmoid.forward(&z, &mut y_hat);
    let y = Matrix::from_rows(&[[0.0], [1.0]]);
    assert!(bce.value(&y_hat, &y).is_finite());
}

// ----- The random number generator --------------------------------------------------------------

#[test]
fn splitmix64_matches_the_published_reference_for_seed_0() {
    // The first outputs of the reference C implementation (Vigna, splitmix64.c) seeded with 0.
    let mut rng = Rng::new(0);
    assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
    assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
}

#[test]
fn the_same_seed_gives_the_same_stream_and_different_seeds_differ() {
    let stream = |seed| {
        let mut rng = Rng::new(seed);
        let mut numbers = Vec::new();
        for _ in 0..100 {
            numbers.push(rng.next_u64());
            numbers.push(rng.uniform().to_bits());
            numbers.push(rng.normal().to_bits());
            numbers.push(rng.below(7) as u64);
        }
        numbers
    };
    assert_eq!(stream(42), stream(42));
    assert_ne!(stream(42), stream(43));
    // A fork is itself a determined stream, and different from its parent's.
    let (mut a, mut b) = (Rng::new(5), Rng::new(5));
    let (mut fa, mut fb) = (a.fork(), b.fork());
    for _ in 0..10 {
        let (x, y) = (fa.next_u64(), fb.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, a.next_u64());
        b.next_u64();
    }
}

#[test]
fn uniform_samples_stay_in_range() {
    let mut rng = Rng::new(1);
    let mut sum = 0.0;
    for _ in 0..100_000 {
        let u = rng.uniform();
        assert!((0.0..1.0).contains(&u));
        sum += u;
        let r = rng.uniform_range(-3.0, 2.0);
        assert!((-3.0..2.0).contains(&r));
    }
    // The mean of U[0, 1) is 1/2, with standard error √(1/12)/√n ≈ 0.0009 here.
    assert!((sum / 100_000.0 - 0.5).abs() < 0.005);
}

#[test]
fn normal_samples_have_mean_0_and_variance_1() {
    let n = 200_000;
    let mut rng = Rng::new(2);
    let samples: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let mean = samples.iter().sum::<f64>() / n as f64;
    let variance = samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
    // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
    assert!(mean.abs() < 0.01, "mean {mean}");
    assert!((variance - 1.0).abs() < 0.015, "variance {variance}");
    // About 68.3 % of samples lie within one standard deviation.
    let within = samples.iter().filter(|x| x.abs() < 1.0).count() as f64 / n as f64;
    assert!((within - 0.6827).abs() < 0.01, "within 1σ: {within}");
    assert!(samples.iter().all(|x| x.is_finite()));

    let mut rng = Rng::new(3);
    let shifted: Vec<f64> = (0..n).map(|_| rng.normal_with(5.0, 2.0)).collect();
    let mean = shifted.iter().sum::<f64>() / n as f64;
    assert!((mean - 5.0).abs() < 0.02, "mean {mean}");
}

#[test]
fn shuffle_is_a_permutation_and_below_stays_below() {
    let mut rng = Rng::new(4);
    for len in [0, 1, 2, 10, 1000] {
        let mut items: Vec<usize> = (0..len).collect();
        rng.shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..len).collect::<Vec<_>>(),
            "a permutation of 0..{len}"
        );
        if len == 1000 {
            assert_ne!(items, sorted, "1000 items left in order: not shuffled");
        }
    }
    // Every position of a 3-element shuffle is reached by every element.
    let mut seen = [[0usize; 3]; 3];
    for _ in 0..3000 {
        let mut items = [0, 1, 2];
        rng.shuffle(&mut items);
        for (position, &item) in items.iter().enumerate() {
            seen[item][position] += 1;
        }
    }
    for row in seen {
        for count in row {
            assert!((800..1200).contains(&count), "{seen:?}");
        }
    }
    for n in [1, 2, 3, 7, 1000] {
        assert!((0..1000).all(|_| rng.below(n) < n));
    }
}

#[test]
#[should_panic(expected = "Rng::below(0)")]
fn below_zero_panics() {
    Rng::new(0).below(0);
}

// ----- Reproducible training --------------------------------------------------------------------

/// Every weight and bias of the trained network, as bits.
fn trained_bits(seed: u64) -> Vec<u64> {
    let spec = tasks::find("circles").expect("circles is a task");
    let mut options = RunOptions::for_task(&spec);
    options.seed = seed;
    options.samples = 200;
    options.epochs = 15;
    // Mini-batches, dropout and batch normalisation: every use of randomness in one run.
    options.batch_size = 16;
    options.dropout = 0.1;
    options.batch_norm = true;
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).expect("circles trains");
    assert_eq!(run.history.epochs.len(), 15);
    let mut bits = Vec::new();
    let mut network = run.network;
    network.for_each_parameter(|_, _, p, _| bits.extend(p.as_slice().iter().map(|x| x.to_bits())));
    bits
}

#[test]
fn two_trainings_with_the_same_seed_give_bit_identical_weights() {
    let first = trained_bits(7);
    assert_eq!(first, trained_bits(7), "same seed, same bits");
    assert_ne!(first, trained_bits(8), "another seed, other weights");
}

// ----- Describing a network ---------------------------------------------------------------------

#[test]
fn description_names_the_layers_and_counts_the_parameters() {
    let architecture = Architecture {
        n_in: 2,
        hidden: vec![10],
        activation: Activation::Relu,
        n_out: 1,
        output: Activation::Sigmoid,
        batch_norm: false,
        dropout: 0.0,
    };
    let network = Network::mlp(&architecture, &mut Rng::new(0));
    // 2·10 + 10 = 30 in the hidden layer, 10·1 + 1 = 11 in the output: 41.
    assert_eq!(
        network.description(),
        "2 → 10 relu → 1 sigmoid · 41 parameters"
    );
    assert_eq!(network.parameter_count(), 41);
    assert_eq!(network.parameter_names(), ["W¹", "b¹", "W²", "b²"]);

    let architecture = Architecture {
        n_in: 4,
        hidden: vec![8, 8],
        activation: Activation::Tanh,
        n_out: 3,
        output: Activation::Softmax,
        batch_norm: true,
        dropout: 0.2,
    };
    let network = Network::mlp(&architecture, &mut Rng::new(0));
    // (4·8 + 8) + 2·8 + (8·8 + 8) + 2·8 + (8·3 + 3) = 40 + 16 + 72 + 16 + 27 = 171.
    assert_eq!(network.parameter_count(), 171);
    assert_eq!(
        network.description(),
        "4 → 8 tanh → 8 tanh → 3 softmax +batchnorm +dropout 0.2 · 171 parameters"
    );
}

#[test]
fn the_dense_layer_gives_the_bits_of_its_reference_forms() {
    // `Dense::forward` and `Dense::backward` fuse the bias into the product and Σ_rows dZ into
    // Xᵀ·dZ; `forward_reference` and `backward_reference` are the formulas line by line.
    let mut rng = Rng::new(21);
    for (n, n_in, n_out) in [
        (800, 2, 10),
        (800, 10, 1),
        (400, 1, 20),
        (400, 20, 20),
        (7, 3, 5),
        (300, 64, 128), // large enough for gemm.rs and its threads
    ] {
        let mut layer = Dense::new(n_in, n_out, Init::Glorot, &mut rng);
        layer.b = Matrix::random_normal(1, n_out, 0.0, 1.0, &mut rng);
        let x = Matrix::random_normal(n, n_in, 0.0, 1.0, &mut rng); // (n, n_in)
        let dz = Matrix::random_normal(n, n_out, 0.0, 1.0, &mut rng); // (n, n_out)
        let (mut z, mut z_reference) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
        layer.forward(&mut z, &x);
        layer.forward_reference(&mut z_reference, &x);
        assert_eq!(bits(&z), bits(&z_reference), "Z for {n_in}→{n_out}");

        let mut reference = layer.clone();
        let (mut dx, mut dx_reference) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
        layer.backward(Some(&mut dx), &dz, &x);
        reference.backward_reference(Some(&mut dx_reference), &dz, &x);
        assert_eq!(
            bits(&layer.dw),
            bits(&reference.dw),
            "dW for {n_in}→{n_out}"
        );
        assert_eq!(
            bits(&layer.db),
            bits(&reference.db),
            "db for {n_in}→{n_out}"
        );
        assert_eq!(bits(&dx), bits(&dx_reference), "dX for {n_in}→{n_out}");
    }
}

/// The bit patterns of a matrix's entries, for comparisons that must be exact.
fn bits(m: &Matrix) -> Vec<u64> {
    m.as_slice().iter().map(|v| v.to_bits()).collect()
}

/// Networks for the fused-pass tests, each with a number of rows: circles' and sine's default
/// shapes, softmax after Swish, and digits-sized stacks with Leaky ReLU and ReLU (300 rows are
/// enough for `gemm.rs` to share the products, and the passes fused into them, between threads;
/// the tests run the fused passes on 3 threads).
fn fused_cases() -> Vec<(usize, Architecture)> {
    let mlp = |n_in, hidden: &[usize], activation, n_out, output| Architecture {
        n_in,
        hidden: hidden.to_vec(),
        activation,
        n_out,
        output,
        batch_norm: false,
        dropout: 0.0,
    };
    vec![
        (800, mlp(2, &[10], Activation::Relu, 1, Activation::Sigmoid)),
        (
            400,
            mlp(1, &[20, 20], Activation::Tanh, 1, Activation::Identity),
        ),
        (
            130,
            mlp(5, &[7, 3], Activation::Swish, 4, Activation::Softmax),
        ),
        (
            65,
            mlp(
                64,
                &[128, 64],
                Activation::LeakyRelu { slope: 0.01 },
                10,
                Activation::Softmax,
            ),
        ),
        (
            300,
            mlp(64, &[128, 64], Activation::Relu, 10, Activation::Softmax),
        ),
    ]
}

#[test]
fn the_network_forward_gives_the_bits_of_one_layer_at_a_time() {
    // `Network::forward` runs each dense layer and the activation after it in one pass over
    // blocks of rows; `forward_reference` runs the stack one layer at a time.
    let mut rng = Rng::new(22);
    for (n, architecture) in fused_cases() {
        let mut network = Network::mlp(&architecture, &mut rng);
        let x = Matrix::random_normal(n, architecture.n_in, 0.0, 2.0, &mut rng); // (n, n_in)
        let all_bits = |values: &[Matrix]| values.iter().map(bits).collect::<Vec<_>>();
        kernels::threads::with_threads(3, || network.forward(&x, true));
        let fused = all_bits(network.values());
        network.forward_reference(&x, true);
        assert_eq!(
            fused,
            all_bits(network.values()),
            "{}",
            network.description()
        );
    }
}

#[test]
fn the_network_backward_gives_the_bits_of_one_layer_at_a_time() {
    // `backward_from_output_error` runs each dense layer together with the activation below it;
    // the reference runs one layer at a time. Every gradient and every dW, db must agree.
    let mut rng = Rng::new(23);
    for (n, architecture) in fused_cases() {
        let (n_in, n_out) = (architecture.n_in, architecture.n_out);
        for input_gradient in [false, true] {
            let mut network = Network::mlp(&architecture, &mut rng);
            network.input_gradient = input_gradient;
            let x = Matrix::random_normal(n, n_in, 0.0, 2.0, &mut rng); // (n, n_in)
            let dz = Matrix::random_normal(n, n_out, 0.0, 0.1, &mut rng); // (n, n_out)
            let gradient_bits = |network: &Network| -> Vec<Vec<u64>> {
                let gradients = network.gradients().iter().map(bits);
                let parameters = network
                    .dense_layers()
                    .flat_map(|d| [bits(&d.dw), bits(&d.db)]);
                gradients.chain(parameters).collect()
            };
            network.forward(&x, true);
            kernels::threads::with_threads(3, || network.backward_from_output_error(&dz));
            let fused = gradient_bits(&network);
            let mut reference = network.clone();
            // Stale gradients in the reference, so that each must be written again.
            reference.backward_from_output_error_reference(&dz.map(|v| v * 0.5));
            reference.backward_from_output_error_reference(&dz);
            assert_eq!(
                fused,
                gradient_bits(&reference),
                "{}",
                network.description()
            );
        }
    }
}

#[test]
fn alternating_batch_sizes_give_the_values_of_a_fresh_network() {
    // Training with a test set alternates between two row counts; the network keeps a set of
    // buffers for each. Whatever it kept, a forward pass must give what a fresh network gives.
    let architecture = Architecture {
        n_in: 1,
        hidden: vec![20, 20],
        activation: Activation::Tanh,
        n_out: 1,
        output: Activation::Identity,
        batch_norm: false,
        dropout: 0.0,
    };
    let mut rng = Rng::new(24);
    let mut network = Network::mlp(&architecture, &mut Rng::new(1));
    let fresh = network.clone();
    let train = Matrix::random_normal(400, 1, 0.0, 2.0, &mut rng); // (400, 1)
    let test = Matrix::random_normal(100, 1, 0.0, 2.0, &mut rng); // (100, 1)
    for x in [&train, &test, &train, &test, &test, &train] {
        network.forward(x, true);
        let mut reference = fresh.clone();
        reference.forward(x, true);
        assert_eq!(network.values(), reference.values(), "{} rows", x.rows());
    }
}
