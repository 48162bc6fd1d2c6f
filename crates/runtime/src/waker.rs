//! Waking the stack thread from other threads: an eventfd the thread's
//! epoll set watches, plus a flag so that a burst of calls from JS costs one
//! `write(2)` rather than one per call.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// An eventfd with coalescing.
#[derive(Debug)]
pub(crate) struct Waker {
    fd: OwnedFd,
    /// True between a `wake` and the thread's `reset`: further wakes are no-ops.
    pending: AtomicBool,
}

impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        // SAFETY: eventfd has no memory arguments; the result is checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Waker {
            fd,
            pending: AtomicBool::new(false),
        })
    }

    /// Make the thread's next (or current) epoll wait return.
    pub(crate) fn wake(&self) {
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd we own. A
        // failure can only be EAGAIN (counter saturated), which still leaves
        // the fd readable, so the wake-up is not lost.
        unsafe {
            libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8);
        }
    }

    /// Called by the stack thread when epoll reported the eventfd: clear the
    /// flag first, then the counter, so a wake racing with this is not lost
    /// (it either sees the flag cleared and writes, or its state change is
    /// already visible to the processing that follows).
    pub(crate) fn reset(&self) {
        self.pending.store(false, Ordering::Release);
        let mut value: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from an eventfd we own;
        // EAGAIN (nothing to read) is harmless.
        unsafe {
            libc::read(self.fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8);
        }
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
