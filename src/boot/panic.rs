//! The last resort. A panic in PID 1 would be a kernel panic: report it on
//! the console and re-execute /sbin/init instead (docs/design.md §9).

use crate::say;
use crate::sys::{self, CVec};

pub fn handle(info: &core::panic::PanicInfo<'_>) -> ! {
    say!("panic: {}", info);
    if rustix::process::getpid().is_init() {
        let mut argv: CVec<'_, 2> = CVec::new();
        let _ = argv.push(c"/sbin/init");
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
