//! The multi-call binary: PID 1, or a client picked by argv[0] and the
//! first argument (docs/control.md).

use crate::boot::shutdown::{self, Power};
use crate::sys::Args;
use crate::table;
use crate::{out, say};

const USAGE: &str = "usage: pinit COMMAND
  poweroff|reboot|halt [-f]   ask PID 1 to shut down (-f: at once, no clean-up)
  check [--print] FILE...     check service tables (--print: show them as understood)
  status [NAME] [--json]      the units (or one unit in detail)
  start|stop|restart|reload NAME
  signal NAME SIG             send SIG to the unit's main process
  boot                        the boot timeline
  reload-table                read the service table again, apply what changed
  reexec                      PID 1 executes /sbin/init (a new pinit), units kept
  log NAME [-f]               the unit's output from the kernel log
  --socket PATH COMMAND       talk to the control socket at PATH
  --config FILE               supervise FILE's units as an ordinary process
as init/telinit when not PID 1:
  0  power off    6  reboot    q  reload-table    u  reexec";

/// The entry point after the C runtime; returns the exit status.
pub fn main(args: Args) -> i32 {
    // `pinit --config FILE` as the first process of a container or a PID
    // namespace supervises its units only: it does not boot a machine.
    let hosted = args.len() == 3 && args.get(1).is_some_and(|a| a.to_bytes() == b"--config");
    if rustix::process::getpid().is_init() && !hosted {
        crate::boot::pid1::run(args);
    }
    let name = args
        .get(0)
        .map(|a| basename(a.to_bytes()))
        .unwrap_or(b"pinit");
    match name {
        b"poweroff" => power(Power::Poweroff, args, 1),
        b"reboot" => power(Power::Reboot, args, 1),
        b"halt" => power(Power::Halt, args, 1),
        b"init" | b"telinit" => telinit(args),
        _ => command(args),
    }
}

fn command(args: Args) -> i32 {
    let sub = args.get(1).map(|a| a.to_bytes());
    match sub {
        Some(b"poweroff") => power(Power::Poweroff, args, 2),
        Some(b"reboot") => power(Power::Reboot, args, 2),
        Some(b"halt") => power(Power::Halt, args, 2),
        Some(b"check") => check(args),
        Some(b"log") => crate::control::client::log(args),
        Some(
            b"status" | b"start" | b"stop" | b"restart" | b"reload" | b"signal" | b"boot"
            | b"reload-table" | b"reexec",
        ) => crate::control::client::main(args, crate::control::protocol::SOCKET_PATH, 1),
        #[cfg(feature = "test-panic")]
        Some(b"panic") => {
            crate::control::client::main(args, crate::control::protocol::SOCKET_PATH, 1)
        }
        #[cfg(feature = "test-wedge")]
        Some(b"wedge") => {
            crate::control::client::main(args, crate::control::protocol::SOCKET_PATH, 1)
        }
        Some(b"--socket") => match args.get(2).and_then(|a| a.to_str().ok()) {
            Some(path) => crate::control::client::main(args, path, 3),
            None => {
                say!("usage: pinit --socket PATH COMMAND");
                2
            }
        },
        Some(b"--config") => match args.get(2).and_then(|a| a.to_str().ok()) {
            Some(path) if args.len() == 3 => crate::boot::hosted::run(path),
            _ => {
                say!("usage: pinit --config FILE");
                2
            }
        },
        Some(b"-h") | Some(b"--help") | Some(b"help") => {
            out!("{}", USAGE);
            0
        }
        Some(other) => {
            say!(
                "unknown command '{}'",
                core::str::from_utf8(other).unwrap_or("?")
            );
            out!("{}", USAGE);
            2
        }
        None => {
            out!("{}", USAGE);
            2
        }
    }
}

/// `poweroff [-f]`: options start at `first`.
fn power(kind: Power, args: Args, first: usize) -> i32 {
    let mut force = false;
    for i in first..args.len() {
        match args.get(i).map(|a| a.to_bytes()) {
            Some(b"-f") | Some(b"--force") => force = true,
            Some(other) => {
                say!(
                    "{}: unknown option '{}'",
                    kind.name(),
                    core::str::from_utf8(other).unwrap_or("?")
                );
                return 2;
            }
            None => {}
        }
    }
    shutdown::request(kind, force)
}

/// sysvinit's habit: `init 0` powers off, `init 6` reboots.
/// Any other word is a `pinit` command (`/sbin/init poweroff`).
fn telinit(args: Args) -> i32 {
    match args.get(1).map(|a| a.to_bytes()) {
        Some(b"0") => shutdown::request(Power::Poweroff, false),
        Some(b"6") => shutdown::request(Power::Reboot, false),
        Some(b"q" | b"Q") => {
            crate::control::client::one(crate::control::protocol::verb::RELOAD_TABLE)
        }
        Some(b"u" | b"U") => crate::control::client::one(crate::control::protocol::verb::REEXEC),
        Some(_) => command(args),
        None => {
            say!("usage: telinit 0|6|q|u (0: power off, 6: reboot, q: reload the table, u: re-execute), or init COMMAND as pinit");
            2
        }
    }
}

/// `check [--print] FILE...`: exit 0 and silence when every file is
/// valid, else 1 with every error as `FILE:LINE:COL: error: MESSAGE`.
#[inline(never)] // its 64 KiB buffer must not enlarge main's frame (PID 1's stack)
fn check(args: Args) -> i32 {
    let arg = |i: usize| args.get(i).map(|a| a.to_bytes()).unwrap_or(b"");
    let mut print = false;
    for i in 2..args.len() {
        match arg(i) {
            b"--print" | b"-p" => print = true,
            o if o.len() > 1 && o.starts_with(b"-") => {
                say!(
                    "check: unknown option '{}'",
                    core::str::from_utf8(o).unwrap_or("?")
                );
                return 2;
            }
            _ => {}
        }
    }
    let mut files = 0;
    let mut failed = false;
    // 64 KiB on the stack: fine for this host command, never PID 1's path.
    let mut buf = [0u8; table::capacity::FILE_MAX];
    for i in 2..args.len() {
        let a = arg(i);
        if a.len() > 1 && a.starts_with(b"-") {
            continue;
        }
        files += 1;
        let Ok(path) = core::str::from_utf8(a) else {
            say!("check: file name is not UTF-8");
            failed = true;
            continue;
        };
        if !check_file(path, print, &mut buf) {
            failed = true;
        }
    }
    if files == 0 {
        say!("usage: pinit check [--print] FILE...");
        return 2;
    }
    i32::from(failed)
}

/// Checks (and prints) one file; true if it is valid.
fn check_file(path: &str, print: bool, buf: &mut [u8]) -> bool {
    let n = match crate::sys::file::read_file(path, buf) {
        Ok(n) => n,
        Err(rustix::io::Errno::FBIG) => {
            let e = table::ParseError::FileTooBig;
            diag(&table::Diag {
                file: path,
                line: 1,
                col: 1,
                error: &e,
            });
            return false;
        }
        Err(e) => {
            say!(
                "check: unable to read {}: {}",
                path,
                crate::sys::file::Why(e)
            );
            return false;
        }
    };
    let text = buf.get(..n).unwrap_or(&[]);
    let mut table = table::Table::new();
    if table::parse(path, text, &mut table, &mut |d| diag(d)) > 0 {
        return false;
    }
    if print {
        let mut out = Out::new();
        let _ = table::print(path, &table, &mut out);
        out.flush();
    }
    true
}

/// One config error on stderr, without the `pinit:` prefix (the
/// message starts with the file name, as compilers do).
fn diag(d: &table::Diag<'_>) {
    use core::fmt::Write;
    let mut line = crate::sys::console::Line::new();
    let _ = write!(line, "{}", d);
    crate::sys::console::write_all(crate::sys::stdio(2), line.finish());
}

/// Buffered stdout for `check --print`.
struct Out {
    buf: [u8; 1024],
    len: usize,
}

impl Out {
    fn new() -> Out {
        Out {
            buf: [0; 1024],
            len: 0,
        }
    }

    fn flush(&mut self) {
        crate::sys::console::write_all(
            crate::sys::stdio(1),
            self.buf.get(..self.len).unwrap_or(&[]),
        );
        self.len = 0;
    }
}

impl core::fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if self.len + s.len() > self.buf.len() {
            self.flush();
        }
        match self.buf.get_mut(self.len..self.len + s.len()) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len += s.len();
            }
            None => crate::sys::console::write_all(crate::sys::stdio(1), s.as_bytes()),
        }
        Ok(())
    }
}

fn basename(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => path.get(i + 1..).unwrap_or(path),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basename_strips_dirs() {
        assert_eq!(basename(b"/sbin/poweroff"), b"poweroff");
        assert_eq!(basename(b"reboot"), b"reboot");
        assert_eq!(basename(b"/x/"), b"");
    }
}
