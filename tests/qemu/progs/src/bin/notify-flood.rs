//! `notify-flood SECONDS [THREADS]`: floods /run/pinit/notify (or
//! $NOTIFY_SOCKET) with sd_notify datagrams for SECONDS, from THREADS
//! threads (default 2), as user nobody (65534) when started as root: the
//! hostile local user of issue 13 point 1. Prints `notify-flood: sent N`.

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let threads: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2);
    let path = std::env::var("NOTIFY_SOCKET").unwrap_or_else(|_| "/run/pinit/notify".into());
    // SAFETY: plain system calls with integer arguments.
    unsafe {
        if libc::getuid() == 0 && (libc::setgid(65534) != 0 || libc::setuid(65534) != 0) {
            eprintln!("notify-flood: cannot drop to uid 65534");
            std::process::exit(1);
        }
    }
    let sent = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (path, sent) = (path.clone(), sent.clone());
            std::thread::spawn(move || {
                let s = UnixDatagram::unbound().expect("socket");
                while Instant::now() < end {
                    if s.send_to(b"READY=1\nSTATUS=flooding\n", &path).is_ok() {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    println!("notify-flood: sent {}", sent.load(Ordering::Relaxed));
}
