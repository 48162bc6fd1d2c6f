//! The socket table: a slab of slots, each with a generation, so a
//! `SocketId` (index + generation, < 2^53 so it survives a trip through a
//! JavaScript number) never names a newer socket that reused its slot.

use crate::stack::SocketId;
use crate::tcp::listen::Listener;
use crate::tcp::tcb::Tcb;
use crate::udp::UdpSocket;

/// Generation bits: index (32) + generation (21) = 53 bits.
const GEN_MASK: u32 = (1 << 21) - 1;

/// Anything a `SocketId` can name.
#[derive(Debug)]
pub enum Socket {
    Listener(Box<Listener>),
    Tcp(Box<Tcb>),
    Udp(Box<UdpSocket>),
}

#[derive(Debug)]
struct Slot {
    gen: u32,
    sock: Option<Socket>,
}

/// Slab of sockets with generation-checked handles.
#[derive(Debug, Default)]
pub struct Slab {
    slots: Vec<Slot>,
    free: Vec<u32>,
    len: usize,
}

fn make_id(index: u32, gen: u32) -> SocketId {
    SocketId(((gen as u64) << 32) | index as u64)
}

fn split(id: SocketId) -> (usize, u32) {
    ((id.0 & 0xffff_ffff) as usize, (id.0 >> 32) as u32)
}

impl Slab {
    /// Insert the socket built by `make` from its future id.
    pub fn insert_with(&mut self, make: impl FnOnce(SocketId) -> Socket) -> SocketId {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot { gen: 1, sock: None });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        let id = make_id(index, slot.gen);
        slot.sock = Some(make(id));
        self.len += 1;
        id
    }

    /// Remove and return the socket named by `id`.
    pub fn remove(&mut self, id: SocketId) -> Option<Socket> {
        let (index, gen) = split(id);
        let slot = self.slots.get_mut(index)?;
        if slot.gen != gen || slot.sock.is_none() {
            return None;
        }
        slot.gen = (slot.gen % GEN_MASK) + 1;
        self.free.push(index as u32);
        self.len -= 1;
        slot.sock.take()
    }

    /// The socket named by `id`, if it still exists.
    pub fn get(&self, id: SocketId) -> Option<&Socket> {
        let (index, gen) = split(id);
        let slot = self.slots.get(index)?;
        if slot.gen != gen {
            return None;
        }
        slot.sock.as_ref()
    }

    /// Mutable access to the socket named by `id`.
    pub fn get_mut(&mut self, id: SocketId) -> Option<&mut Socket> {
        let (index, gen) = split(id);
        let slot = self.slots.get_mut(index)?;
        if slot.gen != gen {
            return None;
        }
        slot.sock.as_mut()
    }

    /// The connection named by `id`.
    pub fn tcb(&self, id: SocketId) -> Option<&Tcb> {
        match self.get(id) {
            Some(Socket::Tcp(t)) => Some(t),
            _ => None,
        }
    }

    /// Mutable access to the connection named by `id`.
    pub fn tcb_mut(&mut self, id: SocketId) -> Option<&mut Tcb> {
        match self.get_mut(id) {
            Some(Socket::Tcp(t)) => Some(t),
            _ => None,
        }
    }

    /// The listener named by `id`.
    pub fn listener(&self, id: SocketId) -> Option<&Listener> {
        match self.get(id) {
            Some(Socket::Listener(l)) => Some(l),
            _ => None,
        }
    }

    /// Mutable access to the listener named by `id`.
    pub fn listener_mut(&mut self, id: SocketId) -> Option<&mut Listener> {
        match self.get_mut(id) {
            Some(Socket::Listener(l)) => Some(l),
            _ => None,
        }
    }

    /// Mutable access to the UDP socket named by `id`.
    pub fn udp_mut(&mut self, id: SocketId) -> Option<&mut UdpSocket> {
        match self.get_mut(id) {
            Some(Socket::Udp(u)) => Some(u),
            _ => None,
        }
    }

    /// Every live socket.
    pub fn iter(&self) -> impl Iterator<Item = &Socket> {
        self.slots.iter().filter_map(|s| s.sock.as_ref())
    }

    /// Live sockets.
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn udp() -> Socket {
        Socket::Udp(Box::new(UdpSocket::new(SocketAddrV4::new(
            Ipv4Addr::LOCALHOST,
            1,
        ))))
    }

    #[test]
    fn slots_are_small() {
        // Every variant is boxed: a slot is a pointer, a tag and a generation.
        assert!(
            core::mem::size_of::<Slot>() <= 24,
            "{}",
            core::mem::size_of::<Slot>()
        );
    }

    #[test]
    fn stale_ids_do_not_alias() {
        let mut s = Slab::default();
        let a = s.insert_with(|_| udp());
        assert!(s.remove(a).is_some());
        let b = s.insert_with(|_| udp());
        assert_ne!(a, b);
        assert!(s.get(a).is_none() && s.get(b).is_some());
        assert!(s.remove(a).is_none());
        assert!(b.0 < (1u64 << 53));
    }
}
