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
const GOOD: &str = "backprop-model 1
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
fn a_missing_file_is_an_input_error_naming_it() {
    let error = Model::load(std::path::Path::new("no/such/model.txt")).unwrap_err();
    assert_eq!(
        error,
        Error::Input("cannot read the model no/such/model.txt: no such file".to_string())
    );
}

#[test]
fn another_format_or_version_is_refused() {
    let message = error_for(&GOOD.replace("backprop-model 1", "backprop-model 2"), 1);
    assert!(message.contains("version 2 is not supported"), "{message}");
    let message = error_for(&GOOD.replace("backprop-model 1", "hello"), 1);
    assert!(message.contains("not a backprop model file"), "{message}");
    error_for("", 1);
}

#[test]
fn a_truncated_file_names_the_line_where_it_ends() {
    let lines: Vec<&str> = GOOD.lines().collect();
    for keep in [3, 5, 7, 9, 14, 20, 22] {
        let text = lines[..keep].join("\n");
        let message = error_for(&text, keep + 1);
        assert!(message.contains("truncated"), "{message}");
    }
}

#[test]
fn a_value_that_is_not_a_number_is_named() {
    let message = error_for(&GOOD.replace("W -0.1 -0.2 -0.3", "W -0.1 x -0.3"), 14);
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
    let message = error_for(&GOOD.replace("W 0.1 0.2 0.3", "W 0.1 0.2"), 13);
    assert!(message.contains("has 2 numbers; expected 3"), "{message}");
    // A layer that takes a different number of inputs than the one before gives.
    let message = error_for(&GOOD.replace("layer 3 dense 3 1", "layer 3 dense 4 1"), 17);
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
    let message = error_for(&GOOD.replace("layer 2 tanh", "layer 2 tanhh"), 16);
    assert!(message.contains("unknown layer kind 'tanhh'"), "{message}");
    let message = error_for(&GOOD.replace("layer 2 tanh", "layer 5 tanh"), 16);
    assert!(message.contains("expected 'layer 2"), "{message}");
    let message = error_for(&GOOD.replace("standardize yes", "standardize maybe"), 8);
    assert!(message.contains("standardize yes' or"), "{message}");
    let message = error_for(&format!("{GOOD}more\n"), 24);
    assert!(message.contains("after 'end'"), "{message}");
    let message = error_for(&GOOD.replace("end\n", "fin\n"), 23);
    assert!(message.contains("expected 'end'"), "{message}");
    let message = error_for(&GOOD.replace("std 2 0.25", "std 2 0"), 10);
    assert!(message.contains("greater than 0"), "{message}");
}
