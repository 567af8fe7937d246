//! A daemon that speaks the sd_notify protocol, the way libsystemd's
//! sd_notify() does: one datagram to $NOTIFY_SOCKET.
//!
//!   sd-notify DELAY_MS [--fork]
//!
//! Waits DELAY_MS, then sends `STATUS=serving` and `READY=1` and sleeps.
//! With --fork it behaves like a classic forking daemon: a child does the
//! work, the parent announces `MAINPID=<child>` with READY=1 and exits.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

fn send(msg: &str) {
    let path = std::env::var("NOTIFY_SOCKET").expect("NOTIFY_SOCKET is not set");
    let s = UnixDatagram::unbound().expect("socket");
    s.send_to(msg.as_bytes(), path)
        .expect("sendto NOTIFY_SOCKET");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let delay: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    let fork = args.iter().any(|a| a == "--fork");
    std::thread::sleep(Duration::from_millis(delay));
    if fork {
        // The child is left to its new parent (pinit), as a forking
        // daemon's is: never waited for here.
        #[allow(clippy::zombie_processes)]
        let child = std::process::Command::new("/bin/sleep")
            .arg("100000")
            .spawn()
            .expect("spawn");
        send(&format!("STATUS=forked\nMAINPID={}\nREADY=1\n", child.id()));
        println!("parent exits, MAINPID={}", child.id());
        return;
    }
    send("STATUS=serving\nREADY=1\n");
    println!("ready sent");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
