//! The engine's promises that are not gradients: finite numbers at the extremes, a seeded
//! generator that is the published SplitMix64, training that is reproducible bit for bit, and
//! the one-line description of a network.

use backprop::activation::{sigmoid, softmax_row, Activation};
use backprop::dense::{Below, Dense, Init};
use backprop::kernels;
use backprop::layer::Layer;
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
        let derivative = |z: f64| f.derivative(z, f.value(z));
        assert!(derivative(1000.0).is_finite() && derivative(-1000.0).is_finite());
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
fn the_dense_layer_with_its_activation_gives_the_bits_of_the_two_in_turn() {
    // `Dense::forward` with `Some((f, A))` computes Z = X·W + b and A = f(Z) in one call, and
    // `Dense::backward` with `Below::Activation` computes dX = dZ·Wᵀ and the activation's
    // dZ_below = dX ⊙ f′(Z) in one call: each must give the bits of the two steps in turn.
    let mut rng = Rng::new(21);
    for (n, n_in, n_out) in [
        (800, 2, 10),
        (800, 10, 1),
        (400, 1, 20),
        (400, 20, 20),
        (7, 3, 5),
        (130, 0, 4),
        (300, 64, 128), // large enough for the packed product and its threads
    ] {
        for f in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
            let mut layer = Dense::new(n_in, n_out, Init::Glorot, &mut rng);
            layer.b = Matrix::random_normal(1, n_out, 0.0, 1.0, &mut rng);
            let x = Matrix::random_normal(n, n_in, 0.0, 1.0, &mut rng); // (n, n_in)
            let (mut z, mut a) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            kernels::threads::with_threads(3, || layer.forward(&mut z, &x, Some((f, &mut a))));
            let (mut z_alone, mut a_alone) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            layer.forward(&mut z_alone, &x, None);
            f.forward(&z_alone, &mut a_alone);
            let what = format!("{n_in}→{n_out} {}", f.name());
            assert_eq!(bits(&z), bits(&z_alone), "Z for {what}");
            assert_eq!(bits(&a), bits(&a_alone), "A for {what}");

            // The layer above reads A (n × n_out) and has a dZ of its own.
            let mut above = Dense::new(n_out, 3, Init::Glorot, &mut rng);
            let dz = Matrix::random_normal(n, 3, 0.0, 1.0, &mut rng); // (n, 3)
            let mut alone = above.clone();
            let (mut da, mut dz_below) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            let below = Below::Activation {
                f,
                z: &z,
                da: &mut da,
                dz_below: &mut dz_below,
            };
            kernels::threads::with_threads(3, || above.backward(below, &dz, &a));
            let (mut dx_alone, mut dz_below_alone) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            alone.backward(Below::Input(&mut dx_alone), &dz, &a);
            f.backward(&mut dz_below_alone, &dx_alone, &z, &a);
            assert_eq!(bits(&above.dw), bits(&alone.dw), "dW for {what}");
            assert_eq!(bits(&above.db), bits(&alone.db), "db for {what}");
            assert_eq!(bits(&da), bits(&dx_alone), "dA for {what}");
            assert_eq!(
                bits(&dz_below),
                bits(&dz_below_alone),
                "dZ below for {what}"
            );
        }
    }
}

/// The bit patterns of a matrix's entries, for comparisons that must be exact.
fn bits(m: &Matrix) -> Vec<u64> {
    m.as_slice().iter().map(|v| v.to_bits()).collect()
}

/// Networks for the fused-pass tests, each with a number of rows: circles' and sine's default
/// shapes, softmax after Swish, and digits-sized stacks with Leaky ReLU and ReLU (300 rows are
/// enough for `kernels/gemm/` to share the products, and the passes fused into them, between
/// threads; the tests run the fused passes on 3 threads).
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

/// The stack run one layer at a time, as `Aˡ⁺¹ = layerₗ(Aˡ)` reads: every value.
fn forward_one_layer_at_a_time(network: &Network, x: &Matrix) -> Vec<Matrix> {
    let mut layers = network.layers().to_vec();
    let mut values = vec![x.clone()];
    for layer in &mut layers {
        let mut output = Matrix::zeros(0, 0);
        layer.forward(&mut output, values.last().expect("the input"), true);
        values.push(output);
    }
    values
}

#[test]
fn the_network_forward_gives_the_bits_of_one_layer_at_a_time() {
    // `Network::forward` runs each dense layer and the activation after it in one call.
    let mut rng = Rng::new(22);
    for (n, architecture) in fused_cases() {
        let mut network = Network::mlp(&architecture, &mut rng);
        let x = Matrix::random_normal(n, architecture.n_in, 0.0, 2.0, &mut rng); // (n, n_in)
        let all_bits = |values: &[Matrix]| values.iter().map(bits).collect::<Vec<_>>();
        kernels::threads::with_threads(3, || network.forward(&x, true));
        let reference = forward_one_layer_at_a_time(&network, &x);
        assert_eq!(
            all_bits(network.values()),
            all_bits(&reference),
            "{}",
            network.description()
        );
    }
}

#[test]
fn the_network_backward_gives_the_bits_of_one_layer_at_a_time() {
    // `backward_from_output_error` runs each dense layer together with the activation below it;
    // here each layer's own backward runs in turn, `dAˡ = layerₗ.backward(dAˡ⁺¹)`. Every gradient
    // and every dW, db must agree.
    let mut rng = Rng::new(23);
    for (n, architecture) in fused_cases() {
        let (n_in, n_out) = (architecture.n_in, architecture.n_out);
        for input_gradient in [false, true] {
            let mut network = Network::mlp(&architecture, &mut rng);
            network.input_gradient = input_gradient;
            let x = Matrix::random_normal(n, n_in, 0.0, 2.0, &mut rng); // (n, n_in)
            let dz = Matrix::random_normal(n, n_out, 0.0, 0.1, &mut rng); // (n, n_out)
            network.forward(&x, true);
            kernels::threads::with_threads(3, || network.backward_from_output_error(&dz));

            let values = network.values();
            let mut layers = network.layers().to_vec();
            let last = layers.len() - 1; // the output activation, which the shortcut skips
            let mut gradients = vec![Matrix::zeros(0, 0); layers.len() + 1];
            gradients[last] = dz.clone();
            for l in (0..last).rev() {
                let (below, above) = gradients.split_at_mut(l + 1);
                let d_input = (l > 0 || input_gradient).then_some(&mut below[l]);
                layers[l].backward(d_input, &above[0], &values[l], &values[l + 1], true);
            }
            let first = if input_gradient { 0 } else { 1 };
            let computed = network.gradients().iter().zip(&gradients);
            for (l, (got, want)) in computed.enumerate().take(last + 1).skip(first) {
                assert_eq!(
                    bits(got),
                    bits(want),
                    "gradient {l} of {}",
                    network.description()
                );
            }
            let dense_bits = |layers: &[Layer]| -> Vec<Vec<u64>> {
                let dense = layers.iter().filter_map(|layer| match layer {
                    Layer::Dense(d) => Some(d),
                    _ => None,
                });
                dense.flat_map(|d| [bits(&d.dw), bits(&d.db)]).collect()
            };
            assert_eq!(
                dense_bits(network.layers()),
                dense_bits(&layers),
                "dW, db of {}",
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

#[test]
fn the_loop_that_writes_batches_into_the_network_gives_the_bits_of_the_plain_loop() {
    // `train::train` writes each mini-batch straight into the network's input and loads a full
    // batch once (again after the test set): the plain loop below copies every batch in with
    // `network.forward(&X)`. Both must end with the same weights, bit for bit.
    use backprop::optim::{Optimizer, Rule};
    use backprop::train::{self, TrainConfig};
    let parameter_bits = |network: &Network| -> Vec<u64> {
        let parameters = network
            .dense_layers()
            .flat_map(|d| d.w.as_slice().iter().chain(d.b.as_slice()));
        parameters.map(|x| x.to_bits()).collect()
    };
    for batch_size in [0, 32, 70] {
        let mut rng = Rng::new(12);
        let data = backprop::data::generate::blobs(200, 3, 1.0, &mut rng);
        // As many test rows as training rows: evaluating overwrites the same input buffers.
        let test = backprop::data::generate::blobs(200, 3, 1.0, &mut rng);
        let architecture = Architecture {
            n_in: 2,
            hidden: vec![16, 8],
            activation: Activation::Relu,
            n_out: 3,
            output: Activation::Softmax,
            batch_norm: false,
            dropout: 0.0,
        };
        let network = Network::mlp(&architecture, &mut rng);
        let optimizer = Optimizer::new(Rule::Sgd, 0.1);
        let config = TrainConfig {
            epochs: 4,
            batch_size,
            shuffle_seed: 5,
        };
        let (mut trained, mut trained_optimizer) = (network.clone(), optimizer.clone());
        train::train(
            &mut trained,
            &mut trained_optimizer,
            &data,
            Some(&test),
            &config,
            |_, _| ControlFlow::Continue(()),
        );

        let (mut plain, mut plain_optimizer) = (network, optimizer);
        let n = data.len();
        let mut order: Vec<usize> = (0..n).collect();
        let mut shuffle = Rng::new(config.shuffle_seed);
        let mut dz = Matrix::zeros(0, 0);
        for epoch in 0..config.epochs {
            plain_optimizer.start_epoch(epoch);
            let rows = config.rows_per_step(n);
            if rows < n {
                shuffle.shuffle(&mut order);
            }
            for batch in order.chunks(rows) {
                let (x, y) = (data.x.select_rows(batch), data.y.select_rows(batch));
                let y_hat = plain.forward(&x, true);
                data.task.loss().output_error(&mut dz, y_hat, &y);
                plain.backward_from_output_error(&dz);
                plain_optimizer.step(&mut plain);
            }
            train::evaluate(&mut plain, &test);
        }
        assert_eq!(
            parameter_bits(&trained),
            parameter_bits(&plain),
            "batch size {batch_size}"
        );
    }
}
