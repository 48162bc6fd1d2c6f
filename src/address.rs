//! Address strings from JS: "10.7.0.2/24", "0.0.0.0", "" (any), ports.

use std::net::{Ipv4Addr, SocketAddrV4};

use tunstack_runtime::SocketId;

use crate::error::{error, invalid, Result};

/// "a.b.c.d/len" (len defaults to 32).
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8)> {
    let (addr, prefix) = match s.trim().split_once('/') {
        Some((a, p)) => {
            let prefix = p
                .parse::<u8>()
                .map_err(|_| invalid(format!("bad prefix length in {s:?}")))?;
            (a, prefix)
        }
        None => (s.trim(), 32),
    };
    if prefix > 32 {
        return Err(invalid(format!(
            "prefix length /{prefix} is not in 0..=32 in {s:?}"
        )));
    }
    Ok((parse_ipv4(addr)?, prefix))
}

/// A dotted-quad IPv4 address; "" means 0.0.0.0 (any).
pub fn parse_ipv4(s: &str) -> Result<Ipv4Addr> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Ipv4Addr::UNSPECIFIED);
    }
    if s.contains(':') {
        return Err(error(
            "EAFNOSUPPORT",
            format!("IPv6 address {s:?} is not supported yet"),
        ));
    }
    s.parse()
        .map_err(|_| invalid(format!("{s:?} is not an IPv4 address")))
}

/// A port number 0..=65535 (Node's code for a bad port).
pub fn parse_port(port: u32) -> Result<u16> {
    u16::try_from(port).map_err(|_| {
        error(
            "ERR_SOCKET_BAD_PORT",
            format!("port should be >= 0 and < 65536, received {port}"),
        )
    })
}

/// host + port.
pub fn socket_addr(host: &str, port: u32) -> Result<SocketAddrV4> {
    Ok(SocketAddrV4::new(parse_ipv4(host)?, parse_port(port)?))
}

/// A socket id from JS (a non-negative integer below 2^53).
pub fn socket_id(id: i64) -> Result<SocketId> {
    u64::try_from(id)
        .map(SocketId)
        .map_err(|_| invalid(format!("bad socket id {id}")))
}

/// A socket id to JS. The engine keeps ids below 2^53 (exact in a double).
pub fn js_id(id: SocketId) -> i64 {
    id.0 as i64
}
