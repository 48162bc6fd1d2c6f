//! TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018): checked parsing of
//! what a peer sends and the layout of what we send. The layout follows
//! Linux's so captures look familiar: MSS, SACK-permitted folded into the
//! timestamps' padding, NOP-padded window scale, NOP-padded SACK blocks.

use super::seq::Seq;

/// At most this many SACK blocks fit in a header (4 × 8 + 2 ≤ 40).
pub const MAX_SACK_BLOCKS: usize = 4;
/// Room for options in a TCP header.
pub const MAX_OPTIONS_LEN: usize = 40;
/// Bytes the timestamps option takes on the wire (with its 2 NOPs).
pub const TIMESTAMPS_LEN: usize = 12;

/// Up to four SACK blocks `[left, right)`, in the order they are carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SackBlocks {
    blocks: [(Seq, Seq); MAX_SACK_BLOCKS],
    len: u8,
}

impl SackBlocks {
    /// Append a block; ignored when all four slots are taken.
    pub fn push(&mut self, left: Seq, right: Seq) {
        if (self.len as usize) < MAX_SACK_BLOCKS {
            self.blocks[self.len as usize] = (left, right);
            self.len += 1;
        }
    }

    /// The blocks, first one first.
    pub fn as_slice(&self) -> &[(Seq, Seq)] {
        &self.blocks[..self.len as usize]
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// No block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keep only the first `n` blocks.
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n as u8);
    }
}

/// Options found in a segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    /// Window scale shift, already limited to 14 (RFC 7323 §2.3).
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// SACK blocks (RFC 2018), as received.
    pub sack: SackBlocks,
}

/// The option list is malformed (a length of 0 or 1, or past the header,
/// or a known option of the wrong size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadOptions;

const END: u8 = 0;
const NOP: u8 = 1;
const MSS: u8 = 2;
const WSCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;
const SACK: u8 = 5;
const TIMESTAMPS: u8 = 8;

/// Largest window scale shift (RFC 7323 §2.3).
pub const MAX_WSCALE: u8 = 14;

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Parse the option bytes between the fixed header and the data.
pub fn parse(mut bytes: &[u8]) -> Result<TcpOptions, BadOptions> {
    let mut opts = TcpOptions::default();
    // Fast path for what nearly every segment of a timestamps connection
    // carries: NOP, NOP, timestamps (Linux's tcp_fast_parse_options).
    if bytes.len() == TIMESTAMPS_LEN && bytes[..4] == [NOP, NOP, TIMESTAMPS, 10] {
        opts.timestamps = Some((be32(&bytes[4..]), be32(&bytes[8..])));
        return Ok(opts);
    }
    while let Some(&kind) = bytes.first() {
        match kind {
            END => break,
            NOP => bytes = &bytes[1..],
            _ => {
                let len = *bytes.get(1).ok_or(BadOptions)? as usize;
                if len < 2 || len > bytes.len() {
                    return Err(BadOptions);
                }
                let body = &bytes[2..len];
                match (kind, body.len()) {
                    (MSS, 2) => opts.mss = Some(u16::from_be_bytes([body[0], body[1]])),
                    (WSCALE, 1) => opts.wscale = Some(body[0].min(MAX_WSCALE)),
                    (SACK_PERMITTED, 0) => opts.sack_permitted = true,
                    (TIMESTAMPS, 8) => opts.timestamps = Some((be32(body), be32(&body[4..]))),
                    (SACK, n) if n >= 8 && n.is_multiple_of(8) => {
                        // n ≤ 38 because len ≤ 40, so at most four blocks.
                        opts.sack = SackBlocks::default();
                        for b in body.chunks_exact(8) {
                            opts.sack.push(Seq(be32(b)), Seq(be32(&b[4..])));
                        }
                    }
                    (MSS | WSCALE | SACK_PERMITTED | TIMESTAMPS | SACK, _) => {
                        return Err(BadOptions)
                    }
                    _ => {}
                }
                bytes = &bytes[len..];
            }
        }
    }
    Ok(opts)
}

/// Options to put in an outbound segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// Blocks beyond what fits after the other options are left out.
    pub sack: SackBlocks,
}

impl OutOptions {
    /// Bytes of everything but the SACK blocks.
    fn fixed_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.timestamps.is_some() {
            n += TIMESTAMPS_LEN; // SACK-permitted rides in its padding
        } else if self.sack_permitted {
            n += 4;
        }
        if self.wscale.is_some() {
            n += 4;
        }
        n
    }

    /// SACK blocks that fit after the other options.
    fn sack_blocks(&self) -> usize {
        let room = MAX_OPTIONS_LEN.saturating_sub(self.fixed_len() + 4) / 8;
        self.sack.len().min(room)
    }

    /// Bytes `write` appends (a multiple of 4, at most 40).
    pub fn len(&self) -> usize {
        let n = self.sack_blocks();
        self.fixed_len() + if n > 0 { 4 + 8 * n } else { 0 }
    }

    /// No option at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append the options.
    pub fn write(&self, buf: &mut Vec<u8>) {
        if let Some(m) = self.mss {
            buf.extend_from_slice(&[MSS, 4]);
            buf.extend_from_slice(&m.to_be_bytes());
        }
        if let Some((val, ecr)) = self.timestamps {
            if self.sack_permitted {
                buf.extend_from_slice(&[SACK_PERMITTED, 2, TIMESTAMPS, 10]);
            } else {
                buf.extend_from_slice(&[NOP, NOP, TIMESTAMPS, 10]);
            }
            buf.extend_from_slice(&val.to_be_bytes());
            buf.extend_from_slice(&ecr.to_be_bytes());
        } else if self.sack_permitted {
            buf.extend_from_slice(&[NOP, NOP, SACK_PERMITTED, 2]);
        }
        if let Some(s) = self.wscale {
            buf.extend_from_slice(&[NOP, WSCALE, 3, s]);
        }
        let n = self.sack_blocks();
        if n > 0 {
            buf.extend_from_slice(&[NOP, NOP, SACK, 2 + 8 * n as u8]);
            for &(l, r) in &self.sack.as_slice()[..n] {
                buf.extend_from_slice(&l.0.to_be_bytes());
                buf.extend_from_slice(&r.0.to_be_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_syn_options() {
        // MSS 1460, SACK-permitted, timestamps, NOP, wscale 7 (Linux's SYN).
        let b = [
            2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let o = parse(&b).unwrap();
        assert_eq!(o.mss, Some(1460));
        assert!(o.sack_permitted);
        assert_eq!(o.timestamps, Some((1, 0)));
        assert_eq!(o.wscale, Some(7));
    }

    #[test]
    fn the_timestamps_fast_path_agrees_with_the_general_parser() {
        let b = [1, 1, 8, 10, 0, 0, 1, 2, 3, 4, 5, 6];
        let fast = parse(&b).unwrap();
        assert_eq!(fast.timestamps, Some((258, 0x0304_0506)));
        // The same option after an extra NOP pair goes the general way.
        let mut c = vec![1, 1, 1, 1];
        c.extend_from_slice(&b);
        assert_eq!(parse(&c).unwrap(), fast);
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(parse(&[2, 0, 0, 0]), Err(BadOptions));
        assert_eq!(parse(&[30, 1]), Err(BadOptions));
        assert_eq!(parse(&[2, 6, 5, 0xb4]), Err(BadOptions));
        assert_eq!(parse(&[2]), Err(BadOptions));
        assert_eq!(parse(&[2, 3, 5]), Err(BadOptions));
        assert_eq!(parse(&[5, 2]), Err(BadOptions), "SACK without a block");
        assert_eq!(parse(&[5, 6, 0, 0, 0, 0]), Err(BadOptions));
        assert_eq!(parse(&[1, 1, 0, 99]), Ok(TcpOptions::default()));
    }

    #[test]
    fn sack_blocks_round_trip_and_are_limited_by_room() {
        let mut o = OutOptions {
            timestamps: Some((7, 9)),
            ..Default::default()
        };
        for k in 0..4u32 {
            o.sack.push(Seq(100 * k), Seq(100 * k + 50));
        }
        // Timestamps leave room for three blocks: 12 + 4 + 24 = 40.
        assert_eq!(o.len(), 40);
        let mut buf = Vec::new();
        o.write(&mut buf);
        assert_eq!(buf.len(), 40);
        let p = parse(&buf).unwrap();
        assert_eq!(p.timestamps, Some((7, 9)));
        assert_eq!(p.sack.as_slice(), &o.sack.as_slice()[..3]);
        // Without timestamps all four fit: 4 + 32 = 36.
        o.timestamps = None;
        let mut buf = Vec::new();
        o.write(&mut buf);
        assert_eq!((buf.len(), o.len()), (36, 36));
        assert_eq!(parse(&buf).unwrap().sack, o.sack);
    }

    #[test]
    fn syn_options_take_twenty_bytes_like_linux() {
        let o = OutOptions {
            mss: Some(1460),
            wscale: Some(7),
            sack_permitted: true,
            timestamps: Some((1, 0)),
            sack: SackBlocks::default(),
        };
        let mut buf = Vec::new();
        o.write(&mut buf);
        assert_eq!(
            buf,
            [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]
        );
        let p = parse(&buf).unwrap();
        assert_eq!(
            (p.mss, p.wscale, p.sack_permitted, p.timestamps),
            (Some(1460), Some(7), true, Some((1, 0)))
        );
    }
}
