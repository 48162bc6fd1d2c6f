//! Congestion control (RFC 5681). The connection asks the controller how
//! many bytes may be in flight and tells it about ACKs and losses; loss
//! detection itself (RTO, duplicate ACKs, NewReno and SACK recovery) lives
//! in the connection.
//!
//! The window arithmetic every algorithm shares — slow start with
//! appropriate byte counting (RFC 3465), the loss window after a timeout,
//! fast-recovery inflation (RFC 5681 §3.2, RFC 6582), the restart window
//! after idle (RFC 5681 §4.1) — is in [`Controller`]. What differs between
//! algorithms — the multiplicative decrease and the growth in congestion
//! avoidance — is behind [`CongestionControl`], implemented by [`Reno`]
//! and [`Cubic`] and dispatched statically through an enum, so the per-ACK
//! path makes no virtual call and allocates nothing.

pub mod cubic;
pub mod reno;

pub use cubic::Cubic;
pub use reno::Reno;

use crate::time::Instant;

/// Initial window in segments (RFC 6928).
pub const INITIAL_WINDOW_SEGMENTS: u32 = 10;

/// The byte cap of RFC 6928's initial window.
pub const INITIAL_WINDOW_BYTES: u32 = 14_600;

/// The initial (and restart) window for segments of `mss` bytes, RFC 6928
/// §2: min(10·MSS, max(2·MSS, 14600)). Ten segments at Ethernet sizes,
/// fewer for larger segments, never below two — RFC 5681 §3.1 makes the
/// initial window an upper bound that MUST be kept, and this is IW10's.
/// (Linux counts ten segments whatever their size; on a jumbo-MTU link it
/// starts with more than the RFC allows.)
pub fn initial_window(mss: u32) -> u32 {
    INITIAL_WINDOW_SEGMENTS
        .saturating_mul(mss)
        .min(mss.saturating_mul(2).max(INITIAL_WINDOW_BYTES))
}

/// RFC 3465 §2.2's appropriate-byte-counting limit in slow start, in
/// segments (L = 2·SMSS), for [`Controller::set_abc_limit`].
pub const ABC_LIMIT_SEGMENTS: u32 = 2;

/// A congestion-control algorithm, chosen per stack
/// ([`crate::TcpConfig::congestion_control`]) and per socket
/// ([`crate::Stack::tcp_set_congestion_control`], like Linux's
/// TCP_CONGESTION).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CongestionAlgorithm {
    /// Reno / NewReno (RFC 5681, RFC 6582).
    Reno,
    /// CUBIC (RFC 9438), Linux's default.
    #[default]
    Cubic,
}

impl CongestionAlgorithm {
    /// The name Linux gives it (`reno`, `cubic`).
    pub fn name(self) -> &'static str {
        match self {
            CongestionAlgorithm::Reno => "reno",
            CongestionAlgorithm::Cubic => "cubic",
        }
    }

    /// The algorithm called `name` (as [`CongestionAlgorithm::name`] spells it).
    pub fn from_name(name: &str) -> Option<CongestionAlgorithm> {
        match name {
            "reno" => Some(CongestionAlgorithm::Reno),
            "cubic" => Some(CongestionAlgorithm::Cubic),
            _ => None,
        }
    }
}

/// What makes an algorithm: its loss response and its congestion-avoidance
/// growth. Slow start, recovery and the loss window are common
/// ([`Controller`]).
pub trait CongestionControl {
    /// A congestion event (fast retransmit, SACK recovery or timeout) with
    /// the window at `cwnd` and `flight` bytes outstanding: update the
    /// algorithm's state and return the new ssthresh in bytes (at least
    /// 2·MSS).
    fn on_loss(&mut self, now: Instant, cwnd: u32, flight: u32, mss: u32) -> u32;
    /// `acked` new bytes acknowledged in congestion avoidance (cwnd ≥
    /// ssthresh, not in recovery): return the new cwnd. `srtt` in µs (0
    /// before the first sample).
    fn on_avoidance_ack(&mut self, now: Instant, cwnd: u32, acked: u32, mss: u32, srtt: u64)
        -> u32;
    /// cwnd was cut back without a loss (restart after idle): the current
    /// growth epoch is over.
    fn on_restart(&mut self);
}

/// The algorithm-specific state.
#[derive(Debug, Clone)]
enum Algorithm {
    Reno(Reno),
    Cubic(Cubic),
}

impl Algorithm {
    fn new(a: CongestionAlgorithm) -> Algorithm {
        match a {
            CongestionAlgorithm::Reno => Algorithm::Reno(Reno::default()),
            CongestionAlgorithm::Cubic => Algorithm::Cubic(Cubic::default()),
        }
    }
}

/// Static dispatch to the algorithm.
macro_rules! dispatch {
    ($alg:expr, $a:ident => $e:expr) => {
        match $alg {
            Algorithm::Reno($a) => $e,
            Algorithm::Cubic($a) => $e,
        }
    };
}

/// One connection's congestion window, slow-start threshold and algorithm.
#[derive(Debug, Clone)]
pub struct Controller {
    cwnd: u32,
    ssthresh: u32,
    alg: Algorithm,
    /// Most segments one ACK may add in slow start; 0 = no limit.
    abc_limit: u32,
}

impl Controller {
    /// The initial window of RFC 6928 ([`initial_window`]), ssthresh
    /// "arbitrarily high" (RFC 5681 §3.1).
    pub fn new(a: CongestionAlgorithm, mss: u32) -> Controller {
        Controller {
            cwnd: initial_window(mss),
            ssthresh: u32::MAX,
            alg: Algorithm::new(a),
            abc_limit: 0,
        }
    }

    /// Restart from the initial window (the MSS became known), keeping
    /// the algorithm and the slow-start limit.
    pub fn reset(&mut self, mss: u32) {
        let abc_limit = self.abc_limit;
        *self = Controller::new(self.algorithm(), mss);
        self.abc_limit = abc_limit;
    }

    /// Limit what one ACK may add to cwnd in slow start to `segments`
    /// MSS (RFC 3465 §2.2 recommends 2); 0 counts every byte an ACK
    /// covers, as Linux's tcp_slow_start does. A receiver that coalesces
    /// ACKs (GRO, or our own per-batch ACKs) sends one per dozens of
    /// segments: with a limit, slow start would crawl.
    pub fn set_abc_limit(&mut self, segments: u32) {
        self.abc_limit = segments;
    }

    /// The algorithm in use.
    pub fn algorithm(&self) -> CongestionAlgorithm {
        match self.alg {
            Algorithm::Reno(_) => CongestionAlgorithm::Reno,
            Algorithm::Cubic(_) => CongestionAlgorithm::Cubic,
        }
    }

    /// Switch algorithm at any time (TCP_CONGESTION): cwnd and ssthresh
    /// carry over, as on Linux; the new algorithm starts with fresh state.
    pub fn set_algorithm(&mut self, a: CongestionAlgorithm) {
        if a != self.algorithm() {
            self.alg = Algorithm::new(a);
        }
    }

    /// Congestion window in bytes.
    #[inline]
    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    /// Slow-start threshold in bytes.
    #[inline]
    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    /// The CUBIC state, if CUBIC is in use (for tests and tracing).
    pub fn cubic(&self) -> Option<&Cubic> {
        match &self.alg {
            Algorithm::Cubic(c) => Some(c),
            Algorithm::Reno(_) => None,
        }
    }

    /// `acked` new bytes were cumulatively acknowledged outside recovery.
    pub fn on_ack(&mut self, now: Instant, acked: u32, mss: u32, srtt: u64) {
        if acked == 0 {
            return;
        }
        if self.cwnd < self.ssthresh {
            // Slow start with appropriate byte counting (RFC 3465): grow
            // by the bytes ACKed (at most the configured L per ACK), and
            // not past ssthresh — what is left over counts toward
            // congestion avoidance, as in Linux's tcp_slow_start.
            let grow = match self.abc_limit {
                0 => acked,
                l => acked.min(l.saturating_mul(mss)),
            };
            let room = self.ssthresh - self.cwnd;
            self.cwnd = self.cwnd.saturating_add(grow.min(room));
            let rest = grow.saturating_sub(room);
            if rest > 0 {
                let cwnd = self.cwnd;
                self.cwnd =
                    dispatch!(&mut self.alg, a => a.on_avoidance_ack(now, cwnd, rest, mss, srtt));
            }
        } else {
            let cwnd = self.cwnd;
            self.cwnd =
                dispatch!(&mut self.alg, a => a.on_avoidance_ack(now, cwnd, acked, mss, srtt));
        }
    }

    fn loss(&mut self, now: Instant, flight: u32, mss: u32) {
        let cwnd = self.cwnd;
        self.ssthresh =
            dispatch!(&mut self.alg, a => a.on_loss(now, cwnd, flight, mss)).max(2 * mss);
    }

    /// The retransmission timer expired with `flight` bytes outstanding.
    /// `first`: the first timeout of this segment — only it lowers
    /// ssthresh (RFC 5681 §3.1: later ones keep it, or the threshold would
    /// collapse to 2·MSS while cwnd is already one segment). cwnd becomes
    /// the loss window, one segment.
    pub fn on_rto(&mut self, now: Instant, flight: u32, mss: u32, first: bool) {
        if first {
            self.loss(now, flight, mss);
        }
        self.cwnd = mss;
    }

    /// Third duplicate ACK without SACK: fast retransmit and NewReno fast
    /// recovery with window inflation (RFC 5681 §3.2 steps 2–3).
    pub fn on_fast_retransmit(&mut self, now: Instant, flight: u32, mss: u32) {
        self.loss(now, flight, mss);
        self.cwnd = self.ssthresh.saturating_add(3 * mss);
    }

    /// Loss detected on the SACK scoreboard (RFC 6675 §5 step 4.2): cwnd =
    /// ssthresh, no inflation — the pipe estimate paces the recovery.
    pub fn on_sack_recovery(&mut self, now: Instant, flight: u32, mss: u32) {
        self.loss(now, flight, mss);
        self.cwnd = self.ssthresh;
    }

    /// A further duplicate ACK during NewReno fast recovery: inflate.
    pub fn on_dupack_in_recovery(&mut self, mss: u32) {
        self.cwnd = self.cwnd.saturating_add(mss);
    }

    /// A partial ACK (RFC 6582 §3.2 step 3) of `acked` bytes: deflate by
    /// the amount acknowledged, add back one MSS.
    pub fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        self.cwnd = self.cwnd.saturating_sub(acked).saturating_add(mss).max(mss);
    }

    /// The ACK that ends recovery; `flight` is what remains outstanding
    /// (RFC 6582 §3.2 step 3, option 1: min(ssthresh, FlightSize + MSS)).
    pub fn on_recovery_exit(&mut self, flight: u32, mss: u32) {
        self.cwnd = self.ssthresh.min(flight.saturating_add(mss)).max(mss);
    }

    /// Sending resumes after an idle period longer than the RTO (RFC 5681
    /// §4.1): cwnd = min(IW, cwnd), the restart window; ssthresh keeps
    /// at least 3/4 of the old cwnd (RFC 2861, as Linux), so slow start
    /// soon brings back most of it. True if cwnd changed.
    pub fn on_idle_restart(&mut self, mss: u32) -> bool {
        let rw = initial_window(mss).min(self.cwnd);
        if rw >= self.cwnd {
            return false;
        }
        self.ssthresh = self.ssthresh.max(self.cwnd / 4 * 3);
        self.cwnd = rw;
        dispatch!(&mut self.alg, a => a.on_restart());
        true
    }
}
