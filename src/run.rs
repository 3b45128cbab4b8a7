//! A run: everything from a task's name to a trained network, in one place.
//!
//! ```text
//! options → data (generate or read CSV) → split → standardise → network → optimizer → train
//! ```
//!
//! Standardising uses the training rows' statistics, for the features and, in a regression, for
//! the target (`data/regression.rs`); a run's MSEs are then reported in the target's units.
//!
//! `train`, `compare`, `plot` and the tests all go through [`execute`], so a number printed by
//! one of them is the number the others get for the same options and seed.

use crate::activation::Activation;
use crate::data::csv::{self, TargetKind};
use crate::data::regression;
use crate::data::{Dataset, Standardizer, Task};
use crate::error::{Error, Result};
use crate::network::{Architecture, Network};
use crate::optim::{Optimizer, Rule, Schedule};
use crate::rng::Rng;
use crate::tasks::{self, Source, TaskSpec};
use crate::train::{self, EpochStats, History, TrainConfig};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

/// Where the data comes from: a named task or any CSV file.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// A task of `tasks.rs`.
    Task(TaskSpec),
    /// A CSV file (last column is the target).
    Csv(PathBuf),
}

/// Every setting of a run. [`RunOptions::for_task`] fills in the task's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    /// The data.
    pub source: DataSource,
    /// Hidden layer sizes.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Update rule.
    pub rule: Rule,
    /// Learning rate η.
    pub lr: f64,
    /// Epochs.
    pub epochs: usize,
    /// Rows per step; 0 for full batch.
    pub batch_size: usize,
    /// L2 weight decay λ.
    pub l2: f64,
    /// Dropout rate after each hidden activation.
    pub dropout: f64,
    /// Batch normalisation before each hidden activation.
    pub batch_norm: bool,
    /// Clip the global gradient norm (None: off).
    pub clip: Option<f64>,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// The seed of everything random in the run.
    pub seed: u64,
    /// Samples to generate (generated tasks).
    pub samples: usize,
    /// Noise level (generated tasks).
    pub noise: f64,
    /// Fraction of the rows held out for testing.
    pub test_fraction: f64,
    /// Standardise the features with the training split's statistics, and a regression's
    /// target too (`data/regression.rs`).
    pub standardize: bool,
    /// How to read a CSV target.
    pub target: TargetKind,
}

impl RunOptions {
    /// The defaults of a named task.
    pub fn for_task(spec: &TaskSpec) -> RunOptions {
        let d = &spec.defaults;
        RunOptions {
            source: DataSource::Task(spec.clone()),
            hidden: d.hidden.to_vec(),
            activation: d.activation,
            rule: Rule::from_name(d.optimizer).unwrap_or(Rule::Sgd),
            lr: d.lr,
            epochs: d.epochs,
            batch_size: d.batch_size,
            l2: 0.0,
            dropout: 0.0,
            batch_norm: false,
            clip: None,
            schedule: if d.lr_decay < 1.0 {
                Schedule::Exponential { rate: d.lr_decay }
            } else {
                Schedule::Constant
            },
            seed: 42,
            samples: d.samples,
            noise: d.noise,
            test_fraction: 0.2,
            standardize: matches!(spec.source, Source::Shipped(_)),
            target: TargetKind::Auto,
        }
    }

    /// Defaults for any CSV file that is not a shipped dataset (those are their named tasks, see
    /// [`tasks::shipped_task_for`]): one hidden layer of 16 ReLU units, Adam with a constant
    /// η = 0.01 (η = [`CSV_REGRESSION_LR`] for a regression; the command line sets it once it
    /// knows the task), 200 epochs of mini-batches of 32, standardised features (and, for a
    /// regression, target), seed 42, a fifth of the rows held out for testing. `train --help`
    /// lists them from here.
    pub fn for_csv(path: PathBuf) -> RunOptions {
        RunOptions {
            source: DataSource::Csv(path),
            hidden: vec![16],
            activation: Activation::Relu,
            rule: Rule::from_name("adam").expect("adam is a rule"),
            lr: 0.01,
            epochs: 200,
            batch_size: 32,
            l2: 0.0,
            dropout: 0.0,
            batch_norm: false,
            clip: None,
            schedule: Schedule::Constant,
            seed: 42,
            // Read from the file, not generated: these two are not used.
            samples: 0,
            noise: 0.0,
            test_fraction: 0.2,
            standardize: true,
            target: TargetKind::Auto,
        }
    }

    /// The short name of the data, which also names its output folder: the task's name, or the
    /// CSV file's name with its extension (`mydata.csv`). The extension keeps a file's runs apart
    /// from a task's: `mydata.csv` can never be called, or filed as, `iris`.
    pub fn data_name(&self) -> String {
        match &self.source {
            DataSource::Task(spec) => spec.name.to_string(),
            DataSource::Csv(path) => path
                .file_name()
                .map_or("data.csv".to_string(), |s| s.to_string_lossy().into_owned()),
        }
    }
}

/// The learning rate of the CSV defaults for a regression.
///
/// A table of a few hundred noisy rows is learned far past its signal by 16 units at η = 0.01
/// in 200 epochs: the fit follows the training rows' noise, and the test R² falls well below
/// a linear model's. A tenth of that η stops, in the same epochs, near where the test error is
/// lowest (`tests/regression.rs` holds the fit to a linear model's on several seeds).
pub const CSV_REGRESSION_LR: f64 = 0.001;

/// The data of a run, ready to train on.
#[derive(Clone, Debug)]
pub struct PreparedData {
    /// The training rows (standardised if asked).
    pub train: Dataset,
    /// The test rows (standardised with the training statistics); for xor the same four points.
    pub test: Dataset,
    /// The statistics used, if standardised.
    pub standardizer: Option<Standardizer>,
    /// For a regression whose features are standardised, the training rows' μ_y and σ_y of the
    /// target, with which `train.y` and `test.y` were standardised too (`data/regression.rs`).
    pub target_standardizer: Option<Standardizer>,
}

/// Loads or generates the data, splits it and standardises it.
///
/// # Errors
/// If a CSV file cannot be read or is malformed, or there are too few rows to split.
pub fn prepare_data(options: &RunOptions, rng: &mut Rng) -> Result<PreparedData> {
    let data = match &options.source {
        DataSource::Task(spec) => match spec.source {
            Source::Generated => tasks::generate(spec, options.samples, options.noise, rng),
            Source::Shipped(file) => tasks::load_shipped(file, options.target)?,
        },
        DataSource::Csv(path) => csv::load(path, options.target)?,
    };
    // The XOR task is four points: the network is trained and judged on all of them. Only the
    // task, not any CSV file that happens to be called xor.csv.
    let is_xor_task = matches!(&options.source, DataSource::Task(spec) if spec.name == "xor");
    let (train, test) = if is_xor_task && data.len() == 4 {
        (data.clone(), data)
    } else {
        let n_test = (data.len() as f64 * options.test_fraction).round() as usize;
        if n_test == 0 || n_test >= data.len() {
            return Err(Error::Input(format!(
                "{}: {} rows cannot be split with --test-fraction {} into non-empty training and test sets; use more rows or another fraction",
                data.name,
                data.len(),
                options.test_fraction
            )));
        }
        data.split(options.test_fraction, rng)
    };
    if !options.standardize {
        return Ok(PreparedData {
            train,
            test,
            standardizer: None,
            target_standardizer: None,
        });
    }
    let standardizer = Standardizer::fit(&train.x);
    let train = Dataset {
        x: standardizer.apply(&train.x),
        ..train
    };
    let test = Dataset {
        x: standardizer.apply(&test.x),
        ..test
    };
    // A table's target is standardised with its features; a generated task keeps its target's
    // scale (its promises, such as sine's noise floor σ² = 0.0025, are in those units) even
    // when its inputs are standardised.
    let generated = matches!(
        &options.source,
        DataSource::Task(spec) if matches!(spec.source, Source::Generated)
    );
    let (train, test, target_standardizer) = if generated {
        (train, test, None)
    } else {
        standardize_target(train, test)
    };
    Ok(PreparedData {
        train,
        test,
        standardizer: Some(standardizer),
        target_standardizer,
    })
}

/// For a regression, `y′ = (y − μ_y)/σ_y` on both splits with the training rows' μ_y and σ_y
/// (`data/regression.rs`), and those statistics; other tasks are returned as they are.
fn standardize_target(train: Dataset, test: Dataset) -> (Dataset, Dataset, Option<Standardizer>) {
    if train.task != Task::Regression {
        return (train, test, None);
    }
    let target = Standardizer::fit(&train.y);
    let train = Dataset {
        y: target.apply(&train.y),
        ..train
    };
    let test = Dataset {
        y: target.apply(&test.y),
        ..test
    };
    (train, test, Some(target))
}

impl PreparedData {
    /// σ_y², the factor that brings an MSE of the standardised target back to the target's
    /// squared units; `None` when the target is as read.
    ///
    /// # Panics
    /// If the standardised target has more than one column (a CSV file has one).
    pub fn target_variance(&self) -> Option<f64> {
        let target = self.target_standardizer.as_ref()?;
        assert!(
            target.std_dev.len() == 1,
            "target_variance: a standardised target of {} columns",
            target.std_dev.len()
        );
        Some(target.std_dev[0] * target.std_dev[0])
    }

    /// `stats` with its MSEs (`train_metric`, `test_metric`) in the target's squared units; the
    /// losses stay those of the standardised target, the numbers the network minimised. `None`
    /// when nothing changes (classification, or a target as read).
    pub fn mse_in_target_units(&self, stats: &EpochStats) -> Option<EpochStats> {
        let variance = self.target_variance()?;
        Some(EpochStats {
            train_metric: variance * stats.train_metric,
            test_metric: stats.test_metric.map(|m| variance * m),
            ..stats.clone()
        })
    }
}

/// The network architecture for the options and the data's task.
pub fn architecture(options: &RunOptions, train: &Dataset) -> Architecture {
    let (n_out, output) = match train.task {
        Task::Binary => (1, Activation::Sigmoid),
        Task::Multiclass { classes } => (classes, Activation::Softmax),
        Task::Regression => (train.y.cols(), Activation::Identity),
    };
    Architecture {
        n_in: train.x.cols(),
        hidden: options.hidden.clone(),
        activation: options.activation,
        n_out,
        output,
        batch_norm: options.batch_norm,
        dropout: options.dropout,
    }
}

/// The optimizer for the options.
pub fn optimizer(options: &RunOptions) -> Optimizer {
    let mut optimizer = Optimizer::new(options.rule, options.lr);
    optimizer.l2 = options.l2;
    optimizer.clip = options.clip;
    optimizer.schedule = options.schedule;
    optimizer
}

/// What a trained network scores: (loss, metric) on the training rows and on the test rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// (loss, metric) on the training rows.
    pub train: (f64, f64),
    /// (loss, metric) on the test rows.
    pub test: (f64, f64),
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct Run {
    /// The options it ran with.
    pub options: RunOptions,
    /// Its data.
    pub data: PreparedData,
    /// The network as it was before training (for "before and after" pictures).
    pub initial: Network,
    /// The trained network.
    pub network: Network,
    /// Every epoch's measurements.
    pub history: History,
    /// Seconds spent in the training loop alone.
    pub train_seconds: f64,
}

impl Run {
    /// The trained network's loss and metric on both splits, measured after training in
    /// inference mode ([`train::evaluate`]: dropout off, batch norm's running statistics).
    ///
    /// These are the numbers `train` prints and writes as `train_loss`, `test_loss`, … They differ
    /// from the history's last `train_loss`, which is the mean over the last epoch's batches, each
    /// measured before its own update (while the weights were still moving). A diverged run's
    /// network gives non-finite numbers here.
    pub fn scores(&self) -> Scores {
        let mut network = self.network.clone();
        Scores {
            train: train::evaluate(&mut network, &self.data.train),
            test: train::evaluate(&mut network, &self.data.test),
        }
    }
}

/// Prepares the data, builds the network and trains it; `on_epoch` sees every epoch.
///
/// The seed drives, in this order, the data (generation and split), the initial weights, and
/// the mini-batch order, each from its own stream ([`generators`]) so one does not shift the
/// others.
///
/// # Errors
/// If the data cannot be prepared.
pub fn execute(
    options: &RunOptions,
    on_epoch: impl FnMut(&EpochStats, &Network) -> ControlFlow<()>,
) -> Result<Run> {
    let data = prepare(options)?;
    Ok(train_prepared(options, data, on_epoch))
}

/// The first half of [`execute`]: the run's data, drawn with the first generator forked from
/// the seed. Callers that want to check the data before training (the command line checks a
/// `--batch-size` against the number of training rows) call this, then [`train_prepared`].
///
/// # Errors
/// If the data cannot be prepared.
pub fn prepare(options: &RunOptions) -> Result<PreparedData> {
    let (mut data_rng, _, _) = generators(options.seed);
    prepare_data(options, &mut data_rng)
}

/// The three random streams of a run, drawn from `seed` in this order: the data generator
/// (generation and split), the weight generator (initial weights), and the seed of the
/// mini-batch order.
///
/// Every part of the crate that promises to start from `train`'s exact data and weights (`demo`,
/// `gradcheck`) takes its generators from here, so the promise holds by construction.
pub fn generators(seed: u64) -> (Rng, Rng, u64) {
    let mut seeds = Rng::new(seed);
    let data_rng = seeds.fork();
    let weight_rng = seeds.fork();
    let shuffle_seed = seeds.next_u64();
    (data_rng, weight_rng, shuffle_seed)
}

/// The second half of [`execute`]: builds the network from the second generator forked from the
/// seed and trains it on `data`. A batch size larger than the training set trains full batch.
pub fn train_prepared(
    options: &RunOptions,
    data: PreparedData,
    mut on_epoch: impl FnMut(&EpochStats, &Network) -> ControlFlow<()>,
) -> Run {
    let (_, mut weight_rng, shuffle_seed) = generators(options.seed);
    let mut network = Network::mlp(&architecture(options, &data.train), &mut weight_rng);
    let initial = network.clone();
    let mut optimizer = optimizer(options);
    let config = TrainConfig {
        epochs: options.epochs,
        batch_size: options.batch_size,
        shuffle_seed,
    };
    let start = Instant::now();
    // A standardised target is trained in its own units; everyone who reads the epochs (the
    // progress line, the history, the report) sees its MSE in the target's units.
    let mut history = train::train(
        &mut network,
        &mut optimizer,
        &data.train,
        Some(&data.test),
        &config,
        |stats, network| match data.mse_in_target_units(stats) {
            Some(in_units) => on_epoch(&in_units, network),
            None => on_epoch(stats, network),
        },
    );
    let train_seconds = start.elapsed().as_secs_f64();
    for stats in &mut history.epochs {
        if let Some(in_units) = data.mse_in_target_units(stats) {
            *stats = in_units;
        }
    }
    Run {
        options: options.clone(),
        data,
        initial,
        network,
        history,
        train_seconds,
    }
}

impl Run {
    /// For a regression, the trained network's [`regression::Scores`] on the training and on the
    /// test rows, in the target's units: its MSE, the MSE of always predicting the training mean,
    /// and R².
    pub fn regression_scores(&self) -> Option<(regression::Scores, regression::Scores)> {
        if self.data.train.task != Task::Regression {
            return None;
        }
        let mut network = self.network.clone();
        // In the units the network learned in: 0 (up to rounding) for a standardised target.
        let training_mean = Standardizer::fit(&self.data.train.y).mean;
        let variance = self.data.target_variance().unwrap_or(1.0);
        let mut score = |d: &Dataset| {
            regression::scores(network.forward(&d.x, false), &d.y, &training_mean, variance)
        };
        Some((score(&self.data.train), score(&self.data.test)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_xor_task_skips_the_split_not_a_csv_named_xor() {
        let task = RunOptions::for_task(&tasks::find("xor").expect("xor is a task"));
        let data = prepare(&task).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (4, 4));

        let dir = std::env::temp_dir().join(format!("backprop-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("xor.csv");
        std::fs::write(&path, "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n").unwrap();
        let options = RunOptions::for_csv(path);
        let data = prepare(&options).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (3, 1));
        // Named by its file name, extension and all: never taken for the task.
        assert_eq!(options.data_name(), "xor.csv");
        assert_eq!(tasks::shipped_task_for(&dir.join("xor.csv")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_shipped_datasets_path_however_written_is_its_task() {
        let folder = tasks::datasets_folder();
        for (file, task) in [
            ("iris.csv", "iris"),
            ("breast_cancer.csv", "breast_cancer"),
            ("digits.csv", "digits"),
        ] {
            let spec = tasks::shipped_task_for(&folder.join(file)).expect("a shipped file");
            assert_eq!(spec.name, task);
            // The same file through a detour.
            let detour = folder.join("..").join("datasets").join(file);
            assert_eq!(tasks::shipped_task_for(&detour).map(|t| t.name), Some(task));
        }
        assert_eq!(tasks::shipped_task_for(&folder.join("no-such.csv")), None);
        assert_eq!(tasks::shipped_task_for(&folder), None);
    }
}
