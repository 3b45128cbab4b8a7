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

/// The README's `cargo run -- train …` commands: every line of a fenced code block that starts
/// with `cargo run -- train`, with its `# comment` removed, as (line number, arguments after
/// `train`). Duplicates are kept once. Every one of them is run, so a README example must name a
/// task or a file that exists; a placeholder is written in capitals (`TASK`, `FILE.csv`).
fn readme_train_examples() -> Vec<(usize, Vec<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md is readable");
    let mut in_block = false;
    let mut examples: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, line) in readme.lines().enumerate() {
        let line = line.trim();
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let command = line.split('#').next().unwrap_or_default().trim();
        let Some(rest) = command.strip_prefix("cargo run -- train") else {
            continue;
        };
        if !in_block || !(rest.is_empty() || rest.starts_with(' ')) {
            continue;
        }
        let args: Vec<String> = rest.split_whitespace().map(String::from).collect();
        if !examples.iter().any(|(_, a)| *a == args) {
            examples.push((i + 1, args));
        }
    }
    examples
}

/// A promise: the summary.json key, the test its value must pass, and the promise in words.
type Promise = (&'static str, fn(f64) -> bool, &'static str);

/// The README's promise for `task` (its "Promised results" table).
fn promise(task: &str) -> Option<Promise> {
    Some(match task {
        "xor" => ("test_accuracy", |a| a == 1.0, "100 % accuracy"),
        "circles" => ("test_accuracy", |a| a >= 0.95, "test accuracy ≥ 0.95"),
        "sine" => ("test_mse", |m| m < 0.01, "test MSE < 0.01"),
        "moons" => ("test_accuracy", |a| a >= 0.97, "test accuracy ≥ 0.97"),
        "spiral" => ("test_accuracy", |a| a >= 0.95, "test accuracy ≥ 0.95"),
        "breast_cancer" => ("test_accuracy", |a| a >= 0.95, "test accuracy ≥ 0.95"),
        "iris" => ("test_accuracy", |a| a >= 0.93, "test accuracy ≥ 0.93"),
        "digits" => ("test_accuracy", |a| a >= 0.95, "test accuracy ≥ 0.95"),
        _ => return None,
    })
}

/// The text after `"key": ` in a pretty-printed summary.json, without the trailing comma.
fn json_value<'a>(summary: &'a str, key: &str) -> &'a str {
    summary
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(&format!("\"{key}\": ")))
        .map(|v| v.trim_end_matches(','))
        .unwrap_or_else(|| panic!("no '{key}' in {summary}"))
}

#[test]
fn every_train_example_in_the_readme_keeps_the_readmes_promise() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = std::env::temp_dir().join(format!("backprop-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let mut checked = Vec::new();
    for (k, (line, args)) in readme_train_examples().into_iter().enumerate() {
        // No task (`cargo run -- train`, perhaps with flags): the three examples, whose two
        // training runs are the circles and sine defaults checked above, and which write into
        // ./out; tests/cli.rs runs it.
        if args.first().is_none_or(|a| a.starts_with('-')) {
            continue;
        }
        // A placeholder in capitals (`train TASK`, `train FILE.csv`) stands for any task or file.
        let first = args[0].trim_end_matches(".csv");
        if first.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            continue;
        }
        // The command runs in a scratch folder (a `--save model.txt` lands there); a path of
        // the crate's (datasets/iris.csv) is made absolute so it still names the shipped file.
        let args: Vec<String> = args
            .into_iter()
            .map(|a| match manifest.join(&a) {
                path if !a.starts_with('-') && path.exists() => path.display().to_string(),
                _ => a,
            })
            .collect();
        let out = scratch.join(format!("run-{k}"));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_backprop"))
            .arg("train")
            .args(&args)
            .args(["--quiet", "--out", out.to_str().unwrap()])
            .current_dir(&scratch)
            .output()
            .expect("the backprop binary runs");
        let shown = format!("README line {line}: train {}", args.join(" "));
        assert!(
            output.status.success(),
            "{shown} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        let task = json_value(&summary, "task").trim_matches('"');
        let (key, holds, words) = promise(task)
            .unwrap_or_else(|| panic!("{shown}: the README promises nothing for '{task}'"));
        let value: f64 = json_value(&summary, key).parse().unwrap();
        assert!(holds(value), "{shown}: {key} = {value}, promised {words}");
        checked.push(format!("{shown}: {key} {value}"));
    }
    assert!(
        checked.len() >= 2,
        "the README's train examples were not found: {checked:?}"
    );
    eprintln!("{}", checked.join("\n"));
    let _ = std::fs::remove_dir_all(scratch);
}
