//! Text layout for the demo: matrices with aligned columns between brackets, blocks side by
//! side, formulas padded to the source that computed them, and the style (colour and box
//! drawing on a terminal, plain text in a pipe).

use super::WIDTH;
use crate::matrix::Matrix;
use std::fmt::Write as _;

/// How the text looks: colour and box drawing on a terminal, plain text in a pipe or file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours for headings, sources and results.
    pub color: bool,
    /// Unicode box drawing for headings and matrix brackets.
    pub boxes: bool,
}

impl Style {
    /// Plain text: readable in a file, stable for golden tests. The mathematical symbols
    /// (`·`, `⊙`, `ᵀ`, superscripts) stay, as they are the notation itself.
    pub const PLAIN: Style = Style {
        color: false,
        boxes: false,
    };

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub(super) fn heading(&self, text: &str) -> String {
        if self.boxes {
            let rule = "─".repeat(WIDTH.saturating_sub(text.chars().count() + 5));
            self.paint("1;36", &format!("━━ {text} ━━{rule}"))
        } else {
            format!("== {text} ==")
        }
    }

    pub(super) fn source(&self, source: &str) -> String {
        self.paint("2", &format!("[{source}]"))
    }

    pub(super) fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(super) fn brackets(&self) -> (&'static str, &'static str) {
        if self.boxes {
            ("│", "│")
        } else {
            ("[", "]")
        }
    }
}

pub(super) fn line(o: &mut String, text: &str) {
    o.push_str(text);
    o.push('\n');
}

pub(super) fn blank(o: &mut String) {
    o.push('\n');
}

/// `text`, padded, then the source that computed it: `[dense.rs Dense::forward]`.
pub(super) fn with_source(o: &mut String, text: &str, source: &str, style: Style) {
    // The tag is `[source]`: its length plus two brackets, after at least one space.
    let tag = source.chars().count() + 2;
    if visible_len(text) + 1 + tag <= WIDTH {
        let pad = WIDTH - visible_len(text) - tag;
        line(
            o,
            &format!("{text}{}{}", " ".repeat(pad), style.source(source)),
        );
    } else {
        line(o, text);
        line(
            o,
            &format!("{}{}", " ".repeat(WIDTH - tag), style.source(source)),
        );
    }
}

/// The rows of `m` with aligned columns, each between brackets: `[ 0.1234 -0.5678 ]`.
pub(super) fn matrix_lines(m: &Matrix, digits: usize, style: Style) -> String {
    let cells: Vec<String> = m.as_slice().iter().map(|&x| number(x, digits)).collect();
    let width = cells.iter().map(|c| c.len()).max().unwrap_or(0);
    let (open, close) = style.brackets();
    let mut text = String::new();
    for i in 0..m.rows() {
        text.push_str(open);
        for j in 0..m.cols() {
            let _ = write!(text, " {:>width$}", cells[i * m.cols() + j]);
        }
        let _ = writeln!(text, " {close}");
    }
    text
}

/// `4×3`: rows × columns.
pub(super) fn shape(m: &Matrix) -> String {
    format!("{}×{}", m.rows(), m.cols())
}

/// A matrix under its name and shape: `W¹ (2×3)`.
pub(super) fn labelled(name: &str, m: &Matrix, digits: usize, style: Style) -> String {
    format!("{name} ({})\n{}", shape(m), matrix_lines(m, digits, style))
}

/// Blocks of lines placed next to each other, three spaces apart, each padded to its width.
pub(super) fn side_by_side(blocks: &[String]) -> String {
    let widths: Vec<usize> = blocks
        .iter()
        .map(|b| b.lines().map(|l| l.chars().count()).max().unwrap_or(0))
        .collect();
    let height = blocks.iter().map(|b| b.lines().count()).max().unwrap_or(0);
    let mut text = String::new();
    for r in 0..height {
        let mut row = String::new();
        for (b, block) in blocks.iter().enumerate() {
            let cell = block.lines().nth(r).unwrap_or("");
            let pad = widths[b] - cell.chars().count();
            let _ = write!(row, "{cell}{}   ", " ".repeat(pad));
        }
        text.push_str(row.trim_end());
        text.push('\n');
    }
    text
}

/// `x` with `digits` decimals, without the sign of a value that rounds to zero (`-0.0000`).
pub(super) fn number(x: f64, digits: usize) -> String {
    let text = format!("{x:.digits$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

/// `x` with `digits` decimals, or without any when it is a whole number: an input such as the
/// XOR point `(1, 1)` or a bias that is still 0 is exact, and `1.000000` would hide that.
pub(super) fn exact_or_rounded(x: f64, digits: usize) -> String {
    if x == x.trunc() && x.abs() < 1e9 {
        // `as i64` also turns −0 into 0.
        format!("{}", x as i64)
    } else {
        number(x, digits)
    }
}

/// A factor of a product written out by hand: [`exact_or_rounded`], in brackets when negative,
/// so that `a·(-b)` does not read as a subtraction.
pub(super) fn operand(x: f64, digits: usize) -> String {
    let text = exact_or_rounded(x, digits);
    if text.starts_with('-') {
        format!("({text})")
    } else {
        text
    }
}

/// Decimals for a data matrix: none when every entry is a whole number (the XOR corners), else
/// `digits`.
pub(super) fn data_digits(m: &Matrix, digits: usize) -> usize {
    if m.as_slice().iter().all(|&x| x == x.trunc()) {
        0
    } else {
        digits
    }
}

/// The number of characters a terminal shows for `text`, not counting colour codes.
pub(super) fn visible_len(text: &str) -> usize {
    let mut count = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => count += 1,
        }
    }
    count
}

pub(super) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// `n` in subscript digits, for indices: `subscript(12)` is `"₁₂"`.
pub(super) fn subscript(n: usize) -> String {
    const DIGITS: [char; 10] = ['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];
    n.to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}
