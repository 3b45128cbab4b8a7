//! Writing output files so that an interrupted run never leaves half a file behind.
//!
//! Every file the crate writes (histories, summaries, models, figures) goes through
//! [`write_atomic`]: the bytes go to a temporary file in the same folder, which is then renamed
//! over the target. A rename within one folder is atomic on the file systems we run on, so a
//! reader sees either the old file or the new one, never a mixture; if the process dies half way,
//! only the temporary file is left.
//!
//! A run's folder describes that run and no other. Before its first epoch, a run removes the
//! files an earlier run wrote there ([`remove_run_files`]: only the crate's own file names of
//! [`RUN_FILES`], never a user's other files, so `--out .` is safe), and it then writes all of its
//! own, whether it finished or diverged. A run stopped half way leaves none of the earlier run's
//! files and some or none of its own: never a mixture of two runs.

use crate::error::io_reason;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically (a temporary file, then a rename).
///
/// # Errors
/// If the folder does not exist or is not writable, or the disk is full.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map_or("output".into(), |n| n.to_string_lossy());
    let temporary = folder.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::Input(format!(
            "cannot write {}: {}",
            path.display(),
            io_reason(&e)
        ))
    })
}

/// Creates `folder` (and its parents) if needed and checks that a file can be written in it,
/// so a bad output folder is reported before any training starts.
///
/// # Errors
/// If the name is empty, or the folder cannot be created or written to.
pub fn prepare_folder(folder: &Path) -> Result<()> {
    if folder.as_os_str().is_empty() {
        return Err(Error::Usage(
            "--out: the folder name is empty; give a folder such as out/run, or . for this one"
                .to_string(),
        ));
    }
    std::fs::create_dir_all(folder).map_err(|e| {
        Error::Input(format!(
            "cannot create the output folder {}: {}; choose another with --out",
            folder.display(),
            io_reason(&e)
        ))
    })?;
    let probe = folder.join(format!(".write-test.{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| {
        Error::Input(format!(
            "cannot write in the output folder {}: {}; choose another with --out",
            folder.display(),
            io_reason(&e)
        ))
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// The names of the files `train` writes into a run's output folder: the history, the summary,
/// every figure a run can have (`plot::run_figures`, and `plot … --run DIR` into that folder) and
/// the web page. Only these names (and their temporary files) are removed when a new run takes
/// the folder over ([`remove_run_files`]); a user's other files there are never touched.
pub const RUN_FILES: [&str; 7] = [
    "history.csv",
    "summary.json",
    "index.html",
    "learning-curves.svg",
    "gradient-flow.svg",
    "decision-boundary.svg",
    "sine-fit.svg",
];

/// Removes from `folder` the files called `names` and the temporary files [`write_atomic`] left
/// for them (`.NAME.PID.tmp`, if a process was stopped half way through a write), so that a new
/// run never leaves an earlier run's file beside its own. Nothing else in the folder is touched.
/// Returns the names removed.
///
/// # Errors
/// If a file is there but cannot be removed.
pub fn remove_files_named(folder: &Path, names: &[&str]) -> Result<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        // No folder, nothing of an earlier run in it.
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = names.contains(&name.as_str()) || is_temporary_of(&name, names);
        if !ours || entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        std::fs::remove_file(entry.path()).map_err(|e| {
            Error::Input(format!(
                "cannot remove {} of an earlier run: {}; remove it or choose another --out",
                entry.path().display(),
                io_reason(&e)
            ))
        })?;
        removed.push(name);
    }
    removed.sort();
    Ok(removed)
}

/// [`remove_files_named`] for [`RUN_FILES`]: clears a run folder of an earlier run's files.
///
/// # Errors
/// If a file is there but cannot be removed.
pub fn remove_run_files(folder: &Path) -> Result<Vec<String>> {
    remove_files_named(folder, &RUN_FILES)
}

/// True for `.NAME.PID.tmp` (the temporary file of [`write_atomic`]) with NAME one of `names`,
/// and for `.write-test.PID` (the probe of [`prepare_folder`]).
fn is_temporary_of(file: &str, names: &[&str]) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(pid) = file.strip_prefix(".write-test.") {
        return digits(pid);
    }
    let Some(inner) = file.strip_prefix('.').and_then(|f| f.strip_suffix(".tmp")) else {
        return false;
    };
    inner
        .rsplit_once('.')
        .is_some_and(|(name, pid)| digits(pid) && names.contains(&name))
}

/// Checks, before any training, that a file can be written at `path` (`train --save FILE`): the
/// name is not empty and not a folder, and its folder exists and takes a new file. Nothing is
/// left behind.
///
/// # Errors
/// If any of these fails; the message names `flag` and says what to do.
pub fn check_writable_file(path: &Path, flag: &str) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::Usage(format!(
            "{flag}: the file name is empty; give a file such as model.txt"
        )));
    }
    if path.is_dir() {
        return Err(Error::Input(format!(
            "{flag}: {} is a folder; give a file name, such as {}",
            path.display(),
            path.join("model.txt").display()
        )));
    }
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(Error::Input(format!(
            "{flag}: the folder {} does not exist; create it or save elsewhere",
            folder.display()
        )));
    }
    let probe = folder.join(format!(".write-test.{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| {
        Error::Input(format!(
            "{flag}: cannot write in the folder {}: {}; save elsewhere",
            folder.display(),
            io_reason(&e)
        ))
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_files_and_their_temporaries_are_ours() {
        let names = ["history.csv", "summary.json"];
        assert!(is_temporary_of(".history.csv.4242.tmp", &names));
        assert!(is_temporary_of(".write-test.17", &names));
        assert!(!is_temporary_of(".history.csv.tmp", &names));
        assert!(!is_temporary_of(".notes.txt.4242.tmp", &names));
        assert!(!is_temporary_of(".history.csv.12a.tmp", &names));
        assert!(!is_temporary_of("history.csv", &names));
    }

    #[test]
    fn removing_an_earlier_run_keeps_every_other_file() {
        let folder = std::env::temp_dir().join(format!("backprop-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(folder.join("sine-fit.svg")).unwrap();
        for file in [
            "history.csv",
            ".summary.json.99.tmp",
            "notes.txt",
            "history.csv.bak",
        ] {
            std::fs::write(folder.join(file), b"x").unwrap();
        }
        let removed = remove_run_files(&folder).unwrap();
        assert_eq!(removed, [".summary.json.99.tmp", "history.csv"]);
        let mut left: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        // A folder that happens to have a run file's name is not a file of ours.
        assert_eq!(left, ["history.csv.bak", "notes.txt", "sine-fit.svg"]);
        assert_eq!(remove_run_files(&folder.join("absent")).unwrap().len(), 0);
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
