//! Errors of runtime calls: the engine's, plus the stack being gone.

use std::fmt;

/// Why a runtime call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtError {
    /// The engine refused the operation.
    Engine(tunstack_core::Error),
    /// The stack was closed (or is closing and takes no new sockets).
    Closed,
    /// The stack thread died (a bug: a panic in the engine or runtime).
    Failed(String),
}

impl RtError {
    /// The Node.js `err.code` for this error.
    pub fn code(&self) -> &'static str {
        match self {
            RtError::Engine(e) => e.code(),
            RtError::Closed => "ERR_STACK_CLOSED",
            RtError::Failed(_) => "ERR_INTERNAL_ASSERTION",
        }
    }
}

impl From<tunstack_core::Error> for RtError {
    fn from(e: tunstack_core::Error) -> Self {
        RtError::Engine(e)
    }
}

impl fmt::Display for RtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RtError::Engine(e) => e.fmt(f),
            RtError::Closed => write!(f, "the stack is closed ({})", self.code()),
            RtError::Failed(why) => write!(f, "the stack failed: {why} ({})", self.code()),
        }
    }
}

impl std::error::Error for RtError {}
