//! The entry-by-entry passes, on wide vectors: an activation and its derivative, softmax,
//! cross-entropy's sum of logarithms, and the optimizer's update.
//!
//! Each takes the chapter's formula as a closure (`f`, `f′`, a loss term, an update rule) and
//! only arranges the loop around it, so no formula is written here. The arrangements:
//!
//! ```text
//! map, times_derivative   the plain loop, compiled for the widest vectors (simd.rs)
//! softmax_rows            every row's exponentials in one run, then each row summed in order
//! sum_of_terms            64 terms at a time into a small array on wide vectors, then added
//!                         one by one in entry order
//! update                  the steps ΔW on wide vectors, then ‖ΔW‖² summed in order
//! ```
//!
//! A running sum must be added in order to keep its bits, and a loop that carries one runs a
//! single entry at a time; each arrangement moves the independent work (exponentials,
//! logarithms, the divisions and square roots of Adam) out of that loop onto vector lanes, and
//! keeps the sum itself in its original order. Every entry sees exactly the operations of the
//! plain loop, so the bits are the same (the tests compare them).

use super::simd::on_widest_vectors;
use std::cell::RefCell;

/// `a[i] ← f(z[i])` for every entry, on the widest vectors.
#[inline(always)]
pub(super) fn map(z: &[f64], a: &mut [f64], f: impl Fn(f64) -> f64 + Copy) {
    on_widest_vectors(
        #[inline(always)]
        || {
            // A local copy: in registers, not read through a pointer per entry (see `update`).
            #[allow(clippy::redundant_locals)]
            let f = f;
            for (a, &z) in a.iter_mut().zip(z) {
                *a = f(z);
            }
        },
    )
}

/// `dz[i] ← da[i]·f′(z[i], a[i])` for every entry, on the widest vectors.
#[inline(always)]
pub(super) fn times_derivative(
    dz: &mut [f64],
    da: &[f64],
    (z, a): (&[f64], &[f64]),
    derivative: impl Fn(f64, f64) -> f64 + Copy,
) {
    on_widest_vectors(
        #[inline(always)]
        || {
            #[allow(clippy::redundant_locals)] // a local copy, in registers (see `update`)
            let derivative = derivative;
            for ((dz, &da), (&z, &a)) in dz.iter_mut().zip(da).zip(z.iter().zip(a)) {
                *dz = da * derivative(z, a);
            }
        },
    )
}

/// Softmax of each row of `k` entries of `z` into the same row of `s`, the bits of the plain
/// row-by-row form.
///
/// Row by row, each exponential is added to the row's total as soon as it is computed; that
/// running sum must be added in order, which keeps the compiler from computing several
/// exponentials at once. Here the shifted entries `z − max` of all the rows are computed first,
/// then all the exponentials in one run, independently of one another, on vector lanes; then
/// each row's are summed in the same order `e₀ + e₁ + …` and divided by the total.
pub(super) fn softmax_rows(z: &[f64], s: &mut [f64], k: usize, exp: impl Fn(f64) -> f64) {
    on_widest_vectors(
        #[inline(always)]
        || {
            for (z, s) in z.chunks_exact(k).zip(s.chunks_exact_mut(k)) {
                let max = z.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                for (s, &z) in s.iter_mut().zip(z) {
                    *s = z - max;
                }
            }
            // All the exponentials in one run, so that no vector lane idles at a row's end.
            for s in s.iter_mut() {
                *s = exp(*s);
            }
            for s in s.chunks_exact_mut(k) {
                let total = s.iter().fold(0.0, |total, &e| total + e);
                for s in s.iter_mut() {
                    *s /= total;
                }
            }
        },
    )
}

/// `Σ_i term(p[i], t[i])`, added in the order i = 0, 1, 2, … from 0: the terms are computed 64
/// at a time into a small array on the widest vectors, then added to the running sum one by one.
pub(super) fn sum_of_terms(p: &[f64], t: &[f64], term: impl Fn(f64, f64) -> f64 + Copy) -> f64 {
    const BLOCK: usize = 64;
    let mut total = 0.0;
    for (p_block, t_block) in p.chunks(BLOCK).zip(t.chunks(BLOCK)) {
        let mut terms = [0.0; BLOCK];
        let terms = &mut terms[..p_block.len()];
        on_widest_vectors(
            #[inline(always)]
            || {
                #[allow(clippy::redundant_locals)] // a local copy, in registers (see `update`)
                let term = term;
                for ((term_i, &p), &t) in terms.iter_mut().zip(p_block).zip(t_block) {
                    *term_i = term(p, t);
                }
            },
        );
        for &term_i in terms.iter() {
            total += term_i;
        }
    }
    total
}

thread_local! {
    /// The steps ΔW of the tensor being updated (see [`update`]), kept between calls so that
    /// training allocates them once.
    static STEPS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// `W[e] ← W[e] − ΔW[e]` with `ΔW[e] = step(W[e], dW[e], s1[e], s2[e])` for every entry (`step`
/// also updates the rule's state `s1`, `s2`), and returns `‖ΔW‖`, its squares added in the
/// order e = 0, 1, 2, … from 0.
///
/// A loop that carries the sum runs one entry at a time: for Adam, three divisions and a square
/// root each, one after another. Here a first pass computes every step, updates `W` and keeps
/// the steps; its entries are independent, so it runs on the widest vectors. A second pass adds
/// the squares in order.
#[inline(always)]
pub(super) fn update(
    w: &mut [f64],
    dw: &[f64],
    (s1, s2): (&mut [f64], &mut [f64]),
    step: impl Fn(f64, f64, &mut f64, &mut f64) -> f64 + Copy,
) -> f64 {
    STEPS.with(|steps| {
        let steps = &mut *steps.borrow_mut();
        steps.clear();
        steps.resize(w.len(), 0.0);
        on_widest_vectors(
            #[inline(always)]
            || {
                // A copy of the rule's constants (the closure's captures) held here, in
                // registers, rather than read through a pointer on every entry: the compiler
                // cannot tell that the stores below do not change them. (Not redundant: it
                // moves the captured closure into this function's own frame.)
                #[allow(clippy::redundant_locals)]
                let step = step;
                let states = s1.iter_mut().zip(s2.iter_mut());
                let entries = w.iter_mut().zip(dw).zip(states);
                for (delta, ((w, &dw), (s1, s2))) in steps.iter_mut().zip(entries) {
                    *delta = step(*w, dw, s1, s2);
                    *w -= *delta;
                }
            },
        );
        let mut update_squared = 0.0;
        for &delta in steps.iter() {
            update_squared += delta * delta;
        }
        update_squared.sqrt()
    })
}
