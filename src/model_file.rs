//! Saving a trained network as plain text a person can read and any program can parse, and
//! loading it back exactly.
//!
//! A model file holds everything needed to turn a raw input row into a prediction in the data's
//! own units: the layer stack with every parameter, the standardisation statistics of the
//! training rows (of the inputs, and of a regression's target), and what the outputs mean (the
//! task and the class names). `train --save FILE` writes it; `predict --model FILE` and
//! `plot architecture --model FILE` read it. The model of `backprop train circles --hidden 3
//! --epochs 100 --save model.txt`, whole:
//!
//! ```text
//! backprop-model 2
//! task circles
//! target binary
//! class outer
//! class inner
//! feature x₁
//! feature x₂
//! standardize no
//! standardize_target no
//! layers 4
//! layer 1 dense 2 3
//! W -2.441128845229377 3.1346527492925835 -0.23633048654539335
//! W -1.0767517591580889 -0.3890377690336605 0.3102069775614404
//! b -1.08677279316507 -1.078666172991972 -0.48313433645550036
//! layer 2 relu
//! layer 3 dense 3 1
//! W -2.6329746070814206
//! W -1.8577591706773366
//! W 0.5446020469959874
//! b 0.9060175230896284
//! layer 4 sigmoid
//! end
//! ```
//!
//! and the lines that differ in a regression trained on a CSV file (its features and its target
//! standardised, as they are by default):
//!
//! ```text
//! target regression
//! feature size
//! feature rooms
//! standardize yes
//! mean 87.5 3
//! std 21.937410968480304 0.7071067811865476
//! standardize_target yes
//! target_mean 347.5
//! target_std 85.84142356694697
//! ```
//!
//! # The format
//!
//! UTF-8 text, one item per line, in this order. A line is a key, one space, and the rest of the
//! line; nothing else (no comments, no blank lines) may appear.
//!
//! ```text
//! backprop-model 2          the format's name and version
//! task NAME                 the data it was trained on: a task's name, or a CSV file's stem
//! target KIND               binary | multiclass | regression
//! class NAME                one line per class, in class-id order (the first line is class 0):
//!                           exactly 2 for binary, 3 or more for multiclass, none for regression
//! feature NAME              one line per input column, in the order inputs are given; at least 1
//! standardize no            the inputs go to the network as they are, or
//! standardize yes           two lines follow, one number per feature each:
//! mean μ₁ μ₂ …                each input column's mean over the training rows
//! std σ₁ σ₂ …                 its standard deviation (every σ > 0); input x becomes (x − μ)/σ
//! standardize_target no     the network's outputs are the prediction, or (regression only)
//! standardize_target yes    two lines follow, one number per output each:
//! target_mean μ_y             the target's mean over the training rows
//! target_std σ_y              its standard deviation (> 0); the prediction is μ_y + σ_y·ŷ′,
//!                             where ŷ′ is the network's output
//! layers N                  the number of layers that follow, at least 1, in forward order
//! layer k dense n_in n_out  Z = X·W + b; then n_in lines `W …` of n_out numbers (line i is
//!                           row i of W, the weights from input i) and one line `b …` (n_out)
//! layer k ACTIVATION        relu, tanh, sigmoid, swish, identity or softmax, or
//! layer k leaky_relu SLOPE  leaky ReLU with its slope for z < 0
//! layer k batch_norm K      batch normalisation of K values; then the lines `gamma`, `beta`,
//!                           `running_mean` and `running_var`, K numbers each
//! layer k dropout P         dropout with rate P in [0, 1): nothing at prediction time, but the
//!                           file describes the network that was trained
//! end                       the last line; nothing may follow it
//! ```
//!
//! The layer lines count every layer, 1, 2, … in order (the superscripts of the docs, `W¹`, `W²`,
//! count the dense layers only). The shapes must chain: a dense or batch_norm layer takes as many
//! values as the last dense layer before it gives, or as there are feature lines if none does.
//! The network's outputs number 1 for binary, the number of classes for multiclass, and for a
//! regression the number of `target_mean` values when the target is standardised (any number
//! otherwise). At least one layer is dense.
//!
//! Numbers are written with Rust's `{}` formatting of `f64`, the shortest text that reads back
//! as the same 64 bits, so a loaded model predicts bit for bit what the saved one did, and
//! saving a loaded model gives the same bytes. Names may contain spaces (`class arm 0`): a name
//! is the rest of its line. Each activation has one spelling, the one above.
//!
//! # Versions
//!
//! This crate writes version 2 and reads versions 1 and 2. Version 1 is the same format without
//! the `standardize_target` lines (it was written before a regression's target was
//! standardised): such a file loads as a model whose outputs are the prediction as they are,
//! and saving it again writes version 2 with `standardize_target no`.
//!
//! # Errors
//!
//! Loading checks everything and reports the first problem as an [`Error::Input`] naming the file
//! and the line (`model.txt line 16: the W line has 7 numbers; expected 8`): a missing or
//! truncated file, another format or version, a missing or unexpected line, a value that is not
//! a finite number, a σ that is not positive, a count or shape that does not match.

use crate::activation::Activation;
use crate::batch_norm::BatchNorm;
use crate::data::{Standardizer, Task};
use crate::dense::Dense;
use crate::dropout::Dropout;
use crate::error::{Error, Result};
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::network::Network;
use crate::rng::Rng;
use crate::run::Run;
use std::fmt::Write as _;
use std::path::Path;

/// The first word of every model file.
pub const FORMAT: &str = "backprop-model";

/// The version of the format this crate writes. It reads this one and version 1, which has no
/// `standardize_target` lines (see the module docs).
pub const VERSION: u32 = 2;

/// A trained network with what it needs to read raw inputs and name its outputs.
#[derive(Clone, Debug)]
pub struct Model {
    /// The name of the data it was trained on (`circles`, or a CSV file's stem).
    pub task: String,
    /// Binary, multi-class or regression: how to read the outputs.
    pub target: Task,
    /// For classification, the name of each class id.
    pub class_names: Vec<String>,
    /// One name per input column.
    pub feature_names: Vec<String>,
    /// The training rows' μ and σ, applied to every input before the network sees it.
    pub standardizer: Option<Standardizer>,
    /// For a regression trained on a standardised target, the training rows' μ_y and σ_y of the
    /// target: the network predicts `ŷ′`, and the model answers `μ_y + σ_y·ŷ′`.
    pub target_standardizer: Option<Standardizer>,
    /// The network.
    pub network: Network,
}

/// One prediction for one input row.
#[derive(Clone, Debug, PartialEq)]
pub enum Prediction {
    /// The most probable class, its name, and its probability.
    Class {
        /// The class id.
        id: usize,
        /// The class name.
        name: String,
        /// The network's probability for it.
        probability: f64,
    },
    /// The predicted value of a regression.
    Value(f64),
}

impl Model {
    /// The model of a finished run.
    pub fn from_run(run: &Run) -> Model {
        let data = &run.data.train;
        Model {
            task: run.options.data_name(),
            target: data.task,
            class_names: data.class_names.clone(),
            feature_names: data.feature_names.clone(),
            standardizer: run.data.standardizer.clone(),
            target_standardizer: run.data.target_standardizer.clone(),
            network: run.network.clone(),
        }
    }

    /// `ŷ` (n × n_out) for raw (unstandardised) input rows `x` (n × n_in), in the target's units:
    /// standardise the inputs, run forward in inference mode, and for a standardised target bring
    /// the output back, `ŷ = μ_y + σ_y·ŷ′`.
    ///
    /// # Panics
    /// If `x` does not have `n_in` columns.
    pub fn predict(&mut self, x: &Matrix) -> Matrix {
        assert!(
            x.cols() == self.network.n_in(),
            "Model::predict: the input is {:?} but the network takes {} columns",
            x.shape(),
            self.network.n_in()
        );
        let y_hat = match &self.standardizer {
            Some(s) => self.network.predict(&s.apply(x)),
            None => self.network.predict(x),
        };
        match &self.target_standardizer {
            Some(target) => target.invert(&y_hat),
            None => y_hat,
        }
    }

    /// The prediction for each row of `ŷ`: the class with the largest probability (for one
    /// sigmoid output, class 1 when ŷ ≥ 0.5 with probability ŷ, else class 0 with 1 − ŷ), or
    /// the value.
    pub fn interpret(&self, y_hat: &Matrix) -> Vec<Prediction> {
        (0..y_hat.rows())
            .map(|i| {
                let row = y_hat.row(i);
                let (id, probability) = match self.target {
                    Task::Regression => return Prediction::Value(row[0]),
                    Task::Binary if row[0] >= 0.5 => (1, row[0]),
                    Task::Binary => (0, 1.0 - row[0]),
                    Task::Multiclass { .. } => {
                        let mut best = 0;
                        for (j, &p) in row.iter().enumerate() {
                            if p > row[best] {
                                best = j;
                            }
                        }
                        (best, row[best])
                    }
                };
                let name = self
                    .class_names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string());
                Prediction::Class {
                    id,
                    name,
                    probability,
                }
            })
            .collect()
    }

    /// The model as text (see the module docs).
    pub fn to_text(&self) -> String {
        let mut t = format!("{FORMAT} {VERSION}\ntask {}\n", self.task);
        match self.target {
            Task::Binary => t.push_str("target binary\n"),
            Task::Multiclass { .. } => t.push_str("target multiclass\n"),
            Task::Regression => t.push_str("target regression\n"),
        }
        for name in &self.class_names {
            let _ = writeln!(t, "class {name}");
        }
        for name in &self.feature_names {
            let _ = writeln!(t, "feature {name}");
        }
        match &self.standardizer {
            None => t.push_str("standardize no\n"),
            Some(s) => {
                t.push_str("standardize yes\n");
                write_numbers(&mut t, "mean", &s.mean);
                write_numbers(&mut t, "std", &s.std_dev);
            }
        }
        match &self.target_standardizer {
            None => t.push_str("standardize_target no\n"),
            Some(s) => {
                t.push_str("standardize_target yes\n");
                write_numbers(&mut t, "target_mean", &s.mean);
                write_numbers(&mut t, "target_std", &s.std_dev);
            }
        }
        let layers = self.network.layers();
        let _ = writeln!(t, "layers {}", layers.len());
        for (k, layer) in layers.iter().enumerate() {
            let _ = write!(t, "layer {} ", k + 1);
            match layer {
                Layer::Dense(dense) => {
                    let _ = writeln!(t, "dense {} {}", dense.n_in(), dense.n_out());
                    for i in 0..dense.w.rows() {
                        write_numbers(&mut t, "W", dense.w.row(i));
                    }
                    write_numbers(&mut t, "b", dense.b.as_slice());
                }
                Layer::Activation(Activation::LeakyRelu { slope }) => {
                    let _ = writeln!(t, "leaky_relu {slope}");
                }
                Layer::Activation(f) => {
                    let _ = writeln!(t, "{}", f.name());
                }
                Layer::Dropout(dropout) => {
                    let _ = writeln!(t, "dropout {}", dropout.rate);
                }
                Layer::BatchNorm(norm) => {
                    let _ = writeln!(t, "batch_norm {}", norm.features());
                    write_numbers(&mut t, "gamma", norm.gamma.as_slice());
                    write_numbers(&mut t, "beta", norm.beta.as_slice());
                    write_numbers(&mut t, "running_mean", norm.running_mean.as_slice());
                    write_numbers(&mut t, "running_var", norm.running_var.as_slice());
                }
            }
        }
        t.push_str("end\n");
        t
    }

    /// Writes the model to `path` (atomically: see `files.rs`).
    ///
    /// # Errors
    /// If the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::files::write_atomic(path, self.to_text().as_bytes())
    }

    /// Reads the model file at `path`.
    ///
    /// # Errors
    /// If the file cannot be read or is not a valid model; the message names the file and line.
    pub fn load(path: &Path) -> Result<Model> {
        if path.as_os_str().is_empty() {
            return Err(Error::Usage(
                "the model file name is empty; give the path of a saved model.txt".into(),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Input(format!(
                "cannot read the model {}: {}",
                path.display(),
                crate::error::io_reason(&e)
            ))
        })?;
        Model::parse(&text, &path.display().to_string())
    }

    /// Parses model `text`; `source` names it in error messages.
    ///
    /// # Errors
    /// On the first line that is missing, malformed or inconsistent with the lines before it.
    pub fn parse(text: &str, source: &str) -> Result<Model> {
        let mut r = Reader::new(text, source);

        let (n, line) = r.next("the format line")?;
        let version = match line.trim().split_once(' ') {
            Some((FORMAT, "1")) => 1,
            Some((FORMAT, "2")) => 2,
            Some((FORMAT, version)) => {
                return Err(r.error_at(
                    n,
                    &format!(
                        "model format version {} is not supported; this program reads versions 1 and {VERSION}",
                        version.trim()
                    ),
                ))
            }
            _ => {
                return Err(r.error_at(
                    n,
                    &format!(
                        "this is not a backprop model file; it must start with '{FORMAT} {VERSION}'"
                    ),
                ))
            }
        };

        let task = r.keyed("task")?.1.to_string();
        let (n, target) = r.keyed("target")?;
        let target = target.trim().to_string();
        let mut class_names = Vec::new();
        while r.peek_key() == Some("class") {
            class_names.push(r.keyed("class")?.1.to_string());
        }
        r.expect_more("the feature lines")?;
        let target = match target.as_str() {
            "binary" if class_names.len() == 2 => Task::Binary,
            "multiclass" if class_names.len() > 2 => Task::Multiclass {
                classes: class_names.len(),
            },
            "regression" if class_names.is_empty() => Task::Regression,
            "binary" | "multiclass" | "regression" => {
                return Err(r.error_at(
                    n,
                    &format!(
                        "target {target} does not fit the {} class lines that follow (binary needs 2, multiclass 3 or more, regression none)",
                        class_names.len()
                    ),
                ))
            }
            other => {
                return Err(r.error_at(
                    n,
                    &format!("unknown target '{other}'; expected binary, multiclass or regression"),
                ))
            }
        };
        let mut feature_names = Vec::new();
        while r.peek_key() == Some("feature") {
            feature_names.push(r.keyed("feature")?.1.to_string());
        }
        r.expect_more("'standardize yes' or 'standardize no'")?;
        if feature_names.is_empty() {
            return Err(r.error_here("expected at least one 'feature NAME' line"));
        }
        let n_features = feature_names.len();

        let (n, standardize) = r.keyed("standardize")?;
        let standardizer = match standardize.trim() {
            "no" => None,
            "yes" => {
                let mean = r.numbers("mean", n_features)?;
                let std_dev = r.numbers("std", n_features)?;
                if let Some(bad) = std_dev.iter().find(|&&s| s <= 0.0) {
                    return Err(r.error_at(
                        r.line_number,
                        &format!("a standard deviation of {bad}; every σ must be greater than 0"),
                    ));
                }
                Some(Standardizer { mean, std_dev })
            }
            other => {
                return Err(r.error_at(
                    n,
                    &format!(
                        "'standardize {other}': expected 'standardize yes' or 'standardize no'"
                    ),
                ))
            }
        };
        // Version 1 predates the target's statistics: its outputs are the prediction as they are.
        let target_standardizer = if version == 1 {
            None
        } else {
            r.target_statistics(target)?
        };

        let (n, count) = r.keyed("layers")?;
        let count: usize = match count.trim().parse() {
            Ok(c) if c > 0 => c,
            _ => {
                return Err(r.error_at(
                    n,
                    &format!("'layers {count}': expected a whole number of layers, at least 1"),
                ))
            }
        };
        let mut layers = Vec::with_capacity(count);
        // The width of the values flowing between layers, to check every shape as it comes.
        let mut width = n_features;
        for k in 1..=count {
            let (n, rest) = r.keyed("layer")?;
            let words: Vec<&str> = rest.split_whitespace().collect();
            if words.first() != Some(&k.to_string().as_str()) || words.len() < 2 {
                return Err(r.error_at(
                    n,
                    &format!("expected 'layer {k} KIND …', found 'layer {rest}'"),
                ));
            }
            let layer = match (words[1], &words[2..]) {
                ("dense", [n_in, n_out]) => {
                    let n_in = r.count(n, n_in)?;
                    let n_out = r.count(n, n_out)?;
                    if n_in != width {
                        return Err(r.error_at(
                            n,
                            &format!("layer {k} takes {n_in} inputs but receives {width}"),
                        ));
                    }
                    let mut w = Vec::with_capacity(n_in * n_out);
                    for _ in 0..n_in {
                        w.extend(r.numbers("W", n_out)?);
                    }
                    let b = r.numbers("b", n_out)?;
                    width = n_out;
                    Layer::Dense(Dense::from_parameters(
                        Matrix::from_vec(n_in, n_out, w),
                        Matrix::from_vec(1, n_out, b),
                    ))
                }
                ("batch_norm", [features]) => {
                    let features = r.count(n, features)?;
                    if features != width {
                        return Err(r.error_at(
                            n,
                            &format!("layer {k} normalises {features} values but receives {width}"),
                        ));
                    }
                    let mut norm = BatchNorm::new(features);
                    norm.gamma = Matrix::from_vec(1, features, r.numbers("gamma", features)?);
                    norm.beta = Matrix::from_vec(1, features, r.numbers("beta", features)?);
                    norm.running_mean =
                        Matrix::from_vec(1, features, r.numbers("running_mean", features)?);
                    norm.running_var =
                        Matrix::from_vec(1, features, r.numbers("running_var", features)?);
                    Layer::BatchNorm(norm)
                }
                ("dropout", [rate]) => match rate.parse::<f64>() {
                    Ok(p) if (0.0..1.0).contains(&p) => {
                        Layer::Dropout(Dropout::new(p, Rng::new(0)))
                    }
                    _ => {
                        return Err(r.error_at(
                            n,
                            &format!("dropout rate '{rate}' is not a number in [0, 1)"),
                        ))
                    }
                },
                ("leaky_relu", [slope]) => match slope.parse::<f64>() {
                    Ok(slope) if slope.is_finite() => {
                        Layer::Activation(Activation::LeakyRelu { slope })
                    }
                    _ => {
                        return Err(r.error_at(
                            n,
                            &format!("leaky_relu slope '{slope}' is not a finite number"),
                        ))
                    }
                },
                // One spelling per activation, the one `to_text` writes (`from_name` also takes
                // aliases such as `linear`, which a model file does not).
                (name, []) if name != "leaky_relu" => match Activation::from_name(name)
                    .filter(|f| f.name() == name)
                {
                    Some(f) => Layer::Activation(f),
                    None => {
                        return Err(r.error_at(
                            n,
                            &format!(
                                "unknown layer kind '{name}'; expected dense, batch_norm, dropout or an activation ({}, softmax)",
                                Activation::HIDDEN_NAMES.join(", ")
                            ),
                        ))
                    }
                },
                (kind, _) => {
                    return Err(r.error_at(
                        n,
                        &format!("'layer {rest}': wrong number of values for a {kind} layer"),
                    ))
                }
            };
            layers.push(layer);
        }
        let n_out = match (target, &target_standardizer) {
            (Task::Binary, _) => 1,
            (Task::Multiclass { classes }, _) => classes,
            (Task::Regression, Some((_, s))) => s.mean.len(),
            (Task::Regression, None) => width,
        };
        if width != n_out {
            let needs = match &target_standardizer {
                Some((line, _)) => {
                    format!("the {n_out} numbers of the target_mean line (line {line})")
                }
                None => format!("the target needs {n_out}"),
            };
            return Err(r.error_at(
                r.line_number,
                &format!("the network has {width} outputs but {needs}"),
            ));
        }
        if !layers.iter().any(|l| matches!(l, Layer::Dense(_))) {
            return Err(r.error_at(r.line_number, "the network has no dense layer"));
        }
        let (n, end) = r.next("'end'")?;
        if end.trim() != "end" {
            return Err(r.error_at(
                n,
                &format!("expected 'end' after the {count} layers, found '{end}'"),
            ));
        }
        if let Some((n, extra)) = r.lines.next() {
            return Err(r.error_at(n, &format!("unexpected text after 'end': '{extra}'")));
        }
        Ok(Model {
            task,
            target,
            class_names,
            feature_names,
            standardizer,
            target_standardizer: target_standardizer.map(|(_, s)| s),
            network: Network::new(layers),
        })
    }
}

fn write_numbers(t: &mut String, key: &str, values: &[f64]) {
    t.push_str(key);
    for v in values {
        let _ = write!(t, " {v}");
    }
    t.push('\n');
}

/// Walks the lines of a model file, keeping the line number for messages.
struct Reader<'a> {
    lines: std::iter::Peekable<Box<dyn Iterator<Item = (usize, &'a str)> + 'a>>,
    source: &'a str,
    /// The number of the last line read.
    line_number: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, source: &'a str) -> Reader<'a> {
        let lines: Box<dyn Iterator<Item = (usize, &'a str)> + 'a> = Box::new(
            text.lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.trim_end_matches('\r'))),
        );
        Reader {
            lines: lines.peekable(),
            source,
            line_number: 0,
        }
    }

    fn error_at(&self, line: usize, message: &str) -> Error {
        Error::Input(format!("{} line {line}: {message}", self.source))
    }

    fn error_here(&mut self, message: &str) -> Error {
        let line = self.lines.peek().map_or(self.line_number + 1, |(n, _)| *n);
        self.error_at(line, message)
    }

    /// The next line, or an error saying the file ended where `what` was expected.
    fn next(&mut self, what: &str) -> Result<(usize, &'a str)> {
        match self.lines.next() {
            Some((n, line)) => {
                self.line_number = n;
                Ok((n, line))
            }
            None => Err(self.truncated(what)),
        }
    }

    /// The error for a file that ended where `what` should follow.
    fn truncated(&self, what: &str) -> Error {
        Error::Input(format!(
            "{} line {}: the file ends where {what} should follow; it is truncated",
            self.source,
            self.line_number + 1
        ))
    }

    /// An error saying the file is truncated if it has ended where `what` should follow.
    fn expect_more(&mut self, what: &str) -> Result<()> {
        if self.lines.peek().is_none() {
            return Err(self.truncated(what));
        }
        Ok(())
    }

    /// The first word of the next line, without consuming it.
    fn peek_key(&mut self) -> Option<&'a str> {
        self.lines
            .peek()
            .map(|(_, l)| l.split(' ').next().unwrap_or(""))
    }

    /// The next line, which must be `key VALUE…`; returns the text after the key.
    fn keyed(&mut self, key: &str) -> Result<(usize, &'a str)> {
        let (n, line) = self.next(&format!("a '{key}' line"))?;
        match line.split_once(' ') {
            Some((k, rest)) if k == key => Ok((n, rest)),
            _ if line == key => Ok((n, "")),
            _ => Err(self.error_at(
                n,
                &format!("expected a '{key}' line, found '{}'", shorten(line)),
            )),
        }
    }

    /// The next line, which must be `key` followed by exactly `count` finite numbers.
    fn numbers(&mut self, key: &str, count: usize) -> Result<Vec<f64>> {
        let (n, values) = self.finite_numbers(key)?;
        if values.len() != count {
            return Err(self.error_at(
                n,
                &format!(
                    "the {key} line has {} numbers; expected {count}",
                    values.len()
                ),
            ));
        }
        Ok(values)
    }

    /// The next line, which must be `key` followed by at least one finite number; returns its
    /// line number and the numbers.
    fn some_numbers(&mut self, key: &str) -> Result<(usize, Vec<f64>)> {
        let (n, values) = self.finite_numbers(key)?;
        if values.is_empty() {
            return Err(self.error_at(n, &format!("the {key} line has no numbers")));
        }
        Ok((n, values))
    }

    /// The next line, which must be `key` followed by finite numbers only; returns its line
    /// number and the numbers.
    fn finite_numbers(&mut self, key: &str) -> Result<(usize, Vec<f64>)> {
        let (n, rest) = self.keyed(key)?;
        let mut values = Vec::new();
        for word in rest.split_whitespace() {
            match word.parse::<f64>() {
                Ok(v) if v.is_finite() => values.push(v),
                _ => {
                    return Err(self.error_at(
                        n,
                        &format!("'{word}' in the {key} line is not a finite number"),
                    ))
                }
            }
        }
        Ok((n, values))
    }

    /// The `standardize_target` line of version 2 and, after `yes`, the lines `target_mean` and
    /// `target_std` (one number per output each, every σ_y > 0); returns the line of
    /// `target_mean` with the statistics, so that their count can be checked against the
    /// network's outputs once the layers are read.
    fn target_statistics(&mut self, target: Task) -> Result<Option<(usize, Standardizer)>> {
        let (n, standardize) = self.keyed("standardize_target")?;
        match standardize.trim() {
            "no" => Ok(None),
            "yes" if target != Task::Regression => Err(self.error_at(
                n,
                "'standardize_target yes' is for a regression only; a classifier's outputs are probabilities",
            )),
            "yes" => {
                let (mean_line, mean) = self.some_numbers("target_mean")?;
                let std_dev = self.numbers("target_std", mean.len())?;
                if let Some(bad) = std_dev.iter().find(|&&s| s <= 0.0) {
                    return Err(self.error_at(
                        self.line_number,
                        &format!("a standard deviation of {bad}; every σ must be greater than 0"),
                    ));
                }
                Ok(Some((mean_line, Standardizer { mean, std_dev })))
            }
            other => Err(self.error_at(
                n,
                &format!(
                    "'standardize_target {other}': expected 'standardize_target yes' or 'standardize_target no'"
                ),
            )),
        }
    }

    /// A positive whole number from a layer line.
    fn count(&self, line: usize, word: &str) -> Result<usize> {
        match word.parse::<usize>() {
            Ok(c) if c > 0 => Ok(c),
            _ => Err(self.error_at(
                line,
                &format!("'{word}' is not a size; expected a whole number of at least 1"),
            )),
        }
    }
}

fn shorten(line: &str) -> String {
    if line.chars().count() > 40 {
        format!("{}…", line.chars().take(40).collect::<String>())
    } else {
        line.to_string()
    }
}
