//! CUBIC (RFC 9438), Linux's default congestion control. After a loss the
//! window grows as a cubic function of the time since the congestion
//! avoidance stage began,
//!
//! ```text
//! W_cubic(t) = C·(t − K)³ + W_max,   K = ∛((W_max − cwnd_epoch) / C)
//! ```
//!
//! concave up to the window where the last loss happened (W_max, reached at
//! t = K), then convex beyond it — independent of the RTT, so a long path
//! regains its window as fast as a short one. Where Reno would grow faster
//! (short RTTs, small windows) CUBIC follows an estimate of Reno's window,
//! W_est (the Reno-friendly region, §4.3). Multiplicative decrease uses
//! β_cubic = 0.7 and fast convergence (§4.7) lowers W_max when losses come
//! before the previous W_max was reached, so a new flow gets its share.
//!
//! Windows are in segments (f64) inside this file, as in the RFC; the
//! connection sees bytes. Time is the engine's virtual `now`: nothing here
//! reads a clock. HyStart (Linux's slow-start exit heuristic) is not
//! implemented: slow start runs until ssthresh or a loss, as RFC 9438
//! §4.10 permits.

use super::CongestionControl;
use crate::time::Instant;

/// C: the cubic's aggressiveness, in segments / s³ (RFC 9438 §5.1).
pub const C: f64 = 0.4;
/// β_cubic: multiplicative decrease factor (RFC 9438 §4.6).
pub const BETA: f64 = 0.7;
/// α_cubic: Reno-friendly additive increase per RTT while W_est < W_max,
/// 3(1 − β)/(1 + β), which gives Reno's average rate (RFC 9438 §4.3).
pub const ALPHA: f64 = 3.0 * (1.0 - BETA) / (1.0 + BETA);

/// CUBIC's state between congestion events.
#[derive(Debug, Clone, Default)]
pub struct Cubic {
    /// W_max: the window (segments) just before the last reduction,
    /// lowered by fast convergence; 0 before any congestion event.
    w_max: f64,
    /// K: seconds from the epoch's start until W_cubic reaches W_max.
    k: f64,
    /// Start of the current congestion-avoidance stage (the first ACK in
    /// congestion avoidance after a congestion event or slow start).
    epoch_start: Option<Instant>,
    /// W_est: Reno's window estimate (segments) for the Reno-friendly region.
    w_est: f64,
    /// Fraction of a byte of growth carried to the next ACK.
    frac: f64,
}

impl Cubic {
    /// W_max in segments.
    pub fn w_max(&self) -> f64 {
        self.w_max
    }

    /// K in seconds (valid once an epoch has started).
    pub fn k(&self) -> f64 {
        self.k
    }

    /// W_est in segments.
    pub fn w_est(&self) -> f64 {
        self.w_est
    }

    /// Start of the current congestion-avoidance epoch.
    pub fn epoch_start(&self) -> Option<Instant> {
        self.epoch_start
    }

    /// W_cubic(t) in segments, `t` in seconds since the epoch's start
    /// (RFC 9438 equation 1).
    pub fn w_cubic(&self, t: f64) -> f64 {
        let d = t - self.k;
        C * d * d * d + self.w_max
    }
}

impl CongestionControl for Cubic {
    /// RFC 9438 §4.6–4.7: remember W_max (lowered by fast convergence if
    /// this loss came before the previous W_max was regained), end the
    /// epoch, ssthresh = cwnd·β_cubic (as Linux: the window, not the
    /// flight size, is what CUBIC's W_max reasoning is about).
    fn on_loss(&mut self, _now: Instant, cwnd: u32, _flight: u32, mss: u32) -> u32 {
        let cw = f64::from(cwnd) / f64::from(mss.max(1));
        self.w_max = if cw < self.w_max {
            cw * (1.0 + BETA) / 2.0
        } else {
            cw
        };
        self.epoch_start = None;
        self.frac = 0.0;
        (f64::from(cwnd) * BETA).round() as u32
    }

    fn on_avoidance_ack(
        &mut self,
        now: Instant,
        cwnd: u32,
        acked: u32,
        mss: u32,
        srtt: u64,
    ) -> u32 {
        let m = f64::from(mss.max(1));
        let cw = f64::from(cwnd) / m;
        let start = match self.epoch_start {
            Some(s) => s,
            None => {
                // A new congestion-avoidance stage (RFC 9438 §4.2): K from
                // the window it starts at. Above the last W_max (or with no
                // loss yet) the curve starts at its inflection point.
                self.epoch_start = Some(now);
                if self.w_max > cw {
                    self.k = ((self.w_max - cw) / C).cbrt();
                } else {
                    self.k = 0.0;
                    self.w_max = cw;
                }
                self.w_est = cw;
                self.frac = 0.0;
                now
            }
        };
        let t = now.saturating_sub(start) as f64 / 1e6;
        let rtt = srtt as f64 / 1e6;
        let segs = f64::from(acked) / m;
        // Reno-friendly region (§4.3): W_est grows like Reno's window
        // (α per RTT, 1 once past W_max).
        let alpha = if self.w_est >= self.w_max { 1.0 } else { ALPHA };
        self.w_est += alpha * segs / cw;
        let next = if self.w_cubic(t) < self.w_est {
            self.w_est.max(cw)
        } else {
            // Concave and convex regions (§4.4, §4.5): aim at where the
            // curve will be one RTT from now, at most 1.5·cwnd, and close
            // (target − cwnd)/cwnd of the gap per segment ACKed.
            let target = self.w_cubic(t + rtt).clamp(cw, 1.5 * cw);
            cw + (target - cw) / cw * segs
        };
        let grow = (next - cw) * m + self.frac;
        let whole = grow.floor().max(0.0);
        self.frac = grow - whole;
        cwnd.saturating_add(whole.min(f64::from(u32::MAX)) as u32)
    }

    fn on_restart(&mut self) {
        self.epoch_start = None;
        self.frac = 0.0;
    }
}
