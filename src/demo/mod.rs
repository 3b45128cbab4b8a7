//! The demo: one complete training step of a small network, every number shown and checked.
//!
//! `backprop demo xor` is the page of the textbook a learner runs first. It follows the XOR
//! network `2 → H tanh → 1 sigmoid` through one step of gradient descent with real numbers, then
//! trains it to the end:
//!
//! ```text
//! 1. data                 X (n × 2), y (n × 1), and why a line cannot separate them
//! 2. network              the stack, the initial W¹ b¹ W² b²
//! 3. forward              Z¹ = X·W¹ + b¹,  A¹ = tanh(Z¹),  Z² = A¹·W² + b²,  ŷ = σ(Z²),  L
//! 4. backward             ∂L/∂ŷ,  dZ² = ∂L/∂ŷ ⊙ σ′(Z²) = (ŷ − y)/n,  dW² = A¹ᵀ·dZ²,  db²,
//!                         dA¹ = dZ²·W²ᵀ,  dZ¹ = dA¹ ⊙ tanh′(Z¹),  dW¹ = Xᵀ·dZ¹,  db¹
//!                         each parameter gradient beside its central-difference estimate
//!    (4½. by hand)        with --sample k, one row's share of all of it, term by term, each
//!                         result beside inputs with two more decimals (see EXTRA_DIGITS)
//! 5. update               W ← W − η·dW, and the loss before and after
//! 6. training             the loss and ŷ every few epochs
//! 7. hidden space         the points as the output unit sees them, and its separating plane
//! 8. answers              the trained network's truth table
//! ```
//!
//! Nothing here does arithmetic of its own that the learner is asked to trust: every printed
//! number is read from the engine after it computed it (`Network::forward`, `Loss::gradient`,
//! `Activation::backward`, `Network::backward_from_output_error`, `check_network`,
//! `Optimizer::step`, `train::train`), and each step names the function that computed it, so the
//! output doubles as an index into the source. The only products written here are the per-example
//! shares of `--sample`, which spell out the sums the engine's matrix products perform.
//!
//! The network and data are seeded exactly as `backprop train` seeds them (`run.rs`), so
//! `backprop demo xor` and `backprop train xor --hidden 3` start from the same weights and train
//! the same way (a test checks it).
//!
//! ```text
//! mod.rs       the options, and the computation: every number, from the engine, into a Story
//! step.rs      sections 1–5: data, network, forward, backward, one example by hand, update
//! trained.rs   sections 6–8: the training table, the points in hidden space, the truth table
//! layout.rs    matrices, blocks side by side, source tags; colour and boxes on a terminal
//! ```

use crate::activation::Activation;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gradcheck::{self, GradientCheck, Start};
use crate::matrix::Matrix;
use crate::network::{Architecture, Network};
use crate::optim::{Optimizer, Rule};
use crate::tasks;
use crate::train::{self, TrainConfig};
use std::ops::ControlFlow;

mod layout;
mod step;
#[cfg(test)]
pub(crate) mod trace;
mod trained;

pub use layout::Style;
use step::{backward, by_hand, forward, introduction, update};
use trained::{hidden_space, training, truth_table};

/// The tasks the demo can show: binary problems on the plane, small enough to print.
pub const TASKS: [&str; 3] = ["xor", "circles", "moons"];

/// What to show.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOptions {
    /// `xor`, `circles` or `moons`.
    pub task: String,
    /// Units in the one hidden layer, H.
    pub hidden: usize,
    /// The hidden activation.
    pub activation: Activation,
    /// The learning rate η of plain gradient descent.
    pub lr: f64,
    /// Full-batch epochs (one step each).
    pub epochs: usize,
    /// Seed of the data and the initial weights (as in `backprop train`).
    pub seed: u64,
    /// The epoch whose step is shown in detail, from 1.
    pub step: usize,
    /// Follow this example (row, from 0) as scalar arithmetic too.
    pub sample: Option<usize>,
    /// Points in the batch (4 for xor; a few for circles and moons, so matrices fit a screen).
    pub points: usize,
}

impl DemoOptions {
    /// The defaults for `task`: H = 3 tanh units, η = 2, 50 epochs for xor (which reach 100 %
    /// accuracy with the default seed), 8 points and 150 epochs for circles and moons.
    ///
    /// # Errors
    /// If `task` is not one of [`TASKS`].
    pub fn for_task(task: &str) -> Result<DemoOptions> {
        let (points, epochs) = match task {
            "xor" => (4, 50),
            "circles" | "moons" => (8, 150),
            other => {
                return Err(crate::error::unknown(
                    "demo task",
                    other,
                    &TASKS,
                    &format!("the demo tasks are {}", TASKS.join(", ")),
                ))
            }
        };
        Ok(DemoOptions {
            task: task.to_string(),
            hidden: 3,
            activation: Activation::Tanh,
            lr: 2.0,
            epochs,
            seed: 42,
            step: 1,
            sample: None,
            points,
        })
    }
}

/// The column a source tag ends at (the widest line of `--help` too): a formula is padded so its
/// `[file fn]` tag lines up with the others; a text too long for that puts its tag on the next
/// line, still aligned.
const WIDTH: usize = 100;
/// Decimals of values and parameters.
const VALUE_DIGITS: usize = 4;
/// Decimals of gradients (they are smaller).
const GRADIENT_DIGITS: usize = 6;
/// The extra decimals of the numbers a result is worked out from in `--sample`'s walk-through.
///
/// A product of two numbers rounded to `d + 2` decimals is off by at most `(|a| + |b|)·0.005` of a
/// unit in the `d`-th decimal, so while the sizes of a line's factors add up to less than 100, a
/// result recomputed from them lands within ±1 in its last printed digit (half a unit from the
/// rounding of the printed result, less than half from its inputs'). With as many decimals as the
/// result, a product of three factors near 1 already misses by several units:
/// `0.212219·(−0.9786)·0.2321` is −0.048202, where `dz¹₁` of `demo xor --sample 3` is −0.048193.
/// A quantity may therefore appear twice: rounded as a result, then with two more decimals where
/// the next result is made from it. Printing every number once with the digits its last use
/// needs would not do: each of the eight steps from `W¹` to `dW¹` would add two decimals, some 22
/// for `W¹`, more than an `f64` holds.
const EXTRA_DIGITS: usize = 2;
/// [`EXTRA_DIGITS`] as the demo's sentences say it.
const EXTRA_IN_WORDS: &str = match EXTRA_DIGITS {
    1 => "one",
    2 => "two",
    3 => "three",
    _ => panic!("EXTRA_DIGITS needs its word in EXTRA_IN_WORDS"),
};
// `W − η·dW` is recomputed from `W` and `dW` as printed: `dW` must carry the extra decimals too.
const _: () = assert!(GRADIENT_DIGITS >= VALUE_DIGITS + EXTRA_DIGITS);

/// The demo's data: the four XOR points, or `points` points of circles or moons drawn with the
/// data generator `backprop train` would use for the seed.
pub fn data(options: &DemoOptions) -> Dataset {
    let (mut data_rng, _, _) = crate::run::generators(options.seed);
    let spec = tasks::find(&options.task).expect("the demo's tasks are tasks");
    tasks::generate(&spec, options.points, spec.defaults.noise, &mut data_rng)
}

/// The demo's network `2 → H f → 1 sigmoid`, with the initial weights `backprop train` draws for
/// the same seed.
pub fn network(options: &DemoOptions) -> Network {
    let (_, mut weight_rng, _) = crate::run::generators(options.seed);
    let architecture = Architecture {
        n_in: 2,
        hidden: vec![options.hidden],
        activation: options.activation,
        n_out: 1,
        output: Activation::Sigmoid,
        batch_norm: false,
        dropout: 0.0,
    };
    Network::mlp(&architecture, &mut weight_rng)
}

/// One row of the training table: the loss and predictions after an epoch's update.
#[derive(Clone, Debug)]
struct Row {
    epoch: usize,
    loss: f64,
    y_hat: Vec<f64>,
}

/// Everything the demo prints, computed by the engine before any text is written.
struct Story {
    data: Dataset,
    /// The network as the detailed step left it after backward: values, gradients, parameters
    /// before the update.
    at_step: Network,
    /// `∂L/∂ŷ` from `Loss::gradient`.
    d_y_hat: Matrix,
    /// `∂L/∂ŷ ⊙ σ′(Z²)` from `Activation::backward`.
    dz_chain: Matrix,
    /// `(ŷ − y)/n` from `Loss::output_error`.
    dz_shortcut: Matrix,
    loss_before: f64,
    /// Each parameter's gradient beside its central-difference estimate.
    checks: Vec<GradientCheck>,
    /// The network right after the detailed step's update.
    after_step: Network,
    loss_after: f64,
    /// The trained network.
    trained: Network,
    rows: Vec<Row>,
}

/// Runs the demo's computations: trains to the detailed step, takes it with every intermediate
/// kept, checks its gradients, and trains on to the end.
fn compute(options: &DemoOptions) -> Story {
    let data = data(options);
    let loss = data.task.loss();
    let mut network = network(options);
    let mut optimizer = Optimizer::new(Rule::Sgd, options.lr);
    let every = (options.epochs / 10).max(1);
    let mut rows = vec![Row {
        epoch: 0,
        loss: loss.value(network.forward(&data.x, false), &data.y),
        y_hat: network.output().as_slice().to_vec(),
    }];

    let step = options.step.clamp(1, options.epochs);
    train_epochs(
        &mut network,
        &mut optimizer,
        &data,
        (0, step - 1),
        every,
        options.epochs,
        &mut rows,
    );

    // The detailed step, exactly as train::train takes one (forward, output error, backward,
    // update), with the general chain computed beside the shortcut.
    optimizer.start_epoch(step - 1);
    let y_hat = network.forward(&data.x, true).clone();
    let loss_before = loss.value(&y_hat, &data.y);
    let mut d_y_hat = Matrix::zeros(0, 0);
    loss.gradient(&mut d_y_hat, &y_hat, &data.y);
    let last = network.layers().len();
    let output_activation = network
        .output_activation()
        .expect("the demo network ends with a sigmoid");
    let mut dz_chain = Matrix::zeros(0, 0);
    output_activation.backward(
        &mut dz_chain,
        &d_y_hat,
        &network.values()[last - 1],
        &network.values()[last],
    );
    let mut dz_shortcut = Matrix::zeros(0, 0);
    loss.output_error(&mut dz_shortcut, &y_hat, &data.y);
    network.backward_from_output_error(&dz_shortcut);
    let at_step = network.clone();
    let checks = gradcheck::check_network(
        &mut network.clone(),
        loss,
        &data.x,
        &data.y,
        Start::OutputError,
        gradcheck::DEFAULT_STEP,
    );
    optimizer.step(&mut network);
    let loss_after = loss.value(network.forward(&data.x, false), &data.y);
    let after_step = network.clone();
    if step.is_multiple_of(every) || step == options.epochs {
        rows.push(Row {
            epoch: step,
            loss: loss_after,
            y_hat: network.output().as_slice().to_vec(),
        });
    }

    train_epochs(
        &mut network,
        &mut optimizer,
        &data,
        (step, options.epochs - step),
        every,
        options.epochs,
        &mut rows,
    );
    network.forward(&data.x, false);
    Story {
        data,
        at_step,
        d_y_hat,
        dz_chain,
        dz_shortcut,
        loss_before,
        checks,
        after_step,
        loss_after,
        trained: network,
        rows,
    }
}

/// Trains `count` full-batch epochs with `train::train`, numbering them from `first + 1`, and
/// records a row every `every` epochs and at epoch `total`.
fn train_epochs(
    network: &mut Network,
    optimizer: &mut Optimizer,
    data: &Dataset,
    (first, count): (usize, usize),
    every: usize,
    total: usize,
    rows: &mut Vec<Row>,
) {
    if count == 0 {
        return;
    }
    let config = TrainConfig {
        epochs: count,
        batch_size: 0,
        shuffle_seed: 0,
    };
    // The schedule is constant, so restarting train::train's epoch count changes nothing.
    train::train(
        network,
        optimizer,
        data,
        // The training rows passed again as the "test" set: train::train evaluates the test set
        // after each epoch's update, which is exactly the loss and ŷ the table shows (the
        // running mean of train_loss is taken before the update).
        Some(data),
        &config,
        |stats, net| {
            let epoch = first + stats.epoch;
            if epoch.is_multiple_of(every) || epoch == total {
                let mut net = net.clone();
                rows.push(Row {
                    epoch,
                    loss: stats.test_loss.unwrap_or(f64::NAN),
                    y_hat: net.predict(&data.x).as_slice().to_vec(),
                });
            }
            ControlFlow::Continue(())
        },
    );
}

/// The whole demo as text.
///
/// # Errors
/// For an unknown task, fewer than 2 points, no hidden unit, no epoch, a learning rate that is
/// not above 0, a `step` after the last epoch, or a `sample` row that does not exist.
pub fn render(options: &DemoOptions, style: Style) -> Result<String> {
    if !TASKS.contains(&options.task.as_str()) || options.points < 2 {
        return Err(Error::Usage(format!(
            "the demo shows {} with at least 2 points, not '{}' with {}",
            TASKS.join(", "),
            options.task,
            options.points
        )));
    }
    if options.hidden == 0 || options.epochs == 0 || options.lr.is_nan() || options.lr <= 0.0 {
        return Err(Error::Usage(
            "the demo needs at least 1 hidden unit, 1 epoch and a learning rate above 0".into(),
        ));
    }
    if options.step > options.epochs {
        return Err(Error::Usage(format!(
            "--step: epoch {} is after the last epoch {}; choose a step from 1 to {}",
            options.step, options.epochs, options.epochs
        )));
    }
    if let Some(k) = options.sample {
        if k >= options.points {
            return Err(Error::Usage(format!(
                "--sample: there is no row {k}; the rows are 0 to {}",
                options.points - 1
            )));
        }
    }
    let story = compute(options);
    let mut out = String::new();
    let o = &mut out;
    introduction(o, options, &story, style);
    forward(o, options, &story, style);
    backward(o, &story, style);
    if let Some(k) = options.sample {
        by_hand(o, &story, k, style);
    }
    update(o, options, &story, style);
    training(o, options, &story, style);
    hidden_space(o, &story, style);
    truth_table(o, &story, style);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{render, trace, DemoOptions, Style};
    use crate::kernels::{with_kernels, Kernels};

    /// The `[file function]` tags of a text, without their brackets: `dense.rs Dense::forward`.
    fn tags_in(text: &str) -> Vec<String> {
        let mut tags = Vec::new();
        for part in text.split('[').skip(1) {
            let Some(tag) = part.split(']').next() else {
                continue;
            };
            if tag
                .split_once(' ')
                .is_some_and(|(file, _)| file.ends_with(".rs"))
            {
                tags.push(tag.to_string());
            }
        }
        tags
    }

    #[test]
    fn every_source_tag_names_a_chapter_function_that_ran() {
        // Each step the demo shows is tagged with the function that computed it. The chapters
        // record (in the library's own tests) every function of theirs that runs; each tag must
        // be among them, with the engine's fast forms and with the plain ones, and must name a
        // function that the file defines.
        let cases = [
            ("xor", 1, Some(3)),
            ("xor", 7, Some(0)),
            ("circles", 1, Some(2)),
            ("moons", 4, None),
        ];
        for kernels in [Kernels::Fast, Kernels::Naive] {
            for (task, step, sample) in cases {
                let mut options = DemoOptions::for_task(task).expect("a demo task");
                options.step = step;
                options.sample = sample;
                trace::take();
                let text = with_kernels(kernels, || render(&options, Style::PLAIN))
                    .expect("the demo renders");
                let ran = trace::take();
                let tags = tags_in(&text);
                assert!(tags.len() > 10, "{task}: only {} tags", tags.len());
                for tag in &tags {
                    assert!(
                        ran.contains(tag.as_str()),
                        "demo {task} --step {step} ({kernels:?}) shows [{tag}], which did not \
                         run; these did: {ran:?}"
                    );
                    let (file, function) = tag.split_once(' ').expect("file and function");
                    let path = format!("{}/src/{file}", env!("CARGO_MANIFEST_DIR"));
                    let source = std::fs::read_to_string(&path).expect("the tagged file");
                    let name = function.rsplit("::").next().expect("a name");
                    assert!(
                        source.contains(&format!("fn {name}(")),
                        "[{tag}]: {path} defines no fn {name}"
                    );
                }
            }
        }
    }
}
