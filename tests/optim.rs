//! Optimizers against arithmetic done by hand.
//!
//! Each test builds a network of one dense layer `W` (1 × 2), `b` (1 × 2), writes gradients
//! `dW`, `db` into it as backward would, takes one or two optimizer steps and compares the new
//! parameters with values worked out in the comments. Where an ε only blurs the arithmetic it is
//! set to 0 (a test below shows what ε is for).
//!
//! The momentum, Nesterov, RMSprop and Adam numbers are also what PyTorch's `SGD(momentum=0.9)`,
//! `SGD(momentum=0.9, nesterov=True)`, `RMSprop(alpha=0.9, eps=0)` and `Adam(eps=0)` give for the
//! same gradients (checked once outside the test suite; torch is not a dependency).

use backprop::batch_norm::BatchNorm;
use backprop::dense::Dense;
use backprop::layer::Layer;
use backprop::matrix::Matrix;
use backprop::network::Network;
use backprop::optim::{Optimizer, Rule, Schedule};

/// A network of one dense layer with `W = [1, −2]` and `b = [0.5, −0.5]`.
fn one_layer() -> Network {
    Network::new(vec![Layer::Dense(Dense::from_parameters(
        Matrix::from_rows(&[[1.0, -2.0]]),
        Matrix::from_rows(&[[0.5, -0.5]]),
    ))])
}

/// Puts `dW` and `db` where backward would have left them.
fn set_gradients(network: &mut Network, dw: [f64; 2], db: [f64; 2]) {
    match &mut network.layers_mut()[0] {
        Layer::Dense(dense) => {
            dense.dw = Matrix::from_rows(&[dw]);
            dense.db = Matrix::from_rows(&[db]);
        }
        _ => unreachable!("the first layer is dense"),
    }
}

/// `(W, b)` of the first layer as plain arrays.
fn parameters(network: &Network) -> ([f64; 2], [f64; 2]) {
    let dense = network.dense_layers().next().expect("a dense layer");
    let w = dense.w.as_slice();
    let b = dense.b.as_slice();
    ([w[0], w[1]], [b[0], b[1]])
}

fn assert_close(got: [f64; 2], want: [f64; 2], what: &str) {
    for e in 0..2 {
        assert!(
            (got[e] - want[e]).abs() <= 1e-12,
            "{what}[{e}]: got {}, worked out by hand {}",
            got[e],
            want[e]
        );
    }
}

#[test]
fn sgd_one_step() {
    // W ← W − η·dW with η = 0.1, dW = [0.5, −1], db = [0.2, 0]:
    //   W = [1 − 0.05, −2 + 0.1] = [0.95, −1.9]
    //   b = [0.5 − 0.02, −0.5 − 0] = [0.48, −0.5]
    let mut network = one_layer();
    set_gradients(&mut network, [0.5, -1.0], [0.2, 0.0]);
    let mut optimizer = Optimizer::new(Rule::Sgd, 0.1);
    optimizer.step(&mut network);
    let (w, b) = parameters(&network);
    assert_close(w, [0.95, -1.9], "W");
    assert_close(b, [0.48, -0.5], "b");
    // ‖ΔW‖ = η·‖dW‖ = 0.1·√(0.25 + 1) and ‖Δb‖ = 0.1·0.2.
    assert!((optimizer.update_norms()[0] - 0.1 * 1.25f64.sqrt()).abs() < 1e-15);
    assert!((optimizer.update_norms()[1] - 0.02).abs() < 1e-15);
    // The global gradient norm √(0.25 + 1 + 0.04 + 0).
    assert!((optimizer.last_gradient_norm() - 1.29f64.sqrt()).abs() < 1e-15);
}

#[test]
fn momentum_two_steps() {
    // v ← μ·v + dW, W ← W − η·v with μ = 0.9, η = 0.1, the same dW = [0.5, −1], db = [0.2, 0]
    // twice:
    //   step 1: v = [0.5, −1]                       W = [1 − 0.05, −2 + 0.1]     = [0.95, −1.9]
    //   step 2: v = 0.9·[0.5, −1] + [0.5, −1]
    //             = [0.95, −1.9]                    W = [0.95 − 0.095, −1.9 + 0.19] = [0.855, −1.71]
    //   b: v = 0.2 then 0.38, so b = 0.5 − 0.02 − 0.038 = 0.442
    let mut network = one_layer();
    let mut optimizer = Optimizer::new(
        Rule::Momentum {
            momentum: 0.9,
            nesterov: false,
        },
        0.1,
    );
    set_gradients(&mut network, [0.5, -1.0], [0.2, 0.0]);
    optimizer.step(&mut network);
    assert_close(parameters(&network).0, [0.95, -1.9], "W after step 1");
    optimizer.step(&mut network);
    let (w, b) = parameters(&network);
    assert_close(w, [0.855, -1.71], "W after step 2");
    assert_close(b, [0.442, -0.5], "b after step 2");
}

#[test]
fn nesterov_two_steps() {
    // v ← μ·v + dW, W ← W − η·(dW + μ·v) with μ = 0.9, η = 0.1, dW = [0.5, −1] twice:
    //   step 1: v = [0.5, −1]     ΔW = 0.1·([0.5, −1] + [0.45, −0.9])   = [0.095, −0.19]
    //           W = [0.905, −1.81]
    //   step 2: v = [0.95, −1.9]  ΔW = 0.1·([0.5, −1] + [0.855, −1.71]) = [0.1355, −0.271]
    //           W = [0.7695, −1.539]
    let mut network = one_layer();
    let mut optimizer = Optimizer::new(Rule::from_name("nesterov").expect("a rule"), 0.1);
    set_gradients(&mut network, [0.5, -1.0], [0.0, 0.0]);
    optimizer.step(&mut network);
    assert_close(parameters(&network).0, [0.905, -1.81], "W after step 1");
    optimizer.step(&mut network);
    assert_close(parameters(&network).0, [0.7695, -1.539], "W after step 2");
}

#[test]
fn rmsprop_two_steps() {
    // s ← ρ·s + (1 − ρ)·dW², W ← W − η·dW/√s with ρ = 0.9, η = 0.01, ε = 0, dW = [0.5, −1]
    // twice:
    //   step 1: s = 0.1·dW²                  ΔW = η·dW/(|dW|·√0.1) = η·sign(dW)·√10
    //           = 0.01·3.16227766016838 = 0.0316227766016838 per entry, whatever |dW|
    //   step 2: s = 0.9·0.1·dW² + 0.1·dW² = 0.19·dW²
    //           ΔW = η·sign(dW)/√0.19 = 0.01·2.29415733870562 = 0.0229415733870562
    //   W = [1 − 0.0316227766016838 − 0.0229415733870562, −2 + the same]
    //     = [0.94543565001126, −1.94543565001126]
    // (RMSprop divides each entry by its own recent size: both entries move the same distance.)
    let mut network = one_layer();
    let mut optimizer = Optimizer::new(
        Rule::RmsProp {
            decay: 0.9,
            epsilon: 0.0,
        },
        0.01,
    );
    set_gradients(&mut network, [0.5, -1.0], [0.2, -0.4]);
    optimizer.step(&mut network);
    assert_close(
        parameters(&network).0,
        [1.0 - 0.0316227766016838, -2.0 + 0.0316227766016838],
        "W after step 1",
    );
    optimizer.step(&mut network);
    let (w, b) = parameters(&network);
    assert_close(w, [0.94543565001126, -1.94543565001126], "W after step 2");
    assert_close(b, [0.44543565001126, -0.44543565001126], "b after step 2");
}

#[test]
fn adam_two_steps_with_bias_correction() {
    // β₁ = 0.9, β₂ = 0.999, η = 0.1, ε = 0. Entry W[0]: dW = 0.5, then −0.25.
    //   step 1: m = 0.1·0.5 = 0.05           v = 0.001·0.25 = 0.00025
    //           m̂ = 0.05/(1 − 0.9) = 0.5     v̂ = 0.00025/(1 − 0.999) = 0.25
    //           ΔW = 0.1·0.5/√0.25 = 0.1     W = 0.9
    //           (without the correction it would be 0.1·0.05/√0.00025 = 0.316: the zero start of
    //           m and v would distort the first steps)
    //   step 2: m = 0.9·0.05 + 0.1·(−0.25) = 0.02
    //           v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
    //           m̂ = 0.02/(1 − 0.81) = 0.105263157894737
    //           v̂ = 0.00031225/(1 − 0.998001) = 0.156203101550775,  √v̂ = 0.395225380701667
    //           ΔW = 0.1·0.105263157894737/0.395225380701667 = 0.0266337039660401
    //           W = 0.9 − 0.0266337039660401 = 0.87336629603396
    // Entry W[1] has dW = −1, then 0.5: −2 times W[0]'s. Adam is blind to the scale of a
    // gradient, so it moves the same distance the other way: W[1] = −2 + 0.1 + 0.0266…
    // b has the same gradient [0.2, −0.4] both times, so m̂ = g, v̂ = g² and each step is η·sign(g).
    let mut network = one_layer();
    let mut optimizer = Optimizer::new(
        Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 0.0,
        },
        0.1,
    );
    set_gradients(&mut network, [0.5, -1.0], [0.2, -0.4]);
    optimizer.step(&mut network);
    let (w, b) = parameters(&network);
    assert_close(w, [0.9, -1.9], "W after step 1");
    assert_close(b, [0.4, -0.4], "b after step 1");
    set_gradients(&mut network, [-0.25, 0.5], [0.2, -0.4]);
    optimizer.step(&mut network);
    let (w, b) = parameters(&network);
    assert_close(w, [0.87336629603396, -1.87336629603396], "W after step 2");
    assert_close(b, [0.3, -0.3], "b after step 2");
}

#[test]
fn epsilon_keeps_a_zero_gradient_finite() {
    // With ε = 0 a gradient that has always been 0 would give 0/√0 = NaN; the default ε = 1e-8
    // makes the step 0/(0 + ε) = 0.
    for name in ["rmsprop", "adam"] {
        let mut network = one_layer();
        let mut optimizer = Optimizer::new(Rule::from_name(name).expect("a rule"), 0.1);
        set_gradients(&mut network, [0.0, 0.0], [0.0, 0.0]);
        optimizer.step(&mut network);
        let (w, b) = parameters(&network);
        assert_eq!((w, b), ([1.0, -2.0], [0.5, -0.5]), "{name}");
    }
}

#[test]
fn l2_decays_weights_but_not_biases_or_batch_norm() {
    // dW ← dW + λ·W with λ = 0.1 and every gradient 0, SGD with η = 0.5:
    //   W ← W − 0.5·0.1·W = 0.95·W = [0.95, −1.9];  b, γ and β do not move.
    let mut network = Network::new(vec![
        Layer::Dense(Dense::from_parameters(
            Matrix::from_rows(&[[1.0, -2.0]]),
            Matrix::from_rows(&[[0.5, -0.5]]),
        )),
        Layer::BatchNorm(BatchNorm::new(2)),
    ]);
    if let Layer::BatchNorm(norm) = &mut network.layers_mut()[1] {
        norm.gamma = Matrix::from_rows(&[[2.0, 3.0]]);
        norm.beta = Matrix::from_rows(&[[0.25, -0.25]]);
    }
    set_gradients(&mut network, [0.0, 0.0], [0.0, 0.0]);
    let mut optimizer = Optimizer::new(Rule::Sgd, 0.5);
    optimizer.l2 = 0.1;
    optimizer.step(&mut network);
    let (w, b) = parameters(&network);
    assert_close(w, [0.95, -1.9], "W");
    assert_eq!(b, [0.5, -0.5], "b is not decayed");
    match &network.layers()[1] {
        Layer::BatchNorm(norm) => {
            assert_eq!(
                norm.gamma,
                Matrix::from_rows(&[[2.0, 3.0]]),
                "γ is not decayed"
            );
            assert_eq!(
                norm.beta,
                Matrix::from_rows(&[[0.25, -0.25]]),
                "β is not decayed"
            );
        }
        _ => unreachable!(),
    }
}

#[test]
fn clipping_scales_every_gradient_by_c_over_the_global_norm() {
    // dW = [3, 0], db = [0, 4]: the global norm is √(9 + 16) = 5. With c = 1 every gradient is
    // scaled by c/‖g‖ = 0.2, so with SGD and η = 1:
    //   W = [1 − 0.6, −2 − 0] = [0.4, −2],  b = [0.5 − 0, −0.5 − 0.8] = [0.5, −1.3]
    let mut network = one_layer();
    set_gradients(&mut network, [3.0, 0.0], [0.0, 4.0]);
    let mut optimizer = Optimizer::new(Rule::Sgd, 1.0);
    optimizer.clip = Some(1.0);
    optimizer.step(&mut network);
    let (w, b) = parameters(&network);
    assert_close(w, [0.4, -2.0], "W");
    assert_close(b, [0.5, -1.3], "b");
    assert_eq!(
        optimizer.last_gradient_norm(),
        5.0,
        "the norm before clipping"
    );
    // The direction is kept: the update is (0.6, 0.8), of norm c = 1.
    let updates = optimizer.update_norms();
    assert!((updates[0].hypot(updates[1]) - 1.0).abs() < 1e-12);

    // Below the threshold nothing is scaled.
    let mut network = one_layer();
    set_gradients(&mut network, [3.0, 0.0], [0.0, 4.0]);
    let mut optimizer = Optimizer::new(Rule::Sgd, 1.0);
    optimizer.clip = Some(10.0);
    optimizer.step(&mut network);
    let (w, b) = parameters(&network);
    assert_close(w, [-2.0, -2.0], "W unclipped");
    assert_close(b, [0.5, -4.5], "b unclipped");
}

#[test]
fn schedules_give_the_documented_rates() {
    let lr = 0.1;
    let constant = Schedule::Constant;
    let step = Schedule::Step {
        every: 10,
        factor: 0.5,
    };
    let exponential = Schedule::Exponential { rate: 0.9 };
    for epoch in [0, 1, 99] {
        assert_eq!(constant.learning_rate(lr, epoch), lr);
    }
    // ηₑ = η·0.5^⌊e/10⌋.
    for (epoch, want) in [
        (0, 0.1),
        (9, 0.1),
        (10, 0.05),
        (19, 0.05),
        (20, 0.025),
        (35, 0.0125),
    ] {
        assert_eq!(step.learning_rate(lr, epoch), want, "step, epoch {epoch}");
    }
    // ηₑ = η·0.9ᵉ: 0.1, 0.09, 0.081, and 0.1·0.9¹⁰ = 0.034867844 at epoch 10.
    for (epoch, want) in [(0, 0.1), (1, 0.09), (2, 0.081), (10, 0.034867844)] {
        let got = exponential.learning_rate(lr, epoch);
        assert!(
            (got - want).abs() < 1e-9,
            "exponential, epoch {epoch}: {got}"
        );
    }

    // The optimizer steps with the rate of the epoch it was told about.
    let mut network = one_layer();
    set_gradients(&mut network, [1.0, 1.0], [0.0, 0.0]);
    let mut optimizer = Optimizer::new(Rule::Sgd, lr);
    optimizer.schedule = step;
    optimizer.start_epoch(10);
    assert_eq!(optimizer.current_lr(), 0.05);
    optimizer.step(&mut network);
    assert_close(
        parameters(&network).0,
        [0.95, -2.05],
        "W after a step at η = 0.05",
    );
}

#[test]
fn rule_names_round_trip() {
    for name in Rule::NAMES.iter().chain(&["nesterov"]) {
        let rule = Rule::from_name(name).expect("a known rule");
        assert_eq!(rule.name(), *name);
    }
    assert_eq!(Rule::from_name("adagrad"), None);
}

#[test]
fn step_gives_the_bits_of_the_plain_update_for_every_rule() {
    // A layer of 37 × 11 weights (not a multiple of any vector width, so the loops' tails run),
    // gradients that change every step, with and without clipping and L2 decay, and entries
    // with zero, huge and tiny gradients among ordinary ones; five steps of each rule with the
    // engine's fast update and with its plain loop (`BACKPROP_KERNELS=naive`) must leave every
    // parameter, every update norm and the gradient norm with the same bits.
    use backprop::kernels::{with_kernels, Kernels};
    use backprop::rng::Rng;
    let bits = |network: &Network| -> Vec<u64> {
        let dense = network.dense_layers().next().expect("a dense layer");
        let w = dense.w.as_slice().iter().chain(dense.b.as_slice());
        w.map(|x| x.to_bits()).collect()
    };
    for name in Rule::NAMES {
        for (clip, l2) in [(None, 0.0), (Some(0.5), 1e-3)] {
            let mut rng = Rng::new(17);
            let w = Matrix::random_normal(37, 11, 0.0, 1.0, &mut rng);
            let b = Matrix::random_normal(1, 11, 0.0, 1.0, &mut rng);
            let mut fast = Network::new(vec![Layer::Dense(Dense::from_parameters(w, b))]);
            let mut reference = fast.clone();
            let mut optimizer = Optimizer::new(Rule::from_name(name).expect("a rule"), 0.01);
            optimizer.clip = clip;
            optimizer.l2 = l2;
            let mut optimizer_reference = optimizer.clone();
            for _ in 0..5 {
                let mut dw = Matrix::random_normal(37, 11, 0.0, 1.0, &mut rng);
                let db = Matrix::random_normal(1, 11, 0.0, 1.0, &mut rng);
                for (e, special) in [0.0, -0.0, 1e300, 1e-300, -1e-310].into_iter().enumerate() {
                    dw.as_mut_slice()[e * 7] = special;
                }
                for network in [&mut fast, &mut reference] {
                    if let Layer::Dense(dense) = &mut network.layers_mut()[0] {
                        dense.dw = dw.clone();
                        dense.db = db.clone();
                    }
                }
                with_kernels(Kernels::Fast, || optimizer.step(&mut fast));
                with_kernels(Kernels::Naive, || optimizer_reference.step(&mut reference));
                assert_eq!(bits(&fast), bits(&reference), "{name} clip {clip:?}");
                let norms = |o: &Optimizer| -> Vec<u64> {
                    o.update_norms().iter().map(|x| x.to_bits()).collect()
                };
                assert_eq!(norms(&optimizer), norms(&optimizer_reference), "{name}");
                assert_eq!(
                    optimizer.last_gradient_norm().to_bits(),
                    optimizer_reference.last_gradient_norm().to_bits()
                );
            }
        }
    }
}
