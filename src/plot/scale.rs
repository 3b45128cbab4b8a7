//! Scales map data to pixels; ticks are the "nice" numbers a person would write on an axis.
//!
//! ```text
//! linear   px = r₀ + (v − d₀)/(d₁ − d₀) · (r₁ − r₀)
//! log      px = r₀ + (log₁₀ v − log₁₀ d₀)/(log₁₀ d₁ − log₁₀ d₀) · (r₁ − r₀)
//! ticks    step = 1, 2 or 5 × 10ⁿ, the smallest giving at most the wanted number of ticks
//! ```
//!
//! A value outside the domain is clamped a little beyond the range (so a diverging loss runs
//! off the top of the plot instead of off the page), and a non-finite value maps to NaN, which
//! the SVG writer refuses to draw.

/// Linear or logarithmic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Equal steps of value are equal steps of pixels.
    Linear,
    /// Equal ratios of value are equal steps of pixels (the domain must be positive).
    Log,
}

/// A map from a domain of values to a range of pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// Linear or log.
    pub kind: Kind,
    /// The values at the two ends.
    pub domain: (f64, f64),
    /// The pixels at the two ends (for a y axis, bottom first).
    pub range: (f64, f64),
}

impl Scale {
    /// A linear scale; an empty domain is widened so that it can be drawn.
    pub fn linear(domain: (f64, f64), range: (f64, f64)) -> Scale {
        let (mut lo, mut hi) = domain;
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo < 1e-12 {
            lo -= 0.5;
            hi += 0.5;
        }
        Scale {
            kind: Kind::Linear,
            domain: (lo, hi),
            range,
        }
    }

    /// A log scale over `domain` widened to whole decades.
    pub fn log(domain: (f64, f64), range: (f64, f64)) -> Scale {
        let (mut lo, mut hi) = domain;
        if !(lo > 0.0 && lo.is_finite()) {
            lo = 1e-6;
        }
        if !(hi > 0.0 && hi.is_finite()) {
            hi = lo * 10.0;
        }
        let lo = 10f64.powf(lo.log10().floor());
        let mut hi = 10f64.powf(hi.log10().ceil());
        if hi <= lo {
            hi = lo * 10.0;
        }
        Scale {
            kind: Kind::Log,
            domain: (lo, hi),
            range,
        }
    }

    /// A log scale over exactly `domain`, not widened: for an axis of epochs that should end
    /// where the run ends. Its ticks are the powers of ten inside the domain, with 2 and 5 times
    /// them when there would be fewer than three.
    pub fn log_exact(domain: (f64, f64), range: (f64, f64)) -> Scale {
        let widened = Scale::log(domain, range);
        let (lo, hi) = domain;
        if !(lo > 0.0 && hi > lo && hi.is_finite()) {
            return widened;
        }
        Scale {
            kind: Kind::Log,
            domain,
            range,
        }
    }

    /// Where `v` is drawn: NaN for a non-finite value (or ≤ 0 on a log scale); values outside
    /// the domain are clamped to 5 % beyond the range.
    pub fn map(&self, v: f64) -> f64 {
        let (d0, d1) = self.domain;
        let t = match self.kind {
            Kind::Linear => (v - d0) / (d1 - d0),
            Kind::Log => {
                if v <= 0.0 {
                    return f64::NAN;
                }
                (v.log10() - d0.log10()) / (d1.log10() - d0.log10())
            }
        };
        if !t.is_finite() {
            return f64::NAN;
        }
        let t = t.clamp(-0.05, 1.05);
        self.range.0 + t * (self.range.1 - self.range.0)
    }

    /// The tick values: nice numbers on a linear scale, powers of ten on a log scale.
    pub fn ticks(&self, wanted: usize) -> Vec<f64> {
        match self.kind {
            Kind::Linear => nice_ticks(self.domain.0, self.domain.1, wanted),
            Kind::Log => {
                // The decades inside the domain (all of it, for a domain widened to decades).
                let (lo, hi) = (self.domain.0.log10(), self.domain.1.log10());
                let (a, b) = ((lo - 1e-9).ceil() as i32, (hi + 1e-9).floor() as i32);
                let stride = ((b - a).max(0) as usize).div_ceil(wanted.max(1)).max(1);
                let powers: Vec<f64> = (a..=b).step_by(stride).map(|e| 10f64.powi(e)).collect();
                if powers.len() >= 3 {
                    return powers;
                }
                let inside = |v: &f64| {
                    *v >= self.domain.0 * (1.0 - 1e-9) && *v <= self.domain.1 * (1.0 + 1e-9)
                };
                (a - 1..=b)
                    .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
                    .filter(inside)
                    .collect()
            }
        }
    }

    /// A tick's label: `0.25`, `100`, `1e-4`.
    pub fn label(&self, v: f64) -> String {
        match self.kind {
            Kind::Log if !(-2..=3).contains(&((v.log10() + 1e-9).floor() as i32)) => {
                // 1e-4 rather than 0.0001, and 2e-4 rather than 0.0002: the ticks of a log
                // scale are 1, 2 or 5 times a power of ten.
                let e = (v.log10() + 1e-9).floor() as i32;
                format!("{}e{e}", (v / 10f64.powi(e)).round())
            }
            _ => format_number(v),
        }
    }
}

/// The smallest "nice" step (1, 2 or 5 × 10ⁿ) that cuts `[lo, hi]` into at most `wanted`
/// intervals, and the multiples of it inside the interval.
pub fn nice_ticks(lo: f64, hi: f64, wanted: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / wanted.max(1) as f64;
    let exponent = raw.log10().floor() as i32;
    let magnitude = 10f64.powi(exponent);
    let multiple = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * magnitude >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0);
    let step = multiple * magnitude;
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    // k·m/10ⁿ rather than k·(m·10⁻ⁿ): dividing an integer by an exact power of ten gives the
    // nearest double to the decimal (0.6, not 0.6000000000000001).
    (first..=last)
        .map(|k| {
            let units = k as f64 * multiple;
            if exponent < 0 {
                units / 10f64.powi(-exponent)
            } else {
                units * magnitude
            }
        })
        .collect()
}

/// A number for a label, with as few digits as it needs: `0.1`, `2.5`, `1000`; in scientific
/// notation with at most three significant digits when it is very large or very small (`1.5e5`,
/// `1.86e71`, `2.5e-4`), so a diverging loss is never a row of seventy digits; `∞`, `−∞` and
/// `NaN` for the numbers that are not finite.
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞" } else { "−∞" }.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    if !(1e-3..1e5).contains(&v.abs()) {
        // `{:.2e}` rounds to three significant digits (1.86e71); the mantissa's trailing zeros
        // go (1.50e5 → 1.5e5, 2.00e-4 → 2e-4).
        let text = format!("{v:.2e}");
        let (mantissa, exponent) = text.split_once('e').expect("{:e} writes an exponent");
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exponent}");
    }
    let mut text = format!("{v:.4}");
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    text
}

/// A power of ten written as one, `10⁻³` or `10⁴`, and any other number by [`format_number`].
pub fn power_of_ten(v: f64) -> String {
    let e = v.log10().round();
    if !(v > 0.0 && v.is_finite()) || 10f64.powi(e as i32) != v {
        return format_number(v);
    }
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut text = String::from("10");
    if e < 0.0 {
        text.push('⁻');
    }
    for d in (e.abs() as u32).to_string().chars() {
        text.push(DIGITS[d.to_digit(10).expect("a digit") as usize]);
    }
    text
}

/// The smallest and largest finite value, or None if there is none.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// The smallest and largest finite positive value (for a log scale).
pub fn positive_extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    extent(values.into_iter().filter(|v| *v > 0.0))
}
