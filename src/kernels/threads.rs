//! Helper threads: how many, the pool that keeps them waiting for work, and [`join`].
//!
//! Large products (gemm/) share their rows between threads, and [`join`] runs two independent
//! passes side by side. Both use the same helper threads, started once and then kept waiting
//! for work, because starting a thread costs about as much as a small product.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::choose::JOIN_THRESHOLD;

/// The number of threads [`gemm`](super::gemm::gemm) spreads a large product over.
///
/// In order: the setting made by [`with_threads`] on this thread, else that of [`set_threads`],
/// else the environment variable `BACKPROP_THREADS` (a whole number from 1; anything else is
/// ignored), else `std::thread::available_parallelism()`. The environment is read once.
pub fn threads() -> usize {
    let here = THREADS_HERE.with(Cell::get);
    if here > 0 {
        return here;
    }
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let threads = std::env::var("BACKPROP_THREADS")
                .ok()
                .and_then(|value| value.trim().parse().ok())
                .filter(|&threads: &usize| threads > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            THREADS.store(threads, Ordering::Relaxed);
            threads
        }
        threads => threads,
    }
}

/// Sets the number of threads of every later large product in this process (0 returns to the
/// default of [`threads`]). The results do not depend on it, only the time.
pub fn set_threads(threads: usize) {
    THREADS.store(threads, Ordering::Relaxed);
}

/// Runs `f` with products started on this thread using `threads` threads (for example 1 inside
/// threads that already share the work, as `parallel.rs` does).
pub fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREADS_HERE.with(|here| here.set(self.0));
        }
    }
    let _restore = Restore(THREADS_HERE.with(|here| here.replace(threads)));
    f()
}

/// `(a(), b())`, run by this thread and a helper thread of the products' pool when
/// [`threads`] is more than 1 and the passes walk arrays of at least [`JOIN_THRESHOLD`] numbers
/// (`size`); otherwise both on this thread, `a` first.
///
/// For independent element-wise passes between the products, such as a training step's loss
/// and accuracy, which otherwise run one after the other while the helper waits. Whichever
/// thread is free first takes `a`, the other `b` (this thread runs both if the helper is late),
/// so neither closure may rely on running on the calling thread: thread-local settings such as
/// [`with_threads`] are not carried over, and pooled work started inside a closure that a helper
/// runs (a large product, another `join`) runs on that helper alone. Each closure computes
/// exactly what it would on its own, so the results do not depend on who runs it.
pub fn join<RA: Send, RB: Send>(
    size: usize,
    a: impl FnOnce() -> RA + Send,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    if size < JOIN_THRESHOLD || threads() == 1 {
        return (a(), b());
    }
    let (a, b) = (Mutex::new(Some(a)), Mutex::new(Some(b)));
    let (ra, rb) = (Mutex::new(None), Mutex::new(None));
    // Whoever comes first takes `a`, the next `b`: the caller, if its helper is late, both.
    let work = || {
        let task_a = a.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task_a) = task_a {
            *ra.lock().unwrap_or_else(|p| p.into_inner()) = Some(task_a());
        }
        let task_b = b.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task_b) = task_b {
            *rb.lock().unwrap_or_else(|p| p.into_inner()) = Some(task_b());
        }
    };
    pool::run(1, &work);
    let ra = ra.into_inner().unwrap_or_else(|p| p.into_inner());
    let rb = rb.into_inner().unwrap_or_else(|p| p.into_inner());
    (
        ra.expect("join: the first closure ran"),
        rb.expect("join: the second closure ran"),
    )
}

/// The process-wide setting of [`set_threads`] (or the default, once read); 0 = not yet read.
static THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The setting of [`with_threads`] on this thread; 0 = none.
    static THREADS_HERE: Cell<usize> = const { Cell::new(0) };
}

/// The helper threads of threaded products: started on first use, then kept, waiting for work.
///
/// Starting a thread for every product costs about 40 µs here (measured with `std::thread::scope`:
/// spawn, join), as much as a tenth of a digits-sized product, and a new thread's stack must be
/// mapped again. A helper that is already running picks up new work within a microsecond or two
/// while it is still spinning after its last job, and within about 20 µs once asleep.
pub(crate) mod pool {
    use std::cell::Cell;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, MutexGuard};
    use std::time::{Duration, Instant};

    /// How long a helper keeps checking for new work before it sleeps, and the caller for the
    /// helpers to finish: long enough to span the element-wise steps between two products of a
    /// training step (waking a sleeping thread takes 20–50 µs here, twice per product), short
    /// enough not to hold a processor long when no products come. While checking, a thread
    /// yields the processor to any other thread that is ready to run on it.
    const SPIN: Duration = Duration::from_micros(500);

    /// Work for the helpers: a closure borrowed from [`run`]'s caller, its lifetime erased.
    #[derive(Clone, Copy)]
    struct Job(&'static (dyn Fn() + Sync));

    struct State {
        /// The current job, or none; taken away again when the caller has finished its share.
        job: Option<Job>,
        /// Counts the jobs posted, so that a helper can tell a new job from the one it did.
        generation: usize,
        /// How many more helpers may join the current job.
        seats: usize,
        /// Helpers inside the current job's closure.
        running: usize,
        /// Whether the closure panicked in a helper.
        panicked: bool,
        /// Helper threads started so far.
        helpers: usize,
    }

    static STATE: Mutex<State> = Mutex::new(State {
        job: None,
        generation: 0,
        seats: 0,
        running: 0,
        panicked: false,
        helpers: 0,
    });
    thread_local! {
        /// Whether this thread is a helper running a job (see [`run`]).
        static IN_JOB: Cell<bool> = const { Cell::new(false) };
    }

    /// `State::generation`, readable without the lock by spinning helpers.
    static GENERATION: AtomicUsize = AtomicUsize::new(0);
    /// `State::running`, readable without the lock by a spinning caller.
    static RUNNING: AtomicUsize = AtomicUsize::new(0);

    /// Checks `done` until it holds or [`SPIN`] has passed, yielding the processor in between.
    fn spin_until(done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() && start.elapsed() < SPIN {
            std::thread::yield_now();
        }
    }
    /// Signalled when a job is posted.
    static POSTED: Condvar = Condvar::new();
    /// Signalled when the last helper leaves a job.
    static LEFT: Condvar = Condvar::new();

    fn state() -> MutexGuard<'static, State> {
        // A panic is never raised while the lock is held (the closures run outside it), so a
        // poisoned lock still holds a consistent state.
        STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `work` on this thread and on up to `helpers` helper threads at once, and returns
    /// when every call of it has returned. `work` shares out its own pieces, so it is correct
    /// whether 1 or `helpers + 1` threads run it. If another thread's product is using the
    /// helpers, `work` runs on this thread alone.
    pub(crate) fn run(helpers: usize, work: &(dyn Fn() + Sync)) {
        // A helper's job that starts pooled work of its own (a large product or a `join` inside
        // a `join`'s closure) runs it alone: posted as a job, it could wait for `running` to
        // fall to 0 while it is itself one of the helpers counted there, forever.
        if IN_JOB.with(Cell::get) {
            return work();
        }
        // SAFETY: the helpers call `job` only between joining (`running += 1`, under the lock,
        // while `state.job` is `Some`) and leaving (`running -= 1`). Below, this function takes
        // the job away and then waits until `running` is 0 before it returns, and it gets there
        // even if `work` panics on this thread (the panic is caught and re-raised after the
        // wait). So no helper calls `job` after `work`'s borrow ends: the `'static` is never
        // relied upon. Scoped threads (`std::thread::scope`) would need no `unsafe`, but they
        // start new threads for every product (see the module doc for the cost).
        let job = Job(unsafe {
            std::mem::transmute::<&(dyn Fn() + Sync), &'static (dyn Fn() + Sync)>(work)
        });
        {
            let mut state = state();
            if state.job.is_some() {
                drop(state);
                return work();
            }
            while state.helpers < helpers {
                let posted = state.generation;
                let started = std::thread::Builder::new()
                    .name("backprop-gemm".to_string())
                    .spawn(move || helper(posted));
                if started.is_err() {
                    break;
                }
                state.helpers += 1;
            }
            state.job = Some(job);
            state.seats = helpers;
            state.generation = state.generation.wrapping_add(1);
            GENERATION.store(state.generation, Ordering::Release);
        }
        POSTED.notify_all();
        let result = panic::catch_unwind(AssertUnwindSafe(work));
        // A helper that has not joined yet now never will.
        state().job = None;
        spin_until(|| RUNNING.load(Ordering::Acquire) == 0);
        let panicked = {
            let mut state = state();
            while state.running > 0 {
                state = LEFT
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            std::mem::take(&mut state.panicked)
        };
        if let Err(payload) = result {
            panic::resume_unwind(payload);
        }
        assert!(
            !panicked,
            "gemm: a helper thread panicked (see its message above)"
        );
    }

    /// A helper thread: wait for a job newer than `seen`, join it if there is a seat, run it,
    /// leave; forever.
    fn helper(mut seen: usize) {
        loop {
            spin_until(|| GENERATION.load(Ordering::Acquire) != seen);
            let job = {
                let mut state = state();
                while state.generation == seen {
                    state = POSTED
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                seen = state.generation;
                match state.job {
                    Some(job) if state.seats > 0 => {
                        state.seats -= 1;
                        state.running += 1;
                        RUNNING.store(state.running, Ordering::Release);
                        job
                    }
                    _ => continue,
                }
            };
            IN_JOB.with(|in_job| in_job.set(true));
            let ok = panic::catch_unwind(AssertUnwindSafe(job.0)).is_ok();
            IN_JOB.with(|in_job| in_job.set(false));
            let mut state = state();
            state.running -= 1;
            RUNNING.store(state.running, Ordering::Release);
            state.panicked |= !ok;
            if state.running == 0 {
                LEFT.notify_all();
            }
        }
    }
}
