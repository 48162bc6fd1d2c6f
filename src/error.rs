//! Node-style errors: `err.code` is the Node.js code (ECONNREFUSED,
//! EADDRINUSE, EINVAL, EPERM, ...), never a napi status name.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use tunstack_runtime::RtError;

/// A JS error whose `code` property is the string status.
pub type JsError = napi::Error<String>;

/// What every export returns. Named `Result` so napi-derive treats it as
/// fallible and throws the error.
pub type Result<T> = std::result::Result<T, JsError>;

/// An error with `code` and a message that starts with the code, the way
/// Node formats system errors ("listen EADDRINUSE: address already in use").
pub fn error(code: &str, message: impl std::fmt::Display) -> JsError {
    napi::Error::new(code.to_string(), format!("{code}: {message}"))
}

/// EINVAL with a message.
pub fn invalid(message: impl std::fmt::Display) -> JsError {
    error("EINVAL", message)
}

/// A runtime error from operation `op` ("connect", "listen", ...).
pub fn runtime_error(op: &str, e: RtError) -> JsError {
    let code = e.code();
    let text = match &e {
        // The engine's Display ends in " (CODE)"; the code is in front already.
        RtError::Engine(inner) => {
            let s = inner.to_string();
            s.strip_suffix(&format!(" ({code})"))
                .map(str::to_string)
                .unwrap_or(s)
        }
        RtError::Closed => "the stack is closed".to_string(),
        RtError::Failed(why) => why.clone(),
    };
    napi::Error::new(code.to_string(), format!("{op} {code}: {text}"))
}

/// An I/O error from the device layer. Device errors put the errno name in
/// front of their message ("EPERM: cannot open TUN ..."); use it as the code.
pub fn io_error(e: io::Error) -> JsError {
    let message = e.to_string();
    let prefix = message.split_once(':').map(|(p, _)| p).unwrap_or("");
    let looks_like_code = prefix.len() > 1
        && prefix.starts_with('E')
        && prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if looks_like_code {
        return napi::Error::new(prefix.to_string(), message);
    }
    let code = match e.raw_os_error() {
        Some(libc_code) => errno_name(libc_code),
        None => match e.kind() {
            io::ErrorKind::PermissionDenied => "EPERM",
            io::ErrorKind::InvalidInput => "EINVAL",
            io::ErrorKind::NotFound => "ENOENT",
            io::ErrorKind::AlreadyExists => "EEXIST",
            _ => "EIO",
        },
    };
    error(code, message)
}

fn errno_name(errno: i32) -> &'static str {
    match errno {
        1 => "EPERM",
        2 => "ENOENT",
        5 => "EIO",
        12 => "ENOMEM",
        13 => "EACCES",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        22 => "EINVAL",
        24 => "EMFILE",
        _ => "EIO",
    }
}

/// Convert napi's own errors (argument conversion and the like).
pub fn from_napi(e: napi::Error) -> JsError {
    napi::Error::new(e.status.as_ref().to_string(), e.reason.clone())
}

/// Run an export's body; a panic becomes an `ERR_INTERNAL_ASSERTION` error.
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let what = if let Some(s) = panic.downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = panic.downcast_ref::<String>() {
                s.clone()
            } else {
                "unknown panic".to_string()
            };
            Err(napi::Error::new(
                "ERR_INTERNAL_ASSERTION".to_string(),
                format!("tunstack internal error (a Rust panic): {what}"),
            ))
        }
    }
}
