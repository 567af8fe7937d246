//! The only module with `unsafe` code: the system calls rustix does not
//! offer (clone3, execve, signalfd4, rt_sigprocmask, kill(-1), swapon,
//! getrandom, the RNDADDENTROPY ioctl, the watchdog ioctls,
//! clock_gettime without rustix's vDSO lookup,
//! pidfd_send_signal with any signal number), made with `raw`'s inline
//! assembly and `linux-raw-sys` numbers, the conversion of the C
//! entry point's `argv`, the fds PID 1 keeps in statics, and the madvise
//! that gives back the boot's stack pages (`stack`) and the one that
//! unmaps the binary's pages the boot mapped (`text`).
#![allow(unsafe_code)]

// The safe helpers beside the raw calls: no `unsafe` in them.
#[deny(unsafe_code)]
pub(crate) mod cmdline;
#[deny(unsafe_code)]
pub(crate) mod console;
#[deny(unsafe_code)]
pub(crate) mod errno;
#[deny(unsafe_code)]
pub(crate) mod file;
#[deny(unsafe_code)]
pub(crate) mod log;
#[deny(unsafe_code)]
pub(crate) mod path;
// One `madvise` of the stack's dead pages.
pub(crate) mod stack;
// One `madvise` of the binary's read-only mappings.
pub(crate) mod text;
#[deny(unsafe_code)]
pub(crate) mod time;
// clone3(CLONE_VM) onto a stack of the child's own.
pub(crate) mod vm_child;

use core::ffi::{c_char, c_int, c_long, CStr};
use core::marker::PhantomData;
use core::ptr;
use linux_raw_sys::general as k;
use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use rustix::io::Errno;

// musl's static libc supplies the crt start-up and memcpy and the like;
// system calls go to the kernel directly (`raw`).
#[link(name = "c")]
extern "C" {}
#[macro_use]
pub(crate) mod raw;

/// Clock `id` (CLOCK_MONOTONIC, CLOCK_BOOTTIME) as seconds and
/// nanoseconds, from the clock_gettime system call itself. rustix's goes
/// through the vDSO, whose lookup (it parses the vDSO's ELF) and an
/// assertion's panic path cost 5.3 KB of the binary on x86_64 and 3.8 KB
/// on the other arches, for a read PID 1 makes once per wake-up; the
/// system call costs it well under a microsecond more (nothing in the
/// bench's QEMU guests, where the vDSO made the same call). Both clocks
/// count from the boot and exist on every kernel pinit runs on; a
/// refused call (a seccomp filter) reads as 0. 32-bit arches ask for
/// 64-bit time first (clock_gettime64, Linux 5.1), then the old call,
/// which a kernel without 32-bit time lacks: seconds since the boot fit.
pub(crate) fn clock(id: u32) -> (u64, u64) {
    let mut t = k::__kernel_timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let at = ptr::addr_of_mut!(t);
    #[cfg(target_pointer_width = "64")]
    // SAFETY: the call writes one __kernel_timespec to `at`.
    let _ = unsafe { syscall!(k::__NR_clock_gettime, id, at) };
    #[cfg(target_pointer_width = "32")]
    {
        // SAFETY: as above.
        let r = unsafe { syscall!(k::__NR_clock_gettime64, id, at) };
        if r == -(Errno::NOSYS.raw_os_error() as c_long) {
            let mut old = k::__kernel_old_timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: the old call writes one __kernel_old_timespec.
            let _ = unsafe { syscall!(k::__NR_clock_gettime, id, ptr::addr_of_mut!(old)) };
            return (old.tv_sec as u64, old.tv_nsec as u64);
        }
    }
    (t.tv_sec as u64, t.tv_nsec as u64)
}

// The layouts the raw calls below hand the kernel, checked against the
// kernel's headers (linux-raw-sys) on every target, 32-bit ones included.
const _: () = {
    use core::mem::size_of;
    // `raw` passes every argument as a machine word: pointers, usize and
    // the c_long casts below are that wide on each target.
    assert!(size_of::<usize>() == size_of::<c_long>());
    // clone3 gets the struct's size: VER2 (with `cgroup`), all u64 fields.
    assert!(size_of::<k::clone_args>() == k::CLONE_ARGS_SIZE_VER2 as usize);
    // rt_sigprocmask and signalfd4 get sigsetsize 8 and a u64: the
    // kernel's sigset (_NSIG = 64 bits), two longs on 32-bit ARM.
    assert!(size_of::<k::kernel_sigset_t>() == size_of::<u64>());
    // prlimit64 reads two u64 on every arch (not the 32-bit `rlimit`).
    assert!(size_of::<k::rlimit64>() == 2 * size_of::<u64>());
    // CPU and node masks are u64 words where the kernel reads unsigned
    // longs: the same bits in the same order on a 64-bit or a
    // little-endian target only (a big-endian 32-bit one would swap
    // the halves).
    assert!(size_of::<c_long>() == 8 || cfg!(target_endian = "little"));
};

/// A raw call's result: the value, or the errno it came back as
/// (`-4095..=-1`, as the kernel returns it).
fn check(r: c_long) -> Result<c_long, Errno> {
    if (-4095..0).contains(&r) {
        Err(Errno::from_raw_os_error(-r as c_int))
    } else {
        Ok(r)
    }
}

/// The program's arguments, as handed over by the C entry point.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
}

impl Args {
    /// Wraps `main`'s arguments.
    ///
    /// # Safety
    /// `argv` must point to `argc` valid NUL-terminated strings that live
    /// for the whole program, as the C runtime guarantees for `main`.
    pub unsafe fn from_raw(argc: c_int, argv: *const *const c_char) -> Args {
        let argc = if argv.is_null() || argc < 0 {
            0
        } else {
            argc as usize
        };
        Args { argc, argv }
    }

    pub(crate) fn len(&self) -> usize {
        self.argc
    }

    /// Argument `i`, if there is one.
    pub(crate) fn get(&self, i: usize) -> Option<&'static CStr> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: i < argc and `from_raw`'s contract.
        unsafe {
            let p = *self.argv.add(i);
            if p.is_null() {
                None
            } else {
                Some(CStr::from_ptr(p))
            }
        }
    }
}

/// A NULL-terminated array of C string pointers for `execve`, borrowing
/// the strings so that they outlive the call. A copy can be extended
/// (the child adds LISTEN_PID= and WATCHDOG_PID= to its copy of the
/// environment).
#[derive(Clone, Copy)]
pub(crate) struct CVec<'a, const N: usize> {
    ptrs: [*const c_char; N],
    len: usize,
    _strings: PhantomData<&'a CStr>,
}

impl<'a, const N: usize> Default for CVec<'a, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, const N: usize> CVec<'a, N> {
    pub(crate) const fn new() -> Self {
        CVec {
            ptrs: [ptr::null(); N],
            len: 0,
            _strings: PhantomData,
        }
    }

    /// Appends a string; gives it back when full (one slot stays NULL).
    pub(crate) fn push(&mut self, s: &'a CStr) -> Result<(), &'a CStr> {
        if self.len + 1 >= N {
            return Err(s);
        }
        if let Some(slot) = self.ptrs.get_mut(self.len) {
            *slot = s.as_ptr();
            self.len += 1;
            Ok(())
        } else {
            Err(s)
        }
    }

    /// The strings, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a CStr> + '_ {
        self.ptrs.iter().take(self.len).map(|&p| {
            // SAFETY: every pointer below `len` came from a `&'a CStr`
            // (`push`), which outlives this vector.
            unsafe { CStr::from_ptr(p) }
        })
    }
}

/// `execve(path, argv, envp)`: returns only on failure.
pub(crate) fn execve<const A: usize, const E: usize>(
    path: &CStr,
    argv: &CVec<'_, A>,
    envp: &CVec<'_, E>,
) -> Errno {
    // SAFETY: both arrays are NULL-terminated and borrow live strings.
    let r = unsafe {
        syscall!(
            k::__NR_execve as c_long,
            path.as_ptr(),
            argv.ptrs.as_ptr(),
            envp.ptrs.as_ptr(),
        )
    };
    match check(r) {
        Err(e) => e,
        Ok(_) => Errno::INVAL,
    }
}

/// Which side of a fork we are on.
pub(crate) enum Forked {
    Child,
    /// The child's pid, and its pidfd if one was asked for and the kernel
    /// gave one.
    Parent(rustix::process::Pid, Option<OwnedFd>),
}

/// `clone3(CLONE_INTO_CGROUP)` when `cgroup` is given, a plain fork-like
/// clone otherwise; with `pidfd`, CLONE_PIDFD too: the child's pidfd
/// comes with the fork, one system call fewer than a pidfd_open after
/// it. Falls back to `clone(SIGCHLD)` on kernels without clone3 when no
/// cgroup is asked for (those have no pidfds either).
///
/// The child runs on a copy of the parent's memory and must only make
/// system calls before `execve` or `exit`.
pub(crate) fn fork(cgroup: Option<BorrowedFd<'_>>, pidfd: bool) -> Result<Forked, Errno> {
    let mut child_fd: c_int = -1;
    let args = clone_args(cgroup, pidfd.then_some(&mut child_fd));
    // SAFETY: no new stack and no shared memory: the child gets a private
    // copy of the address space, exactly like fork(2). `args.pidfd`, if
    // set, points at `child_fd`, which outlives the call; the kernel
    // writes it in the parent only.
    let r = unsafe {
        syscall!(
            k::__NR_clone3 as c_long,
            &args as *const k::clone_args,
            core::mem::size_of::<k::clone_args>(),
        )
    };
    let r = match check(r) {
        Err(Errno::NOSYS) if cgroup.is_none() => check(plain_fork()),
        other => other,
    }?;
    if r == 0 {
        return Ok(Forked::Child);
    }
    // SAFETY: a pidfd the kernel made for us (CLONE_PIDFD), owned by
    // nobody else; -1 when none was asked for or the fallback ran.
    let fd = (child_fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(child_fd) });
    match pid_of(r) {
        Some(p) => Ok(Forked::Parent(p, fd)),
        None => Err(Errno::INVAL),
    }
}

/// clone3's arguments for a child that sends SIGCHLD at its end: with
/// CLONE_INTO_CGROUP when `cgroup` is given, with CLONE_PIDFD when
/// `pidfd` is (the kernel writes the parent's pidfd there).
fn clone_args(cgroup: Option<BorrowedFd<'_>>, pidfd: Option<&mut c_int>) -> k::clone_args {
    let mut args = k::clone_args {
        flags: 0,
        pidfd: 0,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: k::SIGCHLD as u64,
        stack: 0,
        stack_size: 0,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: 0,
    };
    if let Some(fd) = cgroup {
        args.flags |= k::CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    if let Some(out) = pidfd {
        args.flags |= k::CLONE_PIDFD as u64;
        args.pidfd = out as *mut c_int as usize as u64;
    }
    args
}

/// A pid from a system call's `long` result.
#[allow(clippy::useless_conversion)] // c_long is i32 on 32-bit targets
fn pid_of(r: c_long) -> Option<rustix::process::Pid> {
    i32::try_from(r)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
}

fn plain_fork() -> c_long {
    // SAFETY: clone with only SIGCHLD is fork(2).
    unsafe {
        syscall!(
            k::__NR_clone as c_long,
            k::SIGCHLD as c_long,
            0 as c_long,
            0 as c_long,
            0 as c_long,
            0 as c_long,
        )
    }
}

/// `exit_group(code)`: ends the process at once (no atexit handlers).
pub(crate) fn exit(code: i32) -> ! {
    loop {
        // SAFETY: exit_group does not return.
        unsafe {
            syscall!(k::__NR_exit_group as c_long, code as c_long);
        }
    }
}

/// A set of signals in the kernel's 64-bit `sigset_t` layout.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct SigSet(pub(crate) u64);

impl SigSet {
    pub(crate) const EMPTY: SigSet = SigSet(0);

    pub(crate) const fn with(self, sig: u32) -> SigSet {
        SigSet(self.0 | 1u64 << (sig - 1))
    }
}

/// `rt_sigprocmask(SIG_SETMASK, set)`: the calling thread's blocked set.
pub(crate) fn set_signal_mask(set: SigSet) -> Result<(), Errno> {
    // SAFETY: the set is 8 bytes, the kernel's sigset size on every arch we build.
    let r = unsafe {
        syscall!(
            k::__NR_rt_sigprocmask as c_long,
            k::SIG_SETMASK as c_long,
            &set.0 as *const u64,
            ptr::null_mut::<u64>(),
            8 as c_long,
        )
    };
    check(r).map(|_| ())
}

/// The complement of the signals whose disposition was not SIG_DFL when
/// pinit started (`note_signal_dispositions`): all of them until it was
/// asked. Stored inverted so the static starts as zero, in .bss, not in
/// .data (see `GlobalFd`).
static DEFAULT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Every signal but SIGKILL and SIGSTOP, whose dispositions never change.
fn changeable() -> impl Iterator<Item = u32> {
    (1..=64u32).filter(|&s| s != k::SIGKILL && s != k::SIGSTOP)
}

/// Records which signals are not at SIG_DFL now, once at start-up: pinit
/// itself never sets a disposition (it takes signals through a
/// signalfd), so only what the process that started it left (an ignored
/// SIGHUP, say) needs undoing in each child, and a child then makes no
/// rt_sigaction call at all in the usual case instead of 62.
pub(crate) fn note_signal_dispositions() {
    let mut set = 0u64;
    for sig in changeable() {
        // The kernel's struct sigaction; the handler comes first on
        // every arch, and 0 is SIG_DFL.
        let mut old = [0u64; 4];
        // SAFETY: `old` has room for the kernel's struct sigaction; no new
        // action is set.
        let r = unsafe {
            syscall!(
                k::__NR_rt_sigaction as c_long,
                sig as c_long,
                ptr::null::<u64>(),
                old.as_mut_ptr(),
                8 as c_long,
            )
        };
        // A failed query counts as not default: it is then reset.
        if check(r).is_err() || old[0] != 0 {
            set |= 1u64 << (sig - 1);
        }
    }
    DEFAULT.store(!set, core::sync::atomic::Ordering::Relaxed);
}

/// Every signal's disposition back to SIG_DFL (a child before exec: an
/// ignored signal would survive the exec), for the signals that
/// `note_signal_dispositions` found changed (every one if it was not
/// called). Refusals are not possible for SIG_DFL and are skipped.
pub(crate) fn reset_signal_dispositions() {
    let set = !DEFAULT.load(core::sync::atomic::Ordering::Relaxed);
    // The kernel's struct sigaction on x86_64 and aarch64: handler,
    // flags, restorer, mask. All zero is SIG_DFL with no flags.
    let dfl = [0u64; 4];
    for sig in changeable().filter(|s| set & 1u64 << (s - 1) != 0) {
        // SAFETY: `dfl` is a valid struct sigaction; no old action asked.
        let _ = unsafe {
            syscall!(
                k::__NR_rt_sigaction as c_long,
                sig as c_long,
                dfl.as_ptr(),
                ptr::null_mut::<u64>(),
                8 as c_long,
            )
        };
    }
}

/// `signalfd4(-1, set, SFD_CLOEXEC | SFD_NONBLOCK)`.
pub(crate) fn signalfd(set: SigSet) -> Result<OwnedFd, Errno> {
    // SAFETY: the set is 8 bytes; the kernel returns a new fd we own.
    let r = unsafe {
        syscall!(
            k::__NR_signalfd4 as c_long,
            -1 as c_long,
            &set.0 as *const u64,
            8 as c_long,
            (k::O_CLOEXEC | k::O_NONBLOCK) as c_long,
        )
    };
    let fd = check(r)? as c_int;
    // SAFETY: a fresh descriptor returned by the kernel, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `getrandom(buf, flags)`: how many bytes the kernel wrote. With
/// GRND_NONBLOCK it never waits for the pool (EAGAIN before the kernel's
/// random number generator is initialized); GRND_INSECURE (5.6 on) never
/// fails for that reason.
pub(crate) fn getrandom(buf: &mut [u8], flags: u32) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    let r = unsafe {
        syscall!(
            k::__NR_getrandom as c_long,
            buf.as_mut_ptr(),
            buf.len() as c_long,
            flags as c_long,
        )
    };
    check(r).map(|n| n as usize)
}

/// 8 random bytes from getrandom(2) (GRND_NONBLOCK: never waits for
/// the pool, which this early may not be ready; EAGAIN is an error then).
pub(crate) fn random_u64() -> Result<u64, Errno> {
    let mut v = [0u8; 8];
    match getrandom(&mut v, k::GRND_NONBLOCK)? {
        8 => Ok(u64::from_ne_bytes(v)),
        _ => Err(Errno::AGAIN),
    }
}

/// Largest buffer `add_entropy` takes.
pub(crate) const ENTROPY_MAX: usize = 512;

/// `struct rand_pool_info` with room for ENTROPY_MAX bytes.
#[repr(C)]
struct RandPoolInfo {
    entropy_count: c_int,
    buf_size: c_int,
    buf: [u8; ENTROPY_MAX],
}

/// `ioctl(fd, RNDADDENTROPY, {bits, bytes})`: mixes `bytes` into the
/// kernel's input pool and credits `bits` of entropy (fd: /dev/urandom;
/// needs CAP_SYS_ADMIN). At most ENTROPY_MAX bytes.
pub(crate) fn add_entropy(fd: BorrowedFd<'_>, bytes: &[u8], bits: u32) -> Result<(), Errno> {
    let mut info = RandPoolInfo {
        entropy_count: c_int::try_from(bits).map_err(|_| Errno::INVAL)?,
        buf_size: bytes.len() as c_int,
        buf: [0; ENTROPY_MAX],
    };
    info.buf
        .get_mut(..bytes.len())
        .ok_or(Errno::INVAL)?
        .copy_from_slice(bytes);
    // SAFETY: the kernel reads the two ints and `buf_size` bytes after
    // them, all inside `info`.
    let r = unsafe {
        syscall!(
            k::__NR_ioctl as c_long,
            fd.as_raw_fd() as c_long,
            linux_raw_sys::ioctl::RNDADDENTROPY as c_long,
            &info as *const RandPoolInfo,
        )
    };
    check(r).map(|_| ())
}

/// swapon(2) flags (linux/swap.h; linux-raw-sys does not have them).
pub(crate) mod swap {
    pub(crate) const PREFER: u32 = 0x8000;
    pub(crate) const PRIO_MASK: u32 = 0x7fff;
    pub(crate) const DISCARD: u32 = 0x10000;
    pub(crate) const DISCARD_ONCE: u32 = 0x20000;
    pub(crate) const DISCARD_PAGES: u32 = 0x40000;
}

/// `swapon(path, flags)`.
pub(crate) fn swapon(path: &CStr, flags: u32) -> Result<(), Errno> {
    // SAFETY: a NUL-terminated path and an integer.
    let r = unsafe { syscall!(k::__NR_swapon as c_long, path.as_ptr(), flags as c_long) };
    check(r).map(|_| ())
}

/// `swapoff(path)`.
pub(crate) fn swapoff(path: &CStr) -> Result<(), Errno> {
    // SAFETY: a NUL-terminated path.
    let r = unsafe { syscall!(k::__NR_swapoff as c_long, path.as_ptr()) };
    check(r).map(|_| ())
}

/// An fd PID 1 keeps for its whole life in a static, once set: never
/// closed, so a `'static` borrow of it stays valid. Holds the fd plus
/// one, 0 when unset: a static that starts as zero is in .bss. pinit's
/// .data is then musl's few words that nothing writes, so the one page
/// the kernel zeroes at the end of the data segment is the only written
/// page of the binary's file mappings (docs/design.md §1).
pub(crate) struct GlobalFd(core::sync::atomic::AtomicI32);

impl GlobalFd {
    pub(crate) const fn new() -> GlobalFd {
        GlobalFd(core::sync::atomic::AtomicI32::new(0))
    }

    /// Keeps `fd` for good; false (and `fd` closed) if one is set already.
    pub(crate) fn set(&self, fd: OwnedFd) -> bool {
        use core::sync::atomic::Ordering;
        let raw = rustix::fd::IntoRawFd::into_raw_fd(fd);
        // An fd is at most INT_MAX - 1 (RLIMIT_NOFILE caps it below).
        match self.0.compare_exchange(
            0,
            raw.saturating_add(1),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            Err(_) => {
                // SAFETY: `raw` came from the OwnedFd above, owned by nobody else.
                drop(unsafe { OwnedFd::from_raw_fd(raw) });
                false
            }
        }
    }

    pub(crate) fn get(&self) -> Option<BorrowedFd<'static>> {
        let raw = self.0.load(core::sync::atomic::Ordering::Acquire) - 1;
        // SAFETY: a set fd is never closed or replaced (see `set`).
        (raw >= 0).then(|| unsafe { BorrowedFd::borrow_raw(raw) })
    }
}

/// `kill(-1, sig)`: every process except PID 1 and the caller.
pub(crate) fn kill_all(sig: u32) -> Result<(), Errno> {
    // SAFETY: plain system call with integer arguments.
    let r = unsafe { syscall!(k::__NR_kill as c_long, -1 as c_long, sig as c_long) };
    check(r).map(|_| ())
}

/// `kill(pid, sig)` with a raw signal number (rustix's `Signal` does not
/// cover real-time signals).
pub(crate) fn kill(pid: i32, sig: u32) -> Result<(), Errno> {
    // SAFETY: plain system call with integer arguments.
    let r = unsafe { syscall!(k::__NR_kill as c_long, pid as c_long, sig as c_long) };
    check(r).map(|_| ())
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)`: `sig` to the process the
/// pidfd refers to, never to another that got its number since (ESRCH
/// once it has exited).
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: u32) -> Result<(), Errno> {
    // SAFETY: integer arguments and a NULL siginfo (the kernel fills in
    // one as kill(2) would).
    let r = unsafe {
        syscall!(
            k::__NR_pidfd_send_signal as c_long,
            pidfd.as_raw_fd() as c_long,
            sig as c_long,
            ptr::null_mut::<u8>(),
            0 as c_long,
        )
    };
    check(r).map(|_| ())
}

/// fd 0, 1 or 2. pinit never closes these (it only dup2s over them), so a
/// `'static` borrow stays valid.
pub(crate) fn stdio(fd: u8) -> BorrowedFd<'static> {
    let fd = fd.min(2) as c_int;
    // SAFETY: fds 0–2 are never closed by pinit (see above).
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// The watchdog ioctls PID 1 uses (linux/watchdog.h); each passes a
/// pointer to one int.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Wdioc {
    /// WDIOC_KEEPALIVE: a ping (the int is not read).
    KeepAlive,
    /// WDIOC_SETTIMEOUT: the timeout in seconds; the driver writes back
    /// the one it set.
    SetTimeout,
    /// WDIOC_GETTIMEOUT: the driver's timeout in seconds.
    GetTimeout,
}

/// `ioctl(fd, WDIOC_*, &value)`: `value` in, the int the driver left out.
pub(crate) fn watchdog(fd: BorrowedFd<'_>, op: Wdioc, value: i32) -> Result<i32, Errno> {
    use linux_raw_sys::ioctl as io;
    let request = match op {
        Wdioc::KeepAlive => io::WDIOC_KEEPALIVE,
        Wdioc::SetTimeout => io::WDIOC_SETTIMEOUT,
        Wdioc::GetTimeout => io::WDIOC_GETTIMEOUT,
    };
    let mut v: c_int = value;
    // SAFETY: each of these requests reads or writes one int at the pointer.
    let r = unsafe {
        syscall!(
            k::__NR_ioctl as c_long,
            fd.as_raw_fd() as c_long,
            request as c_long,
            &mut v as *mut c_int,
        )
    };
    check(r).map(|_| v)
}

/// `fcntl(fd, F_GETFD)` succeeds, i.e. `fd` is open.
pub(crate) fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    let r = unsafe { syscall!(k::__NR_fcntl as c_long, fd as c_long, k::F_GETFD as c_long) };
    check(r).is_ok()
}

/// A static that hands out one `&'static mut` to its value, once (`take`),
/// or lends it for a while (`lend`). PID 1 keeps its big tables and
/// buffers here: in .bss, where untouched pages are never paged in (a
/// large stack frame is probed, and so made resident, page by page).
/// Its flag is bit `BIT` of `TAKEN`, not a byte beside the value: that
/// byte paged in a page of its own for a value that begins or ends on an
/// untouched page (2 of PID 1's 26 private pages with 32 units).
#[repr(transparent)]
pub(crate) struct Singleton<T, const BIT: u32> {
    value: core::cell::UnsafeCell<T>,
}

/// The flags of every `Singleton`, one bit each (`bit`).
static TAKEN: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// Each `Singleton`'s bit in `TAKEN`, listed here so that none is used
/// twice (two sharing one would only refuse each other, never alias).
pub(crate) mod bit {
    pub(crate) const TABLES: u32 = 0;
    pub(crate) const BUFS: u32 = 1;
    pub(crate) const SLOTS: u32 = 2;
    pub(crate) const ROWS: u32 = 3;
    pub(crate) const INSTANCES: u32 = 4;
    pub(crate) const SCRATCH: u32 = 5;
    pub(crate) const PLAN: u32 = 6;
    #[cfg(test)]
    pub(crate) const TEST: u32 = 31;
}

// SAFETY: the value is only reachable through the one `&mut` that `take`
// or `lend` hands out, guarded by the value's bit in `TAKEN`.
unsafe impl<T, const BIT: u32> Sync for Singleton<T, BIT> {}

impl<T, const BIT: u32> Singleton<T, BIT> {
    const MASK: u32 = 1 << BIT;

    pub(crate) const fn new(value: T) -> Singleton<T, BIT> {
        Singleton {
            value: core::cell::UnsafeCell::new(value),
        }
    }

    /// Sets the bit; whether it was clear.
    fn claim() -> bool {
        TAKEN.fetch_or(Self::MASK, core::sync::atomic::Ordering::AcqRel) & Self::MASK == 0
    }

    /// The value, the first time; `None` after that.
    #[allow(clippy::mut_from_ref)] // guarded: handed out once only
    pub(crate) fn take(&'static self) -> Option<&'static mut T> {
        if !Self::claim() {
            return None;
        }
        // SAFETY: the bit guarantees this is the only reference ever made.
        Some(unsafe { &mut *self.value.get() })
    }

    /// The value for as long as the guard lives (scratch space used
    /// again and again, never by two at once); `None` while it is lent
    /// or after `take`.
    pub(crate) fn lend(&'static self) -> Option<Lent<T, BIT>> {
        if !Self::claim() {
            return None;
        }
        Some(Lent(self))
    }
}

/// A `Singleton`'s value, lent until this guard drops.
pub(crate) struct Lent<T: 'static, const BIT: u32>(&'static Singleton<T, BIT>);

impl<T, const BIT: u32> core::ops::Deref for Lent<T, BIT> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the bit is set for as long as this guard lives, so no
        // other reference to the value exists.
        unsafe { &*self.0.value.get() }
    }
}

impl<T, const BIT: u32> core::ops::DerefMut for Lent<T, BIT> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this one exclusive.
        unsafe { &mut *self.0.value.get() }
    }
}

impl<T, const BIT: u32> Drop for Lent<T, BIT> {
    fn drop(&mut self) {
        TAKEN.fetch_and(
            !Singleton::<T, BIT>::MASK,
            core::sync::atomic::Ordering::Release,
        );
    }
}

/// Calls `f` with every open fd of this process above 2, from
/// /proc/self/fd (none if /proc is not there).
fn each_fd(mut f: impl FnMut(c_int)) {
    use rustix::fs::{Mode, OFlags, RawDir};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(dir) = rustix::fs::open(c"/proc/self/fd", flags, Mode::empty()) else {
        return;
    };
    let own = dir.as_raw_fd();
    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); 1024];
    let mut entries = RawDir::new(dir, &mut buf);
    while let Some(Ok(e)) = entries.next() {
        let n = core::str::from_utf8(e.file_name().to_bytes())
            .ok()
            .and_then(|s| s.parse::<c_int>().ok());
        if let Some(n) = n.filter(|&n| n > 2 && n != own) {
            f(n);
        }
    }
}

/// The panic handler, before it executes /sbin/init: every fd stays
/// open across the exec, so no unit's output pipe loses its reader (a
/// unit writing to it would die of SIGPIPE); the new program takes back
/// what it knows and closes the rest (`Inherited`).
pub(crate) fn keep_fds_across_exec() {
    each_fd(|n| {
        // SAFETY: `n` is open (listed just now) and only its flags change.
        let fd = unsafe { BorrowedFd::borrow_raw(n) };
        let _ = rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty());
    });
}

/// Most fds `Inherited` keeps track of; any above are closed at once.
pub(crate) const INHERITED_MAX: usize = 4096;

/// The fds above 2 that were open when PID 1 started: a re-exec's
/// hand-over (boot/reexec.rs), or what a crashed PID 1 left open. PID 1
/// takes the ones it knows (`take`) and closes the others (`close_rest`),
/// before it starts any process.
pub(crate) struct Inherited {
    bits: [u64; INHERITED_MAX / 64],
}

impl Inherited {
    /// Notes the fds open now; call it before PID 1 opens any.
    pub(crate) fn scan() -> Inherited {
        let mut s = Inherited {
            bits: [0; INHERITED_MAX / 64],
        };
        each_fd(|n| match s.bits.get_mut(n as usize / 64) {
            Some(w) => *w |= 1 << (n % 64),
            // SAFETY: an fd inherited at start that nothing else owns.
            None => drop(unsafe { OwnedFd::from_raw_fd(n) }),
        });
        s
    }

    /// Whether fd `n` was inherited and is not taken yet.
    pub(crate) fn contains(&self, n: i32) -> bool {
        usize::try_from(n)
            .ok()
            .and_then(|n| self.bits.get(n / 64).map(|w| w & (1 << (n % 64)) != 0))
            .unwrap_or(false)
    }

    /// Fd `n`, owned by PID 1 from now on (close-on-exec again); `None`
    /// if it was not inherited or is taken already.
    pub(crate) fn take(&mut self, n: i32) -> Option<OwnedFd> {
        if !self.contains(n) {
            return None;
        }
        let w = self.bits.get_mut(n as usize / 64)?;
        *w &= !(1 << (n % 64));
        // SAFETY: `n` was open at start, nothing in this process opened
        // it (the kernel never hands out an open number), and the bit
        // just cleared makes this the only owner.
        let fd = unsafe { OwnedFd::from_raw_fd(n) };
        let _ = rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC);
        Some(fd)
    }

    /// The first inherited fd not taken yet that `is` says yes to
    /// (`take` it to keep it).
    pub(crate) fn find(&self, mut is: impl FnMut(BorrowedFd<'_>) -> bool) -> Option<i32> {
        (0..INHERITED_MAX as i32).find(|&n| {
            // SAFETY: `n` was inherited and is not taken, so it is open
            // and owned by `self`, which the borrow outlives.
            self.contains(n) && is(unsafe { BorrowedFd::borrow_raw(n) })
        })
    }

    /// Closes every fd not taken; returns how many.
    pub(crate) fn close_rest(&mut self) -> usize {
        let mut n = 0;
        for i in 0..INHERITED_MAX as i32 {
            if let Some(fd) = self.take(i) {
                drop(fd);
                n += 1;
            }
        }
        n
    }
}

/// A file mapped read-only and private (the hand-over), unmapped when
/// dropped.
pub(crate) struct Mapped {
    ptr: *mut core::ffi::c_void,
    len: usize,
}

impl Mapped {
    /// Maps all of `fd`, which must be sealed against writes and
    /// resizing (`F_SEAL_WRITE`, `F_SEAL_SHRINK`, `F_SEAL_GROW`): the
    /// bytes cannot change under the slice `bytes` hands out.
    pub(crate) fn sealed(fd: BorrowedFd<'_>) -> Result<Mapped, Errno> {
        use rustix::fs::SealFlags;
        let need = SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW;
        if !rustix::fs::fcntl_get_seals(fd)?.contains(need) {
            return Err(Errno::PERM);
        }
        let len = usize::try_from(rustix::fs::fstat(fd)?.st_size).map_err(|_| Errno::FBIG)?;
        if len == 0 {
            return Ok(Mapped {
                ptr: ptr::null_mut(),
                len: 0,
            });
        }
        // SAFETY: a new private read-only mapping of the whole file,
        // placed by the kernel; nothing else refers to that memory.
        let ptr = unsafe {
            rustix::mm::mmap(
                ptr::null_mut(),
                len,
                rustix::mm::ProtFlags::READ,
                rustix::mm::MapFlags::PRIVATE,
                fd,
                0,
            )
        }?;
        Ok(Mapped { ptr, len })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: `len` readable bytes mapped at `ptr` until drop, and
        // the seals keep them from changing.
        unsafe { core::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: the mapping `sealed` made; `bytes` borrows end
            // with `self`.
            let _ = unsafe { rustix::mm::munmap(self.ptr, self.len) };
        }
    }
}

/// A page of anonymous memory, private and writable, unmapped when
/// dropped: scratch space resident only while in use, that takes no
/// room on the stack nor in .bss (a long path's C string, `path`).
pub(crate) struct Page(ptr::NonNull<u8>);

impl Page {
    pub(crate) const SIZE: usize = 4096;

    pub(crate) fn map() -> Result<Page, Errno> {
        use rustix::mm::{MapFlags, ProtFlags};
        // SAFETY: a new private anonymous mapping, placed by the kernel;
        // nothing else refers to that memory.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(
                ptr::null_mut(),
                Page::SIZE,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
            )
        }?;
        ptr::NonNull::new(ptr.cast::<u8>())
            .map(Page)
            .ok_or(Errno::NOMEM)
    }

    pub(crate) fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: SIZE writable bytes mapped at the pointer until drop,
        // reached only through `self`, which this borrows.
        unsafe { core::slice::from_raw_parts_mut(self.0.as_ptr(), Page::SIZE) }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // SAFETY: the mapping `map` made; `bytes` borrows end with `self`.
        let _ = unsafe { rustix::mm::munmap(self.0.as_ptr().cast(), Page::SIZE) };
    }
}

/// A family of types that borrow for one lifetime: `Of<'a>` holds slices
/// of a text that lives for `'a` (the service table and its text).
pub(crate) trait Borrows {
    type Of<'a>;
    /// Empties the value: afterwards it borrows nothing.
    fn clear(value: &mut Self::Of<'_>);
}

/// A text buffer and the value parsed from it, in one place: the service
/// table in force, or the spare one a reload fills (docs/design.md §13).
/// The value borrows the text; it is only ever seen for a borrow of the
/// whole, and `fill` clears it before the text changes, so one buffer is
/// read again and again in place. Pinned: a move would take the text
/// from under the value. The text first (`repr(C)`): in .bss a short one
/// shares its page with what comes before it (musl's statics), and the
/// value, whose used part is its head, starts at a fixed offset after
/// it; the other way round the text began wherever the value's capacity
/// ended, and a short one straddled two pages as often as not.
#[repr(C)]
pub(crate) struct Parsed<B: Borrows, const N: usize> {
    len: usize,
    text: [u8; N],
    /// Really `B::Of<'self>`: it borrows `text` (or 'static data).
    value: B::Of<'static>,
    _pinned: core::marker::PhantomPinned,
}

impl<B: Borrows, const N: usize> Parsed<B, N> {
    /// Holds `empty`, a value that borrows nothing.
    pub(crate) const fn new(empty: B::Of<'static>) -> Self {
        Parsed {
            value: empty,
            len: 0,
            text: [0; N],
            _pinned: core::marker::PhantomPinned,
        }
    }

    /// The value, for as long as `self` is borrowed.
    pub(crate) fn get(&self) -> &B::Of<'_> {
        let v: *const B::Of<'static> = &self.value;
        // SAFETY: the value borrows only `self.text` or 'static data
        // (`fill`'s parser works for any lifetime, so it cannot store
        // anything shorter), and the text is neither changed nor moved
        // while `self` is borrowed (it is pinned).
        unsafe { &*v.cast::<B::Of<'_>>() }
    }

    /// The text the value was parsed from.
    pub(crate) fn text(&self) -> &[u8] {
        self.text.get(..self.len).unwrap_or(&[])
    }

    /// Clears the value, then `read` fills the text (returning its
    /// length) and `parse` builds the value from it. After a failed read
    /// the value is empty.
    pub(crate) fn fill<E, R>(
        self: core::pin::Pin<&mut Self>,
        read: impl FnOnce(&mut [u8; N]) -> Result<usize, E>,
        parse: impl for<'a> FnOnce(&'a [u8], &mut B::Of<'a>) -> R,
    ) -> Result<R, E> {
        // SAFETY: nothing below moves out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        // The old value goes while the text it borrows is unchanged.
        B::clear(&mut this.value);
        this.len = 0;
        this.len = read(&mut this.text)?.min(N);
        let text = this.text.get(..this.len).unwrap_or(&[]);
        Ok(parse_into::<B, R>(text, &mut this.value, parse))
    }

    /// Clears the value and forgets the text.
    pub(crate) fn clear(self: core::pin::Pin<&mut Self>) {
        // SAFETY: nothing below moves out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        B::clear(&mut this.value);
        this.len = 0;
    }
}

/// `parse(text, value)` with the value seen for the text's lifetime.
fn parse_into<'a, B: Borrows, R>(
    text: &'a [u8],
    value: &mut B::Of<'static>,
    parse: impl for<'b> FnOnce(&'b [u8], &mut B::Of<'b>) -> R,
) -> R {
    let v: *mut B::Of<'static> = value;
    // SAFETY: the value is empty (cleared by `fill`); what `parse` puts
    // in it borrows `text` (the buffer beside it in the same pinned
    // `Parsed`) or 'static data, and `get` only ever shows it for a
    // borrow of the whole.
    let v = unsafe { &mut *v.cast::<B::Of<'a>>() };
    parse(text, v)
}

/// `dup3(from, to, 0)`: `to` becomes a copy of `from`, kept across exec.
pub(crate) fn dup_to(from: BorrowedFd<'_>, to: i32) -> Result<(), Errno> {
    if from.as_raw_fd() == to {
        // dup3 refuses equal fds; clear CLOEXEC instead.
        return rustix::io::fcntl_setfd(from, rustix::io::FdFlags::empty());
    }
    // SAFETY: plain system call with integer arguments; `to` is replaced.
    let r = unsafe {
        syscall!(
            k::__NR_dup3 as c_long,
            from.as_raw_fd() as c_long,
            to as c_long,
            0 as c_long,
        )
    };
    check(r).map(|_| ())
}

/// NUMA memory policy modes of `set_mempolicy(2)` (linux/mempolicy.h).
pub(crate) mod mpol {
    pub(crate) const PREFERRED: u32 = 1;
    pub(crate) const BIND: u32 = 2;
    pub(crate) const INTERLEAVE: u32 = 3;
    pub(crate) const LOCAL: u32 = 4;
}

/// `set_mempolicy(mode, nodemask, maxnode)` for the calling thread.
/// `mask` bit N is node N.
pub(crate) fn set_mempolicy(mode: u32, mask: &[u64]) -> Result<(), Errno> {
    let (ptr, bits) = if mask.is_empty() {
        (ptr::null(), 0usize)
    } else {
        // The kernel reads maxnode - 1 bits; pass one more than we hold.
        (mask.as_ptr(), mask.len() * 64 + 1)
    };
    // SAFETY: the kernel reads at most `bits - 1` bits from `mask`.
    let r = unsafe {
        syscall!(
            k::__NR_set_mempolicy as c_long,
            mode as c_long,
            ptr,
            bits as c_long,
        )
    };
    check(r).map(|_| ())
}

/// I/O priority classes and the `who` of `ioprio_set(2)`
/// (linux/ioprio.h; linux-raw-sys does not have them).
pub(crate) mod ioprio {
    pub(crate) const CLASS_RT: u32 = 1;
    pub(crate) const CLASS_BE: u32 = 2;
    pub(crate) const CLASS_IDLE: u32 = 3;
    /// The class sits above the level's 13 bits.
    pub(crate) const CLASS_SHIFT: u32 = 13;
    pub(crate) const WHO_PROCESS: u32 = 1;
}

/// `ioprio_set(IOPRIO_WHO_PROCESS, 0, (class << 13) | level)`.
pub(crate) fn ioprio_set(class: u32, level: u32) -> Result<(), Errno> {
    let level_mask = (1 << ioprio::CLASS_SHIFT) - 1;
    let prio = (class << ioprio::CLASS_SHIFT) | (level & level_mask);
    // SAFETY: plain system call with integer arguments.
    let r = unsafe {
        syscall!(
            k::__NR_ioprio_set as c_long,
            ioprio::WHO_PROCESS as c_long,
            0 as c_long,
            prio as c_long,
        )
    };
    check(r).map(|_| ())
}

/// `sched_setscheduler(0, policy, {priority})` for the calling process.
pub(crate) fn sched_setscheduler(policy: u32, priority: i32) -> Result<(), Errno> {
    let param: c_int = priority;
    // SAFETY: the kernel reads one `struct sched_param` (a single int).
    let r = unsafe {
        syscall!(
            k::__NR_sched_setscheduler as c_long,
            0 as c_long,
            policy as c_long,
            &param as *const c_int,
        )
    };
    check(r).map(|_| ())
}

/// `sched_setaffinity(0, mask)`: bit N of `mask` is CPU N.
pub(crate) fn sched_setaffinity(mask: &[u64]) -> Result<(), Errno> {
    // SAFETY: the kernel reads `len * 8` bytes from `mask`.
    let r = unsafe {
        syscall!(
            k::__NR_sched_setaffinity as c_long,
            0 as c_long,
            core::mem::size_of_val(mask) as c_long,
            mask.as_ptr(),
        )
    };
    check(r).map(|_| ())
}

/// `prlimit64(0, resource, {soft, hard}, NULL)`; u64::MAX is unlimited.
pub(crate) fn setrlimit(resource: u32, soft: u64, hard: u64) -> Result<(), Errno> {
    let new: [u64; 2] = [soft, hard];
    // SAFETY: the kernel reads one `struct rlimit64` (two u64).
    let r = unsafe {
        syscall!(
            k::__NR_prlimit64 as c_long,
            0 as c_long,
            resource as c_long,
            new.as_ptr(),
            ptr::null_mut::<u64>(),
        )
    };
    check(r).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::Singleton;

    #[test]
    fn a_lent_value_is_lent_to_one_at_a_time_and_kept_between_loans() {
        static S: Singleton<[u8; 4], { super::bit::TEST }> = Singleton::new([0; 4]);
        let mut a = S.lend().expect("the first loan");
        a[0] = 7;
        assert!(S.lend().is_none(), "lent twice at once");
        assert!(S.take().is_none(), "taken while lent");
        drop(a);
        let b = S.lend().expect("a loan after the first ended");
        assert_eq!(b[0], 7);
        drop(b);
        let t = S.take().expect("taken when not lent");
        assert_eq!(t[0], 7);
        assert!(S.lend().is_none(), "lent after being taken");
    }
}
