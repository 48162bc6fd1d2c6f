//! Devices carry raw IP packets (no link header) between a stack and the
//! world. CONTRACT: the `Device` trait is what crates/runtime drives; the
//! runtime polls `readiness_fd()` with epoll and calls `recv` until it
//! returns `Ok(None)`.
//!
//! What is here:
//! - [`tun`]: Linux TUN (`IFF_TUN|IFF_NO_PI`), created or attached, optionally
//!   inside a network namespace;
//! - [`memory`]: MemoryLink, two endpoints in one process;
//! - [`offload`]: per-packet segmentation/checksum offload information
//!   (TUN's virtio-net header) and its software fallbacks;
//! - [`impairment`] (sans-IO, seeded) and [`impaired`] (wraps any device);
//! - [`pcap`]: capture writer and a tap that records any device's traffic;
//! - [`trace`]: tcpdump-style one-line packet summaries;
//! - [`rng`]: the seeded generator the impairments (and tests) use.

use std::io;
use std::os::fd::RawFd;

/// Microseconds on the runtime's monotonic clock (same scale as
/// `tunstack_core::Instant`; the device crate does not depend on core).
pub type Instant = u64;

/// A packet device.
pub trait Device: Send {
    /// Read one packet into `buf` without blocking. `Ok(Some(n))` = a packet
    /// of n bytes (truncated packets larger than `buf` are dropped, never
    /// returned partially); `Ok(None)` = nothing more right now.
    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>>;

    /// Send one packet. Never blocks: a full device queue drops the packet
    /// (TCP recovers), counted in the device's statistics.
    fn send(&mut self, now: Instant, packet: &[u8]) -> io::Result<()>;

    /// A file descriptor that becomes readable (level-triggered) when `recv`
    /// may return a packet. For in-memory devices this is an eventfd.
    fn readiness_fd(&self) -> RawFd;

    /// The earliest instant at which `recv` may yield a packet that is held
    /// back now (delay/jitter/rate-limit queues), if any. The runtime must
    /// call `recv` (until `Ok(None)`) once this instant has passed, even when
    /// `readiness_fd()` is not readable: held packets have no fd event.
    fn poll_at(&self) -> Option<Instant>;

    /// The MTU (maximum IP packet size) of the link.
    fn mtu(&self) -> usize;

    /// A human-readable name ("tun0", "memory:a").
    fn name(&self) -> String;

    /// Segmentation and checksum offload this device offers (default: none).
    fn offload(&self) -> Offload {
        Offload::none(self.mtu())
    }

    /// `recv` with what the device knows about the packet's checksum.
    /// Default: `recv`, checksum to be verified. A device with receive
    /// offload may leave a checksum partial here (never in `recv`, whose
    /// packets always carry complete checksums) and may deliver packets up
    /// to `offload().max_rx_packet`.
    fn recv_meta(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<(usize, RxMeta)>> {
        Ok(self.recv(now, buf)?.map(|n| (n, RxMeta::default())))
    }

    /// `send` of a packet that may ask for segmentation or a checksum
    /// (`meta`). Default: done in software ([`offload::segment`]), then
    /// `send` per packet; a packet that cannot be parsed is dropped.
    fn send_meta(&mut self, now: Instant, packet: &[u8], meta: TxMeta) -> io::Result<()> {
        if meta.is_plain() {
            return self.send(now, packet);
        }
        let mut result = Ok(());
        offload::segment(packet, meta, &mut |p| {
            if result.is_ok() {
                result = self.send(now, p);
            }
        });
        result
    }
}

/// Boxed devices are devices, so wrappers compose over `Box<dyn Device>`
/// when the concrete type is chosen at run time (TUN or memory).
impl<D: Device + ?Sized> Device for Box<D> {
    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        (**self).recv(now, buf)
    }
    fn send(&mut self, now: Instant, packet: &[u8]) -> io::Result<()> {
        (**self).send(now, packet)
    }
    fn readiness_fd(&self) -> RawFd {
        (**self).readiness_fd()
    }
    fn poll_at(&self) -> Option<Instant> {
        (**self).poll_at()
    }
    fn mtu(&self) -> usize {
        (**self).mtu()
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn offload(&self) -> Offload {
        (**self).offload()
    }
    fn recv_meta(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<(usize, RxMeta)>> {
        (**self).recv_meta(now, buf)
    }
    fn send_meta(&mut self, now: Instant, packet: &[u8], meta: TxMeta) -> io::Result<()> {
        (**self).send_meta(now, packet, meta)
    }
}

pub mod eventfd;
pub mod impaired;
pub mod impairment;
pub mod memory;
pub mod offload;
pub mod pcap;
pub mod rng;
pub mod trace;
#[cfg(target_os = "linux")]
pub mod tun;
#[cfg(target_os = "linux")]
pub mod vnet_hdr;

pub use impaired::ImpairedDevice;
pub use impairment::{Impairment, ImpairmentConfig, ImpairmentStats};
pub use memory::{LinkSwitch, MemoryDevice, MemoryStats};
pub use offload::{Offload, RxChecksum, RxMeta, TxMeta};
pub use pcap::{PcapTap, PcapWriter};
pub use rng::SplitMix64;
pub use trace::SegmentSummary;
#[cfg(target_os = "linux")]
pub use tun::{TunDevice, TunOptions};
