//! Counters as (name, value) pairs, for `stats()` in JS.

use tunstack_core::Stats;

/// Counters the runtime keeps itself (device I/O, batching).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeCounters {
    /// Times the thread woke up and processed.
    pub wakeups: u64,
    /// Event batches handed to the sink.
    pub batches: u64,
    /// Packets read from the device.
    pub device_rx_packets: u64,
    /// Packets written to the device.
    pub device_tx_packets: u64,
    /// Device reads that failed.
    pub device_rx_errors: u64,
    /// Device writes that failed (the packet is lost; TCP recovers).
    pub device_tx_errors: u64,
    /// Wake-ups on which reading was held back because too many delivered
    /// bytes were still unconsumed by the sink.
    pub read_throttled: u64,
}

/// The engine's counters followed by the runtime's, with snake_case names.
pub fn stats_pairs(s: &Stats, r: &RuntimeCounters) -> Vec<(&'static str, u64)> {
    // Exhaustive destructuring: a counter added to `Stats` fails to compile
    // here until it is listed, so none is silently missing from JS.
    let Stats {
        ip_in_receives,
        ip_out_requests,
        ip_in_hdr_errors,
        ip_in_csum_errors,
        ip_in_addr_errors,
        ip_in_unknown_protos,
        ip_in_fragments_dropped,
        ip_in_truncated,
        icmp_in_echos,
        icmp_out_echo_reps,
        icmp_in_errors,
        tcp_active_opens,
        tcp_passive_opens,
        tcp_attempt_fails,
        tcp_estab_resets,
        tcp_in_segs,
        tcp_out_segs,
        tcp_retrans_segs,
        tcp_in_errs,
        tcp_in_csum_errors,
        tcp_out_rsts,
        tcp_in_rsts,
        tcp_timeouts,
        tcp_syn_queue_drops,
        tcp_accept_queue_drops,
        tcp_ofo_queued,
        tcp_dup_segs,
        tcp_paws_rejected,
        tcp_abort_on_timeout,
        tcp_abort_on_close,
        tcp_abort_on_data,
        tcp_challenge_acks,
        tcp_ack_skipped,
        tcp_old_acks,
        tcp_rfc1337_ignored,
        tcp_time_wait_overflow,
        tcp_lost_retransmit,
        tcp_loss_probes,
        udp_in_datagrams,
        udp_out_datagrams,
        udp_no_ports,
        udp_in_errors,
    } = s.clone();
    let RuntimeCounters {
        wakeups,
        batches,
        device_rx_packets,
        device_tx_packets,
        device_rx_errors,
        device_tx_errors,
        read_throttled,
    } = r.clone();
    vec![
        ("ip_in_receives", ip_in_receives),
        ("ip_out_requests", ip_out_requests),
        ("ip_in_hdr_errors", ip_in_hdr_errors),
        ("ip_in_csum_errors", ip_in_csum_errors),
        ("ip_in_addr_errors", ip_in_addr_errors),
        ("ip_in_unknown_protos", ip_in_unknown_protos),
        ("ip_in_fragments_dropped", ip_in_fragments_dropped),
        ("ip_in_truncated", ip_in_truncated),
        ("icmp_in_echos", icmp_in_echos),
        ("icmp_out_echo_reps", icmp_out_echo_reps),
        ("icmp_in_errors", icmp_in_errors),
        ("tcp_active_opens", tcp_active_opens),
        ("tcp_passive_opens", tcp_passive_opens),
        ("tcp_attempt_fails", tcp_attempt_fails),
        ("tcp_estab_resets", tcp_estab_resets),
        ("tcp_in_segs", tcp_in_segs),
        ("tcp_out_segs", tcp_out_segs),
        ("tcp_retrans_segs", tcp_retrans_segs),
        ("tcp_in_errs", tcp_in_errs),
        ("tcp_in_csum_errors", tcp_in_csum_errors),
        ("tcp_out_rsts", tcp_out_rsts),
        ("tcp_in_rsts", tcp_in_rsts),
        ("tcp_timeouts", tcp_timeouts),
        ("tcp_syn_queue_drops", tcp_syn_queue_drops),
        ("tcp_accept_queue_drops", tcp_accept_queue_drops),
        ("tcp_ofo_queued", tcp_ofo_queued),
        ("tcp_dup_segs", tcp_dup_segs),
        ("tcp_paws_rejected", tcp_paws_rejected),
        ("tcp_abort_on_timeout", tcp_abort_on_timeout),
        ("tcp_abort_on_close", tcp_abort_on_close),
        ("tcp_abort_on_data", tcp_abort_on_data),
        ("tcp_challenge_acks", tcp_challenge_acks),
        ("tcp_ack_skipped", tcp_ack_skipped),
        ("tcp_old_acks", tcp_old_acks),
        ("tcp_rfc1337_ignored", tcp_rfc1337_ignored),
        ("tcp_time_wait_overflow", tcp_time_wait_overflow),
        ("tcp_lost_retransmit", tcp_lost_retransmit),
        ("tcp_loss_probes", tcp_loss_probes),
        ("udp_in_datagrams", udp_in_datagrams),
        ("udp_out_datagrams", udp_out_datagrams),
        ("udp_no_ports", udp_no_ports),
        ("udp_in_errors", udp_in_errors),
        ("runtime_wakeups", wakeups),
        ("runtime_batches", batches),
        ("device_rx_packets", device_rx_packets),
        ("device_tx_packets", device_tx_packets),
        ("device_rx_errors", device_rx_errors),
        ("device_tx_errors", device_tx_errors),
        ("runtime_read_throttled", read_throttled),
    ]
}
