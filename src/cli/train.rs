//! `backprop train <task|file.csv> [flags]`: train a network and report what happened.
//!
//! The flags start from the task's defaults (`tasks.rs`) and are checked here, where they enter:
//! a value out of range is a usage error naming the flag, before any data is touched. The run
//! itself is `run.rs`; this file turns flags into options and results into text and files:
//!
//! ```text
//! stderr   progress while training (a live line on a terminal, plain lines otherwise)
//! stdout   the summary: architecture, epochs, seconds, losses and metrics
//! out/<task>/history.csv    one row per epoch
//! out/<task>/summary.json   the summary, for scripts
//! out/<task>/*.svg          learning curves, gradient flow, decision boundary or fit (plot/)
//! out/<task>/index.html     all of it on one page, with a training replay (report.rs)
//! ```

use super::args::{self, Flag, Parsed};
use crate::data::csv::TargetKind;
use crate::error::{Error, Result};
use crate::files;
use crate::json::Json;
use crate::network::superscript;
use crate::optim::{Rule, Schedule};
use crate::run::{self, Run, RunOptions};
use crate::tasks;
use crate::train::{EpochStats, Metric};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The flags of `train`.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    Flag { name: "--hidden", value: "SIZES", default: "per task", help: "hidden layer sizes, e.g. 10 or 20,20" },
    Flag { name: "--activation", value: "NAME", default: "per task", help: "relu, leaky_relu, tanh, sigmoid, swish or identity" },
    Flag { name: "--optimizer", value: "NAME", default: "per task", help: "sgd, momentum, nesterov, rmsprop or adam" },
    Flag { name: "--lr", value: "RATE", default: "per task", help: "learning rate η, greater than 0" },
    Flag { name: "--epochs", value: "N", default: "per task", help: "passes over the training set" },
    Flag { name: "--batch-size", value: "N", default: "per task", help: "rows per step; 0 for the full batch" },
    Flag { name: "--l2", value: "λ", default: "0", help: "L2 weight decay" },
    Flag { name: "--dropout", value: "P", default: "0", help: "dropout rate after each hidden layer, in [0, 1)" },
    Flag { name: "--batch-norm", value: "", default: "", help: "batch normalisation before each hidden activation" },
    Flag { name: "--clip", value: "NORM", default: "off", help: "clip the global gradient norm to NORM" },
    Flag { name: "--lr-decay", value: "RATE", default: "1", help: "multiply η by RATE every epoch (exponential decay)" },
    Flag { name: "--seed", value: "N", default: "42", help: "seed of the data, the weights and the batch order" },
    Flag { name: "--samples", value: "N", default: "per task", help: "samples to generate (generated tasks)" },
    Flag { name: "--noise", value: "σ", default: "per task", help: "noise of the generated data" },
    Flag { name: "--test-fraction", value: "F", default: "0.2", help: "fraction of rows held out for testing, in (0, 1)" },
    Flag { name: "--no-standardize", value: "", default: "", help: "feed the raw features (CSV data is standardised by default)" },
    Flag { name: "--regression", value: "", default: "", help: "treat a CSV target as a number to predict" },
    Flag { name: "--classification", value: "", default: "", help: "treat a CSV target as class labels" },
    Flag { name: "--out", value: "DIR", default: "out/<task>", help: "folder for history.csv and summary.json" },
    Flag { name: "--quiet", value: "", default: "", help: "print nothing while training" },
];

/// The help text of `train`.
pub fn help_text() -> String {
    let mut about = String::from(
        "Trains a network on a named task or on any CSV file (header row, last column is the\n\
         target) and prints what happened. Without a task, trains circles and then sine.\n\ntasks:\n",
    );
    for task in tasks::all() {
        let _ = writeln!(about, "  {:<14} {}", task.name, task.about);
    }
    args::help(
        "backprop train <task|file.csv> [flags]",
        about.trim_end(),
        FLAGS,
    )
}

/// Runs `train` with the words after the command's name.
///
/// # Errors
/// For a bad flag, task or file, an output folder that cannot be written, or divergence.
pub fn run(words: &[String], stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<()> {
    let parsed = args::parse(words, FLAGS, "train")?;
    if parsed.switch("--help") {
        write!(stdout, "{}", help_text())?;
        return Ok(());
    }
    let targets: Vec<String> = if parsed.positionals.is_empty() {
        vec!["circles".to_string(), "sine".to_string()]
    } else {
        parsed.positionals.clone()
    };
    if targets.len() > 1 && !parsed.positionals.is_empty() {
        return Err(Error::Usage(format!(
            "train takes one task or CSV file, got {}: {}",
            targets.len(),
            targets.join(" ")
        )));
    }
    for (i, target) in targets.iter().enumerate() {
        if i > 0 {
            writeln!(stdout)?;
        }
        let options = options_from(target, &parsed)?;
        train_one(&options, &parsed, stdout, stderr)?;
    }
    Ok(())
}

/// The run options for `target` (a task name or a CSV path) with the flags applied and checked.
///
/// # Errors
/// For an unknown task, a missing file, or a flag value out of range.
pub fn options_from(target: &str, parsed: &Parsed) -> Result<RunOptions> {
    let mut options = if let Some(spec) = tasks::find(target) {
        RunOptions::for_task(&spec)
    } else if target.ends_with(".csv") || Path::new(target).is_file() {
        RunOptions::for_csv(PathBuf::from(target))
    } else {
        let names = tasks::names();
        let hint = match args::suggest(target, &names) {
            Some(close) => format!("did you mean '{close}'?"),
            None => format!("the tasks are {}, or give a CSV file", names.join(", ")),
        };
        return Err(Error::Usage(format!("unknown task '{target}'; {hint}")));
    };

    if let Some(text) = parsed.text("--hidden") {
        options.hidden = parse_hidden(text)?;
    }
    if let Some(name) = parsed.text("--activation") {
        options.activation = match crate::activation::Activation::from_name(name) {
            Some(f) if f != crate::activation::Activation::Softmax => f,
            _ => {
                return Err(unknown_name(
                    "--activation",
                    name,
                    &crate::activation::Activation::HIDDEN_NAMES,
                ))
            }
        };
    }
    if let Some(name) = parsed.text("--optimizer") {
        options.rule = Rule::from_name(name).ok_or_else(|| {
            unknown_name(
                "--optimizer",
                name,
                &["sgd", "momentum", "nesterov", "rmsprop", "adam"],
            )
        })?;
    }
    if let Some(lr) = parsed.number("--lr")? {
        require(lr > 0.0, "--lr", lr, "a learning rate greater than 0")?;
        options.lr = lr;
    }
    if let Some(epochs) = parsed.value::<usize>("--epochs", "a whole number of epochs")? {
        require(epochs > 0, "--epochs", epochs, "at least 1")?;
        options.epochs = epochs;
    }
    if let Some(batch) = parsed.value::<usize>("--batch-size", "a whole number of rows")? {
        options.batch_size = batch;
    }
    if let Some(l2) = parsed.number("--l2")? {
        require(l2 >= 0.0, "--l2", l2, "0 or more")?;
        options.l2 = l2;
    }
    if let Some(rate) = parsed.number("--dropout")? {
        require(
            (0.0..1.0).contains(&rate),
            "--dropout",
            rate,
            "a rate in [0, 1)",
        )?;
        options.dropout = rate;
    }
    options.batch_norm |= parsed.switch("--batch-norm");
    if let Some(clip) = parsed.number("--clip")? {
        require(clip > 0.0, "--clip", clip, "a norm greater than 0")?;
        options.clip = Some(clip);
    }
    if let Some(rate) = parsed.number("--lr-decay")? {
        require(
            rate > 0.0 && rate <= 1.0,
            "--lr-decay",
            rate,
            "a factor in (0, 1]",
        )?;
        options.schedule = Schedule::Exponential { rate };
    }
    if let Some(seed) =
        parsed.value::<u64>("--seed", "a whole number from 0 to 18446744073709551615")?
    {
        options.seed = seed;
    }
    if let Some(samples) = parsed.value::<usize>("--samples", "a whole number of samples")? {
        require(samples >= 4, "--samples", samples, "at least 4")?;
        options.samples = samples;
    }
    if let Some(noise) = parsed.number("--noise")? {
        require(noise >= 0.0, "--noise", noise, "0 or more")?;
        options.noise = noise;
    }
    if let Some(fraction) = parsed.number("--test-fraction")? {
        require(
            fraction > 0.0 && fraction < 1.0,
            "--test-fraction",
            fraction,
            "a fraction strictly between 0 and 1",
        )?;
        options.test_fraction = fraction;
    }
    if parsed.switch("--no-standardize") {
        options.standardize = false;
    }
    match (
        parsed.switch("--regression"),
        parsed.switch("--classification"),
    ) {
        (true, true) => {
            return Err(Error::Usage(
                "--regression and --classification contradict each other; give one".to_string(),
            ))
        }
        (true, false) => options.target = TargetKind::Regression,
        (false, true) => options.target = TargetKind::Classification,
        (false, false) => {}
    }
    Ok(options)
}

/// `10` or `20,20` as a list of layer sizes, each at least 1.
fn parse_hidden(text: &str) -> Result<Vec<usize>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| match part.trim().parse::<usize>() {
            Ok(0) => Err(Error::Usage(format!(
                "--hidden: a layer of 0 units in '{text}'; every size must be at least 1"
            ))),
            Ok(size) => Ok(size),
            Err(_) => Err(Error::Usage(format!(
                "--hidden: '{part}' in '{text}' is not a layer size; write sizes like 10 or 20,20"
            ))),
        })
        .collect()
}

fn require(ok: bool, flag: &str, value: impl std::fmt::Display, expected: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{flag}: {value} is out of range; expected {expected}"
        )))
    }
}

fn unknown_name(flag: &str, name: &str, known: &[&str]) -> Error {
    let hint = match args::suggest(name, known) {
        Some(close) => format!("did you mean '{close}'?"),
        None => format!("choose one of {}", known.join(", ")),
    };
    Error::Usage(format!("{flag}: unknown name '{name}'; {hint}"))
}

/// Trains one task and writes its report.
fn train_one(
    options: &RunOptions,
    parsed: &Parsed,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<()> {
    let started = Instant::now();
    let out_dir = parsed
        .text("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new("out").join(options.data_name()));
    files::prepare_folder(&out_dir)?;

    let quiet = parsed.switch("--quiet");
    let live = std::io::stderr().is_terminal();
    let report_every = (options.epochs / 10).max(1);
    let mut last_draw = Instant::now();
    let mut progress_error = None;
    let mut recorder = crate::plot::Recorder::new(options.epochs, crate::plot::MAX_FRAMES);
    let run = run::execute(options, |stats, network| {
        recorder.observe(stats, network);
        if !quiet {
            let result = if live {
                if last_draw.elapsed().as_millis() >= 100 || stats.epoch == options.epochs {
                    last_draw = Instant::now();
                    write!(stderr, "\r{}", progress_line(stats, options.epochs, true))
                } else {
                    Ok(())
                }
            } else if stats.epoch % report_every == 0 || stats.epoch == 1 {
                writeln!(stderr, "{}", progress_line(stats, options.epochs, false))
            } else {
                Ok(())
            };
            if let Err(e) = result {
                progress_error = Some(e);
            }
        }
        ControlFlow::Continue(())
    })?;
    if live && !quiet {
        writeln!(stderr)?;
    }
    if let Some(e) = progress_error {
        return Err(e.into());
    }

    files::write_atomic(&out_dir.join("history.csv"), history_csv(&run).as_bytes())?;
    let seconds = started.elapsed().as_secs_f64();
    files::write_atomic(
        &out_dir.join("summary.json"),
        summary_json(&run, seconds).to_pretty_string().as_bytes(),
    )?;
    crate::report::write_run_report(&run, &recorder, &out_dir)?;
    write_summary(&run, seconds, &out_dir, stdout)?;

    if let Some(divergence) = &run.history.divergence {
        return Err(Error::Failed(format!(
            "training diverged in epoch {}: {} became infinite or NaN; try a smaller --lr (now {}), gradient clipping (--clip 1), or standardised inputs",
            divergence.epoch, divergence.culprit, options.lr
        )));
    }
    Ok(())
}

fn progress_line(stats: &EpochStats, epochs: usize, bar: bool) -> String {
    let metric = match (stats.test_metric, stats.train_metric) {
        (Some(m), _) | (None, m) => m,
    };
    let gradient: f64 = stats
        .gradient_norms
        .iter()
        .map(|g| g * g)
        .sum::<f64>()
        .sqrt();
    let mut line = format!(
        "epoch {:>5}/{epochs}  loss {:.4}  metric {:.4}  ‖dW‖ {:.2e}",
        stats.epoch, stats.train_loss, metric, gradient
    );
    if bar {
        let width = 20;
        let filled = stats.epoch * width / epochs.max(1);
        line.push_str(&format!(
            "  [{}{}]",
            "█".repeat(filled),
            "·".repeat(width - filled)
        ));
    }
    line
}

/// `history.csv`: one row per epoch.
pub fn history_csv(run: &Run) -> String {
    let layers = run.network.dense_layers().count();
    let metric = run.history.metric.name();
    let mut text = format!("epoch,lr,train_loss,test_loss,train_{metric},test_{metric}");
    for l in 1..=layers {
        let _ = write!(text, ",grad_norm_{l},update_norm_{l}");
    }
    text.push('\n');
    for e in &run.history.epochs {
        let _ = write!(
            text,
            "{},{},{},{},{},{}",
            e.epoch,
            e.lr,
            e.train_loss,
            e.test_loss.map_or(String::new(), |v| v.to_string()),
            e.train_metric,
            e.test_metric.map_or(String::new(), |v| v.to_string())
        );
        for (g, u) in e.gradient_norms.iter().zip(&e.update_norms) {
            let _ = write!(text, ",{g},{u}");
        }
        text.push('\n');
    }
    text
}

/// `summary.json`: the run's settings and results.
pub fn summary_json(run: &Run, seconds: f64) -> Json {
    let mut network = run.network.clone();
    let (train_loss, train_metric) = crate::train::evaluate(&mut network, &run.data.train);
    let (test_loss, test_metric) = crate::train::evaluate(&mut network, &run.data.test);
    let o = &run.options;
    let mut json = Json::object()
        .with("task", run.options.data_name())
        .with("architecture", run.network.description())
        .with("parameters", run.network.parameter_count())
        .with("optimizer", o.rule.name())
        .with("lr", o.lr)
        .with("epochs", run.history.epochs.len())
        .with("batch_size", o.batch_size)
        .with("seed", o.seed)
        .with("train_seconds", run.train_seconds)
        .with("seconds", seconds)
        .with("train_loss", train_loss)
        .with("test_loss", test_loss);
    json = match run.history.metric {
        Metric::Accuracy => json
            .with("train_accuracy", train_metric)
            .with("test_accuracy", test_metric),
        Metric::Mse => {
            let mut json = json
                .with("train_mse", train_metric)
                .with("test_mse", test_metric);
            if let Some(clean) = &run.data.test.clean_y {
                let y_hat = network.predict(&run.data.test.x);
                json = json.with(
                    "test_mse_true",
                    crate::loss::Loss::MeanSquaredError.value(&y_hat, clean),
                );
            }
            json
        }
    };
    json.with("diverged", run.history.divergence.is_some())
}

fn write_summary(run: &Run, seconds: f64, out_dir: &Path, stdout: &mut dyn Write) -> Result<()> {
    let summary = summary_json(run, seconds);
    let get = |key: &str| match &summary {
        Json::Object(entries) => {
            entries
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| match v {
                    Json::Number(x) => Some(*x),
                    _ => None,
                })
        }
        _ => None,
    };
    writeln!(stdout, "task        {}", run.options.data_name())?;
    writeln!(stdout, "network     {}", run.network.description())?;
    writeln!(
        stdout,
        "training    {} epochs of {} (η = {}) in {:.3} s",
        run.history.epochs.len(),
        run.options.rule.name(),
        run.options.lr,
        run.train_seconds
    )?;
    let metric = run.history.metric.name();
    let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    writeln!(
        stdout,
        "train       loss {}  {metric} {}",
        show(get("train_loss")),
        show(get(&format!("train_{metric}")))
    )?;
    writeln!(
        stdout,
        "test        loss {}  {metric} {}",
        show(get("test_loss")),
        show(get(&format!("test_{metric}")))
    )?;
    if let Some(true_mse) = get("test_mse_true") {
        writeln!(
            stdout,
            "            mse against the true curve {true_mse:.4}"
        )?;
    }
    let norms: Vec<String> = run
        .history
        .last()
        .map(|e| {
            e.gradient_norms
                .iter()
                .enumerate()
                .map(|(l, g)| format!("‖dW{}‖ {g:.1e}", superscript(l + 1)))
                .collect()
        })
        .unwrap_or_default();
    writeln!(stdout, "gradients   {}", norms.join("  "))?;
    writeln!(stdout, "files       {}", out_dir.display())?;
    Ok(())
}
