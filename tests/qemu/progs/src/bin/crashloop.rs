//! `crashloop LOG [N:PROGRAM]...`: a service that crashes as soon as it
//! starts, for the restart benchmark (tests/qemu/bench).
//!
//! Each run appends one fixed-width record to LOG (on tmpfs):
//! `START EXIT\n`, two CLOCK_BOOTTIME readings in nanoseconds, each
//! right-aligned in 20 columns (blank-padded: busybox awk reads a
//! number with leading zeros as octal), 42 bytes. START is read first thing in `main` (no Rust runtime runs
//! before it: `#![no_main]`, musl's crt calls us), EXIT just before the
//! record is written and the process exits with status 1. The gap from
//! one record's EXIT to the next one's START is the supervisor's restart
//! cycle: exit, reap, decide, spawn, exec.
//!
//! Run number = records already in LOG + 1. A hook `N:PROGRAM` makes run
//! N record `START 0` and exec PROGRAM (no arguments) instead of
//! crashing: a measurement script runs at a chosen point of the loop, in
//! the unit's own process, and decides what happens next (exit non-zero
//! to go on crashing, or stay up to end the loop).
#![no_std]
#![no_main]

// Without std nothing links the C library (musl, static with +crt-static).
#[link(name = "c")]
extern "C" {}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: ends the process; nothing to unwind.
    unsafe { libc::_exit(101) }
}

use core::ffi::{c_char, c_int, CStr};

const RECORD: usize = 42;

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Writes `v` in decimal into `out`, right-aligned, blank-padded.
fn digits(mut v: u64, out: &mut [u8]) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
}

fn fail(msg: &[u8], code: c_int) -> ! {
    // SAFETY: writes a valid buffer to stderr, then exits.
    unsafe {
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::_exit(code)
    }
}

/// The hook for run `run`, if an argument `N:PROGRAM` names it.
fn hook(args: &[*const c_char], run: u64) -> Option<*const c_char> {
    for &a in args {
        // SAFETY: argv entries are NUL-terminated strings.
        let s = unsafe { CStr::from_ptr(a) }.to_bytes();
        let colon = s.iter().position(|&b| b == b':')?;
        let n = s.iter().take(colon).try_fold(0u64, |n, &b| {
            b.is_ascii_digit()
                .then(|| n.wrapping_mul(10).wrapping_add(u64::from(b - b'0')))
        })?;
        if n == run {
            // SAFETY: the program name starts after the colon, within a.
            return Some(unsafe { a.add(colon + 1) });
        }
    }
    None
}

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let start = now_ns();
    // SAFETY: the kernel gives argc valid entries.
    let args = unsafe { core::slice::from_raw_parts(argv, argc as usize) };
    let (log, hooks) = match args {
        [_, log, hooks @ ..] => (*log, hooks),
        _ => fail(b"usage: crashloop LOG [N:PROGRAM]...\n", 2),
    };
    let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC;
    // SAFETY: log is a NUL-terminated path.
    let fd = unsafe { libc::open(log, flags, 0o644) };
    if fd < 0 {
        fail(b"crashloop: unable to open LOG\n", 111);
    }
    // SAFETY: st is a valid stat buffer for fstat to fill.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        fail(b"crashloop: unable to stat LOG\n", 111);
    }
    let run = st.st_size as u64 / RECORD as u64 + 1;
    let mut rec = [b' '; RECORD];
    let (first, rest) = rec.split_at_mut(20);
    digits(start, first);
    let program = hook(hooks, run);
    let end = if program.is_some() { 0 } else { now_ns() };
    if let Some(second) = rest.get_mut(1..21) {
        digits(end, second);
    }
    if let Some(nl) = rec.last_mut() {
        *nl = b'\n';
    }
    // SAFETY: rec is a valid buffer.
    unsafe { libc::write(fd, rec.as_ptr().cast(), RECORD) };
    if let Some(p) = program {
        let hook_argv = [p, core::ptr::null()];
        // SAFETY: p is a NUL-terminated path, hook_argv is NULL-terminated.
        unsafe { libc::execv(p, hook_argv.as_ptr()) };
        fail(b"crashloop: unable to exec the hook\n", 111);
    }
    // SAFETY: ends the process at once, as a crash would.
    unsafe { libc::_exit(1) }
}
