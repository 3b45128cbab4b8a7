//! `backprop demo <xor|circles|moons> [flags]`: one training step with every number shown.
//!
//! The text is produced by the library (`demo.rs`) from the engine's own values; this file reads
//! the flags, picks the style (colour and box drawing only on a terminal without `NO_COLOR`) and
//! writes the text out.

use super::args::{self, Flag};
use crate::activation::Activation;
use crate::demo::{self, DemoOptions, Style};
use crate::error::{Error, Result};
use std::io::{IsTerminal, Write};

/// The flags of `demo`.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    Flag { name: "--hidden", value: "H", default: "3", help: "units in the hidden layer" },
    Flag { name: "--activation", value: "NAME", default: "tanh", help: "relu, leaky_relu, tanh, sigmoid, swish or identity" },
    Flag { name: "--lr", value: "RATE", default: "2", help: "learning rate η, greater than 0" },
    Flag { name: "--epochs", value: "N", default: "50 (xor), 150", help: "full-batch epochs to train" },
    Flag { name: "--seed", value: "N", default: "42", help: "seed of the data and the initial weights" },
    Flag { name: "--step", value: "N", default: "1", help: "show the step of epoch N in detail instead of the first" },
    Flag { name: "--sample", value: "K", default: "off", help: "also follow row K (from 0) as scalar arithmetic" },
    Flag { name: "--points", value: "N", default: "8", help: "points in the batch for circles and moons" },
];

/// The help text of `demo`.
pub fn help_text() -> String {
    args::help(
        "backprop demo <xor|circles|moons> [flags]",
        "Follows a small network through one complete step of backpropagation with real numbers:\n\
         the data, forward layer by layer, the loss, backward layer by layer with every gradient\n\
         checked against finite differences, the update, then training to the end. Each step\n\
         names the function in src/ that computed it. Without a task, shows xor.",
        FLAGS,
    )
}

/// Runs `demo` with the words after the command's name.
///
/// # Errors
/// For a bad flag or task.
pub fn run(words: &[String], stdout: &mut dyn Write) -> Result<()> {
    let parsed = args::parse(words, FLAGS, "demo")?;
    if parsed.switch("--help") {
        write!(stdout, "{}", help_text())?;
        return Ok(());
    }
    let task = match parsed.positionals.as_slice() {
        [] => "xor",
        [task] => task.as_str(),
        more => {
            return Err(Error::Usage(format!(
                "demo takes one task, got {}: {}",
                more.len(),
                more.join(" ")
            )))
        }
    };
    let mut options = DemoOptions::for_task(task)?;
    if let Some(hidden) = parsed.value::<usize>("--hidden", "a whole number of units")? {
        at_least(hidden, 1, "--hidden")?;
        options.hidden = hidden;
    }
    if let Some(name) = parsed.text("--activation") {
        options.activation = match Activation::from_name(name) {
            Some(f) if f != Activation::Softmax => f,
            _ => {
                return Err(args::unknown_name(
                    "--activation",
                    name,
                    &Activation::HIDDEN_NAMES,
                ))
            }
        };
    }
    if let Some(lr) = parsed.number("--lr")? {
        args::require(lr > 0.0, "--lr", lr, "a learning rate greater than 0")?;
        options.lr = lr;
    }
    if let Some(epochs) = parsed.value::<usize>("--epochs", "a whole number of epochs")? {
        at_least(epochs, 1, "--epochs")?;
        options.epochs = epochs;
    }
    if let Some(seed) =
        parsed.value::<u64>("--seed", "a whole number from 0 to 18446744073709551615")?
    {
        options.seed = seed;
    }
    if let Some(step) = parsed.value::<usize>("--step", "a whole number of epochs")? {
        at_least(step, 1, "--step")?;
        options.step = step;
    }
    options.sample = parsed.value::<usize>("--sample", "a row number from 0")?;
    if let Some(points) = parsed.value::<usize>("--points", "a whole number of points")? {
        if options.task == "xor" {
            return Err(Error::Usage(
                "--points: xor always has its 4 points; use --points with circles or moons".into(),
            ));
        }
        args::require(
            (2..=32).contains(&points),
            "--points",
            points,
            "2 to 32, so the matrices fit a screen",
        )?;
        options.points = points;
    }

    let styled = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let style = Style {
        color: styled,
        boxes: styled,
    };
    let text = demo::render(&options, style)?;
    stdout.write_all(text.as_bytes())?;
    Ok(())
}

fn at_least(value: usize, least: usize, flag: &str) -> Result<()> {
    args::require(value >= least, flag, value, &format!("at least {least}"))
}
