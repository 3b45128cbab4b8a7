//! Regression on a table as a user has one: a target in the hundreds, ten numeric features on
//! scales of their own, trained through the real binary with the CSV defaults.
//!
//! The network must do about as well as the model every statistician would try first, ordinary
//! least squares, which this file fits itself by the normal equations on the same split. And the
//! diagnosis must not call the run exploding because the target, and so the gradient, is large.

use backprop::data::Dataset;
use backprop::rng::Rng;
use backprop::run::{self, RunOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The seeds every check runs on.
const SEEDS: [u64; 5] = [0, 1, 2, 3, 4];

/// A fresh temporary folder for one test.
fn temp_folder(name: &str) -> PathBuf {
    let folder =
        std::env::temp_dir().join(format!("backprop-regression-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// Writes `houses.csv` into `folder`: 600 rows of ten features, each with its own mean and scale,
/// and the target
///
/// ```text
/// y = 500 + Σⱼ wⱼ·xⱼ + 8·sin(x₁) + ε,     ε ~ Normal(0, 25)
/// ```
///
/// mostly linear, in the hundreds (mean about 770, standard deviation about 85).
fn write_table(folder: &Path) -> PathBuf {
    let means = [5.0, 0.0, 10.0, -2.0, 1.0, 0.0, 3.0, 7.0, 0.0, 1.0];
    let scales = [1.0, 2.0, 0.5, 3.0, 1.0, 1.0, 4.0, 2.0, 1.0, 0.3];
    let weights = [31.0, -22.0, 17.0, 9.0, -14.0, 26.0, 5.0, -8.0, 12.0, 20.0];
    let mut rng = Rng::new(2024);
    let mut text = String::from("f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,price\n");
    for _ in 0..600 {
        let x: Vec<f64> = (0..10)
            .map(|j| means[j] + scales[j] * rng.normal())
            .collect();
        let linear: f64 = x.iter().zip(&weights).map(|(x, w)| x * w).sum();
        let y = 500.0 + linear + 8.0 * x[0].sin() + 25.0 * rng.normal();
        let fields: Vec<String> = x.iter().map(|v| format!("{v:.4}")).collect();
        text.push_str(&format!("{},{y:.3}\n", fields.join(",")));
    }
    let path = folder.join("houses.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The test R² of ordinary least squares with an intercept, fitted on `train` by solving the
/// normal equations `(Xᵀ·X)·β = Xᵀ·y` (X with a leading column of ones) by Gaussian elimination.
/// Standardised features and target give the same R² as raw ones: the fit is affine-invariant.
fn least_squares_r2(train: &Dataset, test: &Dataset) -> f64 {
    let k = train.x.cols() + 1;
    // The augmented system [XᵀX | Xᵀy], (k × k+1).
    let mut a = vec![vec![0.0; k + 1]; k];
    for i in 0..train.len() {
        let row: Vec<f64> = std::iter::once(1.0)
            .chain(train.x.row(i).iter().copied())
            .collect();
        for p in 0..k {
            for q in 0..k {
                a[p][q] += row[p] * row[q];
            }
            a[p][k] += row[p] * train.y[(i, 0)];
        }
    }
    for c in 0..k {
        let pivot = (c..k)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, pivot);
        let pivot_row = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot_row[c];
                for (x, p) in row[c..].iter_mut().zip(&pivot_row[c..]) {
                    *x -= f * p;
                }
            }
        }
    }
    let beta: Vec<f64> = (0..k).map(|i| a[i][k] / a[i][i]).collect();
    let n = test.len();
    let mean = (0..n).map(|i| test.y[(i, 0)]).sum::<f64>() / n as f64;
    let (mut residual, mut total) = (0.0, 0.0);
    for i in 0..n {
        let x = test.x.row(i);
        let y_hat = beta[0] + x.iter().zip(&beta[1..]).map(|(x, b)| x * b).sum::<f64>();
        residual += (test.y[(i, 0)] - y_hat).powi(2);
        total += (test.y[(i, 0)] - mean).powi(2);
    }
    1.0 - residual / total
}

/// `backprop train FILE --seed S --quiet --out DIR [extra]`, which must succeed.
fn train(path: &Path, seed: u64, out: &Path, extra: &[&str]) -> Output {
    let seed = seed.to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["train", path.to_str().unwrap(), "--seed", &seed, "--quiet"])
        .args(["--out", out.to_str().unwrap()])
        .args(extra)
        .output()
        .expect("the backprop binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The number after `"key":` in a pretty-printed summary.json.
fn json_number(summary: &str, key: &str) -> f64 {
    summary
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("\"{key}\":")))
        .and_then(|l| l.split(':').nth(1))
        .map(|v| v.trim().trim_end_matches(',').parse().unwrap())
        .unwrap_or_else(|| panic!("no number '{key}' in {summary}"))
}

#[test]
fn a_large_valued_target_is_fitted_as_well_as_least_squares_does_with_no_false_diagnosis() {
    let folder = temp_folder("fit");
    let path = write_table(&folder);
    let mut results = Vec::new();
    for seed in SEEDS {
        let out = folder.join(format!("seed{seed}"));
        let output = train(&path, seed, &out, &[]);
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        // The split the binary trained on: the data depend on the seed, not on the learning rate.
        let mut options = RunOptions::for_csv(path.clone());
        options.seed = seed;
        let data = run::prepare(&options).unwrap();
        let ols = least_squares_r2(&data.train, &data.test);
        let test_r2 = json_number(&summary, "test_r2");
        results.push((seed, test_r2, ols));

        // The MSE is in the target's units, and the R² is what the MSE and the spread imply.
        let target_std = json_number(&summary, "target_std");
        assert!((60.0..120.0).contains(&target_std), "σ_y {target_std}");
        let (mse, loss) = (
            json_number(&summary, "test_mse"),
            json_number(&summary, "test_loss"),
        );
        let relative = (mse - loss * target_std * target_std).abs() / mse;
        assert!(relative < 1e-12, "test mse {mse}, loss {loss}");
        let baseline = json_number(&summary, "test_mse_baseline");
        assert!(mse < 0.2 * baseline, "mse {mse}, baseline {baseline}");
        assert!(json_number(&summary, "train_r2") > 0.85, "{summary}");

        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !summary.contains("exploding") && !summary.contains("vanishing"),
            "seed {seed}: {summary}"
        );
        assert!(
            !stdout.contains("exploding") && !stderr.contains("exploding"),
            "seed {seed}: {stdout}{stderr}"
        );
        assert!(
            stdout.contains("r²  ") && stdout.contains("baseline    mse "),
            "{stdout}"
        );
    }
    let _ = std::fs::remove_dir_all(&folder);
    for &(seed, nn, ols) in &results {
        assert!(
            nn > ols - 0.05,
            "seed {seed}: test R² {nn:.4}, least squares {ols:.4}; all (seed, network, least squares): {results:?}"
        );
        assert!(ols > 0.85, "the table is mostly linear: {results:?}");
    }
}

#[test]
fn a_raw_target_in_the_hundreds_is_not_called_exploding() {
    // --no-standardize feeds the target as it is: gradients in the hundreds from the first
    // epoch, and a run that still learns. Only a gradient that grows from its own start explodes.
    let folder = temp_folder("raw");
    let path = write_table(&folder);
    for seed in SEEDS {
        let out = folder.join(format!("seed{seed}"));
        train(&path, seed, &out, &["--no-standardize"]);
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        assert!(!summary.contains("exploding"), "seed {seed}: {summary}");
        assert!(!summary.contains("target_std"), "{summary}");
        let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
        let first_gradient: f64 = history
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(6)
            .unwrap()
            .parse()
            .unwrap();
        assert!(first_gradient > 100.0, "‖dW¹‖ in epoch 1: {first_gradient}");
        // The raw target's MSE is its loss: no σ_y² between them.
        assert_eq!(
            json_number(&summary, "test_mse"),
            json_number(&summary, "test_loss")
        );
    }
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn predict_answers_in_the_targets_units() {
    let folder = temp_folder("predict");
    let path = write_table(&folder);
    let out = folder.join("run");
    let model = folder.join("model.txt");
    train(&path, 0, &out, &["--save", model.to_str().unwrap()]);
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["predict", "--model", model.to_str().unwrap(), "--data"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let _ = std::fs::remove_dir_all(&folder);
    // prediction,target for every row of the file, both in the hundreds and close together.
    let rows: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let (p, t) = l.split_once(',').unwrap();
            (p.parse().unwrap(), t.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 600);
    let mse = rows.iter().map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / 600.0;
    let mean = rows.iter().map(|(_, t)| t).sum::<f64>() / 600.0;
    let variance = rows
        .iter()
        .map(|(_, t)| (t - mean) * (t - mean))
        .sum::<f64>()
        / 600.0;
    assert!(mean > 600.0 && mean < 950.0, "mean target {mean}");
    assert!(
        mse < 0.2 * variance,
        "mse {mse} against a variance of {variance}"
    );
}
