//! `ioprio PID`: prints `ioprio PID CLASS LEVEL` from ioprio_get(2)
//! (class 0 none, 1 rt, 2 be, 3 idle).

fn main() {
    let pid: libc::c_long = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    // SAFETY: a system call with integer arguments only.
    let r = unsafe { libc::syscall(libc::SYS_ioprio_get, IOPRIO_WHO_PROCESS, pid) };
    if r < 0 {
        println!("ioprio {} error {}", pid, std::io::Error::last_os_error());
        std::process::exit(1);
    }
    println!("ioprio {} {} {}", pid, r >> 13, r & 0x1fff);
}
