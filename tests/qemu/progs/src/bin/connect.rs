//! A client for the socket-activation case:
//!
//!   connect tcp:HOST:PORT|unix:PATH [TEXT]
//!
//! Connects, sends TEXT (if given) and shuts its side down, reads until
//! the server closes (20 s at most) and prints `reply ADDR: LINE` for
//! what it read, or `error ADDR: ERROR` (a refused connection, a
//! timeout).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

fn talk<S: Read + Write>(
    mut s: S,
    text: Option<&str>,
    shut: impl Fn(&S),
) -> std::io::Result<String> {
    if let Some(t) = text {
        s.write_all(t.as_bytes())?;
    }
    shut(&s);
    let mut got = String::new();
    s.read_to_string(&mut got)?;
    Ok(got)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args.get(1).map(String::as_str).unwrap_or("");
    let text = args.get(2).map(String::as_str);
    let limit = Some(Duration::from_secs(20));
    let r = if let Some(a) = addr.strip_prefix("tcp:") {
        TcpStream::connect(a).and_then(|s| {
            s.set_read_timeout(limit)?;
            talk(s, text, |s| drop(s.shutdown(Shutdown::Write)))
        })
    } else if let Some(p) = addr.strip_prefix("unix:") {
        UnixStream::connect(p).and_then(|s| {
            s.set_read_timeout(limit)?;
            talk(s, text, |s| drop(s.shutdown(Shutdown::Write)))
        })
    } else {
        eprintln!("usage: connect tcp:HOST:PORT|unix:PATH [TEXT]");
        std::process::exit(2);
    };
    match r {
        Ok(got) => println!("reply {addr}: {}", got.trim_end()),
        Err(e) => {
            println!("error {addr}: {e}");
            std::process::exit(1);
        }
    }
}
