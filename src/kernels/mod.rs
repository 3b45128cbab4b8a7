//! The engine room: the fast forms of the operations the chapters name, read last.
//!
//! (The named operations and their plain definitions are being moved here; see the files below.)

pub mod choose;
pub mod gemm;
pub mod simd;
pub mod threads;
