//! A minimal SVG writer: elements with attributes, escaped text, and numbers rounded for the eye.
//!
//! An SVG file is XML: nested elements whose attributes place shapes in a coordinate system of
//! pixels, with `y` growing downwards. Everything the figures draw goes through [`Svg`], which
//! guarantees three things a hand-written template would not:
//!
//! ```text
//! text        & < > " ' are escaped, so any label is valid XML
//! numbers     rounded to 0.01 px (what the eye can see) and never NaN or ∞: a non-finite
//!             coordinate is a bug upstream, and the shape carrying it is dropped, not written
//! nesting     open/close are paired by the writer (a stack), so tags always match
//! ```

use std::fmt::Write as _;

/// An attribute value: a number (rounded when written) or text (escaped when written).
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    /// A coordinate, length or other number.
    Number(f64),
    /// Any text: a colour, a list of points, a transform.
    Text(String),
}

impl From<f64> for Attr {
    fn from(v: f64) -> Attr {
        Attr::Number(v)
    }
}

impl From<&str> for Attr {
    fn from(v: &str) -> Attr {
        Attr::Text(v.to_string())
    }
}

impl From<String> for Attr {
    fn from(v: String) -> Attr {
        Attr::Text(v)
    }
}

/// Escapes the five characters XML reserves.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// A number as short text: at most two decimals, no trailing zeros, no `-0`.
///
/// # Panics
/// If `v` is not finite: callers filter non-finite values before drawing (see [`finite`]).
pub fn num(v: f64) -> String {
    assert!(
        v.is_finite(),
        "num: a non-finite coordinate {v} reached the SVG writer"
    );
    let rounded = (v * 100.0).round() / 100.0;
    if rounded == 0.0 {
        return "0".to_string();
    }
    let mut text = format!("{rounded:.2}");
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    text
}

/// True when every number is finite: the test a shape passes before it is written.
pub fn finite(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite())
}

/// Points as the `points` attribute of a polyline, `x,y x,y …`.
pub fn points_text(points: &[(f64, f64)]) -> String {
    let mut text = String::with_capacity(points.len() * 12);
    for (i, (x, y)) in points.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        let _ = write!(text, "{},{}", num(*x), num(*y));
    }
    text
}

/// How a text label is placed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextStyle {
    /// Font size in pixels.
    pub size: f64,
    /// `start`, `middle` or `end`: which point of the text sits at x.
    pub anchor: &'static str,
    /// Bold.
    pub bold: bool,
    /// Rotation in degrees about the anchor point (−90 for a vertical axis label).
    pub rotate: f64,
    /// Fill colour.
    pub colour: &'static str,
    /// A white outline under the letters, so a label stays legible on a dark or busy background.
    pub halo: bool,
}

impl TextStyle {
    /// 12 px, anchored at its start, dark grey.
    pub const fn new(size: f64) -> TextStyle {
        TextStyle {
            size,
            anchor: "start",
            bold: false,
            rotate: 0.0,
            colour: "#222",
            halo: false,
        }
    }

    /// The same style anchored `middle`.
    pub const fn middle(self) -> TextStyle {
        TextStyle {
            anchor: "middle",
            ..self
        }
    }

    /// The same style anchored `end`.
    pub const fn end(self) -> TextStyle {
        TextStyle {
            anchor: "end",
            ..self
        }
    }

    /// The same style in bold.
    pub const fn bold(self) -> TextStyle {
        TextStyle { bold: true, ..self }
    }

    /// The same style rotated by `degrees`.
    pub const fn rotated(self, degrees: f64) -> TextStyle {
        TextStyle {
            rotate: degrees,
            ..self
        }
    }

    /// The same style in `colour`.
    pub const fn coloured(self, colour: &'static str) -> TextStyle {
        TextStyle { colour, ..self }
    }

    /// The same style with a white outline under the letters.
    pub const fn haloed(self) -> TextStyle {
        TextStyle { halo: true, ..self }
    }
}

/// An SVG document being written.
#[derive(Clone, Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
    open: Vec<&'static str>,
}

impl Svg {
    /// An empty picture `width × height` pixels with a white background.
    pub fn new(width: f64, height: f64) -> Svg {
        let mut svg = Svg {
            width,
            height,
            body: String::new(),
            open: Vec::new(),
        };
        svg.leaf(
            "rect",
            &[
                ("width", width.into()),
                ("height", height.into()),
                ("fill", "#fff".into()),
            ],
        );
        svg
    }

    /// Width in pixels.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> f64 {
        self.height
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, Attr)]) -> bool {
        let numbers: Vec<f64> = attrs
            .iter()
            .filter_map(|(_, a)| match a {
                Attr::Number(v) => Some(*v),
                Attr::Text(_) => None,
            })
            .collect();
        if !finite(&numbers) {
            return false;
        }
        let _ = write!(self.body, "<{name}");
        for (key, value) in attrs {
            let text = match value {
                Attr::Number(v) => num(*v),
                Attr::Text(t) => escape(t),
            };
            let _ = write!(self.body, " {key}=\"{text}\"");
        }
        true
    }

    /// An element without children, `<name a="…"/>`; dropped if a number is not finite.
    pub fn leaf(&mut self, name: &str, attrs: &[(&str, Attr)]) {
        if self.start_tag(name, attrs) {
            self.body.push_str("/>\n");
        }
    }

    /// Opens an element that will have children; close it with [`Svg::close`].
    ///
    /// # Panics
    /// If an attribute number is not finite (a group's position is never data).
    pub fn open(&mut self, name: &'static str, attrs: &[(&str, Attr)]) {
        assert!(
            self.start_tag(name, attrs),
            "open: non-finite attribute on <{name}>"
        );
        self.body.push_str(">\n");
        self.open.push(name);
    }

    /// Closes the innermost open element.
    ///
    /// # Panics
    /// If nothing is open.
    pub fn close(&mut self) {
        let name = self.open.pop().expect("close: no element is open");
        let _ = writeln!(self.body, "</{name}>");
    }

    /// A `<title>` child: the tooltip a browser shows, and a description for screen readers.
    pub fn title(&mut self, text: &str) {
        let _ = writeln!(self.body, "<title>{}</title>", escape(text));
    }

    /// A line from `(x1, y1)` to `(x2, y2)`.
    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64) {
        self.leaf(
            "line",
            &[
                ("x1", x1.into()),
                ("y1", y1.into()),
                ("x2", x2.into()),
                ("y2", y2.into()),
                ("stroke", stroke.into()),
                ("stroke-width", width.into()),
            ],
        );
    }

    /// A filled rectangle.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        self.leaf(
            "rect",
            &[
                ("x", x.into()),
                ("y", y.into()),
                ("width", w.max(0.0).into()),
                ("height", h.max(0.0).into()),
                ("fill", fill.into()),
            ],
        );
    }

    /// A circle with a fill and an outline.
    pub fn circle(&mut self, (cx, cy): (f64, f64), r: f64, fill: &str, stroke: &str, class: &str) {
        self.leaf(
            "circle",
            &[
                ("class", class.into()),
                ("cx", cx.into()),
                ("cy", cy.into()),
                ("r", r.into()),
                ("fill", fill.into()),
                ("stroke", stroke.into()),
                ("stroke-width", 0.8.into()),
            ],
        );
    }

    /// A curve through `points`. A non-finite point breaks the curve into pieces (a diverged
    /// loss ends its line rather than drawing to infinity); a piece of a single point is drawn
    /// as a dot, so that a value with no finite neighbour still shows.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, dash: &str) {
        for piece in points.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
            if let [point] = piece {
                self.circle(*point, width / 2.0 + 1.0, stroke, "none", "point");
                continue;
            }
            if piece.is_empty() {
                continue;
            }
            let mut attrs = vec![
                ("points", Attr::Text(points_text(piece))),
                ("fill", "none".into()),
                ("stroke", stroke.into()),
                ("stroke-width", width.into()),
                ("stroke-linejoin", "round".into()),
            ];
            if !dash.is_empty() {
                attrs.push(("stroke-dasharray", dash.into()));
            }
            self.leaf("polyline", &attrs);
        }
    }

    /// A closed, filled polygon; dropped if a point is not finite.
    pub fn polygon(&mut self, points: &[(f64, f64)], fill: &str, stroke: &str, width: f64) {
        if !points.iter().all(|(x, y)| x.is_finite() && y.is_finite()) {
            return;
        }
        self.leaf(
            "polygon",
            &[
                ("points", Attr::Text(points_text(points))),
                ("fill", fill.into()),
                ("stroke", stroke.into()),
                ("stroke-width", width.into()),
            ],
        );
    }

    /// A path from a `d` string built by the caller with [`num`].
    pub fn path(&mut self, d: &str, fill: &str, stroke: &str, width: f64) {
        if d.is_empty() {
            return;
        }
        self.leaf(
            "path",
            &[
                ("d", d.into()),
                ("fill", fill.into()),
                ("stroke", stroke.into()),
                ("stroke-width", width.into()),
            ],
        );
    }

    /// A text label at `(x, y)` (the baseline).
    pub fn text(&mut self, (x, y): (f64, f64), text: &str, style: TextStyle) {
        if !finite(&[x, y]) {
            return;
        }
        let mut attrs = vec![
            ("x", Attr::Number(x)),
            ("y", Attr::Number(y)),
            ("font-size", style.size.into()),
            ("text-anchor", style.anchor.into()),
            ("fill", style.colour.into()),
        ];
        if style.bold {
            attrs.push(("font-weight", "bold".into()));
        }
        if style.halo {
            // The outline is painted first, then the letters over it.
            attrs.push(("stroke", "#fff".into()));
            attrs.push(("stroke-width", 3.0.into()));
            attrs.push(("stroke-linejoin", "round".into()));
            attrs.push(("paint-order", "stroke".into()));
        }
        if style.rotate != 0.0 {
            attrs.push((
                "transform",
                format!("rotate({} {} {})", num(style.rotate), num(x), num(y)).into(),
            ));
        }
        self.start_tag("text", &attrs);
        let _ = writeln!(self.body, ">{}</text>", escape(text));
    }

    /// The finished document.
    ///
    /// # Panics
    /// If an element was left open.
    pub fn finish(self) -> String {
        assert!(
            self.open.is_empty(),
            "finish: elements left open: {:?}",
            self.open
        );
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"Helvetica, Arial, sans-serif\">\n{}</svg>\n",
            self.body,
            w = num(self.width),
            h = num(self.height)
        )
    }
}
