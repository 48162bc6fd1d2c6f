//! Lost-retransmission detection during SACK recovery — the idea of RACK
//! (RFC 8985 §6.2: a segment is lost once enough data sent *after* it has
//! been delivered), in sequence space as Linux's older
//! `tcp_mark_lost_retrans` did it.
//!
//! RFC 6675 resends each hole once per recovery (HighRxt only moves up).
//! If that retransmission is lost too, nothing in RFC 6675 notices: the
//! peer keeps SACKing the new data sent after it, SND.UNA stays put, and
//! only the retransmission timer — 200 ms at least, then a cwnd of one
//! segment — ends the stall. On a path losing 2 % of packets, one
//! retransmission in fifty is lost, so without this a bulk transfer
//! spends most of its time waiting for timeouts.
//!
//! For every retransmission in SACK recovery we remember SND.MAX at the
//! moment it left. When the hole at SND.UNA was retransmitted and the peer
//! has since SACKed more than (DupThresh − 1) segments of data first sent
//! after that moment — the same evidence RFC 6675's IsLost asks for, so
//! the same tolerance of reordering — the retransmission is deemed lost and
//! the head is sent once more. Only the head needs this: a later hole whose
//! retransmission was lost becomes the head when the ACK reaches it, and is
//! checked then. No further cwnd reduction: it is the same loss episode
//! (as Linux, which lowers cwnd once per recovery).

use super::sack::DUPTHRESH;
use super::seq::Seq;
use super::tcb::Tcb;
use crate::env::Env;
use crate::event::Event;

/// Retransmissions remembered per recovery; beyond that, a lost one is left
/// to the retransmission timer (bounded memory against a peer that opens
/// a hole per segment).
const MAX_MARKS: usize = 128;

/// One retransmission in SACK recovery: the resent range `[start, end)` and
/// SND.MAX when it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    start: Seq,
    end: Seq,
    snd_max: Seq,
}

/// The retransmissions of the current SACK recovery. Allocated only when a
/// recovery retransmits.
#[derive(Debug, Default, Clone)]
pub struct RetransmitMarks {
    marks: Vec<Mark>,
}

impl RetransmitMarks {
    /// `[start, end)` was retransmitted with SND.MAX at `snd_max`; replaces
    /// any earlier mark of the same start.
    pub fn record(&mut self, start: Seq, end: Seq, snd_max: Seq) {
        let mark = Mark {
            start,
            end,
            snd_max,
        };
        if let Some(m) = self.marks.iter_mut().find(|m| m.start == start) {
            *m = mark;
        } else if self.marks.len() < MAX_MARKS {
            self.marks.push(mark);
        }
    }

    /// SND.UNA moved to `una`: forget what it covers.
    pub fn ack_to(&mut self, una: Seq) {
        self.marks.retain(|m| una.lt(m.end));
    }

    /// The recovery ended (or a timeout took over): forget everything.
    pub fn clear(&mut self) {
        self.marks = Vec::new();
    }

    /// SND.MAX when the retransmission covering `seq` was sent, if `seq`
    /// was retransmitted in this recovery.
    fn sent_at(&self, seq: Seq) -> Option<Seq> {
        self.marks
            .iter()
            .find(|m| m.start.le(seq) && seq.lt(m.end))
            .map(|m| m.snd_max)
    }
}

impl Tcb {
    /// Remember a retransmission of `[start, end)` if SACK recovery is on.
    pub(crate) fn note_retransmit(&mut self, start: Seq, end: Seq) {
        if self.sack_recovery && start.lt(end) {
            self.rxt_marks.record(start, end, self.snd_max);
        }
    }

    /// After an ACK in SACK recovery: if the retransmission of the head was
    /// lost (see the module documentation), resend the head now.
    pub(crate) fn detect_lost_retransmit(&mut self, env: &mut Env) {
        if !(self.in_recovery && self.sack_recovery) {
            return;
        }
        let una = self.snd_una;
        let Some(sent_at) = self.rxt_marks.sent_at(una) else {
            return;
        };
        let mss = self.eff_mss();
        let delivered_after = self.scoreboard.sacked_between(sent_at, self.snd_max);
        if delivered_after <= (DUPTHRESH - 1) * mss {
            return;
        }
        env.stats.tcp_lost_retransmit += 1;
        let len = self.retransmit_head(env);
        // The head was resent; give it a full RTO to be acknowledged.
        self.timers.rtx = Some(self.clamp_to_user_timeout(env.now + self.rtt.rto()));
        self.emit(
            env,
            Event::Retransmit {
                id: self.id,
                seq: una.0,
                len,
                attempt: 0,
                rto_us: self.rtt.rto(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_found_replaced_pruned_and_bounded() {
        let mut m = RetransmitMarks::default();
        m.record(Seq(100), Seq(200), Seq(1000));
        m.record(Seq(300), Seq(400), Seq(1500));
        assert_eq!(m.sent_at(Seq(150)), Some(Seq(1000)));
        assert_eq!(m.sent_at(Seq(200)), None);
        m.record(Seq(100), Seq(200), Seq(2000));
        assert_eq!(m.sent_at(Seq(100)), Some(Seq(2000)));
        m.ack_to(Seq(200));
        assert_eq!(m.sent_at(Seq(150)), None);
        assert_eq!(m.sent_at(Seq(300)), Some(Seq(1500)));
        m.clear();
        assert_eq!(m.sent_at(Seq(300)), None);
        for i in 0..(MAX_MARKS as u32 + 10) {
            m.record(Seq(i * 10), Seq(i * 10 + 10), Seq(5000));
        }
        assert_eq!(m.marks.len(), MAX_MARKS);
    }
}
