//! Property tests driven by the crate's own generator: hundreds of random inputs each.
//!
//! A loader must answer any input with a dataset or an error, never a panic. The inputs are random
//! byte strings, and random cuts and corruptions of a real CSV file, the kinds of damage a
//! half-copied or hand-edited file shows.

use backprop::data::csv::{parse, TargetKind};
use backprop::rng::Rng;

const CASES: usize = 500;

fn iris_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/iris.csv"))
        .expect("datasets/iris.csv ships with the crate")
}

/// Parses `bytes` as a CSV file would be read (invalid UTF-8 replaced), with every target kind,
/// and checks that a success is a consistent dataset.
fn parse_never_panics(bytes: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(bytes);
    let mut outcomes = (0, 0);
    for target in [
        TargetKind::Auto,
        TargetKind::Classification,
        TargetKind::Regression,
    ] {
        match parse(&text, "random.csv", "random", target) {
            Ok(data) => {
                assert_eq!(data.x.rows(), data.y.rows());
                assert_eq!(data.x.cols(), data.feature_names.len());
                assert!(data.x.is_finite() && data.y.is_finite());
                outcomes.0 += 1;
            }
            Err(error) => {
                let message = error.to_string();
                assert!(message.starts_with("random.csv"), "{message}");
                assert!(!message.contains('\n'), "one line: {message}");
                outcomes.1 += 1;
            }
        }
    }
    outcomes
}

#[test]
fn random_bytes_never_panic_the_csv_loader() {
    let mut rng = Rng::new(1);
    // Bytes drawn mostly from the characters a CSV is made of, so some inputs get deep.
    let alphabet = b"0123456789.,-+e\n\r\"abc NaN";
    let mut errors = 0;
    for _ in 0..CASES {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.uniform() < 0.9 {
                    alphabet[rng.below(alphabet.len())]
                } else {
                    rng.below(256) as u8
                }
            })
            .collect();
        errors += parse_never_panics(&bytes).1;
    }
    assert!(errors > 0, "random bytes should mostly be rejected");
}

#[test]
fn random_cuts_of_a_valid_csv_never_panic_the_loader() {
    let text = iris_text();
    let bytes = text.as_bytes();
    let mut rng = Rng::new(2);
    let mut accepted = 0;
    for _ in 0..CASES {
        let cut = rng.below(bytes.len() + 1);
        accepted += parse_never_panics(&bytes[..cut]).0;
    }
    // Cuts at a line end leave a valid, shorter table.
    assert!(accepted > 0, "some cuts leave a valid table");
}

#[test]
fn random_corruptions_of_a_valid_csv_never_panic_the_loader() {
    let text = iris_text();
    let mut rng = Rng::new(3);
    let damage = [b',', b'"', b'\n', b'x', b'-', b'.', b'e', 0xff, b' '];
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..CASES {
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..1 + rng.below(5) {
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[at] = damage[rng.below(damage.len())],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, damage[rng.below(damage.len())]),
            }
        }
        let (ok, err) = parse_never_panics(&bytes);
        accepted += ok;
        rejected += err;
    }
    assert!(
        accepted > 0 && rejected > 0,
        "{accepted} accepted, {rejected} rejected"
    );
}
