//! `forkbomb`: every process forks as fast as the kernel lets it, for
//! ever; a refused fork (EAGAIN at pids.max) waits 200 ms and tries
//! again. Contained only by its cgroup.

fn main() {
    loop {
        // SAFETY: the child only loops, forks and sleeps (no locks held,
        // single-threaded program).
        if unsafe { libc::fork() } == -1 {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}
