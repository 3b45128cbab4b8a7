//! `backprop plot <figure|all> [flags]`: draw the book's figures as SVG files.
//!
//! Each figure trains what it needs with fixed seeds, so the same command writes the same bytes
//! in an empty folder. `--run DIR` draws a finished `train` run instead (its `history.csv`) for
//! the figures that chart a history: `learning-curves` and `gradient-flow`; `--model FILE` draws
//! a saved model's network (`architecture`), connection colour its sign and width its size.
//!
//! ```text
//! stdout            the path of each file written, one per line
//! out/plots/*.svg   the figures (or --out DIR)
//! DIR/*.svg         with --run DIR: the run's figures go into the run's own folder (or --out)
//! ```

use super::args::{self, Flag};
use crate::error::{Error, Result};
use crate::plot::{self, Settings, FIGURES};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

/// The flags of `plot`.
#[rustfmt::skip]
pub const FLAGS: &[Flag] = &[
    Flag { name: "--out", value: "DIR", default: "out/plots, or the --run folder", help: "folder to write the SVG files into" },
    Flag { name: "--run", value: "DIR", default: "", help: "draw a train output folder's history (learning-curves, gradient-flow)" },
    Flag { name: "--model", value: "FILE", default: "", help: "draw a model saved by 'train --save FILE' (architecture)" },
    Flag { name: "--quick", value: "", default: "", help: "a tenth of the epochs: faster, rougher pictures (for tests)" },
];

/// The help text of `plot`.
pub fn help_text() -> String {
    let mut about = String::from(
        "Draws figures as SVG files and prints the path of each. 'all' draws every one.\n\nfigures:\n",
    );
    for (name, what) in FIGURES {
        let _ = writeln!(about, "  {name:<18} {what}");
    }
    args::help(
        "backprop plot <figure|all> [flags]",
        about.trim_end(),
        FLAGS,
    )
}

/// Runs `plot` with the words after the command's name.
///
/// # Errors
/// For an unknown figure or flag, a `--run` folder without a history, or a file that cannot be
/// written.
pub fn run(words: &[String], stdout: &mut dyn Write, _stderr: &mut dyn Write) -> Result<()> {
    let parsed = args::parse(words, FLAGS, "plot")?;
    if parsed.switch("--help") {
        write!(stdout, "{}", help_text())?;
        return Ok(());
    }
    let names: Vec<String> = match parsed.positionals.as_slice() {
        [] => {
            return Err(Error::Usage(
                "plot needs a figure name or 'all'; see 'backprop plot --help'".to_string(),
            ))
        }
        [one] if one == "all" => FIGURES.iter().map(|(n, _)| n.to_string()).collect(),
        many => many.to_vec(),
    };
    let run_folder = parsed.text("--run").map(PathBuf::from);
    if run_folder.is_some() {
        if let Some(other) = names
            .iter()
            .find(|n| !matches!(n.as_str(), "learning-curves" | "gradient-flow"))
        {
            return Err(Error::Usage(format!(
                "--run draws a train run's history: it applies to learning-curves and gradient-flow, not '{other}'"
            )));
        }
    }
    let model = parsed.text("--model").map(PathBuf::from);
    if model.is_some() {
        if let Some(other) = names.iter().find(|n| n.as_str() != "architecture") {
            return Err(Error::Usage(format!(
                "--model draws a saved network: it applies to architecture, not '{other}'"
            )));
        }
    }
    let settings = Settings {
        quick: parsed.switch("--quick"),
        run: run_folder,
        model,
    };
    // A figure of a run belongs beside the run's other files, not over the default figure.
    let out = parsed
        .text("--out")
        .map(PathBuf::from)
        .or_else(|| settings.run.clone())
        .unwrap_or_else(|| PathBuf::from("out/plots"));
    for name in &names {
        let figures = plot::make(name, &settings)?;
        for path in plot::write(&figures, &out)? {
            writeln!(stdout, "{}", path.display())?;
        }
    }
    Ok(())
}
