//! `backprop compare <study> [--task circles]`: one task trained once per variant, side by side.
//!
//! The runs themselves are `compare.rs` in the library (a program gets the same histories from
//! [`crate::compare::run_comparison`]); this file prints the table and writes the data:
//!
//! ```text
//! stdout                                  the table: final losses and metrics, epochs to 90 %
//!                                         of gain, seconds
//! out/compare/<task>/<study>.csv          one row per variant and epoch (the curves)
//! out/compare/<task>/<study>_summary.csv  one row per variant (the table)
//! ```
//!
//! A comparison removes its study's two files from an earlier comparison before its first run
//! (and no other file), so the folder never pairs the curves of one comparison with the table
//! of another.

use super::args::{self, Flag};
use crate::activation::Activation;
use crate::compare::{self, Comparison, Study};
use crate::data::csv::quote;
use crate::error::{Error, Result};
use crate::files;
use crate::json::format_number;
use crate::optim::Rule;
use crate::run::RunOptions;
use crate::tasks;
use crate::text_plot::readable;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The flags of `compare`.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    Flag { name: "--task", value: "NAME", default: "circles", help: "the named task every variant trains on" },
    Flag { name: "--seed", value: "N", default: "42", help: "seed of the data, the weights and the batch order (the same for every variant)" },
    Flag { name: "--epochs", value: "N", default: "per task", help: "passes over the training set for every variant" },
    Flag { name: "--out", value: "DIR", default: "out/compare/<task>", help: "folder for <study>.csv and <study>_summary.csv" },
    Flag { name: "--quiet", value: "", default: "", help: "print nothing while training" },
];

/// The help text of `compare`.
pub fn help_text() -> String {
    let about = format!(
        "Trains the same task (same seed, same data) once per variant of one setting and\n\
         prints a table: final train and test loss and metric, the first epoch whose test\n\
         metric had made 90 % of the run's gain from its first epoch ('-' when it\n\
         ended no better), and seconds.\n\n\
         studies:\n  \
         activations      {}\n  \
         learning-rates   the task's η × 0.01, 0.1, 1, 10, 100\n  \
         hidden-sizes     one hidden layer of 5, 10, 20, 50 units\n  \
         depths           1, 2 and 3 hidden layers\n  \
         optimizers       {}",
        Activation::HIDDEN_NAMES.join(", "),
        Rule::NAMES.join(", ")
    );
    args::help(
        "backprop compare activations|learning-rates|hidden-sizes|depths|optimizers [flags]",
        &about,
        FLAGS,
    )
}

/// Runs `compare` with the words after the command's name.
///
/// # Errors
/// For a missing or unknown study or task, a bad flag, or an output folder that cannot be written.
pub fn run(words: &[String], stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<()> {
    let parsed = args::parse(words, FLAGS, "compare")?;
    if parsed.switch("--help") {
        write!(stdout, "{}", help_text())?;
        return Ok(());
    }
    let studies = Study::names();
    let study = match parsed.positionals.as_slice() {
        [name] => Study::from_name(name).ok_or_else(|| {
            args::unknown(
                "study",
                name,
                &studies,
                &format!("choose one of {}", studies.join(", ")),
            )
        })?,
        [] => {
            return Err(Error::Usage(format!(
                "compare needs what to compare: one of {}",
                studies.join(", ")
            )))
        }
        more => {
            return Err(Error::Usage(format!(
                "compare takes one study, got {}: {}",
                more.len(),
                more.join(" ")
            )))
        }
    };
    let task = parsed.text("--task").unwrap_or("circles");
    let spec = tasks::find(task).ok_or_else(|| {
        let names = tasks::names();
        args::unknown(
            "task",
            task,
            &names,
            &format!("the tasks are {}", names.join(", ")),
        )
    })?;
    let mut base = RunOptions::for_task(&spec);
    if let Some(seed) =
        parsed.value::<u64>("--seed", "a whole number from 0 to 18446744073709551615")?
    {
        base.seed = seed;
    }
    if let Some(epochs) = parsed.value::<usize>("--epochs", "a whole number of epochs")? {
        args::require(epochs > 0, "--epochs", epochs, "at least 1")?;
        base.epochs = epochs;
    }
    let out_dir = parsed
        .text("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new("out").join("compare").join(task));
    run_study(
        study,
        &base,
        &out_dir,
        parsed.switch("--quiet"),
        stdout,
        stderr,
    )
}

/// Runs one study around `base`, prints its table and writes its files into `out_dir`.
///
/// # Errors
/// If the folder cannot be written or the data cannot be prepared.
pub fn run_study(
    study: Study,
    base: &RunOptions,
    out_dir: &Path,
    quiet: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<()> {
    files::prepare_folder(out_dir)?;
    let curves = out_dir.join(format!("{}.csv", study.name()));
    let summary = out_dir.join(format!("{}_summary.csv", study.name()));
    // The study's two files from an earlier comparison go before the first run, so the folder
    // never holds one file of that comparison beside one of this (other studies' files stay).
    files::remove_files_named(
        out_dir,
        &[
            &format!("{}.csv", study.name()),
            &format!("{}_summary.csv", study.name()),
        ],
    )?;
    let total = study.variants(base).len();
    let mut progress_error = None;
    let comparison = compare::compare_with(study, base, |i, v| {
        if !quiet {
            if let Err(e) = writeln!(
                stderr,
                "compare {}: {}/{total} {} done in {:.2} s",
                study.name(),
                i + 1,
                v.label,
                v.train_seconds
            ) {
                progress_error = Some(e);
            }
        }
    })?;
    if let Some(e) = progress_error {
        return Err(e.into());
    }
    files::write_atomic(&curves, curves_csv(&comparison).as_bytes())?;
    files::write_atomic(&summary, summary_csv(&comparison).as_bytes())?;
    write!(stdout, "{}", table(&comparison))?;
    writeln!(
        stdout,
        "files       {} and {}",
        curves.display(),
        summary.display()
    )?;
    Ok(())
}

/// The printed table.
pub fn table(c: &Comparison) -> String {
    let metric = c
        .variants
        .first()
        .map_or("metric", |v| v.history.metric.name());
    let width = c
        .variants
        .iter()
        .map(|v| v.label.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut t = format!(
        "compare {} on {} (seed {}, {} epochs each)\n\n",
        c.study.name(),
        c.task,
        c.seed,
        c.variants.first().map_or(0, |v| v.options.epochs)
    );
    let _ = writeln!(
        t,
        "{:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>15}  {:>7}",
        "variant",
        "train loss",
        "test loss",
        format!("train {}", short(metric)),
        format!("test {}", short(metric)),
        "to 90% of gain",
        "seconds"
    );
    for v in &c.variants {
        let label = &v.label;
        if v.history.epochs.is_empty() {
            let _ = writeln!(t, "{label:<width$}  (no epoch completed)");
            continue;
        }
        if let Some(d) = &v.history.divergence {
            let _ = writeln!(
                t,
                "{label:<width$}  diverged in epoch {}: {} became infinite or NaN",
                d.epoch, d.culprit
            );
            continue;
        }
        let (train_loss, train_metric) = v.train_final.unwrap_or((f64::NAN, f64::NAN));
        let (test_loss, test_metric) = v.test_final.unwrap_or((f64::NAN, f64::NAN));
        let _ = writeln!(
            t,
            "{label:<width$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>15}  {:>7.2}",
            readable(train_loss, 4),
            readable(test_loss, 4),
            readable(train_metric, 4),
            readable(test_metric, 4),
            v.epochs_to_90_percent_of_gain()
                .map_or("-".to_string(), |e| e.to_string()),
            v.train_seconds
        );
    }
    t
}

fn short(metric: &str) -> &str {
    if metric == "accuracy" {
        "acc"
    } else {
        metric
    }
}

/// One row per variant and epoch: `variant,epoch,lr,train_loss,test_loss,train_<metric>,test_<metric>`.
pub fn curves_csv(c: &Comparison) -> String {
    let metric = c
        .variants
        .first()
        .map_or("metric", |v| v.history.metric.name());
    let mut t = format!("variant,epoch,lr,train_loss,test_loss,train_{metric},test_{metric}\n");
    for v in &c.variants {
        for e in &v.history.epochs {
            let _ = writeln!(
                t,
                "{},{},{},{},{},{},{}",
                quote(&v.label),
                e.epoch,
                format_number(e.lr),
                format_number(e.train_loss),
                e.test_loss.map_or(String::new(), format_number),
                format_number(e.train_metric),
                e.test_metric.map_or(String::new(), format_number)
            );
        }
    }
    t
}

/// One row per variant: its settings and final numbers.
pub fn summary_csv(c: &Comparison) -> String {
    let metric = c
        .variants
        .first()
        .map_or("metric", |v| v.history.metric.name());
    let mut t = format!(
        "variant,architecture,optimizer,lr,epochs,train_loss,test_loss,train_{metric},test_{metric},epochs_to_90_percent_of_gain,train_seconds,diverged\n"
    );
    for v in &c.variants {
        let number = |x: Option<f64>| x.map_or(String::new(), format_number);
        let _ = writeln!(
            t,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            quote(&v.label),
            quote(&v.architecture),
            v.options.rule.name(),
            format_number(v.options.lr),
            v.history.epochs.len(),
            number(v.train_final.map(|(loss, _)| loss)),
            number(v.test_final.map(|(loss, _)| loss)),
            number(v.train_final.map(|(_, metric)| metric)),
            number(v.test_final.map(|(_, metric)| metric)),
            v.epochs_to_90_percent_of_gain()
                .map_or(String::new(), |e| e.to_string()),
            format_number(v.train_seconds),
            v.history.divergence.is_some()
        );
    }
    t
}
