//! Reno / NewReno window arithmetic (RFC 5681, RFC 6582): halve on a
//! loss, one MSS per window of ACKed bytes in congestion avoidance
//! (appropriate byte counting, RFC 3465 §2.1). Slow start and recovery are
//! common to every algorithm (see [`super::Controller`]).

use super::CongestionControl;
use crate::time::Instant;

/// Reno's own state: the bytes ACKed toward the next increment.
#[derive(Debug, Clone, Default)]
pub struct Reno {
    acked_acc: u32,
}

impl CongestionControl for Reno {
    /// RFC 5681 equation (4): ssthresh = max(FlightSize / 2, 2·SMSS).
    fn on_loss(&mut self, _now: Instant, _cwnd: u32, flight: u32, mss: u32) -> u32 {
        self.acked_acc = 0;
        (flight / 2).max(2 * mss)
    }

    /// RFC 3465 §2.1: cwnd grows by one MSS once a whole cwnd of bytes
    /// has been acknowledged.
    fn on_avoidance_ack(
        &mut self,
        _now: Instant,
        cwnd: u32,
        acked: u32,
        mss: u32,
        _srtt: u64,
    ) -> u32 {
        self.acked_acc = self.acked_acc.saturating_add(acked);
        if self.acked_acc >= cwnd {
            self.acked_acc -= cwnd;
            cwnd.saturating_add(mss)
        } else {
            cwnd
        }
    }

    fn on_restart(&mut self) {
        self.acked_acc = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CongestionAlgorithm, Controller};

    #[test]
    fn slow_start_then_avoidance_then_losses() {
        let mss = 1000;
        let mut r = Controller::new(CongestionAlgorithm::Reno, mss);
        r.set_abc_limit(2);
        assert_eq!(r.cwnd(), 10_000, "IW = 10 segments");
        r.on_ack(0, 5000, mss, 0);
        assert_eq!(r.cwnd(), 12_000, "ABC: at most L = 2 MSS per ACK");
        r.on_ack(0, 1000, mss, 0);
        assert_eq!(r.cwnd(), 13_000, "ABC: the bytes ACKed");
        r.on_fast_retransmit(0, 20_000, mss);
        assert_eq!((r.ssthresh(), r.cwnd()), (10_000, 13_000));
        r.on_dupack_in_recovery(mss);
        assert_eq!(r.cwnd(), 14_000);
        r.on_recovery_exit(8_000, mss);
        assert_eq!(r.cwnd(), 9_000);
        r.on_ack(0, 1000, mss, 0);
        assert_eq!(r.cwnd(), 10_000);
        for _ in 0..10 {
            r.on_ack(0, 1000, mss, 0);
        }
        assert_eq!(r.cwnd(), 11_000, "one MSS per cwnd of ACKed bytes");
        r.on_rto(0, 11_000, mss, true);
        assert_eq!((r.ssthresh(), r.cwnd()), (5_500, 1_000));
        r.on_rto(0, 11_000, mss, false);
        assert_eq!(
            (r.ssthresh(), r.cwnd()),
            (5_500, 1_000),
            "a repeated timeout keeps ssthresh"
        );
    }
}
