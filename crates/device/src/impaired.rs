//! A device wrapper that puts an [`Impairment`] on any device (TUN or
//! memory), because kernel netem is not available everywhere and a seeded
//! impairment makes runs reproducible.
//!
//! RUNTIME OBLIGATION: impaired packets surface later than the inner device
//! delivered them, when no fd becomes readable. [`Device::poll_at`] reports
//! the earliest such instant, and the runtime must call `recv` (until
//! `Ok(None)`) once that instant has passed even if the readiness fd is not
//! readable. The same `recv` call also transmits delayed outgoing packets
//! when a send-side impairment is configured.

use std::io;
use std::os::fd::RawFd;

use crate::impairment::{Impairment, ImpairmentStats};
use crate::offload::{Offload, RxMeta, TxMeta};
use crate::{Device, Instant};

/// Size of the scratch buffer used to pull packets out of the inner device:
/// the largest IPv4/IPv6 packet, so nothing is truncated on the way in.
const SCRATCH: usize = 65_536;

/// `D` with impairments applied to received and, optionally, sent packets.
#[derive(Debug)]
pub struct ImpairedDevice<D: Device> {
    inner: D,
    rx: Impairment,
    tx: Option<Impairment>,
    scratch: Vec<u8>,
    dropped_truncated: u64,
}

impl<D: Device> ImpairedDevice<D> {
    /// Impair what `inner` receives.
    pub fn new(inner: D, rx: Impairment) -> Self {
        Self {
            inner,
            rx,
            tx: None,
            scratch: vec![0; SCRATCH],
            dropped_truncated: 0,
        }
    }

    /// Also impair what is sent through `inner`.
    pub fn with_send_impairment(mut self, tx: Impairment) -> Self {
        self.tx = Some(tx);
        self
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// Unwrap, discarding any packets still held.
    pub fn into_inner(self) -> D {
        self.inner
    }

    /// What the receive-side impairment has done.
    pub fn rx_stats(&self) -> &ImpairmentStats {
        self.rx.stats()
    }

    /// What the send-side impairment has done, if there is one.
    pub fn tx_stats(&self) -> Option<&ImpairmentStats> {
        self.tx.as_ref().map(|t| t.stats())
    }

    /// Released packets dropped because the caller's buffer was too small.
    pub fn dropped_truncated(&self) -> u64 {
        self.dropped_truncated
    }

    /// Send every outgoing packet whose release time has come.
    pub fn flush(&mut self, now: Instant) -> io::Result<()> {
        if let Some(tx) = self.tx.as_mut() {
            while let Some(packet) = tx.pop(now) {
                self.inner.send(now, &packet)?;
            }
        }
        Ok(())
    }
}

impl<D: Device> Device for ImpairedDevice<D> {
    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.flush(now)?;
        if self.rx.is_identity() && self.rx.is_empty() {
            return self.inner.recv(now, buf);
        }
        loop {
            // Due packets first: they arrived earlier than anything the
            // inner device still holds.
            if let Some(packet) = self.rx.pop(now) {
                let n = packet.len();
                if n <= buf.len() {
                    buf[..n].copy_from_slice(&packet);
                    return Ok(Some(n));
                }
                self.dropped_truncated += 1;
                continue;
            }
            // Pull one packet at a time so the inner fd is drained (and its
            // readiness cleared) by the same loop the runtime already runs.
            match self.inner.recv(now, &mut self.scratch)? {
                Some(n) => self.rx.push(now, &self.scratch[..n]),
                None => return Ok(None),
            }
        }
    }

    fn send(&mut self, now: Instant, packet: &[u8]) -> io::Result<()> {
        match self.tx.as_mut() {
            Some(tx) if !tx.is_identity() => {
                tx.push(now, packet);
                self.flush(now)
            }
            _ => self.inner.send(now, packet),
        }
    }

    fn readiness_fd(&self) -> RawFd {
        self.inner.readiness_fd()
    }

    fn poll_at(&self) -> Option<Instant> {
        [
            self.inner.poll_at(),
            self.rx.poll_at(),
            self.tx.as_ref().and_then(|t| t.poll_at()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn mtu(&self) -> usize {
        self.inner.mtu()
    }

    /// The inner device's name: impairment is a property of the path, not a
    /// different interface.
    fn name(&self) -> String {
        self.inner.name()
    }

    /// The inner device's receive size (its packets pass through whole).
    /// Transmit offload only without a send-side impairment, whose queue
    /// holds plain packets: with one, `send_meta` segments in software.
    fn offload(&self) -> Offload {
        let inner = self.inner.offload();
        if self.tx.as_ref().is_some_and(|t| !t.is_identity()) {
            Offload {
                tso_max_payload: 0,
                tx_checksum: false,
                ..inner
            }
        } else {
            inner
        }
    }

    /// Unimpaired, the inner device's packets and checksum status pass
    /// through; impaired ones come from `recv`, with complete checksums
    /// that the stack verifies (a corrupted packet must be caught).
    fn recv_meta(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<(usize, RxMeta)>> {
        if self.rx.is_identity() && self.rx.is_empty() {
            self.flush(now)?;
            return self.inner.recv_meta(now, buf);
        }
        Ok(self.recv(now, buf)?.map(|n| (n, RxMeta::default())))
    }

    fn send_meta(&mut self, now: Instant, packet: &[u8], meta: TxMeta) -> io::Result<()> {
        match self.tx.as_mut() {
            Some(tx) if !tx.is_identity() => {
                let mut result = Ok(());
                crate::offload::segment(packet, meta, &mut |p| {
                    if result.is_ok() {
                        result = self.send(now, p);
                    }
                });
                result
            }
            _ => self.inner.send_meta(now, packet, meta),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::impairment::ImpairmentConfig;
    use crate::memory;

    fn delay(us: u64) -> Impairment {
        Impairment::new(ImpairmentConfig {
            delay_us: us,
            ..Default::default()
        })
    }

    #[test]
    fn received_packets_are_delayed_and_surface_at_poll_at() {
        let (mut a, b) = memory::pair(1500);
        let mut b = ImpairedDevice::new(b, delay(1000));
        let mut buf = [0u8; 1500];
        a.send(0, b"one").unwrap();
        a.send(0, b"two").unwrap();
        assert_eq!(b.recv(10, &mut buf).unwrap(), None);
        assert_eq!(b.poll_at(), Some(1010));
        // The inner fd was drained although nothing was returned yet.
        assert!(!crate::eventfd::is_readable(b.readiness_fd()));
        assert_eq!(b.recv(1009, &mut buf).unwrap(), None);
        assert_eq!(b.recv(1010, &mut buf).unwrap(), Some(3));
        assert_eq!(&buf[..3], b"one");
        assert_eq!(b.recv(1010, &mut buf).unwrap(), Some(3));
        assert_eq!(&buf[..3], b"two");
        assert_eq!(b.recv(1010, &mut buf).unwrap(), None);
        assert_eq!(b.poll_at(), None);
        assert_eq!(b.rx_stats().passed, 2);
    }

    #[test]
    fn wraps_boxed_dyn_devices() {
        let (mut a, b) = memory::pair(1500);
        let boxed: Box<dyn Device> = Box::new(b);
        let mut b = ImpairedDevice::new(boxed, delay(1));
        let mut buf = [0u8; 8];
        a.send(0, b"dyn").unwrap();
        assert_eq!(b.recv(0, &mut buf).unwrap(), None);
        assert_eq!(b.recv(1, &mut buf).unwrap(), Some(3));
    }

    #[test]
    fn identity_is_transparent() {
        let (mut a, b) = memory::pair(1500);
        let mut b = ImpairedDevice::new(b, Impairment::new(ImpairmentConfig::default()));
        let mut buf = [0u8; 64];
        a.send(5, b"x").unwrap();
        assert_eq!(b.recv(5, &mut buf).unwrap(), Some(1));
        assert_eq!(b.poll_at(), None);
        assert_eq!(b.name(), "memory:b");
    }

    #[test]
    fn send_side_impairment_delays_and_drops() {
        let (a, mut b) = memory::pair(1500);
        let mut a = ImpairedDevice::new(a, Impairment::new(ImpairmentConfig::default()))
            .with_send_impairment(delay(500));
        let mut buf = [0u8; 64];
        a.send(0, b"late").unwrap();
        assert_eq!(b.recv(0, &mut buf).unwrap(), None);
        assert_eq!(a.poll_at(), Some(500));
        // The runtime calls recv when poll_at passes; that sends it.
        assert_eq!(a.recv(500, &mut buf).unwrap(), None);
        assert_eq!(b.recv(500, &mut buf).unwrap(), Some(4));
        assert_eq!(a.tx_stats().unwrap().passed, 1);

        let (a, mut b) = memory::pair(1500);
        let lossy = Impairment::new(ImpairmentConfig {
            loss: 1.0,
            ..Default::default()
        });
        let mut a = ImpairedDevice::new(a, Impairment::new(ImpairmentConfig::default()))
            .with_send_impairment(lossy);
        a.send(0, b"gone").unwrap();
        assert_eq!(b.recv(0, &mut buf).unwrap(), None);
        assert_eq!(a.tx_stats().unwrap().dropped, 1);
    }

    #[test]
    fn lossy_link_is_deterministic_per_seed() {
        fn survivors(seed: u64) -> Vec<u32> {
            let (mut a, b) = memory::pair(1500);
            let imp = Impairment::new(ImpairmentConfig {
                loss: 0.3,
                reorder: 0.2,
                seed,
                ..Default::default()
            });
            let mut b = ImpairedDevice::new(b, imp);
            let mut buf = [0u8; 64];
            let mut got = Vec::new();
            for i in 0..500u32 {
                let now = u64::from(i) * 100;
                a.send(now, &i.to_be_bytes()).unwrap();
                while let Some(n) = b.recv(now, &mut buf).unwrap() {
                    got.push(u32::from_be_bytes(buf[..n].try_into().unwrap()));
                }
            }
            while let Some(t) = b.poll_at() {
                while let Some(n) = b.recv(t, &mut buf).unwrap() {
                    got.push(u32::from_be_bytes(buf[..n].try_into().unwrap()));
                }
            }
            got
        }
        let one = survivors(1);
        assert_eq!(one, survivors(1));
        assert_ne!(one, survivors(2));
        assert!(one.len() > 250 && one.len() < 450, "{}", one.len());
        assert!(one.windows(2).any(|w| w[0] > w[1]), "expected reordering");
    }
}
