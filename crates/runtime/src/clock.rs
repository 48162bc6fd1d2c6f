//! The runtime's monotonic clock: microseconds since the runtime started.
//! The engine and the devices take time as a plain `u64`; this is the one
//! place that reads a real clock, so every other layer stays testable on
//! virtual time.

use std::time::Instant as StdInstant;
use tunstack_core::Instant;

/// A monotonic microsecond clock shared by the stack thread and JS callers.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: StdInstant,
}

impl Clock {
    /// A clock reading 0 now.
    pub fn new() -> Clock {
        Clock {
            origin: StdInstant::now(),
        }
    }

    /// Microseconds since the clock was created.
    pub fn now(&self) -> Instant {
        // u64 microseconds overflow after ~584,000 years; saturate anyway.
        u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
