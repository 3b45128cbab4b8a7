//! A small JSON writer, enough for `summary.json`: objects of numbers, strings, lists, nesting.
//!
//! Numbers are written with Rust's shortest round-trip formatting, so they read back exactly
//! (see [`format_number`]); NaN and infinities, which JSON cannot express, are written as `null`.
//! Whole numbers (seeds, counts) are kept apart as [`Json::Integer`] and written digit for digit:
//! a seed such as 2⁶⁴ − 1 has more digits than an `f64` holds (53 bits), and would come back as
//! a different seed.

use std::fmt::Write;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (`null` when not finite).
    Number(f64),
    /// A whole number, written exactly (a seed, a count).
    Integer(u64),
    /// A string, escaped on output.
    String(String),
    /// A list.
    Array(Vec<Json>),
    /// An object whose keys keep the order they were added in.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An empty object.
    pub fn object() -> Json {
        Json::Object(Vec::new())
    }

    /// Adds `key: value` to an object and returns it, for chaining.
    ///
    /// # Panics
    /// If `self` is not an object.
    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Json {
        match &mut self {
            Json::Object(entries) => entries.push((key.to_string(), value.into())),
            _ => panic!("Json::with called on a value that is not an object"),
        }
        self
    }

    /// The value as pretty-printed JSON text, two spaces per level.
    pub fn to_pretty_string(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(x) if x.is_finite() => out.push_str(&format_number(*x)),
            Json::Number(_) => out.push_str("null"),
            Json::Integer(n) => {
                let _ = write!(out, "{n}");
            }
            Json::String(s) => write_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out, indent);
                }
                out.push(']');
            }
            Json::Object(entries) => {
                out.push_str("{\n");
                for (i, (key, value)) in entries.iter().enumerate() {
                    out.push_str(&"  ".repeat(indent + 1));
                    write_string(out, key);
                    out.push_str(": ");
                    value.write(out, indent + 1);
                    out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
                }
                out.push_str(&"  ".repeat(indent));
                out.push('}');
            }
        }
    }
}

/// `x` in the shortest text that reads back as exactly `x`: plain decimals for everyday sizes
/// (`0.125`, `42`), scientific notation for the very large or small (`6.5e153`, `1.5e-9`), which
/// plain `{}` would spell out in hundreds of digits. Every number in `summary.json`,
/// `history.csv` and the CSV files of `compare` and `predict` is written with it.
pub fn format_number(x: f64) -> String {
    let magnitude = x.abs();
    if x != 0.0 && x.is_finite() && !(1e-6..1e16).contains(&magnitude) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<f64> for Json {
    fn from(x: f64) -> Json {
        Json::Number(x)
    }
}

impl From<usize> for Json {
    fn from(x: usize) -> Json {
        Json::Integer(x as u64)
    }
}

impl From<u64> for Json {
    fn from(x: u64) -> Json {
        Json::Integer(x)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::String(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::String(s)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(value: Option<T>) -> Json {
        value.map_or(Json::Null, Into::into)
    }
}

impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(items: Vec<T>) -> Json {
        Json::Array(items.into_iter().map(Into::into).collect())
    }
}
