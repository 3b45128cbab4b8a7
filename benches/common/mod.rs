//! The benchmarks' shared timing: warm up, samples of a millisecond or more, median and spread.
//!
//! No framework: a `[[bench]]` with `harness = false` is a plain program, and this module is all
//! the measuring it needs.
//!
//! ```text
//! warm-up     run the case until 50 ms have passed (caches, branch predictors, lazy buffers)
//! calibrate   r = repetitions per sample so that one sample takes ≥ 2 ms
//! sample      time r repetitions, divide by r; repeat until `samples` are taken or the case's
//!             time budget is spent (at least 5 samples)
//! report      the median (robust to the other programs sharing the machine) and the spread
//!             from the 10th to the 90th percentile
//! ```
//!
//! Inputs and results go through `std::hint::black_box` in the benchmarks, so the compiler can
//! neither precompute the work nor skip it.

use std::time::{Duration, Instant};

/// The time of one repetition of a case.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// The median over the samples, in seconds.
    pub median: f64,
    /// The 10th percentile, in seconds.
    pub low: f64,
    /// The 90th percentile, in seconds.
    pub high: f64,
    /// Number of samples taken.
    pub samples: usize,
}

impl Timing {
    /// `±x%`: half the 10–90 % spread relative to the median.
    pub fn spread_percent(&self) -> f64 {
        50.0 * (self.high - self.low) / self.median
    }
}

/// Smallest duration of one sample.
const MIN_SAMPLE: Duration = Duration::from_millis(2);
/// Warm-up time before sampling.
const WARM_UP: Duration = Duration::from_millis(50);
/// At least this many samples, whatever the budget.
const MIN_SAMPLES: usize = 5;

/// Times `case` (one repetition per call): up to `samples` samples, stopping early once `budget`
/// is spent.
pub fn measure(samples: usize, budget: Duration, mut case: impl FnMut()) -> Timing {
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < WARM_UP || calls == 0 {
        case();
        calls += 1;
    }
    let one = start.elapsed().as_secs_f64() / f64::from(calls);
    let repetitions = ((MIN_SAMPLE.as_secs_f64() / one).ceil() as usize).max(1);
    let mut times = Vec::with_capacity(samples);
    let sampling = Instant::now();
    while times.len() < samples.max(MIN_SAMPLES)
        && (times.len() < MIN_SAMPLES || sampling.elapsed() < budget)
    {
        let t = Instant::now();
        for _ in 0..repetitions {
            case();
        }
        times.push(t.elapsed().as_secs_f64() / repetitions as f64);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Timing {
        median: at(0.5),
        low: at(0.1),
        high: at(0.9),
        samples: times.len(),
    }
}

/// The command line's words other than the flags cargo passes (`--bench`): a filter on case
/// names, so that `cargo bench --bench matmul -- 256` runs only the cases that mention 256.
pub fn filter() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect()
}

/// Whether the case named `name` passes the filter (every case does when there is none).
pub fn selected(filter: &[String], name: &str) -> bool {
    filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()))
}
