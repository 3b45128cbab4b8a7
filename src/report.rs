//! `index.html`: a run's report in one self-contained file, with a training replay.
//!
//! ```text
//! summary    the settings and the final losses and metrics, as a table
//! figures    train's SVG figures, inline (no external files: the page can be mailed)
//! replay     a slider over epoch 0 (the untrained network) and the recorded epochs (at most
//!            plot::MAX_FRAMES more); each position shows that epoch's decision boundary (or
//!            fit), the losses so far and ‖dWˡ‖ per layer
//! ```
//!
//! Every frame is drawn in advance as a hidden SVG group; six lines of inline script show the
//! one the slider points at. Without script the last epoch shows.

use crate::data::Task;
use crate::error::Result;
use crate::files;
use crate::json::format_number;
use crate::network::{superscript, Network};
use crate::optim::Schedule;
use crate::plot::axes::{self, Panel};
use crate::plot::curves::RunCurves;
use crate::plot::svg::{escape, Svg};
use crate::plot::{colour, field, maps, scale, Figure, Recorder};
use crate::run::{Run, Scores};
use crate::text_plot::readable;
use crate::train::{self, EpochStats};
use std::path::{Path, PathBuf};

/// The page's style: readable type, figures scaled to the window.
const STYLE: &str = "body{font-family:Helvetica,Arial,sans-serif;max-width:1040px;margin:24px auto;padding:0 12px;color:#222}\
table{border-collapse:collapse;margin:12px 0}td,th{border-bottom:1px solid #ddd;padding:4px 14px;text-align:left}\
svg{max-width:100%;height:auto;display:block;margin:12px 0}\
#controls{display:flex;gap:14px;align-items:center}#slider{flex:1}";

/// Shows the frame the slider points at.
const SCRIPT: &str = "const frames=document.querySelectorAll('#replay .frame'),slider=document.getElementById('slider'),label=document.getElementById('epoch');\n\
function show(){if(!frames.length)return;frames.forEach((g,i)=>g.style.display=i==slider.value?'':'none');label.textContent=frames[slider.value].dataset.epoch;}\n\
slider.oninput=show;show();";

/// The summary rows: (what, value).
///
/// The losses and metrics are the trained network's (`scores`, measured once by the caller, as
/// `train` prints them and `summary.json` holds them). The history's last running loss, the
/// mean over the last epoch's batches taken while the weights still moved, is a different number
/// and gets its own row under its own name. Numbers read as `text_plot::readable` writes them.
fn summary_rows(run: &Run, scores: &Scores) -> Vec<(String, String)> {
    let o = &run.options;
    let schedule = match o.schedule {
        Schedule::Constant => String::new(),
        Schedule::Exponential { rate } => format!(" × {} per epoch", format_number(rate)),
        Schedule::Step { every, factor } => {
            format!(" × {} every {every} epochs", format_number(factor))
        }
    };
    let mut rows = vec![
        ("task".to_string(), o.data_name()),
        ("network".to_string(), run.network.description()),
        (
            "optimizer".to_string(),
            format!("{} (η = {}{schedule})", o.rule.name(), format_number(o.lr)),
        ),
        (
            "epochs".to_string(),
            if run.history.epochs.len() == o.epochs {
                o.epochs.to_string()
            } else {
                format!("{} of {}", run.history.epochs.len(), o.epochs)
            },
        ),
        (
            "batch size".to_string(),
            if o.batch_size == 0 {
                "full batch".to_string()
            } else {
                o.batch_size.to_string()
            },
        ),
        ("seed".to_string(), o.seed.to_string()),
        (
            "training time".to_string(),
            format!("{:.3} s", run.train_seconds),
        ),
    ];
    let metric = run.history.metric.name();
    let show = |v: f64| readable(v, 4);
    rows.push(("train loss".to_string(), show(scores.train.0)));
    rows.push(("test loss".to_string(), show(scores.test.0)));
    rows.push((format!("train {metric}"), show(scores.train.1)));
    rows.push((format!("test {metric}"), show(scores.test.1)));
    if let Some(last) = run.history.last() {
        rows.push((
            format!("running train loss in epoch {}", last.epoch),
            format!(
                "{} (the mean over the epoch's batches, each taken before its update)",
                show(last.train_loss)
            ),
        ));
    }
    if let Some(d) = &run.history.divergence {
        rows.push((
            "diverged".to_string(),
            format!("epoch {}: {}", d.epoch, d.culprit),
        ));
    }
    rows
}

/// The replay: one hidden SVG group per frame, `(epoch, network after that epoch)`, the first
/// normally epoch 0 (see [`Recorder::frames`]).
///
/// The losses drawn start at epoch 0 with the untrained network's loss on the training and test
/// rows, so the first frame shows where training starts.
pub fn replay_svg(run: &Run, frames: &[(usize, &Network)]) -> String {
    let mut svg = Svg::new(1000.0, 360.0);
    let mut curves = RunCurves::from_history(&run.history);
    let mut untrained = run.initial.clone();
    let start_train = train::evaluate(&mut untrained, &run.data.train).0;
    let start_test = if run.data.test.is_empty() {
        f64::NAN
    } else {
        train::evaluate(&mut untrained, &run.data.test).0
    };
    curves.epoch.insert(0, 0.0);
    curves.train_loss.insert(0, start_train);
    curves.test_loss.insert(0, start_test);
    let train = &run.data.train;
    let picture = match (train.task, train.x.cols()) {
        (Task::Binary | Task::Multiclass { .. }, 2) => Some(true),
        (Task::Regression, 1) => Some(false),
        _ => None,
    };
    // Left: the input space. Its panel is fixed so that frames line up.
    let data = [&run.data.train, &run.data.test];
    let rect = (60.0, 40.0, 260.0, 260.0);
    let input_panel = match picture {
        Some(true) => {
            let bounds = maps::input_box(&data);
            Some(Panel::new(rect, bounds.0, bounds.1, (false, false)))
        }
        Some(false) => {
            let x =
                scale::extent((0..train.len()).map(|i| train.x.get(i, 0))).unwrap_or((-1.0, 1.0));
            let y = scale::extent(train.y.as_slice().iter().copied()).unwrap_or((-1.0, 1.0));
            Some(Panel::new(rect, x, (y.0 - 0.3, y.1 + 0.3), (false, false)))
        }
        None => None,
    };
    // Middle: losses so far on the whole run's axes, from epoch 0.
    let epochs = run.history.epochs.len().max(1) as f64;
    let losses = scale::positive_extent(curves.train_loss.iter().chain(&curves.test_loss).copied())
        .unwrap_or((1e-3, 1.0));
    let loss_panel = Panel::new(
        (420.0, 40.0, 250.0, 260.0),
        (0.0, epochs),
        losses,
        (false, true),
    );
    loss_panel.draw_axes(&mut svg, "epoch", "loss (log scale)", "losses so far");
    // Right: ‖dWˡ‖ per layer as bars on a log scale.
    let layers = curves.gradient.len();
    let norms =
        scale::positive_extent(curves.gradient.iter().flatten().copied()).unwrap_or((1e-4, 1.0));
    let mut bar_panel = Panel::new(
        (770.0, 40.0, 200.0, 260.0),
        (0.5, layers as f64 + 0.5),
        norms,
        (false, true),
    );
    bar_panel.integer_x = true;
    bar_panel.draw_axes(
        &mut svg,
        "dense layer l",
        "‖dWˡ‖ (log scale)",
        "gradient per layer",
    );
    match (picture, &input_panel) {
        (Some(true), Some(p)) => p.draw_axes(&mut svg, "x₁", "x₂", "prediction"),
        (Some(false), Some(p)) => p.draw_axes(&mut svg, "x", "y", "fit"),
        _ => svg.text(
            (190.0, 170.0),
            &format!("{} features: no picture of the input space", train.x.cols()),
            axes::SMALL.middle(),
        ),
    }
    let last = frames.len().saturating_sub(1);
    for (k, (epoch, network)) in frames.iter().enumerate() {
        let style = if k == last { "" } else { "display:none" };
        let mut label = format!("epoch {epoch} of {}", run.history.epochs.len());
        if *epoch == 0 {
            label.push_str(": before training");
        }
        svg.open(
            "g",
            &[
                ("class", "frame".into()),
                ("data-epoch", label.into()),
                ("style", style.into()),
            ],
        );
        let mut network = (*network).clone();
        match (picture, &input_panel) {
            (Some(true), Some(p)) => {
                let grid = maps::prediction_grid(&mut network, (p.x.domain, p.y.domain), 20);
                let binary = train.task == Task::Binary;
                field::draw_cells(&mut svg, &grid, p, |v| maps::prediction_colour(v, binary));
                if binary {
                    let line = field::contour(&grid, 0.5);
                    field::draw_contour(&mut svg, p, &line, "#222", 1.5);
                }
            }
            (Some(false), Some(p)) => {
                let xs: Vec<f64> = (0..=120)
                    .map(|i| p.x.domain.0 + (p.x.domain.1 - p.x.domain.0) * i as f64 / 120.0)
                    .collect();
                let y_hat =
                    network.predict(&crate::matrix::Matrix::from_vec(xs.len(), 1, xs.clone()));
                p.curve(&mut svg, &xs, y_hat.as_slice(), colour::line(1), "");
            }
            _ => {}
        }
        // Epochs 0 ..= epoch: the start and every epoch so far.
        let seen = (*epoch + 1).min(curves.epoch.len());
        let stride = seen.div_ceil(100).max(1);
        let pick = |v: &[f64]| -> Vec<f64> { v[..seen].iter().step_by(stride).copied().collect() };
        loss_panel.curve(
            &mut svg,
            &pick(&curves.epoch),
            &pick(&curves.train_loss),
            colour::line(0),
            "",
        );
        loss_panel.curve(
            &mut svg,
            &pick(&curves.epoch),
            &pick(&curves.test_loss),
            colour::line(1),
            "6 4",
        );
        // The start as a dot (a curve of one point draws nothing).
        if *epoch == 0 {
            for (loss, c) in [
                (start_train, colour::line(0)),
                (start_test, colour::line(1)),
            ] {
                svg.circle(loss_panel.at(0.0, loss), 3.5, c, "#fff", "start");
            }
        }
        // Epoch 0 shows the gradient of epoch 1, whose first step starts from the untrained
        // network.
        if let Some(stats) = run.history.epochs.get(epoch.saturating_sub(1)) {
            bars(&mut svg, &bar_panel, stats);
        }
        svg.close();
    }
    if let (Some(true), Some(p)) = (picture, &input_panel) {
        maps::draw_points(&mut svg, p, &run.data.train, None);
    }
    if let (Some(false), Some(p)) = (picture, &input_panel) {
        for i in 0..train.len() {
            svg.circle(
                p.at(train.x.get(i, 0), train.y.get(i, 0)),
                1.8,
                "#999",
                "none",
                "sample",
            );
        }
    }
    axes::legend(
        &mut svg,
        (560.0, 48.0),
        &[
            (
                "train".to_string(),
                colour::line(0).to_string(),
                axes::Mark::Line,
            ),
            (
                "test".to_string(),
                colour::line(1).to_string(),
                axes::Mark::Dashed,
            ),
        ],
    );
    svg.finish()
}

fn bars(svg: &mut Svg, panel: &Panel, stats: &EpochStats) {
    for (l, g) in stats.gradient_norms.iter().enumerate() {
        let x = (l + 1) as f64;
        let (x0, top) = panel.at(x - 0.3, *g);
        let (x1, _) = panel.at(x + 0.3, *g);
        let bottom = panel.top + panel.height;
        svg.rect(x0, top, x1 - x0, bottom - top, colour::line(l));
        svg.text(
            ((x0 + x1) / 2.0, top - 4.0),
            &format!("W{}", superscript(l + 1)),
            axes::SMALL.middle(),
        );
    }
}

/// The whole page.
pub fn index_html(run: &Run, scores: &Scores, recorder: &Recorder, figures: &[Figure]) -> String {
    let mut html = String::new();
    let name = escape(&run.options.data_name());
    html.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>backprop: {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>backprop: {name}</h1>\n<table>\n"
    ));
    for (key, value) in summary_rows(run, scores) {
        html.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape(&key),
            escape(&value)
        ));
    }
    html.push_str("</table>\n<h2>Training replay</h2>\n<p>Drag the slider to see an epoch: what the network predicted, the losses up to then, and how strongly the loss pulled on each layer's weights.</p>\n");
    let frames = recorder.frames(&run.initial);
    html.push_str(&format!(
        "<div id=\"controls\"><input id=\"slider\" type=\"range\" min=\"0\" max=\"{}\" value=\"{}\"/><span id=\"epoch\"></span></div>\n<div id=\"replay\">\n",
        frames.len().saturating_sub(1),
        frames.len().saturating_sub(1)
    ));
    html.push_str(&replay_svg(run, &frames));
    html.push_str("</div>\n<h2>Figures</h2>\n");
    for figure in figures {
        html.push_str(&format!("<h3>{}</h3>\n", escape(&figure.file)));
        html.push_str(&figure.svg);
    }
    html.push_str(&format!(
        "<script>\n{SCRIPT}\n</script>\n</body>\n</html>\n"
    ));
    html
}

/// Writes `folder/index.html` for a finished run and returns its path.
///
/// # Errors
/// If the file cannot be written.
pub fn write_index_html(
    run: &Run,
    scores: &Scores,
    recorder: &Recorder,
    figures: &[Figure],
    folder: &Path,
) -> Result<PathBuf> {
    let path = folder.join("index.html");
    files::write_atomic(&path, index_html(run, scores, recorder, figures).as_bytes())?;
    Ok(path)
}

/// Everything `train` writes besides its history and summary: the run's figures and
/// `index.html`, for a finished run or a diverged one (its figures then end at the divergence).
/// `scores` are the trained network's numbers ([`Run::scores`]). Returns the paths written.
///
/// # Errors
/// If a file cannot be written.
pub fn write_run_report(
    run: &Run,
    scores: &Scores,
    recorder: &Recorder,
    folder: &Path,
) -> Result<Vec<PathBuf>> {
    let figures = crate::plot::run_figures(run);
    let mut paths = crate::plot::write(&figures, folder)?;
    paths.push(write_index_html(run, scores, recorder, &figures, folder)?);
    Ok(paths)
}
