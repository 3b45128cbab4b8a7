//! Divergence is caught and reported; the same command and seed give the same files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn backprop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .output()
        .expect("the backprop binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("backprop-trust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_huge_learning_rate_stops_with_the_epoch_the_layer_and_advice() {
    let out = scratch("diverge");
    let output = backprop(&[
        "train",
        "sine",
        "--optimizer",
        "sgd",
        "--lr",
        "50",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("error: training diverged in epoch "),
        "{stderr}"
    );
    let epoch: usize = line["error: training diverged in epoch ".len()..]
        .split(':')
        .next()
        .and_then(|e| e.parse().ok())
        .unwrap_or_else(|| panic!("an epoch number in {line}"));
    assert!((2..=100).contains(&epoch), "diverged in epoch {epoch}");
    assert!(
        line.contains('Z') || line.contains('W'),
        "names a layer: {line}"
    );
    for advice in ["smaller --lr", "--clip", "standardised inputs"] {
        assert!(line.contains(advice), "suggests {advice}: {line}");
    }
    // The history up to the divergence is still written: one row per completed epoch.
    let history = std::fs::read_to_string(out.join("history.csv")).expect("history.csv written");
    assert_eq!(
        history.lines().count(),
        epoch,
        "a header and {} epochs",
        epoch - 1
    );
    // And the summary says so, with numbers JSON can hold: the non-finite ones are null.
    let summary = std::fs::read_to_string(out.join("summary.json")).expect("summary.json written");
    for line in [
        "\"diverged\": true,".to_string(),
        format!("\"epochs_completed\": {},", epoch - 1),
        format!("\"epoch\": {epoch},"),
        "\"train_loss\": null,".to_string(),
    ] {
        assert!(summary.contains(&line), "{line} missing: {summary}");
    }
    assert!(
        !summary.contains("NaN") && !summary.contains("inf"),
        "{summary}"
    );
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_diverging_runs_progress_reads_in_scientific_notation() {
    let out = scratch("diverge-progress");
    let output = backprop(&[
        "train",
        "sine",
        "--optimizer",
        "sgd",
        "--lr",
        "50",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let progress = stderr
        .lines()
        .find(|l| l.starts_with("epoch     1/300"))
        .unwrap_or_else(|| panic!("no progress line: {stderr}"));
    // Loss 1.857e71, not 186 followed by 69 digits.
    let loss = progress
        .split("loss ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    let (mantissa, exponent) = loss.split_once('e').unwrap_or_else(|| panic!("{progress}"));
    assert_eq!(mantissa.len(), "1.857".len(), "{progress}");
    assert!(exponent.parse::<i32>().unwrap() > 6, "{progress}");
    let longest_digits = progress
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest_digits <= 6, "{progress}");
    let _ = std::fs::remove_dir_all(out);
}

/// Every file of a run folder, by name, with lines that record run time removed.
fn run_files(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap();
            (name, without_timings(bytes))
        })
        .collect();
    files.sort();
    files
}

/// Drops the lines that hold wall-clock times (`"seconds"`, `"train_seconds"`, `… s` in text).
fn without_timings(bytes: Vec<u8>) -> Vec<u8> {
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        return bytes;
    };
    text.lines()
        .filter(|line| !line.contains("seconds") && !line.contains(" s<") && !line.contains(" s\""))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

#[test]
fn the_same_seed_gives_byte_identical_files_and_another_seed_does_not() {
    let runs: Vec<(PathBuf, &str)> = vec![
        (scratch("seed-7-a"), "7"),
        (scratch("seed-7-b"), "7"),
        (scratch("seed-8"), "8"),
    ];
    for (folder, seed) in &runs {
        let output = backprop(&[
            "train",
            "moons",
            "--epochs",
            "40",
            "--quiet",
            "--seed",
            seed,
            "--out",
            folder.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let a = run_files(&runs[0].0);
    let b = run_files(&runs[1].0);
    let c = run_files(&runs[2].0);
    assert!(a.iter().any(|(name, _)| name == "history.csv"));
    assert_eq!(a.len(), b.len());
    for ((name_a, bytes_a), (name_b, bytes_b)) in a.iter().zip(&b) {
        assert_eq!(name_a, name_b);
        assert!(
            bytes_a == bytes_b,
            "{name_a} differs between two runs with seed 7"
        );
    }
    let history = |files: &[(String, Vec<u8>)]| {
        files
            .iter()
            .find(|(n, _)| n == "history.csv")
            .map(|(_, b)| b.clone())
    };
    assert_ne!(history(&a), history(&c), "seed 8 must give another history");
    for (folder, _) in runs {
        let _ = std::fs::remove_dir_all(folder);
    }
}

#[test]
fn a_run_stopped_during_training_leaves_no_file_of_the_run_before() {
    let out = scratch("stopped");
    let finished = backprop(&[
        "train",
        "circles",
        "--epochs",
        "5",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(finished.status.success());
    assert!(out.join("summary.json").exists());
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    // A run long enough to be stopped half way (digits, far more epochs than it could finish).
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["train", "digits", "--epochs", "100000", "--quiet", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the backprop binary starts");
    // The earlier run's files go before the first epoch; wait for that (at most a minute).
    let waited = std::time::Instant::now();
    let earlier_left = || {
        backprop::files::RUN_FILES
            .iter()
            .any(|name| out.join(name).exists())
    };
    while earlier_left() && waited.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().expect("the run can be stopped");
    let _ = child.wait();
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // Nothing of circles' run (it would describe a run that is not the folder's last), nothing
    // of the stopped one (it wrote nothing before its end), and the user's file untouched.
    assert_eq!(left, ["notes.txt"], "left behind: {left:?}");
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    let _ = std::fs::remove_dir_all(out);
}
