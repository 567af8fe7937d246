//! PID 1's stack after the boot. The kernel keeps every stack page a
//! process has touched; the boot's frames reach deeper than the event
//! loop's ever do (the table's parser, the mounts, a hand-over), and once
//! `boot` has returned nothing below its caller is live. Giving those
//! pages back leaves PID 1 with the stack its loop uses (docs/design.md
//! §1).

use crate::sys::file::Lines;
use rustix::io::Errno;

/// Gives back the stack pages below the caller's frame, but for the page
/// under it (the system call's own frames). Call it from a frame every
/// later call returns to, with nothing below it in use: PID 1's `run`
/// between `boot` and the loop, the loop's top after a reload.
#[inline(never)] // `mapping`'s line buffer is gone before `release` runs
pub(crate) fn release_below_caller() -> Result<(), Errno> {
    match mapping()? {
        Some(m) => release(m),
        None => Ok(()),
    }
}

/// The stack mapping: its bounds and the kernel's page size for it,
/// from /proc/self/smaps (the `[stack]` entry and its `KernelPageSize:`
/// line).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Mapping {
    low: usize,
    high: usize,
    page: usize,
}

#[inline(never)]
fn mapping() -> Result<Option<Mapping>, Errno> {
    let mut bounds = None;
    let mut found = None;
    Lines::open("/proc/self/smaps")?.each(|line| {
        match bounds {
            None if line.ends_with(b" [stack]") => bounds = span(line),
            None => {}
            Some((low, high)) => {
                if let Some(page) = page_size(line) {
                    found = Some(Mapping { low, high, page });
                    return false;
                }
            }
        }
        true
    })?;
    Ok(found)
}

/// `START` and `END` of a mapping's line `START-END perms offset dev
/// inode path`.
pub(super) fn span(line: &[u8]) -> Option<(usize, usize)> {
    let range = line.split(|&b| b == b' ').next()?;
    let mut ends = range.splitn(2, |&b| b == b'-');
    let low = number(ends.next()?, 16)?;
    let high = number(ends.next()?, 16)?;
    (low < high).then_some((low, high))
}

/// The bytes of a `KernelPageSize:   4 kB` line.
pub(super) fn page_size(line: &[u8]) -> Option<usize> {
    let rest = line.strip_prefix(b"KernelPageSize:")?;
    let kb = number(rest.strip_suffix(b" kB")?.trim_ascii(), 10)?;
    kb.checked_mul(1024).filter(|p| p.is_power_of_two())
}

/// Digits in `radix` (10 or 16, lower case), all of them; none is `None`.
/// (core's `from_str_radix` and `parse` for these came to 250 bytes
/// more of text.)
pub(super) fn number(digits: &[u8], radix: usize) -> Option<usize> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &b| {
        let d = match b {
            b'0'..=b'9' => usize::from(b - b'0'),
            b'a'..=b'f' => usize::from(b - b'a') + 10,
            _ => return None,
        };
        (d < radix).then_some(())?;
        n.checked_mul(radix)?.checked_add(d)
    })
}

/// The range to give back: from the mapping's lowest page to the page
/// below the one holding `at` (an address in `release`'s frame). None
/// unless `at` is on this stack (a thread of a test runs on another).
fn range(m: Mapping, at: usize) -> Option<(usize, usize)> {
    if !(m.low..m.high).contains(&at) {
        return None;
    }
    let top = (at & !(m.page - 1)).checked_sub(m.page)?;
    (top > m.low).then_some((m.low, top - m.low))
}

#[inline(never)]
fn release(m: Mapping) -> Result<(), Errno> {
    let here = 0u8;
    let at = core::ptr::addr_of!(here) as usize;
    let Some((low, len)) = range(m, at) else {
        return Ok(());
    };
    // SAFETY: [low, low + len) is the part of this thread's stack mapping
    // below this frame, less one page: no live frame, nothing borrowed
    // (PID 1 keeps no pointers into dead frames). MADV_DONTNEED on private
    // anonymous memory only drops the pages; a later call that reaches
    // them gets zeroed pages, as a stack's first touch does.
    unsafe { dont_need(low, len) }
}

/// `madvise(MADV_DONTNEED)` of [low, low + len): its pages leave this
/// process's page tables (`sys::text` uses it too).
///
/// # Safety
///
/// Nothing in the range may be in use or hold anything the process
/// still needs that only the dropped pages have.
pub(super) unsafe fn dont_need(low: usize, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller's.
    unsafe {
        rustix::mm::madvise(
            low as *mut core::ffi::c_void,
            len,
            rustix::mm::Advice::LinuxDontNeed,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_line_gives_its_bounds_and_the_page_line_its_size() {
        let l = b"7ffc9d3a1000-7ffc9d3c2000 rw-p 00000000 00:00 0                          [stack]";
        assert_eq!(span(l), Some((0x7ffc_9d3a_1000, 0x7ffc_9d3c_2000)));
        assert_eq!(page_size(b"KernelPageSize:        4 kB"), Some(4096));
        assert_eq!(page_size(b"KernelPageSize:       64 kB"), Some(65536));
        assert_eq!(page_size(b"MMUPageSize:           4 kB"), None);
        assert_eq!(page_size(b"KernelPageSize:        3 kB"), None);
        assert_eq!(page_size(b"KernelPageSize:        a kB"), None);
        assert_eq!(span(b"-7ffc r"), None);
        assert_eq!(span(b"7ffc-7ffb r"), None);
        assert_eq!(span(b"fffffffffffffffff0-ffffffffffffffffff r"), None);
    }

    #[test]
    fn the_range_ends_a_page_below_the_frame_and_only_on_this_stack() {
        let m = Mapping {
            low: 0x10_0000,
            high: 0x20_0000,
            page: 4096,
        };
        assert_eq!(range(m, 0x10_8123), Some((0x10_0000, 0x7000)));
        // Nothing below but the kept page: nothing to give back.
        assert_eq!(range(m, 0x10_1fff), None);
        // Not on this stack: nothing.
        assert_eq!(range(m, 0x0f_8123), None);
        assert_eq!(range(m, 0x20_0000), None);
        let big = Mapping {
            low: 0x10_0000,
            high: 0x20_0000,
            page: 65536,
        };
        assert_eq!(range(big, 0x13_0010), Some((0x10_0000, 0x2_0000)));
    }

    #[test]
    fn this_process_has_a_stack_mapping_with_a_page_size() {
        let m = mapping().ok().flatten();
        let m = m.expect("a [stack] entry with a KernelPageSize line");
        assert!(m.page >= 4096 && m.low > 0 && m.high > m.low);
    }
}
