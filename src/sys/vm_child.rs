//! A child that runs in PID 1's memory until its exec: clone3 with
//! CLONE_VM, on a stack of its own. The fork then copies no page tables,
//! the exec tears none down, and neither process takes copy-on-write
//! faults: about a quarter of a restart (docs/design.md §5). It is not
//! vfork: PID 1 goes on at once and never waits for the child, whose
//! set-up may block (a terminal without carrier, a hung mount in chdir,
//! a frozen cgroup).
//!
//! What makes sharing the memory safe:
//! - the child reads its `Nursery`'s data (filled before the clone) and
//!   writes only its stack, the `Nursery`'s too; PID 1 lends that data
//!   again only once `busy` is zero, which the kernel sees to
//!   (CLONE_CHILD_CLEARTID): at the child's exec, after it has left our
//!   memory, or at its exit;
//! - the child makes its system calls with `raw` (no errno; it shares
//!   PID 1's thread pointer) and through rustix's direct calls;
//! - PID 1 sets no signal handler (it takes signals from a signalfd), so
//!   nothing of PID 1's runs on the child's stack.
//!
//! Between children the room's pages go back to the kernel (`release`),
//! so the nursery costs PID 1 no private memory at rest. `AVAILABLE` is
//! false where `raw` is libc's: `spawn` forks there.

use super::raw;
use core::cell::UnsafeCell;
use core::ffi::c_long;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use linux_raw_sys::general as k;
use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::Pid;

/// Whether this arch has the child (inline assembly for its start).
pub(crate) const AVAILABLE: bool = raw::DIRECT;

/// The child's stack. Its deepest use, spawn's set-up with every option
/// set, is under 4 KiB (`spawn`'s test measures it); the stack has four
/// times that, as nothing guards its end.
pub(crate) const STACK: usize = 16 * 1024;

/// The data a child runs on, its stack, and whether a child is on them.
#[repr(transparent)]
pub(crate) struct Nursery<D> {
    room: UnsafeCell<Room<D>>,
}

/// Page-aligned, so that the stack's top is a page boundary: the child's
/// stack (under a page deep) and the flags, `start` and the data's head
/// (under a page with a usual command's text) then take two pages of
/// PID 1's memory, where an unaligned room could take three or four.
#[repr(C, align(4096))]
struct Room<D> {
    stack: [u8; STACK],
    /// Non-zero from the clone until the kernel clears it.
    busy: AtomicU32,
    /// A `Lease` exists.
    lent: AtomicBool,
    start: Start<D>,
    data: D,
}

/// What the child's first call finds (`enter`). Zero at first, as all
/// of the `Nursery` is, so that it takes no room in the binary (.bss).
#[repr(C)]
struct Start<D> {
    run: Option<fn(&D, OwnedFd) -> !>,
    fd: i32,
}

// SAFETY: the data is reached only through a `Lease` (one at a time,
// `lent`), and only while no child runs on it (`busy`).
unsafe impl<D> Sync for Nursery<D> {}

impl<D> Nursery<D> {
    pub(crate) const fn new(data: D) -> Nursery<D> {
        Nursery {
            room: UnsafeCell::new(Room {
                stack: [0; STACK],
                busy: AtomicU32::new(0),
                lent: AtomicBool::new(false),
                start: Start { run: None, fd: 0 },
                data,
            }),
        }
    }

    /// The data, to fill for the next child; `None` while a child still
    /// runs on it (it has neither exec'd nor exited) or it is lent.
    pub(crate) fn lend(&'static self) -> Option<Lease<D>> {
        if !AVAILABLE || self.busy().load(Ordering::Acquire) != 0 {
            return None;
        }
        if self.lent().swap(true, Ordering::Acquire) {
            return None;
        }
        Some(Lease(self))
    }

    /// Gives the room's pages back to the kernel (MADV_DONTNEED) once no
    /// child runs on it and it is not lent: its stack and its data then
    /// cost PID 1 no private memory between starts, for two page faults
    /// at the next one. The room reads as zero afterwards, which is
    /// `Nursery::new`'s state. Call it when a child's exec or exit is
    /// seen; it does nothing while the room is in use.
    /// True once the pages are back (or the kernel refused them).
    pub(crate) fn release(&'static self) -> bool {
        if self.busy().load(Ordering::Acquire) != 0 || self.lent().load(Ordering::Acquire) {
            return false;
        }
        let room = self.room.get();
        // SAFETY: the room is a whole number of pages of its own (its
        // alignment and size are multiples of 4096) that no reference
        // points into now (no lease, no child); private anonymous pages
        // read as zero after MADV_DONTNEED, a valid `Room` (`new`). A
        // kernel with larger pages refuses the unaligned range (EINVAL),
        // and the pages stay.
        let _ = unsafe {
            rustix::mm::madvise(
                room.cast(),
                core::mem::size_of::<Room<D>>(),
                rustix::mm::Advice::LinuxDontNeed,
            )
        };
        true
    }

    fn busy(&self) -> &AtomicU32 {
        // SAFETY: a shared reference to an atomic field; the rest of the
        // room is reached only through a `Lease`.
        unsafe { &*core::ptr::addr_of!((*self.room.get()).busy) }
    }

    fn lent(&self) -> &AtomicBool {
        // SAFETY: as in `busy`.
        unsafe { &*core::ptr::addr_of!((*self.room.get()).lent) }
    }
}

/// Several nurseries, for a burst of starts (a boot's, a reload's): each
/// child that has not exec'd yet holds one, and a start finds the first
/// free one. `used` keeps which were lent since their pages went back, so
/// that `release` touches no room that is already given back (reading
/// one would fault in a page). It lives in the pool, beside the pointer
/// to the rooms, so a pool static is in .data, the page of PID 1's that
/// is written anyway: after the rooms, or in .bss on its own, the word
/// took a page by itself (make bench: +4 KiB Anonymous). At most 32.
pub(crate) struct Pool<D: 'static, const N: usize> {
    rooms: &'static [Nursery<D>; N],
    used: AtomicU32,
}

impl<D, const N: usize> Pool<D, N> {
    pub(crate) const fn new(rooms: &'static [Nursery<D>; N]) -> Pool<D, N> {
        assert!(N <= 32, "a pool holds at most 32 nurseries");
        Pool {
            rooms,
            used: AtomicU32::new(0),
        }
    }

    /// The first free nursery's data, to fill for the next child; `None`
    /// while every one is taken.
    pub(crate) fn lend(&'static self) -> Option<Lease<D>> {
        let (i, lease) = self
            .rooms
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.lend().map(|l| (i, l)))?;
        self.used.fetch_or(1 << i, Ordering::AcqRel);
        Some(lease)
    }

    /// `Nursery::release` for each room lent since its last release and
    /// free now.
    pub(crate) fn release(&'static self) {
        let mut used = self.used.load(Ordering::Acquire);
        while used != 0 {
            let i = used.trailing_zeros();
            used &= used - 1;
            if self.rooms.get(i as usize).is_some_and(|r| r.release()) {
                self.used.fetch_and(!(1 << i), Ordering::AcqRel);
            }
        }
    }
}

/// The `Nursery`'s data, lent until this guard drops or `start` runs.
pub(crate) struct Lease<D: 'static>(&'static Nursery<D>);

impl<D> core::ops::Deref for Lease<D> {
    type Target = D;
    fn deref(&self) -> &D {
        // SAFETY: `lent` makes this the only reference, and `busy` is zero
        // (`lend`): no child reads the data.
        unsafe { &(*self.0.room.get()).data }
    }
}

impl<D> core::ops::DerefMut for Lease<D> {
    fn deref_mut(&mut self) -> &mut D {
        // SAFETY: as in `deref`; `&mut self` makes this one exclusive.
        unsafe { &mut (*self.0.room.get()).data }
    }
}

impl<D> Drop for Lease<D> {
    fn drop(&mut self) {
        self.0.lent().store(false, Ordering::Release);
    }
}

impl<D> Lease<D> {
    /// Starts a child that runs `run(data, fd)` in our memory: `fd` is its
    /// copy of `fd` (its fd table is copied at the clone, as at a fork).
    /// clone3 with CLONE_VM, CLONE_CHILD_CLEARTID on `busy`, and like
    /// `fork`: CLONE_INTO_CGROUP with `cgroup`, CLONE_PIDFD with `pidfd`.
    /// `run` must make system calls only, through `raw` or rustix, and end
    /// in an exec or `exit`. The data stays the child's until the kernel
    /// clears `busy`; an error means no child.
    pub(crate) fn start(
        self,
        cgroup: Option<BorrowedFd<'_>>,
        pidfd: bool,
        fd: BorrowedFd<'_>,
        run: fn(&D, OwnedFd) -> !,
    ) -> Result<(Pid, Option<OwnedFd>), Errno> {
        let nursery = self.0;
        let room = nursery.room.get();
        // SAFETY: the lease makes this the only reference, and no child
        // runs on the room (`lend` saw `busy` zero).
        unsafe {
            (*room).start = Start {
                run: Some(run),
                fd: fd.as_raw_fd(),
            };
        }
        let mut child_fd: i32 = -1;
        let mut args = super::clone_args(cgroup, pidfd.then_some(&mut child_fd));
        args.flags |= (k::CLONE_VM | k::CLONE_CHILD_CLEARTID) as u64;
        args.child_tid = nursery.busy().as_ptr() as usize as u64;
        args.stack = room as usize as u64;
        args.stack_size = STACK as u64;
        nursery.busy().store(1, Ordering::Release);
        // SAFETY: the child starts on `room.stack`'s top (the kernel adds
        // the size), which nothing else uses until `busy` is zero, and
        // calls `enter` with the room; `args` outlives the call.
        let r = unsafe { clone(&args, enter::<D> as *const () as usize, room as usize) };
        let r = match super::check(r) {
            Ok(r) => r,
            Err(e) => {
                nursery.busy().store(0, Ordering::Release);
                return Err(e);
            }
        };
        // The lease ends here: the data is the child's now.
        drop(self);
        // SAFETY: a pidfd the kernel made for us (CLONE_PIDFD), owned by
        // nobody else; -1 when none was asked for.
        let pidfd = (child_fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(child_fd) });
        match super::pid_of(r) {
            Some(p) => Ok((p, pidfd)),
            None => Err(Errno::INVAL),
        }
    }
}

/// The child's first call, on its own stack: its copy of the fd, and the
/// data. Never returns.
extern "C" fn enter<D>(room: *const Room<D>) -> ! {
    // SAFETY: `start` wrote the room before the clone, and PID 1 leaves
    // it alone until this child has exec'd or exited; the fd is open in
    // the child's copy of the fd table and nothing else owns it there.
    let (run, data, fd) = unsafe {
        let r = &*room;
        (r.start.run, &r.data, OwnedFd::from_raw_fd(r.start.fd))
    };
    match run {
        Some(run) => run(data, fd),
        None => super::exit(127),
    }
}

/// clone3: 0 in the child, which calls `entry(arg)` on the new stack and
/// never comes back here; the pid (or `-errno`) in the parent.
#[cfg(target_arch = "x86_64")]
unsafe fn clone(args: &k::clone_args, entry: usize, arg: usize) -> c_long {
    let r: c_long;
    core::arch::asm!(
        "syscall",
        "test rax, rax",
        "jnz 2f",
        // The child: no frame above this one; rsp is 16-aligned (the
        // stack's top), so the call leaves it as the ABI wants.
        "xor ebp, ebp",
        "mov rdi, r13",
        "call r12",
        "ud2",
        "2:",
        inlateout("rax") k::__NR_clone3 as c_long => r,
        in("rdi") args as *const k::clone_args,
        in("rsi") core::mem::size_of::<k::clone_args>(),
        in("r12") entry,
        in("r13") arg,
        lateout("rcx") _,
        lateout("r11") _,
        options(nostack),
    );
    r
}

#[cfg(target_arch = "aarch64")]
unsafe fn clone(args: &k::clone_args, entry: usize, arg: usize) -> c_long {
    let r: c_long;
    core::arch::asm!(
        "svc 0",
        "cbnz x0, 2f",
        "mov x0, x10",
        "blr x9",
        "brk #1",
        "2:",
        in("x8") k::__NR_clone3 as usize,
        inlateout("x0") args as *const k::clone_args => r,
        in("x1") core::mem::size_of::<k::clone_args>(),
        in("x9") entry,
        in("x10") arg,
        options(nostack),
    );
    r
}

/// r7 as in `raw::call`: the parent puts it back; the child never returns
/// to the frame it points into.
#[cfg(target_arch = "arm")]
unsafe fn clone(args: &k::clone_args, entry: usize, arg: usize) -> c_long {
    let r: c_long;
    core::arch::asm!(
        "mov {keep}, r7",
        "mov r7, {nr}",
        "svc 0",
        "cmp r0, #0",
        "bne 2f",
        "mov r0, r3",
        "blx r2",
        "udf #0",
        "2:",
        "mov r7, {keep}",
        nr = in(reg) k::__NR_clone3 as usize,
        keep = out(reg) _,
        inlateout("r0") args as *const k::clone_args => r,
        in("r1") core::mem::size_of::<k::clone_args>(),
        in("r2") entry,
        in("r3") arg,
        options(nostack),
    );
    r
}

#[cfg(target_arch = "riscv64")]
unsafe fn clone(args: &k::clone_args, entry: usize, arg: usize) -> c_long {
    let r: c_long;
    core::arch::asm!(
        "ecall",
        "bnez a0, 2f",
        "mv a0, a3",
        "jalr a2",
        "unimp",
        "2:",
        in("a7") k::__NR_clone3 as usize,
        inlateout("a0") args as *const k::clone_args => r,
        in("a1") core::mem::size_of::<k::clone_args>(),
        in("a2") entry,
        in("a3") arg,
        options(nostack),
    );
    r
}

/// Elsewhere `AVAILABLE` is false and `lend` never lends.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64"
)))]
unsafe fn clone(_: &k::clone_args, _: usize, _: usize) -> c_long {
    -(Errno::NOSYS.raw_os_error() as c_long)
}

/// An fd number PID 1 held when it started a child, for the child: its
/// fd table is a copy taken at the clone, so the number is open there
/// (the data holds numbers, not fds, as it outlives PID 1's fds).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Inherited(i32);

impl Inherited {
    /// Fd 0: what a zeroed frame holds.
    pub(crate) const ZERO: Inherited = Inherited(0);

    pub(crate) fn of(fd: BorrowedFd<'_>) -> Inherited {
        Inherited(fd.as_raw_fd())
    }

    /// The fd, in the child that `Lease::start` started after `of`.
    pub(crate) fn get(&self) -> BorrowedFd<'_> {
        // SAFETY: in that child the number is open (see the type) for as
        // long as the child does not close it, and it closes none of
        // these before its exec.
        unsafe { BorrowedFd::borrow_raw(self.0) }
    }
}

#[cfg(test)]
impl<D> Nursery<D> {
    const PAINT: u8 = 0xa5;

    /// Paints the stack, to see later how deep a child went (`depth`);
    /// false while a child is on it.
    pub(crate) fn paint(&'static self) -> bool {
        let Some(lease) = self.lend() else {
            return false;
        };
        // SAFETY: the lease makes this the only reference to the room.
        unsafe { (*lease.0.room.get()).stack.fill(Self::PAINT) };
        true
    }

    /// Bytes from the stack's top down to the deepest one a child wrote.
    pub(crate) fn depth(&'static self) -> usize {
        let Some(lease) = self.lend() else {
            return usize::MAX;
        };
        // SAFETY: as in `paint`.
        let stack = unsafe { &(*lease.0.room.get()).stack };
        STACK - stack.iter().take_while(|&&b| b == Self::PAINT).count()
    }

    /// Whether a child still runs on the room.
    pub(crate) fn busy_now(&'static self) -> bool {
        self.busy().load(Ordering::Acquire) != 0
    }
}

#[cfg(test)]
impl<D, const N: usize> Pool<D, N> {
    /// Which rooms were lent since they last went back (bit i: room i).
    pub(crate) fn used_now(&'static self) -> u32 {
        self.used.load(Ordering::Acquire)
    }
}
