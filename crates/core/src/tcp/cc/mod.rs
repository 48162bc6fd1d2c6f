//! Congestion control (RFC 5681). The connection asks the controller how
//! many bytes may be in flight and tells it about ACKs and losses; loss
//! detection itself (RTO, duplicate ACKs, NewReno recovery) lives in the
//! connection. Issue 4 makes the algorithm pluggable (Reno, CUBIC).

pub mod reno;

pub use reno::Reno;

/// Initial window in segments (RFC 6928).
pub const INITIAL_WINDOW_SEGMENTS: u32 = 10;

/// What a congestion-control algorithm must provide.
pub trait CongestionControl {
    /// Congestion window in bytes.
    fn cwnd(&self) -> u32;
    /// Slow-start threshold in bytes.
    fn ssthresh(&self) -> u32;
    /// `acked` new bytes were cumulatively acknowledged outside recovery.
    fn on_ack(&mut self, acked: u32, mss: u32);
    /// The retransmission timer expired with `flight` bytes outstanding.
    fn on_rto(&mut self, flight: u32, mss: u32);
    /// Third duplicate ACK: entering fast recovery.
    fn on_fast_retransmit(&mut self, flight: u32, mss: u32);
    /// Third duplicate ACK with a SACK scoreboard (RFC 6675 §5, step
    /// 4.2): ssthresh = cwnd = max(flight / 2, 2·MSS), no inflation — the
    /// pipe estimate paces the recovery.
    fn on_sack_recovery(&mut self, flight: u32, mss: u32);
    /// A further duplicate ACK during fast recovery.
    fn on_dupack_in_recovery(&mut self, mss: u32);
    /// A partial ACK (RFC 6582) of `acked` bytes during recovery.
    fn on_partial_ack(&mut self, acked: u32, mss: u32);
    /// The ACK that ends fast recovery; `flight` is what remains outstanding.
    fn on_recovery_exit(&mut self, flight: u32, mss: u32);
}
