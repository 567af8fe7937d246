//! `memhog MIB`: allocates MIB MiB in one mapping, writes every page (so the pages are
//! really placed, and counted), says so, then sleeps until killed. With
//! a memory limit below MIB it is the OOM killer's.

use std::io::Write;

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(8);
    // One mapping, so /proc/PID/numa_maps shows it on one line.
    let mut held = vec![0u8; mib << 20];
    for page in held.chunks_mut(4096) {
        // SAFETY: page[0] exists (chunks are never empty); volatile so
        // the writes (and the allocation) are not optimised away.
        unsafe { std::ptr::write_volatile(&mut page[0], 1) };
    }
    std::hint::black_box(&held);
    println!("memhog: pid {} holds {} MiB", std::process::id(), mib);
    let _ = std::io::stdout().flush();
    loop {
        // SAFETY: pause(2) has no arguments.
        unsafe { libc::pause() };
    }
}
