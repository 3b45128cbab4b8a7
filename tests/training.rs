//! The README's promised results, each checked on ten seeds with the default settings.
//!
//! Every row of the table must hold on at least 9 of the seeds 0..10 with `RunOptions::for_task`
//! (the defaults `backprop train TASK` uses), so a promise is a property of the defaults, not of
//! one lucky seed. The measured numbers of every seed are printed on failure.

use backprop::run::{self, RunOptions};
use backprop::tasks;
use std::ops::ControlFlow;

/// Runs `task` with its defaults on seeds 0..10 and returns each seed's final test metric
/// (accuracy in [0, 1], or the MSE for regression) and the number of epochs trained.
fn ten_seeds(task: &str) -> Vec<(f64, usize)> {
    let spec = tasks::find(task).expect("a named task");
    (0..10)
        .map(|seed| {
            let mut options = RunOptions::for_task(&spec);
            options.seed = seed;
            let run = run::execute(&options, |_, _| ControlFlow::Continue(())).expect("runs");
            assert!(
                run.history.divergence.is_none(),
                "{task} seed {seed} diverged"
            );
            let last = run.history.last().expect("at least one epoch");
            (
                last.test_metric.expect("a test set"),
                run.history.epochs.len(),
            )
        })
        .collect()
}

/// Asserts that at least 9 of the 10 results satisfy `promise`.
fn holds_on_nine_of_ten(
    task: &str,
    results: &[(f64, usize)],
    promise: impl Fn(f64, usize) -> bool,
) {
    let passed = results.iter().filter(|&&(m, e)| promise(m, e)).count();
    assert!(
        passed >= 9,
        "{task}: the promise held on {passed} of 10 seeds; results (metric, epochs): {results:?}"
    );
}

#[test]
fn xor_reaches_100_percent_within_50_epochs() {
    let results = ten_seeds("xor");
    holds_on_nine_of_ten("xor", &results, |accuracy, epochs| {
        accuracy == 1.0 && epochs <= 50
    });
}

#[test]
fn circles_with_10_hidden_units_reaches_95_percent() {
    let results = ten_seeds("circles");
    holds_on_nine_of_ten("circles", &results, |accuracy, _| accuracy >= 0.95);
}

#[test]
fn sine_reaches_a_test_mse_below_0_01() {
    let results = ten_seeds("sine");
    holds_on_nine_of_ten("sine", &results, |mse, _| mse < 0.01);
}

#[test]
fn moons_reaches_97_percent() {
    let results = ten_seeds("moons");
    holds_on_nine_of_ten("moons", &results, |accuracy, _| accuracy >= 0.97);
}

#[test]
fn spiral_with_3_arms_reaches_95_percent() {
    let results = ten_seeds("spiral");
    holds_on_nine_of_ten("spiral", &results, |accuracy, _| accuracy >= 0.95);
}

#[test]
fn breast_cancer_reaches_95_percent() {
    let results = ten_seeds("breast_cancer");
    holds_on_nine_of_ten("breast_cancer", &results, |accuracy, _| accuracy >= 0.95);
}

#[test]
fn iris_reaches_93_percent() {
    let results = ten_seeds("iris");
    holds_on_nine_of_ten("iris", &results, |accuracy, _| accuracy >= 0.93);
}

#[test]
fn digits_reaches_95_percent() {
    let results = ten_seeds("digits");
    holds_on_nine_of_ten("digits", &results, |accuracy, _| accuracy >= 0.95);
}

#[test]
fn sine_fits_the_true_curve_closer_than_the_noise() {
    // The noise σ = 0.05 puts a floor of σ² = 0.0025 under the MSE against the noisy targets; the
    // MSE against sin x itself has no floor, and a good fit goes well under it.
    let spec = tasks::find("sine").unwrap();
    let mut options = RunOptions::for_task(&spec);
    options.seed = 0;
    let mut run = run::execute(&options, |_, _| ControlFlow::Continue(())).unwrap();
    let clean = run
        .data
        .test
        .clean_y
        .clone()
        .expect("sine keeps the noise-free targets");
    let y_hat = run.network.predict(&run.data.test.x);
    let mse_true = backprop::loss::Loss::MeanSquaredError.value(&y_hat, &clean);
    assert!(mse_true < 0.0025, "test MSE against sin x: {mse_true}");
}

#[test]
fn the_same_seed_gives_the_same_numbers_bit_for_bit() {
    let spec = tasks::find("moons").unwrap();
    let mut options = RunOptions::for_task(&spec);
    options.epochs = 20;
    let a = run::execute(&options, |_, _| ControlFlow::Continue(())).unwrap();
    let b = run::execute(&options, |_, _| ControlFlow::Continue(())).unwrap();
    assert_eq!(a.history.epochs, b.history.epochs);
}
