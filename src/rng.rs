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

    /// A new generator for a sub-task (a layer's dropout masks, a dataset), derived from this one,
    /// so that adding a use of randomness in one place does not shift the numbers in another.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}
