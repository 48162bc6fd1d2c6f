//! Urgent data: the URG flag and the urgent pointer (RFC 9293 §3.8.5,
//! RFC 6093). LEGACY: RFC 6093 advises new applications not to use it; it
//! exists for telnet (interrupt process), FTP (ABOR) and rlogin-style
//! peers that still send it.
//!
//! Semantics are Linux's (BSD's), not RFC 1122's: the pointer points to
//! the octet AFTER the last urgent octet (RFC 9293 MUST-62, Linux's
//! default `tcp_stdurg=0`), and only that last octet counts as urgent.
//!
//! Sender: `send(MSG_OOB)` of a buffer sets SND.UP just past its last
//! octet. While SND.UP is ahead of SND.UNA ("urgent mode") every segment
//! whose first octet precedes SND.UP carries URG and the pointer (data,
//! retransmissions, pure ACKs and window probes alike, as Linux's
//! `tcp_transmit_skb` does), so the mark reaches the peer even when the
//! urgent octet itself is held back by the window. Nagle does not delay a
//! connection in urgent mode (Linux's `tcp_nagle_test`).
//!
//! Receiver: a new pointer sets the mark (Linux's `urg_seq`); when the
//! octet at the mark arrives it is captured and announced
//! (`Event::Urgent`, then `tcp_recv_urgent`). Out of band (the default,
//! SO_OOBINLINE off) the octet is skipped when the stream is read; inline
//! it stays in the stream and only its position is reported. A later
//! pointer replaces a mark whose octet was not yet read out of band: the
//! older octet then stays in the stream as ordinary data (Linux's
//! `tcp_check_urg`), unless the reader sits exactly at it.
//!
//! Hostile pointers cannot hurt: a pointer is only an offset from the
//! segment's sequence number; one behind what was received is ignored, one
//! beyond the segment waits for its octet (MUST-32 allows urgent data of
//! any length), and a mark the reader has passed is forgotten, so no
//! comparison spans more than the receive buffer. A zero pointer means
//! "the urgent data ended before this segment" and is ignored (as BSD
//! does; Linux would take the segment's first octet).

use super::segment::{TcpHeader, URG};
use super::seq::Seq;
use super::state::State;
use super::tcb::Tcb;
use crate::env::Env;
use crate::event::Event;

/// Urgent-data state of one connection; boxed in the TCB only once used,
/// so connections that never see URG pay one pointer.
#[derive(Debug, Default)]
pub struct Urgent {
    /// SND.UP: the sequence number just past our last urgent octet, while
    /// it is ahead of SND.UNA.
    pub snd_up: Option<Seq>,
    /// The receive mark: sequence number of the peer's urgent octet, and
    /// whether that octet has arrived.
    mark: Option<Mark>,
    /// The captured octet, waiting for `tcp_recv_urgent`.
    pending: Option<UrgentByte>,
    /// SO_OOBINLINE: the urgent octet stays in the stream.
    pub inline: bool,
    /// Urgent octets taken out of the stream so far (out-of-band mode):
    /// the difference between sequence space and the user's stream.
    removed: u64,
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    seq: Seq,
    arrived: bool,
}

/// One urgent octet as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrgentByte {
    /// The octet.
    pub byte: u8,
    /// Where the mark is in the stream the user reads: the number of
    /// stream bytes that come before it. Inline, the octet itself is the
    /// stream byte at this offset; out of band, it was taken out from
    /// between offsets `offset - 1` and `offset`.
    pub offset: u64,
    /// The octet also stays in the stream (inline mode).
    pub inline: bool,
}

impl Urgent {
    /// An urgent octet waits to be taken.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }
}

impl Tcb {
    fn urgent_state(&mut self) -> &mut Urgent {
        self.urgent.get_or_insert_with(Box::default)
    }

    /// SO_OOBINLINE on or off (applies to what is read from now on).
    pub fn set_urgent_inline(&mut self, inline: bool) {
        if inline || self.urgent.is_some() {
            let u = self.urgent_state();
            u.inline = inline;
            // A byte not yet taken is read according to the new mode.
            if let Some(p) = u.pending.as_mut() {
                p.inline = inline;
            }
        }
    }

    /// The user sent data with MSG_OOB: the last octet queued so far is
    /// urgent. Call after queuing at least one octet.
    pub fn mark_urgent(&mut self) {
        let end = self.send_buf.end_seq();
        self.urgent_state().snd_up = Some(end);
    }

    /// Urgent mode: SND.UP is ahead of SND.UNA. Nagle never holds data back
    /// then.
    #[inline]
    pub fn urgent_mode(&self) -> bool {
        self.urgent.as_ref().is_some_and(|u| u.snd_up.is_some())
    }

    /// The urgent pointer for a segment whose first octet is `seq`, if the
    /// segment must carry URG: SND.UP - seq when it fits in 16 bits;
    /// otherwise 0xFFFF if that still points past everything sent (so the
    /// peer does not mistake sent data for the mark), as Linux does.
    pub fn urgent_pointer(&self, seq: Seq) -> Option<u16> {
        let up = self.urgent.as_ref()?.snd_up?;
        if !seq.lt(up) {
            return None;
        }
        match u16::try_from(up.since(seq)) {
            Ok(p) => Some(p),
            Err(_) if (seq + 0xFFFF).gt(self.snd_max) => Some(0xFFFF),
            Err(_) => None,
        }
    }

    /// ACK processing: urgent mode ends once SND.UNA reaches SND.UP.
    pub fn urgent_acked(&mut self) {
        if let Some(u) = self.urgent.as_deref_mut() {
            if u.snd_up.is_some_and(|up| !self.snd_una.lt(up)) {
                u.snd_up = None;
            }
        }
    }

    /// Sequence number of the first unread octet (Linux's copied_seq).
    fn read_head(&self) -> Seq {
        self.rcv_nxt - self.fin_received as u32 - self.recv_buf.len() as u32
    }

    /// Segment arrival, before its text is queued (RFC 9293 §3.10.7.4,
    /// sixth check): adopt a new urgent pointer, and capture the urgent
    /// octet if this segment's accepted text (`data` at `seq`) holds it.
    pub fn urgent_input(
        &mut self,
        env: &mut Env,
        seg: &TcpHeader,
        urg_ptr: u16,
        seq: Seq,
        data: &[u8],
    ) {
        let waiting = self
            .urgent
            .as_ref()
            .is_some_and(|u| u.mark.is_some_and(|m| !m.arrived));
        if (seg.flags & URG == 0 || urg_ptr == 0) && !waiting {
            return;
        }
        if !matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) || self.fin_received
        {
            return; // no more text will be taken
        }
        if seg.flags & URG != 0 && urg_ptr != 0 {
            // The urgent octet is the one before the pointer (tcp_stdurg=0).
            let ptr = seg.seq + (urg_ptr as u32 - 1);
            self.new_urgent_pointer(ptr);
        }
        let rcv_nxt = self.rcv_nxt;
        let received = self.bytes_received;
        let Some(u) = self.urgent.as_deref_mut() else {
            return;
        };
        let Some(m) = u.mark.as_mut() else { return };
        if m.seq.lt(rcv_nxt) {
            // Passed without being seen (cannot happen in order; be safe).
            u.mark = None;
            return;
        }
        if m.arrived || m.seq.lt(seq) {
            return;
        }
        let off = m.seq.since(seq) as usize;
        let Some(&byte) = data.get(off) else { return };
        m.arrived = true;
        // Stream bytes before the mark: everything received in order, the
        // in-window stretch up to the mark, less what was taken out.
        let offset = (received + m.seq.since(rcv_nxt) as u64).saturating_sub(u.removed);
        u.pending = Some(UrgentByte {
            byte,
            offset,
            inline: u.inline,
        });
        self.emit(env, Event::Urgent { id: self.id });
    }

    /// A pointer to urgent octet `ptr` (Linux's tcp_check_urg).
    fn new_urgent_pointer(&mut self, ptr: Seq) {
        let head = self.read_head();
        if ptr.lt(head) || ptr.lt(self.rcv_nxt) {
            return; // already received: never replay an old mark
        }
        let queued = self.rcv_nxt.since(head) > 0;
        let u = self.urgent_state();
        let mut skip_old = false;
        if let Some(m) = u.mark {
            if !ptr.gt(m.seq) {
                return; // the same mark again (every segment repeats it), or an older one
            }
            // The reader sits at the old urgent octet: it goes, as it
            // would have on the next read.
            skip_old = m.seq == head && m.arrived && !u.inline && queued;
        }
        if skip_old {
            u.removed += 1;
        }
        u.mark = Some(Mark {
            seq: ptr,
            arrived: false,
        });
        u.pending = None; // replaced: the older octet stays in the stream
        if skip_old {
            self.recv_buf.discard(1);
        }
    }

    /// Take the urgent octet announced by `Event::Urgent` (recv MSG_OOB).
    pub fn take_urgent(&mut self) -> Option<UrgentByte> {
        self.urgent.as_deref_mut()?.pending.take()
    }

    /// A user read of up to `max` octets into `out`; out of band, the
    /// urgent octet is skipped. Returns (octets delivered, octets consumed
    /// from the buffer).
    pub fn read_stream(&mut self, out: &mut Vec<u8>, max: usize) -> (usize, usize) {
        let head = self.read_head();
        let avail = self.recv_buf.len();
        let Some(u) = self.urgent.as_deref_mut() else {
            let n = self.recv_buf.read_into(out, max);
            return (n, n);
        };
        let mut delivered = 0;
        let mut consumed = 0;
        if let Some(m) = u.mark {
            let at = m.seq.since(head) as usize;
            if m.seq.ge(head) && at < avail && at < max && !u.inline {
                delivered = self.recv_buf.read_into(out, at);
                self.recv_buf.discard(1);
                u.removed += 1;
                consumed = delivered + 1;
            }
        }
        let n = self.recv_buf.read_into(out, max - delivered);
        delivered += n;
        consumed += n;
        // Forget a mark the reader has passed (Linux clears urg_data).
        let new_head = head + consumed as u32;
        if u.mark.is_some_and(|m| m.seq.lt(new_head)) {
            u.mark = None;
        }
        (delivered, consumed)
    }
}
