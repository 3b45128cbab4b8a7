//! Running a loop compiled for wider vectors than the baseline, chosen when the program runs.
//!
//! A plain `cargo build` targets the x86-64 baseline (SSE2): a vector instruction handles two
//! `f64`. Most x86-64 processors since 2013 have AVX2 (four) and many servers AVX-512 (eight).
//! [`on_widest_vectors`] runs a closure inside a function compiled for those instructions, after checking
//! that this processor has them; the arithmetic is the same `+ − × ÷` on more lanes at once, so
//! the results have the same bits.

/// Whether this processor has AVX2 and FMA (checked once, then cached by the standard library).
pub fn has_avx2_fma() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        false
    }
}

/// Whether this processor has AVX-512 (with AVX2 and FMA).
pub fn has_avx512() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        has_avx2_fma() && is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        false
    }
}

/// Runs `f` compiled for the widest vectors this processor has (AVX-512, else AVX2, else the
/// baseline): the element-wise passes (activations, their derivatives, the logarithms of
/// cross-entropy, softmax), the small register-tiled products of `tiles.rs`, and the
/// optimizer's update.
///
/// Compiled for the baseline, a loop handles two numbers per instruction. Called through here,
/// the same loop is compiled a second and third time inside functions marked
/// `#[target_feature]`, where it handles four or eight. What it computes cannot change, only its
/// speed: a vector lane does exactly the `+ − × ÷` a scalar does, and Rust never fuses a
/// multiply and an add by itself. The closure must be marked `#[inline(always)]`
/// (`on_widest_vectors(#[inline(always)] || …)`), and so must the loop functions it calls:
/// otherwise the compiler may keep them as separate functions built for the baseline, and the
/// wide copies gain nothing.
#[inline(always)]
pub fn on_widest_vectors<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        /// # Safety
        /// The processor must have AVX-512F.
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        /// # Safety
        /// The processor must have AVX2.
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: `avx512` is compiled for AVX-512F, which the check has just found on this
            // processor, so every instruction in it exists here.
            return unsafe { avx512(f) };
        }
        if is_x86_feature_detected!("avx2") {
            // SAFETY: as above, for AVX2.
            return unsafe { avx2(f) };
        }
    }
    f()
}
