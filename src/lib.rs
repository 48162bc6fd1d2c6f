//! The napi binding: conversions between JS and the runtime crate, nothing else.
