//! After the step: the training table, the points in hidden space with the separating plane,
//! and the final truth table, all read from the trained network.

use super::layout::{blank, line, subscript, with_source};
use super::step::value_names;
use super::{DemoOptions, Story, Style, EXTRA_DIGITS, EXTRA_IN_WORDS, VALUE_DIGITS};
use crate::activation::Activation;
use crate::data::Dataset;
use crate::layer::Layer;
use crate::train;
use std::fmt::Write as _;

pub(super) fn training(o: &mut String, options: &DemoOptions, story: &Story, style: Style) {
    line(
        o,
        &style.heading(&format!(
            "6. Training: the same step {} times (full batch, η = {})",
            options.epochs, options.lr
        )),
    );
    with_source(
        o,
        "Loss and predictions after each listed epoch (epoch 0: before any update)",
        "train.rs train",
        style,
    );
    let labels = point_labels(&story.data);
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut header = format!("  {:>5}  {:>8}", "epoch", "loss");
    for label in &labels {
        let _ = write!(header, "  {:>width$}", format!("ŷ{label}"));
    }
    line(o, &header);
    for row in &story.rows {
        let mut text = format!("  {:>5}  {:>8.4}", row.epoch, row.loss);
        for y in &row.y_hat {
            let _ = write!(text, "  {:>width$.3}", y);
        }
        line(o, &text);
    }
    blank(o);
}

/// `(0,1)` for the XOR corners, `#k` for the rows of other data.
fn point_labels(data: &Dataset) -> Vec<String> {
    (0..data.len())
        .map(|i| {
            let x = data.x.row(i);
            if data.name == "xor" {
                format!("({},{})", x[0], x[1])
            } else {
                format!("#{i}")
            }
        })
        .collect()
}

/// Decimals of `w·a + b` in hidden space: fewer than those of `w` and `a` by [`EXTRA_DIGITS`], so
/// that it can be recomputed from them by hand.
const SCORE_DIGITS: usize = VALUE_DIGITS - EXTRA_DIGITS;

pub(super) fn hidden_space(o: &mut String, story: &Story, style: Style) {
    let network = &story.trained;
    let values = network.values();
    let names = value_names(network);
    // The stack is [Dense, f, Dense, sigmoid]: A¹ is values[2], Z² values[3].
    let (a1, z2) = (&values[2], &values[3]);
    let output = network.dense_layers().last().expect("an output layer");
    let h = a1.cols();
    line(
        o,
        &style.heading("7. Why the hidden layer works: the points in hidden space"),
    );
    line(
        o,
        &format!(
            "The output unit sees each example as its row of {} (a point in {h} dimensions) and predicts",
            names[2]
        ),
    );
    line(
        o,
        "class 1 exactly where w·a + b ≥ 0, with w = W² and b = b² of the trained network. That is a",
    );
    let shape_word = match h {
        1 => "point on a line",
        2 => "line",
        3 => "plane",
        _ => "hyperplane",
    };
    line(
        o,
        &format!("{shape_word}; training moves the points so that it separates the classes:"),
    );
    let terms = (0..h)
        .map(|j| {
            let w = output.w[(j, 0)];
            let sign = if w < 0.0 { "−" } else { "+" };
            format!("{sign} {:.VALUE_DIGITS$}·a{}", w.abs(), subscript(j + 1))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let b = output.b[(0, 0)];
    // The first term carries its sign without a space: `−3.0741·a₁ + …`.
    let terms = match terms.strip_prefix("+ ") {
        Some(rest) => rest.to_string(),
        None => terms.replacen("− ", "−", 1),
    };
    line(
        o,
        &format!(
            "  {terms} {} {:.VALUE_DIGITS$} = 0",
            if b < 0.0 { "−" } else { "+" },
            b.abs()
        ),
    );
    with_source(
        o,
        &format!(
            "  w·a + b below is Z² as computed, to {EXTRA_IN_WORDS} decimals fewer than w and a"
        ),
        "dense.rs Dense::forward",
        style,
    );
    let labels = point_labels(&story.data);
    let (open, close) = style.brackets();
    let mut wrong = 0;
    for i in 0..story.data.len() {
        let a = a1
            .row(i)
            .iter()
            .map(|v| format!("{v:>8.VALUE_DIGITS$}"))
            .collect::<Vec<_>>()
            .join(" ");
        let score = z2[(i, 0)];
        // σ(z) ≥ 0.5 exactly when z ≥ 0: the same rule as ŷ ≥ 0.5 in `train::accuracy`.
        let side = if score >= 0.0 { "+" } else { "−" };
        let y = story.data.y[(i, 0)];
        let correct = (score >= 0.0) == (y >= 0.5);
        if !correct {
            wrong += 1;
        }
        line(
            o,
            &format!(
                "  {:<8} y = {y}   a = {open}{a} {close}   w·a + b = {score:>6.SCORE_DIGITS$}   side {side}  {}",
                labels[i],
                if correct { "✓" } else { "✗" }
            ),
        );
    }
    let verdict = if wrong == 0 {
        style.good(
            "Every class-1 point is on the + side and every class-0 point on the − side: in hidden space\n\
             the classes are linearly separable, which they were not in the plane of X.",
        )
    } else {
        let why = if network
            .layers()
            .iter()
            .any(|l| matches!(l, Layer::Activation(Activation::Identity)))
        {
            " With the identity activation the hidden layer is linear and cannot bend the plane."
        } else {
            " More epochs, more hidden units or another --lr may separate them."
        };
        format!("{wrong} point(s) are on the wrong side.{why}")
    };
    line(o, &verdict);
    blank(o);
}

pub(super) fn truth_table(o: &mut String, story: &Story, style: Style) {
    let network = &story.trained;
    let y_hat = network.output();
    let data = &story.data;
    line(o, &style.heading("8. The trained network's answers"));
    line(
        o,
        &format!(
            "  {:<18} {:>6}  {:>10}  {:>11}",
            "x", "target", "prediction", "probability"
        ),
    );
    let labels = point_labels(data);
    for i in 0..data.len() {
        let x = data.x.row(i);
        let p = y_hat[(i, 0)];
        let point = if data.name == "xor" {
            labels[i].replace(',', ", ")
        } else {
            format!("({:.3}, {:.3})", x[0], x[1])
        };
        line(
            o,
            &format!(
                "  {:<18} {:>6}  {:>10}  {:>11.4}",
                point,
                data.y[(i, 0)],
                usize::from(p >= 0.5),
                p
            ),
        );
    }
    let accuracy = train::accuracy(y_hat, &data.y, data.task);
    let correct = (accuracy * data.len() as f64).round() as usize;
    let text = format!(
        "accuracy: {:.0} % ({correct} of {} right)",
        100.0 * accuracy,
        data.len()
    );
    let text = if accuracy == 1.0 {
        style.good(&text)
    } else {
        text
    };
    with_source(o, &text, "train.rs accuracy", style);
}
