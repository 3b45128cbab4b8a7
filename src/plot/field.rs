//! Fields: a function of two variables drawn as coloured cells, and its contour lines.
//!
//! ```text
//! grid       values v[i][j] at x = x₀ + j·Δx, y = y₀ + i·Δy   (i rows, j columns)
//! cells      one rectangle per value; neighbours of the same (quantised) colour in a row are
//!            merged into one wider rectangle, which keeps a 100 × 100 field in tens of KB
//! contours   marching squares: in each square of four neighbouring values, the level crosses
//!            an edge where the two ends lie on either side of it, at the linearly interpolated
//!            point; joining the crossings gives the level line
//! ```

use super::axes::Panel;
use super::svg::{num, Svg};
use std::fmt::Write as _;

/// A piece of a contour line, from one point to another (data coordinates).
pub type Segment = ((f64, f64), (f64, f64));

/// Values on a regular grid over a rectangle of data space.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// x of the first and last column.
    pub x: (f64, f64),
    /// y of the first and last row.
    pub y: (f64, f64),
    /// Columns.
    pub nx: usize,
    /// Rows.
    pub ny: usize,
    /// Row-major values, `ny × nx`.
    pub values: Vec<f64>,
}

impl Grid {
    /// Evaluates `f(x, y)` at every grid point.
    pub fn from_fn(
        x: (f64, f64),
        y: (f64, f64),
        (nx, ny): (usize, usize),
        f: impl Fn(f64, f64) -> f64,
    ) -> Grid {
        let points = Grid::points(x, y, (nx, ny));
        Grid {
            x,
            y,
            nx,
            ny,
            values: points.iter().map(|(px, py)| f(*px, *py)).collect(),
        }
    }

    /// The grid's points, row by row: what to feed a network in one batch.
    pub fn points(x: (f64, f64), y: (f64, f64), (nx, ny): (usize, usize)) -> Vec<(f64, f64)> {
        let mut points = Vec::with_capacity(nx * ny);
        for i in 0..ny {
            for j in 0..nx {
                points.push((
                    x.0 + (x.1 - x.0) * j as f64 / (nx - 1).max(1) as f64,
                    y.0 + (y.1 - y.0) * i as f64 / (ny - 1).max(1) as f64,
                ));
            }
        }
        points
    }

    /// The value at row `i`, column `j`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.nx + j]
    }

    /// The data coordinates of grid point `(i, j)`.
    pub fn coordinates(&self, i: usize, j: usize) -> (f64, f64) {
        (
            self.x.0 + (self.x.1 - self.x.0) * j as f64 / (self.nx - 1).max(1) as f64,
            self.y.0 + (self.y.1 - self.y.0) * i as f64 / (self.ny - 1).max(1) as f64,
        )
    }
}

/// Runs of equal colour: `(row, first column, last column, colour)`, from a colour per cell.
pub fn runs(grid: &Grid, colour: impl Fn(f64) -> String) -> Vec<(usize, usize, usize, String)> {
    let mut runs = Vec::new();
    for i in 0..grid.ny {
        let mut start = 0;
        let mut current = colour(grid.at(i, 0));
        for j in 1..=grid.nx {
            let next = if j < grid.nx {
                Some(colour(grid.at(i, j)))
            } else {
                None
            };
            if next.as_ref() != Some(&current) {
                runs.push((i, start, j - 1, current.clone()));
                if let Some(c) = next {
                    current = c;
                }
                start = j;
            }
        }
    }
    runs
}

/// The pixel rectangle of cells `j0..=j1` in row `i`: each grid point sits at the centre of its
/// cell, so the field fills the panel exactly.
pub fn cell_rect(
    grid: &Grid,
    panel: &Panel,
    i: usize,
    j0: usize,
    j1: usize,
) -> (f64, f64, f64, f64) {
    let dx = panel.width / grid.nx as f64;
    let dy = panel.height / grid.ny as f64;
    let x = panel.left + dx * j0 as f64;
    // Row 0 is the lowest y, drawn at the bottom.
    let y = panel.top + panel.height - dy * (i + 1) as f64;
    // A quarter pixel of overlap hides the hairline seams anti-aliasing leaves between cells.
    (x, y, dx * (j1 - j0 + 1) as f64 + 0.25, dy + 0.25)
}

/// Draws the field as merged runs of cells coloured by `colour(value)`.
pub fn draw_cells(svg: &mut Svg, grid: &Grid, panel: &Panel, colour: impl Fn(f64) -> String) {
    // Crisp edges: without anti-aliasing, neighbouring cells meet without pale seams.
    svg.open("g", &[("shape-rendering", "crispEdges".into())]);
    for (i, j0, j1, c) in runs(grid, colour) {
        let (x, y, w, h) = cell_rect(grid, panel, i, j0, j1);
        svg.rect(x, y, w, h, &c);
    }
    svg.close();
}

/// The segments of the `level` line, in data coordinates, by marching squares.
pub fn contour(grid: &Grid, level: f64) -> Vec<Segment> {
    let mut segments = Vec::new();
    for i in 0..grid.ny.saturating_sub(1) {
        for j in 0..grid.nx.saturating_sub(1) {
            // Corners counter-clockwise from bottom-left; an edge is crossed where its two ends
            // lie on either side of the level.
            let corners = [(i, j), (i, j + 1), (i + 1, j + 1), (i + 1, j)];
            let mut crossings = Vec::with_capacity(4);
            for k in 0..4 {
                let (a, b) = (corners[k], corners[(k + 1) % 4]);
                let (va, vb) = (grid.at(a.0, a.1), grid.at(b.0, b.1));
                if !(va.is_finite() && vb.is_finite()) {
                    continue;
                }
                if (va < level) != (vb < level) {
                    let t = (level - va) / (vb - va);
                    let (xa, ya) = grid.coordinates(a.0, a.1);
                    let (xb, yb) = grid.coordinates(b.0, b.1);
                    crossings.push((xa + t * (xb - xa), ya + t * (yb - ya)));
                }
            }
            // Two crossings: one segment; four (a saddle): pair them in order.
            if crossings.len() >= 2 {
                segments.push((crossings[0], crossings[1]));
            }
            if crossings.len() == 4 {
                segments.push((crossings[2], crossings[3]));
            }
        }
    }
    segments
}

/// Draws contour segments as one path.
pub fn draw_contour(svg: &mut Svg, panel: &Panel, segments: &[Segment], stroke: &str, width: f64) {
    let mut d = String::new();
    for (a, b) in segments {
        let (pa, pb) = (panel.at(a.0, a.1), panel.at(b.0, b.1));
        if !super::svg::finite(&[pa.0, pa.1, pb.0, pb.1]) {
            continue;
        }
        let _ = write!(
            d,
            "M{} {}L{} {}",
            num(pa.0),
            num(pa.1),
            num(pb.0),
            num(pb.1)
        );
    }
    svg.path(&d, "none", stroke, width);
}
