//! `orphans N`: makes N orphans for PID 1 to reap. Each round starts a
//! child that starts a grandchild and exits at once, so the grandchild
//! is re-parented to PID 1; the grandchild exits at once too.
//!
//! Speed matters under TCG (10,000 rounds): the children are raw
//! `clone(CLONE_VM)`s that share our memory and never touch it (not even
//! the stack: each runs two instructions, then `exit`), so no page table
//! is copied. The child is a vfork (we are stopped until it exits), the
//! grandchild runs on its own and may outlive it or not, like the
//! grandchild of a classic double fork.

use std::process::exit;

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let n: u64 = match arg.parse() {
        Ok(n) => n,
        Err(_) => {
            eprintln!("usage: orphans N");
            exit(2);
        }
    };
    for i in 0..n {
        let pid = double_fork();
        if pid < 0 {
            eprintln!("orphans: clone failed after {i}: errno {}", -pid);
            exit(1);
        }
        let mut status = 0;
        // SAFETY: waits for our own child; status is a valid pointer.
        unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
    }
    println!("orphans: made {n}");
}

const VFORK_FLAGS: u64 = (libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD) as u64;
const SHARE_FLAGS: u64 = (libc::CLONE_VM | libc::SIGCHLD) as u64;

/// Returns the child's pid, or -errno.
#[cfg(target_arch = "x86_64")]
fn double_fork() -> i64 {
    let ret: i64;
    // SAFETY: the children share our memory but use neither it nor the
    // stack: they only issue syscalls with register arguments and exit.
    // We are suspended (CLONE_VFORK) while the child runs.
    unsafe {
        std::arch::asm!(
            "syscall",              // clone(VFORK_FLAGS, 0, 0, 0, 0)
            "test rax, rax",
            "jnz 2f",
            "mov rdi, {share}",     // child: clone(SHARE_FLAGS, ...)
            "mov eax, 56",
            "syscall",
            "xor edi, edi",         // child and grandchild: exit(0)
            "mov eax, 60",
            "syscall",
            "2:",
            share = in(reg) SHARE_FLAGS,
            inlateout("rax") 56i64 => ret,
            inlateout("rdi") VFORK_FLAGS => _,
            in("rsi") 0u64,
            in("rdx") 0u64,
            in("r10") 0u64,
            in("r8") 0u64,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(target_arch = "aarch64")]
fn double_fork() -> i64 {
    let ret: i64;
    // SAFETY: as on x86_64.
    unsafe {
        std::arch::asm!(
            "svc 0",                // clone(VFORK_FLAGS, 0, 0, 0, 0)
            "cbnz x0, 2f",
            "mov x0, {share}",      // child: clone(SHARE_FLAGS, ...)
            "svc 0",
            "mov x0, #0",           // child and grandchild: exit(0)
            "mov x8, #93",
            "svc 0",
            "2:",
            share = in(reg) SHARE_FLAGS,
            inlateout("x0") VFORK_FLAGS as i64 => ret,
            in("x1") 0u64,
            in("x2") 0u64,
            in("x3") 0u64,
            in("x4") 0u64,
            inlateout("x8") 220u64 => _,
            options(nostack),
        );
    }
    ret
}

/// EABI: number in r7, clone(flags, stack, ptid, tls, ctid) in r0-r4. In
/// Thumb code (.cargo/config.toml builds armv7 so) r7 is the frame
/// pointer, which inline assembly may not name: it is saved, set in the
/// assembly, and put back in the parent.
#[cfg(target_arch = "arm")]
fn double_fork() -> i64 {
    let ret: i32;
    // SAFETY: as on x86_64; r7 keeps 120 (clone) across the first svc.
    unsafe {
        std::arch::asm!(
            "mov {keep}, r7",
            "mov r7, #120",
            "svc 0",                // clone(VFORK_FLAGS, 0, 0, 0, 0)
            "cmp r0, #0",
            "bne 2f",
            "mov r0, {share}",      // child: clone(SHARE_FLAGS, ...)
            "svc 0",
            "mov r0, #0",           // child and grandchild: exit(0)
            "mov r7, #1",
            "svc 0",
            "2:",
            "mov r7, {keep}",
            share = in(reg) SHARE_FLAGS as u32,
            keep = out(reg) _,
            inlateout("r0") VFORK_FLAGS as u32 as i32 => ret,
            in("r1") 0u32,
            in("r2") 0u32,
            in("r3") 0u32,
            in("r4") 0u32,
            options(nostack),
        );
    }
    i64::from(ret)
}

#[cfg(target_arch = "riscv64")]
fn double_fork() -> i64 {
    let ret: i64;
    // SAFETY: as on x86_64. Number in a7 (220: clone, 93: exit), clone's
    // arguments in a0-a4.
    unsafe {
        std::arch::asm!(
            "ecall",                // clone(VFORK_FLAGS, 0, 0, 0, 0)
            "bnez a0, 2f",
            "mv a0, {share}",       // child: clone(SHARE_FLAGS, ...)
            "ecall",
            "li a0, 0",             // child and grandchild: exit(0)
            "li a7, 93",
            "ecall",
            "2:",
            share = in(reg) SHARE_FLAGS,
            inlateout("a0") VFORK_FLAGS as i64 => ret,
            in("a1") 0u64,
            in("a2") 0u64,
            in("a3") 0u64,
            in("a4") 0u64,
            inlateout("a7") 220u64 => _,
            options(nostack),
        );
    }
    ret
}

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
)))]
fn double_fork() -> i64 {
    // SAFETY: single-threaded; the children only call fork and _exit.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            libc::fork();
            libc::_exit(0);
        }
        if pid < 0 {
            -(*libc::__errno_location() as i64)
        } else {
            pid as i64
        }
    }
}
