//! Every figure is drawn, is well-formed XML with finite coordinates, is small, and contains what
//! it claims; `train` writes its figures and a replay page.

use backprop::plot::{self, Figure, Settings, FIGURES};
use backprop::run::RunOptions;
use backprop::tasks;
use std::collections::BTreeMap;
use std::process::Command;

/// An element: its name and attributes.
type Element = (String, BTreeMap<String, String>);

/// A small XML checker: tags nest and match, attribute values are quoted, `&` starts an entity.
/// Returns every element as (name, attributes), in document order.
fn parse_xml(text: &str) -> Result<Vec<Element>, String> {
    let mut elements = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let check_entities = |s: &str, at: usize| -> Result<(), String> {
        for (k, _) in s.match_indices('&') {
            let rest = &s[k..];
            let end = rest.find(';').ok_or(format!("bare & near byte {at}"))?;
            let name = &rest[1..end];
            if !matches!(name, "amp" | "lt" | "gt" | "quot" | "apos") && !name.starts_with('#') {
                return Err(format!("unknown entity &{name}; near byte {at}"));
            }
        }
        Ok(())
    };
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let next = text[i..].find('<').map_or(text.len(), |k| i + k);
            check_entities(&text[i..next], i)?;
            i = next;
            continue;
        }
        let close = text[i..]
            .find('>')
            .ok_or(format!("unclosed tag at byte {i}"))?
            + i;
        let tag = &text[i + 1..close];
        i = close + 1;
        if tag.starts_with('!') || tag.starts_with('?') {
            continue; // <!DOCTYPE …>, <?xml …?>
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("</{name}> closes nothing"))?;
            if open != name.trim() {
                return Err(format!("<{open}> closed by </{name}>"));
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
        let name = body[..name_end].to_string();
        let mut attrs = BTreeMap::new();
        let mut rest = body[name_end..].trim();
        while !rest.is_empty() {
            let eq = rest
                .find('=')
                .ok_or(format!("attribute without value in <{name}>"))?;
            let key = rest[..eq].trim().to_string();
            let after = &rest[eq + 1..];
            if !after.starts_with('"') {
                return Err(format!("unquoted attribute {key} in <{name}>"));
            }
            let end = after[1..]
                .find('"')
                .ok_or(format!("unterminated {key} in <{name}>"))?
                + 1;
            let value = after[1..end].to_string();
            if value.contains('<') {
                return Err(format!("< inside attribute {key} of <{name}>"));
            }
            check_entities(&value, i)?;
            if attrs.insert(key.clone(), value).is_some() {
                return Err(format!("attribute {key} twice in <{name}>"));
            }
            rest = after[end + 1..].trim();
        }
        if !self_closing {
            // Script and style bodies are text until their end tag.
            if name == "script" || name == "style" {
                let end = text[i..]
                    .find(&format!("</{name}>"))
                    .ok_or(format!("<{name}> never closed"))?;
                i += end;
            }
            stack.push(name.clone());
        }
        elements.push((name, attrs));
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> never closed"));
    }
    Ok(elements)
}

fn count(elements: &[Element], name: &str, class: &str) -> usize {
    elements
        .iter()
        .filter(|(n, a)| {
            n == name && (class.is_empty() || a.get("class").is_some_and(|c| c == class))
        })
        .count()
}

/// The checks every SVG passes: well formed, finite numbers, under 300 KB, a title.
fn check_svg(figure: &Figure) -> Vec<Element> {
    let elements = parse_xml(&figure.svg).unwrap_or_else(|e| panic!("{}: {e}", figure.file));
    assert_eq!(
        elements[0].0, "svg",
        "{}: the root is not <svg>",
        figure.file
    );
    assert!(
        figure.svg.len() < 300_000,
        "{} is {} bytes",
        figure.file,
        figure.svg.len()
    );
    for (name, attrs) in &elements {
        for (key, value) in attrs {
            let lower = value.to_lowercase();
            assert!(
                !lower.contains("nan") && !lower.contains("inf"),
                "{}: <{name} {key}=\"{value}\">",
                figure.file
            );
        }
    }
    assert!(
        count(&elements, "text", "") >= 3,
        "{}: no labels",
        figure.file
    );
    elements
}

fn quick() -> Settings {
    Settings {
        quick: true,
        run: None,
        model: None,
    }
}

fn make(name: &str) -> Vec<Figure> {
    plot::make(name, &quick()).unwrap_or_else(|e| panic!("plot {name}: {e}"))
}

fn find<'a>(figures: &'a [Figure], file: &str) -> &'a Figure {
    figures
        .iter()
        .find(|f| f.file == file)
        .unwrap_or_else(|| panic!("{file} was not drawn"))
}

#[test]
fn the_xml_checker_catches_broken_markup() {
    assert!(parse_xml("<svg><rect x=\"1\"/></svg>").is_ok());
    assert!(parse_xml("<svg><g></svg>").is_err());
    assert!(parse_xml("<svg><rect x=1/></svg>").is_err());
    assert!(parse_xml("<svg><text>a & b</text></svg>").is_err());
    assert!(parse_xml("<svg><text>a &amp; b</text></svg>").is_ok());
}

#[test]
fn every_figure_is_drawn_well_formed_and_small() {
    for (name, _) in FIGURES {
        let figures = make(name);
        assert!(!figures.is_empty(), "{name} drew nothing");
        for figure in &figures {
            check_svg(figure);
        }
    }
}

#[test]
fn activations_draw_a_function_and_a_derivative_per_activation() {
    let figures = make("activations");
    let figure = find(&figures, "activations.svg");
    let elements = check_svg(figure);
    for name in ["relu", "leaky_relu", "sigmoid", "tanh", "swish"] {
        assert!(
            figure.svg.contains(&format!(">{name}</text>")),
            "no panel for {name}"
        );
    }
    // f and f′ for each of the five, plus the legend's dashed sample.
    assert_eq!(count(&elements, "polyline", ""), 2 * 5 + 1);
    let vanishing = find(&figures, "vanishing-gradients.svg");
    for name in ["sigmoid network", "relu network", "‖dWˡ‖ (log scale)"] {
        assert!(vanishing.svg.contains(name), "no {name}");
    }
}

#[test]
fn decision_boundaries_draw_one_point_per_sample() {
    let figures = make("decision-boundary");
    for task in ["circles", "moons", "xor", "spiral"] {
        let figure = find(&figures, &format!("decision-boundary-{task}.svg"));
        let elements = check_svg(figure);
        let options = RunOptions::for_task(&tasks::find(task).unwrap());
        // XOR trains and tests on the same four points, so each is drawn twice.
        let expected = if task == "xor" { 8 } else { options.samples };
        assert_eq!(count(&elements, "circle", "sample"), expected, "{task}");
        assert!(figure.svg.contains(">x₁</text>") || figure.svg.contains(">x1</text>"));
    }
}

#[test]
fn the_architecture_draws_every_neuron_and_weight() {
    let figures = make("architecture");
    let elements = check_svg(&figures[0]);
    // 2 → 8 → 6 → 1
    assert_eq!(count(&elements, "circle", "neuron"), 2 + 8 + 6 + 1);
    assert_eq!(count(&elements, "line", "weight"), 2 * 8 + 8 * 6 + 6);
    // Inputs named by the features, the output by what it computes: P(class 1) of moons.
    for label in ["x₁", "x₂", "P(lower)"] {
        assert_eq!(text_ys(&figures[0].svg, label).len(), 1, "no label {label}");
    }
}

#[test]
fn the_architecture_of_a_saved_model_names_its_inputs_and_outputs() {
    let out = std::env::temp_dir().join(format!("backprop-architecture-{}", std::process::id()));
    let model = out.join("iris.model");
    let binary = env!("CARGO_BIN_EXE_backprop");
    std::fs::create_dir_all(&out).unwrap();
    let trained = Command::new(binary)
        .args(["train", "iris", "--quiet", "--epochs", "5", "--out"])
        .arg(&out)
        .arg("--save")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    let drawn = Command::new(binary)
        .args(["plot", "architecture", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        drawn.status.success(),
        "{}",
        String::from_utf8_lossy(&drawn.stderr)
    );
    let svg = std::fs::read_to_string(out.join("architecture.svg")).unwrap();
    for label in [
        "sepal_length",
        "petal_width",
        "P(setosa)",
        "P(versicolor)",
        "P(virginica)",
    ] {
        assert_eq!(text_ys(&svg, label).len(), 1, "no label {label}");
    }
    assert!(svg.contains("standardised"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn charts_label_their_axes() {
    let curves = make("learning-curves");
    for label in [
        ">epoch</text>",
        ">loss (log scale)</text>",
        ">fraction correct</text>",
    ] {
        assert!(
            curves[0].svg.contains(label),
            "learning curves lack {label}"
        );
    }
    let fit = make("sine-fit");
    let elements = check_svg(&fit[0]);
    let options = RunOptions::for_task(&tasks::find("sine").unwrap());
    assert_eq!(count(&elements, "circle", "sample"), options.samples);
    assert!(fit[0].svg.contains("true curve sin x"));
}

/// The `y` of each `<text>` whose content is exactly `content`.
fn text_ys(svg: &str, content: &str) -> Vec<f64> {
    let end = format!(">{content}</text>");
    svg.match_indices(&end)
        .map(|(at, _)| {
            let tag = &svg[svg[..at].rfind("<text").expect("a <text> tag")..at];
            let y = tag.split(" y=\"").nth(1).expect("a y attribute");
            y[..y.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// The points of a `points` attribute.
fn points(text: &str) -> Vec<(f64, f64)> {
    text.split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

#[test]
fn learning_rates_draw_every_rate_the_noise_floor_and_the_overflow() {
    let figures = make("learning-rates");
    let svg = &figures[0].svg;
    let elements = check_svg(&figures[0]);
    let rates = plot::curves::LEARNING_RATES;
    // Every rate that stays on the chart draws a loss curve and its two weights.
    for (k, (lr, behaviour)) in rates.iter().enumerate() {
        let stroke = plot::colour::line(k);
        let lines = elements
            .iter()
            .filter(|(n, a)| n == "polyline" && a.get("stroke").is_some_and(|s| s == stroke))
            .count();
        if *behaviour != "overflows" {
            assert!(lines >= 3, "η = {lr} draws {lines} lines");
        }
        assert!(svg.contains(&format!("η = {lr} {behaviour}")));
    }
    let (lr, _) = rates[rates.len() - 1];
    for note in [
        format!("η = {lr}: L &gt; 10 from epoch 1"),
        "and overflows (L = ∞) in epoch 2".into(),
    ] {
        assert!(svg.contains(&note), "no '{note}'");
    }
    // The overflowing rate's marker at the top edge of the loss panel.
    assert_eq!(count(&elements, "polygon", ""), 1);
    assert!(svg.contains("W¹₁₂ (dashed)"));
    assert!(svg.contains("η &lt; 2/λ_max"));

    // The noise floor: a flat dashed line at σ² = 0.05² = 0.0025, placed on the log axis between
    // the ticks 10⁻³ and 10⁻² (tick labels sit 4 px below their tick).
    assert!(svg.contains("noise floor σ² = 0.0025"));
    let floor: Vec<(f64, f64)> = elements
        .iter()
        .filter(|(n, a)| {
            n == "polyline"
                && a["stroke"] == plot::curves::NOISE_FLOOR_COLOUR
                && a.contains_key("stroke-dasharray")
        })
        .filter(|(_, a)| {
            // The line across the panel, not its sample in the legend.
            let p = points(&a["points"]);
            p.len() == 2 && p[1].0 - p[0].0 > 100.0
        })
        .flat_map(|(_, a)| points(&a["points"]))
        .collect();
    assert!(!floor.is_empty(), "no noise-floor line");
    let (y_milli, y_centi) = (text_ys(svg, "1e-3")[0] - 4.0, text_ys(svg, "0.01")[0] - 4.0);
    let expected = y_milli + 2.5f64.log10() * (y_centi - y_milli);
    for (_, y) in floor {
        assert!(
            (y - expected).abs() < 0.02,
            "floor at {y}, 0.0025 is at {expected}"
        );
    }
}

/// The learning-rates figure's claims, on the full runs: the good η ends on the noise floor,
/// the larger one keeps jumping, the small one is still falling and the largest overflows.
#[test]
fn each_learning_rate_does_what_the_figure_says() {
    let full = Settings {
        quick: false,
        ..quick()
    };
    let runs = plot::curves::learning_rate_runs(&full).unwrap();
    let floor = runs[0].run.options.noise.powi(2);
    assert_eq!(floor, 0.05 * 0.05);
    let run = |behaviour: &str| {
        let r = runs.iter().find(|r| r.behaviour == behaviour).unwrap();
        let losses: Vec<f64> = r.run.history.epochs.iter().map(|e| e.train_loss).collect();
        let last_tenth = losses[losses.len() * 9 / 10..].to_vec();
        (r, losses, last_tenth)
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let extent = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        (lo, v.iter().copied().fold(0.0, f64::max))
    };

    // Settles: every one of the last 100 epochs within [0.9σ², 1.5σ²] (measured 0.0027–0.0035).
    let (_, _, settled) = run("settles");
    let (lo, hi) = extent(&settled);
    assert!(
        lo > 0.9 * floor && hi < 1.5 * floor,
        "{lo}..{hi} against σ² = {floor}"
    );

    // Oscillates: still jumping by more than ten times, and far above the floor on average.
    let (_, _, jumping) = run("oscillates");
    let (lo, hi) = extent(&jumping);
    assert!(hi / lo > 10.0, "{lo}..{hi}");
    assert!(mean(&jumping) > 10.0 * mean(&settled));

    // Crawls: ten times the floor at the end, and still falling.
    let (_, crawling, _) = run("crawls");
    let end = crawling[crawling.len() - 1];
    assert!(
        end > 10.0 * floor && end < crawling[crawling.len() / 2],
        "{end}"
    );

    // Overflows.
    let (overflowing, _, _) = run("overflows");
    assert!(overflowing.run.history.divergence.is_some());
    for r in &runs {
        assert_eq!(
            r.run.history.divergence.is_some(),
            r.behaviour == "overflows"
        );
    }
}

fn curves_of(gradient: Vec<Vec<f64>>) -> plot::curves::RunCurves {
    let epochs = gradient[0].len();
    plot::curves::RunCurves {
        metric: "accuracy".to_string(),
        epoch: (1..=epochs).map(|e| e as f64).collect(),
        train_loss: vec![0.5; epochs],
        test_loss: vec![0.5; epochs],
        train_metric: vec![0.5; epochs],
        test_metric: vec![0.5; epochs],
        update: gradient.clone(),
        gradient,
        weight: Vec::new(),
    }
}

#[test]
fn gradient_flow_flags_vanishing_at_the_threshold_train_warns_at() {
    use backprop::diagnose::VANISHING_RATIO;
    use backprop::plot::curves::{flagged_layers, LayerFlag};
    assert_eq!(VANISHING_RATIO, 1e-3);
    // Layer 1 at 0.5 × 10⁻³ of layer 3 in epoch 2 is vanishing; layer 2 at 2 × 10⁻³ is not
    // (the figure used to flag it, at 10⁻²).
    let curves = curves_of(vec![
        vec![1e-2, 0.5e-3, 1e-2],
        vec![1e-2, 2e-3, 1e-2],
        vec![1e-2, 1.0, 1e-2],
    ]);
    assert_eq!(
        flagged_layers(&curves),
        vec![LayerFlag {
            layer: 0,
            what: "vanishing",
            epochs: (2.0, 2.0)
        }]
    );
    // Below the strongest layer, but later than it: the loss reaches it first, not vanishing.
    assert!(flagged_layers(&curves_of(vec![vec![1.0], vec![1e-5]])).is_empty());
    // One diagnosis per layer: an overflowing layer is exploding, not also vanishing.
    let flags = flagged_layers(&curves_of(vec![vec![1e-9, f64::INFINITY], vec![1.0, 1.0]]));
    assert_eq!(flags.len(), 1);
    assert_eq!((flags[0].layer, flags[0].what), (0, "exploding"));

    // On the figure's own run, the figure flags vanishing from the epoch `train` warns in.
    let options = plot::curves::gradient_flow_options(&quick());
    let run = backprop::run::execute(&options, |_, _| std::ops::ControlFlow::Continue(())).unwrap();
    let mut monitor = backprop::diagnose::Monitor::new();
    let warned = run
        .history
        .epochs
        .iter()
        .find_map(|stats| {
            monitor.observe(stats).into_iter().find_map(|f| match f {
                backprop::diagnose::Finding::VanishingGradients { epoch, .. } => Some(epoch),
                _ => None,
            })
        })
        .expect("train warns of vanishing gradients");
    let flags = flagged_layers(&plot::curves::RunCurves::from_history(&run.history));
    let first = flags
        .iter()
        .filter(|f| f.what == "vanishing")
        .map(|f| f.epochs.0)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(first, warned as f64);
}

#[test]
fn gradient_flow_shows_the_early_epochs_on_a_log_axis_with_the_threshold() {
    let figures = make("gradient-flow");
    let svg = &figures[0].svg;
    let elements = check_svg(&figures[0]);
    assert_eq!(svg.matches(">epoch (log scale)</text>").count(), 2);
    // Log ticks 1 and 10 on both panels, and the axis ends at the last epoch (not at 100).
    assert!(text_ys(svg, "1").len() >= 2);
    assert_eq!(text_ys(svg, "10").len(), 2);
    assert!(svg.contains("10⁻³ × strongest ‖dW‖ (left)"));
    assert!(svg.contains("below 10⁻³ × the strongest (later) layer"));
    assert!(!svg.contains("1/100"));
    // The threshold line: dashed in the flag colour.
    assert!(elements.iter().any(|(n, a)| n == "polyline"
        && a["stroke"] == "#a33"
        && a.contains_key("stroke-dasharray")));
}

#[test]
fn numbers_in_figures_are_short() {
    use backprop::plot::scale::{format_number, power_of_ten};
    assert_eq!(format_number(1.857083241412578e71), "1.86e71");
    assert_eq!(format_number(150000.0), "1.5e5");
    assert_eq!(format_number(0.00025), "2.5e-4");
    assert_eq!(format_number(-2e-7), "-2e-7");
    assert_eq!(format_number(0.0794), "0.0794");
    assert_eq!(format_number(2.5), "2.5");
    assert_eq!(format_number(f64::INFINITY), "∞");
    assert_eq!(format_number(f64::NAN), "NaN");
    assert_eq!(power_of_ten(1e-3), "10⁻³");
    assert_eq!(power_of_ten(1e12), "10¹²");
    assert_eq!(power_of_ten(0.002), "0.002");
    // A run whose loss overflowed: every number on its figures stays short.
    let mut curves = curves_of(vec![vec![1.0, 1e40, 1.857083241412578e71]]);
    curves.train_loss = vec![0.7, 1e35, 1.857083241412578e71];
    curves.test_loss = curves.train_loss.clone();
    for figure in [
        plot::curves::learning_curves(&curves, "diverged"),
        plot::curves::gradient_flow(&curves, "diverged"),
    ] {
        check_svg(&figure);
        let digits = figure
            .svg
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap();
        assert!(digits <= 6, "{}: a number of {digits} digits", figure.file);
    }
}

#[test]
fn the_3d_surface_is_painted_back_to_front_with_the_path_in_its_place() {
    let figures = make("loss-surface");
    let mesh = find(&figures, "loss-surface-3d.svg");
    let elements = check_svg(mesh);
    // The start and the end of the descent are marked and named.
    assert_eq!(count(&elements, "circle", "start"), 1);
    assert_eq!(count(&elements, "circle", "end"), 1);
    assert!(mesh.svg.contains(">θ₀ (start)</text>"));
    // Ticked axes: α and β on the floor, L up the side.
    for label in [
        "α",
        "β",
        "L (log scale)",
        "-0.5",
        "0",
        "0.5",
        "1",
        "1.5",
        "-1",
    ] {
        assert!(
            !text_ys(&mesh.svg, label).is_empty(),
            "no tick or label {label}"
        );
    }
    // The path is cut into pieces painted among the squares, each right after a square (or
    // another piece), not laid over the whole surface at the end.
    let order: Vec<&str> = elements
        .iter()
        .filter_map(
            |(n, a)| match (n.as_str(), a.get("class").map(String::as_str)) {
                ("polyline", Some("path")) => Some("path"),
                ("polygon", _) => Some("square"),
                _ => None,
            },
        )
        .collect();
    let pieces = order.iter().filter(|k| **k == "path").count();
    assert!(pieces > 3, "{pieces} pieces");
    let last_square = order.iter().rposition(|k| *k == "square").unwrap();
    let first_piece = order.iter().position(|k| *k == "path").unwrap();
    assert!(
        first_piece < last_square,
        "the path is painted over every square"
    );
    assert_eq!(order[0], "square", "the floor comes first");
}

#[test]
fn a_rising_series_is_cut_where_it_crosses_the_top() {
    use backprop::plot::curves::clip_at_top;
    let (xs, ys, crossing) = clip_at_top(&[1.0, 2.0, 3.0], &[1.0, 10.0, 1000.0], 100.0).unwrap();
    // Halfway in log y (10 → 100 → 1000), so halfway in log x: √(2·3).
    assert!((crossing - 6f64.sqrt()).abs() < 1e-12, "{crossing}");
    assert_eq!(xs, vec![1.0, 2.0, crossing]);
    assert_eq!(ys, vec![1.0, 10.0, 100.0]);
    // An overflow (∞) is cut at the last finite point's successor, never interpolated.
    let (_, ys, crossing) = clip_at_top(&[1.0, 2.0], &[1.0, f64::INFINITY], 100.0).unwrap();
    assert_eq!((ys, crossing), (vec![1.0, 100.0], 2.0));
    assert!(clip_at_top(&[1.0, 2.0], &[1.0, 2.0], 100.0).is_none());
}

#[test]
fn big_networks_memorise_the_noise_and_small_ones_underfit() {
    let full = Settings {
        quick: false,
        ..quick()
    };
    let runs = plot::curves::fitting_runs(&full).unwrap();
    let floor = plot::curves::FITTING_NOISE.powi(2);
    let last = |i: usize| {
        let e = runs[i].1.history.last().unwrap();
        (e.train_loss, e.test_loss.unwrap())
    };
    let (small_train, small_test) = last(0);
    assert!(
        small_train > 2.0 * floor && small_test > 2.0 * floor,
        "1 unit: {small_train} / {small_test}"
    );
    let (big_train, big_test) = last(runs.len() - 1);
    assert!(
        big_train < floor / 3.0,
        "train loss {big_train} not below σ²/3"
    );
    assert!(big_test > floor, "test loss {big_test} below σ²");
    assert!(find(&make("comparisons"), "comparison-fitting.svg")
        .svg
        .contains("15 noisy sine points"));
}

#[test]
fn animations_use_svg_animate_with_one_value_per_frame() {
    let figures = make("animations");
    for figure in &figures {
        let elements = check_svg(figure);
        let animations: Vec<_> = elements.iter().filter(|(n, _)| n == "animate").collect();
        assert!(!animations.is_empty(), "{} does not move", figure.file);
        for (_, attrs) in animations {
            let frames = attrs["values"].split(';').count();
            assert!(frames >= 2, "{}: {frames} frames", figure.file);
        }
        assert!(
            !figure.svg.contains("<script"),
            "{} uses script",
            figure.file
        );
    }
}

#[test]
fn the_same_seed_draws_the_same_bytes() {
    assert_eq!(make("loss-surface"), make("loss-surface"));
}

#[test]
fn unknown_figures_are_usage_errors_with_a_suggestion() {
    let error = plot::make("activation", &quick()).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(error.message().contains("activations"), "{error}");
}

#[test]
fn train_writes_its_figures_and_a_replay_page_and_plot_reads_the_run() {
    let out = std::env::temp_dir().join(format!("backprop-plots-{}", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["train", "xor", "--quiet", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for file in [
        "learning-curves.svg",
        "gradient-flow.svg",
        "decision-boundary.svg",
    ] {
        let svg = std::fs::read_to_string(out.join(file)).unwrap();
        check_svg(&Figure {
            file: file.to_string(),
            svg,
        });
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let elements = parse_xml(&html).unwrap_or_else(|e| panic!("index.html: {e}"));
    // The replay starts before the first update: epoch 0, the untrained network, then at most
    // MAX_FRAMES recorded epochs, ending on the last; the slider spans them all.
    let frames: Vec<&str> = elements
        .iter()
        .filter(|(n, a)| n == "g" && a.get("class").is_some_and(|c| c == "frame"))
        .map(|(_, a)| a["data-epoch"].as_str())
        .collect();
    assert!(frames.len() > 1 && frames.len() <= plot::MAX_FRAMES + 1);
    assert_eq!(frames[0], "epoch 0 of 50: before training");
    assert_eq!(frames[frames.len() - 1], "epoch 50 of 50");
    let slider = elements.iter().find(|(n, _)| n == "input").unwrap();
    assert_eq!(slider.1["max"], (frames.len() - 1).to_string());
    assert_eq!(count(&elements, "input", ""), 1, "one slider");
    // Frame 0 draws the untrained network's train and test loss at epoch 0.
    assert_eq!(count(&elements, "circle", "start"), 2);
    assert!(!html.contains("src=\"http"), "index.html loads something");

    // Without --out, a run's figure goes into the run's own folder.
    let beside = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(["plot", "gradient-flow", "--run", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        beside.status.success(),
        "{}",
        String::from_utf8_lossy(&beside.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&beside.stdout).trim(),
        out.join("gradient-flow.svg").display().to_string()
    );
    // Redrawn from history.csv, which keeps ‖Wˡ‖, it still shows the update-to-weight ratio.
    let redrawn = std::fs::read_to_string(out.join("gradient-flow.svg")).unwrap();
    assert!(redrawn.contains("‖ΔWˡ‖ / ‖Wˡ‖"), "no ratio panel");

    let plots = out.join("plots");
    let drawn = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args([
            "plot",
            "learning-curves",
            "--run",
            out.to_str().unwrap(),
            "--out",
        ])
        .arg(&plots)
        .output()
        .unwrap();
    assert!(
        drawn.status.success(),
        "{}",
        String::from_utf8_lossy(&drawn.stderr)
    );
    let stdout = String::from_utf8_lossy(&drawn.stdout);
    assert!(stdout.trim().ends_with("learning-curves.svg"), "{stdout}");
    let svg = std::fs::read_to_string(plots.join("learning-curves.svg")).unwrap();
    assert!(svg.contains("Learning curves"));
    let _ = std::fs::remove_dir_all(&out);
}

/// CIE lightness L* of a `#rrggbb` colour: 0 black, 100 white.
fn lightness(colour: &str) -> f64 {
    let channel = |i: usize| {
        let c = u8::from_str_radix(&colour[i..i + 2], 16).unwrap() as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let y = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    116.0 * y.cbrt() - 16.0
}

#[test]
fn the_probability_shading_is_centred_on_one_half() {
    use backprop::plot::maps::prediction_colour;
    let blue_minus_red = |c: &str| {
        let channel = |i: usize| u8::from_str_radix(&c[i..i + 2], 16).unwrap() as f64;
        channel(5) - channel(1)
    };
    for i in 0..500 {
        let d = (i as f64 + 0.5) / 1000.0;
        let (below, above) = (
            prediction_colour(0.5 - d, true),
            prediction_colour(0.5 + d, true),
        );
        // Equally pale at the same distance from 0.5 on either side…
        let (l_below, l_above) = (lightness(&below), lightness(&above));
        assert!(
            (l_below - l_above).abs() < 1.0,
            "{d}: {l_below} against {l_above}"
        );
        // …blue below 0.5 and orange above: the hue turns exactly on the P = 0.5 line.
        assert!(
            blue_minus_red(&below) > 0.0 && blue_minus_red(&above) < 0.0,
            "{d}"
        );
    }
    // The palest colour on each side is the band that touches 0.5.
    let palest = lightness(&prediction_colour(0.45, true));
    for p in [0.05, 0.15, 0.25, 0.35, 0.65, 0.75, 0.85, 0.95] {
        assert!(lightness(&prediction_colour(p, true)) < palest - 2.0, "{p}");
    }
    // XOR's figure shows both palest bands beside its boundary, and the key.
    let figures = make("decision-boundary");
    let xor = find(&figures, "decision-boundary-xor.svg");
    for p in [0.45, 0.55] {
        let fill = format!("fill=\"{}\"", prediction_colour(p, true));
        assert!(xor.svg.matches(&fill).count() > 2, "no band around {p}");
    }
    assert!(xor.svg.contains(">P(y = 1)</text>"));
}

#[test]
fn the_boundary_animation_starts_untrained_and_draws_p_one_half() {
    let figures = make("animations");
    let figure = find(&figures, "animation-decision-boundary.svg");
    let elements = check_svg(figure);
    let frames = elements
        .iter()
        .find(|(n, a)| n == "animate" && a["attributeName"] == "fill")
        .map(|(_, a)| a["values"].split(';').count())
        .unwrap();
    // Quick mode: 50 epochs in 5 snapshots, after epoch 0.
    assert_eq!(frames, 1 + 5);
    assert!(figure.svg.contains(">epoch 0 of 50: untrained</text>"));
    assert!(figure.svg.contains(">epoch 50 of 50</text>"));
    // One frame group per frame for the P = 0.5 line and one for the label, the first visible.
    assert_eq!(count(&elements, "g", "frame"), 2 * frames);
    let lines = elements
        .iter()
        .filter(|(n, a)| n == "path" && a["stroke"] == "#222" && a["stroke-width"] == "1.8")
        .count();
    assert_eq!(lines, frames, "a P = 0.5 line per frame");
    assert!(figure.svg.contains(">P = 0.5</text>"));
}

#[test]
fn comparisons_show_what_compare_runs_by_default() {
    use backprop::compare::{run_comparison, Study};
    let figures = make("comparisons");
    let base = plot::curves::comparison_base(&quick());
    assert_eq!(base.data_name(), "circles");
    for (name, study) in Study::ALL {
        let figure = find(&figures, &format!("comparison-{name}.svg"));
        check_svg(figure);
        assert!(
            figure.svg.contains(" on circles (backprop compare "),
            "{name}"
        );
        for (label, _) in study.variants(&base) {
            assert!(
                figure.svg.contains(&format!(">{label}")),
                "{name}: no curve for {label}"
            );
        }
    }
    let activations = find(&figures, "comparison-activations.svg");
    assert!(activations.svg.contains(">leaky_relu</text>"));
    let optimizers = find(&figures, "comparison-optimizers.svg");
    assert!(optimizers.svg.contains(">nesterov η = 0.1</text>"));
    // The runs are compare's own: the same histories, bit for bit, as 'backprop compare
    // optimizers' (circles, seed 42).
    let full = Settings {
        quick: false,
        ..quick()
    };
    let drawn = plot::curves::comparison_runs(Study::Optimizers, &full).unwrap();
    let compared = run_comparison(Study::Optimizers, "circles", 42).unwrap();
    assert_eq!(drawn.variants.len(), compared.variants.len());
    for (a, b) in drawn.variants.iter().zip(&compared.variants) {
        assert_eq!(a.label, b.label);
        assert_eq!(a.history, b.history);
    }
}

#[test]
fn the_weights_figure_names_the_overlap_and_says_what_the_data_show() {
    let figures = make("weights");
    let svg = &figures[0].svg;
    let elements = check_svg(&figures[0]);
    let [before, after, both] = plot::curves::weight_bar_colours();
    for (fill, label) in [
        (&before, "before training"),
        (&after, "after training"),
        (&both, "both (the histograms overlap)"),
    ] {
        assert!(
            svg.contains(&format!(">{label}</text>")),
            "no legend for {label}"
        );
        let bars = elements
            .iter()
            .filter(|(n, a)| {
                n == "rect" && a.get("class").is_some_and(|c| c == "bar") && a["fill"] == *fill
            })
            .count();
        assert!(bars > 0, "no bar in the colour of {label}");
    }
    // He initialisation: std √(2/n_in), so W¹ (2 inputs) starts widest, as the subtitle says.
    assert!(svg.contains("W¹ (2 inputs per unit) starts widest"));
    assert!(!svg.contains("initialised narrow"));
    let spread = |text: &str| -> Vec<f64> {
        text.split("standard deviation ")
            .skip(1)
            .map(|t| t.split(' ').next().unwrap().parse().unwrap())
            .collect()
    };
    let before_std = spread(svg);
    assert_eq!(before_std.len(), 3);
    assert!(
        (before_std[0] - 1.0).abs() < 0.15,
        "W¹ starts at std {}",
        before_std[0]
    );
    assert!(before_std[0] > before_std[1] && before_std[0] > before_std[2]);
}

#[test]
fn a_history_csv_gives_the_curves_it_has_columns_for() {
    use backprop::plot::curves::RunCurves;
    let plain = "epoch,lr,train_loss,test_loss,train_mse,test_mse,grad_norm_1,update_norm_1\n\
                 1,0.1,0.5,0.6,0.5,0.6,2,0.2\n2,0.1,0.25,0.3,0.25,0.3,1,0.1\n";
    let curves = RunCurves::from_csv(plain, "history.csv").unwrap();
    assert_eq!(curves.metric, "mse");
    assert_eq!(curves.train_loss, vec![0.5, 0.25]);
    assert_eq!(curves.gradient, vec![vec![2.0, 1.0]]);
    assert!(curves.weight.is_empty());
    // With ‖Wˡ‖ columns, the gradient-flow figure can draw the update-to-weight ratio.
    let with_weights = "epoch,train_loss,test_loss,grad_norm_1,update_norm_1,weight_norm_1\n\
                        1,0.5,0.6,2,0.2,4\n";
    let curves = RunCurves::from_csv(with_weights, "history.csv").unwrap();
    assert_eq!(curves.weight, vec![vec![4.0]]);
    let figure = plot::curves::gradient_flow(&curves, "run");
    assert!(figure.svg.contains("update-to-weight ratio"));
    assert!(RunCurves::from_csv("a,b\n1,2\n", "x.csv").is_err());
}

#[test]
fn nice_ticks_are_one_two_or_five_times_a_power_of_ten() {
    use backprop::plot::scale::nice_ticks;
    assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    assert_eq!(
        nice_ticks(-3.7, 9.2, 7),
        vec![-2.0, 0.0, 2.0, 4.0, 6.0, 8.0]
    );
    assert_eq!(nice_ticks(0.0, 1000.0, 4), vec![0.0, 500.0, 1000.0]);
    // 12.9 / 6 = 2.15 wants a step of 5: a step of 2 would cut 6.45 intervals, more than asked.
    assert_eq!(nice_ticks(-3.7, 9.2, 6), vec![0.0, 5.0]);
}

#[test]
fn scales_map_ends_to_ends_and_refuse_what_cannot_be_drawn() {
    use backprop::plot::scale::Scale;
    let linear = Scale::linear((0.0, 10.0), (100.0, 300.0));
    assert_eq!(linear.map(0.0), 100.0);
    assert_eq!(linear.map(5.0), 200.0);
    // Far outside: clamped 5 % beyond the range, not drawn off the page.
    assert_eq!(linear.map(1e300), 310.0);
    assert!(linear.map(f64::NAN).is_nan());
    let log = Scale::log((0.01, 100.0), (0.0, 400.0));
    assert_eq!(log.map(1.0), 200.0);
    assert!(log.map(0.0).is_nan());
    assert_eq!(log.ticks(4), vec![0.01, 0.1, 1.0, 10.0, 100.0]);
}

#[test]
fn the_svg_writer_escapes_text_rounds_numbers_and_drops_non_finite_shapes() {
    use backprop::plot::svg::{escape, num, Svg, TextStyle};
    assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    assert_eq!(num(1.23456), "1.23");
    assert_eq!(num(-0.001), "0");
    assert_eq!(num(2.0), "2");
    let mut svg = Svg::new(100.0, 100.0);
    svg.circle((f64::NAN, 1.0), 2.0, "#000", "none", "dropped");
    svg.polyline(
        &[
            (0.0, 0.0),
            (1.0, 1.0),
            (f64::INFINITY, 2.0),
            (3.0, 3.0),
            (4.0, 4.0),
        ],
        "#000",
        1.0,
        "",
    );
    svg.text((5.0, 5.0), "x < y", TextStyle::new(12.0));
    let text = svg.finish();
    assert!(!text.contains("dropped"));
    // The infinite point splits the line in two.
    assert_eq!(text.matches("<polyline").count(), 2);
    assert!(text.contains("x &lt; y"));
    parse_xml(&text).unwrap();
    // A point with no finite neighbour is a dot, not nothing.
    let mut svg = Svg::new(100.0, 100.0);
    svg.polyline(&[(1.0, 1.0), (f64::NAN, 2.0), (3.0, 3.0)], "#000", 2.0, "");
    let text = svg.finish();
    assert_eq!(text.matches("<polyline").count(), 0);
    assert_eq!(text.matches("class=\"point\"").count(), 2);
}

#[test]
fn marching_squares_finds_a_straight_level_line() {
    use backprop::plot::field::{contour, Grid};
    // f(x, y) = x: the level 0.5 is the vertical line x = 0.5.
    let grid = Grid::from_fn((0.0, 1.0), (0.0, 1.0), (11, 11), |x, _| x);
    let segments = contour(&grid, 0.5);
    assert_eq!(segments.len(), 10);
    for (a, b) in segments {
        assert!((a.0 - 0.5).abs() < 1e-12 && (b.0 - 0.5).abs() < 1e-12);
    }
}

#[test]
fn xmllint_accepts_the_figures_where_it_is_installed() {
    let Ok(probe) = Command::new("xmllint").arg("--version").output() else {
        eprintln!("xmllint is not installed: skipped");
        return;
    };
    assert!(probe.status.success());
    let out = std::env::temp_dir().join(format!("backprop-xmllint-{}", std::process::id()));
    let figures = make("decision-boundary");
    let paths = plot::write(&figures, &out).unwrap();
    let lint = Command::new("xmllint")
        .arg("--noout")
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn initialisation_draws_every_layer_and_marks_the_zeros() {
    let figures = make("initialisation");
    let figure = find(&figures, "initialisation.svg");
    let elements = check_svg(figure);
    // Four panels of eleven layers (0 … 10). Four scales draw a dot at every layer; all-zero
    // weights only at the input (forward) or the top (backward), and a cross at the ten zeros.
    assert_eq!(count(&elements, "circle", "layer"), 4 * (4 * 11 + 1));
    let cross_strokes = elements
        .iter()
        .filter(|(n, a)| n == "line" && a.get("stroke").is_some_and(|s| s == "#333333"))
        .count();
    // Two strokes per cross (forty zeros and the legend's), and the legend's line.
    assert_eq!(cross_strokes, 2 * (4 * 10 + 1) + 1);
    for text in [
        "ReLU, forward: mean square of Aˡ",
        "tanh, backward: mean square of dAˡ",
        "He: σ = √(2/n_in)",
        "Glorot: σ = √(2/(n_in + n_out))",
        "all weights 0",
        "exactly 0 (below the break)",
        "½·n_in·σ² = 128",
    ] {
        assert!(figure.svg.contains(text), "no '{text}'");
    }
}
