//! The command line: `backprop <command> [arguments] [flags]`.
//!
//! Commands are an enum matched in one place ([`run`]); each lives in a file of its own and
//! declares its flags (see `args.rs`), so its help text is generated from what it accepts.
//! `src/main.rs` only calls [`main_with`] and exits with the code it returns.
//!
//! Adding a command takes four lines in this file: a [`Command`] variant, its entry in
//! [`Command::ALL`] (name and one line for help), its arm in [`run`], and its arm in
//! [`Command::help_text`].
//!
//! Everything is written to the `stdout` and `stderr` handed in, never with `println!`, so a
//! closed pipe (`backprop demo xor | head`) ends the program quietly instead of panicking, and
//! tests can capture the output.

pub mod args;
pub mod compare;
pub mod demo;
pub mod gradcheck;
pub mod plot;
pub mod predict;
pub mod train;

use crate::error::{Error, Result};
use std::io::Write;

/// The name of the binary, as used in help and messages.
pub const PROGRAM: &str = "backprop";

/// A command and its remaining words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Train a network on a task or CSV file.
    Train,
    /// Follow one training step with every number shown.
    Demo,
    /// Check every gradient against finite differences.
    Gradcheck,
    /// Train one task once per variant of a setting.
    Compare,
    /// Predict with a saved model.
    Predict,
    /// Draw figures as SVG files.
    Plot,
    /// Print the commands.
    Help,
    /// Print the version.
    Version,
}

impl Command {
    /// Every command with its one-line description, in the order help lists them.
    pub const ALL: &'static [(&'static str, Command, &'static str)] = &[
        (
            "train",
            Command::Train,
            "train a network on a task or a CSV file and report what happened",
        ),
        (
            "demo",
            Command::Demo,
            "one step of backpropagation on xor, circles or moons, every number shown and checked",
        ),
        (
            "gradcheck",
            Command::Gradcheck,
            "compare every gradient with central finite differences",
        ),
        (
            "compare",
            Command::Compare,
            "train one task once per activation, learning rate, size, depth or optimizer",
        ),
        (
            "predict",
            Command::Predict,
            "predict with a model saved by 'train --save FILE'",
        ),
        ("plot", Command::Plot, "draw the figures as SVG files"),
        ("help", Command::Help, "show this help (or 'help COMMAND')"),
        ("version", Command::Version, "show the version"),
    ];

    /// The command's own help text (its flags), for commands that have flags.
    pub fn help_text(&self) -> Option<String> {
        match self {
            Command::Train => Some(train::help_text()),
            Command::Compare => Some(compare::help_text()),
            Command::Predict => Some(predict::help_text()),
            Command::Demo => Some(demo::help_text()),
            Command::Gradcheck => Some(gradcheck::help_text()),
            Command::Plot => Some(plot::help_text()),
            Command::Help | Command::Version => None,
        }
    }

    /// The command called `name`.
    ///
    /// # Errors
    /// If there is none; the message suggests the closest name.
    pub fn from_name(name: &str) -> Result<Command> {
        if let Some((_, command, _)) = Command::ALL.iter().find(|(n, _, _)| *n == name) {
            return Ok(*command);
        }
        match name {
            "--help" | "-h" => return Ok(Command::Help),
            "--version" | "-V" => return Ok(Command::Version),
            _ => {}
        }
        let names: Vec<&str> = Command::ALL.iter().map(|(n, _, _)| *n).collect();
        Err(args::unknown(
            "command",
            name,
            &names,
            &format!("the commands are {}", names.join(", ")),
        ))
    }
}

/// Runs the command line `words` (without the program name), writing to `stdout` and `stderr`,
/// and returns the process exit code. Errors are printed as one line, `error: …`.
pub fn main_with(words: &[String], stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    match run(words, stdout, stderr) {
        Ok(()) => 0,
        Err(Error::OutputClosed) => 0,
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            error.exit_code()
        }
    }
}

/// Runs the command line `words`.
///
/// # Errors
/// Whatever the command reports: a usage or input error, or a failed run.
pub fn run(words: &[String], stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<()> {
    let Some(first) = words.first() else {
        // `cargo run` alone: the original design's examples, starting with the main job.
        return train::run(&[], stdout, stderr);
    };
    let rest = &words[1..];
    match Command::from_name(first)? {
        Command::Train => train::run(rest, stdout, stderr),
        Command::Demo => demo::run(rest, stdout),
        Command::Gradcheck => gradcheck::run(rest, stdout),
        Command::Compare => compare::run(rest, stdout, stderr),
        Command::Predict => predict::run(rest, stdout, stderr),
        Command::Plot => plot::run(rest, stdout, stderr),
        Command::Help => help(rest, stdout),
        Command::Version => {
            writeln!(stdout, "{PROGRAM} {}", env!("CARGO_PKG_VERSION"))?;
            Ok(())
        }
    }
}

fn help(rest: &[String], stdout: &mut dyn Write) -> Result<()> {
    if let Some(topic) = rest.first() {
        return match Command::from_name(topic)?.help_text() {
            Some(text) => {
                write!(stdout, "{text}")?;
                Ok(())
            }
            None => help(&[], stdout),
        };
    }
    writeln!(
        stdout,
        "{PROGRAM} {}: a neural network built from nothing, to learn backpropagation\n",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        stdout,
        "usage: {PROGRAM} <command> [arguments] [flags]\n\ncommands:"
    )?;
    for (name, _, about) in Command::ALL {
        writeln!(stdout, "  {name:<10} {about}")?;
    }
    writeln!(
        stdout,
        "\n'{PROGRAM} help COMMAND' or '{PROGRAM} COMMAND --help' shows a command's flags.\n\
         '{PROGRAM}' alone (or '{PROGRAM} train') runs three examples: circles, sine, and\n\
         'compare activations'."
    )?;
    Ok(())
}
