//! The `virtio_net_hdr` a TUN opened with `IFF_VNET_HDR` puts in front
//! of every packet (Linux `include/uapi/linux/virtio_net.h`): what the
//! kernel tells us about a received packet's checksum and segmentation,
//! and what we ask of it for one we send (see [`crate::offload`]).

use crate::offload::{RxChecksum, RxMeta, TxMeta};

/// Size of `struct virtio_net_hdr` (no `num_buffers`): what TUNSETVNETHDRSZ sets.
pub const VNET_HDR_LEN: usize = 10;
pub(crate) const VNET_F_NEEDS_CSUM: u8 = 1;
pub(crate) const VNET_F_DATA_VALID: u8 = 2;
pub(crate) const VNET_GSO_NONE: u8 = 0;
pub(crate) const VNET_GSO_TCPV4: u8 = 1;

/// `struct virtio_net_hdr`, fields in host byte order (a legacy virtio
/// header: the TUN uses native endianness unless TUNSETVNETLE/BE is set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VnetHdr {
    pub flags: u8,
    pub gso_type: u8,
    pub hdr_len: u16,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl VnetHdr {
    pub fn decode(b: &[u8; VNET_HDR_LEN]) -> VnetHdr {
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        }
    }

    pub fn encode(&self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }

    /// What a received header says about a packet of `len` bytes; None
    /// when its checksum offsets point outside the packet (drop it: the
    /// kernel never does that, so the header is not to be trusted).
    pub fn rx_meta(&self, len: usize) -> Option<RxMeta> {
        let checksum = if self.flags & VNET_F_NEEDS_CSUM != 0 {
            let end = usize::from(self.csum_start) + usize::from(self.csum_offset) + 2;
            if end > len {
                return None;
            }
            RxChecksum::Partial {
                start: self.csum_start,
                offset: self.csum_offset,
            }
        } else if self.flags & VNET_F_DATA_VALID != 0 {
            RxChecksum::Valid
        } else {
            RxChecksum::Unverified
        };
        Some(RxMeta { checksum })
    }

    /// The header for sending `packet` as `meta` asks; None when the
    /// packet cannot carry that request (then segment in software).
    pub fn for_tx(packet: &[u8], meta: TxMeta) -> Option<VnetHdr> {
        if meta.is_plain() {
            return Some(VnetHdr::default());
        }
        // Offloads are asked for only on partial checksums, whose field
        // the kernel completes (for GSO: per segment, from the pseudo sum).
        if !meta.checksum_partial {
            return None;
        }
        let first = *packet.first()?;
        let ihl = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || ihl < 20 {
            return None;
        }
        let (offset, transport) = match *packet.get(9)? {
            6 => (16u16, usize::from(packet.get(ihl + 12)? >> 4) * 4),
            17 => (6u16, 8),
            _ => return None,
        };
        let hdr_len = ihl + transport;
        if transport < 8 || hdr_len > packet.len() {
            return None;
        }
        let payload = packet.len() - hdr_len;
        let gso = meta.gso_size > 0 && offset == 16 && payload > usize::from(meta.gso_size);
        Some(VnetHdr {
            flags: VNET_F_NEEDS_CSUM,
            gso_type: if gso { VNET_GSO_TCPV4 } else { VNET_GSO_NONE },
            hdr_len: hdr_len as u16, // ≤ 60 + 60
            gso_size: if gso { meta.gso_size } else { 0 },
            csum_start: ihl as u16,
            csum_offset: offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vnet_header_round_trips_and_bad_checksum_offsets_are_refused() {
        let h = VnetHdr {
            flags: VNET_F_NEEDS_CSUM,
            gso_type: VNET_GSO_TCPV4,
            hdr_len: 52,
            gso_size: 1448,
            csum_start: 20,
            csum_offset: 16,
        };
        assert_eq!(VnetHdr::decode(&h.encode()), h);
        assert_eq!(
            h.rx_meta(38).map(|m| m.checksum),
            Some(RxChecksum::Partial {
                start: 20,
                offset: 16
            })
        );
        // The field would end past the packet: not trusted, dropped.
        assert_eq!(h.rx_meta(37), None);
        let far = VnetHdr {
            csum_start: u16::MAX,
            csum_offset: u16::MAX,
            ..h
        };
        assert_eq!(far.rx_meta(usize::from(u16::MAX)), None);
        let valid = VnetHdr {
            flags: VNET_F_DATA_VALID,
            ..VnetHdr::default()
        };
        assert_eq!(valid.rx_meta(20).unwrap().checksum, RxChecksum::Valid);
        assert_eq!(
            VnetHdr::default().rx_meta(20).unwrap().checksum,
            RxChecksum::Unverified
        );
        // Any ten bytes decode to something handled without panicking.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = [0u8; VNET_HDR_LEN];
            b[..8].copy_from_slice(&x.to_le_bytes());
            b[8..].copy_from_slice(&x.to_be_bytes()[..2]);
            let _ = VnetHdr::decode(&b).rx_meta((x >> 48) as usize);
        }
    }

    #[test]
    fn transmit_header_asks_for_tcp_segmentation_with_partial_checksum() {
        // IPv4 (20) + TCP with 12 bytes of options (32) + 3000 bytes.
        let mut p = vec![0u8; 20 + 32 + 3000];
        p[0] = 0x45;
        p[9] = 6;
        p[20 + 12] = 8 << 4;
        let tso = TxMeta {
            gso_size: 1448,
            checksum_partial: true,
        };
        let h = VnetHdr::for_tx(&p, tso).unwrap();
        assert_eq!(
            h,
            VnetHdr {
                flags: VNET_F_NEEDS_CSUM,
                gso_type: VNET_GSO_TCPV4,
                hdr_len: 52,
                gso_size: 1448,
                csum_start: 20,
                csum_offset: 16,
            }
        );
        // Fits one segment: checksum offload only.
        let small = VnetHdr::for_tx(&p[..52 + 1000], tso).unwrap();
        assert_eq!((small.gso_type, small.gso_size), (VNET_GSO_NONE, 0));
        assert_eq!(VnetHdr::for_tx(&p, TxMeta::NONE), Some(VnetHdr::default()));
        // Segmentation without a partial checksum, or of garbage: refused
        // (the caller segments in software).
        let full = TxMeta {
            gso_size: 1448,
            checksum_partial: false,
        };
        assert_eq!(VnetHdr::for_tx(&p, full), None);
        for cut in 0..52 {
            assert!(VnetHdr::for_tx(&p[..cut], tso).is_none(), "{cut}");
        }
    }
}
