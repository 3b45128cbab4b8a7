//! Colours: a perceptually even map for fields and a colour-blind-safe palette for lines.
//!
//! ```text
//! viridis(t), t ∈ [0, 1]   dark blue → teal → green → yellow, lightness rising steadily, so
//!                         the order of values survives printing in grey and colour blindness
//! OKABE_ITO[i]            eight colours that stay distinct for the common colour blindnesses
//! ```
//!
//! The map is a piecewise-linear interpolation through nine samples of matplotlib's viridis,
//! close enough for the eye and a dozen lines long.

/// The Okabe–Ito palette without black: orange, sky blue, bluish green, yellow, blue,
/// vermilion, reddish purple, grey.
pub const OKABE_ITO: [&str; 8] = [
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999",
];

/// The i-th line colour (wrapping around).
pub fn line(i: usize) -> &'static str {
    // Yellow is hard to read as a thin line on white: it goes last.
    const ORDER: [usize; 8] = [4, 0, 2, 5, 6, 1, 7, 3];
    OKABE_ITO[ORDER[i % ORDER.len()]]
}

const VIRIDIS: [(f64, f64, f64); 9] = [
    (68.0, 1.0, 84.0),
    (71.0, 44.0, 122.0),
    (59.0, 81.0, 139.0),
    (44.0, 113.0, 142.0),
    (33.0, 144.0, 141.0),
    (39.0, 173.0, 129.0),
    (92.0, 200.0, 99.0),
    (170.0, 220.0, 50.0),
    (253.0, 231.0, 37.0),
];

/// The viridis colour of `t ∈ [0, 1]` (clamped; NaN is drawn as the lowest colour).
pub fn viridis(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    hex(
        a.0 + f * (b.0 - a.0),
        a.1 + f * (b.1 - a.1),
        a.2 + f * (b.2 - a.2),
    )
}

/// A class probability as a colour: blue (class 0) through white (0.5) to orange (class 1), the
/// two Okabe–Ito hues, so the 0.5 boundary is where the field turns pale.
///
/// The two sides are equally light at the same distance from 0.5, so neither looks more sure
/// than the other: mixed with white, blue darkens faster than orange, so it is mixed at 0.38 of
/// the way where orange is mixed at 0.7 (their CIE lightness L* then agrees within 0.5). At most
/// 70 % orange, so the points drawn on top stay visible.
pub fn probability(p: f64) -> String {
    let p = if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let blue = (0.0, 114.0, 178.0);
    let orange = (230.0, 159.0, 0.0);
    let distance = (p - 0.5).abs() * 2.0;
    let (c, t) = if p < 0.5 {
        (blue, 0.38 * distance)
    } else {
        (orange, 0.7 * distance)
    };
    hex(
        255.0 + t * (c.0 - 255.0),
        255.0 + t * (c.1 - 255.0),
        255.0 + t * (c.2 - 255.0),
    )
}

/// A class colour mixed with white: strength 0 is white, 1 the full colour.
pub fn tint(colour: &str, strength: f64) -> String {
    let (r, g, b) = parse_hex(colour);
    let t = strength.clamp(0.0, 1.0);
    hex(
        255.0 + t * (r - 255.0),
        255.0 + t * (g - 255.0),
        255.0 + t * (b - 255.0),
    )
}

/// `(1 − t)·a + t·b`, channel by channel: what `b` painted at opacity `t` over `a` looks like.
pub fn mix(a: &str, b: &str, t: f64) -> String {
    let (a, b) = (parse_hex(a), parse_hex(b));
    let t = t.clamp(0.0, 1.0);
    hex(
        a.0 + t * (b.0 - a.0),
        a.1 + t * (b.1 - a.1),
        a.2 + t * (b.2 - a.2),
    )
}

/// The colour of class `k` for points and fields: blue and orange first, as in [`probability`].
pub fn class(k: usize) -> &'static str {
    const ORDER: [usize; 7] = [4, 0, 2, 5, 6, 1, 7];
    OKABE_ITO[ORDER[k % ORDER.len()]]
}

fn parse_hex(colour: &str) -> (f64, f64, f64) {
    let digits = colour.trim_start_matches('#');
    let channel = |i: usize| {
        digits
            .get(i..i + 2)
            .and_then(|d| u8::from_str_radix(d, 16).ok())
            .unwrap_or(0) as f64
    };
    (channel(0), channel(2), channel(4))
}

fn hex(r: f64, g: f64, b: f64) -> String {
    let c = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", c(r), c(g), c(b))
}
