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
        "epoch,lr,train_loss,test_loss,train_accuracy,test_accuracy,\
         grad_norm_1,update_norm_1,weight_norm_1,grad_norm_2,update_norm_2,weight_norm_2\n"
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
    // The row written with spaces: four rows of one value, each refused, with the fix.
    let output = backprop(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "5.1",
        "3.5",
        "1.4",
        "0.2",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: the input '5.1' has 1 value; the model takes 4 values in one row, separated by commas: write 5.1,3.5,1.4,0.2\n"
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
        (
            &["train", "circles", "--learning-rate", "0.1"],
            "unknown flag '--learning-rate' for 'train'; did you mean '--lr'?",
        ),
        (
            &["train", "circles", "--batch", "10"],
            "unknown flag '--batch' for 'train'; did you mean '--batch-size'?",
        ),
        (
            &["train", "circles", "--layers", "10"],
            "unknown flag '--layers' for 'train'; did you mean '--hidden'?",
        ),
        (
            &["train", "circles", "--hidden", ""],
            "--hidden: the list of layer sizes is empty; write sizes like 10 or 20,20, or none for no hidden layer",
        ),
        (
            &["train", "iris.csv"],
            "cannot read iris.csv: no such file; the task 'iris' needs no file: write 'backprop train iris'",
        ),
        (
            &["train", "circles", "--out", ""],
            "--out: the folder name is empty; give a folder such as out/run, or . for this one",
        ),
        (
            &["compare", "depths", "--data", "moons"],
            "unknown flag '--data' for 'compare'; did you mean '--task'?",
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
        "error: the input '1,2,3' has 3 values; the model takes 2 values, separated by commas\n"
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

/// The text after `"key": ` in a pretty-printed summary.json, without the trailing comma.
fn json_text<'a>(summary: &'a str, key: &str) -> &'a str {
    summary
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(&format!("\"{key}\": ")))
        .map(|v| v.trim_end_matches(','))
        .unwrap_or_else(|| panic!("no '{key}' in {summary}"))
}

/// `backprop ARGS` run inside `folder`.
fn backprop_in(folder: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .current_dir(folder)
        .output()
        .expect("the backprop binary runs")
}

/// The names of the files in `folder`, sorted.
fn file_names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_run_folder_describes_its_last_run_and_keeps_the_users_files() {
    // `--out .` in a folder of the user's: their files stay, the crate's describe the last run.
    let folder = temp_folder("one-run-one-folder");
    std::fs::write(folder.join("notes.txt"), "my notes").unwrap();
    std::fs::write(folder.join("my-figure.svg"), "<svg/>").unwrap();
    // The temporary file of a write that a stopped run left half done.
    std::fs::write(folder.join(".summary.json.99999.tmp"), "{").unwrap();
    let users = ["my-figure.svg", "notes.txt"];
    let crate_files = |folder: &Path| -> Vec<String> {
        file_names(folder)
            .into_iter()
            .filter(|n| !users.contains(&n.as_str()))
            .collect()
    };

    let output = backprop_in(
        &folder,
        &[
            "train", "circles", "--epochs", "20", "--quiet", "--out", ".",
        ],
    );
    assert_success(&output);
    let written = crate_files(&folder);
    assert!(
        written.contains(&"decision-boundary.svg".to_string()),
        "{written:?}"
    );
    for name in &written {
        assert!(
            backprop::files::RUN_FILES.contains(&name.as_str()),
            "train wrote {name}, which a later run would not remove: add it to files::RUN_FILES"
        );
    }

    let output = backprop_in(
        &folder,
        &["train", "sine", "--epochs", "20", "--quiet", "--out", "."],
    );
    assert_success(&output);
    let written = crate_files(&folder);
    assert!(written.contains(&"sine-fit.svg".to_string()), "{written:?}");
    assert!(
        !written.contains(&"decision-boundary.svg".to_string()),
        "circles' picture outlived its run: {written:?}"
    );
    for name in &written {
        assert!(
            backprop::files::RUN_FILES.contains(&name.as_str()),
            "{name}"
        );
    }

    // A diverged run: every file describes it, up to the divergence.
    let output = backprop_in(
        &folder,
        &[
            "train",
            "sine",
            "--optimizer",
            "sgd",
            "--lr",
            "50",
            "--quiet",
            "--out",
            ".",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the run up to then is in ."),
        "{}",
        stderr(&output)
    );
    let summary = std::fs::read_to_string(folder.join("summary.json")).unwrap();
    assert_eq!(json_text(&summary, "diverged"), "true");
    assert_eq!(json_text(&summary, "optimizer"), "\"sgd\"");
    assert_eq!(json_text(&summary, "epochs"), "300");
    assert_eq!(json_text(&summary, "test_mse"), "null");
    let completed: usize = json_text(&summary, "epochs_completed").parse().unwrap();
    let epoch: usize = json_text(&summary, "epoch").parse().unwrap();
    assert_eq!(epoch, completed + 1, "{summary}");
    assert!(json_text(&summary, "culprit").len() > 2, "{summary}");
    let history = std::fs::read_to_string(folder.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 1 + completed);
    for file in [
        "learning-curves.svg",
        "gradient-flow.svg",
        "sine-fit.svg",
        "index.html",
    ] {
        assert!(
            folder.join(file).exists(),
            "{file} missing after divergence"
        );
    }
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(
        html.contains("<th>diverged</th>"),
        "the page does not say it diverged"
    );
    assert!(html.contains(&format!("<td>{completed} of 300</td>")));

    assert_eq!(
        std::fs::read_to_string(folder.join("notes.txt")).unwrap(),
        "my notes"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("my-figure.svg")).unwrap(),
        "<svg/>"
    );
    assert!(!folder.join(".summary.json.99999.tmp").exists());
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn the_html_report_shows_the_trained_networks_loss_and_names_the_running_one() {
    let out = temp_folder("html-losses");
    let output = backprop(&[
        "train",
        "circles",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    for key in ["train_loss", "test_loss", "train_accuracy", "test_accuracy"] {
        let row = format!(
            "<tr><th>{}</th><td>{:.4}</td></tr>",
            key.replace('_', " "),
            json_number(&summary, key)
        );
        assert!(html.contains(&row), "{row} missing");
        // The same number stdout prints.
        let printed = format!("{:.4}", json_number(&summary, key));
        assert!(stdout(&output).contains(&printed), "{printed}");
    }
    let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
    let running: f64 = history
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    // Two different numbers (the weights moved during the last epoch), so each needs its name.
    assert_ne!(running, json_number(&summary, "train_loss"));
    assert!(
        html.contains(&format!(
            "<tr><th>running train loss in epoch 300</th><td>{running:.4} (the mean"
        )),
        "the running loss is not labelled as such"
    );
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_users_lr_is_constant_unless_a_decay_is_asked_for_too() {
    let out = temp_folder("lr-rule");
    let run = |extra: &[&str]| -> (String, String, String) {
        let mut args = vec![
            "train",
            "sine",
            "--epochs",
            "3",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let output = backprop(&args);
        assert_success(&output);
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
        let lrs: Vec<&str> = history
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        (
            format!(
                "{} {}",
                json_text(&summary, "schedule"),
                json_text(&summary, "lr_decay")
            ),
            lrs.join(" "),
            stdout(&output)
                .lines()
                .find(|l| l.starts_with("training"))
                .unwrap()
                .to_string(),
        )
    };
    // The task's η comes with the task's decay, and the summary says where η ended.
    let (schedule, lrs, line) = run(&[]);
    assert_eq!(schedule, "\"exponential\" 0.99");
    assert_eq!(lrs, "0.01 0.0099 0.009801");
    assert!(
        line.contains("(η = 0.01 × 0.99 per epoch, 0.0098 in epoch 3)"),
        "{line}"
    );
    // Your η is yours, every epoch.
    let (schedule, lrs, line) = run(&["--lr", "0.003"]);
    assert_eq!(schedule, "\"constant\" null");
    assert_eq!(lrs, "0.003 0.003 0.003");
    assert!(line.contains("(η = 0.003)"), "{line}");
    // Unless you ask for a decay.
    let (schedule, lrs, _) = run(&["--lr", "0.003", "--lr-decay", "0.5"]);
    assert_eq!(schedule, "\"exponential\" 0.5");
    assert_eq!(lrs, "0.003 0.0015 0.00075");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_shipped_datasets_path_is_its_task_and_any_other_csv_is_named_by_its_file() {
    let folder = temp_folder("csv-names");
    let iris = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/iris.csv");
    let by_path = backprop_in(
        &folder,
        &["train", iris.to_str().unwrap(), "--quiet", "--epochs", "5"],
    );
    assert_success(&by_path);
    assert!(
        stdout(&by_path).starts_with("task        iris\n"),
        "{}",
        stdout(&by_path)
    );
    assert!(
        stdout(&by_path).contains("4 → 8 relu → 3 softmax"),
        "{}",
        stdout(&by_path)
    );
    let history_by_path = std::fs::read_to_string(folder.join("out/iris/history.csv")).unwrap();
    let by_name = backprop_in(&folder, &["train", "iris", "--quiet", "--epochs", "5"]);
    assert_success(&by_name);
    let history_by_name = std::fs::read_to_string(folder.join("out/iris/history.csv")).unwrap();
    assert_eq!(history_by_path, history_by_name, "one task, one run");

    // The same rows under another name are a CSV file like any other, filed apart.
    std::fs::copy(&iris, folder.join("mydata.csv")).unwrap();
    let other = backprop_in(
        &folder,
        &["train", "mydata.csv", "--quiet", "--epochs", "5"],
    );
    assert_success(&other);
    let text = stdout(&other);
    assert!(text.starts_with("task        mydata.csv\n"), "{text}");
    assert!(
        text.contains("4 → 16 relu → 3 softmax"),
        "the CSV defaults: {text}"
    );
    assert!(text.contains("files       out/mydata.csv\n"), "{text}");
    let summary = std::fs::read_to_string(folder.join("out/mydata.csv/summary.json")).unwrap();
    assert_eq!(json_text(&summary, "task"), "\"mydata.csv\"");

    // train --help lists the CSV defaults, from the same place the run takes them.
    let help = stdout(&backprop(&["train", "--help"]));
    let csv = backprop::run::RunOptions::for_csv("x.csv".into());
    assert!(
        help.contains("  FILE.csv       any other CSV file"),
        "{help}"
    );
    assert!(
        help.contains(&format!(
            "defaults: hidden {} relu, adam η = {}, {} epochs, batches of {},",
            csv.hidden[0], csv.lr, csv.epochs, csv.batch_size
        )),
        "{help}"
    );
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn hidden_none_is_a_network_without_a_hidden_layer() {
    let out = temp_folder("hidden-none");
    let output = backprop(&[
        "train",
        "circles",
        "--hidden",
        "none",
        "--epochs",
        "5",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    assert!(
        stdout(&output).contains("network     2 → 1 sigmoid · 3 parameters"),
        "{}",
        stdout(&output)
    );
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(json_text(&summary, "hidden"), "[]");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn compare_replaces_its_studys_files_and_leaves_the_others() {
    let out = temp_folder("compare-files");
    std::fs::write(out.join("depths_summary.csv"), "stale").unwrap();
    std::fs::write(out.join("activations.csv"), "another study").unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let output = backprop(&[
        "compare",
        "depths",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    let summary = std::fs::read_to_string(out.join("depths_summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 3, "{summary}");
    assert_eq!(
        std::fs::read_to_string(out.join("activations.csv")).unwrap(),
        "another study"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        file_names(&out),
        [
            "activations.csv",
            "depths.csv",
            "depths_summary.csv",
            "notes.txt"
        ]
    );
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_model_can_be_saved_into_the_output_folder_that_train_makes() {
    let folder = temp_folder("save-into-out");
    let out = folder.join("new").join("run");
    let model = out.join("model.txt");
    let output = backprop(&[
        "train",
        "xor",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--save",
        model.to_str().unwrap(),
    ]);
    assert_success(&output);
    assert!(std::fs::read_to_string(&model)
        .unwrap()
        .starts_with("backprop-model "));
    // The next run into the folder keeps the model: it is the user's file, named by them.
    let output = backprop(&["train", "xor", "--quiet", "--out", out.to_str().unwrap()]);
    assert_success(&output);
    assert!(model.exists());
    let _ = std::fs::remove_dir_all(folder);
}
