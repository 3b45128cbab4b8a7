//! Reading a table from a CSV file: a header row of column names, one example per row, and the
//! **last column is the target**.
//!
//! ```text
//! sepal_length,sepal_width,petal_length,petal_width,species     ← header: names
//! 5.1,3.5,1.4,0.2,setosa                                        ← features…, target
//! ```
//!
//! Fields are separated by commas; a field may be quoted (`"a, b"`), with `""` for a quote inside
//! it. Every feature must be a finite number. The target decides the task:
//!
//! ```text
//! text labels                             classification; classes sorted by name
//!                                         (benign = 0, malignant = 1)
//! numbers, all integers, ≤ 20 distinct    classification; classes sorted by value (digits 0–9)
//! numbers otherwise                       regression
//! ```
//!
//! Two classes make a binary task, more a multi-class one. [`TargetKind`] overrides the guess.
//! Every problem is reported as an [`Error::Input`] that names the file, the line and the column.

use super::{one_hot, Dataset, Task};
use crate::error::{Error, Result};
use crate::matrix::Matrix;
use std::path::Path;

/// The most distinct integer targets still guessed to be classes rather than a quantity.
pub const MAX_GUESSED_CLASSES: usize = 20;

/// How to read the target column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Guess from the values (see the module docs).
    Auto,
    /// Class labels, whatever they look like.
    Classification,
    /// Real numbers.
    Regression,
}

/// Reads the CSV file at `path` (see the module docs for the format).
///
/// # Errors
/// If the file cannot be read, or any part of it is not in the expected form.
pub fn load(path: &Path, target: TargetKind) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Input(format!(
            "cannot read {}: {}",
            path.display(),
            crate::error::io_reason(&e)
        ))
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Input(format!("{}: the file is not UTF-8 text", path.display())))?;
    let name = path
        .file_stem()
        .map_or("data".to_string(), |s| s.to_string_lossy().into_owned());
    parse(&text, &path.display().to_string(), &name, target)
}

/// Parses CSV `text`; `source` names it in error messages and `name` becomes the dataset's name.
///
/// # Errors
/// If the text is empty, has no data rows, rows of the wrong length, features that are not finite
/// numbers, a single class, or text targets for a regression.
pub fn parse(text: &str, source: &str, name: &str, target: TargetKind) -> Result<Dataset> {
    let table = read_table(text, source, |header_line, header| {
        if header.len() < 2 {
            return Err(Error::Input(format!(
                "{source} line {header_line}: the header has {} column; expected at least one feature and the target (the last column)",
                header.len()
            )));
        }
        Ok(header.len() - 1)
    })?;
    let Table {
        header,
        n_features,
        features,
        targets,
        target_lines,
    } = table;
    let targets: Vec<String> = targets.iter().map(|t| t.trim().to_string()).collect();
    let n = targets.len();
    let x = Matrix::from_vec(n, n_features, features);
    let feature_names = header[..n_features].to_vec();
    let target_name = &header[n_features];

    let numeric: Option<Vec<f64>> = targets.iter().map(|t| t.parse::<f64>().ok()).collect();
    let is_regression = match (target, &numeric) {
        (TargetKind::Regression, _) => true,
        (TargetKind::Classification, _) => false,
        (TargetKind::Auto, None) => false,
        (TargetKind::Auto, Some(values)) => {
            let integers = values.iter().all(|v| v.fract() == 0.0 && v.is_finite());
            let mut distinct = values.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            !integers || distinct.len() > MAX_GUESSED_CLASSES
        }
    };

    if is_regression {
        let mut y = Vec::with_capacity(n);
        for (t, &line) in targets.iter().zip(&target_lines) {
            y.push(parse_number(t, source, line, n_features, target_name)?);
        }
        return Ok(Dataset {
            name: name.to_string(),
            x,
            y: Matrix::from_vec(n, 1, y),
            task: Task::Regression,
            feature_names,
            class_names: Vec::new(),
            clean_y: None,
        });
    }

    // Classes in a fixed, documented order: by value when all labels are numbers, else by name.
    let mut class_names: Vec<String> = targets.clone();
    match &numeric {
        Some(_) => class_names.sort_by(|a, b| {
            let (a, b) = (
                a.parse::<f64>().unwrap_or(0.0),
                b.parse::<f64>().unwrap_or(0.0),
            );
            a.total_cmp(&b)
        }),
        None => class_names.sort(),
    }
    class_names.dedup();
    if class_names.len() < 2 {
        return Err(Error::Input(format!(
            "{source}: the target column '{target_name}' has only one class ('{}'); a classifier needs at least two (use --regression for a numeric target)",
            class_names[0]
        )));
    }
    let labels: Vec<usize> = targets
        .iter()
        .map(|t| class_names.iter().position(|c| c == t).unwrap_or(0))
        .collect();
    let (y, task) = if class_names.len() == 2 {
        let y = labels.iter().map(|&l| l as f64).collect();
        (Matrix::from_vec(n, 1, y), Task::Binary)
    } else {
        let classes = class_names.len();
        (one_hot(&labels, classes), Task::Multiclass { classes })
    };
    Ok(Dataset {
        name: name.to_string(),
        x,
        y,
        task,
        feature_names,
        class_names,
        clean_y: None,
    })
}

/// Splits one line into fields at commas, honouring double quotes.
fn split_fields(line: &str, source: &str, line_number: usize) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_string()),
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(Error::Input(format!(
            "{source} line {line_number}: a quoted field is not closed; add the closing '\"'"
        )));
    }
    fields.push(field.trim().to_string());
    Ok(fields)
}

/// A finite number, or an error naming the line and the column (counted from 1).
fn parse_number(field: &str, source: &str, line: usize, column: usize, name: &str) -> Result<f64> {
    let at = format!("{source} line {line}, column {} ('{name}')", column + 1);
    if field.is_empty() {
        return Err(Error::Input(format!(
            "{at}: the value is missing; expected a number"
        )));
    }
    match field.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(Error::Input(format!(
            "{at}: '{field}' is not a finite number; remove or replace the row"
        ))),
        Err(_) => Err(Error::Input(format!(
            "{at}: '{field}' is not a number; features must be numeric"
        ))),
    }
}

/// Reads rows to predict on from the CSV file at `path`: a header row, then rows of either
/// `n_features` numbers, or `n_features` numbers and a target (the last column, as in training
/// files), which is returned as text beside the features.
///
/// # Errors
/// If the file cannot be read, has no rows, rows of another width, or features that are not
/// finite numbers; the message names the file, line and column.
pub fn load_features(path: &Path, n_features: usize) -> Result<(Matrix, Option<Vec<String>>)> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Input(format!(
            "cannot read {source}: {}",
            crate::error::io_reason(&e)
        ))
    })?;
    let table = read_table(&text, &source, |header_line, header| {
        match header.len() {
        n if n == n_features || n == n_features + 1 => Ok(n_features),
        n => Err(Error::Input(format!(
            "{source} line {header_line}: {n} columns, but the model takes {n_features} features (optionally followed by the target)"
        ))),
    }
    })?;
    let has_target = table.header.len() == n_features + 1;
    let n = table.targets.len();
    Ok((
        Matrix::from_vec(n, n_features, table.features),
        has_target.then_some(table.targets),
    ))
}

/// A CSV file as both readers see it: the header, every data row's first `n_features` fields
/// as numbers (row after row), and each row's field after them, the target (empty when the
/// header has no target column).
struct Table {
    header: Vec<String>,
    n_features: usize,
    features: Vec<f64>,
    targets: Vec<String>,
    /// The line of each row, for messages about its target.
    target_lines: Vec<usize>,
}

/// Reads `text` as a table: strips a byte-order mark, skips blank lines, splits the header and
/// asks `n_features_of(line, header)` how many feature columns it has (or why it is wrong), then
/// checks every row's width against the header and parses its features.
///
/// # Errors
/// For an empty file, a header refused by `n_features_of`, a row of another width, a feature
/// that is not a finite number, or no data rows; the message names `source`, line and column.
fn read_table(
    text: &str,
    source: &str,
    n_features_of: impl FnOnce(usize, &[String]) -> Result<usize>,
) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_end_matches('\r')))
        .filter(|(_, line)| !line.trim().is_empty());
    let (header_line, header) = lines.next().ok_or_else(|| {
        Error::Input(format!(
            "{source}: the file is empty; expected a header row and data rows"
        ))
    })?;
    let header = split_fields(header, source, header_line)?;
    let n_features = n_features_of(header_line, &header)?;
    let mut features = Vec::new();
    let mut targets = Vec::new();
    let mut target_lines = Vec::new();
    for (line_number, line) in lines {
        let fields = split_fields(line, source, line_number)?;
        if fields.len() != header.len() {
            return Err(Error::Input(format!(
                "{source} line {line_number}: {} fields, but the header has {}; every row needs one value per column",
                fields.len(),
                header.len()
            )));
        }
        for (column, field) in fields[..n_features].iter().enumerate() {
            features.push(parse_number(
                field,
                source,
                line_number,
                column,
                &header[column],
            )?);
        }
        targets.push(fields.get(n_features).cloned().unwrap_or_default());
        target_lines.push(line_number);
    }
    if targets.is_empty() {
        return Err(Error::Input(format!(
            "{source}: the file has a header but no data rows"
        )));
    }
    Ok(Table {
        header,
        n_features,
        features,
        targets,
        target_lines,
    })
}

/// A CSV field as written by the commands (`compare`, `predict`): quoted when it holds a comma
/// or a quote, with quotes doubled, so [`parse`] reads it back as the same text.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
