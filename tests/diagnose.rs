//! The diagnosis finds each problem where it is planted, and stays quiet on a healthy run: it
//! judges gradients against each other and against their own start, never against a fixed size,
//! and reports one problem per epoch, the one that explains the other.

use backprop::activation::Activation;
use backprop::data::generate;
use backprop::diagnose::{inspect_units, Finding, Monitor};
use backprop::layer::Layer;
use backprop::network::{Architecture, Network};
use backprop::optim::{Optimizer, Rule};
use backprop::rng::Rng;
use backprop::run::{self, RunOptions};
use backprop::tasks;
use backprop::train::{train, EpochStats, TrainConfig};
use std::ops::ControlFlow;

fn stats(epoch: usize, gradient_norms: Vec<f64>) -> EpochStats {
    EpochStats {
        epoch,
        lr: 0.1,
        train_loss: 0.5,
        train_metric: 0.5,
        test_loss: None,
        test_metric: None,
        update_norms: vec![0.0; gradient_norms.len()],
        weight_norms: vec![1.0; gradient_norms.len()],
        gradient_norms,
    }
}

fn network(hidden: Vec<usize>, activation: Activation, seed: u64) -> Network {
    let architecture = Architecture {
        n_in: 2,
        hidden,
        activation,
        n_out: 1,
        output: Activation::Sigmoid,
        batch_norm: false,
        dropout: 0.0,
    };
    Network::mlp(&architecture, &mut Rng::new(seed))
}

/// Trains a network on circles for a few epochs and returns what the monitor reported.
fn monitored_training(net: &mut Network, epochs: usize) -> Vec<Finding> {
    let data = generate::circles(200, 0.1, 0.5, &mut Rng::new(5));
    let mut optimizer = Optimizer::new(Rule::Sgd, 0.1);
    let mut monitor = Monitor::new();
    let config = TrainConfig {
        epochs,
        batch_size: 0,
        shuffle_seed: 1,
    };
    train(net, &mut optimizer, &data, None, &config, |s, _| {
        monitor.observe(s);
        ControlFlow::Continue(())
    });
    monitor.findings().to_vec()
}

#[test]
fn a_deep_sigmoid_network_has_vanishing_gradients_and_a_relu_one_does_not() {
    let mut deep_sigmoid = network(vec![10; 10], Activation::Sigmoid, 1);
    let findings = monitored_training(&mut deep_sigmoid, 3);
    assert!(
        findings
            .iter()
            .any(|f| matches!(f, Finding::VanishingGradients { layer: 1, .. })),
        "{findings:?}"
    );
    let mut shallow_relu = network(vec![10], Activation::Relu, 1);
    assert_eq!(monitored_training(&mut shallow_relu, 3), Vec::new());
}

/// What a monitor reports for a sequence of per-layer gradient norms, one entry per epoch.
fn reported(epochs: &[Vec<f64>]) -> Vec<Finding> {
    let mut monitor = Monitor::new();
    for (i, norms) in epochs.iter().enumerate() {
        let new = monitor.observe(&stats(i + 1, norms.clone()));
        assert!(
            new.len() <= 1,
            "epoch {}: more than one finding {new:?}",
            i + 1
        );
    }
    monitor.findings().to_vec()
}

#[test]
fn each_gradient_problem_is_reported_once() {
    let mut monitor = Monitor::new();
    assert!(monitor.observe(&stats(1, vec![1.0, 1.0])).is_empty());
    let exploding = monitor.observe(&stats(2, vec![5e3, 1.0]));
    assert!(
        matches!(
            exploding.as_slice(),
            [Finding::ExplodingGradients {
                epoch: 2,
                layer: 1,
                growth,
                norm,
                overshadowed: None,
            }] if *growth == 5e3 && *norm == 5e3
        ),
        "{exploding:?}"
    );
    assert!(monitor.observe(&stats(3, vec![6e3, 1.0])).is_empty());
    assert_eq!(monitor.findings().len(), 1);
    let text = monitor.findings()[0].to_string();
    assert!(
        text.contains("exploding gradients in epoch 2")
            && text.contains("5.0e3-fold")
            && text.contains("--clip"),
        "{text}"
    );
}

#[test]
fn vanishing_must_hold_two_epochs_and_is_dated_from_the_first() {
    // One epoch of a tiny ratio is not enough; two in a row are, reported from the first.
    assert_eq!(
        reported(&[vec![1.0, 1.0], vec![1e-6, 1.0], vec![1.0, 1.0]]),
        Vec::new()
    );
    let findings = reported(&[
        vec![1.0, 1.0],
        vec![1e-6, 1.0],
        vec![2e-6, 1.0],
        vec![1e-7, 1.0],
    ]);
    assert_eq!(
        findings,
        vec![Finding::VanishingGradients {
            epoch: 2,
            layer: 1,
            ratio: 1e-6
        }]
    );
    // A later layer smaller than an earlier one is not the chain rule's doing.
    assert_eq!(reported(&[vec![1.0, 1e-6], vec![1.0, 1e-6]]), Vec::new());
}

#[test]
fn gradients_as_large_as_the_target_are_not_exploding() {
    // A regression on a target in the thousands has gradients in the thousands from its first
    // epoch; they drift but do not grow from their own start. The same run on a target of
    // scale 1 (every norm divided by 10⁴) gets the same verdict: none.
    let large: Vec<Vec<f64>> = (0..50)
        .map(|e| {
            let drift = 1.0 + 0.5 * (e as f64 * 0.3).sin();
            vec![3.5e3 * drift, 9.9e3 / drift]
        })
        .collect();
    let small: Vec<Vec<f64>> = large
        .iter()
        .map(|n| n.iter().map(|g| g * 1e-4).collect())
        .collect();
    assert_eq!(reported(&large), Vec::new());
    assert_eq!(reported(&small), Vec::new());
    // Scale does not change a verdict either way: a thousandfold growth is found at both.
    let mut grown = large.clone();
    grown.push(vec![3.5e7, 9.9e3]);
    let mut grown_small = small.clone();
    grown_small.push(vec![3.5e3, 9.9e-1]);
    assert!(matches!(
        reported(&grown).as_slice(),
        [Finding::ExplodingGradients {
            epoch: 51,
            layer: 1,
            ..
        }]
    ));
    assert!(matches!(
        reported(&grown_small).as_slice(),
        [Finding::ExplodingGradients {
            epoch: 51,
            layer: 1,
            ..
        }]
    ));
}

#[test]
fn an_explosion_explains_the_vanishing_it_causes_in_the_same_epoch() {
    // Epoch 2: the last layer grows 10⁶-fold; beside it the first layer's unchanged gradient is
    // 10⁻⁶ of the largest. One finding, the explosion, which names the other and why.
    let findings = reported(&[
        vec![1.0, 1.0, 1.0],
        vec![1.0, 1.0, 1e6],
        vec![1.0, 1.0, 1e9],
        vec![1.0, 1.0, 1e12],
    ]);
    assert_eq!(
        findings,
        vec![Finding::ExplodingGradients {
            epoch: 2,
            layer: 3,
            growth: 1e6,
            norm: 1e6,
            overshadowed: Some((1, 1e-6)),
        }]
    );
    let text = findings[0].to_string();
    assert!(
        text.contains("‖dW¹‖ is only 1.0e-6 of it") && text.contains("not a problem of its own"),
        "{text}"
    );
}

#[test]
fn a_layer_recovering_from_a_vanishing_start_is_not_exploding() {
    // Layer 1 starts at 10⁻⁷ of layer 2 and grows 10⁴-fold as it comes alive: it is measured
    // from the vanishing threshold (10⁻³ of layer 2), over which it grew 10-fold only.
    let findings = reported(&[
        vec![1e-7, 1.0],
        vec![1e-7, 1.0],
        vec![1e-3, 1.0],
        vec![1e-2, 1.0],
    ]);
    assert_eq!(
        findings,
        vec![Finding::VanishingGradients {
            epoch: 1,
            layer: 1,
            ratio: 1e-7
        }]
    );
}

#[test]
fn a_run_that_explodes_in_its_first_epoch_gets_one_diagnosis_the_explosion() {
    // sine with plain SGD at η = 50: in epoch 1 the last layer's gradient is already 10²⁸ times
    // the first's, which alone would read as vanishing; from epoch 2 the growth shows what it is.
    let mut options = RunOptions::for_task(&tasks::find("sine").unwrap());
    options.rule = Rule::Sgd;
    options.lr = 50.0;
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).unwrap();
    assert!(run.history.divergence.is_some());
    let mut monitor = Monitor::new();
    for stats in &run.history.epochs {
        monitor.observe(stats);
    }
    assert!(
        matches!(
            monitor.findings(),
            [Finding::ExplodingGradients {
                epoch: 2,
                layer: 3,
                overshadowed: Some((1, _)),
                ..
            }]
        ),
        "{:?}",
        monitor.findings()
    );
}

#[test]
fn relu_units_pushed_below_zero_everywhere_are_found_dead() {
    let mut net = network(vec![6], Activation::Relu, 2);
    // Three units get a bias so negative that Z ≤ 0 for every input of the data.
    if let Layer::Dense(dense) = &mut net.layers_mut()[0] {
        for j in 0..3 {
            dense.b.set(0, j, -100.0);
        }
        for j in 3..6 {
            dense.b.set(0, j, 100.0);
        }
    }
    let data = generate::circles(100, 0.1, 0.5, &mut Rng::new(3));
    let findings = inspect_units(&mut net, &data.x);
    assert_eq!(
        findings,
        vec![Finding::DeadRelus {
            layer: 1,
            dead: 3,
            units: 6
        }]
    );
    assert!(findings[0].to_string().contains("3 of 6 relu units"));
}

#[test]
fn tanh_units_with_huge_weights_are_found_saturated() {
    let mut net = network(vec![4], Activation::Tanh, 3);
    if let Layer::Dense(dense) = &mut net.layers_mut()[0] {
        for j in 0..2 {
            dense.b.set(0, j, 50.0);
        }
    }
    let data = generate::circles(100, 0.1, 0.5, &mut Rng::new(4));
    let findings = inspect_units(&mut net, &data.x);
    assert!(
        matches!(
            findings.as_slice(),
            [Finding::SaturatedUnits {
                layer: 1,
                activation: "tanh",
                saturated: 2,
                units: 4
            }]
        ),
        "{findings:?}"
    );
}
