//! `ignore-term`: ignores SIGTERM, says so, then sleeps until killed.

use std::io::Write;

fn main() {
    // SAFETY: setting a disposition to SIG_IGN has no handler to be unsafe.
    unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
    println!("ignore-term: pid {} ignores SIGTERM", std::process::id());
    let _ = std::io::stdout().flush();
    loop {
        // SAFETY: pause(2) has no arguments.
        unsafe { libc::pause() };
    }
}
