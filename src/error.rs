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

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
