//! Errors surfaced to users, each mapping to the Node.js error code that
//! `node:net` would give for the same situation.

use core::fmt;

/// An error from a stack operation or the reason a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The peer answered our SYN with RST (`ECONNREFUSED`).
    ConnectionRefused,
    /// The peer reset an established connection (`ECONNRESET`).
    ConnectionReset,
    /// Retransmissions gave up (`ETIMEDOUT`).
    TimedOut,
    /// The local address/port is taken (`EADDRINUSE`).
    AddrInUse,
    /// The local address is not ours, or no ephemeral port is free (`EADDRNOTAVAIL`).
    AddrNotAvailable,
    /// An argument is invalid for this socket or state (`EINVAL`).
    InvalidInput,
    /// Writing after our side was shut down (`EPIPE`).
    BrokenPipe,
    /// The socket is not connected (`ENOTCONN`).
    NotConnected,
    /// A stack-wide limit was reached (`ENOBUFS`).
    NoBuffers,
    /// The socket handle is unknown or already released (`EBADF`).
    BadHandle,
    /// An ICMP error said the network is unreachable (`ENETUNREACH`).
    NetUnreachable,
    /// An ICMP error said the host is unreachable (`EHOSTUNREACH`).
    HostUnreachable,
    /// An ICMP error said the peer does not speak TCP (`ENOPROTOOPT`).
    ProtocolUnreachable,
}

impl Error {
    /// The Node.js `err.code` string for this error.
    pub fn code(self) -> &'static str {
        match self {
            Error::ConnectionRefused => "ECONNREFUSED",
            Error::ConnectionReset => "ECONNRESET",
            Error::TimedOut => "ETIMEDOUT",
            Error::AddrInUse => "EADDRINUSE",
            Error::AddrNotAvailable => "EADDRNOTAVAIL",
            Error::InvalidInput => "EINVAL",
            Error::BrokenPipe => "EPIPE",
            Error::NotConnected => "ENOTCONN",
            Error::NoBuffers => "ENOBUFS",
            Error::BadHandle => "EBADF",
            Error::NetUnreachable => "ENETUNREACH",
            Error::HostUnreachable => "EHOSTUNREACH",
            Error::ProtocolUnreachable => "ENOPROTOOPT",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::ConnectionRefused => "connection refused",
            Error::ConnectionReset => "connection reset by peer",
            Error::TimedOut => "connection timed out",
            Error::AddrInUse => "address already in use",
            Error::AddrNotAvailable => "address not available",
            Error::InvalidInput => "invalid argument",
            Error::BrokenPipe => "broken pipe",
            Error::NotConnected => "socket is not connected",
            Error::NoBuffers => "no buffer space available",
            Error::BadHandle => "bad socket handle",
            Error::NetUnreachable => "network is unreachable",
            Error::HostUnreachable => "no route to host",
            Error::ProtocolUnreachable => "protocol not available",
        };
        write!(f, "{} ({})", text, self.code())
    }
}

impl std::error::Error for Error {}
