//! Passive open: a listener's SYN (half-open) queue and accept queue with
//! Linux semantics. A SYN creates a child connection in SYN_RECEIVED
//! (bounded by `syn_backlog`); the completing ACK moves it to the accept
//! queue, which holds `backlog + 1` entries (Linux's `sk_acceptq_is_full`
//! is `len > backlog`); `tcp_accept` takes it out.
//!
//! Overflows, as Linux handles them: a SYN that finds the SYN queue full is
//! answered with a SYN cookie (syn_cookies.rs; `TcpConfig::syn_cookies`) or
//! dropped; a SYN that finds the accept queue full is dropped. A completing
//! ACK that finds the accept queue full is dropped, so the child stays in
//! SYN_RECEIVED and retransmits its SYN-ACK with backoff while the client
//! already believes it is connected; the client's answer to a later SYN-ACK
//! (or its first data) completes it once the application has accepted
//! enough to make room. With `abort_on_overflow` the handshake is reset
//! instead (Linux tcp_abort_on_overflow). A half-open child expires after
//! `synack_retries` retransmissions; a RST removes it.

use super::cc::CongestionAlgorithm;
use super::output::reply_rst;
use super::segment::TcpHeader;
use super::seq::Seq;
use super::state::State;
use super::syn_cookies;
use super::tcb::Tcb;
use crate::config::SynCookies;
use crate::env::Env;
use crate::event::{Event, ListenEvent, SynDropReason};
use crate::slab::Socket;
use crate::stack::{ListenOptions, ListenerQueues, SocketId, Stack};
use crate::time::Instant;
use std::collections::VecDeque;
use std::net::SocketAddrV4;

/// A listening socket.
#[derive(Debug)]
pub struct Listener {
    pub local: SocketAddrV4,
    pub backlog: u32,
    /// Per-listener override of `TcpConfig::abort_on_overflow`.
    pub abort_on_overflow: Option<bool>,
    /// Children in SYN_RECEIVED.
    pub syn_queue: Vec<SocketId>,
    /// Established children waiting for `tcp_accept`.
    pub accept_queue: VecDeque<SocketId>,
    pub syn_drops: u64,
    pub accept_drops: u64,
    pub cookies_sent: u64,
    /// Congestion control of accepted connections (None: the stack's).
    pub congestion_control: Option<CongestionAlgorithm>,
    pub cookies_validated: u64,
    pub cookies_failed: u64,
    /// When the last cookie was sent: ACKs to the listener are checked as
    /// cookies only while one can still be valid (Linux's
    /// `tcp_synq_no_recent_overflow`), so ordinary stray ACKs cost no hash.
    pub last_cookie_at: Option<Instant>,
    /// SO_OOBINLINE, inherited by accepted connections (urgent.rs).
    pub urgent_inline: bool,
    /// IP_TOS, inherited by connections from their SYN-ACK on.
    pub tos: u8,
}

impl Listener {
    /// A listener on `local` whose accept queue holds `backlog + 1`.
    pub fn new(local: SocketAddrV4, backlog: u32, options: ListenOptions) -> Self {
        Listener {
            local,
            backlog,
            abort_on_overflow: options.abort_on_overflow,
            syn_queue: Vec::new(),
            accept_queue: VecDeque::new(),
            syn_drops: 0,
            accept_drops: 0,
            cookies_sent: 0,
            congestion_control: None,
            cookies_validated: 0,
            cookies_failed: 0,
            last_cookie_at: None,
            urgent_inline: false,
            tos: 0,
        }
    }

    /// Linux's `sk_acceptq_is_full` is `len > backlog`: room while `len <= backlog`.
    pub fn accept_room(&self) -> bool {
        self.accept_queue.len() <= self.backlog as usize
    }

    /// Sizes and counters for `server.queues()`.
    pub fn queues(&self, syn_backlog: usize) -> ListenerQueues {
        ListenerQueues {
            syn_received: self.syn_queue.len() as u32,
            syn_backlog: syn_backlog as u32,
            accept_queue: self.accept_queue.len() as u32,
            backlog: self.backlog,
            syn_drops: self.syn_drops,
            accept_drops: self.accept_drops,
            cookies_sent: self.cookies_sent,
            cookies_validated: self.cookies_validated,
            cookies_failed: self.cookies_failed,
        }
    }
}

impl Stack {
    /// A segment for `local` that matched listener `lid` and no connection
    /// (RFC 9293 §3.10.7.2, LISTEN state).
    pub(crate) fn listen_input(
        &mut self,
        lid: SocketId,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpHeader,
        payload: &[u8],
    ) {
        if seg.rst() {
            return;
        }
        if seg.has_ack() {
            if !seg.syn() && self.cookie_ack_input(lid, local, remote, seg, payload) {
                return;
            }
            reply_rst(&mut self.env, local, remote, seg.seq, Some(seg.ack), 0);
            return;
        }
        if !seg.syn() {
            self.env.stats.tcp_in_errs += 1;
            return;
        }
        let tcp = &self.env.config.tcp;
        let (syn_backlog, mode) = (tcp.syn_backlog, tcp.syn_cookies);
        let at_limit = self.tcp_count >= tcp.max_connections;
        let now = self.env.now;
        let Some(l) = self.sockets.listener_mut(lid) else {
            return;
        };
        let syn_full = l.syn_queue.len() >= syn_backlog;
        let cookie = mode == SynCookies::Always || (syn_full && mode == SynCookies::Auto);
        // The order of Linux's tcp_conn_request: SYN queue (cookies), then
        // the accept queue, which drops SYNs even when cookies are on.
        let drop = if syn_full && !cookie {
            Some(SynDropReason::SynQueueFull)
        } else if !l.accept_room() {
            Some(SynDropReason::AcceptQueueFull)
        } else if at_limit && !cookie {
            Some(SynDropReason::MaxConnections)
        } else {
            None
        };
        if let Some(reason) = drop {
            if reason == SynDropReason::AcceptQueueFull {
                l.accept_drops += 1;
                self.env.stats.tcp_accept_queue_drops += 1;
            } else {
                l.syn_drops += 1;
                self.env.stats.tcp_syn_queue_drops += 1;
            }
            self.listen_event(lid, remote, ListenEvent::SynDropped { reason });
            return;
        }
        if cookie {
            l.cookies_sent += 1;
            self.env.stats.tcp_syncookies_sent += 1;
            l.last_cookie_at = Some(now);
            syn_cookies::send_cookie(&mut self.env, local, remote, seg);
            self.listen_event(lid, remote, ListenEvent::CookieSent);
            return;
        }
        // Data on a SYN is not queued (no TFO): the peer sends it again.
        let iss = self.env.isn.isn(self.env.now, local, remote);
        let id = self.new_child(lid, local, remote, iss, |t, env| {
            t.irs = seg.seq;
            t.rcv_nxt = seg.seq + 1;
            t.rcv_adv = t.rcv_nxt;
            t.negotiate(env, &seg.options);
            t.set_peer_mss(seg.options.mss, env.mss_limit());
            t.snd_wnd = seg.window as u32; // never scaled in a SYN
            t.max_snd_wnd = t.snd_wnd;
            t.snd_wl1 = seg.seq;
            t.snd_wl2 = Seq(0);
        });
        if let Some(t) = self.sockets.tcb_mut(id) {
            t.set_state(&mut self.env, State::SynReceived);
            t.send_syn(&mut self.env);
        }
        self.listen_event(lid, remote, ListenEvent::SynQueued);
        self.after_tcb(id);
    }

    /// An ACK (no SYN, no RST) that reached listener `lid`: if cookies may
    /// be out, check it as one. Returns true when it was handled (a valid
    /// cookie, created or dropped for lack of room); false means "reset it",
    /// like any other ACK to a listener.
    fn cookie_ack_input(
        &mut self,
        lid: SocketId,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &TcpHeader,
        payload: &[u8],
    ) -> bool {
        let tcp = &self.env.config.tcp;
        let (mode, abort_default) = (tcp.syn_cookies, tcp.abort_on_overflow);
        let at_limit = self.tcp_count >= tcp.max_connections;
        let now = self.env.now;
        if mode == SynCookies::Never {
            return false;
        }
        let Some(l) = self.sockets.listener_mut(lid) else {
            return false;
        };
        let recent = l
            .last_cookie_at
            .is_some_and(|t| now.saturating_sub(t) < 2 * syn_cookies::PERIOD);
        if mode != SynCookies::Always && !recent {
            return false;
        }
        let Some(opts) = syn_cookies::check_ack(&self.env, local, remote, seg) else {
            l.cookies_failed += 1;
            self.env.stats.tcp_syncookies_failed += 1;
            self.listen_event(lid, remote, ListenEvent::CookieFailed);
            return false;
        };
        l.cookies_validated += 1;
        self.env.stats.tcp_syncookies_recv += 1;
        if !l.accept_room() || at_limit {
            // As for a half-open child: drop the ACK (the client will send
            // again: its data, or nothing if it only listens) or reset.
            let abort = l.abort_on_overflow.unwrap_or(abort_default);
            l.accept_drops += 1;
            self.env.stats.tcp_accept_queue_drops += 1;
            self.listen_event(lid, remote, ListenEvent::CookieValidated);
            self.listen_event(lid, remote, ListenEvent::AcceptOverflow { abort });
            if abort {
                reply_rst(&mut self.env, local, remote, seg.seq, Some(seg.ack), 0);
            }
            return true;
        }
        self.listen_event(lid, remote, ListenEvent::CookieValidated);
        let id = self.new_child(lid, local, remote, seg.ack - 1, |t, env| {
            t.restore_from_cookie(env, seg, &opts);
        });
        if let Some(t) = self.sockets.tcb_mut(id) {
            t.set_state(&mut self.env, State::SynReceived);
            t.input(&mut self.env, seg, payload, true);
            if t.state == State::SynReceived {
                // The ACK did not complete it (it failed a later check):
                // keep no half-open state without a timer to end it.
                t.terminate(&mut self.env, None);
            }
        }
        self.after_tcb(id);
        true
    }

    /// Queue a listener event.
    fn listen_event(&mut self, listener: SocketId, remote: SocketAddrV4, what: ListenEvent) {
        self.env.events.push_back(Event::Listen {
            listener,
            remote,
            what,
        });
    }

    /// Post-processing after a connection handled input, a timer or a call:
    /// keep its heap entry, move a completed child to the accept queue,
    /// forget a closed connection's 4-tuple, free it when nobody holds it.
    /// A passive child of listener `lid` (from a SYN, or from a valid cookie
    /// ACK): created with the listener's settings, shaped by `init`, and
    /// filed in the demux table and the listener's SYN queue. Its state is
    /// LISTEN until the caller moves it on.
    fn new_child(
        &mut self,
        lid: SocketId,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: Seq,
        init: impl FnOnce(&mut Tcb, &Env),
    ) -> SocketId {
        let (cc, tos) = self
            .sockets
            .listener(lid)
            .map_or((None, 0), |l| (l.congestion_control, l.tos));
        let env = &self.env;
        let id = self.sockets.insert_with(|id| {
            let mut t = Tcb::new(id, local, remote, iss, env);
            t.parent = Some(lid);
            t.tos = tos;
            if let Some(a) = cc {
                t.cc.set_algorithm(a);
            }
            t.state = State::Listen;
            init(&mut t, env);
            Socket::Tcp(Box::new(t))
        });
        self.tcp_count += 1;
        self.conns.insert((local, remote), id);
        if let Some(l) = self.sockets.listener_mut(lid) {
            l.syn_queue.push(id);
        }
        self.env.stats.tcp_passive_opens += 1;
        id
    }

    pub(crate) fn after_tcb(&mut self, id: SocketId) {
        let Some(t) = self.sockets.tcb_mut(id) else {
            return;
        };
        if std::mem::take(&mut t.accept_overflow) {
            let (parent, remote) = (t.parent, t.remote);
            if let Some(lid) = parent {
                self.accept_overflow(lid, id, remote);
            }
        }
        let Some(t) = self.sockets.tcb_mut(id) else {
            return;
        };
        t.timers.sync(id, &mut self.env.timers);
        let (state, parent, in_aq, orphan, key) = (
            t.state,
            t.parent,
            t.in_accept_queue,
            t.orphan,
            (t.local, t.remote),
        );
        if let Some(lid) = parent {
            if let Some(l) = self.sockets.listener_mut(lid) {
                if !in_aq && state == State::Closed {
                    l.syn_queue.retain(|&c| c != id);
                    self.free_tcb(id);
                    return;
                }
                if !in_aq && state != State::SynReceived {
                    l.syn_queue.retain(|&c| c != id);
                    l.accept_queue.push_back(id);
                    let first = l.accept_queue.len() == 1;
                    if let Some(t) = self.sockets.tcb_mut(id) {
                        t.in_accept_queue = true;
                    }
                    if first {
                        self.env
                            .events
                            .push_back(Event::Acceptable { listener: lid });
                    }
                }
            }
        }
        if state == State::Closed {
            if self.conns.get(&key) == Some(&id) {
                self.conns.remove(&key);
            }
            if orphan {
                self.free_tcb(id);
            }
        }
    }

    /// Child `id` of `lid` completed its handshake while the accept queue
    /// was full (input.rs dropped the ACK): count it, report it, and with
    /// abort-on-overflow reset the handshake (Linux sends the RST in answer
    /// to the ACK and forgets the request).
    fn accept_overflow(&mut self, lid: SocketId, id: SocketId, remote: SocketAddrV4) {
        let abort_default = self.env.config.tcp.abort_on_overflow;
        let Some(l) = self.sockets.listener_mut(lid) else {
            return;
        };
        l.accept_drops += 1;
        let abort = l.abort_on_overflow.unwrap_or(abort_default);
        self.listen_event(lid, remote, ListenEvent::AcceptOverflow { abort });
        if abort {
            if let Some(t) = self.sockets.tcb_mut(id) {
                t.send_rst(&mut self.env);
                t.terminate(&mut self.env, None);
            }
        }
    }

    /// Forget a connection entirely.
    pub(crate) fn free_tcb(&mut self, id: SocketId) {
        if let Some(Socket::Tcp(t)) = self.sockets.remove(id) {
            let key = (t.local, t.remote);
            if self.conns.get(&key) == Some(&id) {
                self.conns.remove(&key);
            }
            self.tcp_count -= 1;
        }
    }

    /// Stop listening: reset and free every child not yet accepted.
    pub(crate) fn close_listener(&mut self, lid: SocketId) {
        let Some(l) = self.sockets.listener_mut(lid) else {
            return;
        };
        let children: Vec<SocketId> = l
            .syn_queue
            .drain(..)
            .chain(l.accept_queue.drain(..))
            .collect();
        let local = l.local;
        if self.listeners.get(&local) == Some(&lid) {
            self.listeners.remove(&local);
        }
        for c in children {
            if let Some(t) = self.sockets.tcb_mut(c) {
                if t.state != State::Closed {
                    t.send_rst(&mut self.env);
                }
            }
            self.free_tcb(c);
        }
    }
}
