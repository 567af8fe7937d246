//! The control protocol, shared by the server in PID 1 and the `pinit`
//! client (docs/control.md): the socket, the sizes, the verbs, the reply
//! codes and the request parser. Pure: no system calls.
//!
//! A request is one SOCK_SEQPACKET packet: a verb and its words in
//! printable ASCII, single spaces between them. The reply is one packet
//! per line, the last one `ok` or `error CODE MESSAGE`; the client exits
//! with CODE.

use crate::put::{Put, Sink};

/// PID 1's control socket (`pinit --config` uses `/run/pinit.PID/control`).
pub(crate) const SOCKET_PATH: &str = "/run/pinit/control";
/// Longest request accepted, in bytes.
pub const REQUEST_MAX: usize = 256;
/// Longest reply line (one packet), in bytes.
pub(crate) const REPLY_LINE_MAX: usize = 512;

/// What this binary is, as the banner and `list` say it: the package
/// version, or PINIT_VERSION at build time (the re-exec test builds a
/// second binary with another one).
pub(crate) const VERSION: &str = match option_env!("PINIT_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};
/// The architecture it was built for.
#[cfg(target_arch = "x86_64")]
pub(crate) const ARCH: &str = "x86_64";
#[cfg(target_arch = "aarch64")]
pub(crate) const ARCH: &str = "aarch64";
#[cfg(all(target_arch = "arm", target_feature = "v7"))]
pub(crate) const ARCH: &str = "armv7";
#[cfg(all(target_arch = "arm", not(target_feature = "v7")))]
pub(crate) const ARCH: &str = "arm";
#[cfg(target_arch = "riscv64")]
pub(crate) const ARCH: &str = "riscv64";
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
)))]
pub(crate) const ARCH: &str = "unknown";

/// The reply codes, which are also the client's exit codes.
pub(crate) const OK: u8 = 0;
pub const FAILED: u8 = 1;
pub const USAGE: u8 = 2;
pub const UNKNOWN: u8 = 3;

/// The verbs of a request.
pub(crate) mod verb {
    pub(crate) const LIST: &str = "list";
    pub(crate) const SHOW: &str = "show";
    pub(crate) const START: &str = "start";
    pub(crate) const STOP: &str = "stop";
    pub(crate) const RESTART: &str = "restart";
    pub(crate) const RELOAD: &str = "reload";
    pub(crate) const SIGNAL: &str = "signal";
    pub(crate) const BOOT: &str = "boot";
    /// Test builds only (feature `test-wedge`).
    #[cfg(feature = "test-wedge")]
    pub(crate) const WEDGE: &str = "wedge";
    pub(crate) const RELOAD_TABLE: &str = "reload-table";
    pub(crate) const REEXEC: &str = "reexec";
    /// Test builds only (`--features test-panic`): PID 1 panics.
    #[cfg(feature = "test-panic")]
    pub(crate) const PANIC: &str = "panic";
}

/// The last reply line of a success.
pub(crate) const REPLY_OK: &str = "ok";
/// The last reply line of a refusal starts with this, then `CODE MESSAGE`.
pub(crate) const REPLY_ERROR: &str = "error ";

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
    /// `wedge`: PID 1 stops running its loop (test builds only).
    #[cfg(feature = "test-wedge")]
    Wedge,
    /// `reload-table`: read the table again and apply what changed.
    ReloadTable,
    /// `reexec`: PID 1 executes /sbin/init, handing its state over.
    Reexec,
    /// `panic` (test builds only): PID 1 panics.
    #[cfg(feature = "test-panic")]
    Panic,
}

/// Why a request was refused: (code, message).
pub type Refusal = (u8, &'static str);

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
        verb::LIST => {
            none(a)?;
            Request::List
        }
        verb::BOOT => {
            none(a)?;
            Request::Boot
        }
        #[cfg(feature = "test-wedge")]
        verb::WEDGE => {
            none(a)?;
            Request::Wedge
        }
        verb::RELOAD_TABLE => {
            none(a)?;
            Request::ReloadTable
        }
        verb::REEXEC => {
            none(a)?;
            Request::Reexec
        }
        #[cfg(feature = "test-panic")]
        verb::PANIC => {
            none(a)?;
            Request::Panic
        }
        verb::SHOW => {
            none(b)?;
            Request::Show(name(a)?)
        }
        verb::START => {
            none(b)?;
            Request::Start(name(a)?)
        }
        verb::STOP => {
            none(b)?;
            Request::Stop(name(a)?)
        }
        verb::RESTART => {
            none(b)?;
            Request::Restart(name(a)?)
        }
        verb::RELOAD => {
            none(b)?;
            Request::Reload(name(a)?)
        }
        verb::SIGNAL => {
            let sig = b
                .and_then(crate::table::value::signal)
                .ok_or((USAGE, "signal needs NAME SIG"))?;
            Request::Signal(name(a)?, sig)
        }
        "" => return Err((USAGE, "empty request")),
        _ => return Err((USAGE, "unknown command")),
    })
}

/// The request as it goes on the wire (`parse` reads it back the same).
impl Put for Request<'_> {
    fn put(&self, s: &mut dyn Sink) {
        match *self {
            Request::List => s.str(verb::LIST),
            Request::Boot => s.str(verb::BOOT),
            #[cfg(feature = "test-wedge")]
            Request::Wedge => s.str(verb::WEDGE),
            Request::ReloadTable => s.str(verb::RELOAD_TABLE),
            Request::Reexec => s.str(verb::REEXEC),
            #[cfg(feature = "test-panic")]
            Request::Panic => s.str(verb::PANIC),
            Request::Show(n) => crate::fill!(s, "{} {}", verb::SHOW, n),
            Request::Start(n) => crate::fill!(s, "{} {}", verb::START, n),
            Request::Stop(n) => crate::fill!(s, "{} {}", verb::STOP, n),
            Request::Restart(n) => crate::fill!(s, "{} {}", verb::RESTART, n),
            Request::Reload(n) => crate::fill!(s, "{} {}", verb::RELOAD, n),
            Request::Signal(n, sig) => crate::fill!(s, "{} {} {}", verb::SIGNAL, n, sig),
        }
    }
}

/// The last line of a reply: `ok` or `error CODE MESSAGE`.
pub(crate) struct Answer(pub(crate) Result<(), Refusal>);

impl Put for Answer {
    fn put(&self, s: &mut dyn Sink) {
        match self.0 {
            Ok(()) => s.str(REPLY_OK),
            Err((code, msg)) => crate::fill!(s, "{}{} {}", REPLY_ERROR, code, msg),
        }
    }
}

crate::display_by_put!(Request<'_>, Answer);

/// One reply line as the client reads it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reply<'a> {
    /// A detail line; more follow.
    Line(&'a str),
    /// The last line: success.
    Ok,
    /// The last line: the code (FAILED if unreadable) and the message.
    Error(u8, &'a str),
}

impl<'a> Reply<'a> {
    pub fn parse(line: &'a str) -> Reply<'a> {
        if line == REPLY_OK {
            return Reply::Ok;
        }
        match line.strip_prefix(REPLY_ERROR) {
            Some(rest) => {
                let (code, msg) = rest.split_once(' ').unwrap_or((rest, ""));
                Reply::Error(code.parse().unwrap_or(FAILED), msg)
            }
            None => Reply::Line(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::format;

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
            b"reload-table x",
            b"reexec now",
            b"reload_table",
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

    #[test]
    fn requests_read_back_as_written() {
        for text in [
            "list",
            "boot",
            "reload-table",
            "reexec",
            "show a",
            "start a",
            "stop b.c",
            "restart x",
            "reload y",
            "signal z TERM",
        ] {
            let req = parse(text.as_bytes()).unwrap();
            assert_eq!(parse(format!("{}", req).as_bytes()), Ok(req), "{}", text);
        }
        assert_eq!(format!("{}", Request::Signal("z", 15)), "signal z 15");
    }

    #[test]
    fn replies() {
        assert_eq!(format!("{}", Answer(Ok(()))), "ok");
        let refused = format!("{}", Answer(Err((UNKNOWN, "no such unit"))));
        assert_eq!(refused, "error 3 no such unit");
        assert_eq!(
            Reply::parse(&refused),
            Reply::Error(UNKNOWN, "no such unit")
        );
        assert_eq!(Reply::parse("ok"), Reply::Ok);
        assert_eq!(Reply::parse("error x"), Reply::Error(FAILED, ""));
        assert_eq!(
            Reply::parse("web svc running"),
            Reply::Line("web svc running")
        );
    }
}
