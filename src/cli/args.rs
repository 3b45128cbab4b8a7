//! Command-line flags: declared once per command, parsed, checked, and turned into help text.
//!
//! Each command lists its flags as [`Flag`]s (name, value placeholder, default, one line of
//! meaning). [`parse`] matches the words of the command line against that list, so an unknown or
//! misspelt flag is caught at once with a suggestion, and [`help`] prints the same list, so the
//! help can never fall out of step with what is accepted.
//!
//! A suggestion comes from, in order: the same name written with `_` or a single dash
//! (`--batch_size`, `-lr`), the spellings other tools use for the same setting
//! ([`OTHER_SPELLINGS`]: `--learning-rate` → `--lr`, `--batch` → `--batch-size`, `--layers` →
//! `--hidden`), and typos of at most two edits (`--lrr` → `--lr`).
//!
//! Values are checked where they enter: [`Parsed::value`] turns text into a number (or any
//! `FromStr` type) and reports the flag and the text when it cannot.

pub use crate::error::{edit_distance, hint, suggest, unknown};
use crate::error::{Error, Result};
use std::str::FromStr;

/// One flag a command accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The flag as typed, e.g. `--lr`.
    pub name: &'static str,
    /// The value's placeholder, e.g. `RATE`; empty for a switch that takes no value.
    pub value: &'static str,
    /// The default, as shown in help (empty when there is none or it depends on the task).
    pub default: &'static str,
    /// One line of meaning.
    pub help: &'static str,
}

impl Flag {
    /// True for a switch (a flag without a value, such as `--quiet`).
    pub fn is_switch(&self) -> bool {
        self.value.is_empty()
    }
}

/// The command line after parsing: positional words, flag values and switches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The words that are not flags, in order.
    pub positionals: Vec<String>,
    values: Vec<(&'static str, String)>,
    switches: Vec<&'static str>,
}

impl Parsed {
    /// True when the switch `name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.contains(&name)
    }

    /// The raw text given for flag `name` (the last one, if repeated).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(flag, _)| *flag == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of flag `name` parsed as `T`, or None when it was not given.
    ///
    /// # Errors
    /// When the text does not parse; the message names the flag, the text and `expected`.
    pub fn value<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>> {
        match self.text(name) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse::<T>()
                .map(Some)
                .map_err(|_| Error::Usage(format!("{name}: '{text}' is not {expected}"))),
        }
    }

    /// A finite number for flag `name`, or None when it was not given.
    ///
    /// # Errors
    /// When the text is not a number, or is NaN or infinite.
    pub fn number(&self, name: &str) -> Result<Option<f64>> {
        match self.value::<f64>(name, "a number")? {
            Some(v) if !v.is_finite() => Err(Error::Usage(format!(
                "{name}: '{}' is not a finite number",
                self.text(name).unwrap_or_default()
            ))),
            other => Ok(other),
        }
    }
}

/// Parses `words` (the command line after the command's name) against `flags`.
///
/// Flags are written `--name VALUE` or `--name=VALUE`; a value may start with `-` (a negative
/// number). `--help` and `-h` are always accepted as switches.
///
/// # Errors
/// For an unknown flag (with the closest known one as a suggestion), a value missing after a
/// flag, or a value given to a switch.
pub fn parse(words: &[String], flags: &[Flag], command: &str) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        if word == "--help" || word == "-h" {
            parsed.switches.push("--help");
            continue;
        }
        if !word.starts_with("--") || word == "--" {
            // `-0.5` and `-0.5,0.2` are numbers (a value or an input row), not flags.
            // `strip_prefix` rather than `word[1..]`: the first letter may be several bytes (`é`).
            let numeric = word
                .strip_prefix('-')
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit() || c == '.'));
            if word.starts_with('-') && word.len() > 1 && !numeric {
                return Err(unknown_flag(word, flags, command));
            }
            parsed.positionals.push(word.clone());
            continue;
        }
        let (name, inline_value) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (word.as_str(), None),
        };
        let Some(flag) = flags.iter().find(|f| f.name == name) else {
            return Err(unknown_flag(name, flags, command));
        };
        if flag.is_switch() {
            if inline_value.is_some() {
                return Err(Error::Usage(format!(
                    "{name} takes no value; write just {name}"
                )));
            }
            parsed.switches.push(flag.name);
            continue;
        }
        let value = match inline_value {
            Some(value) => value,
            None if i < words.len() => {
                i += 1;
                words[i - 1].clone()
            }
            None => {
                return Err(Error::Usage(format!(
                    "{name} needs a value ({}) after it",
                    flag.value
                )))
            }
        };
        parsed.values.push((flag.name, value));
    }
    Ok(parsed)
}

/// Other spellings of our flags that users bring from other tools (Keras, scikit-learn, PyTorch
/// scripts) or from habit, each with the flag it means. They are never accepted, only suggested:
/// a command line means one thing, and the help lists one name per setting.
pub const OTHER_SPELLINGS: &[(&str, &str)] = &[
    ("--learning-rate", "--lr"),
    ("--learningrate", "--lr"),
    ("--eta", "--lr"),
    ("--step-size", "--lr"),
    ("--learning-rate-init", "--lr"),
    ("--batch", "--batch-size"),
    ("--batchsize", "--batch-size"),
    ("--bs", "--batch-size"),
    ("--minibatch", "--batch-size"),
    ("--mini-batch", "--batch-size"),
    ("--minibatch-size", "--batch-size"),
    ("--mini-batch-size", "--batch-size"),
    ("--layers", "--hidden"),
    ("--layer", "--hidden"),
    ("--hidden-layers", "--hidden"),
    ("--hidden-layer-sizes", "--hidden"),
    ("--hidden-sizes", "--hidden"),
    ("--hidden-size", "--hidden"),
    ("--hidden-units", "--hidden"),
    ("--units", "--hidden"),
    ("--neurons", "--hidden"),
    ("--sizes", "--hidden"),
    ("--architecture", "--hidden"),
    ("--iterations", "--epochs"),
    ("--iters", "--epochs"),
    ("--max-iter", "--epochs"),
    ("--n-epochs", "--epochs"),
    ("--num-epochs", "--epochs"),
    ("--optim", "--optimizer"),
    ("--opt", "--optimizer"),
    ("--solver", "--optimizer"),
    ("--act", "--activation"),
    ("--activation-function", "--activation"),
    ("--nonlinearity", "--activation"),
    ("--weight-decay", "--l2"),
    ("--lambda", "--l2"),
    ("--alpha", "--l2"),
    ("--regularization", "--l2"),
    ("--decay", "--lr-decay"),
    ("--lr-schedule", "--lr-decay"),
    ("--gamma", "--lr-decay"),
    ("--batchnorm", "--batch-norm"),
    ("--bn", "--batch-norm"),
    ("--clip-norm", "--clip"),
    ("--grad-clip", "--clip"),
    ("--gradient-clipping", "--clip"),
    ("--max-norm", "--clip"),
    ("--dropout-rate", "--dropout"),
    ("--random-seed", "--seed"),
    ("--random-state", "--seed"),
    ("--n-samples", "--samples"),
    ("--num-samples", "--samples"),
    ("--test-size", "--test-fraction"),
    ("--test-split", "--test-fraction"),
    ("--test-ratio", "--test-fraction"),
    ("--split", "--test-fraction"),
    ("--holdout", "--test-fraction"),
    ("--no-standardise", "--no-standardize"),
    ("--no-normalize", "--no-standardize"),
    ("--no-normalise", "--no-standardize"),
    ("--raw", "--no-standardize"),
    ("--output", "--out"),
    ("--output-dir", "--out"),
    ("--out-dir", "--out"),
    ("--outdir", "--out"),
    ("--dir", "--out"),
    ("--save-model", "--save"),
    ("--model-file", "--save"),
    ("--model", "--save"),
    ("--silent", "--quiet"),
    ("--input", "--data"),
    ("--file", "--data"),
    ("--csv", "--data"),
    ("--dataset", "--task"),
    ("--data", "--task"),
];

/// The flag of `flags` that `name` most likely means: the same flag written with `_` or one
/// dash (`--batch_size`, `-lr`), one of [`OTHER_SPELLINGS`], or a typo (at most two edits).
pub fn likely_flag(name: &str, flags: &[Flag]) -> Option<&'static str> {
    let names: Vec<&'static str> = flags.iter().map(|f| f.name).collect();
    let bare = name
        .trim_start_matches('-')
        .to_lowercase()
        .replace('_', "-");
    let normal = format!("--{bare}");
    if let Some(same) = names.iter().find(|n| **n == normal) {
        return Some(same);
    }
    let single_letter = match bare.as_str() {
        "o" => Some("--out"),
        "q" => Some("--quiet"),
        "e" => Some("--epochs"),
        "s" => Some("--seed"),
        "m" => Some("--model"),
        _ => None,
    };
    let other = OTHER_SPELLINGS
        .iter()
        .filter(|(spelling, _)| *spelling == normal)
        .map(|(_, real)| *real)
        .chain(single_letter);
    for real in other {
        if let Some(found) = names.iter().find(|n| **n == real) {
            return Some(found);
        }
    }
    suggest(&normal, &names)
}

fn unknown_flag(name: &str, flags: &[Flag], command: &str) -> Error {
    let hint = match likely_flag(name, flags) {
        Some(close) => format!("; did you mean '{close}'?"),
        None => format!("; see 'backprop {command} --help'"),
    };
    Error::Usage(format!("unknown flag '{name}' for '{command}'{hint}"))
}

/// `FLAG: unknown name 'NAME'; did you mean '…'?` (or the list of `known` names): the error
/// for a flag whose value must be one of a few names (`--activation`, `--optimizer`).
pub fn unknown_name(flag: &str, name: &str, known: &[&str]) -> Error {
    let hint = hint(name, known, &format!("choose one of {}", known.join(", ")));
    Error::Usage(format!("{flag}: unknown name '{name}'; {hint}"))
}

/// `FLAG: VALUE is out of range; expected EXPECTED` unless `ok`.
///
/// # Errors
/// When `ok` is false.
pub fn require(ok: bool, flag: &str, value: impl std::fmt::Display, expected: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{flag}: {value} is out of range; expected {expected}"
        )))
    }
}

/// The help text of a command: its usage line, a description, and one line per flag.
pub fn help(usage: &str, about: &str, flags: &[Flag]) -> String {
    let mut text = format!("usage: {usage}\n\n{about}\n");
    if !flags.is_empty() {
        text.push_str("\nflags:\n");
        let width = flags
            .iter()
            .map(|f| f.name.len() + f.value.len() + 1)
            .max()
            .unwrap_or(0);
        for flag in flags {
            let left = if flag.is_switch() {
                flag.name.to_string()
            } else {
                format!("{} {}", flag.name, flag.value)
            };
            let default = if flag.default.is_empty() {
                String::new()
            } else {
                format!(" [default: {}]", flag.default)
            };
            let line = format!("  {left:<width$}  {}{default}", flag.help);
            text.push_str(&wrap(&line, width + 4));
            text.push('\n');
        }
    }
    text
}

/// The widest line help prints, in columns.
pub const HELP_WIDTH: usize = 100;

/// `line` broken at spaces into lines of at most [`HELP_WIDTH`] columns, each continuation
/// indented by `indent` spaces (under the text it continues). A single word longer than the width
/// stays whole.
pub fn wrap(line: &str, indent: usize) -> String {
    let mut out = String::new();
    let mut rest = line.to_string();
    while rest.chars().count() > HELP_WIDTH {
        // The last space within the width, past the indent (byte offsets: names may be `η`).
        let cut = rest
            .char_indices()
            .enumerate()
            .take(HELP_WIDTH + 1)
            .filter(|&(column, (_, c))| c == ' ' && column > indent)
            .map(|(_, (byte, _))| byte)
            .last();
        let Some(cut) = cut else { break };
        out.push_str(rest[..cut].trim_end());
        out.push('\n');
        rest = format!("{}{}", " ".repeat(indent), rest[cut..].trim_start());
    }
    out.push_str(&rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_one_or_two_edits_away() {
        assert_eq!(edit_distance("circle", "circles"), 1);
        assert_eq!(edit_distance("adma", "adam"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(suggest("rellu", &["relu", "tanh"]), Some("relu"));
        assert_eq!(suggest("banana", &["relu", "tanh"]), None);
    }

    #[test]
    fn other_tools_spellings_of_a_flag_suggest_ours() {
        let flags = crate::cli::train::FLAGS;
        for (typed, meant) in [
            ("--learning-rate", "--lr"),
            ("--learning_rate", "--lr"),
            ("-lr", "--lr"),
            ("--batch", "--batch-size"),
            ("--batch_size", "--batch-size"),
            ("--layers", "--hidden"),
            ("--hidden-layer-sizes", "--hidden"),
            ("--weight-decay", "--l2"),
            ("--iterations", "--epochs"),
            ("--output", "--out"),
            ("-o", "--out"),
            ("--LR", "--lr"),
            ("--lrr", "--lr"),
        ] {
            assert_eq!(likely_flag(typed, flags), Some(meant), "{typed}");
        }
        assert_eq!(likely_flag("--banana", flags), None);
        // Only a flag the command has is suggested: compare has no --save.
        assert_eq!(
            likely_flag("--save-model", crate::cli::compare::FLAGS),
            None
        );
        // Every suggestion names a real flag of some command, and no spelling is listed twice.
        let all: Vec<&str> = [
            crate::cli::train::FLAGS,
            crate::cli::compare::FLAGS,
            crate::cli::predict::FLAGS,
        ]
        .iter()
        .flat_map(|f| f.iter().map(|f| f.name))
        .collect();
        for (i, (spelling, real)) in OTHER_SPELLINGS.iter().enumerate() {
            assert!(all.contains(real), "{spelling} → {real}");
            assert!(!OTHER_SPELLINGS[..i]
                .iter()
                .any(|(s, r)| s == spelling && r == real));
        }
    }

    #[test]
    fn long_help_lines_wrap_under_their_text() {
        assert_eq!(wrap("  --a  short", 7), "  --a  short");
        let long = format!("  --a  {}", "word ".repeat(30).trim_end());
        let wrapped = wrap(&long, 7);
        assert!(wrapped.lines().count() > 1, "{wrapped}");
        for line in wrapped.lines() {
            assert!(line.chars().count() <= HELP_WIDTH, "{line}");
        }
        assert!(wrapped.lines().nth(1).unwrap().starts_with("       word"));
        assert_eq!(wrapped.replace('\n', " ").split_whitespace().count(), 31);
    }
}
