//! Retransmission timeout per RFC 6298: SRTT and RTTVAR from samples
//! (taken only from segments never retransmitted — Karn's rule, enforced
//! by the caller), RTO = SRTT + max(G, 4·RTTVAR) bounded by [min, max], and
//! exponential backoff on each expiry.

/// Clock granularity G in µs.
const GRANULARITY: u64 = 1_000;
/// Backoff doublings beyond which the RTO is at its max anyway.
const MAX_BACKOFF: u32 = 16;

/// RTT estimator and RTO for one connection.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: u64,
    rttvar: u64,
    base_rto: u64,
    backoff: u32,
    sampled: bool,
    min: u64,
    max: u64,
}

impl RttEstimator {
    /// Before any sample the RTO is `initial` (RFC 6298 §2.1: 1 s).
    pub fn new(initial: u64, min: u64, max: u64) -> Self {
        RttEstimator {
            srtt: 0,
            rttvar: 0,
            base_rto: initial.clamp(min, max),
            backoff: 0,
            sampled: false,
            min,
            max,
        }
    }

    /// Feed one RTT measurement in µs.
    pub fn sample(&mut self, r: u64) {
        let r = r.max(1);
        if !self.sampled {
            self.srtt = r;
            self.rttvar = r / 2;
            self.sampled = true;
        } else {
            let delta = self.srtt.abs_diff(r);
            self.rttvar = (3 * self.rttvar + delta) / 4;
            self.srtt = (7 * self.srtt + r) / 8;
        }
        self.base_rto = (self.srtt + GRANULARITY.max(4 * self.rttvar)).clamp(self.min, self.max);
    }

    /// The current RTO in µs, backoff included.
    pub fn rto(&self) -> u64 {
        self.base_rto
            .saturating_mul(1 << self.backoff.min(MAX_BACKOFF))
            .min(self.max)
            .max(1)
    }

    /// Double the RTO (RFC 6298 §5.5).
    pub fn back_off(&mut self) {
        self.backoff = (self.backoff + 1).min(MAX_BACKOFF);
    }

    /// New data was acknowledged: collapse the backoff.
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// Doublings applied so far.
    pub fn backoff(&self) -> u32 {
        self.backoff
    }

    /// Smoothed RTT in µs (0 before the first sample).
    pub fn srtt(&self) -> u64 {
        self.srtt
    }

    /// RTT variation in µs.
    pub fn rttvar(&self) -> u64 {
        self.rttvar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6298_arithmetic() {
        let mut r = RttEstimator::new(1_000_000, 200_000, 120_000_000);
        assert_eq!(r.rto(), 1_000_000);
        r.sample(100_000);
        assert_eq!((r.srtt(), r.rttvar()), (100_000, 50_000));
        assert_eq!(r.rto(), 300_000);
        r.sample(200_000);
        // rttvar = (3*50000 + 100000)/4, srtt = (7*100000 + 200000)/8
        assert_eq!((r.srtt(), r.rttvar()), (112_500, 62_500));
        assert_eq!(r.rto(), 362_500);
        r.back_off();
        r.back_off();
        assert_eq!(r.rto(), 1_450_000);
        r.reset_backoff();
        r.sample(1);
        assert!(r.rto() >= 200_000);
        for _ in 0..40 {
            r.back_off();
        }
        assert_eq!(r.rto(), 120_000_000);
    }
}
