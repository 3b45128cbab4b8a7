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

#[test]
fn learning_rates_draw_the_diverging_run_until_it_leaves_the_chart() {
    let figures = make("learning-rates");
    let elements = check_svg(&figures[0]);
    let rates = plot::curves::LEARNING_RATES;
    // Every rate draws a loss curve and its weights, the diverging one included.
    for (k, (lr, behaviour)) in rates.iter().enumerate() {
        let stroke = plot::colour::line(k);
        let lines = elements
            .iter()
            .filter(|(n, a)| n == "polyline" && a.get("stroke").is_some_and(|s| s == stroke))
            .count();
        assert!(lines >= 3, "η = {lr} draws {lines} lines");
        assert!(figures[0].svg.contains(&format!("η = {lr} {behaviour}")));
    }
    let (lr, _) = rates[rates.len() - 1];
    for note in [
        format!("η = {lr}: L &gt; 100 from epoch 3"),
        "overflows".into(),
    ] {
        assert!(figures[0].svg.contains(&note), "no '{note}'");
    }
    // The diverging rate's marker at the top edge of the loss panel.
    assert_eq!(count(&elements, "polygon", ""), 1);
    assert!(figures[0].svg.contains("W¹₁₂ (dashed)"));
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
    let frames = count(&elements, "g", "frame");
    assert!(frames > 0 && frames <= plot::MAX_FRAMES, "{frames} frames");
    assert_eq!(count(&elements, "input", ""), 1, "one slider");
    assert!(!html.contains("src=\"http"), "index.html loads something");

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
