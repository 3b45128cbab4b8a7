//! The real binary, run as a user would.

use std::process::Command;

fn backprop(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .output()
        .expect("the backprop binary runs")
}

#[test]
fn train_circles_reaches_the_promised_accuracy_and_writes_its_files() {
    let out = std::env::temp_dir().join(format!("backprop-cli-{}", std::process::id()));
    let output = backprop(&[
        "train",
        "circles",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("2 → 10 relu → 1 sigmoid · 41 parameters"),
        "{stdout}"
    );
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let accuracy: f64 = summary
        .lines()
        .find(|l| l.contains("\"test_accuracy\""))
        .and_then(|l| l.split(':').nth(1))
        .map(|v| v.trim().trim_end_matches(',').parse().unwrap())
        .unwrap();
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    assert!(out.join("history.csv").exists());
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_misspelt_task_gets_a_suggestion_and_exit_code_2() {
    let output = backprop(&["train", "circle"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim(),
        "error: unknown task 'circle'; did you mean 'circles'?"
    );
}
