//! The named tasks `train` knows, each with the network and settings that solve it by default.
//!
//! A task is a dataset (generated, or a CSV shipped in `datasets/`) plus defaults: the hidden
//! layers, their activation, the optimizer, learning rate, epochs and batch size. The defaults are
//! what the README's promised results are measured with, and `tests/` checks those promises on
//! several seeds, so a change here is a change of promise.
//!
//! A shipped dataset given by its path (`train datasets/iris.csv`) is its named task
//! ([`shipped_task_for`]); any other CSV file gets the defaults of `run::RunOptions::for_csv` and
//! is named and filed by its file name with the extension (`mydata.csv`, `out/mydata.csv/`), so it
//! never shares a name or a folder with a named task.

use crate::activation::Activation;
use crate::data::csv::{self, TargetKind};
use crate::data::{generate, Dataset};
use crate::error::{Error, Result};
use crate::rng::Rng;
use std::path::{Path, PathBuf};

/// Where a task's data comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Drawn by a function of `data/generate.rs`.
    Generated,
    /// A CSV file in the crate's `datasets/` folder.
    Shipped(&'static str),
}

/// Default settings of a task; every one can be overridden by a flag.
#[derive(Clone, Debug, PartialEq)]
pub struct Defaults {
    /// Hidden layer sizes.
    pub hidden: &'static [usize],
    /// Hidden activation.
    pub activation: Activation,
    /// Update rule (by name, see `optim.rs`).
    pub optimizer: &'static str,
    /// Learning rate η.
    pub lr: f64,
    /// Epochs.
    pub epochs: usize,
    /// Multiply η by this every epoch (1 for a constant learning rate).
    pub lr_decay: f64,
    /// Rows per step; 0 for full batch.
    pub batch_size: usize,
    /// Samples to generate (generated tasks).
    pub samples: usize,
    /// Noise level (generated tasks).
    pub noise: f64,
}

/// A named task.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    /// The name typed on the command line.
    pub name: &'static str,
    /// One line on what it is.
    pub about: &'static str,
    /// Where its data comes from.
    pub source: Source,
    /// Its default settings.
    pub defaults: Defaults,
}

/// Every named task, in the order help lists them.
pub fn all() -> Vec<TaskSpec> {
    let generated = Source::Generated;
    vec![
        TaskSpec {
            name: "xor",
            about: "the four XOR points: the smallest problem a hidden layer is needed for",
            source: generated,
            defaults: Defaults {
                hidden: &[4],
                activation: Activation::Tanh,
                optimizer: "sgd",
                lr: 2.0,
                lr_decay: 1.0,
                epochs: 50,
                batch_size: 0,
                samples: 4,
                noise: 0.0,
            },
        },
        TaskSpec {
            name: "circles",
            about: "two concentric noisy circles (binary)",
            source: generated,
            defaults: Defaults {
                hidden: &[10],
                activation: Activation::Relu,
                optimizer: "sgd",
                lr: 1.0,
                lr_decay: 1.0,
                epochs: 300,
                batch_size: 0,
                samples: 1000,
                noise: 0.1,
            },
        },
        TaskSpec {
            name: "moons",
            about: "two interleaving half moons (binary)",
            source: generated,
            defaults: Defaults {
                hidden: &[20],
                activation: Activation::Relu,
                optimizer: "adam",
                lr: 0.02,
                lr_decay: 1.0,
                epochs: 500,
                batch_size: 0,
                samples: 1000,
                noise: 0.1,
            },
        },
        TaskSpec {
            name: "spiral",
            about: "three interleaved spiral arms (3 classes)",
            source: generated,
            defaults: Defaults {
                hidden: &[50],
                activation: Activation::Relu,
                optimizer: "adam",
                lr: 0.02,
                lr_decay: 1.0,
                epochs: 300,
                batch_size: 0,
                samples: 900,
                noise: 0.2,
            },
        },
        TaskSpec {
            name: "blobs",
            about: "three Gaussian clusters (3 classes)",
            source: generated,
            defaults: Defaults {
                hidden: &[10],
                activation: Activation::Relu,
                optimizer: "adam",
                lr: 0.01,
                lr_decay: 1.0,
                epochs: 300,
                batch_size: 0,
                samples: 600,
                noise: 1.0,
            },
        },
        TaskSpec {
            name: "sine",
            about: "y = sin x plus noise on [−2π, 2π] (regression)",
            source: generated,
            defaults: Defaults {
                hidden: &[20, 20],
                activation: Activation::Tanh,
                optimizer: "adam",
                lr: 0.01,
                lr_decay: 0.99,
                epochs: 300,
                batch_size: 32,
                samples: 500,
                noise: 0.05,
            },
        },
        TaskSpec {
            name: "breast_cancer",
            about: "Wisconsin diagnostic breast cancer, 569 × 30 (binary)",
            source: Source::Shipped("breast_cancer.csv"),
            defaults: Defaults {
                hidden: &[16],
                activation: Activation::Relu,
                optimizer: "adam",
                lr: 0.001,
                lr_decay: 1.0,
                epochs: 100,
                batch_size: 32,
                samples: 0,
                noise: 0.0,
            },
        },
        TaskSpec {
            name: "iris",
            about: "Fisher's iris flowers, 150 × 4 (3 classes)",
            source: Source::Shipped("iris.csv"),
            defaults: Defaults {
                hidden: &[8],
                activation: Activation::Relu,
                optimizer: "adam",
                lr: 0.005,
                lr_decay: 1.0,
                epochs: 100,
                batch_size: 16,
                samples: 0,
                noise: 0.0,
            },
        },
        TaskSpec {
            name: "digits",
            about: "8×8 handwritten digits, 1797 × 64 (10 classes)",
            source: Source::Shipped("digits.csv"),
            defaults: Defaults {
                hidden: &[64],
                activation: Activation::Relu,
                optimizer: "adam",
                lr: 0.001,
                lr_decay: 1.0,
                epochs: 30,
                batch_size: 32,
                samples: 0,
                noise: 0.0,
            },
        },
    ]
}

/// The names of all tasks.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|t| t.name).collect()
}

/// The task called `name`, if there is one.
pub fn find(name: &str) -> Option<TaskSpec> {
    all().into_iter().find(|t| t.name == name)
}

/// The shipped task whose CSV file `path` is (`datasets/iris.csv` → `iris`), however the path is
/// written (relative, absolute, through a link): both paths are canonicalised and compared. A
/// shipped dataset given by its path is that task, with its defaults, its name and its folder,
/// so `train datasets/iris.csv` and `train iris` are one run, never two that look alike.
pub fn shipped_task_for(path: &Path) -> Option<TaskSpec> {
    let wanted = path.canonicalize().ok()?;
    all().into_iter().find(|task| match task.source {
        Source::Shipped(file) => datasets_folder()
            .join(file)
            .canonicalize()
            .is_ok_and(|shipped| shipped == wanted),
        Source::Generated => false,
    })
}

/// The folder of the shipped CSV files: `datasets/` beside `Cargo.toml`.
pub fn datasets_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets")
}

/// The data of a generated task, drawn with `rng`.
///
/// # Panics
/// If `spec` is not a generated task.
pub fn generate(spec: &TaskSpec, samples: usize, noise: f64, rng: &mut Rng) -> Dataset {
    match spec.name {
        "xor" if samples <= 4 => generate::xor(),
        "xor" => generate::xor_cloud(samples, noise, rng),
        "circles" => generate::circles(samples, noise, 0.5, rng),
        "moons" => generate::moons(samples, noise, rng),
        "spiral" => generate::spiral(3, samples.div_ceil(3), noise, rng),
        "blobs" => generate::blobs(samples, 3, noise, rng),
        "sine" => generate::sine(samples, noise, rng),
        other => panic!("generate: '{other}' is not a generated task"),
    }
}

/// The data of a shipped task, read from `datasets/`.
///
/// # Errors
/// If the file is missing or malformed.
pub fn load_shipped(file: &str, target: TargetKind) -> Result<Dataset> {
    let path = datasets_folder().join(file);
    if !path.exists() {
        return Err(Error::Input(format!(
            "the dataset {} is missing; it ships with the crate in datasets/",
            path.display()
        )));
    }
    csv::load(&path, target)
}
