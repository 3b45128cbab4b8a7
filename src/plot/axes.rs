//! Axes, legends and titles: the frame every chart is drawn in.
//!
//! A [`Panel`] is a rectangle of the picture plus an x and a y [`Scale`]; it draws its own grid,
//! ticks, tick labels and axis labels, and turns data points into pixels. Several panels side by
//! side make small multiples that share a visual language.
//!
//! ```text
//! ┌ title ───────────────────────┐
//! │ y label  ┊ grid    curves     │  margins leave room for labels so nothing overlaps
//! │          └──────────────────  │
//! │             x label           │
//! └──────────────────────────────┘
//! ```

use super::colour;
use super::scale::Scale;
use super::svg::{Svg, TextStyle};

/// Font sizes used by every figure.
pub const TITLE: TextStyle = TextStyle::new(16.0).bold();
/// Panel titles.
pub const SUBTITLE: TextStyle = TextStyle::new(13.0).bold();
/// Axis labels.
pub const LABEL: TextStyle = TextStyle::new(12.0);
/// Tick labels and legends.
pub const SMALL: TextStyle = TextStyle::new(11.0);

/// A rectangle of the picture with scales for x and y.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Panel {
    /// Left edge in pixels.
    pub left: f64,
    /// Top edge in pixels.
    pub top: f64,
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
    /// The x scale (its range is the panel's width).
    pub x: Scale,
    /// The y scale (its range runs from the bottom up).
    pub y: Scale,
    /// Label only whole numbers on the x axis (layer numbers, counts).
    pub integer_x: bool,
}

impl Panel {
    /// A panel at `(left, top)` of `width × height` showing `x` and `y` with linear or log scales
    /// (`log_x`, `log_y`).
    pub fn new(
        (left, top, width, height): (f64, f64, f64, f64),
        x: (f64, f64),
        y: (f64, f64),
        (log_x, log_y): (bool, bool),
    ) -> Panel {
        let x_range = (left, left + width);
        let y_range = (top + height, top);
        Panel {
            left,
            top,
            width,
            height,
            x: if log_x {
                Scale::log(x, x_range)
            } else {
                Scale::linear(x, x_range)
            },
            y: if log_y {
                Scale::log(y, y_range)
            } else {
                Scale::linear(y, y_range)
            },
            integer_x: false,
        }
    }

    /// The pixel position of a data point.
    pub fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (self.x.map(x), self.y.map(y))
    }

    /// Pixel positions of a series (non-finite values become NaN gaps).
    pub fn points(&self, xs: &[f64], ys: &[f64]) -> Vec<(f64, f64)> {
        xs.iter().zip(ys).map(|(x, y)| self.at(*x, *y)).collect()
    }

    /// Grid, ticks, tick labels, axis labels and a panel title.
    pub fn draw_axes(&self, svg: &mut Svg, x_label: &str, y_label: &str, title: &str) {
        let bottom = self.top + self.height;
        let right = self.left + self.width;
        for t in self.x.ticks(6) {
            if self.integer_x && t.fract() != 0.0 {
                continue;
            }
            let px = self.x.map(t);
            svg.line((px, self.top), (px, bottom), "#e6e6e6", 1.0);
            svg.line((px, bottom), (px, bottom + 4.0), "#444", 1.0);
            svg.text((px, bottom + 16.0), &self.x.label(t), SMALL.middle());
        }
        for t in self.y.ticks(5) {
            let py = self.y.map(t);
            svg.line((self.left, py), (right, py), "#e6e6e6", 1.0);
            svg.line((self.left - 4.0, py), (self.left, py), "#444", 1.0);
            svg.text((self.left - 7.0, py + 4.0), &self.y.label(t), SMALL.end());
        }
        svg.line((self.left, bottom), (right, bottom), "#444", 1.0);
        svg.line((self.left, self.top), (self.left, bottom), "#444", 1.0);
        svg.text(
            (self.left + self.width / 2.0, bottom + 34.0),
            x_label,
            LABEL.middle(),
        );
        svg.text(
            (self.left - 46.0, self.top + self.height / 2.0),
            y_label,
            LABEL.middle().rotated(-90.0),
        );
        if !title.is_empty() {
            svg.text(
                (self.left + self.width / 2.0, self.top - 10.0),
                title,
                SUBTITLE.middle(),
            );
        }
    }

    /// Draws a series as a line.
    ///
    /// A curve of thousands of epochs is thinned to two points per pixel of width: the eye
    /// cannot see more, and the file stays small.
    pub fn curve(&self, svg: &mut Svg, xs: &[f64], ys: &[f64], colour: &str, dash: &str) {
        let n = xs.len().min(ys.len());
        let stride = n.div_ceil((2.0 * self.width).max(1.0) as usize).max(1);
        let mut points: Vec<(f64, f64)> = (0..n)
            .step_by(stride)
            .map(|i| self.at(xs[i], ys[i]))
            .collect();
        // Always end on the last point, where the reader looks for the final value.
        if n > 0 && !(n - 1).is_multiple_of(stride) {
            points.push(self.at(xs[n - 1], ys[n - 1]));
        }
        svg.polyline(&points, colour, 2.0, dash);
    }
}

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// A short line.
    Line,
    /// A dashed line.
    Dashed,
    /// A dot.
    Dot,
    /// A filled square.
    Square,
}

/// A legend: one row per entry, in a white box at `(x, y)` (its top-left corner).
pub fn legend(svg: &mut Svg, (x, y): (f64, f64), entries: &[(String, String, Mark)]) {
    let longest = entries
        .iter()
        .map(|(label, _, _)| label.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let width = 36.0 + longest * 6.4;
    let height = 8.0 + 17.0 * entries.len() as f64;
    svg.leaf(
        "rect",
        &[
            ("x", x.into()),
            ("y", y.into()),
            ("width", width.into()),
            ("height", height.into()),
            ("fill", "#fff".into()),
            ("fill-opacity", 0.85.into()),
            ("stroke", "#ccc".into()),
        ],
    );
    for (i, (label, colour, mark)) in entries.iter().enumerate() {
        let cy = y + 13.0 + 17.0 * i as f64;
        match mark {
            Mark::Line => svg.line((x + 6.0, cy), (x + 26.0, cy), colour, 2.5),
            Mark::Dashed => svg.polyline(&[(x + 6.0, cy), (x + 26.0, cy)], colour, 2.5, "5 3"),
            Mark::Dot => svg.circle((x + 16.0, cy), 4.0, colour, "#fff", "legend"),
            Mark::Square => svg.rect(x + 10.0, cy - 6.0, 12.0, 12.0, colour),
        }
        svg.text((x + 32.0, cy + 4.0), label, SMALL);
    }
}

/// The figure's title, centred at the top.
pub fn title(svg: &mut Svg, text: &str) {
    let x = svg.width() / 2.0;
    svg.text((x, 24.0), text, TITLE.middle());
}

/// A one-line note under the title (what to look at).
pub fn subtitle(svg: &mut Svg, text: &str) {
    let x = svg.width() / 2.0;
    svg.text((x, 42.0), text, SMALL.middle().coloured("#555"));
}

/// A vertical colour bar for a viridis field of log₁₀ v, from `lo` to `hi` (logarithms), labelled
/// with v itself at nice values (1, 2 and 5 times powers of ten) rather than with logarithms.
pub fn colour_bar_log(
    svg: &mut Svg,
    (x, y, height): (f64, f64, f64),
    lo: f64,
    hi: f64,
    label: &str,
) {
    let steps = 32;
    for i in 0..steps {
        let t = (i as f64 + 0.5) / steps as f64;
        let py = y + height * (1.0 - (i + 1) as f64 / steps as f64);
        svg.rect(
            x,
            py,
            14.0,
            height / steps as f64 + 0.5,
            &colour::viridis(t),
        );
    }
    let values = Scale::log_exact((10f64.powf(lo), 10f64.powf(hi)), (y + height, y));
    for t in values.ticks(6) {
        let py = values.map(t);
        svg.line((x + 14.0, py), (x + 18.0, py), "#444", 1.0);
        svg.text((x + 21.0, py + 4.0), &values.label(t), SMALL);
    }
    svg.text((x + 7.0, y - 8.0), label, SMALL.middle().coloured("#333"));
}
