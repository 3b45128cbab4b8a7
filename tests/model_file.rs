//! Model files: a saved network loads back exactly, and every kind of damaged file is reported
//! as an input error that names the file and the line.

use backprop::error::Error;
use backprop::model_file::{Model, Prediction};
use backprop::run::{self, RunOptions};
use backprop::tasks;
use std::ops::ControlFlow;

/// A short run of `task` with `change` applied to its defaults, as a model.
fn trained(task: &str, change: impl Fn(&mut RunOptions)) -> (Model, run::Run) {
    let mut options = RunOptions::for_task(&tasks::find(task).unwrap());
    options.epochs = options.epochs.min(20);
    change(&mut options);
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).unwrap();
    (Model::from_run(&run), run)
}

/// Checks text → model → text is the identity and that predictions are bit for bit the same.
fn assert_round_trip(model: &Model, run: &run::Run) {
    let text = model.to_text();
    let mut loaded = Model::parse(&text, "model.txt").unwrap();
    assert_eq!(
        loaded.to_text(),
        text,
        "save → load → save changed the text"
    );

    // The test rows are already standardised: undo that to get raw inputs, as predict sees them.
    let raw = match &run.data.standardizer {
        None => run.data.test.x.clone(),
        Some(s) => {
            let mut x = run.data.test.x.clone();
            for i in 0..x.rows() {
                for (j, v) in x.row_mut(i).iter_mut().enumerate() {
                    *v = *v * s.std_dev[j] + s.mean[j];
                }
            }
            x
        }
    };
    let mut original = model.clone();
    let expected = original.predict(&raw);
    let got = loaded.predict(&raw);
    let bits = |m: &backprop::matrix::Matrix| -> Vec<u64> {
        m.as_slice().iter().map(|v| v.to_bits()).collect()
    };
    assert_eq!(
        bits(&got),
        bits(&expected),
        "predictions differ after loading"
    );
}

#[test]
fn a_binary_classifier_round_trips_exactly() {
    let (model, run) = trained("circles", |_| {});
    assert_round_trip(&model, &run);
    assert_eq!(model.class_names, ["outer", "inner"]);
}

#[test]
fn batch_norm_dropout_and_leaky_relu_round_trip_exactly() {
    let (model, run) = trained("moons", |o| {
        o.batch_norm = true;
        o.dropout = 0.2;
        o.hidden = vec![8, 6];
        o.activation = backprop::activation::Activation::LeakyRelu { slope: 0.05 };
    });
    let text = model.to_text();
    assert!(text.contains("batch_norm 8") && text.contains("running_var "));
    assert!(text.contains("dropout 0.2") && text.contains("leaky_relu 0.05"));
    assert_round_trip(&model, &run);
}

#[test]
fn a_standardised_multiclass_model_round_trips_exactly() {
    let (model, run) = trained("iris", |_| {});
    assert!(model.standardizer.is_some());
    assert_round_trip(&model, &run);
}

#[test]
fn a_regression_model_round_trips_exactly() {
    let (model, run) = trained("sine", |_| {});
    assert_round_trip(&model, &run);
}

#[test]
fn a_saved_file_loads_back_and_predicts_a_named_class() {
    let (model, _) = trained("iris", |o| o.epochs = 100);
    let path = std::env::temp_dir().join(format!("backprop-model-{}.txt", std::process::id()));
    model.save(&path).unwrap();
    let mut loaded = Model::load(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let x = backprop::matrix::Matrix::from_rows(&[[5.1, 3.5, 1.4, 0.2]]);
    let y_hat = loaded.predict(&x);
    match &loaded.interpret(&y_hat)[0] {
        Prediction::Class {
            name, probability, ..
        } => {
            assert_eq!(name, "setosa");
            assert!(*probability > 0.5 && *probability <= 1.0);
        }
        other => panic!("expected a class, got {other:?}"),
    }
}

/// A small valid model file, edited by the error tests below.
const GOOD: &str = "backprop-model 2
task toy
target binary
class no
class yes
feature a
feature b
standardize yes
mean 0.5 -1
std 2 0.25
standardize_target no
layers 4
layer 1 dense 2 3
W 0.1 0.2 0.3
W -0.1 -0.2 -0.3
b 0 0 0.5
layer 2 tanh
layer 3 dense 3 1
W 1
W -1
W 0.5
b 0.25
layer 4 sigmoid
end
";

/// The same model as written by version 1 of the format, before the target's statistics.
const GOOD_VERSION_1: &str = "backprop-model 1
task toy
target binary
class no
class yes
feature a
feature b
standardize yes
mean 0.5 -1
std 2 0.25
layers 4
layer 1 dense 2 3
W 0.1 0.2 0.3
W -0.1 -0.2 -0.3
b 0 0 0.5
layer 2 tanh
layer 3 dense 3 1
W 1
W -1
W 0.5
b 0.25
layer 4 sigmoid
end
";

/// The error for `text`, which must be an input error naming the file and `line`.
fn error_for(text: &str, line: usize) -> String {
    match Model::parse(text, "bad.txt") {
        Err(Error::Input(message)) => {
            assert!(
                message.starts_with(&format!("bad.txt line {line}: ")),
                "expected line {line}: {message}"
            );
            message
        }
        Err(other) => panic!("expected an input error, got {other:?}"),
        Ok(_) => panic!("a damaged file loaded:\n{text}"),
    }
}

#[test]
fn the_example_file_is_valid_and_canonical() {
    let model = Model::parse(GOOD, "good.txt").unwrap();
    assert_eq!(model.to_text(), GOOD);
    assert_eq!(
        model.network.description(),
        "2 → 3 tanh → 1 sigmoid · 13 parameters"
    );
}

#[test]
fn a_version_1_file_loads_and_saves_as_version_2() {
    let mut old = Model::parse(GOOD_VERSION_1, "old.txt").unwrap();
    assert!(old.target_standardizer.is_none());
    assert_eq!(old.to_text(), GOOD);
    let mut new = Model::parse(GOOD, "new.txt").unwrap();
    let x = backprop::matrix::Matrix::from_rows(&[[0.5, -1.0], [4.0, 2.0]]);
    assert_eq!(old.predict(&x), new.predict(&x));
}

/// A regression model of version 2 whose target was standardised: one input, the identity.
const REGRESSION: &str = "backprop-model 2
task prices
target regression
feature size
standardize yes
mean 80
std 20
standardize_target yes
target_mean 300
target_std 50
layers 2
layer 1 dense 1 1
W 0.5
b 0.25
layer 2 identity
end
";

#[test]
fn a_standardised_target_is_predicted_in_its_own_units() {
    let mut model = Model::parse(REGRESSION, "prices.txt").unwrap();
    assert_eq!(model.to_text(), REGRESSION);
    // size 120: x′ = (120 − 80)/20 = 2, ŷ′ = 0.5·2 + 0.25 = 1.25, ŷ = 300 + 50·1.25 = 362.5.
    let y_hat = model.predict(&backprop::matrix::Matrix::from_rows(&[[120.0], [80.0]]));
    assert_eq!(y_hat.as_slice(), [362.5, 312.5]);
    assert_eq!(model.interpret(&y_hat)[0], Prediction::Value(362.5));
    // Version 1 has no such lines: the same network answers in its own units, ŷ′.
    let old = REGRESSION
        .replace("backprop-model 2", "backprop-model 1")
        .replace(
            "standardize_target yes\ntarget_mean 300\ntarget_std 50\n",
            "",
        );
    let mut old = Model::parse(&old, "old.txt").unwrap();
    let y_hat = old.predict(&backprop::matrix::Matrix::from_rows(&[[120.0]]));
    assert_eq!(y_hat.as_slice(), [1.25]);
}

#[test]
fn the_target_statistics_are_checked() {
    let message = error_for(&REGRESSION.replace("target_std 50", "target_std 0"), 10);
    assert!(message.contains("greater than 0"), "{message}");
    let message = error_for(&REGRESSION.replace("target_std 50", "target_std 50 2"), 10);
    assert!(message.contains("has 2 numbers; expected 1"), "{message}");
    let message = error_for(&REGRESSION.replace("target_mean 300", "target_mean"), 9);
    assert!(
        message.contains("the target_mean line has no numbers"),
        "{message}"
    );
    // Two target means, but one output: named at the end of the layers, with the line of the means.
    let message = error_for(
        &REGRESSION
            .replace("target_mean 300", "target_mean 300 1")
            .replace("target_std 50", "target_std 50 1"),
        15,
    );
    assert!(
        message.contains("1 outputs but the 2 numbers of the target_mean line (line 9)"),
        "{message}"
    );
    // A version 2 file must say whether its target was standardised; a classifier's was not.
    let message = error_for(&GOOD.replace("standardize_target no\n", ""), 11);
    assert!(
        message.contains("expected a 'standardize_target' line"),
        "{message}"
    );
    let message = error_for(
        &GOOD.replace(
            "standardize_target no",
            "standardize_target yes\ntarget_mean 1\ntarget_std 1",
        ),
        11,
    );
    assert!(message.contains("for a regression only"), "{message}");
}

#[test]
fn a_csv_regression_model_answers_in_the_targets_units() {
    // y = 200 + 30·a − 10·b: a linear target in the hundreds, standardised for training.
    let dir = std::env::temp_dir().join(format!("backprop-model-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("linear.csv");
    let mut text = String::from("a,b,y\n");
    for i in 0..200 {
        let (a, b) = ((i % 17) as f64 * 0.5, (i % 11) as f64 - 5.0);
        text.push_str(&format!("{a},{b},{}\n", 200.0 + 30.0 * a - 10.0 * b));
    }
    std::fs::write(&path, text).unwrap();
    let options = RunOptions::for_csv(path);
    let run = run::execute(&options, |_, _| ControlFlow::Continue(())).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let mut model = Model::from_run(&run);
    // The test rows' targets, brought back from their standardised form, are the file's.
    let target = model
        .target_standardizer
        .clone()
        .expect("a standardised target");
    let inputs = model.standardizer.clone().expect("standardised inputs");
    let (x, y) = (
        inputs.invert(&run.data.test.x),
        target.invert(&run.data.test.y),
    );
    for i in 0..x.rows() {
        let expected = 200.0 + 30.0 * x[(i, 0)] - 10.0 * x[(i, 1)];
        assert!(
            (y[(i, 0)] - expected).abs() < 1e-9,
            "row {i}: {} {expected}",
            y[(i, 0)]
        );
    }
    assert_round_trip(&model, &run);
    // In the target's units: a = 4, b = 0 is 320.
    let y_hat = model.predict(&backprop::matrix::Matrix::from_rows(&[[4.0, 0.0]]));
    assert!((y_hat[(0, 0)] - 320.0).abs() < 10.0, "{y_hat:?}");
}

#[test]
fn a_missing_file_is_an_input_error_naming_it() {
    let error = Model::load(std::path::Path::new("no/such/model.txt")).unwrap_err();
    assert_eq!(
        error,
        Error::Input("cannot read the model no/such/model.txt: no such file".to_string())
    );
}

#[test]
fn another_format_or_version_is_refused() {
    let message = error_for(&GOOD.replace("backprop-model 2", "backprop-model 3"), 1);
    assert!(
        message.contains("version 3 is not supported; this program reads versions 1 and 2"),
        "{message}"
    );
    let message = error_for(&GOOD.replace("backprop-model 2", "hello"), 1);
    assert!(message.contains("not a backprop model file"), "{message}");
    error_for("", 1);
}

#[test]
fn a_truncated_file_names_the_line_where_it_ends() {
    let lines: Vec<&str> = GOOD.lines().collect();
    for keep in [3, 5, 7, 9, 10, 11, 15, 21, 23] {
        let text = lines[..keep].join("\n");
        let message = error_for(&text, keep + 1);
        assert!(message.contains("truncated"), "{message}");
    }
}

#[test]
fn a_value_that_is_not_a_number_is_named() {
    let message = error_for(&GOOD.replace("W -0.1 -0.2 -0.3", "W -0.1 x -0.3"), 15);
    assert!(
        message.contains("'x' in the W line is not a finite number"),
        "{message}"
    );
    let message = error_for(&GOOD.replace("mean 0.5 -1", "mean 0.5 NaN"), 9);
    assert!(message.contains("not a finite number"), "{message}");
}

#[test]
fn shapes_that_do_not_fit_are_refused() {
    // A row of W with a missing number.
    let message = error_for(&GOOD.replace("W 0.1 0.2 0.3", "W 0.1 0.2"), 14);
    assert!(message.contains("has 2 numbers; expected 3"), "{message}");
    // A layer that takes a different number of inputs than the one before gives.
    let message = error_for(&GOOD.replace("layer 3 dense 3 1", "layer 3 dense 4 1"), 18);
    assert!(
        message.contains("takes 4 inputs but receives 3"),
        "{message}"
    );
    // Standardisation statistics for the wrong number of features.
    let message = error_for(&GOOD.replace("std 2 0.25", "std 2"), 10);
    assert!(message.contains("expected 2"), "{message}");
    // Two classes need one output.
    let message = error_for(&GOOD.replace("class yes\n", "class yes\nclass maybe\n"), 3);
    assert!(
        message.contains("does not fit the 3 class lines"),
        "{message}"
    );
}

#[test]
fn unknown_or_misplaced_lines_are_refused() {
    let message = error_for(&GOOD.replace("layer 2 tanh", "layer 2 tanhh"), 17);
    assert!(message.contains("unknown layer kind 'tanhh'"), "{message}");
    // One spelling per activation: the aliases the command line takes are not model lines.
    let message = error_for(&GOOD.replace("layer 2 tanh", "layer 2 linear"), 17);
    assert!(message.contains("unknown layer kind 'linear'"), "{message}");
    let message = error_for(&GOOD.replace("layer 2 tanh", "layer 5 tanh"), 17);
    assert!(message.contains("expected 'layer 2"), "{message}");
    let message = error_for(&GOOD.replace("standardize yes", "standardize maybe"), 8);
    assert!(message.contains("standardize yes' or"), "{message}");
    let message = error_for(
        &GOOD.replace("standardize_target no", "standardize_target 1"),
        11,
    );
    assert!(message.contains("'standardize_target yes' or"), "{message}");
    let message = error_for(&format!("{GOOD}more\n"), 25);
    assert!(message.contains("after 'end'"), "{message}");
    let message = error_for(&GOOD.replace("end\n", "fin\n"), 24);
    assert!(message.contains("expected 'end'"), "{message}");
    let message = error_for(&GOOD.replace("std 2 0.25", "std 2 0"), 10);
    assert!(message.contains("greater than 0"), "{message}");
}
