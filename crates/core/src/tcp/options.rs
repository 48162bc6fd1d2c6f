//! TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018). We send MSS; the
//! others are parsed so that later issues (window scaling, SACK,
//! timestamps) only have to start using them.

/// Options found in a segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: Option<(u32, u32)>,
}

/// The option list is malformed (a length of 0 or 1, or past the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadOptions;

const END: u8 = 0;
const NOP: u8 = 1;
const MSS: u8 = 2;
const WSCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;
const TIMESTAMPS: u8 = 8;

/// Parse the option bytes between the fixed header and the data.
pub fn parse(mut bytes: &[u8]) -> Result<TcpOptions, BadOptions> {
    let mut opts = TcpOptions::default();
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
                    (WSCALE, 1) => opts.wscale = Some(body[0].min(14)),
                    (SACK_PERMITTED, 0) => opts.sack_permitted = true,
                    (TIMESTAMPS, 8) => {
                        let v = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                        let e = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                        opts.timestamps = Some((v, e));
                    }
                    (MSS | WSCALE | SACK_PERMITTED | TIMESTAMPS, _) => return Err(BadOptions),
                    _ => {}
                }
                bytes = &bytes[len..];
            }
        }
    }
    Ok(opts)
}

/// Bytes `write` appends for these options (padded to 4).
pub fn len(mss: Option<u16>) -> usize {
    if mss.is_some() {
        4
    } else {
        0
    }
}

/// Append the options we send.
pub fn write(buf: &mut Vec<u8>, mss: Option<u16>) {
    if let Some(m) = mss {
        buf.extend_from_slice(&[MSS, 4]);
        buf.extend_from_slice(&m.to_be_bytes());
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
    fn rejects_bad_lengths() {
        assert_eq!(parse(&[2, 0, 0, 0]), Err(BadOptions));
        assert_eq!(parse(&[30, 1]), Err(BadOptions));
        assert_eq!(parse(&[2, 6, 5, 0xb4]), Err(BadOptions));
        assert_eq!(parse(&[2]), Err(BadOptions));
        assert_eq!(parse(&[2, 3, 5]), Err(BadOptions));
        assert_eq!(parse(&[1, 1, 0, 99]), Ok(TcpOptions::default()));
    }
}
