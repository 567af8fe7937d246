//! `fstab [FILE]` (docs/config.md, "fstab"): the root remounted with its
//! options, then every entry without `noauto` mounted or swapped on, in
//! file order, as `mount -a` and `swapon -a` would; and, at shutdown, every
//! swap turned off before the file systems are unmounted.
//!
//! The line and option parsers are pure (tested below); `apply` makes
//! the system calls. Every problem is one console line naming
//! FILE:LINE, and boot goes on. Limits: a line of FILE_LINE_MAX bytes,
//! a path (decoded, UUID= resolved) of PATH_MAX bytes.

use crate::boot::mounts;
use crate::filled;
use crate::put::Filled;
use crate::say;
use crate::sys::errno::Name;
use crate::sys::file::{Lines, Why, FILE_LINE_MAX};
use crate::sys::{self, path, swap};
use crate::table::model::mount_flag;
use core::ffi::CStr;
use rustix::fs::{self, FileType, Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::MountFlags;

/// Longest SPEC or FILE once decoded (`\040`) and resolved (`UUID=`).
pub(crate) const PATH_MAX: usize = 256;

const MS_RDONLY: u32 = 1;
const MS_REMOUNT: u32 = 32;
const MS_BIND: u32 = 4096;
/// What `ro`, `nosuid`, `nodev`, `noexec` and the atime words set: a
/// bind mount takes them only in a second, remounting call.
const PER_MOUNT: u32 = 1 | 2 | 4 | 8 | 256 | 1024 | 2048 | (1 << 21) | (1 << 24);
/// unbindable, private, slave, shared (and MS_REC with them): a call of
/// their own after the mount.
const PROPAGATION: u32 = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);
const MS_REC: u32 = 16384;
/// ramfs and tmpfs: an initramfs root.
const RAMFS_MAGIC: u32 = 0x8584_58f6;
const TMPFS_MAGIC: u32 = 0x0102_1994;
/// File systems that need the network and mount(8)'s helpers.
const NETWORK_FS: [&str; 5] = ["nfs", "nfs4", "cifs", "smb3", "ceph"];

/// One fstab entry, as written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Entry<'a> {
    /// The device, `UUID=...`, a directory (bind) or a name (tmpfs).
    pub(crate) spec: &'a [u8],
    /// The mount point, `none` or `swap` for a swap.
    pub(crate) file: &'a [u8],
    pub(crate) fstype: &'a str,
    /// `defaults` when left out.
    pub(crate) opts: &'a str,
}

/// One line: `None` for a blank line or a comment; an error says what is
/// wrong. The fifth and sixth fields (dump, fsck pass) are checked and
/// not used.
pub(crate) fn parse_line(line: &[u8]) -> Result<Option<Entry<'_>>, &'static str> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut f = line
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|w| !w.is_empty());
    let Some(spec) = f.next() else {
        return Ok(None);
    };
    if spec.starts_with(b"#") {
        return Ok(None);
    }
    const USAGE: &str = "expected SPEC FILE TYPE [OPTIONS [DUMP [PASS]]]";
    let (Some(file), Some(fstype)) = (f.next(), f.next()) else {
        return Err(USAGE);
    };
    let opts = f.next().unwrap_or(b"defaults");
    for n in f.by_ref().take(2) {
        if !n.iter().all(u8::is_ascii_digit) {
            return Err("DUMP and PASS must be numbers");
        }
    }
    if f.next().is_some() {
        return Err(USAGE);
    }
    let (Ok(fstype), Ok(opts)) = (core::str::from_utf8(fstype), core::str::from_utf8(opts)) else {
        return Err("TYPE and OPTIONS must be UTF-8 text");
    };
    Ok(Some(Entry {
        spec,
        file,
        fstype,
        opts,
    }))
}

/// An entry's options, read.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Opts {
    /// MS_* from the flag words (propagation included).
    pub(crate) flags: u32,
    pub(crate) noauto: bool,
    pub(crate) nofail: bool,
    pub(crate) netdev: bool,
    /// SWAP_FLAG_* from `pri=` and `discard` (swap entries).
    pub(crate) swap: u32,
    /// Bytes of `data` used: the options passed to the file system.
    pub(crate) data_len: usize,
}

/// Reads OPTIONS: flag words to MS_* (as the `mount` statement), the
/// words of mount(8) and fstab handled or ignored, `pri=` and `discard`
/// for a swap, everything else copied to `data` for the file system, in
/// order. An error names the word and why.
pub(crate) fn options<'o>(
    opts: &'o str,
    is_swap: bool,
    data: &mut [u8],
) -> Result<Opts, (&'o str, &'static str)> {
    let mut o = Opts::default();
    for w in opts.split(',').filter(|w| !w.is_empty()) {
        let (key, value) = match w.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (w, None),
        };
        // As mount(8): a user mount is nosuid,nodev(,noexec), even by root.
        let implied = match key {
            "user" | "users" => 2 | 4 | 8,
            "owner" | "group" => 2 | 4,
            _ => 0,
        };
        match (key, value) {
            _ if implied != 0 => o.flags |= implied,
            ("noauto", None) => o.noauto = true,
            ("nofail", None) => o.nofail = true,
            ("_netdev", None) => o.netdev = true,
            ("auto" | "nouser" | "sw" | "comment", _) => {}
            (k, _) if k.starts_with("x-") => {}
            ("loop", _) => {
                return Err((w, "loop devices are mount(8)'s; pinit does not set them up"))
            }
            ("pri", Some(v)) if is_swap => match v.parse::<u32>() {
                Ok(p) if p <= swap::PRIO_MASK => o.swap |= swap::PREFER | p,
                _ => return Err((w, "expected a priority from 0 to 32767")),
            },
            ("discard", None) if is_swap => o.swap |= swap::DISCARD,
            ("discard", Some(v)) if is_swap => {
                o.swap |= swap::DISCARD
                    | match v {
                        "once" => swap::DISCARD_ONCE,
                        "pages" => swap::DISCARD_PAGES,
                        _ => return Err((w, "expected discard, discard=once or discard=pages")),
                    }
            }
            _ => match mount_flag(w) {
                Some((bits, true)) => o.flags |= bits,
                Some((bits, false)) => o.flags &= !bits,
                None => {
                    let at = o.data_len + usize::from(o.data_len > 0);
                    let dst = data
                        .get_mut(at..at + w.len())
                        .ok_or((w, "the options are too long"))?;
                    dst.copy_from_slice(w.as_bytes());
                    if let Some(comma) = at.checked_sub(1).and_then(|i| data.get_mut(i)) {
                        *comma = b',';
                    }
                    o.data_len = at + w.len();
                }
            },
        }
    }
    Ok(o)
}

/// Decodes fstab's and /proc/mounts' octal escapes (`\040` for a space,
/// `\011` tab, `\012` newline, `\134` backslash) into `out`.
pub(crate) fn unescape<'b>(raw: &[u8], out: &'b mut [u8]) -> Option<&'b str> {
    let mut n = 0;
    let mut i = 0;
    while i < raw.len() {
        let b = *raw.get(i)?;
        let (byte, used) = match (b, raw.get(i + 1..i + 4)) {
            (b'\\', Some(oct)) if oct.iter().all(|c| (b'0'..=b'7').contains(c)) => {
                let v = oct.iter().fold(0u32, |a, c| a * 8 + u32::from(c - b'0'));
                (v as u8, 4)
            }
            _ => (b, 1),
        };
        *out.get_mut(n)? = byte;
        n += 1;
        i += used;
    }
    core::str::from_utf8(out.get(..n)?).ok()
}

/// The `/dev/disk/by-*` link udev makes for a tag (`UUID=`, `LABEL=`,
/// `PARTUUID=`, `PARTLABEL=`), or the decoded SPEC itself. A label is
/// encoded as udev encodes it (`\x20` for a space, `\x2f` for `/`).
/// `None`: too long (or not UTF-8).
pub(crate) fn source<'b>(spec: &[u8], out: &'b mut [u8; PATH_MAX]) -> Option<&'b str> {
    const TAGS: [(&[u8], &str, bool); 4] = [
        (b"UUID=", "/dev/disk/by-uuid/", false),
        (b"LABEL=", "/dev/disk/by-label/", true),
        (b"PARTUUID=", "/dev/disk/by-partuuid/", false),
        (b"PARTLABEL=", "/dev/disk/by-partlabel/", true),
    ];
    let Some((value, dir, label)) = TAGS
        .iter()
        .find_map(|(tag, dir, label)| Some((spec.strip_prefix(*tag)?, dir, *label)))
    else {
        return unescape(spec, out);
    };
    let mut raw = [0u8; PATH_MAX];
    let value = unescape(value, &mut raw)?.as_bytes();
    let mut n = 0;
    let mut put = |b: u8| -> Option<()> {
        *out.get_mut(n)? = b;
        n += 1;
        Some(())
    };
    dir.bytes().try_for_each(&mut put)?;
    for &b in value {
        let safe = b.is_ascii_alphanumeric() || b"#+-.:=@_".contains(&b) || b >= 0x80;
        if !label || safe {
            put(b)?;
        } else {
            let hex = |d: u8| if d < 10 { b'0' + d } else { b'a' + d - 10 };
            for c in [b'\\', b'x', hex(b >> 4), hex(b & 15)] {
                put(c)?;
            }
        }
    }
    core::str::from_utf8(out.get(..n)?).ok()
}

/// A `UUID=`, `LABEL=`, `PARTUUID=` or `PARTLABEL=` SPEC.
fn tagged(spec: &[u8]) -> bool {
    [&b"UUID="[..], b"LABEL=", b"PARTUUID=", b"PARTLABEL="]
        .iter()
        .any(|t| spec.starts_with(t))
}

/// Where the symlink `link` points (`target`, as readlink gives it:
/// udev's `../../vda1`), as an absolute path without `.` and `..`: the
/// device's own name, which /proc/mounts then shows, as with mount(8).
pub(crate) fn resolve<'b>(
    link: &str,
    target: &[u8],
    out: &'b mut [u8; PATH_MAX],
) -> Option<&'b str> {
    let dir = link.rsplit_once('/').map_or("", |(d, _)| d).as_bytes();
    let start: &[u8] = if target.starts_with(b"/") { b"" } else { dir };
    let mut n = 0;
    for part in start
        .split(|&b| b == b'/')
        .chain(target.split(|&b| b == b'/'))
        .filter(|p| !p.is_empty() && *p != b".")
    {
        if part == b".." {
            let cut = out.get(..n)?.iter().rposition(|&b| b == b'/').unwrap_or(0);
            n = cut;
            continue;
        }
        *out.get_mut(n)? = b'/';
        out.get_mut(n + 1..n + 1 + part.len())?
            .copy_from_slice(part);
        n += 1 + part.len();
    }
    if n == 0 {
        *out.get_mut(0)? = b'/';
        n = 1;
    }
    core::str::from_utf8(out.get(..n)?).ok()
}

/// What a file's entries came to, for the summary line.
#[derive(Default)]
struct Counts {
    mounted: u32,
    swaps: u32,
    already: u32,
    skipped: u32,
    failed: u32,
    nofail: u32,
}

/// One entry's place, for its messages.
struct At<'p> {
    file: &'p str,
    line: u32,
    nofail: bool,
}

impl At<'_> {
    /// `FILE:LINE: unable to VERB: ERR`, counted as failed (or nofail).
    fn failed(&self, n: &mut Counts, what: Filled<'_>, e: Why) {
        if self.nofail {
            n.nofail += 1;
            say!(
                "{}:{}: unable to {}: {} (nofail: going on)",
                self.file,
                self.line,
                what,
                e
            );
        } else {
            n.failed += 1;
            say!("{}:{}: unable to {}: {}", self.file, self.line, what, e);
        }
    }
}

/// Applies the fstab at `path`.
pub(crate) fn apply(path: &str) {
    let lines = match Lines::open(path) {
        Ok(l) => l,
        Err(e) => {
            say!("fstab {}: unable to read it: {}", path, Why(e));
            return;
        }
    };
    let mut n = Counts::default();
    let mut line = 0u32;
    let r = lines.each_of::<FILE_LINE_MAX>(|l| {
        line += 1;
        match l {
            Some(text) => entry(path, line, text, &mut n),
            None => {
                n.failed += 1;
                say!(
                    "{}:{}: line longer than {} bytes (the limit); skipped",
                    path,
                    line,
                    FILE_LINE_MAX - 1
                );
            }
        }
        true
    });
    if let Err(e) = r {
        say!("fstab {}: unable to read it: {}", path, Name(e));
    }
    say!(
        "fstab {}: {} mounted, {} swaps on, {} already mounted, {} skipped, {} failed, {} failed with nofail",
        path,
        n.mounted,
        n.swaps,
        n.already,
        n.skipped,
        n.failed,
        n.nofail
    );
}

fn entry(path: &str, line: u32, text: &[u8], n: &mut Counts) {
    let e = match parse_line(text) {
        Ok(Some(e)) => e,
        Ok(None) => return,
        Err(why) => {
            n.failed += 1;
            say!("{}:{}: {}; line skipped", path, line, why);
            return;
        }
    };
    let is_swap = e.fstype == "swap";
    let mut data = [0u8; FILE_LINE_MAX];
    // The last byte stays 0: the data is NUL-terminated.
    let o = match options(
        e.opts,
        is_swap,
        data.get_mut(..FILE_LINE_MAX - 1).unwrap_or(&mut []),
    ) {
        Ok(o) => o,
        Err((word, why)) => {
            n.failed += 1;
            say!(
                "{}:{}: option '{}': {}; line skipped",
                path,
                line,
                word,
                why
            );
            return;
        }
    };
    let data = data
        .get(..=o.data_len)
        .and_then(|d| CStr::from_bytes_with_nul(d).ok())
        .unwrap_or(c"");
    let at = At {
        file: path,
        line,
        nofail: o.nofail,
    };
    let mut tbuf = [0u8; PATH_MAX];
    let Some(target) = unescape(e.file, &mut tbuf) else {
        return at.failed(n, filled!("read the mount point"), Why(Errno::NAMETOOLONG));
    };
    let spec = core::str::from_utf8(e.spec).unwrap_or("?");
    if target == "/" {
        return root(&at, spec, &e, &o, data, n);
    }
    if o.noauto {
        return;
    }
    if !is_swap && !target.starts_with('/') {
        n.failed += 1;
        say!(
            "{}:{}: the mount point {} is not an absolute path; line skipped",
            path,
            line,
            target
        );
        return;
    }
    let (mut sbuf, mut tbuf2) = ([0u8; PATH_MAX], [0u8; PATH_MAX]);
    let Some(src) = source(e.spec, &mut sbuf) else {
        return at.failed(n, filled!("read {}", spec), Why(Errno::NAMETOOLONG));
    };
    let mut lbuf = [0u8; PATH_MAX];
    let src = match tagged(e.spec) {
        false => src,
        true => match path::with(src, |s| fs::readlinkat_raw(fs::CWD, s, &mut lbuf[..])) {
            Ok(len) => match lbuf.get(..len).and_then(|t| resolve(src, t, &mut tbuf2)) {
                Some(dev) => dev,
                None => return at.failed(n, filled!("follow {}", src), Why(Errno::NAMETOOLONG)),
            },
            Err(err) => {
                let why = match fs::stat(c"/dev/disk") {
                    Err(_) => "no /dev/disk: no udev has made its links; name the device instead",
                    Ok(_) => "no such link",
                };
                return at.failed(n, filled!("find {} ({}: {})", spec, src, why), Why(err));
            }
        },
    };
    if is_swap {
        let r = path::with(src, |p| sys::swapon(p, o.swap));
        match r {
            Ok(()) => n.swaps += 1,
            Err(Errno::BUSY) => n.already += 1,
            Err(err) => at.failed(n, filled!("turn on swap {}", spec), Why(err)),
        }
        return;
    }
    if o.netdev || NETWORK_FS.contains(&e.fstype) {
        n.skipped += 1;
        say!(
            "{}:{}: {} on {} needs the network: not mounted at boot (mount it from a task after the network, e.g. /bin/mount -a -O _netdev)",
            path, line, spec, target
        );
        return;
    }
    if e.fstype == "auto" {
        let e = Why(Errno::INVAL);
        return at.failed(
            n,
            filled!(
                "mount {} on {}: type auto (pinit does not probe; name the file system type)",
                spec,
                target
            ),
            e,
        );
    }
    if o.flags & MS_REMOUNT == 0 && mounts::is_mount_point(target) {
        n.already += 1;
        return;
    }
    if let Err(err) = mount_point(target, src, o.flags & MS_BIND != 0) {
        return at.failed(n, filled!("create the mount point {}", target), Why(err));
    }
    match mount(src, target, e.fstype, o.flags, data) {
        Ok(()) => n.mounted += 1,
        Err(err) => at.failed(
            n,
            filled!("mount {} on {} ({})", spec, target, e.fstype),
            Why(err),
        ),
    }
}

/// The root's entry: remounted with its options, unless / is an
/// initramfs (there is nothing to remount: say so).
fn root(at: &At<'_>, spec: &str, e: &Entry<'_>, o: &Opts, data: &CStr, n: &mut Counts) {
    if let Ok(st) = fs::statfs(c"/") {
        let kind = st.f_type as u32;
        if kind == RAMFS_MAGIC || kind == TMPFS_MAGIC {
            n.skipped += 1;
            say!(
                "{}:{}: / is an initramfs, not {}: not remounted (it stays writable; switch_root to {} before pinit to run from it)",
                at.file, at.line, spec, spec
            );
            return;
        }
    }
    let flags = o.flags & !(MS_BIND | MS_REC | PROPAGATION);
    match rustix::mount::mount_remount(c"/", MountFlags::from_bits_retain(flags), data) {
        Ok(()) => {
            n.mounted += 1;
            say!(
                "{}:{}: / remounted {} ({})",
                at.file,
                at.line,
                if flags & MS_RDONLY != 0 {
                    "read-only"
                } else {
                    "read-write"
                },
                e.opts
            );
        }
        Err(err) => at.failed(n, filled!("remount / ({})", e.opts), Why(err)),
    }
}

/// Makes a missing mount point: its directories, or for a bind mount of
/// a file, an empty file.
fn mount_point(target: &str, src: &str, bind: bool) -> Result<(), Errno> {
    if path::stat(target).is_ok() {
        return Ok(());
    }
    let file = bind
        && path::stat(src).is_ok_and(|s| FileType::from_raw_mode(s.st_mode) != FileType::Directory);
    if !file {
        return mounts::make_dirs(target);
    }
    if let Some((dir, _)) = target.rsplit_once('/').filter(|(d, _)| !d.is_empty()) {
        mounts::make_dirs(dir)?;
    }
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
    path::open(target, flags, Mode::from_raw_mode(0o644)).map(drop)
}

/// mount(2), then what the kernel takes only in calls of their own: the
/// flags of a bind mount (a remount), the propagation.
fn mount(src: &str, target: &str, fstype: &str, flags: u32, data: &CStr) -> Result<(), Errno> {
    let opt = (!data.is_empty()).then_some(data);
    let first = MountFlags::from_bits_retain(flags & !PROPAGATION);
    path::mount(src, target, fstype, first, opt)?;
    if flags & MS_BIND != 0 && flags & PER_MOUNT != 0 {
        let again = MS_REMOUNT | MS_BIND | (flags & PER_MOUNT);
        path::mount("", target, "", MountFlags::from_bits_retain(again), None)?;
    }
    if flags & PROPAGATION != 0 {
        let p = flags & (PROPAGATION | MS_REC);
        path::mount("", target, "", MountFlags::from_bits_retain(p), None)?;
    }
    Ok(())
}

/// Shutdown: every swap of /proc/swaps turned off, so that the file
/// systems holding swap files can be unmounted.
pub(crate) fn swaps_off() {
    let lines = match Lines::open("/proc/swaps") {
        Ok(l) => l,
        Err(Errno::NOENT) => return, // a kernel without swap
        Err(e) => {
            say!("shutdown: unable to read /proc/swaps: {}", Why(e));
            return;
        }
    };
    let _ = lines.each(|line| {
        // "Filename Type Size Used Priority": the header's first word
        // is not a path.
        let Some(raw) = line.split(|&b| b == b' ' || b == b'\t').next() else {
            return true;
        };
        let mut buf = [0u8; PATH_MAX + 1];
        let Some(path) = unescape(raw, &mut buf[..PATH_MAX]).filter(|p| p.starts_with('/')) else {
            return true;
        };
        match path::with(path, sys::swapoff) {
            Ok(()) => say!("shutdown: swap {} off", path),
            Err(e) => say!("shutdown: unable to turn off swap {}: {}", path, Name(e)),
        }
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;

    fn entry(line: &str) -> Result<Option<Entry<'_>>, &'static str> {
        parse_line(line.as_bytes())
    }

    #[test]
    fn lines() {
        assert_eq!(entry(""), Ok(None));
        assert_eq!(entry("   \t "), Ok(None));
        assert_eq!(entry("# a comment"), Ok(None));
        assert_eq!(entry("  #indented"), Ok(None));
        let e = entry("UUID=1234-ab /  ext4\terrors=remount-ro 0 1")
            .unwrap()
            .unwrap();
        assert_eq!(e.spec, b"UUID=1234-ab");
        assert_eq!(e.file, b"/");
        assert_eq!(e.fstype, "ext4");
        assert_eq!(e.opts, "errors=remount-ro");
        let e = entry("tmpfs /tmp tmpfs\r").unwrap().unwrap();
        assert_eq!(e.opts, "defaults");
        assert_eq!(e.fstype, "tmpfs");
        assert!(entry("/dev/sda1 /mnt").is_err());
        assert!(entry("/dev/sda1 /mnt ext4 defaults 0 1 9").is_err());
        assert!(entry("/dev/sda1 /mnt ext4 defaults x").is_err());
        assert!(entry("/dev/sda1 /mnt ext4 defaults 0").unwrap().is_some());
    }

    fn opts(o: &str, swap: bool) -> (Opts, String) {
        let mut data = [0u8; 64];
        let r = options(o, swap, &mut data).unwrap();
        (r, String::from_utf8(data[..r.data_len].to_vec()).unwrap())
    }

    #[test]
    fn option_words() {
        let (o, d) = opts("defaults", false);
        assert_eq!((o, d.as_str()), (Opts::default(), ""));
        let (o, d) = opts(
            "rw,noatime,nodev,errors=remount-ro,x-systemd.device-timeout=5,comment=hi,commit=60",
            false,
        );
        assert_eq!(o.flags, 1024 | 4);
        assert_eq!(d, "errors=remount-ro,commit=60");
        let (o, _) = opts("ro,rw", false);
        assert_eq!(o.flags, 0);
        let (o, _) = opts("noauto,nofail,_netdev,auto,nouser", false);
        assert!(o.noauto && o.nofail && o.netdev);
        // mount(8): user implies noexec,nosuid,nodev, a later word overrides.
        assert_eq!(opts("user", false).0.flags, 2 | 4 | 8);
        assert_eq!(opts("users,exec", false).0.flags, 2 | 4);
        assert_eq!(opts("owner", false).0.flags, 2 | 4);
        assert_eq!(opts("bind,ro", false).0.flags, 4096 | 1);
        assert_eq!(opts("rbind", false).0.flags, 4096 | 16384);
        assert_eq!(
            opts("relatime,strictatime,sync", false).0.flags,
            (1 << 21) | (1 << 24) | 16
        );
        assert_eq!(opts("remount,rw", false).0.flags, 32);
    }

    #[test]
    fn swap_words() {
        let (o, d) = opts("sw,pri=5,discard=once", true);
        assert_eq!(
            o.swap,
            swap::PREFER | 5 | swap::DISCARD | swap::DISCARD_ONCE
        );
        assert_eq!(d, "");
        assert_eq!(opts("discard", true).0.swap, swap::DISCARD);
        // Not a swap: the file system's own words.
        let (o, d) = opts("discard,pri=5", false);
        assert_eq!((o.swap, d.as_str()), (0, "discard,pri=5"));
        let mut data = [0u8; 64];
        assert_eq!(
            options("pri=40000", true, &mut data).unwrap_err().0,
            "pri=40000"
        );
        assert_eq!(
            options("discard=some", true, &mut data).unwrap_err().0,
            "discard=some"
        );
        assert_eq!(
            options("defaults,loop", false, &mut data).unwrap_err().0,
            "loop"
        );
        let mut small = [0u8; 8];
        assert!(options("size=16M,mode=1777", false, &mut small).is_err());
    }

    #[test]
    fn udev_links_resolve_to_the_device() {
        let r = |link: &str, t: &str| {
            let mut b = [0u8; PATH_MAX];
            resolve(link, t.as_bytes(), &mut b).map(String::from)
        };
        assert_eq!(
            r("/dev/disk/by-uuid/0a1b", "../../nvme0n1").as_deref(),
            Some("/dev/nvme0n1")
        );
        assert_eq!(
            r("/dev/disk/by-label/x", "./../../vda1").as_deref(),
            Some("/dev/vda1")
        );
        assert_eq!(
            r("/dev/disk/by-uuid/0a1b", "/dev/mapper/root").as_deref(),
            Some("/dev/mapper/root")
        );
        assert_eq!(r("/a/b", "../../../..").as_deref(), Some("/"));
        assert!(tagged(b"UUID=x") && tagged(b"PARTLABEL=y") && !tagged(b"/dev/uuid=x"));
    }

    #[test]
    fn escapes_and_tags() {
        let mut b = [0u8; PATH_MAX];
        assert_eq!(unescape(b"/srv/my\\040disk", &mut b), Some("/srv/my disk"));
        let mut b = [0u8; PATH_MAX];
        assert_eq!(unescape(b"/x\\", &mut b), Some("/x\\"));
        let mut b = [0u8; 4];
        assert_eq!(unescape(b"/long", &mut b), None);
        let mut b = [0u8; PATH_MAX];
        assert_eq!(source(b"/dev/vda1", &mut b), Some("/dev/vda1"));
        let mut b = [0u8; PATH_MAX];
        assert_eq!(
            source(b"UUID=0a1b-2c3d", &mut b),
            Some("/dev/disk/by-uuid/0a1b-2c3d")
        );
        let mut b = [0u8; PATH_MAX];
        assert_eq!(
            source(b"PARTUUID=abc-02", &mut b),
            Some("/dev/disk/by-partuuid/abc-02")
        );
        // udev's encoding of a label: a space is \x20, a slash \x2f.
        let mut b = [0u8; PATH_MAX];
        assert_eq!(
            source(b"LABEL=my\\040data/x", &mut b),
            Some("/dev/disk/by-label/my\\x20data\\x2fx")
        );
        let mut b = [0u8; PATH_MAX];
        assert_eq!(
            source(b"PARTLABEL=root", &mut b),
            Some("/dev/disk/by-partlabel/root")
        );
    }
}
