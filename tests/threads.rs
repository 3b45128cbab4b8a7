//! The number of threads changes the time, never the numbers: the real binary trains the digits
//! network (whose products are large enough to be shared between threads) with
//! `BACKPROP_THREADS` = 1, 2 and 3, and every epoch's losses, accuracies and norms agree to the
//! last bit.

use std::path::PathBuf;
use std::process::Command;

/// Trains digits (64 → 128 → 64 → 10, full batch, 3 epochs) on `threads` threads and returns
/// the history it writes (`history.csv`: one line per epoch, every number in full precision).
fn history_on(threads: usize) -> String {
    let folder: PathBuf =
        std::env::temp_dir().join(format!("backprop-threads-{}-{threads}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["train", "digits", "--hidden", "128,64", "--batch-size", "0"])
        .args([
            "--epochs",
            "3",
            "--optimizer",
            "sgd",
            "--lr",
            "0.1",
            "--quiet",
            "--out",
        ])
        .arg(&folder)
        .env("BACKPROP_THREADS", threads.to_string())
        .output()
        .expect("the backprop binary runs");
    assert!(
        output.status.success(),
        "train digits on {threads} threads failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let history = std::fs::read_to_string(folder.join("history.csv")).expect("history.csv");
    let _ = std::fs::remove_dir_all(&folder);
    history
}

#[test]
fn training_gives_the_same_bits_on_any_number_of_threads() {
    let one = history_on(1);
    assert_eq!(one.lines().count(), 4, "a header and three epochs:\n{one}");
    for threads in [2, 3] {
        assert_eq!(
            history_on(threads),
            one,
            "the history on {threads} threads differs from the one on 1"
        );
    }
}
