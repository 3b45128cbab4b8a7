//! Which form runs: the sizes from which the engine's faster forms pay, and the rules built on them.
//!
//! ```text
//! FMA_THRESHOLD       m·k·n ≥ 64³    products large enough for the packed product (gemm/), which
//!                                    fuses multiply and add where the processor can
//! THREADS_THRESHOLD   m·k·n ≥ 2²⁰    products shared between threads (threads.rs)
//! JOIN_THRESHOLD      n ≥ 2¹⁴         passes over ŷ run side by side on two threads
//! ```

/// Products of at least this many multiply-adds (`m·k·n`) may use FMA. Smaller ones use separate
/// multiplies and adds, so they give the same bits on every machine. 64³: the hidden products of
/// a digits-sized network are above it, those of the sine and circles networks below.
pub const FMA_THRESHOLD: usize = 64 * 64 * 64;

/// Products of at least this many multiply-adds (`m·k·n`) are spread over [`threads`](super::threads::threads) threads
/// by [`gemm`](super::gemm::gemm); smaller ones run on the calling thread. 2²⁰, about 20–40 µs of work on one
/// thread here: the full-batch digits products (1.1 M to 15 M multiply-adds) and those of
/// mini-batches of 256 (2 M) are shared, those of mini-batches of 64 (0.5 M) are not. (Measured:
/// the best of 2000 runs of a 64×64·64×128 product went from 26 µs on one thread to 18 µs on
/// two, but the mini-batch-64 epoch gained nothing measurable, and lost when other programs were
/// busy; a 256×64·64×128 product went from 84 µs to 51 µs.)
pub const THREADS_THRESHOLD: usize = 1 << 20;

/// The smallest passes [`join`](super::threads::join) shares out, in the length of the arrays they walk (`ŷ`'s for a
/// step's loss and accuracy): digits' full-batch output
/// (1797 × 10) is above it; a mini-batch of 256 (2560 numbers, a few microseconds) is not worth
/// waking a helper for.
pub const JOIN_THRESHOLD: usize = 1 << 14;
