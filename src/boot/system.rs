//! The table's system statements (docs/design.md §2, step 6), applied in
//! file order: `hostname`, `mount`, `sysctl`, `irq-affinity` (`fstab`
//! and `random-seed` have files of their own). Each failure is reported
//! and boot goes on.

use crate::place::process::Mask;
use crate::say;
use crate::sys::errno::Name;
use crate::sys::{self, file};
use crate::table::capacity::{MOUNT_DATA_MAX, PATH_MAX, SYSCTL_MAX};
use crate::table::Setup;
use rustix::fs::{self, Mode};
use rustix::io::Errno;
use rustix::mount::MountFlags;

/// A path of the table, decoded into `buf`.
pub(crate) fn path<'b>(w: &crate::table::Word<'_>, buf: &'b mut [u8]) -> Option<&'b str> {
    w.decode(buf).and_then(|b| core::str::from_utf8(b).ok())
}

/// One statement of the table; `remount`: a mount is made again with
/// its new options (a reload changed them), not mounted over.
pub(crate) fn apply(s: &Setup<'_>, remount: bool) {
    let mut pbuf = [0u8; crate::boot::fstab::PATH_MAX];
    match s {
        Setup::Hostname(name) => hostname(name),
        Setup::HostnameFile(f, fallback) => match path(f, &mut pbuf) {
            Some(p) => hostname_file(p, *fallback),
            None => say!("hostname: path too long"),
        },
        Setup::Fstab(f) => match path(&f.file, &mut pbuf) {
            Some(p) => crate::boot::fstab::apply(p),
            None => say!("fstab: path too long"),
        },
        // Loaded once the file systems are there (pid1.rs), saved at
        // shutdown.
        Setup::RandomSeed(_) => {}
        Setup::Mount(m) => {
            // The parser keeps every value within these (table::capacity).
            let (mut src, mut dst) = ([0u8; PATH_MAX + 1], [0u8; PATH_MAX + 1]);
            let mut data = [0u8; MOUNT_DATA_MAX + 1];
            let source = m
                .source
                .decode(&mut src)
                .and_then(|b| core::str::from_utf8(b).ok());
            let target = m
                .target
                .decode(&mut dst)
                .and_then(|b| core::str::from_utf8(b).ok());
            // The last byte stays 0: the options are NUL-terminated.
            let n = m.data(&mut data[..MOUNT_DATA_MAX]).map_or(0, |d| d.len());
            let data = data
                .get(..=n)
                .and_then(|d| core::ffi::CStr::from_bytes_until_nul(d).ok())
                .unwrap_or(c"");
            let remount = if remount {
                linux_raw_sys::general::MS_REMOUNT
            } else {
                0
            };
            let flags = MountFlags::from_bits_retain(m.flags | remount);
            match (source, target) {
                (Some(s), Some(t)) => mount(s, t, m.fstype, flags, data),
                _ => say!("mount: source or target too long"),
            }
        }
        Setup::Sysctl(c) => {
            let (mut path, mut value) = ([0u8; SYSCTL_MAX + 1], [0u8; SYSCTL_MAX + 1]);
            match (c.path(&mut path), c.value.decode(&mut value)) {
                (Some(p), Some(v)) => sysctl(c.key, p, v),
                _ => say!("sysctl {}: key or value too long", c.key),
            }
        }
        Setup::IrqAffinity(list) => {
            let (moved, stuck) = irq_affinity(&list.mask());
            say!(
                "irq-affinity {}: {} IRQs moved, {} could not move",
                list.as_str(),
                moved,
                stuck
            );
        }
    }
}

/// `hostname NAME`
pub(crate) fn hostname(name: &str) {
    if let Err(e) = rustix::system::sethostname(name.as_bytes()) {
        say!("hostname {}: unable to set: {}", name, Name(e));
    }
}

/// `hostname FILE [NAME]`: the first line of FILE that is not blank or a
/// `#` comment (hostname(5)), else NAME; without either, the kernel's
/// name stays and the console says why.
pub(crate) fn hostname_file(path: &str, fallback: Option<&str>) {
    let mut buf = [0u8; 64 + 1];
    let mut found: Result<usize, &str> = Err("no name in it");
    let r = file::Lines::open(path).and_then(|lines| {
        lines.each(|line| {
            let name = line.trim_ascii();
            if name.is_empty() || name.starts_with(b"#") {
                return true;
            }
            found = match (core::str::from_utf8(name), buf.get_mut(..name.len())) {
                (Ok(n), Some(dst)) if crate::table::hostname_ok(n) => {
                    dst.copy_from_slice(name);
                    Ok(name.len())
                }
                _ => Err("its name is not a valid host name (1 to 64 of A-Z a-z 0-9 - .)"),
            };
            false
        })
    });
    let mut why: heapless::String<96> = heapless::String::new();
    match (r, found) {
        (Ok(()), Ok(n)) => {
            return hostname(core::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or(""))
        }
        (Ok(()), Err(w)) => {
            let _ = why.push_str(w);
        }
        (Err(e), _) => {
            let _ = crate::put!(why, "unable to read it: {}", file::Why(e));
        }
    }
    match fallback {
        Some(name) => {
            say!("hostname {}: {}; using {}", path, why, name);
            hostname(name);
        }
        None => say!("hostname {}: {}; the host name is left as it is", path, why),
    }
}

/// `sysctl KEY VALUE`: VALUE and a newline written to `path`
/// (/proc/sys/...), as sysctl(8) does: some knobs (printk_devkmsg)
/// refuse a value without the newline.
pub(crate) fn sysctl(key: &str, path: &str, value: &[u8]) {
    let mut line: heapless::Vec<u8, 258> = heapless::Vec::new();
    let fits = line.extend_from_slice(value).is_ok() && line.push(b'\n').is_ok();
    let r = if fits {
        file::write_file(path, &line)
    } else {
        Err(Errno::TOOBIG)
    };
    if let Err(e) = r {
        say!(
            "sysctl {}: unable to write '{}' to {}: {}",
            key,
            core::str::from_utf8(value).unwrap_or("?"),
            path,
            Name(e)
        );
    }
}

/// `mount SOURCE TARGET FSTYPE [OPTIONS]`, the target (and its parents)
/// created if missing.
pub(crate) fn mount(
    source: &str,
    target: &str,
    fstype: &str,
    flags: MountFlags,
    data: &core::ffi::CStr,
) {
    if let Err(e) = crate::boot::mounts::make_dirs(target) {
        say!(
            "mount {}: unable to create the mount point: {}",
            target,
            Name(e)
        );
    }
    let data = if data.is_empty() { None } else { Some(data) };
    let mounted = sys::path::mount(source, target, fstype, flags, data);
    if let Err(e) = mounted {
        say!("mount {} on {} ({}): {}", source, target, fstype, Name(e));
    }
}

/// `irq-affinity CPULIST`: the default for new IRQs and every existing
/// IRQ that can move. Returns (moved, unmovable).
pub(crate) fn irq_affinity(cpus: &Mask) -> (u32, u32) {
    let mut hex: heapless::String<{ 16 * 17 }> = heapless::String::new();
    mask_hex(cpus, &mut hex);
    if let Err(e) = file::write_file("/proc/irq/default_smp_affinity", hex.as_bytes()) {
        say!(
            "irq-affinity: unable to write /proc/irq/default_smp_affinity: {}",
            Name(e)
        );
    }
    let (mut moved, mut stuck) = (0, 0);
    let dir = match fs::open(
        c"/proc/irq",
        fs::OFlags::RDONLY | fs::OFlags::DIRECTORY | fs::OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(d) => d,
        Err(e) => {
            say!("irq-affinity: unable to open /proc/irq: {}", Name(e));
            return (0, 0);
        }
    };
    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); 1024];
    let mut iter = fs::RawDir::new(dir, &mut buf);
    while let Some(Ok(entry)) = iter.next() {
        let name = entry.file_name().to_bytes();
        if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
            continue;
        }
        let mut path: heapless::String<48> = heapless::String::new();
        let n = core::str::from_utf8(name).unwrap_or("");
        if crate::put!(path, "/proc/irq/{}/smp_affinity", n).is_err() {
            continue;
        }
        match file::write_file(path.as_str(), hex.as_bytes()) {
            Ok(()) => moved += 1,
            Err(_) => stuck += 1,
        }
    }
    (moved, stuck)
}

/// The kernel's comma-separated 32-bit hex groups, highest first
/// (`ffffffff,00000001`).
pub(crate) fn mask_hex<const N: usize>(m: &Mask, out: &mut heapless::String<N>) {
    let words = m.words();
    let mut groups = [0u32; 2 * crate::place::process::MASK_WORDS];
    let mut n = 0;
    for w in words {
        if let Some(g) = groups.get_mut(n) {
            *g = *w as u32;
        }
        if let Some(g) = groups.get_mut(n + 1) {
            *g = (*w >> 32) as u32;
        }
        n += 2;
    }
    while n > 1 && groups.get(n - 1) == Some(&0) {
        n -= 1;
    }
    let n = n.max(1);
    for i in (0..n).rev() {
        let g = groups.get(i).copied().unwrap_or(0);
        let _ = crate::put!(out, "{}", crate::put::Hex(u64::from(g), 8));
        if i > 0 {
            let _ = out.push(',');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_masks() {
        let mut m = Mask::EMPTY;
        let mut s: heapless::String<300> = heapless::String::new();
        mask_hex(&m, &mut s);
        assert_eq!(s.as_str(), "00000000");
        m.set(0);
        m.set(33);
        let mut s: heapless::String<300> = heapless::String::new();
        mask_hex(&m, &mut s);
        assert_eq!(s.as_str(), "00000002,00000001");
    }
}
