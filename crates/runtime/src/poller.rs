//! The thread's sleep: epoll over the device's readiness fd and the waker's
//! eventfd, with a timeout taken from the nearest deadline.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Which registered source became ready.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ready {
    pub(crate) device: bool,
    pub(crate) waker: bool,
}

const TOKEN_DEVICE: u64 = 1;
const TOKEN_WAKER: u64 = 2;

/// An epoll instance watching two fds, level-triggered.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    device_fd: Option<RawFd>,
}

impl Poller {
    pub(crate) fn new(device_fd: RawFd, waker_fd: RawFd) -> io::Result<Poller> {
        // SAFETY: epoll_create1 has no memory arguments; checked below.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        let poller = Poller {
            epoll,
            device_fd: Some(device_fd),
        };
        poller.ctl(libc::EPOLL_CTL_ADD, device_fd, TOKEN_DEVICE)?;
        poller.ctl(libc::EPOLL_CTL_ADD, waker_fd, TOKEN_WAKER)?;
        Ok(poller)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `event` is a live, initialised epoll_event; both fds are
        // open for the duration of the call.
        let rc = unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Stop watching the device (after it failed, so a dead fd that stays
    /// readable cannot make the thread spin).
    pub(crate) fn forget_device(&mut self) {
        if let Some(fd) = self.device_fd.take() {
            // Failure means it was not registered any more; nothing to undo.
            let _ = self.ctl(libc::EPOLL_CTL_DEL, fd, TOKEN_DEVICE);
        }
    }

    /// Sleep until a source is ready or `timeout_us` passes (None = no timeout).
    /// The timeout is rounded up to whole milliseconds, so the thread never
    /// wakes before a deadline (and at most 1 ms after it).
    pub(crate) fn wait(&self, timeout_us: Option<u64>) -> io::Result<Ready> {
        let timeout_ms: libc::c_int = match timeout_us {
            None => -1,
            Some(us) => libc::c_int::try_from(us.div_ceil(1000)).unwrap_or(libc::c_int::MAX),
        };
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 2];
        // SAFETY: `events` is a live array of 2 epoll_events, and we pass its length.
        let n =
            unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), events.as_mut_ptr(), 2, timeout_ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                return Ok(Ready::default());
            }
            return Err(err);
        }
        let mut ready = Ready::default();
        // n <= 2 = events.len(), checked by the kernel contract; take() bounds it anyway.
        for event in events.iter().take(n as usize) {
            match event.u64 {
                TOKEN_DEVICE => ready.device = true,
                TOKEN_WAKER => ready.waker = true,
                _ => {}
            }
        }
        Ok(ready)
    }
}
