//! Engine time: microseconds on a caller-chosen monotonic scale.

/// A point in time, in microseconds. Only differences are meaningful.
pub type Instant = u64;

/// Microseconds in one millisecond.
pub const MILLIS: u64 = 1_000;
/// Microseconds in one second.
pub const SECONDS: u64 = 1_000_000;
