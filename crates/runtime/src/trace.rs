//! Per-packet trace events (opt-in): a one-line summary of every packet
//! in and out, for `tunstack demo` and debugging.

use crate::event::{Direction, SegmentTrace};

/// Summarise one IP packet; `None` when it is not worth a line.
pub(crate) fn summarize(dir: Direction, packet: &[u8]) -> Option<SegmentTrace> {
    // Placeholder until the device crate's segment parser lands.
    Some(SegmentTrace {
        dir,
        src: String::new(),
        dst: String::new(),
        flags: String::new(),
        seq: 0,
        ack: 0,
        window: 0,
        len: u32::try_from(packet.len()).unwrap_or(u32::MAX),
        text: format!("{} {} bytes", dir.as_str(), packet.len()),
    })
}
