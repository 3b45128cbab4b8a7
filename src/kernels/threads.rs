//! Helper threads: how many there are, the pool that keeps them waiting for work, and the three
//! ways the engine shares work with them.
//!
//! ```text
//! gemm/          a large product's rows (or columns) of C, one block per thread
//! run_both       two independent passes side by side (a training step's loss and accuracy)
//! Workers        the shards of parallel.rs, taken from a queue by each thread in turn
//! ```
//!
//! None of them changes a result: each piece of work computes exactly what it would on one
//! thread, and what is summed across pieces is summed in a fixed order. Threads change only the
//! time, and `BACKPROP_THREADS=1` (or `BACKPROP_KERNELS=naive`) keeps everything on one thread.
//!
//! The helpers are started once and then wait for work (see `pool`), because starting a thread
//! costs about as much as a small product, and a new thread's stack and buffers must be mapped
//! again; the pool's `unsafe` lends a closure to them for no longer than the call that posts it.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::choose::{naive, JOIN_THRESHOLD};

/// The number of threads a large product is spread over.
///
/// In order: the setting made by [`with_threads`] on this thread, else that of [`set_threads`],
/// else the environment variable `BACKPROP_THREADS` (a whole number from 1; anything else is
/// ignored), else `std::thread::available_parallelism()`. The environment is read once. On a
/// machine shared with other busy programs, fewer threads than cores can be faster.
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
/// threads that already share the work, as [`Workers`] does).
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

/// `(a(), b())`: two independent passes, run by this thread and a helper thread side by side
/// when [`threads`] is more than 1 and the passes walk arrays of at least [`JOIN_THRESHOLD`]
/// numbers (`size`); otherwise both on this thread, `a` first.
///
/// Whichever thread is free first takes `a`, the other `b` (this thread runs both if the helper
/// is late), so neither closure may rely on running on the calling thread: thread-local settings
/// such as [`with_threads`] are not carried over, and pooled work started inside a closure that
/// a helper runs (a large product, another `run_both`) runs on that helper alone. Each closure
/// computes exactly what it would on its own, so the results do not depend on who runs it.
pub fn run_both<RA: Send, RB: Send>(
    size: usize,
    a: impl FnOnce() -> RA + Send,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    if size < JOIN_THRESHOLD || threads() == 1 || naive() {
        return (a(), b());
    }
    let (a, b) = (Mutex::new(Some(a)), Mutex::new(Some(b)));
    let (ra, rb) = (Mutex::new(None), Mutex::new(None));
    // Whoever comes first takes `a`, the next `b`: the caller, if its helper is late, both.
    let work = || {
        let task_a = a.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(task_a) = task_a {
            *ra.lock().unwrap_or_else(PoisonError::into_inner) = Some(task_a());
        }
        let task_b = b.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(task_b) = task_b {
            *rb.lock().unwrap_or_else(PoisonError::into_inner) = Some(task_b());
        }
    };
    pool::run(1, &work);
    let ra = ra.into_inner().unwrap_or_else(PoisonError::into_inner);
    let rb = rb.into_inner().unwrap_or_else(PoisonError::into_inner);
    (
        ra.expect("run_both: the first closure ran"),
        rb.expect("run_both: the second closure ran"),
    )
}

/// Hands a list of independent pieces of work (the shards of `parallel.rs`) to up to `threads`
/// threads: [`Workers::for_each`] runs `work(i, &mut items[i])` once for every item.
///
/// Each thread takes the next item not yet taken until none is left, so a thread that starts
/// late or runs slower (the cores are shared) takes fewer items and none waits idle while items
/// remain. Who runs an item never changes what it computes. Three choices keep the threads from
/// costing more than they save:
///
/// - **The first call runs on the calling thread alone.** The items' buffers are allocated on
///   their first use; allocated on a worker thread, they belong to that thread's heap, which
///   hands freed memory back to the system, and they were mapped and zeroed again, page by page,
///   on every call. Allocated on the calling thread, they stay.
/// - **With two threads the second is the pool's helper** (through [`run_both`]), already
///   running, rather than a thread started for every call; more threads are started with
///   `std::thread::scope` each call, the plain form.
/// - **Each item's products run on its own thread** ([`with_threads`]`(1, …)`): the threads
///   already share the work, and a product must not try to share it out again.
#[derive(Debug)]
pub struct Workers {
    threads: usize,
    first_call: bool,
}

impl Workers {
    /// Workers on up to `threads` threads (at least one).
    pub fn new(threads: usize) -> Workers {
        Workers {
            threads: threads.max(1),
            first_call: true,
        }
    }

    /// Runs `work(i, &mut items[i])` for every item, each exactly once, and returns when all
    /// have run.
    pub fn for_each<T: Send>(&mut self, items: &mut [T], work: impl Fn(usize, &mut T) + Sync) {
        let workers = if self.first_call || naive() {
            1
        } else {
            self.threads.min(items.len())
        };
        self.first_call = false;
        if workers <= 1 {
            for (i, item) in items.iter_mut().enumerate() {
                work(i, item);
            }
            return;
        }
        let queue = Mutex::new(items.iter_mut().enumerate());
        let drain = || {
            with_threads(1, || loop {
                let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                let Some((i, item)) = next else { break };
                work(i, item);
            });
        };
        if workers == 2 {
            // `run_both` shares out passes of at least JOIN_THRESHOLD numbers: these are.
            with_threads(2, || run_both(usize::MAX, drain, drain));
        } else {
            std::thread::scope(|scope| {
                for _ in 1..workers {
                    scope.spawn(drain);
                }
                // The calling thread drains the queue too instead of waiting idle.
                drain();
            });
        }
    }
}

/// The process-wide setting of [`set_threads`] (or the default, once read); 0 = not yet read.
static THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The setting of [`with_threads`] on this thread; 0 = none.
    static THREADS_HERE: Cell<usize> = const { Cell::new(0) };
}

/// The helper threads: started on first use, then kept, waiting for work.
///
/// A helper that is already running picks up new work within a microsecond or two while it is
/// still spinning after its last job, and within tens of microseconds once asleep; a new thread
/// would take longer than either to start.
pub(crate) mod pool {
    use std::cell::Cell;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, MutexGuard};
    use std::time::{Duration, Instant};

    /// How long a helper keeps checking for new work before it sleeps, and the caller for the
    /// helpers to finish: long enough to span the element-wise steps between two products of a
    /// training step (waking a sleeping thread takes tens of microseconds, twice per product), short
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
        // A helper's job that starts pooled work of its own (a large product or a `run_both` inside
        // a `run_both` closure) runs it alone: posted as a job, it could wait for `running` to
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
