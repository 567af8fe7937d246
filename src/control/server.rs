//! The control socket (DESIGN §4): a SOCK_SEQPACKET Unix socket, mode
//! 0600, root peers only (SO_PEERCRED). One request per connection, one
//! packet: a verb and its words in printable ASCII. The reply is one
//! packet per line, the last one `ok` or `error CODE MESSAGE` (CODE: 1
//! failed, 2 usage, 3 unknown unit), then the connection is closed. See
//! docs/control.md.
//!
//! PID 1 never waits for a client: sockets are non-blocking, a client
//! that does not speak within CLIENT_TIMEOUT_MS is dropped, a reply the
//! client does not read is dropped, at most CLIENTS_MAX at once.

use crate::supervise::epoll::Loop;
use crate::supervise::order::{self, Set};
use crate::supervise::supervisor::{Deps, Supervisor};
use crate::supervise::unit::{Event, State, Status};
use crate::sys::time::Ms;
use crate::table;
use core::fmt::Write;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{
    self, AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketFlags, SocketType,
};

/// Longest request accepted.
pub const REQUEST_MAX: usize = 256;
/// Longest reply line (one packet).
pub const LINE_MAX: usize = 512;
/// Connections served at once; more are refused with `error 1 busy`.
pub const CLIENTS_MAX: usize = 8;
/// A client must send its request within this time.
pub const CLIENT_TIMEOUT_MS: u64 = 2000;
/// Epoll tokens: the listening socket, and `CLIENT | slot`.
pub const TOKEN_LISTEN: u64 = 4 << 16;
pub const TOKEN_CLIENT: u64 = 5 << 16;

/// A parsed request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Request<'a> {
    /// `list`: one line per unit.
    List,
    /// `show NAME`: every field of one unit.
    Show(&'a str),
    Start(&'a str),
    Stop(&'a str),
    Restart(&'a str),
    Reload(&'a str),
    /// `signal NAME SIG` (SIG already a number 1-64).
    Signal(&'a str, u8),
    /// `boot`: the boot timeline.
    Boot,
}

/// Why a request was refused: (code, message).
pub type Refusal = (u8, &'static str);

pub const USAGE: u8 = 2;
pub const FAILED: u8 = 1;
pub const UNKNOWN: u8 = 3;

/// Checks and splits a request packet.
pub fn parse<'a>(bytes: &'a [u8]) -> Result<Request<'a>, Refusal> {
    if bytes.len() > REQUEST_MAX {
        return Err((USAGE, "request too long"));
    }
    if bytes.iter().any(|&b| !(0x20..0x7f).contains(&b)) {
        return Err((USAGE, "malformed request: only printable ASCII is accepted"));
    }
    let text = core::str::from_utf8(bytes).map_err(|_| (USAGE, "malformed request"))?;
    let mut words = text.split(' ');
    let verb = words.next().unwrap_or("");
    let a = words.next();
    let b = words.next();
    if words.next().is_some() {
        return Err((USAGE, "too many words"));
    }
    let name = |w: Option<&'a str>| -> Result<&'a str, Refusal> {
        match w {
            Some(n) if !n.is_empty() => Ok(n),
            _ => Err((USAGE, "a unit name is missing")),
        }
    };
    let none = |w: Option<&str>| {
        if w.is_some() {
            Err((USAGE, "too many words"))
        } else {
            Ok(())
        }
    };
    Ok(match verb {
        "list" => {
            none(a)?;
            Request::List
        }
        "boot" => {
            none(a)?;
            Request::Boot
        }
        "show" => {
            none(b)?;
            Request::Show(name(a)?)
        }
        "start" => {
            none(b)?;
            Request::Start(name(a)?)
        }
        "stop" => {
            none(b)?;
            Request::Stop(name(a)?)
        }
        "restart" => {
            none(b)?;
            Request::Restart(name(a)?)
        }
        "reload" => {
            none(b)?;
            Request::Reload(name(a)?)
        }
        "signal" => {
            let sig = b
                .and_then(table::value::signal)
                .ok_or((USAGE, "signal needs NAME SIG"))?;
            Request::Signal(name(a)?, sig)
        }
        "" => return Err((USAGE, "empty request")),
        _ => return Err((USAGE, "unknown command")),
    })
}

struct Client {
    fd: OwnedFd,
    deadline: Ms,
    /// SO_PEERCRED said uid 0. Others are answered (after their request
    /// is read, so the answer is not lost in a race) with a refusal.
    root: bool,
}

/// The listening socket and the connected clients.
pub struct Control {
    listen: OwnedFd,
    clients: [Option<Client>; CLIENTS_MAX],
}

impl Control {
    /// Binds `path` (replacing a stale socket), mode 0600.
    pub fn bind(path: &str, ev: &Loop) -> Result<Control, Errno> {
        let _ = rustix::fs::unlink(path);
        let fd = net::socket_with(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        let addr = SocketAddrUnix::new(path)?;
        // Mode 0600 from the umask at bind time, never a chmod by path.
        let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
        let bound = net::bind(&fd, &addr);
        rustix::process::umask(old);
        bound?;
        net::listen(&fd, 16)?;
        ev.add(&fd, TOKEN_LISTEN)?;
        Ok(Control {
            listen: fd,
            clients: [const { None }; CLIENTS_MAX],
        })
    }

    /// The earliest client deadline.
    pub fn deadline(&self) -> Option<Ms> {
        self.clients.iter().flatten().map(|c| c.deadline).min()
    }

    /// Drops clients that did not speak in time.
    pub fn expire(&mut self, ev: &Loop, now: Ms) {
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
    pub fn accept(&mut self, ev: &Loop, now: Ms) {
        while let Ok(fd) =
            net::accept_with(&self.listen, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK)
        {
            let root = net::sockopt::socket_peercred(&fd).is_ok_and(|c| c.uid.is_root());
            let free = self.clients.iter().position(|c| c.is_none());
            match free {
                Some(i) if ev.add(&fd, TOKEN_CLIENT | i as u64).is_ok() => {
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

    /// Client `i` is readable: read its request, answer, close.
    pub fn serve(&mut self, i: usize, ev: &Loop, sup: Option<&mut Supervisor<'_>>, now: Ms) {
        let client = match self.clients.get_mut(i).and_then(|c| c.take()) {
            Some(c) => c,
            None => return,
        };
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
                    Ok(req) => match sup {
                        Some(sup) => execute(req, sup, ev, fd, now),
                        None => Err((FAILED, "no units: the rescue shell is running")),
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
                    if ev.add(&client.fd, TOKEN_CLIENT | i as u64).is_ok() {
                        *slot = Some(client);
                    }
                }
            }
            Err(_) => {}
        }
    }
}

/// Sends one line as one packet, never blocking.
fn send_line(fd: BorrowedFd<'_>, line: &[u8]) -> Result<(), Errno> {
    net::send(fd, line, SendFlags::DONTWAIT | SendFlags::NOSIGNAL).map(|_| ())
}

fn reply(fd: BorrowedFd<'_>, r: Result<(), Refusal>) -> Result<(), Errno> {
    let mut line: heapless::String<LINE_MAX> = heapless::String::new();
    match r {
        Ok(()) => {
            let _ = line.push_str("ok");
        }
        Err((code, msg)) => {
            let _ = write!(line, "error {} {}", code, msg);
        }
    }
    send_line(fd, line.as_bytes())
}

fn find(sup: &Supervisor<'_>, name: &str) -> Result<usize, Refusal> {
    sup.table.find(name).ok_or((UNKNOWN, "no such unit"))
}

/// Carries out a request; detail lines go out as they are made.
fn execute(
    req: Request<'_>,
    sup: &mut Supervisor<'_>,
    ev: &Loop,
    fd: BorrowedFd<'_>,
    now: Ms,
) -> Result<(), Refusal> {
    let lost = (FAILED, "reply lost: the client did not read");
    match req {
        Request::List => {
            for i in 0..sup.slots.len() {
                let line = unit_line(sup, i, now);
                send_line(fd, line.as_bytes()).map_err(|_| lost)?;
            }
            Ok(())
        }
        Request::Show(name) => {
            let i = find(sup, name)?;
            let line = unit_line(sup, i, now);
            send_line(fd, line.as_bytes()).map_err(|_| lost)?;
            let mut st: heapless::String<LINE_MAX> = heapless::String::new();
            let status = sup.slots.get(i).map_or(&[][..], |s| &s.status[..]);
            let _ = write!(st, "status {}", core::str::from_utf8(status).unwrap_or("?"));
            send_line(fd, st.as_bytes()).map_err(|_| lost)
        }
        Request::Boot => {
            for i in sup.table.order.iter().map(|&i| usize::from(i)) {
                let mut line: heapless::String<LINE_MAX> = heapless::String::new();
                let s = match sup.slots.get(i) {
                    Some(s) => s,
                    None => continue,
                };
                // The dependency it waited for longest: the critical chain
                // runs back through these.
                let blocker = sup.table.units.get(i).and_then(|u| {
                    u.deps()
                        .filter_map(|d| Some((sup.slots.get(d.unit)?.first_ready?, d.unit)))
                        .max()
                        .and_then(|(_, d)| sup.table.units.get(d))
                        .map(|d| d.name)
                });
                let _ = write!(
                    line,
                    "{} {} {} {} {}",
                    sup.table.units.get(i).map_or("?", |u| u.name),
                    Opt(s.deps_met),
                    Opt(s.first_start),
                    Opt(s.first_ready),
                    blocker.unwrap_or("-")
                );
                send_line(fd, line.as_bytes()).map_err(|_| lost)?;
            }
            Ok(())
        }
        Request::Start(name) => {
            let i = find(sup, name)?;
            // What it needs comes up with it.
            let mut set = order::needs_of(&Deps(sup.table), i);
            set.insert(i);
            for u in set.iter() {
                sup.step(ev, u, Event::StartRequest, now);
            }
            sup.schedule(ev, now);
            Ok(())
        }
        Request::Stop(name) => {
            let i = find(sup, name)?;
            let mut set: Set = order::needed_by(&Deps(sup.table), i);
            set.insert(i);
            // Dependents first: stop_now releases a unit once what needs it is down.
            let slots = &*sup.slots;
            let now_set = order::stop_now(&Deps(sup.table), &set, |u| {
                slots.get(u).is_none_or(|s| s.sm.is_down())
            });
            for u in now_set.iter() {
                sup.step(ev, u, Event::StopRequest, now);
            }
            sup.pending_stop(set);
            Ok(())
        }
        Request::Restart(name) => {
            let i = find(sup, name)?;
            sup.step(ev, i, Event::RestartRequest, now);
            Ok(())
        }
        Request::Reload(name) => {
            let i = find(sup, name)?;
            match sup.slots.get(i).map(|s| s.sm.state()) {
                Some(State::Running { .. }) => {
                    sup.step(ev, i, Event::ReloadRequest, now);
                    Ok(())
                }
                _ => Err((FAILED, "not running")),
            }
        }
        Request::Signal(name, sig) => {
            let i = find(sup, name)?;
            let pid = sup
                .slots
                .get(i)
                .and_then(|s| s.sm.main_pid())
                .ok_or((FAILED, "not running"))?;
            crate::sys::kill(pid.as_raw_nonzero().get(), u32::from(sig))
                .map_err(|_| (FAILED, "kill failed"))
        }
    }
}

/// `NAME KIND STATE PID SINCE_MS RESTARTS LAST`: the machine-readable
/// summary of one unit (the client formats it).
fn unit_line(sup: &Supervisor<'_>, i: usize, now: Ms) -> heapless::String<LINE_MAX> {
    let mut line = heapless::String::new();
    let (u, s) = match (sup.table.units.get(i), sup.slots.get(i)) {
        (Some(u), Some(s)) => (u, s),
        _ => return line,
    };
    let pid = s.sm.main_pid().map_or(0, |p| p.as_raw_nonzero().get());
    let up = if pid > 0 { now.since(s.sm.since()) } else { 0 };
    let _ = write!(
        line,
        "{} {} {} {} {} {} {} ",
        u.name,
        u.kind.name(),
        s.sm.state().name(),
        pid,
        up,
        s.sm.restarts(),
        Last(s.sm.last_exit())
    );
    match sup
        .ctx
        .base
        .as_ref()
        .and_then(|b| b.path(u.name, u.isolate, None).ok())
    {
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

impl core::fmt::Display for Opt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(ms) => write!(f, "{}", ms.0),
            None => f.write_str("-"),
        }
    }
}

struct Last(Option<Status>);

impl core::fmt::Display for Last {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            None => f.write_str("-"),
            Some(Status::Code(c)) => write!(f, "exit:{}", c),
            Some(Status::Signal(s)) => write!(f, "signal:{}", s),
            Some(Status::Unknown) => f.write_str("unknown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(parse(b"list"), Ok(Request::List));
        assert_eq!(parse(b"show web"), Ok(Request::Show("web")));
        assert_eq!(parse(b"signal web HUP"), Ok(Request::Signal("web", 1)));
        assert_eq!(parse(b"signal web 9"), Ok(Request::Signal("web", 9)));
        assert_eq!(parse(b"restart db"), Ok(Request::Restart("db")));
    }

    #[test]
    fn refusals() {
        let bad: &[&[u8]] = &[
            b"",
            b"lis",
            b"list x",
            b"show",
            b"show ",
            b"start a b",
            b"signal web",
            b"signal web NOPE",
            b"signal web 65",
            b"stop\x00web",
            b"stop w\xffeb",
            b"stop web\n",
            b"\x1b[2J",
            &[b'a'; REQUEST_MAX + 1],
        ];
        for b in bad {
            assert!(parse(b).is_err(), "{:?} was accepted", b);
        }
        assert_eq!(parse(b"frobnicate").err(), Some((USAGE, "unknown command")));
    }
}
