//! `backprop demo` and `backprop gradcheck`, run as a learner runs them: the key lines, the
//! printed numbers against the engine's own, the whole text against a golden copy, exit codes.

use backprop::activation::Activation;
use backprop::demo::{self, DemoOptions, Style};
use backprop::loss::Loss;
use backprop::network::{Architecture, Network};
use backprop::rng::Rng;
use std::path::Path;
use std::process::{Command, Output};

fn backprop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the backprop binary runs")
}

/// The standard output of a run that must succeed.
fn stdout_of(args: &[&str]) -> String {
    let output = backprop(args);
    assert!(
        output.status.success(),
        "backprop {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the demo writes UTF-8")
}

/// The number after `prefix` on `line`, up to the next space.
fn number_after(line: &str, prefix: &str) -> f64 {
    let start = line
        .find(prefix)
        .unwrap_or_else(|| panic!("no '{prefix}' in: {line}"))
        + prefix.len();
    let text = line[start..].split_whitespace().next().unwrap();
    text.trim_end_matches([';', ':', ','])
        .parse()
        .unwrap_or_else(|_| panic!("'{text}' after '{prefix}' is not a number in: {line}"))
}

/// The numbers between the first pair of brackets on `line`: `[ 0.1 -0.2 ]`.
fn bracketed(line: &str) -> Vec<f64> {
    let open = line.find('[').unwrap();
    let close = open + line[open..].find(']').unwrap();
    line[open + 1..close]
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect()
}

/// The rows of the gradient printed under the header `d{name}, backprop`.
fn printed_gradient(text: &str, name: &str) -> Vec<Vec<f64>> {
    let header = format!("d{name}, backprop");
    let mut lines = text.lines().skip_while(|l| !l.contains(&header)).skip(1);
    let mut rows = Vec::new();
    while let Some(line) = lines.next().filter(|l| l.contains("rel_err=")) {
        rows.push(bracketed(line));
    }
    assert!(!rows.is_empty(), "no gradient printed under '{header}'");
    rows
}

/// The demo's network and data for seed 42, built here from the engine's parts as
/// `backprop train` builds them (run.rs forks a data generator, then a weight generator).
fn engine_xor_network(hidden: usize) -> (Network, backprop::data::Dataset) {
    let mut seeds = Rng::new(42);
    let _data_rng = seeds.fork();
    let mut weight_rng = seeds.fork();
    let architecture = Architecture {
        n_in: 2,
        hidden: vec![hidden],
        activation: Activation::Tanh,
        n_out: 1,
        output: Activation::Sigmoid,
        batch_norm: false,
        dropout: 0.0,
    };
    let network = Network::mlp(&architecture, &mut weight_rng);
    (network, backprop::data::generate::xor())
}

#[test]
fn demo_xor_shows_shapes_agreeing_gradients_a_lower_loss_and_full_accuracy() {
    let text = stdout_of(&["demo", "xor"]);
    for expected in [
        "2 → 3 tanh → 1 sigmoid · 13 parameters",
        "Z¹ = X·W¹ + b¹      4×2 · 2×3 + 1×3 → 4×3",
        "A¹ = tanh(Z¹)      entry by entry, 4×3 → 4×3",
        "Z² = A¹·W² + b²      4×3 · 3×1 + 1×1 → 4×1",
        "dW² = A¹ᵀ·dZ²      3×4 · 4×1 → 3×1",
        "dZ¹ = dA¹ ⊙ tanh′(Z¹)      4×3 ⊙ 4×3 → 4×3",
        "dW¹ = Xᵀ·dZ¹      2×4 · 4×3 → 2×3",
        "[dense.rs Dense::backward]",
        "[loss.rs Loss::output_error]",
        "[optim.rs Optimizer::step]",
        "accuracy: 100 % (4 of 4 right)",
        "the classes are linearly separable",
    ] {
        assert!(text.contains(expected), "missing '{expected}' in:\n{text}");
    }

    let agree = text
        .lines()
        .find(|l| l.contains("the two forms agree"))
        .unwrap();
    let difference = if agree.contains("to the last bit") {
        0.0
    } else {
        number_after(agree, "max |difference| = ")
    };
    assert!(difference < 1e-12, "{agree}");

    // One rel_err per printed gradient row: W¹ has 2 rows, b¹ 1, W² 3, b² 1.
    let errors: Vec<f64> = text
        .lines()
        .filter(|l| l.contains("rel_err="))
        .map(|l| number_after(l, "rel_err="))
        .collect();
    assert_eq!(errors.len(), 7, "{text}");
    assert!(errors.iter().all(|&e| e < 1e-6), "{errors:?}");

    let change = text
        .lines()
        .find(|l| l.contains("forward again with the new parameters"))
        .unwrap();
    let parameters_part = change.split(": ").nth(1).unwrap();
    let mut losses = parameters_part
        .split(" → ")
        .map(|t| t.split_whitespace().next().unwrap().parse::<f64>().unwrap());
    let (before, after) = (losses.next().unwrap(), losses.next().unwrap());
    assert!(after < before, "the loss went from {before} to {after}");
    assert!(text.contains("it went down by"));

    // Piped output is plain: no colour codes, no box drawing.
    assert!(!text.contains('\x1b') && !text.contains('━') && !text.contains('│'));
}

#[test]
fn the_printed_numbers_are_the_engines() {
    let text = stdout_of(&["demo", "xor"]);
    let (mut network, data) = engine_xor_network(3);
    let loss = Loss::BinaryCrossEntropy;
    let y_hat = network.forward(&data.x, true).clone();
    let value = loss.value(&y_hat, &data.y);
    let mut dz = backprop::matrix::Matrix::zeros(0, 0);
    loss.output_error(&mut dz, &y_hat, &data.y);
    network.backward_from_output_error(&dz);

    let printed_loss = text.lines().find(|l| l.starts_with("  L = ")).unwrap();
    assert!(
        (number_after(printed_loss, "L = ") - value).abs() <= 5e-7,
        "{printed_loss} vs {value}"
    );

    let dense: Vec<_> = network.dense_layers().collect();
    for (name, gradient) in [
        ("W¹", &dense[0].dw),
        ("b¹", &dense[0].db),
        ("W²", &dense[1].dw),
        ("b²", &dense[1].db),
    ] {
        let rows = printed_gradient(&text, name);
        assert_eq!((rows.len(), rows[0].len()), gradient.shape(), "d{name}");
        for (i, row) in rows.iter().enumerate() {
            for (j, &printed) in row.iter().enumerate() {
                // Six decimals are printed, so they agree to half a unit in the sixth place.
                assert!(
                    (printed - gradient[(i, j)]).abs() <= 5e-7,
                    "d{name}[{i},{j}]: printed {printed}, engine {}",
                    gradient[(i, j)]
                );
            }
        }
    }
}

#[test]
fn the_demo_trains_exactly_as_backprop_train_does() {
    let text = stdout_of(&["demo", "xor"]);
    let mut options = backprop::run::RunOptions::for_task(&backprop::tasks::find("xor").unwrap());
    options.hidden = vec![3];
    let run = backprop::run::execute(&options, |_, _| std::ops::ControlFlow::Continue(())).unwrap();
    let final_loss = run.history.last().unwrap().test_loss.unwrap();
    let last_row = text
        .lines()
        .skip_while(|l| !l.contains("epoch      loss"))
        .take_while(|l| !l.trim().is_empty())
        .last()
        .unwrap();
    let columns: Vec<&str> = last_row.split_whitespace().collect();
    assert_eq!(columns[0], "50");
    assert_eq!(columns[1], format!("{final_loss:.4}"), "{last_row}");
}

#[test]
fn showing_a_later_step_does_not_change_the_training() {
    let table = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.contains("epoch      loss"))
            .take_while(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let first = stdout_of(&["demo", "xor"]);
    let later = stdout_of(&["demo", "xor", "--step", "20"]);
    assert!(later.contains("The parameters after 19 steps, at the start of epoch 20"));
    assert_eq!(table(&first), table(&later));
    assert_ne!(first, later);
}

#[test]
fn the_shares_of_one_example_add_up_to_the_matrix_gradient() {
    let text = stdout_of(&["demo", "xor"]);
    let dw1 = printed_gradient(&text, "W¹");
    // dW¹ = Xᵀ·dZ¹ sums one share per example: x_i·dz¹_j.
    let mut total = [[0.0; 3]; 2];
    for k in 0..4 {
        let by_hand = stdout_of(&["demo", "xor", "--sample", &k.to_string()]);
        assert!(by_hand.contains(&format!("One example by hand: row {k}")));
        for (i, sub_i) in ["₁", "₂"].iter().enumerate() {
            for (j, sub_j) in ["₁", "₂", "₃"].iter().enumerate() {
                let label = format!("share of dW¹{sub_i}{sub_j} = ");
                let line = by_hand.lines().find(|l| l.contains(&label)).unwrap();
                total[i][j] += line
                    .rsplit(" = ")
                    .next()
                    .unwrap()
                    .trim()
                    .parse::<f64>()
                    .unwrap();
            }
        }
    }
    for i in 0..2 {
        for j in 0..3 {
            assert!(
                (total[i][j] - dw1[i][j]).abs() <= 4.0 * 5e-7 + 5e-7,
                "dW¹[{i},{j}]"
            );
        }
    }
}

#[test]
fn circles_and_moons_fit_on_a_screen_and_check_out() {
    for task in ["circles", "moons"] {
        let text = stdout_of(&["demo", task]);
        assert!(
            text.contains("Z¹ = X·W¹ + b¹      8×2 · 2×3 + 1×3 → 8×3"),
            "{task}"
        );
        let errors: Vec<f64> = text
            .lines()
            .filter(|l| l.contains("rel_err="))
            .map(|l| number_after(l, "rel_err="))
            .collect();
        assert_eq!(errors.len(), 7, "{task}");
        assert!(errors.iter().all(|&e| e < 1e-6), "{task}: {errors:?}");
        assert!(
            text.contains("accuracy: 100 % (8 of 8 right)"),
            "{task}:\n{text}"
        );
    }
}

#[test]
fn on_a_terminal_the_demo_has_colour_and_boxes() {
    let options = DemoOptions::for_task("xor").unwrap();
    let styled = demo::render(
        &options,
        Style {
            color: true,
            boxes: true,
        },
    )
    .unwrap();
    let plain = demo::render(&options, Style::PLAIN).unwrap();
    assert!(styled.contains("\x1b[") && styled.contains('━') && styled.contains('│'));
    assert!(!plain.contains('\x1b'));
    assert_eq!(plain, stdout_of(&["demo", "xor"]));
}

#[test]
fn demo_xor_matches_its_golden_copy() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/demo_xor.txt");
    let text = stdout_of(&["demo", "xor"]);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&golden, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_else(|_| {
        panic!(
            "{} is missing; create it with: BLESS=1 cargo test --test demo",
            golden.display()
        )
    });
    // Every number is compared, the relative errors of the gradient check too: the demo's small
    // network gives the same bits on every machine (no fused multiply-adds at its sizes, and the
    // crate's own exp, ln and tanh), so its rounding noise is part of what it promises.
    if text != expected {
        let first = text
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(text.lines().count().min(expected.lines().count()));
        panic!(
            "`backprop demo xor` no longer prints tests/golden/demo_xor.txt; first difference at line {}:\n  now:    {:?}\n  golden: {:?}\nWhat a learner sees has changed. If the change is deliberate, review it and regenerate \
             the golden copy with: BLESS=1 cargo test --test demo",
            first + 1,
            text.lines().nth(first).unwrap_or(""),
            expected.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn gradcheck_passes_with_exit_code_0_and_fails_with_1() {
    let output = backprop(&["gradcheck"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("W¹") && text.contains("b²") && text.contains("pass"),
        "{text}"
    );
    assert!(text.contains("all gradients agree with central differences"));

    let output = backprop(&[
        "gradcheck",
        "circles",
        "--batch-norm",
        "--dropout",
        "0.2",
        "--hidden",
        "4,3",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = backprop(&["gradcheck", "moons", "--activation", "relu"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A step h of 0.3 makes the estimate itself wrong by O(h²): the check must notice.
    let output = backprop(&["gradcheck", "xor", "--h", "0.3"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("FAIL"));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: "));
}

#[test]
fn mistakes_on_the_command_line_exit_with_2() {
    for args in [
        &["demo", "moon"][..],
        &["demo", "xor", "--sample", "4"],
        &["demo", "xor", "--step", "51"],
        &["demo", "xor", "--hidden", "0"],
        &["gradcheck", "circle"],
        &["gradcheck", "--batch", "1"],
    ] {
        let output = backprop(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with("error: ") && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
    let stderr = String::from_utf8_lossy(&backprop(&["demo", "moon"]).stderr).into_owned();
    assert_eq!(
        stderr.trim(),
        "error: unknown demo task 'moon'; did you mean 'moons'?"
    );
}

#[test]
fn a_rising_loss_is_not_painted_green() {
    let mut options = backprop::demo::DemoOptions::for_task("xor").unwrap();
    options.lr = 50.0;
    let style = backprop::demo::Style {
        color: true,
        boxes: false,
    };
    let text = backprop::demo::render(&options, style).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("it went up by"))
        .expect("with η = 50 the first step overshoots");
    assert!(!line.contains("\x1b[32m"), "{line:?}");
    options.lr = 2.0;
    let text = backprop::demo::render(&options, style).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("it went down by"))
        .unwrap();
    assert!(line.contains("\x1b[32m"), "{line:?}");
}
