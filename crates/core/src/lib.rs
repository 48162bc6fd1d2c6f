//! tunstack-core: a sans-IO TCP/IP engine.
//!
//! The engine never reads a clock, never sleeps and never touches a file
//! descriptor. Time comes in as [`Instant`] (microseconds on any monotonic
//! scale the caller chooses), packets come in through [`Stack::receive`],
//! or, for packets that arrived together, [`Stack::receive_batch`] (one
//! cumulative ACK per batch, RFC 1122 §4.2.2.21),
//! packets go out through [`Stack::transmit`], and what happened is reported
//! through [`Stack::poll_event`]. That is what lets every test run on virtual
//! time and lets the runtime crate drive it from one thread.

pub(crate) mod checksum;
pub mod config;
mod demux;
pub(crate) mod env;
pub mod error;
pub mod event;
pub(crate) mod icmp;
pub(crate) mod ip;
mod ports;
pub(crate) mod random;
pub(crate) mod slab;
pub mod stack;
pub mod stats;
pub mod tcp;
pub mod time;
pub(crate) mod tx;
pub(crate) mod udp;

pub use config::{OffloadConfig, StackConfig, SynCookies, TcpConfig};
pub use error::Error;
pub use event::{
    CongestionCause, Event, IcmpAction, IcmpNote, ListenEvent, SynDropReason, WindowEvent,
};
pub use stack::{
    ListenOptions, ListenerQueues, NetstatEntry, SocketId, Stack, TcpInfo, UrgentByte,
};
pub use stats::Stats;
pub use tcp::cc::CongestionAlgorithm;
pub use tcp::state::State;
pub use time::Instant;
pub use tx::{RxMeta, TxMeta};
