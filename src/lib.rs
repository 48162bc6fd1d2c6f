//! The napi binding: conversions between JS and the runtime crate, nothing
//! else. The exports match the `NativeBinding` contract in `ts/native.ts`.
//!
//! Every exported function and method runs its body inside [`guard`]:
//! a Rust panic becomes a JS `Error` with code `ERR_INTERNAL_ASSERTION`
//! instead of unwinding into Node. Errors carry Node's codes in `err.code`.

#![deny(clippy::all)]
// napi-derive registers exports only outside `cfg(test)`, so a test build
// sees them as unused.
#![cfg_attr(test, allow(dead_code))]

mod address;
mod device;
mod error;
mod events;
mod objects;
mod options;
mod stack;
