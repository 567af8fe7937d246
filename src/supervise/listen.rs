//! The sockets of `listen=` (docs/config.md, "Sockets"), on PID 1's
//! side: bound at boot, before any unit starts, so that clients can
//! connect at once and the kernel queues them; kept for good, so that an
//! exit, a restart or a stop of the unit loses no pending connection.
//! They are held in the unit's row (rows.rs) and closed only with it.
//! The child's side (fds 3 and up, LISTEN_PID) is spawn.rs's.

use crate::say;
use crate::supervise::passwd;
use crate::sys::errno::Name;
use crate::sys::path;
use crate::table::{Addr, Id, Ip, Listen, SocketKind};
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::net::{self, sockopt, AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
use rustix::process::{Gid, Uid};

/// A unit's bound sockets, in the order of its `listen=`: every one or
/// none (a unit whose socket could not be bound does not run).
pub(crate) type Sockets = heapless::Vec<Listener, { crate::table::capacity::LISTEN_MAX }>;

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
            path::lstat(p).is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Socket);
        if sock {
            if let Err(e) = path::unlink(p) {
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

/// The address an IP `listen=` binds: without a host, IPv6's every
/// address (`[::]`).
fn inet_addr(ip: Option<Ip<'_>>, port: u16) -> SocketAddr {
    match ip {
        Some(ip) if !ip.v6 => v4(ip.bytes, port),
        ip => SocketAddr::new(
            Ipv6Addr::from(ip.map_or([0; 16], |ip| ip.bytes)).into(),
            port,
        ),
    }
}

fn v4(b: [u8; 16], port: u16) -> SocketAddr {
    SocketAddr::new(Ipv4Addr::new(b[0], b[1], b[2], b[3]).into(), port)
}

/// The socket type of a `listen=` kind (a FIFO: none).
fn socket_type(kind: SocketKind) -> Option<SocketType> {
    match kind {
        SocketKind::Tcp | SocketKind::Unix => Some(SocketType::STREAM),
        SocketKind::Udp | SocketKind::UnixDgram => Some(SocketType::DGRAM),
        SocketKind::UnixSeqpacket => Some(SocketType::SEQPACKET),
        SocketKind::Fifo => None,
    }
}

/// TCP or UDP. Without an address: every address, IPv6 and IPv4 on one
/// socket (`[::]`, v6only off), or IPv4's where the kernel has no IPv6.
fn inet(l: &Listen<'_>, ip: Option<Ip<'_>>, port: u16, nb: bool) -> Result<OwnedFd, Failed> {
    let ty = socket_type(l.kind).unwrap_or(SocketType::DGRAM);
    let addr = inet_addr(ip, port);
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let (fd, addr) = match net::socket_with(family, ty, flags(nb), None) {
        Err(Errno::AFNOSUPPORT) if ip.is_none() => {
            let fd = net::socket_with(AddressFamily::INET, ty, flags(nb), None);
            (fd, v4([0; 16], port))
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
    let ty = socket_type(l.kind).unwrap_or(SocketType::STREAM);
    parents(path)?;
    if let Ok(st) = path::lstat(path) {
        if FileType::from_raw_mode(st.st_mode) == FileType::Socket {
            let _ = path::unlink(path);
        }
    }
    let fd = net::socket_with(AddressFamily::UNIX, ty, flags(nb), None)
        .map_err(|e| ("create the socket", e))?;
    let addr = path::unix_addr(path).map_err(|e| ("bind", e))?;
    let old = rustix::process::umask(Mode::from_raw_mode(!u32::from(l.mode) & 0o777));
    let bound = net::bind(&fd, &addr);
    rustix::process::umask(old);
    bound.map_err(|e| ("bind", e))?;
    if uid.is_some() || gid.is_some() {
        path::with(path, |p| {
            fs::chownat(CWD, p, uid, gid, AtFlags::SYMLINK_NOFOLLOW)
        })
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
    let made = path::with(path, |p| {
        fs::mknodat(CWD, p, FileType::Fifo, Mode::from_raw_mode(mode.into()), 0)
    });
    match made {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(("create the FIFO", e)),
    }
    let flags =
        OFlags::RDWR | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let fd = path::open(path, flags, Mode::empty()).map_err(|e| ("open", e))?;
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
        match path::mkdir(dir, Mode::from_raw_mode(0o755)) {
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

/// An fd as far as telling which `listen=` it is goes (`probe`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Seen<'p> {
    /// A socket: its type, whether it listens (SO_ACCEPTCONN), and what
    /// it is bound to.
    Socket {
        ty: SocketType,
        listening: bool,
        at: Bound<'p>,
    },
    /// A FIFO: its device and inode.
    Fifo(u64, u64),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Bound<'p> {
    Inet(SocketAddr),
    Path(&'p [u8]),
}

/// What `fd` is (its Unix path in `path`); `None`: neither a socket nor
/// a FIFO, or unbound.
pub(crate) fn probe<'p>(fd: BorrowedFd<'_>, path: &'p mut [u8; 108]) -> Option<Seen<'p>> {
    let st = fs::fstat(fd).ok()?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Fifo => return Some(Seen::Fifo(st.st_dev, st.st_ino)),
        FileType::Socket => {}
        _ => return None,
    }
    let name = net::getsockname(fd).ok()?;
    let at = match SocketAddr::try_from(name.clone()) {
        Ok(a) => Bound::Inet(a),
        Err(_) => {
            let unix = SocketAddrUnix::try_from(name).ok()?;
            let p = unix.path_bytes()?;
            let dst = path.get_mut(..p.len())?;
            dst.copy_from_slice(p);
            Bound::Path(dst)
        }
    };
    Some(Seen::Socket {
        ty: sockopt::socket_type(fd).ok()?,
        listening: sockopt::socket_acceptconn(fd).unwrap_or(false),
        at,
    })
}

/// Whether `seen` is socket `l` as `bind` made it; `fifo`: the device
/// and inode of a FIFO `l`'s path now. Pure: the matching is tested on
/// the host.
pub(crate) fn is(l: &Listen<'_>, seen: &Seen<'_>, fifo: Option<(u64, u64)>) -> bool {
    match (*seen, l.addr) {
        (Seen::Fifo(dev, ino), Addr::Path(_)) => {
            l.kind == SocketKind::Fifo && fifo == Some((dev, ino))
        }
        (Seen::Socket { ty, listening, at }, addr) => {
            let stream = ty != SocketType::DGRAM;
            let place = match (at, addr) {
                (Bound::Inet(a), Addr::Inet(ip, port)) => {
                    a == inet_addr(ip, port) || (ip.is_none() && a == v4([0; 16], port))
                }
                (Bound::Path(p), Addr::Path(want)) => p == want.as_bytes(),
                (Bound::Inet(_), Addr::Path(_)) | (Bound::Path(_), Addr::Inet(..)) => false,
            };
            socket_type(l.kind) == Some(ty) && listening == stream && place
        }
        (Seen::Fifo(..), Addr::Inet(..)) => false,
    }
}

/// The device and inode of the FIFO at `path`, if there is one.
pub(crate) fn fifo_id(path: &str) -> Option<(u64, u64)> {
    let st = path::lstat(path).ok()?;
    (FileType::from_raw_mode(st.st_mode) == FileType::Fifo).then_some((st.st_dev, st.st_ino))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::format;

    fn l(v: &str) -> Listen<'_> {
        Listen::parse(v).ok().unwrap()
    }

    fn inet(ty: SocketType, listening: bool, a: &str) -> Seen<'static> {
        Seen::Socket {
            ty,
            listening,
            at: Bound::Inet(a.parse().unwrap()),
        }
    }

    #[test]
    fn an_inherited_socket_is_told_by_type_listening_and_address() {
        let any = l("tcp:80");
        assert!(is(&any, &inet(SocketType::STREAM, true, "[::]:80"), None));
        // The IPv4 fallback of a kernel without IPv6.
        assert!(is(
            &any,
            &inet(SocketType::STREAM, true, "0.0.0.0:80"),
            None
        ));
        assert!(
            !is(&any, &inet(SocketType::STREAM, false, "[::]:80"), None),
            "not listening"
        );
        assert!(!is(&any, &inet(SocketType::STREAM, true, "[::]:81"), None));
        assert!(!is(&any, &inet(SocketType::DGRAM, false, "[::]:80"), None));
        let lo = l("tcp:127.0.0.1:80");
        assert!(is(
            &lo,
            &inet(SocketType::STREAM, true, "127.0.0.1:80"),
            None
        ));
        assert!(!is(
            &lo,
            &inet(SocketType::STREAM, true, "0.0.0.0:80"),
            None
        ));
        let v6 = l("udp:[::1]:53");
        assert!(is(&v6, &inet(SocketType::DGRAM, false, "[::1]:53"), None));
        assert!(!is(
            &v6,
            &inet(SocketType::DGRAM, false, "127.0.0.1:53"),
            None
        ));
        let path = |ty, listening, p: &'static str| Seen::Socket {
            ty,
            listening,
            at: Bound::Path(p.as_bytes()),
        };
        let u = l("unix:/run/a.sock");
        assert!(is(&u, &path(SocketType::STREAM, true, "/run/a.sock"), None));
        assert!(!is(
            &u,
            &path(SocketType::STREAM, true, "/run/b.sock"),
            None
        ));
        assert!(!is(
            &u,
            &path(SocketType::SEQPACKET, true, "/run/a.sock"),
            None
        ));
        assert!(!is(
            &l("tcp:80"),
            &path(SocketType::STREAM, true, "/run/a.sock"),
            None
        ));
        let d = l("unix-dgram:/run/a.sock");
        assert!(is(&d, &path(SocketType::DGRAM, false, "/run/a.sock"), None));
        let f = l("fifo:/run/f");
        assert!(is(&f, &Seen::Fifo(1, 2), Some((1, 2))));
        assert!(
            !is(&f, &Seen::Fifo(1, 2), Some((1, 3))),
            "another FIFO there now"
        );
        assert!(!is(&f, &Seen::Fifo(1, 2), None));
        assert!(!is(&u, &Seen::Fifo(1, 2), Some((1, 2))));
    }

    #[test]
    fn what_bind_made_is_found_again() {
        let dir = std::env::temp_dir().join(format!("pinit-listen-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sock = format!("{}/s/a.sock", dir.display());
        let fifo = format!("{}/f", dir.display());
        let (us, uf) = (format!("unix:{}", sock), format!("fifo:{}", fifo));
        let (us, uf) = (l(&us), l(&uf));
        let s = bind("t", &us, false).unwrap();
        let f = bind("t", &uf, false).unwrap();
        // A TCP socket on a port the kernel picks, then its listen=.
        let t = net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
        net::bind(
            &t,
            &v4([127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0),
        )
        .unwrap();
        net::listen(&t, 1).unwrap();
        let port = match net::getsockname(&t).unwrap().try_into() {
            Ok(SocketAddr::V4(a)) => a.port(),
            other => panic!("{:?}", other),
        };
        let tcp = format!("tcp:127.0.0.1:{}", port);
        let tcp = l(&tcp);
        let mut buf = [0u8; 108];
        for (want, fd) in [(&us, &s), (&uf, &f), (&tcp, &t)] {
            let seen = probe(fd.as_fd(), &mut buf).unwrap();
            let id = match want.addr {
                Addr::Path(p) => fifo_id(p),
                Addr::Inet(..) => None,
            };
            assert!(is(want, &seen, id), "{:?}", seen);
            let others = [&us, &uf, &tcp]
                .into_iter()
                .filter(|o| !core::ptr::eq(*o, want));
            for o in others {
                assert!(
                    !is(o, &seen, fifo_id(&fifo)),
                    "{:?} is not {}",
                    seen,
                    o.address()
                );
            }
        }
        // unbind removes the socket file, not the FIFO.
        unbind(&us, s);
        unbind(&uf, f);
        assert!(!std::path::Path::new(&sock).exists());
        assert!(std::path::Path::new(&fifo).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
