//! A server written to sd_listen_fds(3), as a socket-activated daemon
//! reads what its init passed:
//!
//!   listen-fds
//!
//! Checks `LISTEN_PID` (its own PID), `LISTEN_FDS` (N) and
//! `LISTEN_FDNAMES` (N names), that fds 3 .. 3+N are listening stream
//! sockets and that fd 3+N is not open, then removes the three variables
//! (as sd_listen_fds(1) does) and prints `listen-fds: pid P fds N names
//! A:B`. Each connection on fd 3+i gets one line, `NAME_i PID N NAMES`,
//! and is closed once the client has shut its side.
//! Anything wrong: one `listen-fds: bad ...` line and exit status 2.

use std::io::Write;
use std::os::fd::{FromRawFd, RawFd};

const SD_LISTEN_FDS_START: RawFd = 3;

fn bad(what: String) -> ! {
    println!("listen-fds: bad {what}");
    std::process::exit(2);
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| bad(format!("{name} is not set")))
}

fn int_opt(fd: RawFd, level: libc::c_int, opt: libc::c_int) -> Option<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v and len are valid for the kernel to write an int into.
    let r = unsafe {
        libc::getsockopt(
            fd,
            level,
            opt,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (r == 0).then_some(v)
}

fn main() {
    let pid = std::process::id();
    let listen_pid = var("LISTEN_PID");
    if listen_pid != pid.to_string() {
        bad(format!("LISTEN_PID={listen_pid}, my pid is {pid}"));
    }
    let n: RawFd = var("LISTEN_FDS")
        .parse()
        .unwrap_or_else(|_| bad(format!("LISTEN_FDS={}", var("LISTEN_FDS"))));
    let names = var("LISTEN_FDNAMES");
    let list: Vec<String> = names.split(':').map(String::from).collect();
    if list.len() != n as usize || list.iter().any(|s| s.is_empty()) {
        bad(format!("LISTEN_FDNAMES={names} for LISTEN_FDS={n}"));
    }
    for fd in SD_LISTEN_FDS_START..SD_LISTEN_FDS_START + n {
        let ty = int_opt(fd, libc::SOL_SOCKET, libc::SO_TYPE);
        let listening = int_opt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN);
        if ty != Some(libc::SOCK_STREAM) || listening != Some(1) {
            bad(format!("fd {fd} is not a listening stream socket"));
        }
    }
    // SAFETY: fcntl with F_GETFD reads only the fd table.
    if unsafe { libc::fcntl(SD_LISTEN_FDS_START + n, libc::F_GETFD) } >= 0 {
        bad(format!(
            "fd {} is open beyond LISTEN_FDS",
            SD_LISTEN_FDS_START + n
        ));
    }
    for v in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        std::env::remove_var(v);
    }
    println!("listen-fds: pid {pid} fds {n} names {names}");
    let mut threads = Vec::new();
    for (i, name) in list.into_iter().enumerate() {
        let reply = format!("{name} {pid} {n} {names}\n");
        // TCP or Unix: accept(2) and write(2) are the same on both.
        let fd = SD_LISTEN_FDS_START + i as RawFd;
        threads.push(std::thread::spawn(move || loop {
            // SAFETY: accept(2) on a passed fd, no peer address wanted.
            let c = unsafe { libc::accept(fd, std::ptr::null_mut(), std::ptr::null_mut()) };
            if c < 0 {
                bad(format!(
                    "accept on {name}: {}",
                    std::io::Error::last_os_error()
                ));
            }
            // SAFETY: c is a new fd that nothing else owns.
            let mut c = unsafe { std::fs::File::from_raw_fd(c) };
            let _ = c.write_all(reply.as_bytes());
            // What the client sent, read to its end: a Unix socket closed
            // with unread bytes resets the connection.
            // SAFETY: shutdown(2) on the fd c owns.
            unsafe { libc::shutdown(std::os::fd::AsRawFd::as_raw_fd(&c), libc::SHUT_WR) };
            let _ = std::io::copy(&mut c, &mut std::io::sink());
            drop(c);
        }));
    }
    for t in threads {
        let _ = t.join();
    }
}
