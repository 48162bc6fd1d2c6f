//! Per-packet trace events (opt-in): a one-line summary of every packet
//! in and out, for `tunstack demo` and debugging.

use tunstack_device::trace::Protocol;
use tunstack_device::SegmentSummary;

use crate::event::{Direction, SegmentTrace};

/// Summarise one IP packet; `None` when it cannot be parsed (the trace
/// shows what the engine saw, and the engine drops and counts those).
pub(crate) fn summarize(dir: Direction, packet: &[u8]) -> Option<SegmentTrace> {
    let s = SegmentSummary::parse(packet)?;
    let endpoint = |a: std::net::SocketAddr| match s.protocol {
        Protocol::Tcp | Protocol::Udp => a.to_string(),
        _ => a.ip().to_string(),
    };
    Some(SegmentTrace {
        dir,
        src: endpoint(s.src),
        dst: endpoint(s.dst),
        flags: s.flags.clone(),
        seq: s.seq,
        ack: s.ack,
        window: u32::from(s.window),
        len: u32::try_from(s.payload_len).unwrap_or(u32::MAX),
        text: s.to_string(),
    })
}
