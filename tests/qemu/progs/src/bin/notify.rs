//! `notify MESSAGE`: one sd_notify datagram to $NOTIFY_SOCKET, with
//! `\n` in MESSAGE as a newline (`notify 'STATUS=x\nREADY=1'`); exits 0
//! once sent, 1 if it could not be.

use std::os::unix::net::UnixDatagram;

fn main() {
    let msg = std::env::args()
        .nth(1)
        .unwrap_or_default()
        .replace("\\n", "\n");
    let Ok(path) = std::env::var("NOTIFY_SOCKET") else {
        eprintln!("notify: NOTIFY_SOCKET is not set");
        std::process::exit(1);
    };
    let sent = UnixDatagram::unbound().and_then(|s| s.send_to(msg.as_bytes(), &path));
    if let Err(e) = sent {
        eprintln!("notify: {}: {}", path, e);
        std::process::exit(1);
    }
}
