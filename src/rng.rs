//! Seeded random numbers: SplitMix64, uniform and normal samples, shuffling.
//!
//! Everything random in a network (the initial weights, the order of mini-batches, dropout masks,
//! the generated datasets) comes from this one small generator, so a run is fixed by its seed:
//! the same seed gives the same numbers, bit for bit, on every run.
//!
//! ```text
//! SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014;
//! the version Vigna recommends for seeding xoshiro generators, https://prng.di.unimi.it/splitmix64.c;
//! seeded with 0 it starts 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f):
//!
//!   state ← state + 0x9E3779B97F4A7C15          (the golden ratio in 64-bit fixed point)
//!   z ← state
//!   z ← (z ⊕ (z ≫ 30)) · 0xBF58476D1CE4E5B9
//!   z ← (z ⊕ (z ≫ 27)) · 0x94D049BB133111EB
//!   return z ⊕ (z ≫ 31)
//!
//! uniform in [0, 1):   u = (next ≫ 11) · 2⁻⁵³        (the top 53 bits fill an f64 mantissa)
//! normal (Box–Muller): z = √(−2 ln u₁) · cos(2π u₂)   with u₁ in (0, 1]
//! shuffle:             Fisher–Yates, swapping item i with a uniform pick from 0..=i
//! ```
//!
//! The integer steps are exact, so the stream of `u64`s is identical everywhere. The normal
//! samples go through `ln`, `sqrt` and `cos`, which are exact to the last bit on one platform's
//! math library; across different libraries they could differ in the last bit.
//!
//! # Why these choices
//!
//! - **SplitMix64**: five lines a learner can follow by hand, and one `u64` of state, so that a
//!   seed *is* the whole state and every seed, 0 included, starts a good stream (a xorshift
//!   generator seeded with 0 would return 0 forever). Its output passes the BigCrush battery of
//!   statistical tests (as its authors and Vigna report), far more than initial weights, shuffles
//!   and dropout masks need; a generator with more state (xoshiro256**, the Mersenne Twister)
//!   would add lines to read and nothing a network can notice. It is not cryptographic, and
//!   need not be.
//! - **The constants**: adding an odd number visits every one of the 2⁶⁴ states before
//!   repeating, and the multiples of 2⁶⁴/φ (φ the golden ratio) are spread over them as evenly
//!   as multiples of any number can be; the shifts 30, 27, 31 and the two
//!   multipliers are David Stafford's "Mix13", found by search so that flipping any input bit
//!   flips each output bit with probability close to ½.
//! - **The top 53 bits**: an f64 holds 53 significant bits, so `(next ≫ 11)·2⁻⁵³` is exact, and
//!   is at most 1 − 2⁻⁵³, never 1. It can be exactly 0, though, for one state in 2⁵³.
//! - **Box–Muller** turns two uniforms into two exactly normal samples with no table, no
//!   rejection loop and no approximation. It takes `ln u₁`, and `ln 0 = −∞` would make a weight
//!   infinite, so it uses `u₁ = 1 − u`, which lies in (0, 1]: at `u₁ = 1` the sample is simply 0.
//!   Rare is not never: the seed `0x61C8864680B583EB` gives `u = 0` on its very first draw
//!   (exercise 1).
//!
//! # Exercises
//!
//! 1. *The one-in-2⁵³ draw.* Find a seed whose first [`Rng::uniform`] is exactly 0. (Hint: what
//!    does each step of the mixer do to a state of 0?) Predict what [`Rng::normal`] returns for
//!    that seed, and what it would return if Box–Muller took `u₁ = u`. Then change the line
//!    `let u1 = 1.0 - self.uniform();` in [`Rng::normal`] to `let u1 = self.uniform();` and run
//!    `cargo test --test exercises_foundations rng_box_muller_never_takes_the_logarithm_of_0`.
//! 2. *How random is random enough?* The mean and the variance of N independent standard normal
//!    samples scatter around 0 and 1 with standard deviations 1/√N and √(2/N). Predict how far
//!    from 0 and 1 they land for N = 10⁶, then run
//!    `cargo test --test exercises_foundations rng_normal_samples_have_mean_0_and_variance_1 -- --nocapture`.
//! 3. *What a fork shifts.* [`Network::mlp`](crate::network::Network::mlp) draws `W¹`, then forks
//!    a generator for the dropout layer, then draws `W²`, all from the weight generator. Does
//!    `--dropout 0.1` change the initial `W¹` of `train circles`? `W²`? The masks drawn during
//!    training? Run
//!    `cargo test --test exercises_foundations rng_a_fork_takes_one_number_from_the_stream -- --nocapture`.
//!
//! <details><summary>Answers</summary>
//!
//! 1. Each step of the mixer, `z ⊕ (z ≫ s)` and `z·m`, maps 0 to 0, so `next_u64()` is 0 when
//!    the state after the addition is 0: seed = 2⁶⁴ − 0x9E3779B97F4A7C15 = `0x61C8864680B583EB`
//!    (7046029254386353131). Its first `uniform()` is 0.0, so `u₁ = 1 − 0 = 1`,
//!    `r = √(−2 ln 1) = 0` and `normal()` returns 0, a perfectly good sample (the test prints
//!    `-0`: −2·0.0 is −0.0, a zero with its sign bit set, and √−0 = −0). With `u₁ = u`,
//!    `r = √(−2 ln 0) = √∞ = ∞`, and the sample is `∞·cos(2π·0.8833) = ∞`; the test fails with
//!    `normal() = inf for the seed whose first uniform is 0`. Any weight drawn that way would
//!    turn every loss after it into ∞ or NaN. Put the line back.
//! 2. 1/√10⁶ = 0.0010 and √(2/10⁶) = 0.0014. The test prints (seed 1) mean 0.000526 and
//!    variance 1.000655, both within one standard deviation of 0 and 1, as about two draws in
//!    three are. The same arithmetic says how well a layer's initial weights match their
//!    intended variance: a 2 × 10 layer has 20 weights, so their sample variance is off by
//!    about √(2/20) ≈ 32 % of the intended one.
//! 3. `W¹` is the same (it is drawn before the fork); `W²` is not, because the fork takes one
//!    number from the weight generator, so `W²` starts one number later in the stream (the test
//!    redraws it that way and gets the same bits). The masks come from the dropout layer's own
//!    generator: however many it draws during training, they shift nothing else. The data and
//!    the batch order come from generators of their own (`run::generators`) and do not change.
//!
//! </details>

/// A SplitMix64 generator: 64 bits of state, one addition and two multiplications per number.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    /// Box–Muller makes normal samples in pairs; the second one waits here for the next call.
    spare_normal: Option<f64>,
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            spare_normal: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform sample from `[0, 1)`: the top 53 bits scaled by 2⁻⁵³, so every value is exact.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform sample from `[low, high)`: `low + (high − low)·u`.
    pub fn uniform_range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// A standard normal sample (mean 0, standard deviation 1) by the Box–Muller transform.
    ///
    /// Two uniforms give two independent normals, `r·cos θ` and `r·sin θ` with `r = √(−2 ln u₁)`
    /// and `θ = 2π u₂`; the first is returned and the second kept for the next call.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // u₁ must not be 0, or ln u₁ = −∞: use 1 − u, which lies in (0, 1].
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some(radius * angle.sin());
        radius * angle.cos()
    }

    /// A normal sample with the given mean and standard deviation: `mean + std_dev·z`.
    pub fn normal_with(&mut self, mean: f64, std_dev: f64) -> f64 {
        mean + std_dev * self.normal()
    }

    /// A uniform integer in `0..n`, without the bias of a plain `next % n`.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0): the range 0..0 is empty");
        let n = n as u64;
        // Reject the top sliver of values that would make some remainders more likely.
        let limit = u64::MAX - u64::MAX % n;
        loop {
            let r = self.next_u64();
            if r < limit {
                return (r % n) as usize;
            }
        }
    }

    /// Shuffles `items` in place (Fisher–Yates): every order is equally likely.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// A new generator for a sub-task (a layer's dropout masks, a dataset), seeded by one number
    /// of this one: however many numbers the sub-task draws later, this stream moves by exactly
    /// one, so a use of randomness in one place does not shift the numbers in another.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}
