//! `backprop demo` and `backprop gradcheck`, run as a learner runs them: the key lines, the
//! printed numbers against the engine's own, the whole text against a golden copy, exit codes.

use backprop::activation::Activation;
use backprop::demo::{self, DemoOptions, Style};
use backprop::loss::Loss;
use backprop::network::{Architecture, Network};
use backprop::rng::Rng;
use std::collections::HashMap;
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
    // The golden copy is the README's example, `demo xor --sample 3`: the whole demo and the
    // point (1, 1) worked by hand, where every term is non-zero.
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/demo_xor.txt");
    let text = stdout_of(&["demo", "xor", "--sample", "3"]);
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
            "`backprop demo xor --sample 3` no longer prints tests/golden/demo_xor.txt; first difference at line {}:\n  now:    {:?}\n  golden: {:?}\nWhat a learner sees has changed. If the change is deliberate, review it and regenerate \
             the golden copy with: BLESS=1 cargo test --test demo",
            first + 1,
            text.lines().nth(first).unwrap_or(""),
            expected.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn without_sample_the_demo_is_the_same_text_without_section_4_and_a_half() {
    let with_sample = stdout_of(&["demo", "xor", "--sample", "3"]);
    let without = stdout_of(&["demo", "xor"]);
    let mut expected = String::new();
    let mut in_by_hand = false;
    for line in with_sample.lines() {
        if line.starts_with("== ") {
            in_by_hand = line.starts_with("== 4½.");
        }
        if !in_by_hand {
            // The one line that points at the walk-through says where it is.
            expected.push_str(
                &line.replace("section 4½ writes row 3 out", "--sample k writes row k out"),
            );
            expected.push('\n');
        }
    }
    assert!(with_sample.contains("section 4½ writes row 3 out with the digits to check them"));
    assert_eq!(without, expected);
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

/// A learner's calculator for the arithmetic the walk-through writes out: numbers (`-0.5` is one
/// number; subtraction is `−`), `+`, `−`, `·`, `/`, a postfix `²`, brackets, and the functions
/// the walk-through names (tanh, σ, relu, identity).
struct Calculator {
    chars: Vec<char>,
    at: usize,
}

impl Calculator {
    fn evaluate(text: &str) -> f64 {
        let mut calculator = Calculator {
            chars: text.chars().filter(|c| !c.is_whitespace()).collect(),
            at: 0,
        };
        let value = calculator.sum();
        assert_eq!(
            calculator.at,
            calculator.chars.len(),
            "could not read '{text}' past character {}",
            calculator.at
        );
        value
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn expect(&mut self, c: char) {
        assert_eq!(self.peek(), Some(c), "expected '{c}' at {}", self.at);
        self.at += 1;
    }

    fn sum(&mut self) -> f64 {
        let mut value = self.product();
        while let Some(op @ ('+' | '−')) = self.peek() {
            self.at += 1;
            let right = self.product();
            value = if op == '+' {
                value + right
            } else {
                value - right
            };
        }
        value
    }

    fn product(&mut self) -> f64 {
        let mut value = self.square();
        while let Some(op @ ('·' | '/')) = self.peek() {
            self.at += 1;
            let right = self.square();
            value = if op == '·' {
                value * right
            } else {
                value / right
            };
        }
        value
    }

    fn square(&mut self) -> f64 {
        let value = self.primary();
        if self.peek() == Some('²') {
            self.at += 1;
            value * value
        } else {
            value
        }
    }

    fn primary(&mut self) -> f64 {
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let value = self.sum();
                self.expect(')');
                value
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.at;
                self.at += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.at += 1;
                }
                let literal: String = self.chars[start..self.at].iter().collect();
                literal.parse().expect("a number")
            }
            _ => {
                let start = self.at;
                while self.peek().is_some_and(|c| c != '(') {
                    self.at += 1;
                }
                let name: String = self.chars[start..self.at].iter().collect();
                self.expect('(');
                let z = self.sum();
                self.expect(')');
                match name.as_str() {
                    "tanh" => z.tanh(),
                    "σ" | "sigmoid" => 1.0 / (1.0 + (-z).exp()),
                    "relu" => z.max(0.0),
                    "identity" => z,
                    other => panic!("the calculator has no function '{other}'"),
                }
            }
        }
    }
}

/// One worked line of `--sample`: `label = symbols = numbers = result`, where `symbols` is the
/// formula just before the numbers that replace it (earlier forms of the formula are skipped).
#[derive(Debug)]
struct Worked {
    label: String,
    symbols: String,
    numbers: String,
    result: String,
}

/// The worked lines of section 4½, a formula continued on a line of its own (`     = …`) joined
/// to the line before.
fn worked_lines(text: &str) -> Vec<Worked> {
    let mut joined: Vec<String> = Vec::new();
    for line in text
        .lines()
        .skip_while(|l| !l.starts_with("== 4½."))
        .skip(1)
        .take_while(|l| !l.starts_with("== "))
    {
        match (line.trim_start().strip_prefix("= "), joined.last_mut()) {
            (Some(rest), Some(last)) => *last = format!("{last} = {rest}"),
            _ => joined.push(line.trim().to_string()),
        }
    }
    joined
        .iter()
        .filter(|l| l.split(" = ").count() >= 3)
        .map(|l| {
            let parts: Vec<&str> = l.split(" = ").collect();
            assert!(parts.len() >= 4, "no formula before the numbers in: {l}");
            let n = parts.len();
            Worked {
                label: parts[0].to_string(),
                symbols: parts[n - 3].to_string(),
                numbers: parts[n - 2].to_string(),
                result: parts[n - 1].to_string(),
            }
        })
        .collect()
}

/// The quantities of a formula in order: names (`W¹₁₂`, `dz²`, `relu′(z¹₁)` as one) and
/// numbers; the names of functions applied (`tanh`, `σ`) are not quantities.
fn quantities(formula: &str) -> Vec<String> {
    let chars: Vec<char> = formula.chars().collect();
    let is_name_char = |c: char| c.is_alphabetic() || "¹²³⁴⁵⁶⁷⁸⁹⁰₀₁₂₃₄₅₆₇₈₉′".contains(c);
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'(') && name.ends_with('′') {
                // A derivative at a point, f′(z): one quantity, the slope.
                let end = i + chars[i..].iter().position(|&c| c == ')').unwrap() + 1;
                found.push(chars[start..end].iter().collect());
                i = end;
            } else if chars.get(i) != Some(&'(') {
                found.push(name);
            }
        } else if c == '-' || c.is_ascii_digit() {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            found.push(chars[start..i].iter().collect());
        } else {
            i += 1;
        }
    }
    found
}

/// Decimals of a printed number; 0 for a whole number printed exactly (`1`, not `1.0000`).
fn decimals(number: &str) -> usize {
    number.split_once('.').map_or(0, |(_, d)| d.len())
}

/// A unit in the last printed digit; 0 for a whole number printed exactly.
fn last_digit_unit(number: &str) -> f64 {
    if number.contains('.') {
        10f64.powi(-(decimals(number) as i32))
    } else {
        0.0
    }
}

fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap()).unwrap())
        .collect()
}

/// The cells of the matrices laid out side by side under a line of labels such as
/// `W¹ (2×3)   b¹ (1×3)`: each block starts at its label's column. The first line whose
/// trimmed text starts with `first_label` is taken.
fn labelled_matrices(text: &str, first_label: &str) -> HashMap<String, Vec<Vec<String>>> {
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let header = lines
        .iter()
        .position(|l| {
            l.iter()
                .collect::<String>()
                .trim_start()
                .starts_with(first_label)
        })
        .unwrap_or_else(|| panic!("no line starts with '{first_label}'"));
    let label_line: String = lines[header].iter().collect();
    let mut matrices = HashMap::new();
    let mut column = 0;
    for label in label_line.split("   ").filter(|l| !l.trim().is_empty()) {
        column += label_line
            .chars()
            .skip(column)
            .position(|c| c != ' ')
            .unwrap();
        let (name, shape) = label.trim().rsplit_once(" (").unwrap();
        let rows: usize = shape.split('×').next().unwrap().parse().unwrap();
        let cells = (0..rows)
            .map(|r| {
                let line = &lines[header + 1 + r];
                assert_eq!(line[column], '[', "{name}: no row {r} at column {column}");
                let close = column + line[column..].iter().position(|&c| c == ']').unwrap();
                line[column + 1..close]
                    .iter()
                    .collect::<String>()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        matrices.insert(name.to_string(), cells);
        column += label.trim_end().chars().count();
    }
    matrices
}

/// The cells of the matrix printed under the formula line that starts with `formula`.
fn matrix_under(text: &str, formula: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip_while(|l| !l.starts_with(formula))
        .skip(1)
        .skip_while(|l| !l.starts_with("  ["))
        .take_while(|l| l.starts_with("  ["))
        .map(|l| {
            let inner = l.trim().trim_start_matches('[').trim_end_matches(']');
            inner.split_whitespace().map(str::to_string).collect()
        })
        .collect()
}

#[test]
fn every_number_worked_by_hand_is_recomputed_from_the_numbers_printed_beside_it() {
    // As a learner with a pencil: each result of --sample's walk-through recomputed from the
    // numbers on its own line lands within ±1 in its last printed digit, those numbers carry two
    // more decimals than the result, and every number is the same quantity wherever it appears:
    // in the matrices above (rounded for reading) and in the other lines.
    let cases: &[&[&str]] = &[
        &["demo", "xor", "--sample", "0"],
        &["demo", "xor", "--sample", "1"],
        &["demo", "xor", "--sample", "2"],
        &["demo", "xor", "--sample", "3"],
        &["demo", "circles", "--sample", "5"],
        // Larger weights after training, a wider hidden layer, other activations.
        &[
            "demo", "xor", "--sample", "2", "--step", "40", "--hidden", "4",
        ],
        &["demo", "moons", "--sample", "1", "--activation", "sigmoid"],
        &["demo", "xor", "--sample", "3", "--activation", "relu"],
    ];
    for args in cases {
        let text = stdout_of(args);
        let k: usize = args[3].parse().unwrap();
        let hidden: usize = args
            .iter()
            .position(|&a| a == "--hidden")
            .map_or(3, |i| args[i + 1].parse().unwrap());
        let worked = worked_lines(&text);
        // z¹ and a¹ per unit, z², ŷ, dz², per unit a share of dW², da¹, dz¹, two shares of dW¹.
        assert_eq!(worked.len(), 7 * hidden + 3, "{args:?}:\n{worked:#?}");

        // Every quantity as printed, wherever it is printed.
        let mut printed: HashMap<String, Vec<String>> = HashMap::new();
        for line in &worked {
            let context = format!(
                "{args:?}: {} = … = {} = {}",
                line.label, line.numbers, line.result
            );
            let result: f64 = line.result.parse().unwrap_or_else(|_| panic!("{context}"));
            let unit = last_digit_unit(&line.result);
            assert!(unit > 0.0, "{context}: a result is rounded");
            let recomputed = Calculator::evaluate(&line.numbers);
            assert!(
                (recomputed - result).abs() <= unit * (1.0 + 1e-9),
                "{context}: the numbers give {recomputed}, more than ±1 in the last digit away"
            );
            let names = quantities(&line.symbols);
            let numbers = quantities(&line.numbers);
            assert_eq!(
                names.len(),
                numbers.len(),
                "{context}: {names:?} {numbers:?}"
            );
            for (name, number) in names.into_iter().zip(numbers) {
                // A whole number is exact; any other carries two more decimals than the result.
                assert!(
                    !number.contains('.') || decimals(&number) == decimals(&line.result) + 2,
                    "{context}: {name} = {number}"
                );
                if name.parse::<f64>().is_err() {
                    printed.entry(name).or_default().push(number);
                }
            }
            if !line.label.starts_with("share of") {
                printed
                    .entry(line.label.clone())
                    .or_default()
                    .push(line.result.clone());
            }
        }

        // The matrices above, row k: the data, the parameters, the values and the gradients.
        let mut matrices = labelled_matrices(&text, "X (");
        matrices.extend(labelled_matrices(&text, "W¹ ("));
        matrices.extend(labelled_matrices(&text, "chain rule ("));
        for (name, formula) in [
            ("Z¹", "Z¹ = "),
            ("A¹", "A¹ = "),
            ("Z²", "Z² = "),
            ("ŷ", "ŷ = "),
            ("dA¹", "dA¹ = "),
            ("dZ¹", "dZ¹ = "),
        ] {
            matrices.insert(name.to_string(), matrix_under(&text, formula));
        }
        let n = matrices["X"].len();
        // Row r, column c of the matrix printed as `m`.
        let cell = |m: &str, r: usize, c: usize| matrices[m][r][c].clone();
        let mut from_matrices = vec![
            ("z²".to_string(), cell("Z²", k, 0)),
            ("ŷ".to_string(), cell("ŷ", k, 0)),
            ("dz²".to_string(), cell("chain rule", k, 0)),
            ("y".to_string(), cell("y", k, 0)),
            ("n".to_string(), n.to_string()),
            ("b²₁".to_string(), cell("b²", 0, 0)),
        ];
        for i in 0..2 {
            from_matrices.push((format!("x{}", subscript(i + 1)), cell("X", k, i)));
        }
        for j in 0..hidden {
            let sj = subscript(j + 1);
            for (name, matrix) in [("z¹", "Z¹"), ("a¹", "A¹"), ("da¹", "dA¹"), ("dz¹", "dZ¹")]
            {
                from_matrices.push((format!("{name}{sj}"), cell(matrix, k, j)));
            }
            from_matrices.push((format!("b¹{sj}"), cell("b¹", 0, j)));
            from_matrices.push((format!("W²{sj}₁"), cell("W²", j, 0)));
            for i in 0..2 {
                let si = subscript(i + 1);
                from_matrices.push((format!("W¹{si}{sj}"), cell("W¹", i, j)));
            }
        }
        for (name, number) in from_matrices {
            printed.entry(name).or_default().push(number);
        }

        // A slope written as a number (ReLU's 1 or 0) is checked against the sign of its z.
        let slopes: Vec<String> = printed
            .keys()
            .filter(|n| n.contains('′'))
            .cloned()
            .collect();
        for slope in slopes {
            let numbers = printed.remove(&slope).unwrap();
            let (function, z) = slope.trim_end_matches(')').split_once("′(").unwrap();
            assert_eq!(function, "relu", "{args:?}: no check for {slope}");
            let z: f64 = printed[z][0].parse().unwrap();
            let expected = if z > 0.0 { "1" } else { "0" };
            assert!(
                numbers.iter().all(|n| n == expected),
                "{args:?}: {slope} = {numbers:?}"
            );
        }
        for (name, numbers) in &printed {
            for p in numbers {
                for q in numbers {
                    let (a, b): (f64, f64) = (p.parse().unwrap(), q.parse().unwrap());
                    let agree = if decimals(p) == decimals(q) {
                        a == b
                    } else {
                        (a - b).abs() <= 0.5 * (last_digit_unit(p) + last_digit_unit(q)) + 1e-12
                    };
                    assert!(agree, "{args:?}: {name} is printed as {p} and as {q}");
                }
            }
        }
        // Every quantity of the walk-through appears in a matrix too, besides its own lines.
        for (name, numbers) in &printed {
            assert!(numbers.len() >= 2, "{args:?}: {name} only as {numbers:?}");
        }
    }
}

/// `|recomputed − printed|` in units of `printed`'s last digit.
fn units_off(recomputed: f64, printed: &str) -> f64 {
    (recomputed - printed.parse::<f64>().unwrap()).abs() / last_digit_unit(printed)
}

/// True when `input` carries at least two more decimals than `result`, or is a whole number
/// printed exactly.
fn carries_two_more(input: &str, result: &str) -> bool {
    !input.contains('.') || decimals(input) >= decimals(result) + 2
}

#[test]
fn the_matrices_the_demo_says_check_by_hand_do() {
    // Three places outside section 4½ say a learner can recompute them: Z¹ = X·W¹ + b¹ from the
    // data and the parameters, the update W − η·dW, and w·a + b in hidden space.
    let cases: &[&[&str]] = &[
        &["demo", "xor"],
        &["demo", "xor", "--step", "40", "--lr", "3"],
        &["demo", "circles"],
        &["demo", "moons", "--activation", "sigmoid", "--step", "100"],
    ];
    for args in cases {
        let text = stdout_of(args);
        assert!(text.contains("so Z¹ can be recomputed by hand"), "{args:?}");
        assert!(
            text.contains("so W − η·dW can be recomputed by hand"),
            "{args:?}"
        );
        assert!(
            text.contains("to two decimals fewer than w and a"),
            "{args:?}"
        );

        let mut matrices = labelled_matrices(&text, "X (");
        matrices.extend(labelled_matrices(&text, "W¹ ("));
        let (x, w1, b1) = (&matrices["X"], &matrices["W¹"], &matrices["b¹"]);
        let z1 = matrix_under(&text, "Z¹ = ");
        assert_eq!(z1.len(), x.len(), "{args:?}");
        for (r, row) in z1.iter().enumerate() {
            for (j, z) in row.iter().enumerate() {
                let mut sum: f64 = b1[0][j].parse().unwrap();
                assert!(carries_two_more(&b1[0][j], z), "{args:?}: b¹ {}", b1[0][j]);
                for (i, w) in w1.iter().enumerate() {
                    assert!(carries_two_more(&x[r][i], z) && carries_two_more(&w[j], z));
                    sum += x[r][i].parse::<f64>().unwrap() * w[j].parse::<f64>().unwrap();
                }
                assert!(
                    units_off(sum, z) <= 1.0,
                    "{args:?}: Z¹[{r},{j}] = {z}, X·W¹ + b¹ gives {sum}"
                );
            }
        }

        let lr = number_after(
            text.lines().find(|l| l.contains("with η = ")).unwrap(),
            "η = ",
        );
        for name in ["W¹", "b¹", "W²", "b²"] {
            let update = labelled_matrices(&text, &format!("{name} before ("));
            let (before, gradient, after) = (
                &update[&format!("{name} before")],
                &update[&format!("d{name}")],
                &update[&format!("{name} after")],
            );
            for (r, row) in after.iter().enumerate() {
                for (j, new) in row.iter().enumerate() {
                    let (old, d) = (&before[r][j], &gradient[r][j]);
                    assert!(carries_two_more(old, new) && carries_two_more(d, new));
                    let recomputed = old.parse::<f64>().unwrap() - lr * d.parse::<f64>().unwrap();
                    assert!(
                        units_off(recomputed, new) <= 1.0,
                        "{args:?}: {name}[{r},{j}]: {old} − {lr}·{d} = {recomputed}, printed {new}"
                    );
                }
            }
        }

        // The plane `−3.0741·a₁ + 3.4789·a₂ + … + 0.6445 = 0`, then one line per point.
        let plane = text
            .lines()
            .skip_while(|l| !l.contains("so that it separates the classes"))
            .nth(1)
            .unwrap();
        let mut coefficients = Vec::new();
        let mut sign = 1.0;
        for token in plane.trim().trim_end_matches(" = 0").split_whitespace() {
            match token {
                "+" => sign = 1.0,
                "−" => sign = -1.0,
                _ => {
                    let (negative, rest) = match token.strip_prefix('−') {
                        Some(rest) => (true, rest),
                        None => (false, token),
                    };
                    let number = rest.split('·').next().unwrap();
                    let value: f64 = number.parse().unwrap();
                    coefficients.push((
                        number.to_string(),
                        if negative { -value } else { sign * value },
                    ));
                }
            }
        }
        let (bias, weights) = coefficients.split_last().unwrap();
        let points: Vec<&str> = text.lines().filter(|l| l.contains("w·a + b = ")).collect();
        assert_eq!(points.len(), x.len(), "{args:?}");
        for point in points {
            let a = bracketed(&point[point.find("a = ").unwrap()..]);
            let a_text = point[point.find("a = [").unwrap() + 5..]
                .split(']')
                .next()
                .unwrap();
            let score = point
                .split("w·a + b = ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            for number in a_text
                .split_whitespace()
                .chain(coefficients.iter().map(|c| c.0.as_str()))
            {
                assert!(
                    carries_two_more(number, score),
                    "{args:?}: {number} for {score}"
                );
            }
            let sum: f64 = bias.1 + weights.iter().zip(&a).map(|(w, a)| w.1 * a).sum::<f64>();
            assert!(
                units_off(sum, score) <= 1.0,
                "{args:?}: {point}: w·a + b gives {sum}"
            );
        }
    }
}
