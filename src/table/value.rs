//! Value syntax (docs/config.md, "Values"): durations, sizes, CPU and node
//! lists, signals, octal modes, numbers. Each parser takes the plain
//! text of a value and either returns it typed or says why not.

use super::capacity::{CPUS_MAX, MASK_WORDS, NAME_MAX};
use crate::put::{Put, Sink};
use core::fmt;

/// `s` split at its first byte `sep`. (Byte helpers, not `str`
/// patterns: one small copy of the code instead of one per call site.)
#[inline(never)]
pub(crate) fn cut(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The part of `s` before its first `sep` (all of it if none).
pub(crate) fn head(s: &str, sep: u8) -> &str {
    cut(s, sep).map_or(s, |(h, _)| h)
}

/// True if `s` holds byte `b`.
#[inline(never)]
pub(crate) fn has(s: &str, b: u8) -> bool {
    s.bytes().any(|c| c == b)
}

/// The entries of a comma list (`a,b,,c` gives an empty one).
pub(crate) fn items(s: &str) -> Items<'_> {
    Items(Some(s), b',')
}

/// The entries of a list separated by `sep`.
pub(crate) fn items_by(s: &str, sep: u8) -> Items<'_> {
    Items(Some(s), sep)
}

/// Iterator of `items`.
#[derive(Clone)]
pub(crate) struct Items<'a>(Option<&'a str>, u8);

impl<'a> Iterator for Items<'a> {
    type Item = &'a str;
    #[inline(never)]
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0?;
        match cut(rest, self.1) {
            Some((item, more)) => {
                self.0 = Some(more);
                Some(item)
            }
            None => {
                self.0 = None;
                Some(rest)
            }
        }
    }
}

/// Why a value was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Bad {
    /// Not the expected syntax.
    Syntax,
    /// Well-formed but too large (or out of the allowed range).
    Range,
}

/// Milliseconds: every duration of the table (up to 49 days).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub struct Millis(pub u32);

impl Put for Millis {
    /// The largest exact unit: `0`, `250ms`, `5s`, `2m`, `1h`.
    fn put(&self, s: &mut dyn Sink) {
        let ms = self.0;
        let (n, unit) = if ms == 0 {
            (0, "")
        } else if ms.is_multiple_of(3_600_000) {
            (ms / 3_600_000, "h")
        } else if ms.is_multiple_of(60_000) {
            (ms / 60_000, "m")
        } else if ms.is_multiple_of(1000) {
            (ms / 1000, "s")
        } else {
            (ms, "ms")
        };
        crate::fill!(s, "{}{}", n, unit);
    }
}

crate::display_by_put!(Millis, Mask);

/// Digits only, no sign; `None` on overflow.
pub(crate) fn uint(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// An optional `-` and digits.
pub(crate) fn int(s: &str) -> Option<i64> {
    match s.strip_prefix('-') {
        Some(d) => uint(d).and_then(|n| i64::try_from(n).ok()).map(|n| -n),
        None => uint(s).and_then(|n| i64::try_from(n).ok()),
    }
}

/// A number in `lo..=hi`: `Syntax` if not a number, `Range` if outside.
pub(crate) fn int_in(s: &str, lo: i64, hi: i64) -> Result<i64, Bad> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Bad::Syntax);
    }
    match int(s) {
        Some(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(Bad::Range),
    }
}

/// DURATION: `250ms`, `5s`, `2m`, `1h`; a bare number is seconds.
pub(crate) fn duration(s: &str) -> Result<Millis, Bad> {
    let split = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (num, unit) = s.split_at_checked(split).ok_or(Bad::Syntax)?;
    let scale: u64 = match unit {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(Bad::Syntax),
    };
    let n = uint(num).ok_or(Bad::Syntax)?;
    let ms = n.checked_mul(scale).ok_or(Bad::Range)?;
    u32::try_from(ms).map(Millis).map_err(|_| Bad::Range)
}

/// Largest SIZE accepted (1 EiB): leaves room for the sentinels of
/// `Limit` and for the kernel's own rounding.
pub(crate) const SIZE_MAX: u64 = 1 << 60;

/// SIZE: `4096`, `512K`, `64M`, `1G`, `2T` (powers of 1024). `max` is
/// for the caller to accept or not.
pub(crate) fn size(s: &str) -> Result<u64, Bad> {
    let (num, shift) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (s.get(..s.len() - 1), 10),
        Some(b'M') => (s.get(..s.len() - 1), 20),
        Some(b'G') => (s.get(..s.len() - 1), 30),
        Some(b'T') => (s.get(..s.len() - 1), 40),
        _ => (Some(s), 0),
    };
    let n = num.and_then(uint).ok_or(Bad::Syntax)?;
    match n.checked_mul(1 << shift) {
        Some(v) if v <= SIZE_MAX => Ok(v),
        _ => Err(Bad::Range),
    }
}

/// Prints a byte count with the largest exact suffix (`64M`, `4097`).
pub(crate) struct Bytes(pub(crate) u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (shift, suffix) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
            if n != 0 && n.is_multiple_of(1u64 << shift) {
                return write!(f, "{}{}", n >> shift, suffix);
            }
        }
        write!(f, "{}", n)
    }
}

/// A set of CPUs or NUMA nodes: bit N is CPU (node) N. The layout of the
/// kernel's `cpu_set_t` and `nodemask_t` on 64-bit machines.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Mask(pub(crate) [u64; MASK_WORDS]);

impl Default for Mask {
    fn default() -> Self {
        Mask::EMPTY
    }
}

impl Mask {
    pub(crate) const EMPTY: Mask = Mask([0; MASK_WORDS]);

    /// Adds `n`; false if `n` is beyond the mask.
    pub fn set(&mut self, n: usize) -> bool {
        match self.0.get_mut(n / 64) {
            Some(w) => {
                *w |= 1 << (n % 64);
                true
            }
            None => false,
        }
    }

    pub fn has(&self, n: usize) -> bool {
        self.0.get(n / 64).is_some_and(|w| w & (1 << (n % 64)) != 0)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// True if every member of `self` is in `other`.
    pub(crate) fn is_subset(&self, other: &Mask) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| a & !b == 0)
    }

    pub(crate) fn union(&mut self, other: &Mask) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }

    /// The words up to the highest non-zero one (what the kernel needs).
    pub fn words(&self) -> &[u64] {
        let n = self.0.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1);
        self.0.get(..n).unwrap_or(&[])
    }

    /// The members, lowest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..CPUS_MAX).filter(move |&n| self.has(n))
    }
}

impl Put for Mask {
    /// The kernel's list format: `0-3,6,8-9`.
    fn put(&self, s: &mut dyn Sink) {
        let mut first = true;
        let mut n = 0;
        while n < CPUS_MAX {
            if !self.has(n) {
                n += 1;
                continue;
            }
            let mut end = n;
            while end + 1 < CPUS_MAX && self.has(end + 1) {
                end += 1;
            }
            if !first {
                s.str(",");
            }
            first = false;
            if end == n {
                n.put(s);
            } else {
                crate::fill!(s, "{}-{}", n, end);
            }
            n = end + 1;
        }
    }
}

/// Why a CPU or node list was refused, with the byte offset of the
/// offending item in the list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ListError {
    /// Not `N`, `N-M` items separated by commas.
    Syntax,
    /// A number at or above `CPUS_MAX`.
    TooBig(u64),
    /// `N-M` with M < N.
    Backwards,
}

/// Checks a CPU or node list (`0-3,6,8-9`) and returns its mask.
#[inline(never)]
pub(crate) fn list(s: &str) -> Result<Mask, (usize, ListError)> {
    let mut mask = Mask::EMPTY;
    let mut at = 0;
    for item in items(s) {
        let (lo, hi) = match cut(item, b'-') {
            Some((a, b)) => (a, b),
            None => (item, item),
        };
        let (lo, hi) = match (uint(lo), uint(hi)) {
            (Some(l), Some(h)) => (l, h),
            _ => return Err((at, ListError::Syntax)),
        };
        for n in [lo, hi] {
            if n >= CPUS_MAX as u64 {
                return Err((at, ListError::TooBig(n)));
            }
        }
        if hi < lo {
            return Err((at, ListError::Backwards));
        }
        for n in lo..=hi {
            mask.set(n as usize);
        }
        at += item.len() + 1;
    }
    Ok(mask)
}

/// A checked CPU or node list, kept as written; `mask()` gives the bits.
/// (A mask is 128 bytes; the list is a 16-byte slice of the text.)
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CpuList<'a>(pub(crate) &'a str);

impl<'a> CpuList<'a> {
    /// The list as written (the kernel's cpuset files take it as is).
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    pub fn mask(&self) -> Mask {
        list(self.0).unwrap_or(Mask::EMPTY)
    }
}

/// Signal names, index = number (x86_64 and the generic numbering of
/// aarch64 agree on 1-31).
const SIGNALS: [&str; 32] = [
    "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// Highest signal number accepted (the kernel's _NSIG).
pub(crate) const SIG_MAX: u8 = 64;

/// SIG: `TERM`, `SIGTERM`, `term` or a number 1-64.
pub(crate) fn signal(s: &str) -> Option<u8> {
    if let Some(n) = uint(s) {
        return u8::try_from(n).ok().filter(|&n| (1..=SIG_MAX).contains(&n));
    }
    let name = match s.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("SIG") => s.get(3..)?,
        _ => s,
    };
    let alias = match name {
        n if n.eq_ignore_ascii_case("IOT") => "ABRT",
        n if n.eq_ignore_ascii_case("POLL") => "IO",
        n => n,
    };
    SIGNALS
        .iter()
        .position(|k| !k.is_empty() && k.eq_ignore_ascii_case(alias))
        .and_then(|i| u8::try_from(i).ok())
}

/// Known signal names, for hints.
pub(crate) fn signal_names() -> &'static [&'static str] {
    SIGNALS.get(1..).unwrap_or(&[])
}

/// Prints a signal number as its name (`TERM`) or number (`40`).
pub(crate) struct Sig(pub(crate) u8);

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SIGNALS.get(usize::from(self.0)) {
            Some(name) if !name.is_empty() => f.write_str(name),
            _ => write!(f, "{}", self.0),
        }
    }
}

/// OCTAL: 1 to 4 octal digits, at most 0777.
pub(crate) fn umask(s: &str) -> Option<u16> {
    mode(s).filter(|&v| v <= 0o777)
}

/// A file mode: 1 to 4 octal digits (`0750`, `1777`).
pub(crate) fn mode(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    Some(s.bytes().fold(0u16, |n, b| n * 8 + u16::from(b - b'0')))
}

/// A runtime directory's NAME: `/`-separated components of
/// `[A-Za-z0-9_.-]`, none empty, `.` or `..` (so it stays under /run).
pub(crate) fn is_run_dir(s: &str) -> bool {
    s.len() <= super::capacity::RUN_DIR_NAME_MAX
        && s.split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && c.bytes().all(is_name_char))
}

/// A unit name: 1 to NAME_MAX of `[A-Za-z0-9_.-]`, not `.` or `..`
/// (it names a cgroup directory).
pub(crate) fn is_unit_name(s: &str) -> bool {
    (1..=NAME_MAX).contains(&s.len()) && s.bytes().all(is_name_char) && s != "." && s != ".."
}

/// A byte of a unit name (and of a user or group name).
pub(crate) fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// A user or group: a name, or a number below 2^32-1 (-1 means "no
/// change" to setuid).
pub(crate) fn is_id(s: &str) -> bool {
    match uint(s) {
        Some(n) => n < u64::from(u32::MAX),
        None => !s.bytes().all(|b| b.is_ascii_digit()) && is_user(s),
    }
}

/// A user or group name as /etc/passwd holds them.
pub(crate) fn is_user(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= super::capacity::USER_MAX
        && !s.starts_with('-')
        && s.bytes().all(|b| is_name_char(b) || b == b'$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("250ms"), Ok(Millis(250)));
        assert_eq!(duration("5"), Ok(Millis(5000)));
        assert_eq!(duration("5s"), Ok(Millis(5000)));
        assert_eq!(duration("2m"), Ok(Millis(120_000)));
        assert_eq!(duration("1h"), Ok(Millis(3_600_000)));
        assert_eq!(duration("0"), Ok(Millis(0)));
        assert_eq!(duration("1.5s"), Err(Bad::Syntax));
        assert_eq!(duration("s"), Err(Bad::Syntax));
        assert_eq!(duration("5d"), Err(Bad::Syntax));
        assert_eq!(duration("-1"), Err(Bad::Syntax));
        assert_eq!(duration("2000h"), Err(Bad::Range));
        assert_eq!(duration("99999999999999999999999"), Err(Bad::Syntax));
        for ms in [0, 1, 999, 1000, 1500, 60_000, 90_000, 3_600_000, u32::MAX] {
            let s = Millis(ms).to_string();
            assert_eq!(duration(&s), Ok(Millis(ms)), "{}", s);
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(size("4096"), Ok(4096));
        assert_eq!(size("512K"), Ok(512 << 10));
        assert_eq!(size("64M"), Ok(64 << 20));
        assert_eq!(size("1G"), Ok(1 << 30));
        assert_eq!(size("2T"), Ok(2 << 40));
        assert_eq!(size("1P"), Err(Bad::Syntax));
        assert_eq!(size("M"), Err(Bad::Syntax));
        assert_eq!(size("2000000T"), Err(Bad::Range));
        assert_eq!(Bytes(64 << 20).to_string(), "64M");
        assert_eq!(Bytes(4097).to_string(), "4097");
        assert_eq!(Bytes(0).to_string(), "0");
    }

    #[test]
    fn lists() {
        let m = list("0-3,6,8-9").unwrap();
        assert_eq!(m.to_string(), "0-3,6,8-9");
        assert_eq!(m.words(), &[0b11_0100_1111]);
        assert_eq!(list("1024"), Err((0, ListError::TooBig(1024))));
        assert_eq!(list("0,3-1"), Err((2, ListError::Backwards)));
        assert_eq!(list("0,,1"), Err((2, ListError::Syntax)));
        assert_eq!(list(""), Err((0, ListError::Syntax)));
        assert_eq!(list("0-"), Err((0, ListError::Syntax)));
        assert_eq!(list("a"), Err((0, ListError::Syntax)));
        assert!(list("2").unwrap().is_subset(&list("0-3").unwrap()));
        assert!(!list("4").unwrap().is_subset(&list("0-3").unwrap()));
    }

    #[test]
    fn signals() {
        assert_eq!(signal("TERM"), Some(15));
        assert_eq!(signal("SIGTERM"), Some(15));
        assert_eq!(signal("sigterm"), Some(15));
        assert_eq!(signal("9"), Some(9));
        assert_eq!(signal("64"), Some(64));
        assert_eq!(signal("65"), None);
        assert_eq!(signal("0"), None);
        assert_eq!(signal("IOT"), Some(6));
        assert_eq!(signal("SIG"), None);
        assert_eq!(signal("TREM"), None);
        assert_eq!(Sig(10).to_string(), "USR1");
        assert_eq!(Sig(40).to_string(), "40");
    }

    #[test]
    fn small_values() {
        assert_eq!(umask("022"), Some(0o22));
        assert_eq!(umask("0777"), Some(0o777));
        assert_eq!(umask("1000"), None);
        assert_eq!(umask("8"), None);
        assert_eq!(int_in("-20", -20, 19), Ok(-20));
        assert_eq!(int_in("20", -20, 19), Err(Bad::Range));
        assert_eq!(int_in("x", -20, 19), Err(Bad::Syntax));
        assert_eq!(int_in("-", -20, 19), Err(Bad::Syntax));
        assert_eq!(int_in("99999999999999999999", 0, 9), Err(Bad::Range));
        assert!(is_user("www-data") && !is_user("-x") && !is_user("a b"));
    }
}
