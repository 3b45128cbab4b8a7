//! `backprop train <task|file.csv> [flags]`: train a network and report what happened.
//!
//! The flags start from the task's defaults (`tasks.rs`) and are checked here, where they enter:
//! a value out of range is a usage error naming the flag, before any data is touched. The run
//! itself is `run.rs`; this file turns flags into options and results into text and files:
//!
//! ```text
//! stderr   progress while training (a live line on a terminal, plain lines otherwise)
//! stdout   the summary: architecture, epochs, seconds, losses and metrics, a sparkline of
//!          the loss, and a picture (decision regions for 2-D classes, the curve for sine)
//! out/<task>/history.csv    one row per epoch
//! out/<task>/summary.json   every setting (enough to run it again) and the results, for scripts
//! --save FILE               the trained model as text (see `model_file.rs`)
//! out/<task>/*.svg          learning curves, gradient flow, decision boundary or fit (plot/)
//! out/<task>/index.html     all of it on one page, with a training replay (report.rs)
//! ```
//!
//! Rules a user meets here, each also in `train --help`:
//!
//! ```text
//! checked first     every flag, the data, and every output path (--out, --save), before the
//!                   first epoch: a run is never lost to a folder it could not write
//! one run, one      the output folder's files from an earlier run are removed before the first
//!   folder          epoch (only the crate's own names, files::RUN_FILES); a diverged run still
//!                   writes its history, summary ("diverged": true, the epoch, the culprit),
//!                   figures and page, then fails with exit code 1 and writes no model
//! --lr              your η is constant unless you also give --lr-decay: a task's default decay
//!                   (sine's × 0.99 per epoch) comes only with the task's default η
//! --hidden none     no hidden layer (a linear or logistic model); an empty list is an error
//! a CSV path        datasets/iris.csv (any path to a shipped dataset) is the task iris; any
//!                   other file is named and filed by its file name, mydata.csv in
//!                   out/mydata.csv/, with the CSV defaults (RunOptions::for_csv)
//! ```
//!
//! Without a task, `train` runs the original design's three examples in turn: circles, sine,
//! and the comparison of activations on circles (`compare activations`).

use super::args::{self, Flag, Parsed};
use crate::data::csv::TargetKind;
use crate::data::regression::Scores;
use crate::diagnose::{self, Monitor};
use crate::error::{Error, Result};
use crate::files;
use crate::json::{format_number, Json};
use crate::model_file::Model;
use crate::network::superscript;
use crate::optim::{Rule, Schedule};
use crate::run::{self, Run, RunOptions};
use crate::tasks;
use crate::text_plot::{self, readable};
use crate::train::{EpochStats, Metric};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The flags of `train`.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    Flag { name: "--hidden", value: "SIZES", default: "per task", help: "hidden layer sizes, e.g. 10 or 20,20; none for no hidden layer" },
    Flag { name: "--activation", value: "NAME", default: "per task", help: "relu, leaky_relu, tanh, sigmoid, swish or identity" },
    Flag { name: "--optimizer", value: "NAME", default: "per task", help: "sgd, momentum, nesterov, rmsprop or adam" },
    Flag { name: "--lr", value: "RATE", default: "per task", help: "learning rate η, greater than 0; constant unless --lr-decay is given too" },
    Flag { name: "--epochs", value: "N", default: "per task", help: "passes over the training set" },
    Flag { name: "--batch-size", value: "N", default: "per task", help: "rows per step; 0 for the full batch" },
    Flag { name: "--l2", value: "λ", default: "0", help: "L2 weight decay" },
    Flag { name: "--dropout", value: "P", default: "0", help: "dropout rate after each hidden layer, in [0, 1)" },
    Flag { name: "--batch-norm", value: "", default: "", help: "batch normalisation before each hidden activation" },
    Flag { name: "--clip", value: "NORM", default: "off", help: "clip the global gradient norm to NORM" },
    Flag { name: "--lr-decay", value: "RATE", default: "per task, 1 with --lr", help: "multiply η by RATE every epoch (exponential decay); 1 for a constant η" },
    Flag { name: "--seed", value: "N", default: "42", help: "seed of the data, the weights and the batch order" },
    Flag { name: "--samples", value: "N", default: "per task", help: "samples to generate (generated tasks)" },
    Flag { name: "--noise", value: "σ", default: "per task", help: "noise of the generated data" },
    Flag { name: "--test-fraction", value: "F", default: "0.2", help: "fraction of rows held out for testing, in (0, 1)" },
    Flag { name: "--no-standardize", value: "", default: "", help: "feed the raw features and, in a regression, the raw target (CSV data is standardised by default)" },
    Flag { name: "--regression", value: "", default: "", help: "treat a CSV target as a number to predict" },
    Flag { name: "--classification", value: "", default: "", help: "treat a CSV target as class labels" },
    Flag { name: "--out", value: "DIR", default: "out/<task> or out/<FILE.csv>", help: "folder for history.csv, summary.json, the figures and index.html" },
    Flag { name: "--save", value: "FILE", default: "", help: "write the trained model to FILE as text (for 'predict')" },
    Flag { name: "--quiet", value: "", default: "", help: "print nothing while training" },
];

/// The help text of `train`.
pub fn help_text() -> String {
    let mut about = String::from(
        "Trains a network on a named task or on any CSV file (header row, last column is the\n\
         target) and prints what happened. Without a task, runs the three examples of the\n\
         original design in turn: circles, sine, and 'compare activations' on circles.\n\ntasks:\n",
    );
    for task in tasks::all() {
        let d = &task.defaults;
        let hidden: Vec<String> = d.hidden.iter().map(usize::to_string).collect();
        let batch = match d.batch_size {
            0 => "full batch".to_string(),
            n => format!("batches of {n}"),
        };
        let decay = if d.lr_decay < 1.0 {
            format!(" × {} per epoch", d.lr_decay)
        } else {
            String::new()
        };
        let _ = writeln!(about, "  {:<14} {}", task.name, task.about);
        let defaults = format!(
            "  {:<14} defaults: hidden {} {}, {} η = {}{decay}, {} epochs, {batch}",
            "",
            hidden.join(","),
            d.activation.name(),
            d.optimizer,
            d.lr,
            d.epochs
        );
        // Too long for one line: the epochs and batches go on the next, under the hidden sizes.
        let defaults = if defaults.chars().count() > args::HELP_WIDTH {
            defaults.replacen(
                &format!(", {} epochs", d.epochs),
                &format!(",\n{:27}{} epochs", "", d.epochs),
                1,
            )
        } else {
            defaults
        };
        let _ = writeln!(about, "{defaults}");
    }
    // The CSV defaults come from `RunOptions::for_csv`, so the help cannot drift from them.
    let csv = RunOptions::for_csv(PathBuf::from("data.csv"));
    let hidden: Vec<String> = csv.hidden.iter().map(usize::to_string).collect();
    let _ = write!(
        about,
        "  {:<14} any other CSV file, named and filed by its file name: mydata.csv goes to\n\
         {:17}out/mydata.csv/ (a path to a shipped dataset, datasets/iris.csv, is its task)\n\
         {:17}defaults: hidden {} {}, {} η = {}, {} epochs, batches of {},\n\
         {:27}standardised features\n\n\
         A learning rate given with --lr stays constant unless --lr-decay is given too (a\n\
         task's default decay comes only with its default η). --hidden none: no hidden layer.\n\
         Before the first epoch, every flag and output path is checked and the files of an\n\
         earlier run in the output folder are removed (only train's own: history.csv,\n\
         summary.json, index.html and the figures). A diverged run still writes them, with\n\
         \"diverged\": true in summary.json, and exits with code 1.\n",
        "FILE.csv",
        "",
        "",
        hidden.join(","),
        csv.activation.name(),
        csv.rule.name(),
        csv.lr,
        csv.epochs,
        csv.batch_size,
        ""
    );
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
    match parsed.positionals.as_slice() {
        [target] => {
            let options = options_from(target, &parsed)?;
            train_one(&options, &parsed, stdout, stderr)?;
            Ok(())
        }
        [] => the_three_examples(&parsed, stdout, stderr),
        more => Err(Error::Usage(format!(
            "train takes one task or CSV file, got {}: {}",
            more.len(),
            more.join(" ")
        ))),
    }
}

/// `train` without a task: circles, sine, then the activations compared on circles, each
/// under a heading. Flags apply to the two training runs; `--out` and `--save` need one task.
fn the_three_examples(
    parsed: &Parsed,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<()> {
    for flag in ["--out", "--save"] {
        if parsed.text(flag).is_some() {
            return Err(Error::Usage(format!(
                "{flag} needs a task: write 'backprop train TASK {flag} …'"
            )));
        }
    }
    for (i, task) in ["circles", "sine"].iter().enumerate() {
        writeln!(stdout, "── example {} of 3: train {task} ──", i + 1)?;
        let options = options_from(task, parsed)?;
        train_one(&options, parsed, stdout, stderr)?;
        writeln!(stdout)?;
    }
    writeln!(
        stdout,
        "── example 3 of 3: compare activations on circles ──"
    )?;
    let spec = tasks::find("circles").expect("circles is a task");
    let mut base = RunOptions::for_task(&spec);
    if let Some(seed) = parsed.value::<u64>("--seed", "a whole number")? {
        base.seed = seed;
    }
    super::compare::run_study(
        crate::compare::Study::Activations,
        &base,
        &Path::new("out").join("compare").join("circles"),
        parsed.switch("--quiet"),
        stdout,
        stderr,
    )
}

/// The run options for `target` (a task name or a CSV path) with the flags applied and checked.
///
/// # Errors
/// For an unknown task, a missing file, or a flag value out of range.
pub fn options_from(target: &str, parsed: &Parsed) -> Result<RunOptions> {
    let mut options = if let Some(spec) = tasks::find(target) {
        RunOptions::for_task(&spec)
    } else if let Some(spec) = tasks::shipped_task_for(Path::new(target)) {
        // datasets/iris.csv is the task iris: its defaults, its name, its folder.
        RunOptions::for_task(&spec)
    } else if Path::new(target).is_file() {
        RunOptions::for_csv(PathBuf::from(target))
    } else if target.ends_with(".csv") {
        // Said before an output folder is made for it.
        let stem = target.trim_end_matches(".csv");
        let task = Path::new(stem)
            .file_name()
            .and_then(|n| tasks::find(&n.to_string_lossy()));
        return Err(Error::Input(match task {
            Some(task) => format!(
                "cannot read {target}: no such file; the task '{}' needs no file: write 'backprop train {}'",
                task.name, task.name
            ),
            None => format!("cannot read {target}: no such file"),
        }));
    } else {
        let names = tasks::names();
        return Err(args::unknown(
            "task",
            target,
            &names,
            &format!("the tasks are {}, or give a CSV file", names.join(", ")),
        ));
    };

    if let Some(text) = parsed.text("--hidden") {
        options.hidden = parse_hidden(text)?;
    }
    if let Some(name) = parsed.text("--activation") {
        options.activation = match crate::activation::Activation::from_name(name) {
            Some(f) if f != crate::activation::Activation::Softmax => f,
            _ => {
                return Err(args::unknown_name(
                    "--activation",
                    name,
                    &crate::activation::Activation::HIDDEN_NAMES,
                ))
            }
        };
    }
    if let Some(name) = parsed.text("--optimizer") {
        options.rule = Rule::from_name(name)
            .ok_or_else(|| args::unknown_name("--optimizer", name, &Rule::NAMES))?;
    }
    if let Some(lr) = parsed.number("--lr")? {
        args::require(lr > 0.0, "--lr", lr, "a learning rate greater than 0")?;
        options.lr = lr;
    }
    if let Some(epochs) = parsed.value::<usize>("--epochs", "a whole number of epochs")? {
        args::require(epochs > 0, "--epochs", epochs, "at least 1")?;
        options.epochs = epochs;
    }
    if let Some(batch) = parsed.value::<usize>("--batch-size", "a whole number of rows")? {
        options.batch_size = batch;
    }
    if let Some(l2) = parsed.number("--l2")? {
        args::require(l2 >= 0.0, "--l2", l2, "0 or more")?;
        options.l2 = l2;
    }
    if let Some(rate) = parsed.number("--dropout")? {
        args::require(
            (0.0..1.0).contains(&rate),
            "--dropout",
            rate,
            "a rate in [0, 1)",
        )?;
        options.dropout = rate;
    }
    options.batch_norm |= parsed.switch("--batch-norm");
    if options.batch_norm && options.batch_size == 1 {
        // A batch of one row is its own mean: x − μ = 0 in every unit, so batch norm outputs β
        // whatever the input, and no gradient reaches the layers below it.
        return Err(Error::Usage(
            "--batch-norm needs batches of at least 2 rows: with --batch-size 1 each row is its \
             own batch mean, x − μ = 0, and nothing below the batch norm learns; use \
             --batch-size 2 or more, or leave out --batch-norm"
                .to_string(),
        ));
    }
    if let Some(clip) = parsed.number("--clip")? {
        args::require(clip > 0.0, "--clip", clip, "a norm greater than 0")?;
        options.clip = Some(clip);
    }
    if let Some(rate) = parsed.number("--lr-decay")? {
        args::require(
            rate > 0.0 && rate <= 1.0,
            "--lr-decay",
            rate,
            "a factor in (0, 1]",
        )?;
        options.schedule = Schedule::Exponential { rate };
    } else if parsed.text("--lr").is_some() {
        // A task's decay was tuned with its own η and epochs (sine: 0.01 × 0.99 per epoch over
        // 300 epochs); on your η over your epochs it could shrink η to nothing (0.99¹⁰⁰⁰ ≈ 4e-5),
        // so your η stays as you gave it unless you ask for a decay too.
        options.schedule = Schedule::Constant;
    }
    if let Some(seed) =
        parsed.value::<u64>("--seed", "a whole number from 0 to 18446744073709551615")?
    {
        options.seed = seed;
    }
    // Flags that mean nothing for this data are refused rather than silently ignored.
    let generated = matches!(&options.source, run::DataSource::Task(spec) if spec.source == tasks::Source::Generated);
    for flag in ["--samples", "--noise"] {
        if !generated && parsed.text(flag).is_some() {
            return Err(Error::Usage(format!(
                "{flag} applies to generated tasks only ({}); '{target}' is read from a file",
                generated_names().join(", ")
            )));
        }
    }
    if let Some(samples) = parsed.value::<usize>("--samples", "a whole number of samples")? {
        args::require(samples >= 4, "--samples", samples, "at least 4")?;
        options.samples = samples;
    }
    if let Some(noise) = parsed.number("--noise")? {
        args::require(noise >= 0.0, "--noise", noise, "0 or more")?;
        options.noise = noise;
    }
    if let Some(fraction) = parsed.number("--test-fraction")? {
        args::require(
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
    for flag in ["--regression", "--classification"] {
        if generated && parsed.switch(flag) {
            return Err(Error::Usage(format!(
                "{flag} applies to CSV data only; the task '{target}' already knows its kind of target"
            )));
        }
    }
    csv_regression_lr(&mut options, parsed)?;
    Ok(options)
}

/// A CSV file whose target is a number learns with η = `run::CSV_REGRESSION_LR` unless `--lr`
/// says otherwise; the file is read here to know its task.
///
/// # Errors
/// If the CSV file cannot be read or is malformed.
fn csv_regression_lr(options: &mut RunOptions, parsed: &Parsed) -> Result<()> {
    if let run::DataSource::Csv(path) = &options.source {
        if parsed.text("--lr").is_none()
            && crate::data::csv::load(path, options.target)?.task == crate::data::Task::Regression
        {
            options.lr = run::CSV_REGRESSION_LR;
        }
    }
    Ok(())
}

/// The names of the generated tasks (the ones `--samples` and `--noise` apply to).
fn generated_names() -> Vec<&'static str> {
    tasks::all()
        .into_iter()
        .filter(|t| t.source == tasks::Source::Generated)
        .map(|t| t.name)
        .collect()
}

/// `10` or `20,20` as a list of layer sizes, each at least 1; `none` for no hidden layer.
///
/// # Errors
/// For an empty list (it would silently mean "no hidden layer"), a size of 0, or a word that is
/// not a size.
pub fn parse_hidden(text: &str) -> Result<Vec<usize>> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    if text.trim().is_empty() {
        return Err(Error::Usage(
            "--hidden: the list of layer sizes is empty; write sizes like 10 or 20,20, or none for no hidden layer"
                .to_string(),
        ));
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

/// Trains one task, writes its files and prints its report; returns the run.
///
/// In this order: the data and every output path are checked, the output folder is cleared of
/// an earlier run's files, the network trains, and then the folder gets all of this run's files
/// (a diverged run's too, before its error). The steps after training are separate calls, so
/// that more outputs can be added as one more call in the list.
///
/// # Errors
/// For data or an output path that cannot be used (before training), a file that cannot be
/// written, or divergence (after its files are written).
pub fn train_one(
    options: &RunOptions,
    parsed: &Parsed,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Run> {
    let started = Instant::now();
    let out_dir = parsed
        .text("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new("out").join(options.data_name()));
    let save = parsed.text("--save").map(PathBuf::from);

    let quiet = parsed.switch("--quiet");
    let live = std::io::stderr().is_terminal();
    let report_every = (options.epochs / 10).max(1);
    let mut last_draw = Instant::now();
    let mut progress_error = None;
    let data = run::prepare(options)?;
    if let Some(batch) = parsed.value::<usize>("--batch-size", "a whole number of rows")? {
        if batch > data.train.len() {
            return Err(Error::Usage(format!(
                "--batch-size {batch} is larger than the {} training rows; use at most {} (or 0 for the full batch)",
                data.train.len(),
                data.train.len()
            )));
        }
    }
    // Every output path, after the data is read (a bad CSV leaves no empty folder behind) and
    // before training (a path that cannot be written is found out before the time is spent).
    check_output_paths(&out_dir, save.as_deref())?;
    files::remove_run_files(&out_dir)?;
    let mut monitor = Monitor::new();
    let mut recorder = crate::plot::Recorder::new(options.epochs, crate::plot::MAX_FRAMES);
    let run = run::train_prepared(options, data, |stats, network| {
        recorder.observe(stats, network);
        // A gradient problem is reported once, the moment it appears.
        for finding in monitor.observe(stats) {
            if !quiet {
                let _ = writeln!(stderr, "{}warning: {finding}", if live { "\n" } else { "" });
            }
        }
        if !quiet {
            let result = if live {
                if last_draw.elapsed().as_millis() >= 100 || stats.epoch == options.epochs {
                    last_draw = Instant::now();
                    write!(
                        stderr,
                        "\r{}",
                        progress_line(stats, network, options.epochs, true)
                    )
                } else {
                    Ok(())
                }
            } else if stats.epoch % report_every == 0 || stats.epoch == 1 {
                writeln!(
                    stderr,
                    "{}",
                    progress_line(stats, network, options.epochs, false)
                )
            } else {
                Ok(())
            };
            if let Err(e) = result {
                progress_error = Some(e);
            }
        }
        ControlFlow::Continue(())
    });
    if live && !quiet {
        writeln!(stderr)?;
    }
    if let Some(e) = progress_error {
        return Err(e.into());
    }

    // The folder describes this run, whether it finished or diverged: history, summary, figures
    // and page are written for both; only a finished run gets a model file.
    files::write_atomic(&out_dir.join("history.csv"), history_csv(&run).as_bytes())?;
    let summary = Summary::measure(&run);
    let seconds = started.elapsed().as_secs_f64();
    files::write_atomic(
        &out_dir.join("summary.json"),
        summary.to_json(&run, seconds).to_pretty_string().as_bytes(),
    )?;
    crate::report::write_run_report(&run, &summary.scores(), &recorder, &out_dir)?;
    if let Some(divergence) = &run.history.divergence {
        let unsaved = match &save {
            Some(path) => format!("; no model was saved to {}", path.display()),
            None => String::new(),
        };
        return Err(Error::Failed(format!(
            "training diverged in epoch {}: {} became infinite or NaN; try a smaller --lr (now {}), gradient clipping (--clip 1), or standardised inputs; the run up to then is in {}{unsaved}",
            divergence.epoch,
            divergence.culprit,
            format_number(options.lr),
            out_dir.display()
        )));
    }
    if let Some(path) = &save {
        Model::from_run(&run).save(path)?;
    }
    write_summary(&run, &summary, seconds, &out_dir, stdout)?;
    if let Some(path) = &save {
        writeln!(stdout, "model       {}", path.display())?;
    }
    write_pictures(&run, stdout)?;
    Ok(run)
}

/// Checks every path `train` will write before it trains: the output folder is created and
/// takes files, and `--save FILE` names a file (not a folder, not one of the run's own files) in
/// a folder that exists, or is the output folder, and takes files. A `--save` elsewhere is
/// checked first, so a bad one leaves no new output folder behind.
///
/// # Errors
/// If a path cannot be written; the message names the flag.
fn check_output_paths(out_dir: &Path, save: Option<&Path>) -> Result<()> {
    let folder_of = |path: &Path| {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    // `--out out/x --save out/x/model.txt`: the model's folder is made with the output folder.
    let into_out = save.is_some_and(|path| folder_of(path) == out_dir);
    if let Some(path) = save.filter(|_| !into_out) {
        files::check_writable_file(path, "--save")?;
    }
    files::prepare_folder(out_dir)?;
    let Some(path) = save else { return Ok(()) };
    if into_out {
        files::check_writable_file(path, "--save")?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let same_folder = match (folder_of(path).canonicalize(), out_dir.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    match name {
        Some(name) if same_folder && files::RUN_FILES.contains(&name.as_str()) => {
            Err(Error::Usage(format!(
                "--save: {} is a file train writes into its output folder itself; give the model another name, such as model.txt",
                path.display()
            )))
        }
        _ => Ok(()),
    }
}

/// The loss sparkline and, where the data allows, a character picture of what was learned.
fn write_pictures(run: &Run, stdout: &mut dyn Write) -> Result<()> {
    // The history's loss: each epoch's mean over its batches, taken while the weights moved
    // (the "train loss" line above is the trained network's, measured after the last update).
    let losses: Vec<f64> = run.history.epochs.iter().map(|e| e.train_loss).collect();
    if let (Some(&first), Some(&last)) = (losses.first(), losses.last()) {
        writeln!(
            stdout,
            "loss        {} {} → {} (running loss per epoch, log scale)",
            text_plot::sparkline(&losses, 50),
            readable(first, 4),
            readable(last, 4)
        )?;
    }
    let mut network = run.network.clone();
    let data = &run.data;
    if text_plot::can_draw_regions(&data.test) {
        writeln!(
            stdout,
            "\ndecision regions and test points ({})",
            text_plot::regions_legend(&data.test.class_names)
        )?;
        write!(
            stdout,
            "{}",
            text_plot::decision_regions(&mut network, &data.test, 60, 20)
        )?;
    } else if text_plot::can_draw_curve(&data.train) {
        writeln!(stdout, "\nthe network's curve █ over the training points ·")?;
        write!(
            stdout,
            "{}",
            text_plot::curve(&mut network, &data.train, 60, 16)
        )?;
    }
    Ok(())
}

/// `epoch 30/300  loss 0.4289  test accuracy 0.8056  ‖dW‖ 8.14e-2`, and a bar on a terminal.
/// `‖dW‖` is the norm of all the weight gradients together, √(Σₗ ‖dWˡ‖²).
fn progress_line(
    stats: &EpochStats,
    network: &crate::network::Network,
    epochs: usize,
    bar: bool,
) -> String {
    let (which, metric) = match (stats.test_metric, stats.train_metric) {
        (Some(m), _) => ("test", m),
        (None, m) => ("train", m),
    };
    // A regression network ends in the identity; its metric is the MSE.
    let name = match network.output_activation() {
        Some(crate::activation::Activation::Identity) => "mse",
        _ => "accuracy",
    };
    let gradient: f64 = stats
        .gradient_norms
        .iter()
        .map(|g| g * g)
        .sum::<f64>()
        .sqrt();
    let mut line = format!(
        "epoch {:>5}/{epochs}  loss {}  {which} {name} {}  ‖dW‖ {:.2e}",
        stats.epoch,
        readable(stats.train_loss, 4),
        readable(metric, 4),
        gradient
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
        let _ = write!(text, ",grad_norm_{l},update_norm_{l},weight_norm_{l}");
    }
    text.push('\n');
    // Shortest round-trip numbers, in exponent form when huge (a diverging run) or tiny.
    let number = |v: f64| format_number(v);
    let optional = |v: Option<f64>| v.map_or(String::new(), number);
    for e in &run.history.epochs {
        let _ = write!(
            text,
            "{},{},{},{},{},{}",
            e.epoch,
            number(e.lr),
            number(e.train_loss),
            optional(e.test_loss),
            number(e.train_metric),
            optional(e.test_metric)
        );
        let norms = e.gradient_norms.iter().zip(&e.update_norms);
        for ((&g, &u), &w) in norms.zip(&e.weight_norms) {
            let _ = write!(text, ",{},{},{}", number(g), number(u), number(w));
        }
        text.push('\n');
    }
    text
}

/// The results of a finished run, measured once (the trained network on both splits, and the
/// diagnosis) and shown twice: as `summary.json` ([`Summary::to_json`]) and as the printed lines.
#[derive(Clone, Debug)]
pub struct Summary {
    /// (loss, metric) of the trained network on the training rows.
    pub train: (f64, f64),
    /// (loss, metric) of the trained network on the test rows.
    pub test: (f64, f64),
    /// For generated regression data: the MSE against the noise-free targets.
    pub test_mse_true: Option<f64>,
    /// For regression: the (train, test) scores in the target's units (`run::Run::regression_scores`).
    pub regression: Option<(Scores, Scores)>,
    /// What `diagnose.rs` found.
    pub findings: Vec<diagnose::Finding>,
}

impl Summary {
    /// Measures `run`'s trained network (a diverged run's too: its numbers are then not finite,
    /// and `summary.json` writes them as `null`).
    pub fn measure(run: &Run) -> Summary {
        let run::Scores { train, test } = run.scores();
        let mut network = run.network.clone();
        let test_mse_true = run.data.test.clean_y.as_ref().map(|clean| {
            let y_hat = network.predict(&run.data.test.x);
            crate::loss::Loss::MeanSquaredError.value(&y_hat, clean)
        });
        // A regression's metric is its MSE in the target's units (the loss stays the one minimised).
        let regression = run.regression_scores();
        let (train, test) = match regression {
            Some((on_train, on_test)) => ((train.0, on_train.mse), (test.0, on_test.mse)),
            None => (train, test),
        };
        Summary {
            train,
            test,
            test_mse_true,
            regression,
            findings: diagnose::diagnose_run(&run.history, &run.network, &run.data.train.x),
        }
    }

    /// The trained network's (loss, metric) on both splits, as the HTML report shows them.
    pub fn scores(&self) -> run::Scores {
        run::Scores {
            train: self.train,
            test: self.test,
        }
    }

    /// `summary.json`: every setting needed to run it again, and the results. `epochs` is the
    /// setting and `epochs_completed` how many ran (fewer when the run diverged); a diverged run
    /// has `"diverged": true` and `"divergence": {"epoch": …, "culprit": …}`, and its numbers that
    /// are not finite are `null` (JSON has no NaN).
    pub fn to_json(&self, run: &Run, seconds: f64) -> Json {
        let o = &run.options;
        let (schedule, lr_decay) = match o.schedule {
            Schedule::Constant => ("constant", Json::Null),
            Schedule::Exponential { rate } => ("exponential", Json::Number(rate)),
            Schedule::Step { every, factor } => (
                "step",
                Json::object().with("every", every).with("factor", factor),
            ),
        };
        let mut json = Json::object()
            .with("task", o.data_name())
            .with("architecture", run.network.description())
            .with("parameters", run.network.parameter_count())
            .with("hidden", o.hidden.clone())
            .with("activation", o.activation.name())
            .with("optimizer", o.rule.name())
            .with("lr", o.lr)
            .with("schedule", schedule)
            .with("lr_decay", lr_decay)
            .with("epochs", o.epochs)
            .with("epochs_completed", run.history.epochs.len())
            .with("batch_size", o.batch_size)
            .with("l2", o.l2)
            .with("dropout", o.dropout)
            .with("batch_norm", o.batch_norm)
            .with("clip", o.clip)
            .with("test_fraction", o.test_fraction)
            .with("standardize", o.standardize)
            .with("seed", o.seed);
        if matches!(&o.source, run::DataSource::Task(spec) if spec.source == tasks::Source::Generated)
        {
            json = json.with("samples", o.samples).with("noise", o.noise);
        }
        json = json
            .with("train_seconds", run.train_seconds)
            .with("seconds", seconds)
            .with("train_loss", self.train.0)
            .with("test_loss", self.test.0);
        json = match run.history.metric {
            Metric::Accuracy => json
                .with("train_accuracy", self.train.1)
                .with("test_accuracy", self.test.1),
            Metric::Mse => {
                let json = json
                    .with("train_mse", self.train.1)
                    .with("test_mse", self.test.1);
                let json = match self.test_mse_true {
                    Some(true_mse) => json
                        .with("test_mse_true", true_mse)
                        .with("noise_floor", noise_floor(o.noise)),
                    None => json,
                };
                regression_json(json, self, run)
            }
        };
        let diagnosis: Vec<String> = self.findings.iter().map(ToString::to_string).collect();
        let divergence = run.history.divergence.as_ref().map_or(Json::Null, |d| {
            Json::object()
                .with("epoch", d.epoch)
                .with("culprit", d.culprit.as_str())
        });
        json.with("diverged", run.history.divergence.is_some())
            .with("divergence", divergence)
            .with("diagnosis", diagnosis)
    }
}

/// A regression's results in `summary.json`: the R² of each split, the MSE of always predicting
/// the training mean, and the target's statistics when it was standardised (`train_mse` and
/// `test_mse` are already in the target's units).
fn regression_json(json: Json, summary: &Summary, run: &Run) -> Json {
    let Some((on_train, on_test)) = summary.regression else {
        return json;
    };
    let json = json
        .with("train_r2", on_train.r2)
        .with("test_r2", on_test.r2)
        .with("train_mse_baseline", on_train.baseline_mse)
        .with("test_mse_baseline", on_test.baseline_mse);
    match &run.data.target_standardizer {
        Some(s) => json
            .with("target_mean", s.mean[0])
            .with("target_std", s.std_dev[0]),
        None => json,
    }
}

/// The summary lines of a regression under the losses: R² of each split, the baseline of
/// always predicting the training mean, and for a standardised target what the loss measures.
fn regression_lines(summary: &Summary, run: &Run) -> String {
    let Some((on_train, on_test)) = summary.regression else {
        return String::new();
    };
    let show = |v: f64| {
        if !v.is_finite() {
            "undefined".to_string()
        } else if v.abs() < 1e6 {
            format!("{v:.4}")
        } else {
            format!("{v:.3e}")
        }
    };
    let mut lines = format!(
        "r²          {} train, {} test (1 is a perfect fit, 0 no better than always predicting the mean)\n\
         baseline    mse {} train, {} test, always predicting the training rows' mean\n",
        show(on_train.r2),
        show(on_test.r2),
        show(on_train.baseline_mse),
        show(on_test.baseline_mse)
    );
    if let Some(s) = &run.data.target_standardizer {
        let _ = writeln!(
            lines,
            "units       loss: mse of the standardised target (y − {})/{}; mse: in the target's units",
            show(s.mean[0]),
            show(s.std_dev[0])
        );
    }
    lines
}

/// σ², the MSE that the noise alone gives against the noisy targets, rounded to 12 significant
/// digits so that `--noise 0.1` reads 0.01 rather than 0.010000000000000002 (binary rounding).
fn noise_floor(sigma: f64) -> f64 {
    format!("{:.11e}", sigma * sigma)
        .parse()
        .unwrap_or(sigma * sigma)
}

fn write_summary(
    run: &Run,
    summary: &Summary,
    seconds: f64,
    out_dir: &Path,
    stdout: &mut dyn Write,
) -> Result<()> {
    writeln!(stdout, "task        {}", run.options.data_name())?;
    writeln!(stdout, "network     {}", run.network.description())?;
    let o = &run.options;
    let schedule = match o.schedule {
        Schedule::Exponential { rate } => format!(" × {} per epoch", format_number(rate)),
        Schedule::Step { every, factor } => {
            format!(" × {} every {every} epochs", format_number(factor))
        }
        Schedule::Constant => String::new(),
    };
    // Where a schedule took η by the end, so "× 0.99 per epoch" is not left to mental arithmetic.
    let schedule = match (o.schedule, run.history.last()) {
        (Schedule::Constant, _) | (_, None) => schedule,
        (_, Some(last)) => format!(
            "{schedule}, {} in epoch {}",
            readable(last.lr, 4),
            last.epoch
        ),
    };
    let batches = match o.batch_size {
        // A batch as large as the training set is the full batch (see `run::train_prepared`).
        n if n == 0 || n >= run.data.train.len() => "full batch".to_string(),
        n => format!("batches of {n}"),
    };
    let epochs = match run.history.epochs.len() {
        1 => "1 epoch".to_string(),
        n => format!("{n} epochs"),
    };
    writeln!(
        stdout,
        "training    {epochs} of {} (η = {}{schedule}), {batches}, in {:.3} s ({:.3} s in all)",
        o.rule.name(),
        format_number(o.lr),
        run.train_seconds,
        seconds
    )?;
    let metric = run.history.metric.name();
    let show = |v: f64| readable(v, 4);
    writeln!(
        stdout,
        "train       loss {}  {metric} {}",
        show(summary.train.0),
        show(summary.train.1)
    )?;
    writeln!(
        stdout,
        "test        loss {}  {metric} {}",
        show(summary.test.0),
        show(summary.test.1)
    )?;
    if let (Metric::Mse, Some(true_mse)) = (run.history.metric, summary.test_mse_true) {
        writeln!(
            stdout,
            "            mse against the true curve {} (the noise σ = {} alone gives σ² = {} against the noisy targets)",
            show(true_mse),
            format_number(o.noise),
            show(noise_floor(o.noise))
        )?;
    }
    write!(stdout, "{}", regression_lines(summary, run))?;
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
    if summary.findings.is_empty() {
        writeln!(
            stdout,
            "diagnosis   none: gradients neither vanish nor explode; no dead or saturated units"
        )?;
    }
    for (i, finding) in summary.findings.iter().enumerate() {
        let label = if i == 0 { "diagnosis" } else { "" };
        writeln!(stdout, "{label:<11} {finding}")?;
    }
    writeln!(stdout, "files       {}", out_dir.display())?;
    Ok(())
}
