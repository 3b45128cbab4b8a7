//! `backprop gradcheck [task] [flags]`: is backpropagation right for this network?
//!
//! Builds the network `backprop train` would build for the task, runs one forward and backward
//! pass on a small batch of its training rows, and compares every parameter gradient (and the
//! gradient of the input `X`) with central differences (`gradcheck.rs`):
//!
//! ```text
//! ∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h        relative error |a − e| / max(|a|, |e|, 1e-8)
//! ```
//!
//! One table per layer: parameter, shape, largest relative error, pass or fail. Exit code 0 when
//! every gradient passes, 1 when any fails, so a learner who wrote a layer can check it.
//!
//! A gradient that is (nearly) zero cannot be judged by its relative error: the central
//! difference carries rounding noise of about ε·L/h ≈ 2e-11·L (ε = 2.2e-16 the spacing of f64
//! numbers near 1), which is all that is left when the true value is 0, for instance the bias
//! of a dense layer followed by batch normalisation, whose mean subtraction cancels it exactly.
//! An entry whose two values differ by less than [`NOISE_FLOOR`] therefore passes too, and the
//! table marks the tensor `pass*`.
//!
//! ReLU and Leaky ReLU have a kink at 0 where the two one-sided slopes differ, and a central
//! difference straddling it measures neither. Rows whose pre-activations come within
//! [`KINK_MARGIN`] of 0 are therefore left out of the batch (and the report says how many), so a
//! failure is a real disagreement, not the kink.

use super::args::{self, Flag};
use crate::error::{Error, Result};
use crate::gradcheck::{self, Start, KINK_MARGIN};
use crate::layer::Layer;
use crate::network::{superscript, Network};
use crate::run;
use std::io::Write;

/// The flags of `gradcheck`.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    Flag { name: "--hidden", value: "SIZES", default: "per task", help: "hidden layer sizes, e.g. 10 or 20,20" },
    Flag { name: "--activation", value: "NAME", default: "per task", help: "relu, leaky_relu, tanh, sigmoid, swish or identity" },
    Flag { name: "--batch-norm", value: "", default: "", help: "batch normalisation before each hidden activation" },
    Flag { name: "--dropout", value: "P", default: "0", help: "dropout rate after each hidden layer, in [0, 1) (masks frozen during the check)" },
    Flag { name: "--batch", value: "N", default: "8", help: "rows in the checked batch (at least 2)" },
    Flag { name: "--seed", value: "N", default: "42", help: "seed of the data and the weights" },
    Flag { name: "--h", value: "STEP", default: "1e-5", help: "the finite-difference step h (a large h shows the estimate's O(h²) error)" },
];

/// Differences `|a − e|` below this are rounding noise of the central difference (about
/// ε·L/h ≈ 2e-11·L, with a margin of 50 for L ≈ 1 and for the rounding inside the sums), not a
/// disagreement; a wrong derivative on any gradient of useful size is far above it.
pub const NOISE_FLOOR: f64 = 1e-9;

/// The help text of `gradcheck`.
pub fn help_text() -> String {
    args::help(
        "backprop gradcheck [task] [flags]",
        "Builds the task's network, runs one forward and backward pass on a small batch, and\n\
         compares every gradient backpropagation computes with central finite differences.\n\
         Exits with 0 when all agree to a relative error of 1e-6 (near-zero gradients: to 1e-9\n\
         absolute, the rounding noise of the estimate), and 1 when any does not.\n\
         Without a task, checks xor.",
        FLAGS,
    )
}

/// Runs `gradcheck` with the words after the command's name.
///
/// # Errors
/// For a bad flag or task (`Usage`), or a gradient that disagrees (`Failed`).
pub fn run(words: &[String], stdout: &mut dyn Write) -> Result<()> {
    let parsed = args::parse(words, FLAGS, "gradcheck")?;
    if parsed.switch("--help") {
        write!(stdout, "{}", help_text())?;
        return Ok(());
    }
    let task = match parsed.positionals.as_slice() {
        [] => "xor",
        [task] => task.as_str(),
        more => {
            return Err(Error::Usage(format!(
                "gradcheck takes one task, got {}: {}",
                more.len(),
                more.join(" ")
            )))
        }
    };
    // The same options, data and network as `backprop train`, flags checked the same way.
    let options = super::train::options_from(task, &parsed)?;
    let batch = parsed
        .value::<usize>("--batch", "a whole number of rows")?
        .unwrap_or(8);
    args::require(
        batch >= 2,
        "--batch",
        batch,
        "at least 2 rows (batch normalisation needs two)",
    )?;
    let h = parsed.number("--h")?.unwrap_or(gradcheck::DEFAULT_STEP);
    args::require(
        h > 0.0 && h <= 1.0,
        "--h",
        h,
        "a step in (0, 1], usually 1e-5",
    )?;
    let (mut data_rng, mut weight_rng, _) = run::generators(options.seed);
    let data = run::prepare_data(&options, &mut data_rng)?;
    let mut network = Network::mlp(&run::architecture(&options, &data.train), &mut weight_rng);
    let loss = data.train.task.loss();

    // Take the first rows whose pre-activations stay clear of a kink.
    let candidates = data.train.len();
    let mut rows = Vec::new();
    let mut skipped = 0;
    network.forward(&data.train.x, true);
    let distances = gradcheck::distance_to_kink(&network);
    for (i, distance) in distances.into_iter().enumerate().take(candidates) {
        if rows.len() == batch {
            break;
        }
        if distance < KINK_MARGIN {
            skipped += 1;
        } else {
            rows.push(i);
        }
    }
    if rows.len() < 2 {
        return Err(Error::Failed(format!(
            "{task}: fewer than 2 rows keep every pre-activation {KINK_MARGIN:e} away from the kink at 0; try another --seed or --activation"
        )));
    }
    let x = data.train.x.select_rows(&rows);
    let y = data.train.y.select_rows(&rows);
    let checks = gradcheck::check_network(&mut network, loss, &x, &y, Start::OutputError, h);

    writeln!(stdout, "gradcheck {task}: {}", network.description())?;
    let mut note = format!(
        "one forward and backward pass on {} rows, h = {:e}, tolerance {:e}",
        rows.len(),
        h,
        gradcheck::TOLERANCE
    );
    if skipped > 0 {
        note.push_str(&format!(
            "; {skipped} row(s) skipped: a pre-activation within {KINK_MARGIN:e} of the kink"
        ));
    }
    writeln!(stdout, "{note}")?;
    writeln!(
        stdout,
        "[gradcheck.rs check_network] [gradcheck.rs central_differences] [gradcheck.rs relative_error]"
    )?;

    let mut checks = checks.into_iter();
    let mut failures = Vec::new();
    let mut floored = false;
    let mut table = |title: String, count: usize, out: &mut dyn Write| -> Result<()> {
        writeln!(out, "\n{title}")?;
        writeln!(
            out,
            "  {:<10} {:>7}  {:>11}  {:>11}  result",
            "parameter", "shape", "max rel_err", "max |a − e|"
        )?;
        for check in checks.by_ref().take(count) {
            let pairs = || {
                check
                    .analytic
                    .as_slice()
                    .iter()
                    .zip(check.numeric.as_slice())
            };
            let max_difference = pairs().map(|(a, e)| (a - e).abs()).fold(0.0, f64::max);
            let result = if check.passed(gradcheck::TOLERANCE) {
                "pass"
            } else if pairs().all(|(&a, &e)| {
                gradcheck::relative_error(a, e) <= gradcheck::TOLERANCE
                    || (a - e).abs() <= NOISE_FLOOR
            }) {
                floored = true;
                "pass*"
            } else {
                failures.push(format!("{} ({:.1e})", check.name, check.max_relative_error));
                "FAIL"
            };
            writeln!(
                out,
                "  {:<10} {:>7}  {:>11.1e}  {:>11.1e}  {result}",
                check.name,
                format!("{}×{}", check.analytic.rows(), check.analytic.cols()),
                check.max_relative_error,
                max_difference,
            )?;
        }
        Ok(())
    };
    // Numbered as the parameters are: dense layers from 1 (W¹), batch normalisation by the
    // dense layer it follows (γ¹), not by position in the stack.
    let mut dense = 0;
    for layer in network.layers() {
        let title = match layer {
            Layer::Dense(d) => {
                dense += 1;
                let k = superscript(dense);
                format!(
                    "dense layer {dense} (W{k}, b{k}): {} → {}",
                    d.n_in(),
                    d.n_out()
                )
            }
            Layer::BatchNorm(b) => {
                let k = superscript(dense);
                format!(
                    "batch normalisation after dense layer {dense} (γ{k}, β{k}): {} features",
                    b.features()
                )
            }
            _ => continue,
        };
        table(title, 2, stdout)?;
    }
    table(
        "the input: dX, passed back through every layer".to_string(),
        1,
        stdout,
    )?;

    writeln!(stdout)?;
    if floored {
        writeln!(
            stdout,
            "pass*: every entry agrees to rel_err {:e}, except near-zero ones that differ by less\n       \
             than {NOISE_FLOOR:e}, the rounding noise of a central difference (the bias of a dense\n       \
             layer before batch normalisation has a gradient of exactly 0, for instance)",
            gradcheck::TOLERANCE
        )?;
    }
    if failures.is_empty() {
        writeln!(
            stdout,
            "all gradients agree with central differences: backpropagation is right for this network"
        )?;
        Ok(())
    } else {
        // Away from h ≈ 1e-5 the estimate's own error grows: as h² above, as ε·L/h below (the
        // trade-off is in gradcheck.rs), so the step, not backward, may be what disagrees.
        let hint = if h > 1e-4 {
            format!("; the step --h {h} is large, so the estimate itself is off by O(h²)")
        } else if h < 1e-7 {
            format!(
                "; the step --h {h:e} is small, so the estimate itself is off by its rounding, about ε·L/h"
            )
        } else {
            "; a layer's backward disagrees with its forward".to_string()
        };
        Err(Error::Failed(format!(
            "{} of the gradients disagree with central differences beyond {:e}: {}{hint}",
            failures.len(),
            gradcheck::TOLERANCE,
            failures.join(", ")
        )))
    }
}
