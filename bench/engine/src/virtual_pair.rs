//! The setup the virtual-time benches share: two engines, client 10.0.0.1
//! and server 10.0.0.2, joined by one seeded link each way, the server
//! listening on port 80 and the client's SYN already queued at time 0.
//! Each bench brings its own configuration and link and drives the loop.

use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::{SocketId, Stack, StackConfig};
use tunstack_device::Impairment;

/// Two connected-to-be engines and their links.
pub struct VirtualPair {
    pub client: Stack,
    pub server: Stack,
    /// Client to server.
    pub c2s: Impairment,
    /// Server to client.
    pub s2c: Impairment,
    pub listener: SocketId,
    /// The client's connection.
    pub id: SocketId,
}

/// `config(address, seed)` for each engine (seeds 1 and 2), `link(seed)`
/// for each direction (seeds 3 and 4).
pub fn connect(
    config: impl Fn(Ipv4Addr, u64) -> StackConfig,
    link: impl Fn(u64) -> Impairment,
) -> VirtualPair {
    let (ca, sa) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let mut client = Stack::new(config(ca, 1));
    let mut server = Stack::new(config(sa, 2));
    let listener = server
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
        .expect("listen");
    let id = client
        .tcp_connect(0, SocketAddrV4::new(sa, 80), None)
        .expect("connect");
    VirtualPair {
        client,
        server,
        c2s: link(3),
        s2c: link(4),
        listener,
        id,
    }
}
