//! The sockets of `listen=` (docs/config.md, "Sockets"), on PID 1's
//! side: bound at boot, before any unit starts, so that clients can
//! connect at once and the kernel queues them; kept for good, so that an
//! exit, a restart or a stop of the unit loses no pending connection.
//! They are held in the unit's `launch::Kept` and closed only with it.
//! The child's side (fds 3 and up, LISTEN_PID) is spawn.rs's.

use crate::say;
use crate::supervise::passwd;
use crate::sys::errno::Name;
use crate::table::{Addr, Id, Ip, Listen, SocketKind};
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::net::{self, sockopt, AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
use rustix::process::{Gid, Uid};

/// One bound socket of a unit, and the connections PID 1 accepted on it
/// (`accept=yes`), for `pinit status`.
pub(crate) struct Listener {
    pub(crate) fd: OwnedFd,
    pub(crate) accepted: u32,
}

/// What failed, for `unable to WHAT ADDRESS: ERRNO`.
type Failed = (&'static str, Errno);

/// Binds `l`, a socket of unit `unit`; non-blocking if PID 1 accepts on
/// it (`accept=yes`), else as the daemon expects it: blocking. A failure
/// is one console line.
pub(crate) fn bind(unit: &str, l: &Listen<'_>, nonblocking: bool) -> Result<OwnedFd, Errno> {
    let r = match (l.kind, l.addr) {
        (SocketKind::Fifo, Addr::Path(p)) => owners(l).and_then(|o| fifo(p, l.mode, o)),
        (_, Addr::Path(p)) => owners(l).and_then(|o| unix(p, l, o, nonblocking)),
        (_, Addr::Inet(ip, port)) => inet(l, ip, port, nonblocking),
    };
    r.map_err(|(what, e)| {
        say!("{}: unable to {} {}: {}", unit, what, l.address(), Name(e));
        e
    })
}

/// Closes `fd`, socket `l`, and removes the socket file of a Unix
/// socket (a FIFO stays: it may be older than PID 1's use of it).
pub(crate) fn unbind(l: &Listen<'_>, fd: OwnedFd) {
    drop(fd);
    if let (Addr::Path(p), false) = (l.addr, l.kind == SocketKind::Fifo) {
        let sock =
            fs::lstat(p).is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Socket);
        if sock {
            if let Err(e) = fs::unlink(p) {
                say!("unable to remove {}: {}", p, Name(e));
            }
        }
    }
}

/// A connection waiting on `fd` (CLOEXEC, blocking: the instance gets it
/// as fds 0, 1 and 3); `None` when there is none.
pub(crate) fn accept(fd: BorrowedFd<'_>) -> Result<Option<OwnedFd>, Errno> {
    loop {
        match net::accept_with(fd, SocketFlags::CLOEXEC) {
            Ok(c) => return Ok(Some(c)),
            Err(Errno::AGAIN) => return Ok(None),
            // Gone before we took it: the next one.
            Err(Errno::INTR) | Err(Errno::CONNABORTED) | Err(Errno::PROTO) => {}
            Err(e) => return Err(e),
        }
    }
}

fn flags(nonblocking: bool) -> SocketFlags {
    if nonblocking {
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK
    } else {
        SocketFlags::CLOEXEC
    }
}

/// TCP or UDP. Without an address: every address, IPv6 and IPv4 on one
/// socket (`[::]`, v6only off), or IPv4's where the kernel has no IPv6.
fn inet(l: &Listen<'_>, ip: Option<Ip<'_>>, port: u16, nb: bool) -> Result<OwnedFd, Failed> {
    let ty = match l.kind {
        SocketKind::Tcp => SocketType::STREAM,
        _ => SocketType::DGRAM,
    };
    let v4 = |b: [u8; 16]| SocketAddr::new(Ipv4Addr::new(b[0], b[1], b[2], b[3]).into(), port);
    let addr = match ip {
        Some(ip) if !ip.v6 => v4(ip.bytes),
        ip => SocketAddr::new(
            Ipv6Addr::from(ip.map_or([0; 16], |ip| ip.bytes)).into(),
            port,
        ),
    };
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let (fd, addr) = match net::socket_with(family, ty, flags(nb), None) {
        Err(Errno::AFNOSUPPORT) if ip.is_none() => {
            let fd = net::socket_with(AddressFamily::INET, ty, flags(nb), None);
            (fd, v4([0; 16]))
        }
        fd => (fd, addr),
    };
    let fd = fd.map_err(|e| ("create the socket", e))?;
    let set = |r: rustix::io::Result<()>, what| r.map_err(|e| (what, e));
    // A restarted pinit --config, or a port in TIME_WAIT, binds again.
    set(
        sockopt::set_socket_reuseaddr(&fd, true),
        "set SO_REUSEADDR on",
    )?;
    // Every address: IPv4 too, whatever net.ipv6.bindv6only says; an
    // explicit [::] follows it unless v6only is given.
    if addr.is_ipv6() && (ip.is_none() || l.v6only) {
        set(
            sockopt::set_ipv6_v6only(&fd, l.v6only),
            "set IPV6_V6ONLY on",
        )?;
    }
    if l.reuseport {
        set(
            sockopt::set_socket_reuseport(&fd, true),
            "set SO_REUSEPORT on",
        )?;
    }
    if l.freebind {
        let r = match addr {
            SocketAddr::V4(_) => sockopt::set_ip_freebind(&fd, true),
            SocketAddr::V6(_) => sockopt::set_ipv6_freebind(&fd, true),
        };
        set(r, "set IP_FREEBIND on")?;
    }
    set(net::bind(&fd, &addr), "bind")?;
    if l.kind == SocketKind::Tcp {
        set(net::listen(&fd, l.backlog as i32), "listen on")?;
    }
    Ok(fd)
}

/// `owner=` and `group=` as ids; `None` leaves the file's.
type Owners = (Option<Uid>, Option<Gid>);

fn owners(l: &Listen<'_>) -> Result<Owners, Failed> {
    let id = |id: Option<Id<'_>>, file: &str, user: bool| -> Result<Option<u32>, Failed> {
        let Some(id) = id else { return Ok(None) };
        let name = match id {
            Id::Num(n) => return Ok(Some(n)),
            Id::Name(s) => s,
        };
        let found = if user {
            passwd::user(name.as_bytes(), file).map(|u| u.uid)
        } else {
            passwd::group(name.as_bytes(), file)
        };
        found
            .map(Some)
            .map_err(|e| ("find owner=/group= (/etc/passwd, /etc/group) of", e))
    };
    let uid = id(l.owner, "/etc/passwd", true)?;
    let gid = id(l.group, "/etc/group", false)?;
    Ok((uid.map(Uid::from_raw), gid.map(Gid::from_raw)))
}

/// Unix stream, datagram or seqpacket socket at `path`: its directories
/// made (0755), a stale socket there replaced (nothing else is), the
/// mode set through the umask at bind (never a chmod by path), then the
/// owner.
fn unix(path: &str, l: &Listen<'_>, (uid, gid): Owners, nb: bool) -> Result<OwnedFd, Failed> {
    let ty = match l.kind {
        SocketKind::UnixDgram => SocketType::DGRAM,
        SocketKind::UnixSeqpacket => SocketType::SEQPACKET,
        _ => SocketType::STREAM,
    };
    parents(path)?;
    if let Ok(st) = fs::lstat(path) {
        if FileType::from_raw_mode(st.st_mode) == FileType::Socket {
            let _ = fs::unlink(path);
        }
    }
    let fd = net::socket_with(AddressFamily::UNIX, ty, flags(nb), None)
        .map_err(|e| ("create the socket", e))?;
    let addr = SocketAddrUnix::new(path).map_err(|e| ("bind", e))?;
    let old = rustix::process::umask(Mode::from_raw_mode(!u32::from(l.mode) & 0o777));
    let bound = net::bind(&fd, &addr);
    rustix::process::umask(old);
    bound.map_err(|e| ("bind", e))?;
    if uid.is_some() || gid.is_some() {
        fs::chownat(CWD, path, uid, gid, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| ("set the owner of", e))?;
    }
    if l.kind != SocketKind::UnixDgram {
        net::listen(&fd, l.backlog as i32).map_err(|e| ("listen on", e))?;
    }
    Ok(fd)
}

/// A FIFO at `path` (made if missing; an existing one is used), opened
/// read-write and non-blocking, so that neither PID 1 nor the daemon
/// ever waits for a writer and none sees end-of-file.
fn fifo(path: &str, mode: u16, (uid, gid): Owners) -> Result<OwnedFd, Failed> {
    parents(path)?;
    match fs::mknodat(
        CWD,
        path,
        FileType::Fifo,
        Mode::from_raw_mode(mode.into()),
        0,
    ) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(("create the FIFO", e)),
    }
    let flags =
        OFlags::RDWR | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let fd = fs::open(path, flags, Mode::empty()).map_err(|e| ("open", e))?;
    let st = fs::fstat(&fd).map_err(|e| ("open", e))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::Fifo {
        return Err(("use (it exists and is not a FIFO)", Errno::EXIST));
    }
    fs::fchmod(&fd, Mode::from_raw_mode(mode.into())).map_err(|e| ("set the mode of", e))?;
    if uid.is_some() || gid.is_some() {
        fs::fchown(&fd, uid, gid).map_err(|e| ("set the owner of", e))?;
    }
    Ok(fd)
}

/// The directories above `path`, made where missing (0755, root's).
fn parents(path: &str) -> Result<(), Failed> {
    for (i, _) in path.match_indices('/').skip(1) {
        let dir = path.get(..i).unwrap_or("/");
        match fs::mkdir(dir, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(("create the directory of", e)),
        }
    }
    Ok(())
}

impl Listener {
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
