//! Plain objects returned to JS (shapes of the interfaces in ts/native.ts).

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use tunstack_runtime::{ListenerQueues, NetstatEntry, TcpInfo};

/// One event of a batch; `type` decides which other fields are set (see
/// ts/native.ts). Besides the contract's types there is
/// 'error' {error: code, text}: the device failed or the stack thread died.
#[napi(object)]
pub struct NativeEvent {
    #[napi(js_name = "type")]
    pub kind: String,
    pub id: Option<i64>,
    pub data: Option<Buffer>,
    pub error: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub len: Option<u32>,
    pub attempt: Option<u32>,
    pub rto_ms: Option<f64>,
    pub dir: Option<String>,
    pub text: Option<String>,
    pub src: Option<String>,
    pub dst: Option<String>,
    pub flags: Option<String>,
    pub window: Option<u32>,
    pub address: Option<String>,
    pub port: Option<u32>,
    /// rst-sent: why; rst-received: what became of it; challenge-ack: what triggered it; listen: the detail.
    pub reason: Option<String>,
    pub cause: Option<String>,
    pub cwnd: Option<u32>,
    pub ssthresh: Option<u32>,
    pub what: Option<String>,
    pub offset: Option<f64>,
    pub inline: Option<bool>,
    /// window-probe: ms until the next probe.
    pub interval_ms: Option<f64>,
    /// icmp: the ICMP type and code of the error.
    pub icmp_type: Option<u32>,
    pub icmp_code: Option<u32>,
    /// icmp path-mtu: the new MSS.
    pub mss: Option<u32>,
}

impl NativeEvent {
    /// An event of `kind` with every optional field absent.
    pub fn new(kind: &str) -> NativeEvent {
        NativeEvent {
            kind: kind.to_string(),
            id: None,
            data: None,
            error: None,
            from: None,
            to: None,
            seq: None,
            ack: None,
            len: None,
            attempt: None,
            rto_ms: None,
            dir: None,
            text: None,
            src: None,
            dst: None,
            flags: None,
            window: None,
            address: None,
            port: None,
            reason: None,
            cause: None,
            cwnd: None,
            ssthresh: None,
            what: None,
            offset: None,
            inline: None,
            interval_ms: None,
            icmp_type: None,
            icmp_code: None,
            mss: None,
        }
    }
}

/// An address and port.
#[napi(object)]
pub struct NativeAddress {
    pub address: String,
    pub port: u32,
}

/// TCP_INFO-like snapshot; times in milliseconds.
#[napi(object)]
pub struct NativeTcpInfo {
    pub state: String,
    pub local_address: String,
    pub local_port: u32,
    pub remote_address: String,
    pub remote_port: u32,
    pub rtt_ms: f64,
    pub rttvar_ms: f64,
    pub rto_ms: f64,
    pub mss: u32,
    pub cwnd: u32,
    pub ssthresh: u32,
    pub snd_wnd: u32,
    pub rcv_wnd: u32,
    pub bytes_in_flight: u32,
    pub backoff: u32,
    pub retransmits: f64,
    pub bytes_acked: f64,
    pub bytes_received: f64,
    pub bytes_sent: f64,
    pub send_queue: u32,
    pub recv_queue: u32,
    pub congestion_control: String,
    pub sacked_segments: u32,
    pub lost_segments: u32,
    pub retransmitted_segments: u32,
    pub total_retransmits: f64,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl From<TcpInfo> for NativeTcpInfo {
    fn from(i: TcpInfo) -> Self {
        NativeTcpInfo {
            state: i.state.name().to_string(),
            local_address: i.local.ip().to_string(),
            local_port: u32::from(i.local.port()),
            remote_address: i.remote.ip().to_string(),
            remote_port: u32::from(i.remote.port()),
            rtt_ms: ms(i.srtt_us),
            rttvar_ms: ms(i.rttvar_us),
            rto_ms: ms(i.rto_us),
            mss: i.mss,
            cwnd: i.cwnd,
            ssthresh: i.ssthresh,
            snd_wnd: i.snd_wnd,
            rcv_wnd: i.rcv_wnd,
            bytes_in_flight: i.bytes_in_flight,
            backoff: i.backoff,
            retransmits: i.total_retransmits as f64,
            bytes_acked: i.bytes_acked as f64,
            bytes_received: i.bytes_received as f64,
            bytes_sent: i.bytes_sent as f64,
            send_queue: i.send_queue,
            recv_queue: i.recv_queue,
            congestion_control: i.congestion_control.name().to_string(),
            sacked_segments: i.sacked_segments,
            lost_segments: i.lost_segments,
            retransmitted_segments: i.retrans_segments,
            total_retransmits: i.total_retransmits as f64,
        }
    }
}

/// A listener's queues and counters.
#[napi(object)]
pub struct NativeQueues {
    pub syn_received: u32,
    pub syn_backlog: u32,
    pub accept_queue: u32,
    pub backlog: u32,
    pub syn_drops: f64,
    pub accept_drops: f64,
    pub cookies_sent: f64,
    pub cookies_validated: f64,
    pub cookies_failed: f64,
}

impl From<ListenerQueues> for NativeQueues {
    fn from(q: ListenerQueues) -> Self {
        NativeQueues {
            syn_received: q.syn_received,
            syn_backlog: q.syn_backlog,
            accept_queue: q.accept_queue,
            backlog: q.backlog,
            syn_drops: q.syn_drops as f64,
            accept_drops: q.accept_drops as f64,
            cookies_sent: q.cookies_sent as f64,
            cookies_validated: q.cookies_validated as f64,
            cookies_failed: q.cookies_failed as f64,
        }
    }
}

/// One line of `netstat()`.
#[napi(object)]
pub struct NativeNetstatEntry {
    pub proto: String,
    pub local_address: String,
    pub local_port: u32,
    pub remote_address: String,
    pub remote_port: u32,
    pub state: String,
    pub recv_q: u32,
    pub send_q: u32,
}

impl From<NetstatEntry> for NativeNetstatEntry {
    fn from(e: NetstatEntry) -> Self {
        NativeNetstatEntry {
            proto: e.proto.to_string(),
            local_address: e.local.ip().to_string(),
            local_port: u32::from(e.local.port()),
            remote_address: e.remote.ip().to_string(),
            remote_port: u32::from(e.remote.port()),
            state: e.state.name().to_string(),
            recv_q: e.recv_q,
            send_q: e.send_q,
        }
    }
}
