//! Writing output files so that an interrupted run never leaves half a file behind.
//!
//! Every file the crate writes (histories, summaries, models, figures) goes through
//! [`write_atomic`]: the bytes go to a temporary file in the same folder, which is then renamed
//! over the target. A rename within one folder is atomic on the file systems we run on, so a
//! reader sees either the old file or the new one, never a mixture; if the process dies half way,
//! only the temporary file is left.

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
/// If the folder cannot be created or written to.
pub fn prepare_folder(folder: &Path) -> Result<()> {
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
