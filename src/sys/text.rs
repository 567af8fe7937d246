//! PID 1's own file pages after the boot. The binary's text and
//! read-only data are mapped from the page cache in fault-around windows
//! of 64 KiB; the boot runs code the event loop never runs again (the
//! table's parser and checks, the mounts, fstab, a hand-over) and maps
//! nearly every window. Unmapping them all once the boot is over leaves
//! PID 1 with the windows its loop faults back in, which the link order
//! keeps few: tools/hot.ld puts what the loop runs (this function first)
//! at the start of the text, tools/cold.ld the boot-, reload-, shutdown-
//! and client-only code after the rest, and tools/ldsplit the read-only
//! data that code alone reads in mappings of their own (docs/design.md
//! §1). The text above `.text.hot`'s last page becomes a mapping of its
//! own too, so the loop's faults map `.text.hot` and nothing past it (on
//! armv7 12 pages, not the window's 16). The pages stay in the page
//! cache: a later call of cold code faults them in again.

use super::stack::{dont_need, number, page_size, span};
use crate::sys::file::Lines;
use rustix::io::Errno;

/// The read-only mappings of the binary a release unmaps: a static
/// binary has up to five (headers, text, the read-only data in three parts,
/// tools/ldsplit); more stay mapped.
const MAPPINGS: usize = 8;

/// Unmaps the read-only mappings of the binary this code runs from: the
/// run of mappings of one file (device and inode) around this function,
/// those of them without a private page. A page written once
/// (relocations, then RELRO's mprotect, in a dynamic test binary; a
/// debugger's breakpoint) exists only in the mapping, and dropping it
/// would lose it. Call it where what runs next is the steady state:
/// PID 1's `run` after the boot, the loop's top after a reload.
#[inline(never)]
pub(crate) fn release() -> Result<(), Errno> {
    let here = release as *const () as usize;
    let Some(Plan { run, n, split }) = plan(here)? else {
        return Ok(());
    };
    let mut first = match split {
        Some((at, high)) => set_apart(at, high),
        None => Ok(()),
    };
    for m in run.iter().take(n) {
        if let (Err(e), Ok(())) = (unmap(m.low, m.high - m.low), &first) {
            first = Err(e);
        }
    }
    first
}

/// What a release drops: the run of mappings without a private page, and
/// where the text splits (`set_apart`'s range).
struct Plan {
    run: [Mapping; MAPPINGS],
    n: usize,
    split: Option<(usize, usize)>,
}

/// Reads /proc/self/smaps for `release`, whose code is `here`; `None`
/// when `here` is in no read-only mapping of a file. Out of `release`
/// and out of `.text.hot` (tools/hot.ld names `release`, `set_apart` and
/// `unmap`): it runs before anything is dropped, so only the dropping's
/// code needs to be in the loop's window.
#[inline(never)]
fn plan(here: usize) -> Result<Option<Plan>, Errno> {
    let mut run = [Mapping::default(); MAPPINGS];
    let mut n = 0;
    // The file of the run being read, and whether this function is in it.
    let mut file = None;
    let mut ours = false;
    // The mapping whose `Anonymous:` line is awaited.
    let mut open: Option<Mapping> = None;
    // The mapping that holds this function, and its page size.
    let mut text = None;
    Lines::open("/proc/self/smaps")?.each(|line| {
        if let Some(m) = header(line) {
            open = m;
            let f = m.map(|m| m.file);
            if f.is_none() || f != file {
                // The run ends: done if it was ours.
                if ours {
                    return false;
                }
                (n, file) = (0, f);
            }
            ours |= m.is_some_and(|m| (m.low..m.high).contains(&here));
        } else if let (Some(m), Some(page)) = (open, page_size(line)) {
            if (m.low..m.high).contains(&here) {
                text = Some((m, page));
            }
        } else if let (Some(m), Some(kb)) = (open, anonymous(line)) {
            open = None;
            if let (0, Some(slot)) = (kb, run.get_mut(n)) {
                *slot = m;
                n += 1;
            }
        }
        true
    })?;
    if !ours {
        return Ok(None);
    }
    // The split first: the first fault after the unmapping (in
    // `release`) then maps the loop's code alone.
    let split = text.and_then(|(m, page)| {
        Some((
            hot_split(m, here, hot_end as *const () as usize, page)?,
            m.high,
        ))
    });
    Ok(Some(Plan { run, n, split }))
}

/// Marks the end of `.text.hot`: tools/hot.ld places it last there, after
/// the code PID 1's loop runs in its steady state. Never called; only its
/// address is used. Without hot.ld (a test binary) it is anywhere in the
/// text, and `hot_split` then finds no split or one that only costs a
/// window.
#[inline(never)]
#[link_section = ".text.pinit_hot_end"]
fn hot_end() {}

/// Where the text mapping `m` (page size `page`), which holds `here`
/// (`release`, first in `.text.hot`), splits: the page boundary at or
/// after `end`, the end of `.text.hot`; `None` when that is not strictly
/// inside the mapping above `here` (nothing to split, or no hot.ld).
fn hot_split(m: Mapping, here: usize, end: usize, page: usize) -> Option<usize> {
    let at = end.checked_next_multiple_of(page)?;
    (here < end && m.low < at && at < m.high).then_some(at)
}

/// Gives [at, high) mapping of its own (`MADV_RANDOM`, which sets a flag
/// the rest of the text has not, so the kernel splits the mapping there):
/// fault-around never maps past a mapping's end, so the loop's faults in
/// `.text.hot` map its pages alone, not the next code up to 64 KiB. The
/// flag itself only turns off read-ahead for faults above `at`.
fn set_apart(at: usize, high: usize) -> Result<(), Errno> {
    // SAFETY: [at, high) is the part of the binary's read-only text
    // mapping above `.text.hot`; MADV_RANDOM changes no page, only the
    // mapping's read-ahead hint.
    unsafe {
        rustix::mm::madvise(
            at as *mut core::ffi::c_void,
            high - at,
            rustix::mm::Advice::Random,
        )
    }
}

/// A read-only mapping of a file: its bounds and the file (device and
/// inode).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Mapping {
    low: usize,
    high: usize,
    file: (usize, usize, usize),
}

/// A mapping's first line in smaps, `START-END PERMS OFFSET MAJOR:MINOR
/// INODE PATH`: `Some(Some(_))` for a private mapping of a file that
/// nobody writes through (perms `r--p`, `r-xp`), `Some(None)` for any
/// other (data, bss, the stack, the vDSO's inode 0), `None` for the
/// lines in between.
fn header(line: &[u8]) -> Option<Option<Mapping>> {
    let mut f = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let (low, high) = span(f.next()?)?;
    let Some((perms, _offset, dev, inode)) =
        (|| Some((f.next()?, f.next()?, f.next()?, f.next()?)))()
    else {
        return Some(None);
    };
    if perms != b"r--p" && perms != b"r-xp" {
        return Some(None);
    }
    let mut dev = dev.splitn(2, |&b| b == b':');
    let file = (|| {
        Some((
            number(dev.next()?, 16)?,
            number(dev.next()?, 16)?,
            number(inode, 10)?,
        ))
    })();
    Some(
        file.filter(|f| f.2 != 0)
            .map(|file| Mapping { low, high, file }),
    )
}

/// The kilobytes of an `Anonymous:        4 kB` line.
fn anonymous(line: &[u8]) -> Option<usize> {
    let rest = line.strip_prefix(b"Anonymous:")?;
    number(rest.strip_suffix(b" kB")?.trim_ascii(), 10)
}

/// Drops the page table entries of [low, low + len), a read-only private
/// mapping of the binary.
fn unmap(low: usize, len: usize) -> Result<(), Errno> {
    // SAFETY: the range is a whole private mapping of the binary's file,
    // read-only (r--p, r-xp) and, as smaps said (`Anonymous: 0 kB`),
    // without a private copy of any page: MADV_DONTNEED only drops its
    // page table entries, and the next access maps the same page-cache
    // page again. Nothing changes for the code running now but a page
    // fault.
    unsafe { dont_need(low, len) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaps_lines_give_read_only_file_mappings_and_private_pages() {
        let text = b"00401000-00441000 r-xp 00001000 fd:01 1234567   /sbin/pinit";
        let m = Mapping {
            low: 0x40_1000,
            high: 0x44_1000,
            file: (0xfd, 1, 1_234_567),
        };
        assert_eq!(header(text), Some(Some(m)));
        let rodata = b"00441000-00450000 r--p 00041000 00:02 17 /sbin/pinit";
        assert_eq!(header(rodata).flatten().map(|m| m.file), Some((0, 2, 17)));
        // Written data, anonymous memory, the vDSO: not for a release.
        for other in [
            &b"00450000-00452000 rw-p 0004f000 00:02 17 /sbin/pinit"[..],
            b"00452000-00508000 rw-p 00000000 00:00 0 ",
            b"7ffd1000-7ffd3000 r-xp 00000000 00:00 0    [vdso]",
            b"7ffd1000-7ffd3000 r-xs 00000000 00:02 17   /x",
        ] {
            assert_eq!(header(other), Some(None));
        }
        assert_eq!(header(b"Rss:                 124 kB"), None);
        assert_eq!(anonymous(b"Anonymous:             4 kB"), Some(4));
        assert_eq!(anonymous(b"Anonymous:             0 kB"), Some(0));
        assert_eq!(anonymous(b"AnonHugePages:         0 kB"), None);
    }

    /// The Rss of the mapping that holds `release`, in kB.
    fn text_rss() -> Option<usize> {
        let here = release as *const () as usize;
        let (mut inside, mut rss) = (false, None);
        Lines::open("/proc/self/smaps")
            .and_then(|l| {
                l.each(|line| {
                    if let Some(m) = header(line) {
                        inside = m.is_some_and(|m| (m.low..m.high).contains(&here));
                    } else if let Some(kb) = line.strip_prefix(b"Rss:").filter(|_| inside) {
                        rss = kb
                            .strip_suffix(b" kB")
                            .and_then(|kb| number(kb.trim_ascii(), 10));
                    }
                    true
                })
            })
            .ok()?;
        rss
    }

    #[test]
    fn the_text_splits_at_the_page_after_the_hot_code() {
        let m = Mapping {
            low: 0x40_1000,
            high: 0x44_1000,
            file: (0, 2, 17),
        };
        let here = 0x40_1010;
        assert_eq!(hot_split(m, here, 0x41_0866, 4096), Some(0x41_1000));
        assert_eq!(hot_split(m, here, 0x41_1000, 4096), Some(0x41_1000));
        assert_eq!(hot_split(m, here, 0x41_0866, 65536), Some(0x42_0000));
        // At or past the mapping's end: nothing to set apart (a second
        // release, after a reload, finds the mapping split already).
        assert_eq!(hot_split(m, here, 0x44_0800, 4096), None);
        assert_eq!(hot_split(m, here, 0x45_0000, 4096), None);
        // The marker below `release`: no hot.ld, no split.
        assert_eq!(hot_split(m, here, 0x40_1000, 4096), None);
        assert_eq!(hot_split(m, here, usize::MAX - 5, 4096), None);
    }

    /// The lines of /proc/self/maps inside [low, high).
    fn mappings_in(low: usize, high: usize) -> Vec<(usize, usize)> {
        std::fs::read_to_string("/proc/self/maps")
            .expect("/proc/self/maps")
            .lines()
            .filter_map(|l| span(l.as_bytes()))
            .filter(|&(a, b)| a >= low && b <= high)
            .collect()
    }

    #[test]
    fn set_apart_gives_the_rest_of_a_file_mapping_a_mapping_of_its_own() {
        let path = format!("/tmp/pinit-text-{}\0", std::process::id());
        let c = core::ffi::CStr::from_bytes_with_nul(path.as_bytes()).expect("a C string");
        let path = path.trim_end_matches('\0');
        std::fs::write(path, vec![0x5a_u8; 4 * 4096]).expect("write");
        let file = rustix::fs::open(
            c,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .expect("open");
        let _ = std::fs::remove_file(path);
        // SAFETY: a new private read-only mapping of a file of ours, of
        // its whole length; nothing else refers to it.
        let low = unsafe {
            rustix::mm::mmap(
                core::ptr::null_mut(),
                4 * 4096,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::EXEC,
                rustix::mm::MapFlags::PRIVATE,
                &file,
                0,
            )
        }
        .expect("mmap") as usize;
        let high = low + 4 * 4096;
        assert_eq!(mappings_in(low, high), vec![(low, high)]);
        set_apart(low + 4096, high).expect("madvise");
        assert_eq!(
            mappings_in(low, high),
            vec![(low, low + 4096), (low + 4096, high)]
        );
        // SAFETY: the mapping made above, unused from here on.
        unsafe { rustix::mm::munmap(low as *mut core::ffi::c_void, 4 * 4096) }.expect("munmap");
    }

    #[test]
    fn release_unmaps_this_binarys_text_and_keeps_what_it_wrote() {
        // This test binary is a dynamic PIE: its RELRO pages were written
        // (relocations) and made read-only; dropping them would crash the
        // next call through the GOT, in this thread or another.
        let before = text_rss().expect("a text mapping with an Rss line");
        release().expect("release");
        let after = text_rss().expect("a text mapping with an Rss line");
        assert!(
            after < before,
            "text Rss {before} kB before, {after} kB after"
        );
    }
}
