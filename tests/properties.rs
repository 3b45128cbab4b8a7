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

// ----- Model files -----------------------------------------------------------------------------

use backprop::activation::Activation;
use backprop::data::{Standardizer, Task};
use backprop::matrix::Matrix;
use backprop::model_file::Model;
use backprop::network::{Architecture, Network};

/// A model with a random architecture, random weights, and sometimes standardisation.
fn random_model(rng: &mut Rng) -> Model {
    let n_in = 1 + rng.below(5);
    let hidden: Vec<usize> = (0..rng.below(4)).map(|_| 1 + rng.below(6)).collect();
    let activation =
        Activation::from_name(Activation::HIDDEN_NAMES[rng.below(Activation::HIDDEN_NAMES.len())])
            .unwrap();
    let (target, n_out, output, class_names) = match rng.below(3) {
        0 => (
            Task::Binary,
            1,
            Activation::Sigmoid,
            vec!["no".into(), "yes".into()],
        ),
        1 => {
            let k = 3 + rng.below(3);
            let names = (0..k).map(|c| format!("class {c}")).collect();
            (
                Task::Multiclass { classes: k },
                k,
                Activation::Softmax,
                names,
            )
        }
        _ => (Task::Regression, 1, Activation::Identity, Vec::new()),
    };
    let architecture = Architecture {
        n_in,
        hidden,
        activation,
        n_out,
        output,
        batch_norm: rng.below(2) == 1,
        dropout: if rng.below(2) == 1 { 0.25 } else { 0.0 },
    };
    let mut network = Network::mlp(&architecture, rng);
    // Train-mode passes move the batch-norm running statistics away from their defaults, so the
    // file must carry them too.
    let x = Matrix::random_normal(8, n_in, 0.0, 3.0, rng);
    network.forward(&x, true);
    let standardizer = (rng.below(2) == 1).then(|| Standardizer::fit(&x));
    // A regression's target statistics, in half of the regressions (one per output).
    let target_standardizer = (target == Task::Regression && rng.below(2) == 1)
        .then(|| Standardizer::fit(&Matrix::random_normal(8, n_out, 300.0, 40.0, rng)));
    Model {
        task: "random".to_string(),
        target,
        class_names,
        feature_names: (0..n_in).map(|j| format!("f{j}")).collect(),
        standardizer,
        target_standardizer,
        network,
    }
}

#[test]
fn save_load_save_is_byte_identical_and_predicts_the_same_bits() {
    let mut rng = Rng::new(4);
    for case in 0..300 {
        let mut model = random_model(&mut rng);
        let text = model.to_text();
        let mut loaded = Model::parse(&text, "random.txt")
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"));
        assert_eq!(loaded.to_text(), text, "case {case}");
        let x = Matrix::random_normal(5, model.network.n_in(), 0.0, 2.0, &mut rng);
        let expected = model.predict(&x);
        let got = loaded.predict(&x);
        let same_bits = expected
            .as_slice()
            .iter()
            .zip(got.as_slice())
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same_bits, "case {case}: {expected:?} vs {got:?}");
    }
}

#[test]
fn random_cuts_and_corruptions_of_a_model_file_never_panic_the_loader() {
    let mut rng = Rng::new(5);
    let (mut accepted, mut rejected) = (0, 0);
    let damage = [
        "", " ", "x", "-", "1e999", "NaN", "\n", "layer", "W", "99", "0", "end",
    ];
    for _ in 0..CASES {
        let text = random_model(&mut rng).to_text();
        let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
        let damaged = match rng.below(3) {
            0 => {
                // Cut at any character boundary.
                let cut = rng.below(text.chars().count() + 1);
                text.chars().take(cut).collect::<String>()
            }
            1 => {
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(words.len());
                    words[at] = damage[rng.below(damage.len())].to_string();
                }
                words.join(" ")
            }
            _ => {
                let mut lines: Vec<&str> = text.lines().collect();
                let at = rng.below(lines.len());
                if rng.below(2) == 0 {
                    lines.remove(at);
                } else {
                    lines.insert(at, lines[rng.below(lines.len())]);
                }
                lines.join("\n")
            }
        };
        match Model::parse(&damaged, "damaged.txt") {
            Ok(_) => accepted += 1,
            Err(error) => {
                let message = error.to_string();
                assert!(message.contains("damaged.txt"), "{message}");
                assert!(!message.contains('\n'), "one line: {message}");
                rejected += 1;
            }
        }
    }
    assert!(
        rejected > CASES / 2,
        "{accepted} accepted, {rejected} rejected"
    );
}
