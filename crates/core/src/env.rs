//! What every protocol handler writes to: the outbound packet queue, the
//! event queue, the counters and the timer heap, plus the configuration
//! and the current time. Kept apart from the socket table so a connection
//! can be borrowed mutably while it emits packets and events.

use crate::config::StackConfig;
use crate::event::Event;
use crate::ip;
use crate::stats::Stats;
use crate::tcp::ack_batch::AckBatch;
use crate::tcp::isn::IsnGenerator;
use crate::tcp::segment::{self, SegmentOut, RST};
use crate::tcp::syn_cookies::CookieKey;
use crate::tcp::time_wait::TimeWaitList;
use crate::tcp::timers::TimerHeap;
use crate::time::Instant;
use crate::tx::{TxMeta, TxQueue};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Smallest MSS we will use, whatever the peer or the MTU says (Linux's
/// TCP_MIN_MSS): keeps segmentation from degenerating.
pub const MIN_MSS: u32 = 88;

/// Shared outputs and context of the engine.
#[derive(Debug)]
pub struct Env {
    pub config: StackConfig,
    pub now: Instant,
    pub tx: TxQueue,
    pub events: VecDeque<Event>,
    pub stats: Stats,
    pub timers: TimerHeap,
    /// Connections in TIME_WAIT, for its bound.
    pub time_wait: TimeWaitList,
    pub isn: IsnGenerator,
    /// Key of SYN cookies.
    pub cookies: CookieKey,
    /// ACKs deferred to the end of the current receive batch.
    pub ack_batch: AckBatch,
    ip_id: u16,
}

impl Env {
    /// Context for a stack with `config`.
    pub fn new(config: StackConfig) -> Self {
        let isn = IsnGenerator::new(config.seed);
        let cookies = CookieKey::new(config.seed);
        let ip_id = (config.seed >> 16) as u16;
        Env {
            config,
            now: 0,
            tx: TxQueue::default(),
            events: VecDeque::new(),
            stats: Stats::default(),
            timers: TimerHeap::default(),
            time_wait: TimeWaitList::default(),
            isn,
            cookies,
            ack_batch: AckBatch::default(),
            ip_id,
        }
    }

    /// Largest TCP payload the link carries (MTU minus IP and TCP headers).
    pub fn mss_limit(&self) -> u32 {
        (self.config.mtu as u32).saturating_sub(40).max(MIN_MSS)
    }

    /// A fresh IP identification value.
    pub fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    /// Queue one TCP segment from `local` to `remote`.
    pub fn send_tcp(&mut self, local: SocketAddrV4, remote: SocketAddrV4, seg: &SegmentOut) {
        self.send_tcp_gso(local, remote, seg, 0);
    }

    /// Queue one TCP segment whose payload the device cuts into segments of
    /// `gso_size` bytes when it carries more (TSO; 0 = never). With
    /// checksum offload the checksum is left to the device.
    pub fn send_tcp_gso(
        &mut self,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &SegmentOut,
        gso_size: u16,
    ) {
        let id = self.next_ip_id();
        let mut buf = self.tx.buffer();
        let partial = self.config.offload.tx_checksum;
        segment::emit(
            &mut buf,
            *local.ip(),
            *remote.ip(),
            self.config.ttl,
            id,
            seg,
            partial,
        );
        let payload = seg.payload.0.len() + seg.payload.1.len();
        let gso = gso_size > 0 && payload > usize::from(gso_size);
        let meta = TxMeta {
            gso_size: if gso { gso_size } else { 0 },
            checksum_partial: partial,
        };
        self.tx.push_with(buf, meta);
        self.stats.ip_out_requests += 1;
        self.stats.tcp_out_segs += 1;
        self.stats.tcp_out_tso_segs += gso as u64;
        if seg.flags & RST != 0 {
            self.stats.tcp_out_rsts += 1;
        }
    }

    /// Queue an IP packet whose payload `write` appends (`len` bytes).
    pub fn send_ip(
        &mut self,
        dst: Ipv4Addr,
        protocol: u8,
        len: usize,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let id = self.next_ip_id();
        let mut buf = self.tx.buffer();
        let h = ip::HeaderFields {
            src: self.config.address,
            dst,
            protocol,
            ttl: self.config.ttl,
            tos: 0,
            id,
        };
        ip::write_header(&mut buf, &h, len);
        write(&mut buf);
        self.tx.push(buf);
        self.stats.ip_out_requests += 1;
    }
}
