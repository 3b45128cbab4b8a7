//! The demo: one complete training step of a small network, every number shown and checked.
//!
//! `backprop demo xor` is the page of the textbook a learner runs first. It follows the XOR
//! network `2 → H tanh → 1 sigmoid` through one step of gradient descent with real numbers, then
//! trains it to the end:
//!
//! ```text
//! 1. data and network     X (n × 2), y (n × 1), the initial W¹ b¹ W² b²
//! 2. forward              Z¹ = X·W¹ + b¹,  A¹ = tanh(Z¹),  Z² = A¹·W² + b²,  ŷ = σ(Z²),  L
//! 3. backward             ∂L/∂ŷ,  dZ² = σ′(Z²) ⊙ ∂L/∂ŷ = (ŷ − y)/n,  dW² = A¹ᵀ·dZ²,  db²,
//!                         dZ¹ = (dZ²·W²ᵀ) ⊙ tanh′(Z¹),  dW¹ = Xᵀ·dZ¹,  db¹
//!                         each parameter gradient beside its central-difference estimate
//! 4. update               W ← W − η·dW, and the loss before and after
//! 5. training             a table every few epochs, the points in hidden space, the truth table
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
//! `backprop demo xor` and `backprop train xor --hidden 3` start from the same weights.

use crate::activation::Activation;
use crate::data::Dataset;
use crate::dense::Init;
use crate::error::{Error, Result};
use crate::gradcheck::{self, GradientCheck, Start};
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::network::{superscript, Architecture, Network};
use crate::optim::{Optimizer, Rule};
use crate::rng::Rng;
use crate::tasks;
use crate::train::{self, TrainConfig};
use std::fmt::Write as _;
use std::ops::ControlFlow;

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
                let hint = match crate::cli::args::suggest(other, &TASKS) {
                    Some(close) => format!("did you mean '{close}'?"),
                    None => format!("the demo tasks are {}", TASKS.join(", ")),
                };
                return Err(Error::Usage(format!("unknown demo task '{other}'; {hint}")));
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

/// How the text looks: colour and box drawing on a terminal, plain text in a pipe or file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours for headings, sources and results.
    pub color: bool,
    /// Unicode box drawing for headings and matrix brackets.
    pub boxes: bool,
}

impl Style {
    /// Plain text: readable in a file, stable for golden tests. The mathematical symbols
    /// (`·`, `⊙`, `ᵀ`, superscripts) stay, as they are the notation itself.
    pub const PLAIN: Style = Style {
        color: false,
        boxes: false,
    };

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn heading(&self, text: &str) -> String {
        if self.boxes {
            let rule = "─".repeat(WIDTH.saturating_sub(text.chars().count() + 5));
            self.paint("1;36", &format!("━━ {text} ━━{rule}"))
        } else {
            format!("== {text} ==")
        }
    }

    fn source(&self, source: &str) -> String {
        self.paint("2", &format!("[{source}]"))
    }

    fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }

    fn brackets(&self) -> (&'static str, &'static str) {
        if self.boxes {
            ("│", "│")
        } else {
            ("[", "]")
        }
    }
}

/// The width formulas are padded to before their source tag.
const WIDTH: usize = 78;
/// Decimals of values and parameters.
const VALUE_DIGITS: usize = 4;
/// Decimals of gradients (they are smaller).
const GRADIENT_DIGITS: usize = 6;

/// The demo's data: the four XOR points, or `points` points of circles or moons drawn with the
/// data generator `backprop train` would use for the seed.
pub fn data(options: &DemoOptions) -> Dataset {
    let (mut data_rng, _) = generators(options.seed);
    let spec = tasks::find(&options.task).expect("the demo's tasks are tasks");
    tasks::generate(&spec, options.points, spec.defaults.noise, &mut data_rng)
}

/// The demo's network `2 → H f → 1 sigmoid`, with the initial weights `backprop train` draws for
/// the same seed.
pub fn network(options: &DemoOptions) -> Network {
    let (_, mut weight_rng) = generators(options.seed);
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

/// The data and weight generators, forked from the seed in the order `run::execute` forks them.
fn generators(seed: u64) -> (Rng, Rng) {
    let mut seeds = Rng::new(seed);
    let data_rng = seeds.fork();
    let weight_rng = seeds.fork();
    (data_rng, weight_rng)
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
    /// `σ′(Z²) ⊙ ∂L/∂ŷ` from `Activation::backward`.
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
/// If `--sample` names a row that does not exist, or the options cannot be shown.
pub fn render(options: &DemoOptions, style: Style) -> Result<String> {
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
    forward(o, &story, style);
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

// ---------------------------------------------------------------------------------------------
// The sections, in the order they are printed.

fn introduction(o: &mut String, options: &DemoOptions, story: &Story, style: Style) {
    let data = &story.data;
    let n = data.len();
    line(o, &style.heading(&format!("1. The data: {}", options.task)));
    line(
        o,
        &format!(
            "X holds one example per row (n = {n}), y its target class; the task is to predict y."
        ),
    );
    let x_and_y = side_by_side(&[
        labelled("X", &data.x, VALUE_DIGITS, style),
        labelled("y", &data.y, 0, style),
    ]);
    o.push_str(&x_and_y);
    let why = match options.task.as_str() {
        "xor" => {
            "y = 1 when exactly one input is 1. No single line w₁·x₁ + w₂·x₂ + b = 0 puts (0,1) and\n\
             (1,0) on one side and (0,0) and (1,1) on the other: XOR is not linearly separable. A\n\
             network without a hidden layer predicts σ(X·W + b) ≥ 0.5 exactly when X·W + b ≥ 0, which\n\
             is such a line; so it needs a hidden layer to bend the plane first."
        }
        "circles" => {
            "One class lies inside the other: no line separates them, so the network needs a hidden\n\
             layer to bend the plane first (a single layer σ(X·W + b) can only draw a line)."
        }
        _ => {
            "The two moons interlock: no line separates them, so the network needs a hidden layer to\n\
             bend the plane first (a single layer σ(X·W + b) can only draw a line)."
        }
    };
    line(o, why);
    blank(o);

    let network = &story.at_step;
    let description = network.description();
    line(o, &style.heading(&format!("The network: {description}")));
    let h = options.hidden;
    line(
        o,
        &format!(
            "The stack is [{}]; its values are X, Z¹, A¹, Z², ŷ.",
            network
                .layers()
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    if options.step == 1 {
        let init = match Init::for_activation(options.activation) {
            Init::He => "He: Normal(0, √(2/n_in))",
            Init::Glorot => "Glorot: Normal(0, √(2/(n_in + n_out)))",
        };
        with_source(
            o,
            &format!(
                "Initial weights drawn with seed {} ({init}), biases 0",
                options.seed
            ),
            "dense.rs Dense::new",
            style,
        );
    } else {
        with_source(
            o,
            &format!(
                "The parameters after {} steps, at the start of epoch {}",
                options.step - 1,
                options.step
            ),
            "train.rs train",
            style,
        );
    }
    let mut blocks = Vec::new();
    for (d, dense) in network.dense_layers().enumerate() {
        let s = superscript(d + 1);
        blocks.push(labelled(&format!("W{s}"), &dense.w, VALUE_DIGITS, style));
        blocks.push(labelled(&format!("b{s}"), &dense.b, VALUE_DIGITS, style));
    }
    o.push_str(&side_by_side(&blocks));
    line(
        o,
        &format!(
            "W¹ is 2×{h}: column j holds the weights into hidden unit j. W² is {h}×1: one weight from each hidden unit to the output."
        ),
    );
    blank(o);
}

/// The symbol of each value of the stack: `X, Z¹, A¹, Z², ŷ`.
fn value_names(network: &Network) -> Vec<String> {
    let mut names = vec!["X".to_string()];
    let mut dense = 0;
    let last = network.layers().len() - 1;
    for (l, layer) in network.layers().iter().enumerate() {
        names.push(match layer {
            Layer::Dense(_) => {
                dense += 1;
                format!("Z{}", superscript(dense))
            }
            _ if l == last => "ŷ".to_string(),
            _ => format!("A{}", superscript(dense)),
        });
    }
    names
}

fn function_symbol(f: Activation) -> String {
    match f {
        Activation::Sigmoid => "σ".to_string(),
        other => other.name().to_string(),
    }
}

fn shape(m: &Matrix) -> String {
    format!("{}×{}", m.rows(), m.cols())
}

fn forward(o: &mut String, story: &Story, style: Style) {
    let network = &story.at_step;
    let values = network.values();
    let names = value_names(network);
    line(o, &style.heading("2. Forward: X → ŷ, one layer at a time"));
    let mut dense = 0;
    for (l, layer) in network.layers().iter().enumerate() {
        let (input, output) = (&names[l], &names[l + 1]);
        let formula = match layer {
            Layer::Dense(d) => {
                dense += 1;
                let s = superscript(dense);
                format!(
                    "{output} = {input}·W{s} + b{s}      {} · {} + {} → {}",
                    shape(&values[l]),
                    shape(&d.w),
                    shape(&d.b),
                    shape(&values[l + 1])
                )
            }
            Layer::Activation(f) => format!(
                "{output} = {}({input})      entry by entry, {} → {}",
                function_symbol(*f),
                shape(&values[l]),
                shape(&values[l + 1])
            ),
            other => format!("{output} = {}({input})", other.name()),
        };
        with_source(o, &formula, layer.forward_source(), style);
        o.push_str(&indent(&matrix_lines(&values[l + 1], VALUE_DIGITS, style)));
    }
    let n = story.data.len();
    with_source(
        o,
        &format!("L = −(1/n)·Σ [y·ln ŷ + (1 − y)·ln(1 − ŷ)]   binary cross-entropy, n = {n}"),
        "loss.rs Loss::value",
        style,
    );
    line(o, &format!("  L = {:.6}", story.loss_before));
    blank(o);
}

fn backward(o: &mut String, story: &Story, style: Style) {
    let network = &story.at_step;
    let values = network.values();
    let gradients = network.gradients();
    let names = value_names(network);
    let last = network.layers().len();
    let out_z = &names[last - 1];
    line(
        o,
        &style.heading("3. Backward: the chain rule, from L back to every parameter"),
    );
    line(
        o,
        "A d prefix means ∂L/∂ of that quantity, with the same shape. Beside each parameter gradient,",
    );
    line(
        o,
        &format!(
            "its central-difference estimate (L(θ + h) − L(θ − h))/2h with h = {:e}, and the largest",
            gradcheck::DEFAULT_STEP
        ),
    );
    line(
        o,
        "relative error |a − e|/max(|a|, |e|) in that row (a: backprop, e: the estimate).",
    );
    let sources = format!(
        "{} {}",
        style.source("gradcheck.rs central_differences"),
        style.source("gradcheck.rs relative_error")
    );
    line(o, &sources);
    blank(o);

    with_source(
        o,
        &format!(
            "∂L/∂ŷ = (ŷ − y) / (ŷ·(1 − ŷ)·n)      {}",
            shape(&story.d_y_hat)
        ),
        "loss.rs Loss::gradient",
        style,
    );
    o.push_str(&indent(&matrix_lines(
        &story.d_y_hat,
        GRADIENT_DIGITS,
        style,
    )));
    line(
        o,
        &format!("The output error d{out_z} = ∂L/∂{out_z}, two ways:"),
    );
    with_source(
        o,
        &format!("  chain rule:  d{out_z} = σ′({out_z}) ⊙ ∂L/∂ŷ,  σ′ = ŷ·(1 − ŷ)"),
        "activation.rs Activation::backward",
        style,
    );
    with_source(
        o,
        &format!("  shortcut:    d{out_z} = (ŷ − y)/n   the ŷ·(1 − ŷ) cancels"),
        "loss.rs Loss::output_error",
        style,
    );
    o.push_str(&indent(&side_by_side(&[
        labelled("chain rule", &story.dz_chain, GRADIENT_DIGITS, style),
        labelled("shortcut", &story.dz_shortcut, GRADIENT_DIGITS, style),
    ])));
    let disagreement = story.dz_chain.sub(&story.dz_shortcut).max_abs();
    line(
        o,
        &style.good(&format!(
            "  the two forms agree: max |difference| = {disagreement:.1e}; backward goes on from the shortcut"
        )),
    );
    with_source(
        o,
        "Backward through the stack in reverse order",
        "network.rs Network::backward_from_output_error",
        style,
    );
    blank(o);

    let mut dense = network.dense_layers().count();
    for l in (0..last - 1).rev() {
        let layer = &network.layers()[l];
        let (input, output) = (&names[l], &names[l + 1]);
        match layer {
            Layer::Dense(d) => {
                let s = superscript(dense);
                with_source(
                    o,
                    &format!(
                        "dW{s} = {input}ᵀ·d{output}      {} · {} → {}",
                        transposed_shape(&values[l]),
                        shape(&gradients[l + 1]),
                        shape(&d.dw)
                    ),
                    layer.backward_source(),
                    style,
                );
                checked(o, story, &format!("W{s}"), style);
                with_source(
                    o,
                    &format!(
                        "db{s} = Σ_rows d{output}      the bias was added to every row, {}",
                        shape(&d.db)
                    ),
                    layer.backward_source(),
                    style,
                );
                checked(o, story, &format!("b{s}"), style);
                if l > 0 {
                    with_source(
                        o,
                        &format!(
                            "d{input} = d{output}·W{s}ᵀ      {} · {} → {}",
                            shape(&gradients[l + 1]),
                            transposed_shape(&d.w),
                            shape(&gradients[l])
                        ),
                        layer.backward_source(),
                        style,
                    );
                    o.push_str(&indent(&matrix_lines(
                        &gradients[l],
                        GRADIENT_DIGITS,
                        style,
                    )));
                }
                dense -= 1;
            }
            Layer::Activation(f) => {
                let derivative = match f {
                    Activation::Tanh => format!(" = 1 − ({output})²"),
                    Activation::Sigmoid => format!(" = {output}·(1 − {output})"),
                    Activation::Relu => format!(": 1 where {input} > 0, else 0"),
                    _ => String::new(),
                };
                let upstream = match &network.layers()[l + 1] {
                    Layer::Dense(_) => format!("(d{}·W{}ᵀ)", names[l + 2], superscript(dense + 1)),
                    _ => format!("d{output}"),
                };
                with_source(
                    o,
                    &format!(
                        "d{input} = {upstream} ⊙ {}′({input})      {} ⊙ {} → {}",
                        f.name(),
                        shape(&gradients[l + 1]),
                        shape(&values[l]),
                        shape(&gradients[l])
                    ),
                    layer.backward_source(),
                    style,
                );
                line(o, &format!("  with {}′({input}){derivative}", f.name()));
                o.push_str(&indent(&matrix_lines(
                    &gradients[l],
                    GRADIENT_DIGITS,
                    style,
                )));
            }
            other => with_source(o, other.name(), other.backward_source(), style),
        }
    }
    let worst = story
        .checks
        .iter()
        .filter(|c| c.name != "X")
        .map(|c| c.max_relative_error)
        .fold(0.0, f64::max);
    let verdict = if worst <= gradcheck::TOLERANCE {
        style.good(&format!(
            "Every parameter gradient agrees with its estimate: largest rel_err {worst:.1e} (tolerance {:e}).",
            gradcheck::TOLERANCE
        ))
    } else {
        format!(
            "A gradient disagrees with its estimate: largest rel_err {worst:.1e} (tolerance {:e}).",
            gradcheck::TOLERANCE
        )
    };
    line(o, &verdict);
    if worst > gradcheck::TOLERANCE && at_kink(network) {
        line(
            o,
            "Here a pre-activation sits at a kink (z = 0, where ReLU's slope jumps from 0 to 1): the\n\
             central difference straddles it and measures the average of the two slopes, while\n\
             backprop uses the slope 0 that activation.rs defines there. That is the caution in\n\
             gradcheck.rs, not a mistake of the chain rule; another --seed or --step avoids the kink.",
        );
    }
    blank(o);
}

/// True when an input of a ReLU-like activation is within 1e-3 of its kink at 0 (far more than
/// the finite-difference step moves it).
fn at_kink(network: &Network) -> bool {
    network.layers().iter().enumerate().any(|(l, layer)| {
        matches!(
            layer,
            Layer::Activation(Activation::Relu | Activation::LeakyRelu { .. })
        ) && network.values()[l]
            .as_slice()
            .iter()
            .any(|z| z.abs() < 1e-3)
    })
}

fn transposed_shape(m: &Matrix) -> String {
    format!("{}×{}", m.cols(), m.rows())
}

/// The gradient of parameter `name`, each row beside its central-difference estimate and the
/// row's largest relative error.
fn checked(o: &mut String, story: &Story, name: &str, style: Style) {
    let check = story
        .checks
        .iter()
        .find(|c| c.name == name)
        .expect("check_network checks every parameter");
    let analytic = matrix_lines(&check.analytic, GRADIENT_DIGITS, style);
    let numeric = matrix_lines(&check.numeric, GRADIENT_DIGITS, style);
    let width = analytic
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    line(
        o,
        &format!(
            "  {:<width$}   {}",
            format!("d{name}, backprop"),
            "central difference"
        ),
    );
    for (i, (a, e)) in analytic.lines().zip(numeric.lines()).enumerate() {
        let row_error = check
            .analytic
            .row(i)
            .iter()
            .zip(check.numeric.row(i))
            .map(|(&a, &e)| gradcheck::relative_error(a, e))
            .fold(0.0, f64::max);
        line(
            o,
            &format!(
                "  {a:<width$} ≈ {e}   {}",
                style.good(&format!("rel_err={row_error:.1e}"))
            ),
        );
    }
}

fn by_hand(o: &mut String, story: &Story, k: usize, style: Style) {
    let network = &story.at_step;
    let values = network.values();
    let gradients = network.gradients();
    let dense: Vec<_> = network.dense_layers().collect();
    let (w1, b1, w2, b2) = (&dense[0].w, &dense[0].b, &dense[1].w, &dense[1].b);
    let f = match &network.layers()[1] {
        Layer::Activation(f) => *f,
        _ => unreachable!("the demo network is [dense, f, dense, sigmoid]"),
    };
    let x = values[0].row(k);
    let (z1, a1, z2, y_hat) = (
        values[1].row(k),
        values[2].row(k),
        values[3].row(k)[0],
        values[4].row(k)[0],
    );
    let y = story.data.y.row(k)[0];
    let n = story.data.len();
    let v = |x: f64| number(x, VALUE_DIGITS);
    // A factor in a product, in brackets when negative; gradients keep their extra digits so
    // the products can be checked by hand to the printed precision.
    let factor = |x: f64, digits: usize| {
        let text = number(x, digits);
        if text.starts_with('-') {
            format!("({text})")
        } else {
            text
        }
    };
    let p = |x: f64| factor(x, VALUE_DIGITS);
    let g = |x: f64| factor(x, GRADIENT_DIGITS);
    line(
        o,
        &style.heading(&format!(
            "3½. One example by hand: row {k}, x = ({}, {}), y = {y}",
            v(x[0]),
            v(x[1])
        )),
    );
    line(
        o,
        "The same numbers as the matrices above, for one row, written out term by term.",
    );
    line(o, "Forward:");
    for j in 0..w1.cols() {
        let sj = subscript(j + 1);
        let symbols = (0..x.len())
            .map(|i| format!("x{}·W¹{}{sj}", subscript(i + 1), subscript(i + 1)))
            .collect::<Vec<_>>()
            .join(" + ");
        let numbers = (0..x.len())
            .map(|i| format!("{}·{}", p(x[i]), p(w1[(i, j)])))
            .collect::<Vec<_>>()
            .join(" + ");
        line(
            o,
            &format!(
                "  z¹{sj} = {symbols} + b¹{sj} = {numbers} + {} = {}",
                p(b1[(0, j)]),
                v(z1[j])
            ),
        );
        line(
            o,
            &format!(
                "  a¹{sj} = {}(z¹{sj}) = {}({}) = {}",
                f.name(),
                f.name(),
                v(z1[j]),
                v(a1[j])
            ),
        );
    }
    let symbols = (0..w2.rows())
        .map(|j| format!("a¹{}·W²{}₁", subscript(j + 1), subscript(j + 1)))
        .collect::<Vec<_>>()
        .join(" + ");
    let numbers = (0..w2.rows())
        .map(|j| format!("{}·{}", p(a1[j]), p(w2[(j, 0)])))
        .collect::<Vec<_>>()
        .join(" + ");
    line(
        o,
        &format!(
            "  z² = {symbols} + b²₁ = {numbers} + {} = {}",
            p(b2[(0, 0)]),
            v(z2)
        ),
    );
    line(o, &format!("  ŷ = σ(z²) = σ({}) = {}", v(z2), v(y_hat)));
    line(
        o,
        "Backward (this example's share; the gradients above sum the shares of all rows):",
    );
    let dz2 = gradients[3].row(k)[0];
    line(
        o,
        &format!("  dz² = (ŷ − y)/n = ({} − {y})/{n} = {dz2:.6}", v(y_hat)),
    );
    for j in 0..w2.rows() {
        let sj = subscript(j + 1);
        line(
            o,
            &format!(
                "  share of dW²{sj}₁ = a¹{sj}·dz² = {}·{} = {}",
                p(a1[j]),
                g(dz2),
                number(a1[j] * dz2, GRADIENT_DIGITS)
            ),
        );
    }
    for j in 0..w1.cols() {
        let sj = subscript(j + 1);
        let dz1 = gradients[1].row(k)[j];
        line(
            o,
            &format!(
                "  dz¹{sj} = dz²·W²{sj}₁·{}′(z¹{sj}) = {}·{}·{} = {}",
                f.name(),
                g(dz2),
                p(w2[(j, 0)]),
                p(f.derivative(z1[j])),
                number(dz1, GRADIENT_DIGITS),
            ),
        );
        for i in 0..x.len() {
            let si = subscript(i + 1);
            line(
                o,
                &format!(
                    "    share of dW¹{si}{sj} = x{si}·dz¹{sj} = {}·{} = {}",
                    p(x[i]),
                    g(dz1),
                    number(x[i] * dz1, GRADIENT_DIGITS)
                ),
            );
        }
    }
    blank(o);
}

fn update(o: &mut String, options: &DemoOptions, story: &Story, style: Style) {
    line(
        o,
        &style.heading("4. Update: every parameter takes one step downhill"),
    );
    with_source(
        o,
        &format!("W ← W − η·dW   with η = {}", options.lr),
        "optim.rs Optimizer::step",
        style,
    );
    let before: Vec<_> = story.at_step.dense_layers().collect();
    let after: Vec<_> = story.after_step.dense_layers().collect();
    for (d, (old, new)) in before.iter().zip(&after).enumerate() {
        let s = superscript(d + 1);
        for (name, old, gradient, new) in [
            (format!("W{s}"), &old.w, &old.dw, &new.w),
            (format!("b{s}"), &old.b, &old.db, &new.b),
        ] {
            o.push_str(&indent(&side_by_side(&[
                labelled(&format!("{name} before"), old, VALUE_DIGITS, style),
                labelled(&format!("d{name}"), gradient, GRADIENT_DIGITS, style),
                labelled(&format!("{name} after"), new, VALUE_DIGITS, style),
            ])));
        }
    }
    let change = story.loss_before - story.loss_after;
    with_source(
        o,
        &format!(
            "The loss, forward again with the new parameters: {:.6} → {:.6}",
            story.loss_before, story.loss_after
        ),
        "network.rs Network::forward",
        style,
    );
    let text = if change > 0.0 {
        format!(
            "  it went down by {change:.6} ({:.1} %): the step followed −dW, the direction of steepest descent",
            100.0 * change / story.loss_before
        )
    } else {
        format!(
            "  it went up by {:.6}: the step overshot; a smaller --lr takes smaller steps",
            -change
        )
    };
    line(o, &style.good(&text));
    blank(o);
}

fn training(o: &mut String, options: &DemoOptions, story: &Story, style: Style) {
    line(
        o,
        &style.heading(&format!(
            "5. Training: the same step {} times (full batch, η = {})",
            options.epochs, options.lr
        )),
    );
    with_source(
        o,
        "Loss and predictions after each listed epoch's update",
        "train.rs train",
        style,
    );
    let labels = point_labels(&story.data);
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut header = format!("  {:>5}  {:>8}", "epoch", "loss");
    for label in &labels {
        let _ = write!(header, "  {:>width$}", format!("ŷ{label}"));
    }
    line(o, &header);
    for row in &story.rows {
        let mut text = format!("  {:>5}  {:>8.4}", row.epoch, row.loss);
        for y in &row.y_hat {
            let _ = write!(text, "  {:>width$.3}", y);
        }
        line(o, &text);
    }
    blank(o);
}

/// `(0,1)` for the XOR corners, `#k` for the rows of other data.
fn point_labels(data: &Dataset) -> Vec<String> {
    (0..data.len())
        .map(|i| {
            let x = data.x.row(i);
            if data.name == "xor" {
                format!("({},{})", x[0], x[1])
            } else {
                format!("#{i}")
            }
        })
        .collect()
}

fn hidden_space(o: &mut String, story: &Story, style: Style) {
    let network = &story.trained;
    let values = network.values();
    let names = value_names(network);
    // The stack is [Dense, f, Dense, sigmoid]: A¹ is values[2], Z² values[3].
    let (a1, z2) = (&values[2], &values[3]);
    let output = network.dense_layers().last().expect("an output layer");
    let h = a1.cols();
    line(
        o,
        &style.heading("6. Why the hidden layer works: the points in hidden space"),
    );
    line(
        o,
        &format!(
            "The output unit sees each example as its row of {} (a point in {h} dimensions) and predicts",
            names[2]
        ),
    );
    line(
        o,
        "class 1 exactly where w·a + b > 0, with w = W² and b = b² of the trained network. That is a",
    );
    let shape_word = match h {
        1 => "point on a line",
        2 => "line",
        3 => "plane",
        _ => "hyperplane",
    };
    line(
        o,
        &format!("{shape_word}; training moves the points so that it separates the classes:"),
    );
    let terms = (0..h)
        .map(|j| {
            let w = output.w[(j, 0)];
            let sign = if w < 0.0 { "−" } else { "+" };
            format!("{sign} {:.3}·a{}", w.abs(), subscript(j + 1))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let b = output.b[(0, 0)];
    // The first term carries its sign without a space: `−3.074·a₁ + …`.
    let terms = match terms.strip_prefix("+ ") {
        Some(rest) => rest.to_string(),
        None => terms.replacen("− ", "−", 1),
    };
    line(
        o,
        &format!(
            "  {terms} {} {:.3} = 0",
            if b < 0.0 { "−" } else { "+" },
            b.abs()
        ),
    );
    with_source(
        o,
        "  w·a + b below is Z², as computed",
        "dense.rs Dense::forward",
        style,
    );
    let labels = point_labels(&story.data);
    let (open, close) = style.brackets();
    let mut wrong = 0;
    for i in 0..story.data.len() {
        let a = a1
            .row(i)
            .iter()
            .map(|v| format!("{v:>7.3}"))
            .collect::<Vec<_>>()
            .join(" ");
        let score = z2[(i, 0)];
        let side = if score > 0.0 { "+" } else { "−" };
        let y = story.data.y[(i, 0)];
        let correct = (score > 0.0) == (y >= 0.5);
        if !correct {
            wrong += 1;
        }
        line(
            o,
            &format!(
                "  {:<8} y = {y}   a = {open}{a} {close}   w·a + b = {score:>7.3}   side {side}  {}",
                labels[i],
                if correct { "✓" } else { "✗" }
            ),
        );
    }
    let verdict = if wrong == 0 {
        style.good(
            "Every class-1 point is on the + side and every class-0 point on the − side: in hidden space\n\
             the classes are linearly separable, which they were not in the plane of X.",
        )
    } else {
        let why = if network
            .layers()
            .iter()
            .any(|l| matches!(l, Layer::Activation(Activation::Identity)))
        {
            " With the identity activation the hidden layer is linear and cannot bend the plane."
        } else {
            " More epochs, more hidden units or another --lr may separate them."
        };
        format!("{wrong} point(s) are on the wrong side.{why}")
    };
    line(o, &verdict);
    blank(o);
}

fn truth_table(o: &mut String, story: &Story, style: Style) {
    let network = &story.trained;
    let y_hat = network.output();
    let data = &story.data;
    line(o, &style.heading("7. The trained network's answers"));
    line(
        o,
        &format!(
            "  {:<18} {:>6}  {:>10}  {:>11}",
            "x", "target", "prediction", "probability"
        ),
    );
    let labels = point_labels(data);
    for i in 0..data.len() {
        let x = data.x.row(i);
        let p = y_hat[(i, 0)];
        let point = if data.name == "xor" {
            labels[i].replace(',', ", ")
        } else {
            format!("({:.3}, {:.3})", x[0], x[1])
        };
        line(
            o,
            &format!(
                "  {:<18} {:>6}  {:>10}  {:>11.4}",
                point,
                data.y[(i, 0)],
                usize::from(p >= 0.5),
                p
            ),
        );
    }
    let accuracy = train::accuracy(y_hat, &data.y, data.task);
    let correct = (accuracy * data.len() as f64).round() as usize;
    let text = format!(
        "accuracy: {:.0} % ({correct} of {} right)",
        100.0 * accuracy,
        data.len()
    );
    let text = if accuracy == 1.0 {
        style.good(&text)
    } else {
        text
    };
    with_source(o, &text, "train.rs accuracy", style);
}

// ---------------------------------------------------------------------------------------------
// Text layout.

fn line(o: &mut String, text: &str) {
    o.push_str(text);
    o.push('\n');
}

fn blank(o: &mut String) {
    o.push('\n');
}

/// `text`, padded, then the source that computed it: `[dense.rs Dense::forward]`.
fn with_source(o: &mut String, text: &str, source: &str, style: Style) {
    let pad = WIDTH.saturating_sub(visible_len(text) + source.chars().count() + 2);
    line(
        o,
        &format!("{text}{} {}", " ".repeat(pad.max(1)), style.source(source)),
    );
}

/// The rows of `m` with aligned columns, each between brackets: `[ 0.1234 -0.5678 ]`.
fn matrix_lines(m: &Matrix, digits: usize, style: Style) -> String {
    let cells: Vec<String> = m.as_slice().iter().map(|&x| number(x, digits)).collect();
    let width = cells.iter().map(|c| c.len()).max().unwrap_or(0);
    let (open, close) = style.brackets();
    let mut text = String::new();
    for i in 0..m.rows() {
        text.push_str(open);
        for j in 0..m.cols() {
            let _ = write!(text, " {:>width$}", cells[i * m.cols() + j]);
        }
        let _ = writeln!(text, " {close}");
    }
    text
}

/// A matrix under its name and shape: `W¹ (2×3)`.
fn labelled(name: &str, m: &Matrix, digits: usize, style: Style) -> String {
    format!("{name} ({})\n{}", shape(m), matrix_lines(m, digits, style))
}

/// Blocks of lines placed next to each other, three spaces apart, each padded to its width.
fn side_by_side(blocks: &[String]) -> String {
    let widths: Vec<usize> = blocks
        .iter()
        .map(|b| b.lines().map(|l| l.chars().count()).max().unwrap_or(0))
        .collect();
    let height = blocks.iter().map(|b| b.lines().count()).max().unwrap_or(0);
    let mut text = String::new();
    for r in 0..height {
        let mut row = String::new();
        for (b, block) in blocks.iter().enumerate() {
            let cell = block.lines().nth(r).unwrap_or("");
            let pad = widths[b] - cell.chars().count();
            let _ = write!(row, "{cell}{}   ", " ".repeat(pad));
        }
        text.push_str(row.trim_end());
        text.push('\n');
    }
    text
}

/// `x` with `digits` decimals, without the sign of a value that rounds to zero (`-0.0000`).
fn number(x: f64, digits: usize) -> String {
    let text = format!("{x:.digits$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

/// The number of characters a terminal shows for `text`, not counting colour codes.
fn visible_len(text: &str) -> usize {
    let mut count = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => count += 1,
        }
    }
    count
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// `n` in subscript digits, for indices: `subscript(12)` is `"₁₂"`.
fn subscript(n: usize) -> String {
    const DIGITS: [char; 10] = ['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'];
    n.to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}
