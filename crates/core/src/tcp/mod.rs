//! TCP per RFC 9293. One file per mechanism; see DESIGN.md for the map.

pub(crate) mod ack_batch;
pub mod cc;
pub(crate) mod delayed_ack;
pub(crate) mod icmp_error;
pub(crate) mod input;
pub(crate) mod isn;
pub(crate) mod listen;
pub(crate) mod lost_retransmit;
pub mod options;
pub(crate) mod output;
pub(crate) mod reassembly;
pub(crate) mod retransmit;
pub(crate) mod ring;
pub(crate) mod rtt;
pub(crate) mod sack;
pub mod segment;
pub(crate) mod send_buffer;
pub mod seq;
pub mod state;
pub(crate) mod syn_cookies;
pub(crate) mod tail_loss_probe;
pub(crate) mod tcb;
pub(crate) mod time_wait;
pub(crate) mod timers;
pub(crate) mod timestamps;
pub mod urgent;
