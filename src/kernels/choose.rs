//! Which form runs: the switch between the plain and the fast forms, and the sizes from which
//! each fast form pays.
//!
//! ```text
//! BACKPROP_KERNELS=naive   every named operation runs its plain definition, on one thread
//! BACKPROP_KERNELS=fast    (the default) the fast forms: register tiles, the packed product,
//!                          wide vectors, helper threads; the same bits as the plain forms
//!
//! packing_pays(m, k, n)    m·k·n ≥ FMA_THRESHOLD (64³), every side ≥ 4: the packed product of
//!                          gemm/, which fuses multiply and add where the processor can
//! fuses(m, k, n)           packing_pays and the processor has FMA: each c ← c + a·b of the
//!                          product is then one fused multiply-add, rounded once
//! THREADS_THRESHOLD        m·k·n ≥ 2²⁰: a packed product is shared between threads
//! JOIN_THRESHOLD           passes over 2¹⁴ numbers or more run side by side on two threads
//! ```
//!
//! `fuses` is the one rule that changes a rounding, so the plain products ask it too
//! (`Matrix::matmul_plain` and its siblings use `f64::mul_add` exactly where it says yes): that
//! is what lets `BACKPROP_KERNELS=naive` reproduce the default's bits at every size.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

/// Products of at least this many multiply-adds (`m·k·n`, every side at least 4) go to the
/// packed product of `gemm/`, which uses fused multiply-adds where the processor has them.
/// Below it the operands fit in the nearest caches, the register tiles of `tiles.rs` read them
/// where they lie, and copying them into packed strips first would cost about as much as the
/// arithmetic. 64³: the hidden products of a digits-sized network are above it; those of the
/// demo, XOR, circles and sine are below, so those give the same bits on every machine, with or
/// without FMA.
pub const FMA_THRESHOLD: usize = 64 * 64 * 64;

/// Products of at least this many multiply-adds are spread over
/// [`threads`](super::threads::threads) threads by [`gemm`](super::gemm::gemm); smaller ones run
/// on the calling thread. 2²⁰ multiply-adds keep one core busy for a few tens of microseconds,
/// well above the cost of waking a helper thread: the full-batch digits products and those of
/// batches of 256 are shared, those of batches of 64 are not.
pub const THREADS_THRESHOLD: usize = 1 << 20;

/// The shortest passes [`run_both`](super::threads::run_both) runs on two threads, in the length
/// of the arrays they walk (`ŷ`'s, for a training step's loss and accuracy). Shorter passes take
/// a few microseconds, less than waking a helper thread: digits' full-batch output (1797 × 10)
/// is above it, a batch of 256 rows of 10 classes is not.
pub const JOIN_THRESHOLD: usize = 1 << 14;

/// Whether an `m×k` by `k×n` product goes to the packed product of `gemm/` (see
/// [`FMA_THRESHOLD`]). A side below 4 would leave most of its register tile empty.
pub fn packing_pays(m: usize, k: usize, n: usize) -> bool {
    m >= 4 && k >= 4 && n >= 4 && m.saturating_mul(k).saturating_mul(n) >= FMA_THRESHOLD
}

/// Whether the fast form of an `m×k` by `k×n` product adds each term with a fused multiply-add
/// (`c ← a·b + c`, rounded once) rather than a multiply and an add (`c ← c + a·b`, rounded
/// twice): when it is packed ([`packing_pays`]) and this processor has FMA instructions. The
/// plain forms use `f64::mul_add` exactly then, so both give the same bits.
pub fn fuses(m: usize, k: usize, n: usize) -> bool {
    packing_pays(m, k, n) && super::simd::has_avx2_fma()
}

/// The two sets of forms the named operations can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// The plain definitions, in the chapters (`BACKPROP_KERNELS=naive`).
    Naive,
    /// The fast forms of the engine room (the default).
    Fast,
}

/// The process-wide setting of [`set_kernels`] or the environment: 0 = not yet read, 1 = naive,
/// 2 = fast.
static KERNELS: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// The setting of [`with_kernels`] on this thread, if any.
    static KERNELS_HERE: Cell<Option<Kernels>> = const { Cell::new(None) };
}

/// The forms the named operations run on this thread.
///
/// In order: the setting made by [`with_kernels`] on this thread, else that of [`set_kernels`],
/// else the environment variable `BACKPROP_KERNELS` (`naive` for the plain forms; anything else,
/// or nothing, for the fast ones). The environment is read once.
#[inline]
pub fn kernels() -> Kernels {
    if let Some(here) = KERNELS_HERE.with(Cell::get) {
        return here;
    }
    match KERNELS.load(Ordering::Relaxed) {
        1 => Kernels::Naive,
        2 => Kernels::Fast,
        _ => kernels_from_environment(),
    }
}

/// The first call's reading of `BACKPROP_KERNELS`, kept out of line: [`kernels`] is asked once
/// per named operation, and its common path is two loads.
#[cold]
#[inline(never)]
fn kernels_from_environment() -> Kernels {
    let naive = std::env::var("BACKPROP_KERNELS")
        .is_ok_and(|value| value.trim().eq_ignore_ascii_case("naive"));
    let kernels = if naive { Kernels::Naive } else { Kernels::Fast };
    set_kernels(kernels);
    kernels
}

/// Whether the named operations run their plain definitions on this thread.
#[inline]
pub fn naive() -> bool {
    kernels() == Kernels::Naive
}

/// Sets the forms of every later named operation in this process. The results do not depend on
/// it, only the time.
pub fn set_kernels(kernels: Kernels) {
    let code = match kernels {
        Kernels::Naive => 1,
        Kernels::Fast => 2,
    };
    KERNELS.store(code, Ordering::Relaxed);
}

/// Runs `f` with the named operations started on this thread using `kernels` (the tests compare
/// the two forms this way, in one process).
pub fn with_kernels<R>(kernels: Kernels, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Kernels>);
    impl Drop for Restore {
        fn drop(&mut self) {
            KERNELS_HERE.with(|here| here.set(self.0));
        }
    }
    let _restore = Restore(KERNELS_HERE.with(|here| here.replace(Some(kernels))));
    f()
}
