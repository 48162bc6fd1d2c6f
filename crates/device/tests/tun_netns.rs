//! TUN against the real Linux kernel, entirely inside a network namespace
//! this test creates (and always deletes). Runs only as root with
//! /dev/net/tun and `ip` available; otherwise prints why and passes.
#![cfg(target_os = "linux")]

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::Command;
use std::time::{Duration, Instant as StdInstant};

use tunstack_device::{Device, TunDevice, TunOptions};

const HOST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
/// Upper bound for the kernel to hand us a packet; only bounds a failure.
const WAIT: Duration = Duration::from_secs(10);

/// Deletes the namespace (and with it every interface left inside) on drop,
/// including when an assertion fails.
struct NetnsGuard {
    name: String,
}

impl NetnsGuard {
    fn create(name: &str) -> io::Result<Self> {
        let out = Command::new("ip").args(["netns", "add", name]).output()?;
        if !out.status.success() {
            return Err(io::Error::other(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        Ok(Self { name: name.into() })
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn ip(args: &[&str]) -> (bool, String) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn skip_reason() -> Option<&'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root");
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun");
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("no `ip` command");
    }
    None
}

/// Run `f` on a thread that has joined the namespace `ns`.
fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    let path = std::ffi::CString::new(format!("/var/run/netns/{ns}")).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: valid path, constant flags.
            let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
            assert!(fd >= 0, "open netns: {}", io::Error::last_os_error());
            // SAFETY: fd was just opened and is owned here.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: valid fd; affects only this thread.
            let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap()
    })
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn icmp_echo(kind: u8, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(payload);
    let c = checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// Send one ICMP echo request from inside the namespace with a raw socket
/// (what `ping` does), so no ping binary is needed.
fn send_ping_from(ns: &str, dst: Ipv4Addr, id: u16) {
    in_netns(ns, || {
        // SAFETY: constant arguments.
        let raw = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_ICMP,
            )
        };
        assert!(raw >= 0, "raw socket: {}", io::Error::last_os_error());
        // SAFETY: just created, owned here.
        let sock = unsafe { OwnedFd::from_raw_fd(raw) };
        let msg = icmp_echo(8, id, 1, b"tunstack-ping");
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(dst).to_be(),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: valid buffer and sockaddr_in with their exact lengths.
        let n = unsafe {
            libc::sendto(
                sock.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&sin as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        assert_eq!(
            n,
            msg.len() as isize,
            "sendto: {}",
            io::Error::last_os_error()
        );
    });
}

fn wait_readable(fd: RawFd, deadline: StdInstant) -> bool {
    let left = deadline.saturating_duration_since(StdInstant::now());
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
    n > 0
}

/// Read packets until one satisfies `want` (other traffic such as IPv6
/// neighbour discovery is skipped), or the bounded wait ends.
fn wait_for(dev: &mut TunDevice, want: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    let deadline = StdInstant::now() + WAIT;
    let mut buf = vec![0u8; 65536];
    loop {
        while let Some(n) = dev.recv(0, &mut buf).expect("recv") {
            if want(&buf[..n]) {
                return Some(buf[..n].to_vec());
            }
        }
        if !wait_readable(dev.readiness_fd(), deadline) {
            return None;
        }
    }
}

fn is_ipv4(p: &[u8], proto: u8, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
    p.len() >= 20
        && p[0] >> 4 == 4
        && p[9] == proto
        && p[12..16] == src.octets()
        && p[16..20] == dst.octets()
}

fn ihl(p: &[u8]) -> usize {
    usize::from(p[0] & 0x0f) * 4
}

/// Give this thread CAP_NET_ADMIN-less credentials (capabilities are
/// per-thread on Linux), keeping everything else.
fn drop_net_admin_on_this_thread() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    const CAP_NET_ADMIN: u32 = 12;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: header and two data structs as capget(2) v3 requires.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut Header,
            data.as_mut_ptr(),
        )
    };
    assert_eq!(rc, 0, "capget: {}", io::Error::last_os_error());
    data[0].effective &= !(1 << CAP_NET_ADMIN);
    data[0].permitted &= !(1 << CAP_NET_ADMIN);
    // SAFETY: as above; pid 0 = this thread only.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) };
    assert_eq!(rc, 0, "capset: {}", io::Error::last_os_error());
}

#[test]
fn tun_in_a_namespace_talks_to_the_kernel() {
    if let Some(why) = skip_reason() {
        println!("SKIPPED tun_in_a_namespace_talks_to_the_kernel: {why}");
        return;
    }
    let pid = std::process::id();
    let ns_name = format!("tstk-dev-{pid}");
    let guard = match NetnsGuard::create(&ns_name) {
        Ok(g) => g,
        Err(e) => {
            println!("SKIPPED tun_in_a_namespace_talks_to_the_kernel: ip netns add failed: {e}");
            return;
        }
    };
    let ns = guard.name.clone();
    let if_name = format!("tstk{}", pid % 10_000_000);

    let mut dev = TunDevice::open(TunOptions {
        name: Some(if_name.clone()),
        mtu: Some(1400),
        host_address: Some((HOST, 24)),
        netns: Some(ns.clone()),
        ..Default::default()
    })
    .expect("open TUN in namespace");
    assert_eq!(dev.name(), if_name);
    assert_eq!(dev.mtu(), 1400);

    // Configured inside the namespace, invisible in ours.
    let (ok, addr) = ip(&["-n", &ns, "-o", "addr", "show", "dev", &if_name]);
    assert!(ok && addr.contains("10.77.0.1/24"), "{addr}");
    let (ok, link) = ip(&["-n", &ns, "link", "show", "dev", &if_name]);
    assert!(
        ok && link.contains("mtu 1400") && link.contains(",UP"),
        "{link}"
    );
    let (ok_host, _) = ip(&["link", "show", "dev", &if_name]);
    assert!(!ok_host, "interface leaked into the host namespace");

    // The kernel pings the stack's address: the echo request arrives on our fd.
    send_ping_from(&ns, PEER, 0x7357);
    let ping = wait_for(&mut dev, |p| {
        is_ipv4(p, 1, HOST, PEER) && p.len() >= ihl(p) + 8
    })
    .expect("ICMP echo request from the kernel");
    let icmp = &ping[ihl(&ping)..];
    assert_eq!(icmp[0], 8, "echo request type");
    assert_eq!(u16::from_be_bytes([icmp[4], icmp[5]]), 0x7357);
    assert!(icmp.ends_with(b"tunstack-ping"));
    assert_eq!(
        checksum(&ping[..ihl(&ping)]),
        0,
        "kernel IPv4 header checksum"
    );

    // UDP from a kernel socket in the namespace.
    in_netns(&ns, || {
        let s = UdpSocket::bind("10.77.0.1:0").expect("bind in netns");
        s.send_to(b"hello-udp", SocketAddrV4::new(PEER, 9))
            .expect("send udp");
    });
    let udp = wait_for(&mut dev, |p| is_ipv4(p, 17, HOST, PEER)).expect("UDP datagram");
    let u = &udp[ihl(&udp)..];
    assert_eq!(u16::from_be_bytes([u[2], u[3]]), 9);
    assert_eq!(&u[8..], b"hello-udp");

    // Our packets reach the kernel: it answers an echo request we write.
    let request = ipv4(PEER, HOST, 1, &icmp_echo(8, 0x4242, 7, b"from-tunstack"));
    dev.send(0, &request).expect("send");
    let reply = wait_for(&mut dev, |p| {
        is_ipv4(p, 1, HOST, PEER) && p.len() >= ihl(p) + 8 && p[ihl(p)] == 0
    })
    .expect("ICMP echo reply from the kernel");
    let r = &reply[ihl(&reply)..];
    assert_eq!(u16::from_be_bytes([r[4], r[5]]), 0x4242);
    assert_eq!(u16::from_be_bytes([r[6], r[7]]), 7);
    assert!(r.ends_with(b"from-tunstack"));
    assert_eq!(dev.stats().tx_packets, 1);
    drop(dev);
    let (gone, _) = ip(&["-n", &ns, "link", "show", "dev", &if_name]);
    assert!(
        !gone,
        "non-persistent TUN must disappear when its fd closes"
    );

    // Attach to a persistent TUN made by an admin; it outlives our fd.
    let persist = format!("tstkp{}", pid % 10_000_000);
    let (ok, out) = ip(&["-n", &ns, "tuntap", "add", "dev", &persist, "mode", "tun"]);
    assert!(ok, "{out}");
    let attached = TunDevice::open(TunOptions {
        name: Some(persist.clone()),
        netns: Some(ns.clone()),
        ..Default::default()
    })
    .expect("attach to persistent TUN");
    assert_eq!(attached.name(), persist);
    drop(attached);
    let (still, out) = ip(&["-n", &ns, "link", "show", "dev", &persist]);
    assert!(still, "persistent TUN vanished: {out}");

    // Without CAP_NET_ADMIN creating one fails with EPERM and the recipe.
    let denied = std::thread::scope(|s| {
        s.spawn(|| {
            drop_net_admin_on_this_thread();
            TunDevice::open(TunOptions {
                name: Some(format!("tstkx{}", pid % 10_000_000)),
                netns: Some(ns.clone()),
                ..Default::default()
            })
        })
        .join()
        .unwrap()
    });
    let e = denied.expect_err("TUN creation without CAP_NET_ADMIN must fail");
    assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
    let msg = e.to_string();
    assert!(msg.starts_with("EPERM: "), "{msg}");
    assert!(msg.contains("ip tuntap add dev tstkx"), "{msg}");

    drop(guard);
    let (_, list) = ip(&["netns", "list"]);
    assert!(!list.contains(&ns), "namespace not removed: {list}");
}
