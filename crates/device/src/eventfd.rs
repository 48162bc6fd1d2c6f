//! A thin owner of a Linux eventfd, used as the level-triggered readiness
//! signal of in-memory devices: epoll sees it readable while its counter is
//! non-zero, exactly like a TUN fd with packets queued.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A non-blocking, close-on-exec eventfd.
#[derive(Debug)]
pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    /// Create an eventfd with a zero counter.
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd takes no pointers; the flags are valid constants.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by eventfd, is valid, and nothing
        // else owns it.
        Ok(Self {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Make the fd readable. A full counter (EAGAIN, after ~2^64 signals)
    /// already means readable, so that error is ignored.
    pub fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes exactly 8 bytes from a live u64 to an fd we own.
        let _ = unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                (&one as *const u64).cast::<libc::c_void>(),
                std::mem::size_of::<u64>(),
            )
        };
    }

    /// Reset the counter so the fd is no longer readable. Nothing to drain
    /// (EAGAIN) is the normal case.
    pub fn drain(&self) {
        let mut value: u64 = 0;
        // SAFETY: reads exactly 8 bytes into a live u64 from an fd we own.
        let _ = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut value as *mut u64).cast::<libc::c_void>(),
                std::mem::size_of::<u64>(),
            )
        };
    }

    /// The raw fd, for epoll.
    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// True when `fd` is readable right now (poll with a zero timeout). For
/// tests and diagnostics.
pub fn is_readable(fd: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout; poll does not retain it.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && (pfd.revents & libc::POLLIN) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_and_drain_toggle_readability() {
        let e = EventFd::new().unwrap();
        assert!(!is_readable(e.raw()));
        e.signal();
        e.signal();
        assert!(is_readable(e.raw()));
        e.drain();
        assert!(!is_readable(e.raw()));
        e.drain();
        assert!(!is_readable(e.raw()));
    }
}
