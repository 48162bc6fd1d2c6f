//! The stack thread.
