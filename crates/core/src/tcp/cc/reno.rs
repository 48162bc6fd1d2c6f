//! Reno / NewReno window arithmetic (RFC 5681, RFC 6582): slow start below
//! ssthresh, one MSS per window above it, halve on fast retransmit, one
//! MSS after a timeout.

use super::{CongestionControl, INITIAL_WINDOW_SEGMENTS};

/// Reno state for one connection.
#[derive(Debug, Clone)]
pub struct Reno {
    cwnd: u32,
    ssthresh: u32,
    /// Bytes acknowledged toward the next congestion-avoidance increment.
    acked_acc: u32,
}

impl Reno {
    /// Initial window of IW segments, ssthresh "arbitrarily high".
    pub fn new(mss: u32) -> Self {
        Reno {
            cwnd: INITIAL_WINDOW_SEGMENTS * mss,
            ssthresh: u32::MAX,
            acked_acc: 0,
        }
    }

    /// Restart from the initial window once the MSS is known.
    pub fn reset(&mut self, mss: u32) {
        *self = Reno::new(mss);
    }

    fn halve(&mut self, flight: u32, mss: u32) {
        self.ssthresh = (flight / 2).max(2 * mss);
        self.acked_acc = 0;
    }
}

impl CongestionControl for Reno {
    fn cwnd(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    fn on_ack(&mut self, acked: u32, mss: u32) {
        if self.cwnd < self.ssthresh {
            // Slow start with appropriate byte counting, L = 1 (RFC 3465).
            self.cwnd = self.cwnd.saturating_add(acked.min(mss));
        } else {
            self.acked_acc = self.acked_acc.saturating_add(acked);
            if self.acked_acc >= self.cwnd {
                self.acked_acc -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(mss);
            }
        }
    }

    fn on_rto(&mut self, flight: u32, mss: u32) {
        self.halve(flight, mss);
        self.cwnd = mss;
    }

    fn on_fast_retransmit(&mut self, flight: u32, mss: u32) {
        self.halve(flight, mss);
        self.cwnd = self.ssthresh + 3 * mss;
    }

    fn on_sack_recovery(&mut self, flight: u32, mss: u32) {
        self.halve(flight, mss);
        self.cwnd = self.ssthresh;
    }

    fn on_dupack_in_recovery(&mut self, mss: u32) {
        self.cwnd = self.cwnd.saturating_add(mss);
    }

    fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        self.cwnd = self.cwnd.saturating_sub(acked).saturating_add(mss).max(mss);
    }

    fn on_recovery_exit(&mut self, flight: u32, mss: u32) {
        self.cwnd = self.ssthresh.min(flight.saturating_add(mss)).max(mss);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_then_avoidance_then_losses() {
        let mss = 1000;
        let mut r = Reno::new(mss);
        assert_eq!(r.cwnd(), 10_000);
        r.on_ack(5000, mss);
        assert_eq!(r.cwnd(), 11_000, "ABC: at most one MSS per ACK");
        r.on_fast_retransmit(20_000, mss);
        assert_eq!((r.ssthresh(), r.cwnd()), (10_000, 13_000));
        r.on_dupack_in_recovery(mss);
        assert_eq!(r.cwnd(), 14_000);
        r.on_recovery_exit(8_000, mss);
        assert_eq!(r.cwnd(), 9_000);
        r.on_ack(1000, mss);
        assert_eq!(r.cwnd(), 10_000);
        for _ in 0..10 {
            r.on_ack(1000, mss);
        }
        assert_eq!(r.cwnd(), 11_000, "one MSS per cwnd of ACKed bytes");
        r.on_rto(11_000, mss);
        assert_eq!((r.ssthresh(), r.cwnd()), (5_500, 1_000));
    }
}
