//! Segmentation and checksum offload between a stack and a device, the way
//! a NIC driver sees it (virtio-net's `virtio_net_hdr`, which a Linux TUN
//! opened with `IFF_VNET_HDR` speaks; see [`crate::tun`]):
//!
//! - receive: the kernel may hand over one TCP "super-segment" of up to
//!   64 KiB that GRO/TSO built from MSS-sized ones, and may leave its
//!   transport checksum partial (the field holds only the pseudo-header
//!   sum) because the data never left the machine;
//! - transmit: the stack may hand the device one TCP segment carrying
//!   several MSS of payload plus the MSS to cut it at (TSO), with the
//!   checksum left partial; the device (the kernel) cuts it and completes
//!   every checksum.
//!
//! [`RxMeta`] and [`TxMeta`] carry that per-packet information without the
//! wire layout; [`Offload`] says what a device accepts. Devices without
//! offload ignore all of it (the `Device` trait's defaults), and the
//! software fallbacks here ([`complete_checksum`], [`segment`]) turn an
//! offloaded packet into plain wire packets for devices, captures and
//! wrappers that need them.

/// What a device can do beyond carrying MTU-sized packets with complete checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offload {
    /// Largest packet `recv` may deliver (the MTU without offload; 64 KiB
    /// with receive offload). Read buffers must be at least this large.
    pub max_rx_packet: usize,
    /// `send_meta` accepts TCP segments with a payload of up to this many
    /// bytes, cut by the device at `TxMeta::gso_size` (TSO); 0 = no TSO.
    pub tso_max_payload: usize,
    /// `send_meta` completes transport checksums marked partial.
    pub tx_checksum: bool,
}

impl Offload {
    /// No offload: packets up to `mtu`, complete checksums both ways.
    pub fn none(mtu: usize) -> Offload {
        Offload {
            max_rx_packet: mtu,
            tso_max_payload: 0,
            tx_checksum: false,
        }
    }
}

/// How far the transport checksum of a received packet can be trusted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RxChecksum {
    /// Nothing is known: the stack verifies it (every device without offload).
    #[default]
    Unverified,
    /// The device verified it (virtio DATA_VALID); the field is complete.
    Valid,
    /// The field holds only the pseudo-header sum and the data never crossed
    /// a wire (virtio NEEDS_CSUM): nothing to verify, the field is not a
    /// checksum. [`complete_checksum`] turns it into one.
    Partial {
        /// Where checksumming starts (the transport header's offset).
        start: u16,
        /// Offset of the checksum field from `start`.
        offset: u16,
    },
}

/// Per-packet receive information.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxMeta {
    /// The transport checksum's status.
    pub checksum: RxChecksum,
}

impl RxMeta {
    /// True when the stack need not verify the transport checksum.
    pub fn checksum_trusted(&self) -> bool {
        self.checksum != RxChecksum::Unverified
    }
}

/// Per-packet transmit information.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxMeta {
    /// TCP segmentation: cut the payload into segments of this many bytes
    /// (the last may be shorter); 0 = send the packet as it is.
    pub gso_size: u16,
    /// The TCP/UDP checksum field holds only the pseudo-header sum (over
    /// the whole packet's transport length); the device completes it.
    pub checksum_partial: bool,
}

impl TxMeta {
    /// A plain packet: nothing for the device to do.
    pub const NONE: TxMeta = TxMeta {
        gso_size: 0,
        checksum_partial: false,
    };

    /// True when the packet can go out as it is.
    pub fn is_plain(&self) -> bool {
        self.gso_size == 0 && !self.checksum_partial
    }
}

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// The transport header of an IPv4 packet: (IP header length, protocol),
/// when the header is readable and the total length fits the slice.
fn ipv4_transport(packet: &[u8]) -> Option<(usize, u8)> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
    if ihl < 20 || total < ihl || total > packet.len() {
        return None;
    }
    Some((ihl, *packet.get(9)?))
}

/// Offset of the checksum field inside a transport header.
fn checksum_field(protocol: u8) -> Option<usize> {
    match protocol {
        PROTO_TCP => Some(16),
        PROTO_UDP => Some(6),
        _ => None,
    }
}

/// Ones' complement sum of `data` as big-endian 16-bit words (RFC 1071).
fn sum16(data: &[u8], mut acc: u64) -> u64 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Complete a partial checksum in place: sum from `start` to the end (the
/// field's pseudo-header sum included) and store the complement at
/// `start + offset`, as the NIC (or the kernel) would. False, packet
/// untouched, when the offsets do not fit the packet.
pub fn complete_checksum_at(packet: &mut [u8], start: usize, offset: usize) -> bool {
    let Some(field) = start.checked_add(offset) else {
        return false;
    };
    if field.checked_add(2).is_none_or(|end| end > packet.len()) {
        return false;
    }
    let mut sum = !fold(sum16(&packet[start..], 0));
    // A computed 0 is sent as all ones (UDP's "no checksum" is 0; TCP
    // accepts either, and the sum verifies the same).
    if sum == 0 && packet.get(9) == Some(&PROTO_UDP) {
        sum = 0xffff;
    }
    packet[field..field + 2].copy_from_slice(&sum.to_be_bytes());
    true
}

/// Complete the transport checksum of an IPv4 TCP/UDP packet whose field
/// holds the pseudo-header sum (a `TxMeta::checksum_partial` packet).
pub fn complete_checksum(packet: &mut [u8]) -> bool {
    let Some((ihl, protocol)) = ipv4_transport(packet) else {
        return false;
    };
    let Some(offset) = checksum_field(protocol) else {
        return false;
    };
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    complete_checksum_at(&mut packet[..total], ihl, offset)
}

/// The pseudo-header sum of an IPv4 packet's transport part of `len` bytes,
/// folded, not complemented: what a partial checksum field holds.
pub fn pseudo_header_sum(packet: &[u8], protocol: u8, len: usize) -> Option<u16> {
    let addrs = packet.get(12..20)?;
    let acc = sum16(addrs, u64::from(protocol) + len as u64);
    Some(fold(acc))
}

/// Cut a TCP/IPv4 segment into segments of at most `meta.gso_size` payload
/// bytes with complete checksums, as the kernel's GSO does: the IP and TCP
/// headers (options included) are copied into each, the sequence number and
/// IP identification advance, FIN and PSH stay on the last segment only.
/// A packet with no segmentation asked for comes back whole (its checksum
/// completed if partial). Calls `out` per packet; false, nothing emitted,
/// for a packet it cannot parse.
pub fn segment(packet: &[u8], meta: TxMeta, out: &mut dyn FnMut(&[u8])) -> bool {
    let Some((ihl, protocol)) = ipv4_transport(packet) else {
        return false;
    };
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    let packet = &packet[..total];
    let gso = usize::from(meta.gso_size);
    let tcp_hdr = if protocol == PROTO_TCP {
        packet
            .get(ihl + 12)
            .map(|b| usize::from(b >> 4) * 4)
            .filter(|&doff| doff >= 20 && ihl + doff <= total)
    } else {
        None
    };
    let doff = match tcp_hdr {
        Some(doff) if gso > 0 && total - ihl - doff > gso => doff,
        _ => {
            // One packet: only its checksum may need work.
            if !meta.checksum_partial {
                out(packet);
                return true;
            }
            let mut copy = packet.to_vec();
            if !complete_checksum(&mut copy) {
                return false;
            }
            out(&copy);
            return true;
        }
    };
    let hdr = ihl + doff;
    let payload = &packet[hdr..];
    let seq0 = u32::from_be_bytes([
        packet[ihl + 4],
        packet[ihl + 5],
        packet[ihl + 6],
        packet[ihl + 7],
    ]);
    let id0 = u16::from_be_bytes([packet[4], packet[5]]);
    let flags = packet[ihl + 13];
    let chunks = payload.chunks(gso);
    let last = chunks.len() - 1;
    let mut buf = Vec::with_capacity(hdr + gso);
    for (i, chunk) in chunks.enumerate() {
        buf.clear();
        buf.extend_from_slice(&packet[..hdr]);
        buf.extend_from_slice(chunk);
        let len = buf.len() as u16; // ≤ total ≤ u16::MAX
        buf[2..4].copy_from_slice(&len.to_be_bytes());
        buf[4..6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
        buf[10..12].copy_from_slice(&[0, 0]);
        let ip_sum = !fold(sum16(&buf[..ihl], 0));
        buf[10..12].copy_from_slice(&ip_sum.to_be_bytes());
        let seq = seq0.wrapping_add((i * gso) as u32);
        buf[ihl + 4..ihl + 8].copy_from_slice(&seq.to_be_bytes());
        // FIN and PSH belong to the end of the data (Linux tcp_gso_segment).
        buf[ihl + 13] = if i == last { flags } else { flags & !0x09 };
        let tcp_len = buf.len() - ihl;
        let pseudo = pseudo_header_sum(&buf, PROTO_TCP, tcp_len).unwrap_or(0);
        buf[ihl + 16..ihl + 18].copy_from_slice(&pseudo.to_be_bytes());
        complete_checksum_at(&mut buf, ihl, 16);
        out(&buf);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCP/IPv4 packet with `payload`, its checksum partial when asked.
    fn tcp_packet(payload: &[u8], flags: u8, partial: bool) -> Vec<u8> {
        let total = 20 + 32 + payload.len();
        let mut p = vec![0u8; total];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[4..6].copy_from_slice(&7u16.to_be_bytes());
        p[8] = 64;
        p[9] = PROTO_TCP;
        p[12..16].copy_from_slice(&[10, 0, 0, 1]);
        p[16..20].copy_from_slice(&[10, 0, 0, 2]);
        let ip_sum = !fold(sum16(&p[..20], 0));
        p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
        p[20..22].copy_from_slice(&1000u16.to_be_bytes());
        p[22..24].copy_from_slice(&80u16.to_be_bytes());
        p[24..28].copy_from_slice(&0xffff_ff00u32.to_be_bytes());
        p[32] = 8 << 4; // 32-byte header: 12 bytes of options
        p[33] = flags;
        p[40..52].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        p[52..].copy_from_slice(payload);
        let pseudo = pseudo_header_sum(&p, PROTO_TCP, total - 20).unwrap();
        p[36..38].copy_from_slice(&pseudo.to_be_bytes());
        if !partial {
            assert!(complete_checksum(&mut p));
        }
        p
    }

    fn verifies(p: &[u8]) -> bool {
        let len = p.len() - 20;
        fold(sum16(
            &p[20..],
            u64::from(PROTO_TCP) + len as u64 + sum_addrs(p),
        )) == 0xffff
            && fold(sum16(&p[..20], 0)) == 0xffff
    }

    fn sum_addrs(p: &[u8]) -> u64 {
        sum16(&p[12..20], 0)
    }

    #[test]
    fn completing_a_partial_checksum_gives_the_full_one() {
        let data: Vec<u8> = (0..999u32).map(|i| (i * 31) as u8).collect();
        let full = tcp_packet(&data, 0x18, false);
        let mut partial = tcp_packet(&data, 0x18, true);
        assert!(verifies(&full));
        assert!(!verifies(&partial));
        assert!(complete_checksum(&mut partial));
        assert_eq!(partial, full);
    }

    #[test]
    fn segmentation_cuts_at_gso_size_and_keeps_fin_psh_last() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let big = tcp_packet(&data, 0x19, true); // FIN|PSH|ACK
        let mut got = Vec::new();
        let meta = TxMeta {
            gso_size: 1448,
            checksum_partial: true,
        };
        assert!(segment(&big, meta, &mut |p| got.push(p.to_vec())));
        assert_eq!(got.len(), 7); // 6 × 1448 + 1312
        let mut joined = Vec::new();
        for (i, p) in got.iter().enumerate() {
            assert!(verifies(p), "segment {i}");
            let seq = u32::from_be_bytes([p[24], p[25], p[26], p[27]]);
            assert_eq!(seq, 0xffff_ff00u32.wrapping_add(i as u32 * 1448));
            assert_eq!(&p[40..52], &big[40..52], "options copied");
            let flags = p[33];
            assert_eq!(flags, if i == 6 { 0x19 } else { 0x10 });
            joined.extend_from_slice(&p[52..]);
        }
        assert_eq!(joined, data);
    }

    #[test]
    fn malformed_packets_are_refused_without_panicking() {
        let meta = TxMeta {
            gso_size: 100,
            checksum_partial: true,
        };
        let good = tcp_packet(&[5; 300], 0x10, true);
        for cut in 0..good.len() {
            let mut short = good[..cut].to_vec();
            let _ = segment(&short, meta, &mut |_| {});
            let _ = complete_checksum(&mut short);
        }
        let mut bad_doff = good.clone();
        bad_doff[32] = 0xf0;
        let _ = segment(&bad_doff, meta, &mut |_| {});
        assert!(!complete_checksum_at(&mut [0u8; 10], 9, 0));
        assert!(!complete_checksum_at(&mut [0u8; 10], usize::MAX, 2));
    }
}
