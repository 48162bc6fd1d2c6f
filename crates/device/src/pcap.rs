//! Packet capture in the classic libpcap format (LINKTYPE_RAW: each record
//! is a bare IPv4/IPv6 packet, which is exactly what our devices carry), so
//! Wireshark and tshark can open what a stack saw.
//!
//! [`PcapTap`] wraps any device and records every packet received from it
//! and sent through it. A capture that fails to write (disk full) stops
//! recording and remembers the error; it never breaks the device.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::RawFd;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::offload::{Offload, RxChecksum, RxMeta, TxMeta};
use crate::{Device, Instant};

/// Magic number of a microsecond-resolution pcap file.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// LINKTYPE_RAW: packets begin with an IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u32 = 101;
/// Default snapshot length: whole packets up to the IP maximum.
pub const DEFAULT_SNAPLEN: u32 = 65_535;

const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;

/// Writes a pcap stream: the global header at construction, then one
/// record per packet. Fields are little-endian; readers detect the byte
/// order from the magic number.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
    packets: u64,
}

impl PcapWriter<BufWriter<File>> {
    /// Create (truncate) a capture file.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::new(BufWriter::new(File::create(path)?))
    }
}

impl<W: Write> PcapWriter<W> {
    /// Start a capture on `out` with [`DEFAULT_SNAPLEN`].
    pub fn new(out: W) -> io::Result<Self> {
        Self::with_snaplen(out, DEFAULT_SNAPLEN)
    }

    /// Start a capture that keeps at most `snaplen` bytes of each packet
    /// (at least 1).
    pub fn with_snaplen(mut out: W, snaplen: u32) -> io::Result<Self> {
        let snaplen = snaplen.max(1);
        let mut header = [0u8; GLOBAL_HEADER_LEN];
        header[0..4].copy_from_slice(&MAGIC_MICROS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0 (timestamps are UTC).
        header[16..20].copy_from_slice(&snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self {
            out,
            snaplen,
            packets: 0,
        })
    }

    /// Append one packet captured at `timestamp_us` (microseconds since the
    /// Unix epoch for Wireshark to show wall-clock times).
    pub fn write_packet(&mut self, timestamp_us: u64, packet: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
        let incl_len = orig_len.min(self.snaplen);
        let secs = u32::try_from(timestamp_us / 1_000_000).unwrap_or(u32::MAX);
        let micros = (timestamp_us % 1_000_000) as u32; // < 10^6, fits
        let mut header = [0u8; RECORD_HEADER_LEN];
        header[0..4].copy_from_slice(&secs.to_le_bytes());
        header[4..8].copy_from_slice(&micros.to_le_bytes());
        header[8..12].copy_from_slice(&incl_len.to_le_bytes());
        header[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(&packet[..incl_len as usize])?;
        self.packets += 1;
        Ok(())
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Push buffered records to the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One record read back from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapRecord {
    /// Capture time, microseconds.
    pub timestamp_us: u64,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// The captured bytes (at most snaplen).
    pub data: Vec<u8>,
}

/// The global header of a capture read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapHeader {
    /// Format version (major, minor).
    pub version: (u16, u16),
    /// Snapshot length.
    pub snaplen: u32,
    /// Link type (101 = raw IP).
    pub linktype: u32,
}

/// Parse a whole microsecond pcap capture (either byte order). For tests
/// and tools; rejects anything malformed or truncated instead of guessing.
pub fn parse(bytes: &[u8]) -> io::Result<(PcapHeader, Vec<PcapRecord>)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("pcap: {what}"));
    let head = bytes
        .get(..GLOBAL_HEADER_LEN)
        .ok_or_else(|| bad("short global header"))?;
    let magic_le = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let little = match magic_le {
        MAGIC_MICROS => true,
        m if m.swap_bytes() == MAGIC_MICROS => false,
        _ => return Err(bad("not a microsecond pcap file")),
    };
    let u16_at = |b: &[u8], i: usize| {
        let v = [b[i], b[i + 1]];
        if little {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        }
    };
    let u32_at = |b: &[u8], i: usize| {
        let v = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if little {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }
    };
    let header = PcapHeader {
        version: (u16_at(head, 4), u16_at(head, 6)),
        snaplen: u32_at(head, 16),
        linktype: u32_at(head, 20),
    };
    let mut records = Vec::new();
    let mut rest = &bytes[GLOBAL_HEADER_LEN..];
    while !rest.is_empty() {
        let rh = rest
            .get(..RECORD_HEADER_LEN)
            .ok_or_else(|| bad("short record header"))?;
        let secs = u64::from(u32_at(rh, 0));
        let micros = u64::from(u32_at(rh, 4));
        if micros >= 1_000_000 {
            return Err(bad("microseconds out of range"));
        }
        let incl = u32_at(rh, 8) as usize;
        let orig_len = u32_at(rh, 12);
        if incl > header.snaplen as usize || incl as u64 > u64::from(orig_len) {
            return Err(bad("record longer than snaplen or original length"));
        }
        let data = rest
            .get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + incl)
            .ok_or_else(|| bad("truncated record"))?;
        records.push(PcapRecord {
            timestamp_us: secs * 1_000_000 + micros,
            orig_len,
            data: data.to_vec(),
        });
        rest = &rest[RECORD_HEADER_LEN + incl..];
    }
    Ok((header, records))
}

/// Microseconds to add to a monotonic device instant `now` to get wall-clock
/// time since the Unix epoch, for [`PcapTap::with_time_offset`].
pub fn wall_clock_offset(now: Instant) -> u64 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros().min(u128::from(u64::MAX)) as u64)
        .unwrap_or(0);
    wall.saturating_sub(now)
}

/// A device wrapper that records every packet received and sent.
#[derive(Debug)]
pub struct PcapTap<D: Device, W: Write + Send = BufWriter<File>> {
    inner: D,
    writer: Option<PcapWriter<W>>,
    time_offset: u64,
    error: Option<io::Error>,
}

impl<D: Device, W: Write + Send> PcapTap<D, W> {
    /// Record `inner`'s traffic into `writer`, timestamps = device instants.
    pub fn new(inner: D, writer: PcapWriter<W>) -> Self {
        Self {
            inner,
            writer: Some(writer),
            time_offset: 0,
            error: None,
        }
    }

    /// Add `offset_us` to every timestamp (see [`wall_clock_offset`]).
    pub fn with_time_offset(mut self, offset_us: u64) -> Self {
        self.time_offset = offset_us;
        self
    }

    /// The first write error, after which recording stopped.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// Packets recorded so far.
    pub fn packets(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.packets())
    }

    /// Flush buffered records (also done when the tap is dropped, if `W`
    /// flushes on drop as `BufWriter` does).
    pub fn flush(&mut self) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// Unwrap into the device and the writer (if recording did not fail).
    pub fn into_parts(self) -> (D, Option<PcapWriter<W>>) {
        (self.inner, self.writer)
    }

    /// Record a packet whose checksum may be partial: the capture shows it
    /// completed, as it leaves the device (the segment itself is recorded
    /// whole, as tcpdump on a host with TSO/GRO shows it).
    fn record_offloaded(&mut self, now: Instant, packet: &[u8], partial: Option<(usize, usize)>) {
        match partial {
            Some((start, offset)) if self.writer.is_some() => {
                let mut copy = packet.to_vec();
                crate::offload::complete_checksum_at(&mut copy, start, offset);
                self.record(now, &copy);
            }
            _ => self.record(now, packet),
        }
    }

    fn record(&mut self, now: Instant, packet: &[u8]) {
        if let Some(w) = self.writer.as_mut() {
            if let Err(e) = w.write_packet(now.saturating_add(self.time_offset), packet) {
                self.error = Some(e);
                self.writer = None;
            }
        }
    }
}

impl<D: Device, W: Write + Send> Device for PcapTap<D, W> {
    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let got = self.inner.recv(now, buf)?;
        if let Some(n) = got {
            // n ≤ buf.len() by the Device contract; `get` keeps a broken
            // inner device from panicking us.
            if let Some(packet) = buf.get(..n) {
                self.record(now, packet);
            }
        }
        Ok(got)
    }

    fn send(&mut self, now: Instant, packet: &[u8]) -> io::Result<()> {
        self.record(now, packet);
        self.inner.send(now, packet)
    }

    fn readiness_fd(&self) -> RawFd {
        self.inner.readiness_fd()
    }

    fn poll_at(&self) -> Option<Instant> {
        self.inner.poll_at()
    }

    fn mtu(&self) -> usize {
        self.inner.mtu()
    }

    fn name(&self) -> String {
        self.inner.name()
    }

    fn offload(&self) -> Offload {
        self.inner.offload()
    }

    fn recv_meta(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<(usize, RxMeta)>> {
        let got = self.inner.recv_meta(now, buf)?;
        if let Some((n, meta)) = got {
            if let Some(packet) = buf.get(..n) {
                let partial = match meta.checksum {
                    RxChecksum::Partial { start, offset } => {
                        Some((usize::from(start), usize::from(offset)))
                    }
                    _ => None,
                };
                self.record_offloaded(now, packet, partial);
            }
        }
        Ok(got)
    }

    fn send_meta(&mut self, now: Instant, packet: &[u8], meta: TxMeta) -> io::Result<()> {
        if meta.checksum_partial && self.writer.is_some() {
            let mut copy = packet.to_vec();
            crate::offload::complete_checksum(&mut copy);
            self.record(now, &copy);
        } else {
            self.record(now, packet);
        }
        self.inner.send_meta(now, packet, meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory;

    #[test]
    fn header_and_records_round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("tunstack-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap");
        let mut w = PcapWriter::create(&path).unwrap();
        w.write_packet(1_700_000_000_123_456, &[0x45, 1, 2, 3])
            .unwrap();
        w.write_packet(2_000_001, &[0x60; 10]).unwrap();
        w.flush().unwrap();
        drop(w);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        // The raw layout, checked byte by byte against the format.
        assert_eq!(&bytes[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&bytes[4..8], &[2, 0, 4, 0]);
        assert_eq!(&bytes[16..20], &65_535u32.to_le_bytes());
        assert_eq!(&bytes[20..24], &[101, 0, 0, 0]);
        assert_eq!(&bytes[24..28], &1_700_000_000u32.to_le_bytes());
        assert_eq!(&bytes[28..32], &123_456u32.to_le_bytes());
        assert_eq!(&bytes[32..36], &4u32.to_le_bytes());
        assert_eq!(&bytes[36..40], &4u32.to_le_bytes());
        assert_eq!(&bytes[40..44], &[0x45, 1, 2, 3]);
        assert_eq!(bytes.len(), 24 + 16 + 4 + 16 + 10);

        let (header, records) = parse(&bytes).unwrap();
        assert_eq!(header.version, (2, 4));
        assert_eq!(header.linktype, LINKTYPE_RAW);
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].timestamp_us, 2_000_001);
        assert_eq!(records[1].data, vec![0x60; 10]);
    }

    #[test]
    fn snaplen_truncates_but_keeps_original_length() {
        let mut w = PcapWriter::with_snaplen(Vec::new(), 8).unwrap();
        w.write_packet(0, &[7u8; 20]).unwrap();
        let (_, records) = parse(&w.into_inner()).unwrap();
        assert_eq!(records[0].data, vec![7u8; 8]);
        assert_eq!(records[0].orig_len, 20);
    }

    #[test]
    fn parse_rejects_garbage_without_panicking() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0u8; 24]).is_err());
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_packet(5, &[1, 2, 3, 4, 5]).unwrap();
        let good = w.into_inner();
        for cut in 25..good.len() {
            assert!(parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        // Big-endian captures are read too.
        let mut be = good.clone();
        for range in [0..4, 16..20, 20..24, 24..28, 28..32, 32..36, 36..40] {
            be[range].reverse();
        }
        be[4..6].reverse();
        be[6..8].reverse();
        let (h, r) = parse(&be).unwrap();
        assert_eq!(h.linktype, LINKTYPE_RAW);
        assert_eq!(r[0].data, vec![1, 2, 3, 4, 5]);
        assert_eq!(r[0].timestamp_us, 5);
    }

    #[test]
    fn tap_records_both_directions_in_order() {
        let (a, mut b) = memory::pair(1500);
        let mut a =
            PcapTap::new(a, PcapWriter::new(Vec::new()).unwrap()).with_time_offset(1_000_000);
        a.send(10, b"\x45out-1").unwrap();
        b.send(20, b"\x45in-1").unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(a.recv(30, &mut buf).unwrap(), Some(5));
        assert_eq!(a.recv(30, &mut buf).unwrap(), None);
        a.send(40, b"\x45out-2").unwrap();
        assert_eq!(a.packets(), 3);
        let mut got = [0u8; 64];
        assert_eq!(b.recv(50, &mut got).unwrap(), Some(6));
        assert_eq!(&got[..6], b"\x45out-1");

        let (_, writer) = a.into_parts();
        let (_, records) = parse(&writer.unwrap().into_inner()).unwrap();
        let seen: Vec<(u64, &[u8])> = records
            .iter()
            .map(|r| (r.timestamp_us, r.data.as_slice()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (1_000_010, &b"\x45out-1"[..]),
                (1_000_030, &b"\x45in-1"[..]),
                (1_000_040, &b"\x45out-2"[..]),
            ]
        );
    }

    #[test]
    fn write_failure_stops_recording_but_not_the_device() {
        struct Failing(usize);
        impl Write for Failing {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(io::Error::other("disk full"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let (a, mut b) = memory::pair(1500);
        let mut a = PcapTap::new(a, PcapWriter::new(Failing(30)).unwrap());
        a.send(0, b"first packet").unwrap();
        assert!(a.error().is_some());
        a.send(0, b"second").unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(b.recv(0, &mut buf).unwrap(), Some(12));
        assert_eq!(b.recv(0, &mut buf).unwrap(), Some(6));
    }

    #[test]
    fn wall_clock_offset_maps_now_to_the_present() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        let off = wall_clock_offset(5_000);
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        assert!(off + 5_000 >= before && off + 5_000 <= after);
    }
}
