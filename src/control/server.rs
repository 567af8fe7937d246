//! The control socket (docs/control.md): a SOCK_SEQPACKET Unix socket, mode
//! 0600, root peers only (SO_PEERCRED). One request per connection, one
//! packet: a verb and its words in printable ASCII. The reply is one
//! packet per line, the last one `ok` or `error CODE MESSAGE` (CODE: 1
//! failed, 2 usage, 3 unknown unit), then the connection is closed. See
//! docs/control.md.
//!
//! PID 1 never waits for a client: sockets are non-blocking, a client
//! that does not speak within CLIENT_TIMEOUT_MS is dropped, a reply the
//! client does not read is dropped, at most CLIENTS_MAX at once.

use crate::control::protocol::{
    parse, Answer, Refusal, Request, ARCH, FAILED, REPLY_LINE_MAX, REQUEST_MAX, UNKNOWN, USAGE,
    VERSION,
};
use crate::put::{Put, Sink};
use crate::supervise::effects::Effects;
use crate::supervise::epoll::{token, Loop};
use crate::supervise::supervisor::{Refused, Supervisor};
use crate::supervise::unit::Status;
use crate::sys::path;
use crate::sys::time::Ms;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{self, AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

/// Connections served at once; more are refused with `error 1 busy`.
pub(crate) const CLIENTS_MAX: usize = 8;
/// A client must send its request within this time.
pub(crate) const CLIENT_TIMEOUT_MS: u64 = 2000;

struct Client {
    fd: OwnedFd,
    deadline: Ms,
    /// SO_PEERCRED said uid 0. Others are answered (after their request
    /// is read, so the answer is not lost in a race) with a refusal.
    root: bool,
}

/// The listening socket and the connected clients.
pub(crate) struct Control {
    listen: OwnedFd,
    clients: [Option<Client>; CLIENTS_MAX],
}

impl Control {
    /// Binds `path` (replacing a stale socket), mode 0600.
    pub(crate) fn bind(path: &str, ev: &Loop) -> Result<Control, Errno> {
        let _ = path::unlink(path);
        let fd = net::socket_with(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        let addr = path::unix_addr(path)?;
        // Mode 0600 from the umask at bind time, never a chmod by path.
        let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
        let bound = net::bind(&fd, &addr);
        rustix::process::umask(old);
        bound?;
        net::listen(&fd, 16)?;
        ev.add(&fd, token::LISTEN)?;
        Ok(Control {
            listen: fd,
            clients: [const { None }; CLIENTS_MAX],
        })
    }

    /// The listening socket a previous PID 1 bound (a re-exec's
    /// hand-over); connections made during the exec wait in its backlog.
    pub(crate) fn adopt(fd: OwnedFd, ev: &Loop) -> Result<Control, Errno> {
        ev.add(&fd, token::LISTEN)?;
        Ok(Control {
            listen: fd,
            clients: [const { None }; CLIENTS_MAX],
        })
    }

    /// The listening socket, for a re-exec's hand-over.
    pub(crate) fn listen_fd(&self) -> BorrowedFd<'_> {
        self.listen.as_fd()
    }

    /// The earliest client deadline.
    pub(crate) fn deadline(&self) -> Option<Ms> {
        self.clients.iter().flatten().map(|c| c.deadline).min()
    }

    /// Drops clients that did not speak in time.
    pub(crate) fn expire(&mut self, ev: &Loop, now: Ms) {
        for slot in self.clients.iter_mut() {
            if slot.as_ref().is_some_and(|c| c.deadline <= now) {
                if let Some(c) = slot.take() {
                    let _ = reply(
                        c.fd.as_fd(),
                        Err((FAILED, "timed out waiting for the request")),
                    );
                    let _ = ev.remove(&c.fd);
                }
            }
        }
    }

    /// Accepts every pending connection.
    pub(crate) fn accept(&mut self, ev: &Loop, now: Ms) {
        while let Ok(fd) =
            net::accept_with(&self.listen, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK)
        {
            let root = net::sockopt::socket_peercred(&fd).is_ok_and(|c| c.uid.is_root());
            let free = self.clients.iter().position(|c| c.is_none());
            match free {
                Some(i) if ev.add(&fd, token::CLIENT | i as u64).is_ok() => {
                    if let Some(slot) = self.clients.get_mut(i) {
                        *slot = Some(Client {
                            fd,
                            deadline: now.after(CLIENT_TIMEOUT_MS),
                            root,
                        });
                    }
                }
                _ => {
                    let _ = reply(fd.as_fd(), Err((FAILED, "busy: too many clients")));
                }
            }
        }
    }

    /// Client `i` is readable: read its request, answer, close; or, for
    /// a request the boot layer carries out, hand the client over.
    pub(crate) fn serve(
        &mut self,
        i: usize,
        ev: &Loop,
        sup: Option<(&mut Supervisor<'_>, &mut impl Effects)>,
        now: Ms,
    ) -> Option<Deferred> {
        let client = self.clients.get_mut(i).and_then(|c| c.take())?;
        let _ = ev.remove(&client.fd);
        let mut buf = [0u8; REQUEST_MAX + 1];
        let got = net::recv(
            &client.fd,
            &mut buf[..],
            RecvFlags::TRUNC | RecvFlags::DONTWAIT,
        );
        let fd = client.fd.as_fd();
        match got {
            Ok((_, 0)) => {}
            Ok(_) if !client.root => {
                let _ = reply(fd, Err((FAILED, "permission denied: root only")));
            }
            Ok((_, n)) if n <= REQUEST_MAX => {
                let r = match parse(buf.get(..n).unwrap_or(&[])) {
                    Ok(req) => match (sup, Later::of(req)) {
                        (Some(_), Some(request)) => {
                            return Some(Deferred {
                                fd: client.fd,
                                request,
                            })
                        }
                        (Some((sup, fx)), None) => execute(req, sup, fx, fd, now),
                        (None, _) => Err((FAILED, "no units: the rescue shell is running")),
                    },
                    Err(e) => Err(e),
                };
                let _ = reply(fd, r);
            }
            Ok(_) => {
                let _ = reply(fd, Err((USAGE, "request too long")));
            }
            Err(Errno::AGAIN) => {
                // Spurious wake-up: keep waiting for it.
                if let Some(slot) = self.clients.get_mut(i) {
                    if ev.add(&client.fd, token::CLIENT | i as u64).is_ok() {
                        *slot = Some(client);
                    }
                }
            }
            Err(_) => {}
        }
        None
    }
}

/// A request the boot layer carries out itself (it reaches beyond the
/// supervisor: the table's source, the whole process), with the client
/// to answer: detail lines with `send_line`, then `reply`.
pub(crate) struct Deferred {
    pub(crate) fd: OwnedFd,
    pub(crate) request: Later,
}

/// The requests of `Deferred`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Later {
    ReloadTable,
    Reexec,
    #[cfg(feature = "test-panic")]
    Panic,
}

impl Later {
    fn of(req: Request<'_>) -> Option<Later> {
        match req {
            Request::ReloadTable => Some(Later::ReloadTable),
            Request::Reexec => Some(Later::Reexec),
            #[cfg(feature = "test-panic")]
            Request::Panic => Some(Later::Panic),
            #[cfg(feature = "test-wedge")]
            Request::Wedge => None,
            Request::List
            | Request::Show(_)
            | Request::Start(_)
            | Request::Stop(_)
            | Request::Restart(_)
            | Request::Reload(_)
            | Request::Signal(..)
            | Request::Boot => None,
        }
    }
}

/// Sends one line as one packet, never blocking.
pub(crate) fn send_line(fd: BorrowedFd<'_>, line: &[u8]) -> Result<(), Errno> {
    net::send(fd, line, SendFlags::DONTWAIT | SendFlags::NOSIGNAL).map(|_| ())
}

/// The last line of an answer: `ok` or `error CODE MESSAGE`.
pub(crate) fn reply(fd: BorrowedFd<'_>, r: Result<(), Refusal>) -> Result<(), Errno> {
    let mut line: heapless::String<REPLY_LINE_MAX> = heapless::String::new();
    let _ = crate::put!(line, "{}", Answer(r));
    send_line(fd, line.as_bytes())
}

fn find(sup: &Supervisor<'_>, name: &str) -> Result<usize, Refusal> {
    sup.find(name).ok_or((UNKNOWN, "no such unit"))
}

pub(crate) fn refused(r: Refused) -> Refusal {
    match r {
        Refused::NotRunning => (FAILED, "not running"),
        Refused::NoMainProcess => (
            FAILED,
            "no main process (ready=forked: several processes and no pidfile=)",
        ),
        Refused::Signal(_) => (FAILED, "kill failed"),
        Refused::Reloading => (FAILED, "a reload of the table is under way"),
        Refused::ShuttingDown => (FAILED, "shutting down"),
    }
}

/// Carries out a request; detail lines go out as they are made.
fn execute(
    req: Request<'_>,
    sup: &mut Supervisor<'_>,
    fx: &mut impl Effects,
    fd: BorrowedFd<'_>,
    now: Ms,
) -> Result<(), Refusal> {
    let lost = (FAILED, "reply lost: the client did not read");
    match req {
        Request::List => {
            let mut v: heapless::String<64> = heapless::String::new();
            let _ = crate::put!(v, "pinit {} {}", VERSION, ARCH);
            send_line(fd, v.as_bytes()).map_err(|_| lost)?;
            for i in 0..sup.len() {
                let line = unit_line(sup, i, now);
                send_line(fd, line.as_bytes()).map_err(|_| lost)?;
            }
            Ok(())
        }
        Request::Show(name) => {
            let i = find(sup, name)?;
            let line = unit_line(sup, i, now);
            send_line(fd, line.as_bytes()).map_err(|_| lost)?;
            let mut st: heapless::String<REPLY_LINE_MAX> = heapless::String::new();
            let status = sup.status_text(i);
            let _ = crate::put!(st, "status {}", core::str::from_utf8(status).unwrap_or("?"));
            send_line(fd, st.as_bytes()).map_err(|_| lost)?;
            if let Some((period, pinged)) = sup.unit(i).map(|(_, sm)| sm.watchdog()) {
                if period > 0 {
                    let mut w: heapless::String<64> = heapless::String::new();
                    let age = Opt(pinged.map(|t| Ms(now.since(t))));
                    let _ = crate::put!(w, "watchdog {} {}", period, age);
                    send_line(fd, w.as_bytes()).map_err(|_| lost)?;
                }
            }
            socket_lines(sup, i, fd).map_err(|_| lost)
        }
        Request::Boot => {
            for (name, t, waited) in sup.boot_rows() {
                let mut line: heapless::String<REPLY_LINE_MAX> = heapless::String::new();
                let _ = crate::put!(
                    line,
                    "{} {} {} {} {}",
                    name,
                    Opt(t.deps_met),
                    Opt(t.first_start),
                    Opt(t.first_ready),
                    waited.unwrap_or("-")
                );
                send_line(fd, line.as_bytes()).map_err(|_| lost)?;
            }
            Ok(())
        }
        Request::Start(name) => {
            let i = find(sup, name)?;
            sup.start(fx, i, now).map_err(refused)
        }
        Request::Stop(name) => {
            let i = find(sup, name)?;
            sup.stop(fx, i, now);
            Ok(())
        }
        Request::Restart(name) => {
            let i = find(sup, name)?;
            sup.restart(fx, i, now).map_err(refused)
        }
        Request::Reload(name) => {
            let i = find(sup, name)?;
            sup.reload(fx, i, now).map_err(refused)
        }
        Request::Signal(name, sig) => {
            let i = find(sup, name)?;
            sup.signal(fx, i, u32::from(sig)).map_err(refused)
        }
        Request::ReloadTable | Request::Reexec => Err((FAILED, "not here")),
        #[cfg(feature = "test-panic")]
        Request::Panic => Err((FAILED, "not here")),
        #[cfg(feature = "test-wedge")]
        Request::Wedge => wedge(fd),
    }
}

/// `pinit wedge` (feature `test-wedge`, test images only): answers, then
/// never returns to the event loop, as a PID 1 stuck in a system call or
/// a loop would. Nothing is pinged, reaped or answered any more.
#[cfg(feature = "test-wedge")]
fn wedge(fd: BorrowedFd<'_>) -> ! {
    crate::say!("wedge: PID 1 stops running its event loop (a test build)");
    let _ = reply(fd, Ok(()));
    loop {
        let t = rustix::time::Timespec {
            tv_sec: 3600,
            tv_nsec: 0,
        };
        let _ = rustix::thread::nanosleep(&t);
    }
}

/// `socket FD ADDRESS NAME ACCEPTED` per socket of unit `i` (FD `-` when
/// PID 1 could not bind it, ACCEPTED `-` unless it is `accept=yes`), then
/// `instances N MAX` for an `accept=yes` unit.
fn socket_lines(sup: &Supervisor<'_>, i: usize, fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let Some((u, _)) = sup.unit(i) else {
        return Ok(());
    };
    let (socks, instances) = sup.sockets(i);
    for ((l, bound), n) in socks.zip(3..) {
        let mut line: heapless::String<REPLY_LINE_MAX> = heapless::String::new();
        let _ = crate::put!(line, "socket ");
        let _ = match bound {
            Some(_) => crate::put!(line, "{}", n),
            None => crate::put!(line, "-"),
        };
        let _ = crate::put!(line, " {} {} ", l.address(), u.fd_name(&l));
        let _ = match (u.accept, bound) {
            (true, Some(b)) => crate::put!(line, "{}", b.accepted),
            _ => crate::put!(line, "-"),
        };
        send_line(fd, line.as_bytes())?;
    }
    if u.accept {
        let mut line: heapless::String<64> = heapless::String::new();
        let _ = crate::put!(line, "instances {} {}", instances, u.max_instances);
        send_line(fd, line.as_bytes())?;
    }
    Ok(())
}

/// `NAME KIND STATE PID SINCE_MS RESTARTS LAST CGROUP`: the
/// machine-readable summary of one unit (the client formats it).
fn unit_line(sup: &Supervisor<'_>, i: usize, now: Ms) -> heapless::String<REPLY_LINE_MAX> {
    let mut line = heapless::String::new();
    let (u, sm) = match sup.unit(i) {
        Some(x) => x,
        None => return line,
    };
    let pid = sm.main_pid().map_or(0, |p| p.as_raw_nonzero().get());
    // A forked unit tracked by its cgroup runs with no main process.
    let up = if sm.is_down() {
        0
    } else {
        now.since(sm.since())
    };
    let _ = crate::put!(
        line,
        "{} {} {} {} {} {} {} ",
        u.name,
        u.kind.name(),
        sup.state_name(i),
        pid,
        up,
        sm.restarts(),
        Last(sm.last_exit())
    );
    match sup.cgroup_dir(i) {
        Some(p) => {
            let _ = line.push_str(p.as_str());
        }
        None => {
            let _ = line.push('-');
        }
    }
    line
}

struct Opt(Option<Ms>);

impl Put for Opt {
    fn put(&self, s: &mut dyn Sink) {
        match self.0 {
            Some(ms) => ms.0.put(s),
            None => s.str("-"),
        }
    }
}

struct Last(Option<Status>);

impl Put for Last {
    fn put(&self, s: &mut dyn Sink) {
        match self.0 {
            None => s.str("-"),
            Some(Status::Code(c)) => crate::fill!(s, "exit:{}", c),
            Some(Status::Signal(n)) => crate::fill!(s, "signal:{}", n),
            Some(Status::Unknown) => s.str("unknown"),
        }
    }
}
