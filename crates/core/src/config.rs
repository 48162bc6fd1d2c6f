//! Stack and TCP tunables. Defaults follow Linux where Linux has a default.

use crate::tcp::cc::CongestionAlgorithm;
use crate::time::{MILLIS, SECONDS};
use std::net::Ipv4Addr;

/// Largest send or receive buffer per connection; larger values are
/// clamped. 16 MiB needs a window scale of 9.
pub const MAX_BUFFER: usize = 16 << 20;

/// Upper bound on the delayed-ACK timeout (RFC 9293 MUST-40: < 0.5 s).
pub const MAX_DELAYED_ACK: u64 = 500 * MILLIS;

/// Per-stack configuration.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Our IPv4 address on the link.
    pub address: Ipv4Addr,
    /// Prefix length of our subnet (e.g. 24). Packets for other addresses
    /// are dropped and counted.
    pub prefix_len: u8,
    /// Link MTU in bytes (IP packet size). The TCP MSS is clamped to it.
    pub mtu: u16,
    /// Seed for ISNs, ephemeral ports and hash keys. Production passes a
    /// real random seed; tests pass a fixed one for determinism.
    pub seed: u64,
    /// Default TTL of packets we originate.
    pub ttl: u8,
    /// TCP tunables.
    pub tcp: TcpConfig,
    /// What the device does for us (segmentation, checksums); none by
    /// default. The runtime sets it from the device it drives.
    pub offload: OffloadConfig,
}

/// Transmit offload of the device under the stack (a TUN with
/// `IFF_VNET_HDR`), the engine's side of what NICs call TSO and checksum
/// offload. Receive offload needs no configuration: any packet up to 64 KiB
/// is accepted, and `Stack::receive_with` says when a checksum need not be
/// verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OffloadConfig {
    /// TCP segmentation offload: new data may go out as one segment of up
    /// to this many payload bytes (a multiple of the MSS, except a tail the
    /// MSS rules would send anyway), which the device cuts at the MSS that
    /// `Stack::transmit_with` reports with it. Retransmissions stay one MSS.
    /// 0 = off: no segment exceeds the MSS.
    pub tso_max_payload: u32,
    /// Leave the TCP checksum of outbound segments to the device: the
    /// field holds the pseudo-header sum and `TxMeta::checksum_partial`
    /// says so.
    pub tx_checksum: bool,
}

impl StackConfig {
    /// A configuration for `address/prefix_len` with every other field at its default.
    pub fn new(address: Ipv4Addr, prefix_len: u8) -> Self {
        StackConfig {
            address,
            prefix_len,
            mtu: 1500,
            seed: 0,
            ttl: 64,
            tcp: TcpConfig::default(),
            offload: OffloadConfig::default(),
        }
    }
}

/// TCP tunables (the ones the literature names; more arrive with later issues).
#[derive(Debug, Clone)]
pub struct TcpConfig {
    /// Maximum segment lifetime in microseconds; TIME_WAIT lasts 2×MSL.
    /// Linux's TIME_WAIT is a fixed 60 s, i.e. MSL = 30 s.
    pub msl: u64,
    /// Data retransmissions before giving up with ETIMEDOUT (Linux tcp_retries2 = 15).
    pub max_retries: u32,
    /// SYN retransmissions before a connect() fails. Default 7: with the
    /// 1 s initial RTO doubling, the attempt lasts 255 s, because RFC 9293
    /// MUST-23 wants a SYN retransmitted for at least 3 minutes. Linux's
    /// tcp_syn_retries = 6 (127 s) falls short of it; set 6 to match Linux.
    pub syn_retries: u32,
    /// SYN-ACK retransmissions for a half-open entry (Linux tcp_synack_retries = 5).
    pub synack_retries: u32,
    /// Initial RTO before any RTT sample (RFC 6298: 1 s).
    pub rto_initial: u64,
    /// Lower bound on the RTO (Linux: 200 ms).
    pub rto_min: u64,
    /// Upper bound on the RTO (Linux: 120 s).
    pub rto_max: u64,
    /// Send buffer size per connection, in bytes (1 to [`MAX_BUFFER`]).
    pub send_buffer: usize,
    /// Receive buffer size per connection, in bytes (1 to [`MAX_BUFFER`]);
    /// the advertised window is the free part of it, and the window scale
    /// we offer is the smallest shift that can express all of it.
    pub recv_buffer: usize,
    /// Offer window scaling on SYNs (RFC 7323; Linux tcp_window_scaling).
    pub window_scaling: bool,
    /// Offer timestamps on SYNs (RFC 7323; Linux tcp_timestamps).
    pub timestamps: bool,
    /// Offer SACK on SYNs (RFC 2018; Linux tcp_sack).
    pub sack: bool,
    /// Send a tail loss probe (RFC 8985 §7) when a flight goes unanswered
    /// for about two round trips, instead of waiting for the RTO; needs
    /// SACK. Linux: on (tcp_early_retrans = 3).
    pub tail_loss_probe: bool,
    /// Delayed-ACK timeout in µs (Linux's minimum ATO: 40 ms), at most
    /// [`MAX_DELAYED_ACK`]. Every second full-size segment is ACKed at once
    /// regardless; 0 ACKs every segment at once.
    pub delayed_ack: u64,
    /// ACK every data segment at once (Linux TCP_QUICKACK, kept on);
    /// sockets can change it with `tcp_set_quickack`.
    pub quick_ack: bool,
    /// Stack-wide bound on half-open (SYN_RECEIVED) entries per listener.
    pub syn_backlog: usize,
    /// SYN cookies (RFC 4987 §3.6; Linux tcp_syncookies): answer SYNs
    /// statelessly when a listener's SYN queue is full (`Auto`, Linux's 1),
    /// for every SYN (`Always`, Linux's 2) or never.
    pub syn_cookies: SynCookies,
    /// Reset a handshake whose completing ACK finds the accept queue full,
    /// instead of dropping the ACK and retransmitting the SYN-ACK (Linux
    /// tcp_abort_on_overflow = 0). A listener can override it.
    pub abort_on_overflow: bool,
    /// Stack-wide bound on connections (all states, listeners excluded).
    pub max_connections: usize,
    /// First ephemeral port (inclusive). Linux: 32768.
    pub ephemeral_first: u16,
    /// Last ephemeral port (inclusive). Linux: 60999.
    pub ephemeral_last: u16,
    /// Ignore a RST that arrives in TIME_WAIT (RFC 1337's remedy for
    /// TIME_WAIT assassination) instead of ending TIME_WAIT early.
    pub rfc1337: bool,
    /// Bound on connections in TIME_WAIT; beyond it the oldest is ended
    /// early and counted (Linux tcp_max_tw_buckets).
    pub max_time_wait: usize,
    /// Idle time before the first keepalive probe when a socket enables
    /// keepalive without giving one, µs (Linux tcp_keepalive_time: 2 h).
    pub keepalive_time: u64,
    /// Interval between unanswered keepalive probes, µs (Linux tcp_keepalive_intvl: 75 s).
    pub keepalive_interval: u64,
    /// Unanswered keepalive probes before ETIMEDOUT (Linux tcp_keepalive_probes: 9).
    pub keepalive_probes: u32,
    /// Give up with ETIMEDOUT when sent data stays unacknowledged (or a
    /// zero window stays closed, or keepalives go unanswered) this long,
    /// µs; 0 = off, the retry counts decide (Linux TCP_USER_TIMEOUT).
    pub user_timeout: u64,
    /// Congestion control of new connections (Linux
    /// net.ipv4.tcp_congestion_control: CUBIC); sockets can change it with
    /// `tcp_set_congestion_control`.
    pub congestion_control: CongestionAlgorithm,
    /// Most segments one ACK may add to cwnd in slow start (RFC 3465's L;
    /// it recommends 2). 0, the default, counts every byte an ACK covers,
    /// as Linux does: peers that coalesce ACKs (GRO) send one per dozens
    /// of segments, and a limit would make slow start crawl.
    pub abc_limit: u32,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            msl: 30 * SECONDS,
            max_retries: 15,
            syn_retries: 7,
            synack_retries: 5,
            rto_initial: SECONDS,
            rto_min: 200 * MILLIS,
            rto_max: 120 * SECONDS,
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            window_scaling: true,
            timestamps: true,
            sack: true,
            tail_loss_probe: true,
            delayed_ack: 40 * MILLIS,
            quick_ack: false,
            syn_backlog: 256,
            syn_cookies: SynCookies::Auto,
            abort_on_overflow: false,
            max_connections: 1 << 20,
            ephemeral_first: 32768,
            ephemeral_last: 60999,
            rfc1337: true,
            max_time_wait: 262_144,
            keepalive_time: 7200 * SECONDS,
            keepalive_interval: 75 * SECONDS,
            keepalive_probes: 9,
            user_timeout: 0,
            congestion_control: CongestionAlgorithm::Cubic,
            abc_limit: 0,
        }
    }
}

/// When a listener answers a SYN with a SYN cookie instead of a half-open entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SynCookies {
    /// Only when the SYN queue is full (Linux tcp_syncookies = 1, the default).
    #[default]
    Auto,
    /// For every SYN (Linux tcp_syncookies = 2): no half-open state at all.
    Always,
    /// Never: SYNs beyond the SYN queue are dropped (tcp_syncookies = 0).
    Never,
}
