//! The multi-call binary: PID 1, or a client picked by argv[0] and the
//! first argument (DESIGN §4).

use crate::shutdown::{self, Kind};
use crate::sys::Args;
use crate::{out, say};

const USAGE: &str = "usage: pinit COMMAND
  poweroff|reboot|halt [-f]   ask PID 1 to shut down (-f: at once, no clean-up)
as init/telinit when not PID 1:
  0  power off    6  reboot    q  re-read the service table";

/// The entry point after the C runtime; returns the exit status.
pub fn main(args: Args) -> i32 {
    if rustix::process::getpid().is_init() {
        crate::pid1::run();
    }
    let name = args
        .get(0)
        .map(|a| basename(a.to_bytes()))
        .unwrap_or(b"pinit");
    match name {
        b"poweroff" => power(Kind::Poweroff, args, 1),
        b"reboot" => power(Kind::Reboot, args, 1),
        b"halt" => power(Kind::Halt, args, 1),
        b"init" | b"telinit" => telinit(args),
        _ => command(args),
    }
}

fn command(args: Args) -> i32 {
    let sub = args.get(1).map(|a| a.to_bytes());
    match sub {
        Some(b"poweroff") => power(Kind::Poweroff, args, 2),
        Some(b"reboot") => power(Kind::Reboot, args, 2),
        Some(b"halt") => power(Kind::Halt, args, 2),
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
fn power(kind: Kind, args: Args, first: usize) -> i32 {
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

/// sysvinit's habit: `init 0` powers off, `init 6` reboots, `init q`
/// re-reads the table.
fn telinit(args: Args) -> i32 {
    match args.get(1).map(|a| a.to_bytes()) {
        Some(b"0") => shutdown::request(Kind::Poweroff, false),
        Some(b"6") => shutdown::request(Kind::Reboot, false),
        Some(b"q") | Some(b"Q") => match crate::sys::kill(1, linux_raw_sys::general::SIGHUP) {
            Ok(()) => 0,
            Err(e) => {
                say!("unable to signal PID 1: {}", crate::errno::Name(e));
                1
            }
        },
        _ => {
            say!("usage: telinit 0|6|q (0: power off, 6: reboot, q: re-read the table)");
            2
        }
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
