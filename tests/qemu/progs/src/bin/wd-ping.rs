//! `wd-ping`: a service with an sd_notify watchdog, the way libsystemd's
//! sd_watchdog_enabled() and sd_notify() see it.
//!
//!   wd-ping PINGS|forever [--trigger]
//!
//! Prints its pid, WATCHDOG_PID and WATCHDOG_USEC, sends `READY=1`, then
//! `WATCHDOG=1` every quarter period, PINGS times (or forever), then goes
//! silent, or with --trigger sends `WATCHDOG=trigger`. A SIGABRT is
//! reported (`wd-ping: pid P got SIGABRT`) before it kills the process
//! as it would have: the signal seen from the receiving side.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

fn send(msg: &str) {
    let path = std::env::var("NOTIFY_SOCKET").expect("NOTIFY_SOCKET is not set");
    let s = UnixDatagram::unbound().expect("socket");
    s.send_to(msg.as_bytes(), path)
        .expect("sendto NOTIFY_SOCKET");
}

extern "C" fn on_abort(_: libc::c_int) {
    // One write (the console is shared with PID 1's lines), formatted
    // without allocating.
    let mut msg = [0u8; 64];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        msg[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    // SAFETY: getpid, write, signal and raise are async-signal-safe.
    unsafe {
        let mut pid = libc::getpid() as u32;
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (pid % 10) as u8;
            pid /= 10;
            if pid == 0 || at == 0 {
                break;
            }
        }
        put(b"wd-ping: pid ");
        put(&digits[at..]);
        put(b" got SIGABRT\n");
        libc::write(1, msg.as_ptr().cast(), len);
        libc::signal(libc::SIGABRT, libc::SIG_DFL);
        libc::raise(libc::SIGABRT);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pings: Option<u64> = match args.get(1).map(String::as_str) {
        Some("forever") => None,
        a => Some(a.and_then(|a| a.parse().ok()).expect("usage: wd-ping PINGS|forever")),
    };
    let trigger = args.iter().any(|a| a == "--trigger");
    // SAFETY: the handler only calls async-signal-safe functions.
    unsafe { libc::signal(libc::SIGABRT, on_abort as *const () as usize) };
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| "unset".into());
    let usec: u64 = var("WATCHDOG_USEC").parse().unwrap_or(0);
    println!(
        "wd-ping: pid {} WATCHDOG_PID={} WATCHDOG_USEC={}",
        std::process::id(),
        var("WATCHDOG_PID"),
        var("WATCHDOG_USEC")
    );
    send("READY=1");
    let every = Duration::from_micros(usec.max(4000) / 4);
    let mut n = 0;
    while pings.is_none_or(|p| n < p) {
        std::thread::sleep(every);
        send("WATCHDOG=1");
        n += 1;
    }
    if trigger {
        println!("wd-ping: pid {} sends WATCHDOG=trigger", std::process::id());
        let _ = std::io::stdout().flush();
        send("WATCHDOG=trigger");
    } else {
        println!("wd-ping: pid {} stops pinging after {} pings", std::process::id(), n);
    }
    let _ = std::io::stdout().flush();
    loop {
        // SAFETY: pause(2) has no arguments.
        unsafe { libc::pause() };
    }
}
