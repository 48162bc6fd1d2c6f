//! Linux TUN device (`/dev/net/tun`, `IFF_TUN | IFF_NO_PI`): raw IP packets,
//! no link header, no packet-information prefix.
//!
//! Opening either creates an interface (needs CAP_NET_ADMIN) or attaches to
//! an existing persistent one that an administrator created for the user
//! (`ip tuntap add dev NAME mode tun user $USER`), which lets the application
//! itself run unprivileged. Closing the fd (drop) makes the kernel remove a
//! non-persistent interface.
//!
//! Offload (on by default, [`TunOptions::offload`]): the interface is opened
//! with `IFF_VNET_HDR`, so every read and write carries a 10-byte
//! `virtio_net_hdr` in front of the packet, and `TUNSETOFFLOAD` tells the
//! kernel we handle `TUN_F_CSUM | TUN_F_TSO4`. The kernel then hands us its
//! TCP segments as built, up to 64 KiB (GSO/TSO "super-segments" instead of
//! 1500-byte ones), with partial checksums it vouches for, and accepts ours
//! the same way, cutting them at the MSS we give (see [`crate::offload`]).
//! One read or write moves ~40 packets' worth of data. IPv6 and ECN
//! segmentation stay off (the stack speaks IPv4 only and does not set CWR
//! on segments the kernel would have to split). If the kernel refuses the
//! offload ioctl the header stays, with plain MTU-sized packets in it.
//!
//! Network namespaces: with [`TunOptions::netns`] the whole open happens on a
//! short-lived thread that has joined that namespace with `setns(2)`, so the
//! interface is born inside it and configured there with the same ioctls;
//! the fd stays usable from any thread afterwards. No external tool is
//! needed and the host namespace never sees the interface.

use std::ffi::CString;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::offload::{Offload, RxChecksum, RxMeta, TxMeta};
use crate::vnet_hdr::{VnetHdr, VNET_GSO_NONE, VNET_HDR_LEN};
use crate::{Device, Instant};

/// Linux `IFNAMSIZ` minus the terminating NUL.
const MAX_NAME_LEN: usize = 15;

/// Directory where `ip netns add NAME` bind-mounts named namespaces.
const NETNS_DIR: &str = "/var/run/netns";

/// How to open a TUN device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunOptions {
    /// Interface name; `None` lets the kernel pick `tunN`. An existing
    /// persistent interface of this name is attached to instead of created.
    pub name: Option<String>,
    /// Set the interface MTU (skipped when it already has this value, so
    /// attaching unprivileged to a preconfigured TUN works).
    pub mtu: Option<u16>,
    /// Give the kernel side this address and prefix length and bring the
    /// link up.
    pub host_address: Option<(Ipv4Addr, u8)>,
    /// Create the interface inside this existing network namespace: a name
    /// made by `ip netns add` or a path such as `/proc/PID/ns/net`.
    pub netns: Option<String>,
    /// Segmentation and checksum offload (`IFF_VNET_HDR` +
    /// `TUNSETOFFLOAD`); default on. Off: plain `IFF_TUN | IFF_NO_PI`.
    pub offload: bool,
}

impl Default for TunOptions {
    fn default() -> Self {
        TunOptions {
            name: None,
            mtu: None,
            host_address: None,
            netns: None,
            offload: true,
        }
    }
}

/// Counters of a TUN device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TunStats {
    /// Packets read from the kernel.
    pub rx_packets: u64,
    /// Packets written to the kernel.
    pub tx_packets: u64,
    /// Reads discarded because the packet did not fit the caller's buffer.
    pub rx_truncated: u64,
    /// Writes the kernel refused (queue full, link down, malformed).
    pub tx_dropped: u64,
    /// Reads that were GSO super-segments (more than one MSS of payload).
    pub rx_gso_packets: u64,
    /// Writes handed to the kernel for segmentation (TSO).
    pub tx_gso_packets: u64,
    /// Reads dropped because their virtio-net header did not fit the packet.
    pub rx_bad_header: u64,
}

/// An open TUN interface.
#[derive(Debug)]
pub struct TunDevice {
    fd: OwnedFd,
    name: String,
    mtu: usize,
    stats: TunStats,
    /// Reads and writes carry a virtio-net header (`IFF_VNET_HDR`).
    vnet_hdr: bool,
    /// The `TUN_F_*` offloads the kernel accepted.
    offloads: libc::c_uint,
}

impl TunDevice {
    /// Open (create or attach to) a TUN interface as described by `options`.
    ///
    /// Permission errors (EPERM/EACCES) have kind `PermissionDenied`, keep
    /// the OS error code in their message prefix ("EPERM: ..."), and say how
    /// to create a persistent TUN for an unprivileged user.
    pub fn open(options: TunOptions) -> io::Result<Self> {
        if let Some(name) = &options.name {
            validate_name(name)?;
        }
        if let Some((_, prefix)) = options.host_address {
            if prefix > 32 {
                return Err(invalid(format!("prefix length /{prefix} is not in 0..=32")));
            }
        }
        match options.netns.clone() {
            None => open_here(&options),
            Some(netns) => {
                let ns_file = open_netns(&netns)?;
                // setns affects only the calling thread, so do it on a
                // thread of our own and let it end with the namespace.
                std::thread::scope(|s| {
                    s.spawn(|| {
                        // SAFETY: a valid namespace fd we own; CLONE_NEWNET
                        // checks that it refers to a network namespace.
                        let rc = unsafe { libc::setns(ns_file.as_raw_fd(), libc::CLONE_NEWNET) };
                        if rc != 0 {
                            let e = io::Error::last_os_error();
                            return Err(io::Error::new(
                                e.kind(),
                                format!(
                                    "{}: cannot enter network namespace {netns}: {e}",
                                    errno_name(&e)
                                ),
                            ));
                        }
                        open_here(&options)
                    })
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("TUN open thread panicked")))
                })
            }
        }
    }

    /// The interface name the kernel reports (e.g. "tun0").
    pub fn if_name(&self) -> &str {
        &self.name
    }

    /// Counters so far.
    pub fn stats(&self) -> &TunStats {
        &self.stats
    }

    /// True when the kernel accepted TCP segmentation offload (64 KiB
    /// segments both ways).
    pub fn tso(&self) -> bool {
        self.vnet_hdr && self.offloads & libc::TUN_F_TSO4 != 0
    }

    fn tx_checksum(&self) -> bool {
        self.vnet_hdr && self.offloads & libc::TUN_F_CSUM != 0
    }
}

fn open_here(options: &TunOptions) -> io::Result<TunDevice> {
    let name_hint = options.name.as_deref().unwrap_or("tun0");
    let path = c"/dev/net/tun";
    // SAFETY: a valid NUL-terminated path and constant flags.
    let raw = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        let e = io::Error::last_os_error();
        return Err(open_error(&e, name_hint, "open /dev/net/tun"));
    }
    // SAFETY: `raw` was just returned by open and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };

    let plain = libc::IFF_TUN | libc::IFF_NO_PI;
    let mut vnet_hdr = options.offload;
    let mut req = ifreq_for(options.name.as_deref().unwrap_or(""));
    loop {
        let flags = if vnet_hdr {
            plain | libc::IFF_VNET_HDR
        } else {
            plain
        };
        req.ifr_ifru.ifru_flags = flags as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes one ifreq, which lives on our
        // stack for the whole call.
        let rc = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                libc::TUNSETIFF as _,
                &mut req as *mut libc::ifreq,
            )
        };
        if rc >= 0 {
            break;
        }
        let e = io::Error::last_os_error();
        if vnet_hdr && e.raw_os_error() == Some(libc::EINVAL) {
            // A kernel without IFF_VNET_HDR: open it the plain way.
            vnet_hdr = false;
            continue;
        }
        return Err(open_error(&e, name_hint, "TUNSETIFF"));
    }
    let name = name_from_ifreq(&req);
    let offloads = if vnet_hdr { set_offload(&fd) } else { 0 };

    let ctl = control_socket()?;
    let current_mtu = get_mtu(&ctl, &name)?;
    let mtu = match options.mtu {
        Some(want) if usize::from(want) != current_mtu => {
            set_mtu(&ctl, &name, want)
                .map_err(|e| config_error(&e, &name, &format!("set MTU {want}")))?;
            usize::from(want)
        }
        _ => current_mtu,
    };
    if let Some((addr, prefix)) = options.host_address {
        configure_address(&ctl, &name, addr, prefix)?;
    }
    Ok(TunDevice {
        fd,
        name,
        mtu,
        stats: TunStats::default(),
        vnet_hdr,
        offloads,
    })
}

/// Fix the header size and ask for checksum + TCPv4 segmentation offload,
/// then checksum alone, then nothing; returns what the kernel accepted.
/// Refusals are not errors: the header stays and carries no offload.
fn set_offload(fd: &OwnedFd) -> libc::c_uint {
    let size = VNET_HDR_LEN as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads one int through the pointer, which
    // points at a live local.
    let _ = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETVNETHDRSZ as _, &size) };
    for want in [libc::TUN_F_CSUM | libc::TUN_F_TSO4, libc::TUN_F_CSUM, 0] {
        // SAFETY: TUNSETOFFLOAD takes its argument by value; no pointers.
        let rc = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                libc::TUNSETOFFLOAD as _,
                want as libc::c_ulong,
            )
        };
        if rc == 0 {
            return want;
        }
    }
    0
}

fn open_netns(netns: &str) -> io::Result<OwnedFd> {
    let path = if netns.contains('/') {
        netns.to_string()
    } else {
        // `ip netns` names are file names under NETNS_DIR: unlike interface
        // names they are not limited to IFNAMSIZ.
        let ok = !netns.is_empty()
            && netns.len() <= 255
            && netns != "."
            && netns != ".."
            && netns.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(invalid(format!("bad namespace name {netns:?}")));
        }
        format!("{NETNS_DIR}/{netns}")
    };
    let c_path =
        CString::new(path.clone()).map_err(|_| invalid("namespace path has a NUL byte"))?;
    // SAFETY: a valid NUL-terminated path and constant flags.
    let raw = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if raw < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!(
                "{}: network namespace {netns} ({path}): {e}",
                errno_name(&e)
            ),
        ));
    }
    // SAFETY: `raw` was just returned by open and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Assign `addr/prefix` and set IFF_UP. If that is not permitted but the
/// interface is already configured exactly so (an admin did it), accept it.
fn configure_address(ctl: &OwnedFd, name: &str, addr: Ipv4Addr, prefix: u8) -> io::Result<()> {
    let mask = prefix_to_mask(prefix);
    let result = (|| {
        if get_ipv4(ctl, name, libc::SIOCGIFADDR).ok() != Some(addr) {
            set_ipv4(ctl, name, libc::SIOCSIFADDR, addr)?;
        }
        if get_ipv4(ctl, name, libc::SIOCGIFNETMASK).ok() != Some(mask) {
            set_ipv4(ctl, name, libc::SIOCSIFNETMASK, mask)?;
        }
        let flags = get_flags(ctl, name)?;
        let up = libc::IFF_UP as libc::c_short;
        if flags & up == 0 {
            set_flags(ctl, name, flags | up)?;
        }
        Ok(())
    })();
    result.map_err(|e| config_error(&e, name, &format!("assign {addr}/{prefix} and bring it up")))
}

fn prefix_to_mask(prefix: u8) -> Ipv4Addr {
    let bits = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    Ipv4Addr::from(bits)
}

/// Parse "10.7.0.1/24" (a bare address means /32).
pub fn parse_ipv4_cidr(s: &str) -> io::Result<(Ipv4Addr, u8)> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (
            a,
            p.parse::<u8>()
                .map_err(|_| invalid(format!("bad prefix in {s:?}")))?,
        ),
        None => (s, 32),
    };
    let addr = addr
        .parse::<Ipv4Addr>()
        .map_err(|_| invalid(format!("bad IPv4 address in {s:?}")))?;
    if prefix > 32 {
        return Err(invalid(format!("prefix length /{prefix} is not in 0..=32")));
    }
    Ok((addr, prefix))
}

fn validate_name(name: &str) -> io::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "bad interface name {name:?}: 1..={MAX_NAME_LEN} printable ASCII characters, no '/' or ':'"
        )))
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    let message = message.into();
    io::Error::new(io::ErrorKind::InvalidInput, format!("EINVAL: {message}"))
}

/// Node-style code for an OS error ("EPERM"), for message prefixes.
fn errno_name(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EPERM) => "EPERM",
        Some(libc::EACCES) => "EACCES",
        Some(libc::ENOENT) => "ENOENT",
        Some(libc::EBUSY) => "EBUSY",
        Some(libc::EINVAL) => "EINVAL",
        Some(libc::ENODEV) => "ENODEV",
        Some(libc::EEXIST) => "EEXIST",
        _ => "EIO",
    }
}

fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES))
}

fn persistent_tun_hint(name: &str) -> String {
    format!(
        "to use tunstack without root, have an administrator create a persistent TUN \
         owned by your user once: `sudo ip tuntap add dev {name} mode tun user $USER && \
         sudo ip link set {name} up` (add the host address with `sudo ip addr add \
         ADDR/PREFIX dev {name}`), then open it by name"
    )
}

fn open_error(e: &io::Error, name: &str, step: &str) -> io::Error {
    let code = errno_name(e);
    let message = if is_permission(e) {
        format!(
            "{code}: cannot open TUN device {name} ({step}: {e}); creating a TUN interface \
             needs CAP_NET_ADMIN, attaching to an existing one needs to own it; {}",
            persistent_tun_hint(name)
        )
    } else if e.raw_os_error() == Some(libc::ENOENT) {
        format!("{code}: /dev/net/tun does not exist ({e}); load the tun module: sudo modprobe tun")
    } else if e.raw_os_error() == Some(libc::EBUSY) {
        format!("{code}: TUN device {name} is already attached to another process ({step}: {e})")
    } else if e.raw_os_error() == Some(libc::EINVAL) {
        format!(
            "{code}: cannot attach to {name} ({step}: {e}); an existing interface of that \
             name must be a TUN (not TAP) created without packet information (`mode tun`)"
        )
    } else {
        format!("{code}: cannot open TUN device {name} ({step}: {e})")
    };
    io::Error::new(e.kind(), message)
}

fn config_error(e: &io::Error, name: &str, what: &str) -> io::Error {
    let code = errno_name(e);
    let message = if is_permission(e) {
        format!(
            "{code}: cannot {what} on {name} ({e}); that needs CAP_NET_ADMIN. Configure the \
             interface once as an administrator and open it without those options; {}",
            persistent_tun_hint(name)
        )
    } else {
        format!("{code}: cannot {what} on {name}: {e}")
    };
    io::Error::new(e.kind(), message)
}

fn ifreq_for(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain old data for which all-zero bytes are valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    // Names are validated to at most 15 bytes, so a NUL always remains.
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes().take(MAX_NAME_LEN)) {
        *dst = src as libc::c_char;
    }
    req
}

fn name_from_ifreq(req: &libc::ifreq) -> String {
    let bytes: Vec<u8> = req
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn control_socket() -> io::Result<OwnedFd> {
    // SAFETY: no pointers; constant arguments.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was just returned by socket and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn ifreq_ioctl(ctl: &OwnedFd, request: libc::c_ulong, req: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: the SIOC[GS]IF* requests used here read and write one ifreq,
    // which the caller keeps alive for the duration of the call.
    if unsafe { libc::ioctl(ctl.as_raw_fd(), request as _, req as *mut libc::ifreq) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn get_mtu(ctl: &OwnedFd, name: &str) -> io::Result<usize> {
    let mut req = ifreq_for(name);
    ifreq_ioctl(ctl, libc::SIOCGIFMTU, &mut req)?;
    // SAFETY: SIOCGIFMTU filled the ifru_mtu member of the union.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    Ok(usize::try_from(mtu).unwrap_or(0))
}

fn set_mtu(ctl: &OwnedFd, name: &str, mtu: u16) -> io::Result<()> {
    let mut req = ifreq_for(name);
    req.ifr_ifru.ifru_mtu = libc::c_int::from(mtu);
    ifreq_ioctl(ctl, libc::SIOCSIFMTU, &mut req)
}

fn get_flags(ctl: &OwnedFd, name: &str) -> io::Result<libc::c_short> {
    let mut req = ifreq_for(name);
    ifreq_ioctl(ctl, libc::SIOCGIFFLAGS, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled the ifru_flags member of the union.
    Ok(unsafe { req.ifr_ifru.ifru_flags })
}

fn set_flags(ctl: &OwnedFd, name: &str, flags: libc::c_short) -> io::Result<()> {
    let mut req = ifreq_for(name);
    req.ifr_ifru.ifru_flags = flags;
    ifreq_ioctl(ctl, libc::SIOCSIFFLAGS, &mut req)
}

fn sockaddr_in(addr: Ipv4Addr) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn set_ipv4(ctl: &OwnedFd, name: &str, request: libc::c_ulong, addr: Ipv4Addr) -> io::Result<()> {
    let mut req = ifreq_for(name);
    let sin = sockaddr_in(addr);
    // SAFETY: sockaddr_in and sockaddr are both 16 bytes and the kernel
    // reads this union member as a sockaddr_in for AF_INET.
    unsafe {
        std::ptr::write_unaligned(
            (&mut req.ifr_ifru.ifru_addr as *mut libc::sockaddr).cast::<libc::sockaddr_in>(),
            sin,
        );
    }
    ifreq_ioctl(ctl, request, &mut req)
}

fn get_ipv4(ctl: &OwnedFd, name: &str, request: libc::c_ulong) -> io::Result<Ipv4Addr> {
    let mut req = ifreq_for(name);
    ifreq_ioctl(ctl, request, &mut req)?;
    // SAFETY: the SIOCGIF{ADDR,NETMASK} requests filled the union with an
    // AF_INET sockaddr_in (16 bytes, same size as sockaddr).
    let sin = unsafe {
        std::ptr::read_unaligned(
            (&req.ifr_ifru.ifru_addr as *const libc::sockaddr).cast::<libc::sockaddr_in>(),
        )
    };
    Ok(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
}

/// The length an IP header claims for the whole packet, if readable.
fn claimed_len(packet: &[u8]) -> Option<usize> {
    match packet.first()? >> 4 {
        4 => {
            let b = packet.get(2..4)?;
            Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
        }
        6 => {
            let b = packet.get(4..6)?;
            Some(40 + usize::from(u16::from_be_bytes([b[0], b[1]])))
        }
        _ => None,
    }
}

impl TunDevice {
    /// One read: (packet length, its virtio-net header if the TUN has one).
    fn read_one(&mut self, buf: &mut [u8]) -> io::Result<Option<(usize, VnetHdr)>> {
        let mut hdr = [0u8; VNET_HDR_LEN];
        loop {
            let iov = [
                libc::iovec {
                    iov_base: hdr.as_mut_ptr().cast::<libc::c_void>(),
                    iov_len: VNET_HDR_LEN,
                },
                libc::iovec {
                    iov_base: buf.as_mut_ptr().cast::<libc::c_void>(),
                    iov_len: buf.len(),
                },
            ];
            // Without a virtio-net header, only the packet's iovec.
            let iov = if self.vnet_hdr { &iov[..] } else { &iov[1..] };
            // SAFETY: every iovec describes a live, writable buffer of the
            // stated length that outlives the call; the fd is ours.
            let n =
                unsafe { libc::readv(self.fd.as_raw_fd(), iov.as_ptr(), iov.len() as libc::c_int) };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return Ok(None),
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(e),
                }
            }
            let n = n as usize; // non-negative, checked above
            let (n, vnet) = if self.vnet_hdr {
                if n < VNET_HDR_LEN {
                    self.stats.rx_bad_header += 1;
                    continue;
                }
                (n - VNET_HDR_LEN, VnetHdr::decode(&hdr))
            } else {
                (n, VnetHdr::default())
            };
            // The kernel truncates silently when the buffer is too small;
            // a packet longer than what we got must not be passed on.
            // (IPv6 jumbograms claim 40 bytes; they cannot occur on TUN.)
            if n == buf.len() && claimed_len(&buf[..n]).is_some_and(|len| len > n) {
                self.stats.rx_truncated += 1;
                continue;
            }
            if n == 0 {
                continue;
            }
            self.stats.rx_packets += 1;
            if vnet.gso_type != VNET_GSO_NONE {
                self.stats.rx_gso_packets += 1;
            }
            return Ok(Some((n, vnet)));
        }
    }

    /// One write of `packet` behind `hdr` (when the TUN has headers).
    fn write_one(&mut self, hdr: &VnetHdr, packet: &[u8]) -> io::Result<()> {
        let hdr = hdr.encode();
        loop {
            let iov = [
                libc::iovec {
                    iov_base: hdr.as_ptr() as *mut libc::c_void,
                    iov_len: VNET_HDR_LEN,
                },
                libc::iovec {
                    iov_base: packet.as_ptr() as *mut libc::c_void,
                    iov_len: packet.len(),
                },
            ];
            let iov = if self.vnet_hdr { &iov[..] } else { &iov[1..] };
            // SAFETY: every iovec describes a live buffer of the stated
            // length; writev only reads through them; the fd is ours.
            let n = unsafe {
                libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), iov.len() as libc::c_int)
            };
            if n >= 0 {
                self.stats.tx_packets += 1;
                return Ok(());
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                // Full queue, link down, or a packet the kernel rejects:
                // drop it like a full NIC queue would; TCP recovers.
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::EIO) | Some(libc::EINVAL)
                | Some(libc::EMSGSIZE) => {
                    self.stats.tx_dropped += 1;
                    return Ok(());
                }
                _ => return Err(e),
            }
        }
    }
}

impl Device for TunDevice {
    /// Packets with complete checksums: a partial one the kernel left is
    /// completed here (callers that can skip it use `recv_meta`).
    fn recv(&mut self, now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let Some((n, meta)) = self.recv_meta(now, buf)? else {
            return Ok(None);
        };
        if let RxChecksum::Partial { start, offset } = meta.checksum {
            // In bounds: recv_meta checked start + offset + 2 <= n.
            crate::offload::complete_checksum_at(
                &mut buf[..n],
                usize::from(start),
                usize::from(offset),
            );
        }
        Ok(Some(n))
    }

    fn recv_meta(&mut self, _now: Instant, buf: &mut [u8]) -> io::Result<Option<(usize, RxMeta)>> {
        loop {
            let Some((n, vnet)) = self.read_one(buf)? else {
                return Ok(None);
            };
            match vnet.rx_meta(n) {
                Some(meta) => return Ok(Some((n, meta))),
                None => self.stats.rx_bad_header += 1,
            }
        }
    }

    fn send(&mut self, _now: Instant, packet: &[u8]) -> io::Result<()> {
        self.write_one(&VnetHdr::default(), packet)
    }

    fn send_meta(&mut self, now: Instant, packet: &[u8], meta: TxMeta) -> io::Result<()> {
        let offloaded =
            (meta.gso_size == 0 || self.tso()) && (!meta.checksum_partial || self.tx_checksum());
        match VnetHdr::for_tx(packet, meta).filter(|_| offloaded) {
            Some(hdr) => {
                if hdr.gso_type != VNET_GSO_NONE {
                    self.stats.tx_gso_packets += 1;
                }
                self.write_one(&hdr, packet)
            }
            None => {
                let mut result = Ok(());
                crate::offload::segment(packet, meta, &mut |p| {
                    if result.is_ok() {
                        result = self.send(now, p);
                    }
                });
                result
            }
        }
    }

    fn offload(&self) -> Offload {
        let tso = self.tso();
        Offload {
            // An IPv4 packet's largest size, whatever the MTU.
            max_rx_packet: if tso { 65_535 } else { self.mtu },
            // IP header (20) and the largest TCP header (60) stay out of
            // the payload so the whole segment fits an IPv4 total length.
            tso_max_payload: if tso { 65_535 - 20 - 60 } else { 0 },
            tx_checksum: self.tx_checksum(),
        }
    }

    fn readiness_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn poll_at(&self) -> Option<Instant> {
        None
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing() {
        assert_eq!(
            parse_ipv4_cidr("10.7.0.1/24").unwrap(),
            (Ipv4Addr::new(10, 7, 0, 1), 24)
        );
        assert_eq!(
            parse_ipv4_cidr("10.7.0.1").unwrap(),
            (Ipv4Addr::new(10, 7, 0, 1), 32)
        );
        for bad in ["10.7.0.1/33", "10.7.0/24", "x/1", "10.7.0.1/", ""] {
            let e = parse_ipv4_cidr(bad).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn masks() {
        assert_eq!(prefix_to_mask(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(prefix_to_mask(0), Ipv4Addr::new(0, 0, 0, 0));
        assert_eq!(prefix_to_mask(32), Ipv4Addr::new(255, 255, 255, 255));
        assert_eq!(prefix_to_mask(17), Ipv4Addr::new(255, 255, 128, 0));
    }

    #[test]
    fn names_are_validated_before_any_syscall() {
        for bad in ["", "a/b", "sixteen-chars-xx", "tun 0", "..", "a:b"] {
            let e = TunDevice::open(TunOptions {
                name: Some(bad.into()),
                ..Default::default()
            })
            .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        assert!(validate_name("tun0").is_ok());
        assert!(validate_name("fifteen-chars-x").is_ok());
    }

    #[test]
    fn permission_message_says_how_to_make_a_persistent_tun() {
        let e = open_error(
            &io::Error::from_raw_os_error(libc::EPERM),
            "tun7",
            "TUNSETIFF",
        );
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        let msg = e.to_string();
        assert!(msg.starts_with("EPERM: "), "{msg}");
        assert!(
            msg.contains(
                "sudo ip tuntap add dev tun7 mode tun user $USER && sudo ip link set tun7 up"
            ),
            "{msg}"
        );
    }

    #[test]
    fn claimed_length_detects_truncation() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[2..4].copy_from_slice(&1500u16.to_be_bytes());
        assert_eq!(claimed_len(&v4), Some(1500));
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[4..6].copy_from_slice(&100u16.to_be_bytes());
        assert_eq!(claimed_len(&v6), Some(140));
        assert_eq!(claimed_len(&[]), None);
        assert_eq!(claimed_len(&[0x45]), None);
    }
}
