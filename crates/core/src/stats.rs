//! Stack-wide counters, modelled on `nstat` / `netstat -s`.

/// Counters since the stack was created. Every dropped packet increments
/// exactly one `*_drop_*` counter naming why it was dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub ip_in_receives: u64,
    pub ip_out_requests: u64,
    pub ip_in_hdr_errors: u64,
    pub ip_in_csum_errors: u64,
    pub ip_in_addr_errors: u64,
    pub ip_in_unknown_protos: u64,
    pub ip_in_fragments_dropped: u64,
    pub ip_in_truncated: u64,
    pub icmp_in_echos: u64,
    pub icmp_out_echo_reps: u64,
    pub icmp_in_errors: u64,
    /// Destination unreachable messages received (Linux IcmpInDestUnreachs).
    pub icmp_in_dest_unreachs: u64,
    /// Time exceeded messages received (IcmpInTimeExcds).
    pub icmp_in_time_excds: u64,
    /// Parameter problem messages received (IcmpInParmProbs).
    pub icmp_in_parm_probs: u64,
    /// Source quench messages received and ignored (IcmpInSrcQuenchs).
    pub icmp_in_src_quenchs: u64,
    pub tcp_active_opens: u64,
    pub tcp_passive_opens: u64,
    pub tcp_attempt_fails: u64,
    pub tcp_estab_resets: u64,
    pub tcp_in_segs: u64,
    /// Segments built, whatever their size: a TSO segment the device cuts
    /// into several on the wire counts once (as Linux's OutSegs counts
    /// what TCP built before GSO).
    pub tcp_out_segs: u64,
    /// Of those, segments carrying more than one MSS, handed to the device
    /// to be cut (TSO).
    pub tcp_out_tso_segs: u64,
    pub tcp_retrans_segs: u64,
    pub tcp_in_errs: u64,
    pub tcp_in_csum_errors: u64,
    pub tcp_out_rsts: u64,
    pub tcp_in_rsts: u64,
    pub tcp_timeouts: u64,
    pub tcp_syn_queue_drops: u64,
    pub tcp_accept_queue_drops: u64,
    pub tcp_ofo_queued: u64,
    pub tcp_dup_segs: u64,
    /// Segments dropped by PAWS: a timestamp older than TS.Recent (RFC
    /// 7323 §5; Linux's PAWSEstabRejected).
    pub tcp_paws_rejected: u64,
    /// Connections ended by a timeout: retransmissions, zero-window probes
    /// or keepalives unanswered, or the user timeout (Linux TCPAbortOnTimeout).
    pub tcp_abort_on_timeout: u64,
    /// Connections reset because they were closed with unread data
    /// (Linux TCPAbortOnClose).
    pub tcp_abort_on_close: u64,
    /// Connections reset because data arrived after the application
    /// closed them (Linux TCPAbortOnData).
    pub tcp_abort_on_data: u64,
    /// Challenge ACKs sent (RFC 5961; Linux TCPChallengeACK).
    pub tcp_challenge_acks: u64,
    /// Challenge or out-of-window ACKs suppressed by the per-connection
    /// rate limit (Linux TCPACKSkipped*).
    pub tcp_ack_skipped: u64,
    /// Segments whose ACK field was too old to be believed (RFC 5961 §5).
    pub tcp_old_acks: u64,
    /// RSTs ignored in TIME_WAIT (RFC 1337).
    pub tcp_rfc1337_ignored: u64,
    /// TIME_WAIT connections ended early because the bound was reached
    /// (Linux TCPTimeWaitOverflow).
    pub tcp_time_wait_overflow: u64,
    /// SYN cookies sent because a SYN queue was full or cookies are always
    /// on (Linux SyncookiesSent).
    pub tcp_syncookies_sent: u64,
    /// ACKs carrying a valid SYN cookie, each a connection made without a
    /// SYN-queue entry (Linux SyncookiesRecv).
    pub tcp_syncookies_recv: u64,
    /// ACKs to a listener that matched no SYN-queue entry and carried no
    /// valid cookie (Linux SyncookiesFailed).
    pub tcp_syncookies_failed: u64,
    /// ICMP errors quoting a TCP segment whose sequence number is outside
    /// what we have in flight: forged or stale, ignored (RFC 5927 §4.1;
    /// Linux OutOfWindowIcmps).
    pub tcp_out_of_window_icmps: u64,
    /// Path MTU reductions from "fragmentation needed" (RFC 1191).
    pub tcp_pmtu_reductions: u64,
    /// Zero-window probes sent (Linux TCPWinProbe).
    pub tcp_win_probe: u64,
    /// Times the window we advertise went from nonzero to zero: our
    /// application stopped reading (Linux TCPToZeroWindowAdv).
    pub tcp_to_zero_window_adv: u64,
    /// Times the window we advertise went from zero to nonzero: our
    /// application read again (Linux TCPFromZeroWindowAdv).
    pub tcp_from_zero_window_adv: u64,
    /// Retransmissions deemed lost in SACK recovery and sent again before
    /// the retransmission timer (Linux TCPLostRetransmit).
    pub tcp_lost_retransmit: u64,
    /// Tail loss probes sent (RFC 8985 §7; Linux TCPLossProbes).
    pub tcp_loss_probes: u64,
    pub udp_in_datagrams: u64,
    pub udp_out_datagrams: u64,
    pub udp_no_ports: u64,
    pub udp_in_errors: u64,
}
