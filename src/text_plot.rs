//! Pictures drawn with characters, for the end of a training run in a terminal.
//!
//! Three kinds, each a plain `String` of lines (the library never prints):
//!
//! ```text
//! sparkline          █▇▇▆▅▅▄▄▃▃▃▂▂▂▁▁▁  a series squeezed into a row of eight bar heights
//! decision regions   a grid over the input plane; each cell shows the class the network
//!                    predicts there (a shade per class: ' ', '·', …), and each test point is
//!                    drawn on top with its true class's letter (A, B, C, …), lower-case where
//!                    it is misclassified. An excerpt of `backprop train circles`:
//!
//!                    │        A  A A               A                              │
//!                    │         A  A          ··············       A               │
//!                    │                  ·B·B···B·····BBB·······B·                 │
//! curve              the data as ·, the network's ŷ(x) as █, x across and y up
//! ```
//!
//! The sparkline divides the range [min, max] of the values into eight equal steps:
//! `level = round(7 · (v − min) / (max − min))`. A loss curve falls fast and then creeps, so
//! it is drawn on a log scale when every value is positive; flat stretches near the end then
//! still show whether the loss is still going down.

use crate::data::{class_ids, Dataset, Task};
use crate::matrix::Matrix;
use crate::network::Network;

/// `v` for a person to read, with `decimals` digits after the point: fixed-point for everyday
/// sizes (`0.0433`, `12.5000`) and scientific notation, with as many significant digits, outside
/// [10⁻³, 10⁶) (`1.857e71`, `3.200e-7`), where fixed-point would spell out 80 digits or round a
/// small loss to `0.0000`. Zero stays `0.0000`; NaN and the infinities read `NaN`, `inf`, `-inf`.
///
/// For terminal output and the HTML report. Files keep round-trip numbers instead
/// (`json::format_number`), so a script reads back exactly what was computed.
pub fn readable(v: f64, decimals: usize) -> String {
    let magnitude = v.abs();
    if v == 0.0 || !v.is_finite() || (1e-3..1e6).contains(&magnitude) {
        format!("{v:.decimals$}")
    } else {
        format!("{v:.*e}", decimals.saturating_sub(1))
    }
}

/// The eight bar heights of a sparkline, lowest first.
pub const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `values` as a row of at most `width` bars: each bar is the mean of an equal share of the
/// values, drawn on a log scale when all are positive. Empty for no values; non-finite values
/// are drawn as spaces.
pub fn sparkline(values: &[f64], width: usize) -> String {
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let columns = width.min(values.len());
    // Column c averages values[c·n/columns .. (c+1)·n/columns].
    let means: Vec<f64> = (0..columns)
        .map(|c| {
            let (start, end) = (c * values.len() / columns, (c + 1) * values.len() / columns);
            values[start..end].iter().sum::<f64>() / (end - start) as f64
        })
        .collect();
    let log = means.iter().all(|&v| v > 0.0);
    let scaled: Vec<f64> = means
        .iter()
        .map(|&v| if log { v.log10() } else { v })
        .collect();
    let finite = scaled.iter().copied().filter(|v| v.is_finite());
    let min = finite.clone().fold(f64::INFINITY, f64::min);
    let max = finite.fold(f64::NEG_INFINITY, f64::max);
    scaled
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                ' '
            } else if max - min < 1e-12 {
                BARS[3]
            } else {
                BARS[((v - min) / (max - min) * 7.0).round() as usize]
            }
        })
        .collect()
}

/// The shade of the region a class is predicted in.
const REGION: [char; 6] = [' ', '·', '░', ':', '-', '~'];

/// The letters of the classes' points: upper case when the network gets the point right.
const LETTERS: [char; 6] = ['A', 'B', 'C', 'D', 'E', 'F'];

/// The decision regions of a classifier on 2-D inputs, `width` × `height` characters, with the
/// points of `data` on top (see the module docs). The picture covers the points' range with a
/// small margin; row 0 is the top (largest x₂).
///
/// # Panics
/// If the data is not a classification task with two input columns.
pub fn decision_regions(
    network: &mut Network,
    data: &Dataset,
    width: usize,
    height: usize,
) -> String {
    assert!(
        data.x.cols() == 2 && data.task.is_classification(),
        "decision_regions needs 2-D classification data, got {:?} inputs for {:?}",
        data.x.shape(),
        data.task
    );
    let (x_range, y_range) = (padded_range(&data.x, 0), padded_range(&data.x, 1));
    // The centre of every cell, row by row, as one batch: (width·height, 2).
    let mut grid = Matrix::zeros(width * height, 2);
    for row in 0..height {
        for col in 0..width {
            let i = row * width + col;
            grid[(i, 0)] = centre(col, width, x_range);
            // Row 0 is the top: rows count down from the largest x₂.
            grid[(i, 1)] = centre(row, height, (y_range.1, y_range.0));
        }
    }
    let regions = class_ids(&network.predict(&grid), data.task);
    let mut cells: Vec<char> = regions.iter().map(|&c| REGION[c % REGION.len()]).collect();

    let predicted = class_ids(&network.predict(&data.x), data.task);
    let actual = data.class_ids();
    for i in 0..data.len() {
        let col = cell(data.x[(i, 0)], x_range, width);
        let row = height - 1 - cell(data.x[(i, 1)], y_range, height);
        let letter = LETTERS[actual[i] % LETTERS.len()];
        cells[row * width + col] = if predicted[i] == actual[i] {
            letter
        } else {
            letter.to_ascii_lowercase()
        };
    }
    framed(&cells, width)
}

/// One line saying what the characters of [`decision_regions`] mean for these class names.
pub fn regions_legend(class_names: &[String]) -> String {
    let parts: Vec<String> = class_names
        .iter()
        .enumerate()
        .map(|(c, name)| {
            format!(
                "{} = {name} on '{}'",
                LETTERS[c % LETTERS.len()],
                REGION[c % REGION.len()]
            )
        })
        .collect();
    format!("{}; lower case = misclassified", parts.join(", "))
}

/// A 1-D regression: the points of `data` as `·` and the network's curve `ŷ(x)` as `█`, over
/// `width` × `height` characters. Row 0 is the top (largest y).
///
/// # Panics
/// If the data does not have exactly one input and one output column.
pub fn curve(network: &mut Network, data: &Dataset, width: usize, height: usize) -> String {
    assert!(
        data.x.cols() == 1 && data.y.cols() == 1,
        "curve needs one input and one output column, got {:?} and {:?}",
        data.x.shape(),
        data.y.shape()
    );
    let x_range = padded_range(&data.x, 0);
    let xs = Matrix::from_vec(
        width,
        1,
        (0..width).map(|c| centre(c, width, x_range)).collect(),
    );
    let y_hat = network.predict(&xs);
    let both = Matrix::from_vec(
        data.len() + width,
        1,
        data.y
            .as_slice()
            .iter()
            .chain(y_hat.as_slice())
            .copied()
            .collect(),
    );
    let y_range = padded_range(&both, 0);
    let mut cells = vec![' '; width * height];
    for i in 0..data.len() {
        let col = cell(data.x[(i, 0)], x_range, width);
        let row = height - 1 - cell(data.y[(i, 0)], y_range, height);
        cells[row * width + col] = '·';
    }
    for col in 0..width {
        let row = height - 1 - cell(y_hat[(col, 0)], y_range, height);
        cells[row * width + col] = '█';
    }
    framed(&cells, width)
}

/// `cells` (row after row, `width` a row) as lines between two bars: `│ … │`.
fn framed(cells: &[char], width: usize) -> String {
    let mut text = String::with_capacity(cells.len() * 3 + cells.len() / width.max(1) * 8);
    for row in cells.chunks(width.max(1)) {
        text.push('│');
        text.extend(row);
        text.push_str("│\n");
    }
    text
}

/// The centre of cell `k` of `n` equal cells across `range`: the inverse of [`cell`]'s binning.
fn centre(k: usize, n: usize, range: (f64, f64)) -> f64 {
    range.0 + (k as f64 + 0.5) / n as f64 * (range.1 - range.0)
}

/// The range of column `j` widened by 5 % on each side (or ±1 around a constant column).
fn padded_range(m: &Matrix, j: usize) -> (f64, f64) {
    let column = (0..m.rows()).map(|i| m[(i, j)]).filter(|v| v.is_finite());
    let min = column.clone().fold(f64::INFINITY, f64::min);
    let max = column.fold(f64::NEG_INFINITY, f64::max);
    if !min.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = if max - min < 1e-12 {
        1.0
    } else {
        0.05 * (max - min)
    };
    (min - pad, max + pad)
}

/// The cell in `0..n` that `v` falls into over `range`.
fn cell(v: f64, range: (f64, f64), n: usize) -> usize {
    let t = (v - range.0) / (range.1 - range.0);
    ((t * n as f64).floor().max(0.0) as usize).min(n - 1)
}

/// True when [`decision_regions`] can draw this data (2 inputs, classification).
pub fn can_draw_regions(data: &Dataset) -> bool {
    data.x.cols() == 2 && data.task.is_classification()
}

/// True when [`curve`] can draw this data (1 input, 1 regression output).
pub fn can_draw_curve(data: &Dataset) -> bool {
    data.x.cols() == 1 && data.y.cols() == 1 && data.task == Task::Regression
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_too_large_or_small_for_fixed_point_are_scientific() {
        assert_eq!(readable(0.04334, 4), "0.0433");
        assert_eq!(readable(1.0, 4), "1.0000");
        assert_eq!(readable(0.0, 4), "0.0000");
        assert_eq!(readable(999_999.0, 4), "999999.0000");
        assert_eq!(readable(1.857_083e71, 4), "1.857e71");
        assert_eq!(readable(3.2e-7, 4), "3.200e-7");
        assert_eq!(readable(-2.5e9, 2), "-2.5e9");
        assert_eq!(readable(f64::NAN, 4), "NaN");
        assert_eq!(readable(f64::INFINITY, 4), "inf");
    }

    #[test]
    fn a_falling_series_gives_falling_bars() {
        assert_eq!(sparkline(&[8.0, 4.0, 2.0, 1.0], 4), "█▆▃▁");
        assert_eq!(sparkline(&[], 4), "");
        assert_eq!(sparkline(&[1.0, 1.0], 4), "▄▄");
    }

    #[test]
    fn regions_split_where_the_network_changes_its_mind() {
        use crate::activation::Activation;
        use crate::dense::Dense;
        use crate::layer::Layer;
        // ŷ = σ(x₁): class 1 right of x₁ = 0.
        let dense = Dense::from_parameters(
            Matrix::from_rows(&[[1.0], [0.0]]),
            Matrix::from_rows(&[[0.0]]),
        );
        let mut network = Network::new(vec![
            Layer::Dense(dense),
            Layer::Activation(Activation::Sigmoid),
        ]);
        let data = Dataset {
            name: "two".to_string(),
            x: Matrix::from_rows(&[[-1.0, -1.0], [1.0, 1.0], [0.9, -1.0]]),
            y: Matrix::from_rows(&[[0.0], [1.0], [0.0]]),
            task: Task::Binary,
            feature_names: vec!["x₁".to_string(), "x₂".to_string()],
            class_names: vec!["left".to_string(), "right".to_string()],
            clean_y: None,
        };
        let picture = decision_regions(&mut network, &data, 10, 3);
        // Class 0 on ' ' at left, class 1 on '·' at right; the point (0.9, −1) is class 0 but
        // falls on the right, so it is drawn in lower case.
        assert_eq!(picture, "│     ····B│\n│     ·····│\n│A    ····a│\n");
    }

    #[test]
    fn long_series_are_averaged_into_the_width() {
        let values: Vec<f64> = (1..=100).map(|v| 101.0 - v as f64).collect();
        let line = sparkline(&values, 10);
        assert_eq!(line.chars().count(), 10);
        assert!(line.starts_with('█') && line.ends_with('▁'), "{line}");
    }
}
