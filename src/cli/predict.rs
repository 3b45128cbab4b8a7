//! `backprop predict --model model.txt 0.5,-0.2` or `--data rows.csv`: use a saved network.
//!
//! The model file (see `model_file.rs`) carries the standardisation statistics, so inputs are
//! given raw, in the units of the data the network was trained on, and a regression answers in
//! its target's units (a network trained on a standardised target predicts `ŷ′`; the model gives
//! `μ_y + σ_y·ŷ′`):
//!
//! ```text
//! predict --model m.txt 0.5,-0.2           one line per row given, for a person to read: the
//!                                          class name and its probability, or the predicted
//!                                          value, to 4 decimals
//! predict --model m.txt --data rows.csv    CSV on stdout, one row per input row:
//!                                          prediction,probability[,target]   (classification)
//!                                          prediction[,target]               (regression)
//! ```
//!
//! The input CSV file has a header row; its rows hold the model's features, optionally followed
//! by the target column (as in a training file), which is then copied into the output beside the
//! prediction. The CSV output keeps every digit (round-trip numbers), for a program to read.

use super::args::{self, Flag};
use crate::data::csv::quote;
use crate::error::{Error, Result};
use crate::json::format_number;
use crate::matrix::Matrix;
use crate::model_file::{Model, Prediction};
use crate::text_plot::readable;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// The flags of `predict`.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    Flag { name: "--model", value: "FILE", default: "", help: "the model to use, as written by 'train --save FILE' (required)" },
    Flag { name: "--data", value: "FILE", default: "", help: "a CSV file of rows to predict (header; features, optionally then the target)" },
];

/// The help text of `predict`.
pub fn help_text() -> String {
    args::help(
        "backprop predict --model FILE (ROW… | --data FILE.csv)",
        "Predicts with a saved model. Inputs are raw values in the units of the training data (the\n\
         model applies its own standardisation). Each ROW is one input row of comma-separated\n\
         numbers (x₁,x₂,…); the answer is the class name and its probability, or the value in\n\
         the target's units.\n\
         With --data, writes CSV to stdout: prediction,probability for a classifier or prediction\n\
         for a regression, plus the target column when the file has one.",
        FLAGS,
    )
}

/// Runs `predict` with the words after the command's name.
///
/// # Errors
/// For a missing or malformed model, malformed input rows, or inputs of the wrong width.
pub fn run(words: &[String], stdout: &mut dyn Write, _stderr: &mut dyn Write) -> Result<()> {
    let parsed = args::parse(words, FLAGS, "predict")?;
    if parsed.switch("--help") {
        write!(stdout, "{}", help_text())?;
        return Ok(());
    }
    let model_path = parsed.text("--model").ok_or_else(|| {
        Error::Usage(
            "predict needs --model FILE (a model written by 'train --save FILE')".to_string(),
        )
    })?;
    let mut model = Model::load(Path::new(model_path))?;
    let n_in = model.network.n_in();
    match (parsed.text("--data"), parsed.positionals.is_empty()) {
        (Some(_), false) => Err(Error::Usage(
            "give input rows or --data FILE, not both".to_string(),
        )),
        (None, true) => Err(Error::Usage(format!(
            "predict needs input: {n_in} comma-separated numbers ({}) or --data FILE.csv",
            model.feature_names.join(",")
        ))),
        (None, false) => {
            let x = parse_rows(&parsed.positionals, n_in).map_err(|e| {
                // `predict 5.1 3.5 1.4 0.2`: one row split by spaces, meant as one row.
                let one_each = parsed
                    .positionals
                    .iter()
                    .all(|r| r.trim().parse::<f64>().is_ok_and(f64::is_finite));
                if parsed.positionals.len() == n_in && n_in > 1 && one_each {
                    Error::Usage(format!(
                        "the input '{}' has 1 value; the model takes {n_in} values in one row, separated by commas: write {}",
                        parsed.positionals[0],
                        parsed.positionals.join(",")
                    ))
                } else {
                    e
                }
            })?;
            let y_hat = model.predict(&x);
            for p in model.interpret(&y_hat) {
                match p {
                    Prediction::Class {
                        name, probability, ..
                    } => writeln!(stdout, "{name} (probability {probability:.4})")?,
                    Prediction::Value(v) => writeln!(stdout, "{}", readable(v, 4))?,
                }
            }
            Ok(())
        }
        (Some(data), true) => {
            let (x, targets) = crate::data::csv::load_features(Path::new(data), n_in)?;
            let y_hat = model.predict(&x);
            write!(
                stdout,
                "{}",
                predictions_csv(&model, &y_hat, targets.as_deref())
            )?;
            Ok(())
        }
    }
}

/// Rows like `0.5,-0.2` as a matrix of `n_in` columns.
fn parse_rows(rows: &[String], n_in: usize) -> Result<Matrix> {
    let mut values = Vec::with_capacity(rows.len() * n_in);
    for row in rows {
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        // Numbers first: 'abc' is better answered with "not a number" than with a count.
        for field in &fields {
            match field.parse::<f64>() {
                Ok(v) if v.is_finite() => values.push(v),
                _ => {
                    return Err(Error::Usage(format!(
                        "'{field}' in the input '{row}' is not a finite number"
                    )))
                }
            }
        }
        if fields.len() != n_in {
            let values = |n: usize| format!("{n} value{}", if n == 1 { "" } else { "s" });
            return Err(Error::Usage(format!(
                "the input '{row}' has {}; the model takes {}, separated by commas",
                values(fields.len()),
                values(n_in)
            )));
        }
    }
    Ok(Matrix::from_vec(rows.len(), n_in, values))
}

/// The CSV written by `--data`.
fn predictions_csv(model: &Model, y_hat: &Matrix, targets: Option<&[String]>) -> String {
    let classification = model.target.is_classification();
    let mut t = String::from(if classification {
        "prediction,probability"
    } else {
        "prediction"
    });
    if targets.is_some() {
        t.push_str(",target");
    }
    t.push('\n');
    for (i, p) in model.interpret(y_hat).into_iter().enumerate() {
        match p {
            Prediction::Class {
                name, probability, ..
            } => {
                let _ = write!(t, "{},{}", quote(&name), format_number(probability));
            }
            Prediction::Value(v) => {
                let _ = write!(t, "{}", format_number(v));
            }
        }
        if let Some(targets) = targets {
            let _ = write!(t, ",{}", quote(&targets[i]));
        }
        t.push('\n');
    }
    t
}
