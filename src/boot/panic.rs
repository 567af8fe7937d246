//! The last resort. A panic in PID 1 would be a kernel panic: report it on
//! the console and execute /sbin/init again, which takes the running
//! units back from the kernel (boot/adopt.rs, docs/design.md §9 and §13).
//! Every fd stays open across that exec, so no unit's output pipe loses
//! its reader meanwhile; the new program closes what it does not take.
//! `--reexec=N@MS` counts the panics in a row: past `adopt::PANICS_MAX`
//! the new PID 1 leaves the units alone and starts the rescue shell.

use crate::boot::adopt;
use crate::say;
use crate::sys::{self, CVec};

pub fn handle(info: &core::panic::PanicInfo<'_>) -> ! {
    say!("panic: {}", crate::put::Shown(info));
    if rustix::process::getpid().is_init() {
        let now_ms = crate::sys::time::since_boot_us() / 1000;
        let (n, at) = adopt::next_panics(own_panics(), now_ms);
        let mut arg: heapless::String<48> = heapless::String::new();
        let _ = crate::put!(arg, "{}{}@{}\0", adopt::ARG, n, at);
        let arg = core::ffi::CStr::from_bytes_until_nul(arg.as_bytes()).unwrap_or(c"--reexec=1@0");
        sys::keep_fds_across_exec();
        let mut argv: CVec<'_, 3> = CVec::new();
        let _ = argv.push(c"/sbin/init");
        let _ = argv.push(arg);
        let envp: CVec<'_, 1> = CVec::new();
        let e = sys::execve(c"/sbin/init", &argv, &envp);
        say!(
            "panic: unable to re-execute /sbin/init: {}",
            crate::sys::errno::Name(e)
        );
        loop {
            let _ = rustix::event::poll(&mut [], None);
        }
    }
    sys::exit(101)
}

/// The panicking program's own `--reexec=N@MS`, from /proc/self/cmdline
/// (the panic handler has no other way to its arguments).
fn own_panics() -> Option<(u32, u64)> {
    let mut buf = [0u8; 256];
    let n = crate::sys::file::read_file("/proc/self/cmdline", &mut buf)
        .or_else(|e| {
            if e == rustix::io::Errno::FBIG {
                Ok(buf.len())
            } else {
                Err(e)
            }
        })
        .ok()?;
    buf.get(..n)?
        .split(|&b| b == 0)
        .find_map(adopt::parse_panics)
}
