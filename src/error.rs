//! Errors a user can cause, each with a message that says what was wrong and how to fix it.
//!
//! The library never prints and never exits. Mistakes in the *program* (two matrices of shapes
//! that cannot be multiplied) are bugs and panic with both shapes in the message. Mistakes a
//! *user* can make (a misspelt flag, a CSV with a missing value, a learning rate of 50) come back
//! as an [`Error`], which the binary prints as one line, `error: …`, and turns into an exit code:
//!
//! ```text
//! Usage, Input    2   the command line, a file or a folder was wrong: usually found before
//!                     anything runs, but a result that cannot be written after training
//!                     (a full disk, a folder removed meanwhile) is Input too
//! Failed          1   the run itself went wrong: training diverged, a gradient check failed
//! OutputClosed    0   the reader of the output went away (`| head`): a normal end
//! ```

use std::fmt;

/// A user-facing error: what went wrong, in one sentence that names the culprit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The command line was wrong: an unknown command, task or flag, or a malformed value.
    Usage(String),
    /// A file or value could not be used: a CSV or model file, an output folder, or a result
    /// that could not be written.
    Input(String),
    /// The run failed: training diverged, or a check did not pass.
    Failed(String),
    /// The reader of standard output went away (`backprop demo xor | head`): a normal end.
    OutputClosed,
}

impl Error {
    /// The process exit code: 2 for usage and input errors, 1 for a failed run.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Input(_) => 2,
            Error::Failed(_) => 1,
            Error::OutputClosed => 0,
        }
    }

    /// The message without its category.
    pub fn message(&self) -> &str {
        match self {
            Error::Usage(m) | Error::Input(m) | Error::Failed(m) => m,
            Error::OutputClosed => "standard output was closed",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

/// Writing to the terminal or a pipe failed: a closed pipe is a normal end, anything else a
/// failed run.
impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            Error::OutputClosed
        } else {
            Error::Failed(format!("cannot write the output: {error}"))
        }
    }
}

/// The part of an I/O error a user can act on, in lowercase.
pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = error.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            text.to_lowercase()
        }
    }
}

/// `unknown WHAT 'NAME'; did you mean '…'?`, or `…; OTHERWISE` when no known name is close: the
/// error for a name that is not one of `known` (a command, a task, a study, a figure).
pub fn unknown(what: &str, name: &str, known: &[&str], otherwise: &str) -> Error {
    Error::Usage(format!(
        "unknown {what} '{name}'; {}",
        hint(name, known, otherwise)
    ))
}

/// `did you mean 'CLOSE'?` for the name in `known` closest to `name`, or `otherwise`.
pub fn hint(name: &str, known: &[&str], otherwise: &str) -> String {
    match suggest(name, known) {
        Some(close) => format!("did you mean '{close}'?"),
        None => otherwise.to_string(),
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (at most 2 edits, and fewer than half the word's letters).
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|&(d, c)| d <= 2 && d * 2 < word.chars().count().max(c.chars().count()))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Edit distance (optimal string alignment): the fewest single-letter insertions, deletions,
/// substitutions and swaps of two neighbouring letters that turn `a` into `b`. Swaps count as
/// one edit because they are the commonest typo (`adma` for `adam`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: the distance between the first i letters of a and the first j of b.
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for j in 0..=b.len() {
        d[0][j] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = substitution.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
