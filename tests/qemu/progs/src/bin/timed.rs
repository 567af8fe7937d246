//! `timed CMD [ARG]...`: runs CMD and prints `timed MS STATUS` (its
//! CLOCK_MONOTONIC run time in milliseconds and its exit status), for
//! figures such as a `pinit status` latency.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("usage: timed CMD [ARG]...");
        std::process::exit(2);
    };
    let t0 = Instant::now();
    let st = std::process::Command::new(cmd)
        .args(rest)
        .stdout(std::process::Stdio::null())
        .status();
    let ms = t0.elapsed().as_millis();
    let code = st.ok().and_then(|s| s.code()).unwrap_or(-1);
    println!("timed {} {}", ms, code);
}
