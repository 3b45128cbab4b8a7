//! The diagnosis finds each problem where it is planted, and stays quiet on a healthy run.

use backprop::activation::Activation;
use backprop::data::generate;
use backprop::diagnose::{inspect_units, Finding, Monitor};
use backprop::layer::Layer;
use backprop::network::{Architecture, Network};
use backprop::optim::{Optimizer, Rule};
use backprop::rng::Rng;
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

#[test]
fn each_gradient_problem_is_reported_once() {
    let mut monitor = Monitor::new();
    assert!(monitor.observe(&stats(1, vec![1.0, 1.0])).is_empty());
    let exploding = monitor.observe(&stats(2, vec![5e3, 1.0]));
    assert!(matches!(
        exploding.as_slice(),
        [Finding::ExplodingGradients {
            epoch: 2,
            layer: 1,
            ..
        }]
    ));
    assert!(monitor.observe(&stats(3, vec![6e3, 1.0])).is_empty());
    let vanishing = monitor.observe(&stats(4, vec![1e-6, 1.0]));
    assert!(matches!(
        vanishing.as_slice(),
        [Finding::VanishingGradients {
            epoch: 4,
            layer: 1,
            ..
        }]
    ));
    assert!(monitor.observe(&stats(5, vec![1e-7, 1.0])).is_empty());
    assert_eq!(monitor.findings().len(), 2);
    let text = monitor.findings()[0].to_string();
    assert!(
        text.contains("exploding") && text.contains("--clip"),
        "{text}"
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
