//! System calls by number, straight to the kernel: the result comes back
//! as `-errno`, and no thread-local `errno` is written. That matters for
//! the spawn child that shares PID 1's memory until its exec
//! (`vm_child`): it shares PID 1's thread pointer too, so a libc call of
//! it that failed would write PID 1's errno. On the arches we build for
//! (x86_64, aarch64, armv7, riscv64) this is a few instructions of inline
//! assembly; elsewhere it is libc's `syscall(2)`, and `vm_child` is off.

use core::ffi::c_long;

/// Whether `call` reaches the kernel without libc on this arch.
pub(crate) const DIRECT: bool = cfg!(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
));

/// System call `n` with six arguments (the kernel ignores the ones a call
/// does not take): its result, `-errno` on failure.
///
/// # Safety
/// The arguments must be what system call `n` expects: pointers valid
/// for what the kernel reads or writes through them.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) unsafe fn call(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> c_long {
    let r: c_long;
    core::arch::asm!(
        "syscall",
        inlateout("rax") n as c_long => r,
        in("rdi") a0,
        in("rsi") a1,
        in("rdx") a2,
        in("r10") a3,
        in("r8") a4,
        in("r9") a5,
        lateout("rcx") _,
        lateout("r11") _,
        options(nostack),
    );
    r
}

#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub(crate) unsafe fn call(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> c_long {
    let r: c_long;
    core::arch::asm!(
        "svc 0",
        in("x8") n,
        inlateout("x0") a0 => r,
        in("x1") a1,
        in("x2") a2,
        in("x3") a3,
        in("x4") a4,
        in("x5") a5,
        options(nostack),
    );
    r
}

/// The number goes in r7. In Thumb code (armv7's build, .cargo/config.toml)
/// r7 is the frame pointer, which inline assembly may not name: the number
/// goes in through another register and r7 is put back, as rustix does
/// (in ARM code that is two moves more).
#[cfg(target_arch = "arm")]
#[inline(always)]
pub(crate) unsafe fn call(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> c_long {
    let r: c_long;
    core::arch::asm!(
        "mov {keep}, r7",
        "mov r7, {n}",
        "svc 0",
        "mov r7, {keep}",
        n = in(reg) n,
        keep = out(reg) _,
        inlateout("r0") a0 => r,
        in("r1") a1,
        in("r2") a2,
        in("r3") a3,
        in("r4") a4,
        in("r5") a5,
        options(nostack),
    );
    r
}

#[cfg(target_arch = "riscv64")]
#[inline(always)]
pub(crate) unsafe fn call(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> c_long {
    let r: c_long;
    core::arch::asm!(
        "ecall",
        in("a7") n,
        inlateout("a0") a0 => r,
        in("a1") a1,
        in("a2") a2,
        in("a3") a3,
        in("a4") a4,
        in("a5") a5,
        options(nostack),
    );
    r
}

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
)))]
#[inline(always)]
pub(crate) unsafe fn call(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> c_long {
    extern "C" {
        fn syscall(n: c_long, ...) -> c_long;
        fn __errno_location() -> *mut core::ffi::c_int;
    }
    let r = syscall(n as c_long, a0, a1, a2, a3, a4, a5);
    if r == -1 {
        -(*__errno_location() as c_long)
    } else {
        r
    }
}

/// `syscall!(NR, a, b, ...)`: `call` with up to six arguments, each
/// taken as a machine word (pointers, `usize`, `c_long`), zeros after.
macro_rules! syscall {
    ($n:expr $(,)?) => {
        $crate::sys::raw::call($n as usize, 0, 0, 0, 0, 0, 0)
    };
    ($n:expr, $a:expr $(,)?) => {
        $crate::sys::raw::call($n as usize, $a as usize, 0, 0, 0, 0, 0)
    };
    ($n:expr, $a:expr, $b:expr $(,)?) => {
        $crate::sys::raw::call($n as usize, $a as usize, $b as usize, 0, 0, 0, 0)
    };
    ($n:expr, $a:expr, $b:expr, $c:expr $(,)?) => {
        $crate::sys::raw::call($n as usize, $a as usize, $b as usize, $c as usize, 0, 0, 0)
    };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr $(,)?) => {
        $crate::sys::raw::call(
            $n as usize,
            $a as usize,
            $b as usize,
            $c as usize,
            $d as usize,
            0,
            0,
        )
    };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => {
        $crate::sys::raw::call(
            $n as usize,
            $a as usize,
            $b as usize,
            $c as usize,
            $d as usize,
            $e as usize,
            0,
        )
    };
}
