//! The detailed step, section by section: the data and network, forward, backward with every
//! gradient checked, one example by hand, and the update. Every number comes from the `Story`
//! the engine filled in (`mod.rs`); this file only lays it out.

use super::layout::{
    self, blank, exact_or_rounded, indent, labelled, line, matrix_lines, number, operand, shape,
    side_by_side, subscript, with_source,
};
use super::{
    DemoOptions, Story, Style, EXTRA_DIGITS, EXTRA_IN_WORDS, GRADIENT_DIGITS, VALUE_DIGITS,
};
use crate::activation::Activation;
use crate::dense::Init;
use crate::gradcheck;
use crate::layer::Layer;
use crate::matrix::Matrix;
use crate::network::{superscript, Network};

pub(super) fn introduction(o: &mut String, options: &DemoOptions, story: &Story, style: Style) {
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
        labelled("X", &data.x, given_digits(&data.x), style),
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
    line(o, &style.heading(&format!("2. The network: {description}")));
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
            &format!("Initial weights: seed {}, {init}; biases 0", options.seed),
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
        blocks.push(labelled(
            &format!("W{s}"),
            &dense.w,
            given_digits(&dense.w),
            style,
        ));
        blocks.push(labelled(
            &format!("b{s}"),
            &dense.b,
            given_digits(&dense.b),
            style,
        ));
    }
    o.push_str(&side_by_side(&blocks));
    line(
        o,
        &format!(
            "W¹ is 2×{h}: column j holds the weights into hidden unit j.\nW² is {h}×1: one weight from each hidden unit to the output."
        ),
    );
    blank(o);
}

/// Decimals of a matrix that is given rather than computed in the step (the data, the parameters
/// at its start): [`EXTRA_DIGITS`] more than the values made from it, so that `Z¹ = X·W¹ + b¹`
/// and `W − η·dW` can be recomputed from what is printed; none for whole numbers, which are exact.
fn given_digits(m: &Matrix) -> usize {
    layout::data_digits(m, VALUE_DIGITS + EXTRA_DIGITS)
}

/// The symbol of each value of the stack: `X, Z¹, A¹, Z², ŷ`.
pub(super) fn value_names(network: &Network) -> Vec<String> {
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

pub(super) fn forward(o: &mut String, options: &DemoOptions, story: &Story, style: Style) {
    let network = &story.at_step;
    let values = network.values();
    let names = value_names(network);
    line(o, &style.heading("3. Forward: X → ŷ, one layer at a time"));
    // Recomputing an entry of a later matrix from the rounded ones above it can miss by a few
    // units in the last digit (see EXTRA_DIGITS): say which ones check, and where the digits to
    // check the others are.
    let by_hand = match options.sample {
        Some(k) => format!("section 4½ writes row {k} out"),
        None => "--sample k writes row k out".to_string(),
    };
    line(
        o,
        &format!(
            "X, W¹ and b¹ above carry {EXTRA_IN_WORDS} more decimals than Z¹, so Z¹ can be recomputed by hand. The other"
        ),
    );
    line(
        o,
        &format!("matrices are rounded for reading: {by_hand} with the digits to check them."),
    );
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

pub(super) fn backward(o: &mut String, story: &Story, style: Style) {
    let network = &story.at_step;
    let values = network.values();
    let gradients = network.gradients();
    let names = value_names(network);
    let last = network.layers().len();
    let out_z = &names[last - 1];
    line(
        o,
        &style.heading("4. Backward: the chain rule, from L back to every parameter"),
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
        "relative error |a − e|/max(|a|, |e|, 1e-8) in that row (a: backprop, e: the estimate).",
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
        &format!("  chain rule:  d{out_z} = ∂L/∂ŷ ⊙ σ′({out_z}),  σ′ = ŷ·(1 − ŷ)"),
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
    let agreement = if disagreement == 0.0 {
        "to the last bit".to_string()
    } else {
        format!("within rounding, max |difference| = {disagreement:.1e}")
    };
    line(
        o,
        &style.good(&format!(
            "  the two forms agree {agreement}; backward goes on from the shortcut"
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
                // dZ = dA ⊙ f′(Z): dA is the gradient printed just above.
                with_source(
                    o,
                    &format!(
                        "d{input} = d{output} ⊙ {}′({input})      {} ⊙ {} → {}",
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

/// True when an input of a ReLU-like activation sits at its kink (`gradcheck::distance_to_kink`).
fn at_kink(network: &Network) -> bool {
    gradcheck::distance_to_kink(network)
        .iter()
        .any(|&d| d < gradcheck::KINK_MARGIN)
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

/// Row `k` of the step as scalar arithmetic: each line a formula, the numbers it is made from and
/// its result. Results are rounded as in the matrices; the numbers they are made from carry
/// [`EXTRA_DIGITS`] more decimals, so every result can be recomputed from the line that makes it
/// to within ±1 in its last digit (`tests/demo.rs` recomputes every one).
pub(super) fn by_hand(o: &mut String, story: &Story, k: usize, style: Style) {
    let network = &story.at_step;
    let values = network.values();
    let gradients = network.gradients();
    let dense: Vec<_> = network.dense_layers().collect();
    let (w1, b1, w2, b2) = (&dense[0].w, &dense[0].b, &dense[1].w, &dense[1].b);
    let f = match &network.layers()[1] {
        Layer::Activation(f) => *f,
        _ => unreachable!("the demo network is [dense, f, dense, sigmoid]"),
    };
    // Row k of X, Z¹, A¹, Z², ŷ, and of dZ², dA¹, dZ¹.
    let x = values[0].row(k);
    let (z1, a1, z2, y_hat) = (
        values[1].row(k),
        values[2].row(k),
        values[3].row(k)[0],
        values[4].row(k)[0],
    );
    let (dz2, da1, dz1) = (
        gradients[3].row(k)[0],
        gradients[2].row(k),
        gradients[1].row(k),
    );
    let y = story.data.y.row(k)[0];
    let n = story.data.len();
    // Forward results to VALUE_DIGITS from inputs with EXTRA_DIGITS more; backward results to
    // GRADIENT_DIGITS from inputs with EXTRA_DIGITS more.
    let value = |x: f64| number(x, VALUE_DIGITS);
    let gradient = |x: f64| number(x, GRADIENT_DIGITS);
    let forward_in = |x: f64| operand(x, VALUE_DIGITS + EXTRA_DIGITS);
    let backward_in = |x: f64| operand(x, GRADIENT_DIGITS + EXTRA_DIGITS);
    line(
        o,
        &style.heading(&format!(
            "4½. One example by hand: row {k}, x = ({}, {}), y = {y}",
            exact_or_rounded(x[0], VALUE_DIGITS + EXTRA_DIGITS),
            exact_or_rounded(x[1], VALUE_DIGITS + EXTRA_DIGITS)
        )),
    );
    line(
        o,
        &format!(
            "Row {k} of the matrices above, written out term by term. Results are rounded as there; their inputs"
        ),
    );
    line(
        o,
        &format!(
            "carry {EXTRA_IN_WORDS} more decimals, so a result recomputed by hand lands within ±1 in its last digit."
        ),
    );

    line(o, "Forward:");
    for j in 0..w1.cols() {
        let sj = subscript(j + 1);
        let symbols = (0..x.len())
            .map(|i| format!("x{}·W¹{}{sj}", subscript(i + 1), subscript(i + 1)))
            .collect::<Vec<_>>()
            .join(" + ");
        let numbers = (0..x.len())
            .map(|i| format!("{}·{}", forward_in(x[i]), forward_in(w1[(i, j)])))
            .collect::<Vec<_>>()
            .join(" + ");
        line(
            o,
            &format!(
                "  z¹{sj} = {symbols} + b¹{sj} = {numbers} + {} = {}",
                forward_in(b1[(0, j)]),
                value(z1[j])
            ),
        );
        line(
            o,
            &format!(
                "  a¹{sj} = {name}(z¹{sj}) = {name}({}) = {}",
                exact_or_rounded(z1[j], VALUE_DIGITS + EXTRA_DIGITS),
                value(a1[j]),
                name = f.name(),
            ),
        );
    }
    let symbols = (0..w2.rows())
        .map(|j| format!("a¹{}·W²{}₁", subscript(j + 1), subscript(j + 1)))
        .collect::<Vec<_>>()
        .join(" + ");
    let numbers = (0..w2.rows())
        .map(|j| format!("{}·{}", forward_in(a1[j]), forward_in(w2[(j, 0)])))
        .collect::<Vec<_>>()
        .join(" + ");
    // Symbols and numbers on two lines: with three or more hidden units one line is too wide.
    line(o, &format!("  z² = {symbols} + b²₁"));
    line(
        o,
        &format!(
            "     = {numbers} + {} = {}",
            forward_in(b2[(0, 0)]),
            value(z2)
        ),
    );
    line(
        o,
        &format!(
            "  ŷ = σ(z²) = σ({}) = {}",
            exact_or_rounded(z2, VALUE_DIGITS + EXTRA_DIGITS),
            value(y_hat)
        ),
    );

    line(
        o,
        "Backward: this row's share of each gradient (the matrices above add up the shares of all rows):",
    );
    line(
        o,
        &format!(
            "  dz² = (ŷ − y)/n = ({} − {y})/{n} = {}",
            exact_or_rounded(y_hat, GRADIENT_DIGITS + EXTRA_DIGITS),
            gradient(dz2)
        ),
    );
    for j in 0..w2.rows() {
        let sj = subscript(j + 1);
        line(
            o,
            &format!(
                "  share of dW²{sj}₁ = a¹{sj}·dz² = {}·{} = {}",
                backward_in(a1[j]),
                backward_in(dz2),
                gradient(a1[j] * dz2)
            ),
        );
    }
    for j in 0..w1.cols() {
        let sj = subscript(j + 1);
        line(
            o,
            &format!(
                "  da¹{sj} = dz²·W²{sj}₁ = {}·{} = {}",
                backward_in(dz2),
                backward_in(w2[(j, 0)]),
                gradient(da1[j])
            ),
        );
        // f′(z¹ⱼ) written with the numbers it is made of, so that it needs no line of its own.
        let (symbols, numbers) = derivative_by_hand(f, j, z1[j], a1[j]);
        line(
            o,
            &format!(
                "  dz¹{sj} = da¹{sj}·{}′(z¹{sj}){symbols} = {}·{numbers} = {}",
                f.name(),
                backward_in(da1[j]),
                gradient(dz1[j]),
            ),
        );
        for i in 0..x.len() {
            let si = subscript(i + 1);
            line(
                o,
                &format!(
                    "    share of dW¹{si}{sj} = x{si}·dz¹{sj} = {}·{} = {}",
                    backward_in(x[i]),
                    backward_in(dz1[j]),
                    gradient(x[i] * dz1[j])
                ),
            );
        }
    }
    line(
        o,
        "  A bias is added to every row, so its share is the row's dz itself: db² gets dz², db¹ⱼ gets dz¹ⱼ.",
    );
    blank(o);
}

/// `f′(z¹ⱼ)` for the dz¹ line: the symbols after `f′(z¹ⱼ)` (`" = da¹ⱼ·(1 − (a¹ⱼ)²)"` for tanh,
/// empty when the derivative is a constant) and the numbers that replace `f′(z¹ⱼ)`, with the
/// backward walk-through's input digits.
fn derivative_by_hand(f: Activation, j: usize, z: f64, a: f64) -> (String, String) {
    let sj = subscript(j + 1);
    let digits = GRADIENT_DIGITS + EXTRA_DIGITS;
    let a_in = operand(a, digits);
    match f {
        Activation::Tanh => (
            format!(" = da¹{sj}·(1 − (a¹{sj})²)"),
            format!("(1 − {a_in}²)"),
        ),
        Activation::Sigmoid => (
            format!(" = da¹{sj}·a¹{sj}·(1 − a¹{sj})"),
            format!("{a_in}·(1 − {a_in})"),
        ),
        // A slope that is a constant (1, 0 or leaky ReLU's α): exact, shown as it is.
        Activation::Identity | Activation::Relu | Activation::LeakyRelu { .. } => {
            (String::new(), format!("{}", f.derivative(z, a)))
        }
        // A derivative with no short form in a: evaluated at z, like the forward's f(z).
        _ => (
            String::new(),
            format!("{}′({})", f.name(), exact_or_rounded(z, digits)),
        ),
    }
}

pub(super) fn update(o: &mut String, options: &DemoOptions, story: &Story, style: Style) {
    line(
        o,
        &style.heading("5. Update: every parameter takes one step downhill"),
    );
    with_source(
        o,
        &format!("W ← W − η·dW   with η = {}", options.lr),
        "optim.rs Optimizer::step",
        style,
    );
    line(
        o,
        &format!("Before and dW carry {EXTRA_IN_WORDS} more decimals than after, so W − η·dW can be recomputed by hand."),
    );
    let before: Vec<_> = story.at_step.dense_layers().collect();
    let after: Vec<_> = story.after_step.dense_layers().collect();
    for (d, (old, new)) in before.iter().zip(&after).enumerate() {
        let s = superscript(d + 1);
        for (name, old, gradient, new) in [
            (format!("W{s}"), &old.w, &old.dw, &new.w),
            (format!("b{s}"), &old.b, &old.db, &new.b),
        ] {
            // Not indented, unlike the matrices of sections 3 and 4: three 2×3 blocks with
            // `before` to six decimals fill the 100 columns.
            o.push_str(&side_by_side(&[
                labelled(&format!("{name} before"), old, given_digits(old), style),
                labelled(&format!("d{name}"), gradient, GRADIENT_DIGITS, style),
                labelled(&format!("{name} after"), new, VALUE_DIGITS, style),
            ]));
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
    // Green only for good news: a loss that rose is not painted as a success.
    let text = if change > 0.0 {
        style.good(&text)
    } else {
        text
    };
    line(o, &text);
    blank(o);
}
