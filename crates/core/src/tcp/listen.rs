//! Passive open: a listener's SYN (half-open) queue and accept queue with
//! Linux semantics. A SYN creates a child connection in SYN_RECEIVED
//! (bounded by `syn_backlog`); the completing ACK moves it to the accept
//! queue, which holds `backlog + 1` entries. When the accept queue is
//! full, new SYNs and completing ACKs are dropped and counted, and the
//! half-open child keeps retransmitting its SYN-ACK.

use super::output::reply_rst;
use super::segment::TcpHeader;
use super::seq::Seq;
use super::state::State;
use super::tcb::Tcb;
use crate::event::Event;
use crate::slab::Socket;
use crate::stack::{ListenerQueues, SocketId, Stack};
use std::collections::VecDeque;
use std::net::SocketAddrV4;

/// A listening socket.
#[derive(Debug)]
pub struct Listener {
    pub local: SocketAddrV4,
    pub backlog: u32,
    /// Children in SYN_RECEIVED.
    pub syn_queue: Vec<SocketId>,
    /// Established children waiting for `tcp_accept`.
    pub accept_queue: VecDeque<SocketId>,
    pub syn_drops: u64,
    pub accept_drops: u64,
    pub cookies_sent: u64,
    /// SO_OOBINLINE, inherited by accepted connections (urgent.rs).
    pub urgent_inline: bool,
}

impl Listener {
    /// A listener on `local` whose accept queue holds `backlog + 1`.
    pub fn new(local: SocketAddrV4, backlog: u32) -> Self {
        Listener {
            local,
            backlog,
            syn_queue: Vec::new(),
            accept_queue: VecDeque::new(),
            syn_drops: 0,
            accept_drops: 0,
            cookies_sent: 0,
            urgent_inline: false,
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
    ) {
        if seg.rst() {
            return;
        }
        if seg.has_ack() {
            reply_rst(&mut self.env, local, remote, seg.seq, Some(seg.ack), 0);
            return;
        }
        if !seg.syn() {
            self.env.stats.tcp_in_errs += 1;
            return;
        }
        let syn_backlog = self.env.config.tcp.syn_backlog;
        let at_limit = self.tcp_count >= self.env.config.tcp.max_connections;
        let Some(l) = self.sockets.listener_mut(lid) else {
            return;
        };
        if l.syn_queue.len() >= syn_backlog || at_limit {
            l.syn_drops += 1;
            self.env.stats.tcp_syn_queue_drops += 1;
            return;
        }
        if !l.accept_room() {
            // Linux drops SYNs while the accept queue is full (ListenOverflows).
            l.accept_drops += 1;
            self.env.stats.tcp_accept_queue_drops += 1;
            return;
        }
        // Data on a SYN is not queued (no TFO): the peer sends it again.
        let iss = self.env.isn.isn(self.env.now, local, remote);
        let env = &self.env;
        let id = self.sockets.insert_with(|id| {
            let mut t = Tcb::new(id, local, remote, iss, env);
            t.parent = Some(lid);
            t.state = State::Listen;
            t.irs = seg.seq;
            t.rcv_nxt = seg.seq + 1;
            t.rcv_adv = t.rcv_nxt;
            t.negotiate(env, &seg.options);
            t.set_peer_mss(seg.options.mss, env.mss_limit());
            t.snd_wnd = seg.window as u32; // never scaled in a SYN
            t.max_snd_wnd = t.snd_wnd;
            t.snd_wl1 = seg.seq;
            t.snd_wl2 = Seq(0);
            Socket::Tcp(Box::new(t))
        });
        self.tcp_count += 1;
        self.conns.insert((local, remote), id);
        if let Some(l) = self.sockets.listener_mut(lid) {
            l.syn_queue.push(id);
        }
        self.env.stats.tcp_passive_opens += 1;
        if let Some(t) = self.sockets.tcb_mut(id) {
            t.set_state(&mut self.env, State::SynReceived);
            t.send_syn(&mut self.env);
        }
        self.after_tcb(id);
    }

    /// Post-processing after a connection handled input, a timer or a call:
    /// keep its heap entry, move a completed child to the accept queue,
    /// forget a closed connection's 4-tuple, free it when nobody holds it.
    pub(crate) fn after_tcb(&mut self, id: SocketId) {
        let Some(t) = self.sockets.tcb_mut(id) else {
            return;
        };
        t.timers.sync(id, &mut self.env.timers);
        let overflow = std::mem::take(&mut t.accept_overflow);
        let (state, parent, in_aq, orphan, key) = (
            t.state,
            t.parent,
            t.in_accept_queue,
            t.orphan,
            (t.local, t.remote),
        );
        if let Some(lid) = parent {
            if let Some(l) = self.sockets.listener_mut(lid) {
                if overflow {
                    l.accept_drops += 1;
                }
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
