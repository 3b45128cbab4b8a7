//! The real binary, run as a user would: its output, its files, its help and its errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn backprop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .output()
        .expect("the backprop binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh temporary folder for one test.
fn temp_folder(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("backprop-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
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

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

#[test]
fn train_circles_reaches_the_promised_accuracy_and_writes_its_files() {
    let out = temp_folder("circles");
    let output = backprop(&[
        "train",
        "circles",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    assert!(
        stderr(&output).is_empty(),
        "--quiet printed: {}",
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(
        text.contains("2 → 10 relu → 1 sigmoid · 41 parameters"),
        "{text}"
    );
    assert!(text.contains("300 epochs of sgd"), "{text}");
    // The sparkline and the decision regions with their legend.
    let sparkline = text.lines().find(|l| l.starts_with("loss ")).unwrap();
    assert!(
        sparkline.contains('█') && sparkline.contains('▁'),
        "{sparkline}"
    );
    assert!(
        text.contains("A = outer on ' ', B = inner on '·'"),
        "{text}"
    );
    assert_eq!(text.lines().filter(|l| l.starts_with('│')).count(), 20);

    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    for key in [
        "task",
        "architecture",
        "parameters",
        "epochs",
        "seed",
        "train_seconds",
    ] {
        assert!(
            summary.contains(&format!("\"{key}\":")),
            "{key} missing: {summary}"
        );
    }
    assert!(json_number(&summary, "test_accuracy") >= 0.95, "{summary}");
    assert_eq!(json_number(&summary, "parameters"), 41.0);
    assert!(json_number(&summary, "seconds") >= json_number(&summary, "train_seconds"));
    let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
    assert!(history.starts_with(
        "epoch,lr,train_loss,test_loss,train_accuracy,test_accuracy,grad_norm_1,update_norm_1"
    ));
    assert_eq!(history.lines().count(), 1 + 300);
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn train_sine_draws_its_curve_and_reports_the_noise_floor() {
    let out = temp_folder("sine");
    let output = backprop(&["train", "sine", "--out", out.to_str().unwrap()]);
    assert_success(&output);
    let text = stdout(&output);
    assert!(
        text.contains("1 → 20 tanh → 20 tanh → 1 identity"),
        "{text}"
    );
    assert!(text.contains("σ² = 0.0025"), "{text}");
    assert!(
        text.contains("the network's curve █ over the training points ·"),
        "{text}"
    );
    // Not a terminal: plain progress lines on stderr, the first epoch and every tenth of the run.
    let progress = stderr(&output);
    assert!(
        progress
            .lines()
            .next()
            .unwrap()
            .starts_with("epoch     1/300"),
        "{progress}"
    );
    assert_eq!(progress.lines().count(), 11, "{progress}");

    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(json_number(&summary, "test_mse") < 0.01, "{summary}");
    assert!(json_number(&summary, "test_mse_true") < 0.0025, "{summary}");
    // σ² as the noise flag reads (0.05² = 0.0025), not binary rounding's 0.0025000000000000005.
    assert!(summary.contains("\"noise_floor\": 0.0025,"), "{summary}");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn summary_json_holds_every_setting_and_the_seed_exactly() {
    let out = temp_folder("summary-settings");
    let output = backprop(&[
        "train",
        "sine",
        "--quiet",
        "--epochs",
        "3",
        "--seed",
        "18446744073709551615",
        "--l2",
        "0.001",
        "--clip",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    // 2⁶⁴ − 1 has more digits than an f64 holds: written through one, it would read back as
    // 18446744073709552000.
    for line in [
        "\"seed\": 18446744073709551615,",
        "\"hidden\": [20, 20],",
        "\"activation\": \"tanh\",",
        "\"schedule\": \"exponential\",",
        "\"lr_decay\": 0.99,",
        "\"l2\": 0.001,",
        "\"dropout\": 0,",
        "\"batch_norm\": false,",
        "\"clip\": 2,",
        "\"test_fraction\": 0.2,",
        "\"samples\": 500,",
        "\"noise\": 0.05,",
    ] {
        assert!(summary.contains(line), "missing {line} in {summary}");
    }
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn xor_trains_and_is_judged_on_its_four_points() {
    let out = temp_folder("xor");
    let output = backprop(&["train", "xor", "--quiet", "--out", out.to_str().unwrap()]);
    assert_success(&output);
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(json_number(&summary, "test_accuracy"), 1.0, "{summary}");
    assert_eq!(json_number(&summary, "epochs"), 50.0, "{summary}");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_saved_model_predicts_rows_and_csv_files() {
    let out = temp_folder("predict");
    let model = out.join("iris.txt");
    let output = backprop(&[
        "train",
        "iris",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--save",
        model.to_str().unwrap(),
    ]);
    assert_success(&output);
    assert!(std::fs::read_to_string(&model)
        .unwrap()
        .starts_with("backprop-model 2\n"));

    // A row may start with a minus sign without being taken for a flag.
    let output = backprop(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "-5.1,3.5,1.4,0.2",
    ]);
    assert_success(&output);
    let output = backprop(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "5.1,3.5,1.4,0.2",
    ]);
    assert_success(&output);
    assert!(
        stdout(&output).starts_with("setosa (probability 0."),
        "{}",
        stdout(&output)
    );

    // With the target column: it is copied beside the prediction.
    let iris = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/iris.csv");
    let output = backprop(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        iris.to_str().unwrap(),
    ]);
    assert_success(&output);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "prediction,probability,target");
    assert_eq!(lines.len(), 151);
    let right = lines[1..]
        .iter()
        .filter(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[0] == f[2]
        })
        .count();
    assert!(right >= 135, "{right} of 150 right");

    // Without it: features only.
    let rows = out.join("rows.csv");
    std::fs::write(&rows, "a,b,c,d\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n").unwrap();
    let output = backprop(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--data",
        rows.to_str().unwrap(),
    ]);
    assert_success(&output);
    let text = stdout(&output);
    assert_eq!(text.lines().next(), Some("prediction,probability"));
    assert_eq!(text.lines().count(), 3);
    assert!(
        text.lines().nth(1).unwrap().starts_with("setosa,"),
        "{text}"
    );
    assert!(
        text.lines().nth(2).unwrap().starts_with("virginica,"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn compare_prints_a_row_per_variant_and_writes_the_curves() {
    let out = temp_folder("compare");
    let output = backprop(&[
        "compare",
        "depths",
        "--epochs",
        "30",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    let text = stdout(&output);
    for row in ["hidden 10 ", "hidden 10,10 ", "hidden 10,10,10 "] {
        assert!(
            text.lines().any(|l| l.starts_with(row)),
            "{row} missing: {text}"
        );
    }
    let curves = std::fs::read_to_string(out.join("depths.csv")).unwrap();
    assert_eq!(curves.lines().count(), 1 + 3 * 30);
    let summary = std::fs::read_to_string(out.join("depths_summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 3);
    assert!(summary.contains("\"hidden 10,10\""), "{summary}");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn help_lists_every_command_and_every_flag_with_its_default() {
    for words in [&["help"][..], &["--help"], &["-h"]] {
        let output = backprop(words);
        assert_success(&output);
        for command in ["train", "compare", "predict", "help", "version"] {
            assert!(
                stdout(&output).contains(&format!("  {command} ")),
                "{command} missing"
            );
        }
    }
    let pages: [(&[&str], &[backprop::cli::args::Flag]); 5] = [
        (&["train", "--help"], backprop::cli::train::FLAGS),
        (&["help", "train"], backprop::cli::train::FLAGS),
        (&["predict", "--help"], backprop::cli::predict::FLAGS),
        (&["compare", "--help"], backprop::cli::compare::FLAGS),
        (&["help", "compare"], backprop::cli::compare::FLAGS),
    ];
    for (words, flags) in pages {
        let output = backprop(words);
        assert_success(&output);
        let text = stdout(&output);
        for flag in flags {
            // The flag's line and its continuation lines (a long help wraps under its text).
            let lines: Vec<&str> = text.lines().collect();
            let at = lines
                .iter()
                .position(|l| l.trim_start().starts_with(flag.name))
                .unwrap_or_else(|| panic!("{} missing from {words:?}", flag.name));
            let continued = lines[at + 1..]
                .iter()
                .take_while(|l| l.starts_with("      ") && !l.trim().is_empty())
                .map(|l| l.trim());
            let line = std::iter::once(lines[at].trim_end())
                .chain(continued)
                .collect::<Vec<_>>()
                .join(" ");
            assert!(line.contains(flag.help), "{line}");
            if !flag.default.is_empty() {
                assert!(
                    line.contains(&format!("[default: {}]", flag.default)),
                    "{line}"
                );
            }
        }
    }
    let text = stdout(&backprop(&["train", "--help"]));
    for task in backprop::tasks::names() {
        assert!(
            text.contains(&format!("  {task} ")),
            "{task} missing from train --help"
        );
    }
}

#[test]
fn version_prints_the_crate_version() {
    for flag in ["--version", "version", "-V"] {
        let output = backprop(&[flag]);
        assert_success(&output);
        assert_eq!(
            stdout(&output),
            format!("backprop {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn mistakes_get_one_line_with_the_fix_and_exit_code_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["trian"], "unknown command 'trian'; did you mean 'train'?"),
        (
            &["train", "circle"],
            "unknown task 'circle'; did you mean 'circles'?",
        ),
        (
            &["train", "circles", "--lrr", "0.1"],
            "unknown flag '--lrr' for 'train'; did you mean '--lr'?",
        ),
        (
            &["train", "circles", "--lr", "abc"],
            "--lr: 'abc' is not a number",
        ),
        (
            &["train", "circles", "--lr", "-1"],
            "--lr: -1 is out of range; expected a learning rate greater than 0",
        ),
        (
            &["train", "circles", "--activation", "rellu"],
            "--activation: unknown name 'rellu'; did you mean 'relu'?",
        ),
        (
            &["train", "circles", "--optimizer", "adma"],
            "--optimizer: unknown name 'adma'; did you mean 'adam'?",
        ),
        (
            &["train", "circles", "--epochs"],
            "--epochs needs a value (N) after it",
        ),
        (
            &["train", "circles", "--hidden", "10,x"],
            "--hidden: 'x' in '10,x' is not a layer size; write sizes like 10 or 20,20",
        ),
        (
            &["train", "circles", "--dropout", "1"],
            "--dropout: 1 is out of range; expected a rate in [0, 1)",
        ),
        (
            &["train", "circles", "sine"],
            "train takes one task or CSV file, got 2: circles sine",
        ),
        (
            &["train", "no/such/file.csv"],
            "cannot read no/such/file.csv: no such file",
        ),
        (
            &["compare", "activation"],
            "unknown study 'activation'; did you mean 'activations'?",
        ),
        (
            &["compare", "depths", "--task", "moon"],
            "unknown task 'moon'; did you mean 'moons'?",
        ),
        (
            &["predict", "1,2"],
            "predict needs --model FILE (a model written by 'train --save FILE')",
        ),
        (
            &["predict", "--model", "no/such/model.txt", "1,2"],
            "cannot read the model no/such/model.txt: no such file",
        ),
        (
            &["help", "trainn"],
            "unknown command 'trainn'; did you mean 'train'?",
        ),
        (
            &["train", "xor", "--quiet", "--save", "no/such/folder/m.txt"],
            "--save: the folder no/such/folder does not exist; create it or save elsewhere",
        ),
    ];
    for (words, message) in cases {
        let output = backprop(words);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{words:?}: {}",
            stderr(&output)
        );
        assert_eq!(stderr(&output), format!("error: {message}\n"), "{words:?}");
        assert!(
            stdout(&output).is_empty(),
            "{words:?} printed {}",
            stdout(&output)
        );
    }
}

#[test]
fn a_damaged_model_or_wrong_input_width_is_an_input_error() {
    let out = temp_folder("damaged");
    let model = out.join("model.txt");
    std::fs::write(&model, "backprop-model 1\ntask toy\n").unwrap();
    let output = backprop(&["predict", "--model", model.to_str().unwrap(), "1,2"]);
    assert_eq!(output.status.code(), Some(2));
    let expected = format!(
        "error: {} line 3: the file ends where a 'target' line should follow; it is truncated\n",
        model.display()
    );
    assert_eq!(stderr(&output), expected);

    let trained = out.join("circles.txt");
    let output = backprop(&[
        "train",
        "circles",
        "--epochs",
        "5",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--save",
        trained.to_str().unwrap(),
    ]);
    assert_success(&output);
    let output = backprop(&["predict", "--model", trained.to_str().unwrap(), "1,2,3"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: the input '1,2,3' has 3 values; the model takes 2, separated by commas\n"
    );
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn train_without_a_task_runs_the_three_examples() {
    let folder = temp_folder("examples");
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["train", "--quiet"])
        .current_dir(&folder)
        .output()
        .unwrap();
    assert_success(&output);
    let text = stdout(&output);
    for heading in [
        "── example 1 of 3: train circles ──",
        "── example 2 of 3: train sine ──",
        "── example 3 of 3: compare activations on circles ──",
    ] {
        assert!(text.contains(heading), "{heading} missing: {text}");
    }
    assert!(text.lines().any(|l| l.starts_with("identity ")), "{text}");
    for file in [
        "out/circles/summary.json",
        "out/sine/summary.json",
        "out/compare/circles/activations.csv",
    ] {
        assert!(folder.join(file).exists(), "{file} missing");
    }
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn every_help_line_fits_in_100_columns() {
    let commands = ["train", "demo", "gradcheck", "compare", "predict", "plot"];
    let mut helps = vec![backprop(&["--help"])];
    helps.extend(commands.iter().map(|c| backprop(&[c, "--help"])));
    for output in &helps {
        assert_success(output);
        for line in stdout(output).lines() {
            assert!(
                line.chars().count() <= 100,
                "{} columns: {line}",
                line.chars().count()
            );
        }
    }
}

#[test]
fn a_batch_as_large_as_the_training_set_is_called_full_batch() {
    let out = temp_folder("full-batch");
    // iris: 150 rows, 30 held out, so 120 training rows.
    let output = backprop(&[
        "train",
        "iris",
        "--quiet",
        "--epochs",
        "2",
        "--batch-size",
        "120",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    let text = stdout(&output);
    assert!(text.contains(", full batch,"), "{text}");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn flag_help_names_every_activation_and_optimizer_there_is() {
    // The flag tables are constants, so their lists are spelt out; this keeps them complete.
    let tables = [
        backprop::cli::train::FLAGS,
        backprop::cli::gradcheck::FLAGS,
        backprop::cli::demo::FLAGS,
    ];
    for flags in tables {
        for flag in flags {
            let names: &[&str] = match flag.name {
                "--activation" => &backprop::activation::Activation::HIDDEN_NAMES,
                "--optimizer" => &backprop::optim::Rule::NAMES,
                _ => continue,
            };
            for name in names {
                assert!(
                    flag.help.contains(name),
                    "{} lacks {name}: {}",
                    flag.name,
                    flag.help
                );
            }
        }
    }
}
