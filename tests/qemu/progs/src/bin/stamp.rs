//! `stamp [-x] FILE NAME`: a long-running service that says when it
//! started.
//!
//! First thing in `main` (no Rust runtime runs before it: `#![no_main]`,
//! musl's crt calls us) it reads CLOCK_BOOTTIME, appends `NAME SECONDS\n`
//! to FILE (nanosecond resolution, one write(2) with O_APPEND, so
//! concurrent units do not mix their lines), and then sleeps until it is
//! killed. The start-up benchmark (tests/qemu/bench) takes the last of
//! these lines as "every unit started".
//!
//! With `-x` it exits after the write: a clock for shell scripts
//! (`stamp -x /run/t before`), and with FILE = /dev/kmsg a line whose
//! kernel-log timestamp can be matched with CLOCK_BOOTTIME.
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

fn fail(msg: &[u8], code: c_int) -> ! {
    // SAFETY: writes a valid buffer to stderr, then exits.
    unsafe {
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::_exit(code)
    }
}

/// A line built without bounds-check panics (which would pull in the
/// formatting machinery and triple the binary).
struct Line {
    buf: [u8; 128],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Line {
            buf: [0; 128],
            len: 0,
        }
    }
}

impl Line {
    fn put(&mut self, s: &[u8]) {
        for &b in s {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    /// `v` in decimal, at least `width` digits (zero-padded).
    fn number(&mut self, mut v: u64, width: usize) {
        let mut d = [b'0'; 20];
        let mut n = 0;
        for slot in d.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
            n += 1;
            if v == 0 && n >= width {
                break;
            }
        }
        self.put(d.get(20 - n..).unwrap_or(&[]));
    }
}

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    // SAFETY: the kernel gives argc valid, NUL-terminated entries.
    let args = unsafe { core::slice::from_raw_parts(argv, argc.max(0) as usize) };
    let (once, file, name) = match args {
        [_, file, name] => (false, *file, *name),
        // SAFETY: as above.
        [_, x, file, name] if unsafe { CStr::from_ptr(*x) }.to_bytes() == b"-x" => {
            (true, *file, *name)
        }
        _ => fail(b"usage: stamp [-x] FILE NAME\n", 2),
    };
    // SAFETY: as above.
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    let mut line = Line::default();
    line.put(name);
    line.put(b" ");
    line.number(ts.tv_sec as u64, 1);
    line.put(b".");
    line.number(ts.tv_nsec as u64, 9);
    line.put(b"\n");
    let (buf, n) = (line.buf, line.len);
    let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC;
    // SAFETY: file is a NUL-terminated path; line[..n] is valid.
    unsafe {
        let fd = libc::open(file, flags, 0o644);
        if fd < 0 || libc::write(fd, buf.as_ptr().cast(), n) != n as isize {
            fail(b"stamp: unable to write FILE\n", 111);
        }
        libc::close(fd);
        if once {
            libc::_exit(0);
        }
        loop {
            libc::pause();
        }
    }
}
