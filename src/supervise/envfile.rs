//! `env-file=[-]PATH`: `KEY=VALUE` lines read into a unit's environment
//! at each start, in PID 1 before the fork (docs/config.md, "Environment
//! files"). Blank lines and `#` comments are skipped, `export ` before a
//! line is allowed, a value may be quoted as a whole ('...' as it is,
//! "..." with \" \\ \$ \` escapes); no expansion, no continuation. A
//! later entry of a KEY replaces an earlier one. A malformed file fails
//! the start with a line naming FILE:LINE, never more.

use crate::say;
use crate::sys::file::{Lines, Why};
use crate::table::{self, capacity::UNIT_ENV_MAX};
use rustix::io::Errno;

/// Longest line of an env file, its newline included.
pub(crate) const LINE_MAX: usize = 1024;

/// Reads every env file of `u` into `buf` as NUL-terminated `KEY=VALUE`
/// entries, one per KEY; returns the bytes used. Says what is wrong.
pub(crate) fn read(u: &table::Unit<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut env = Env { buf, len: 0 };
    for f in u.env_files() {
        let mut p = [0u8; 256];
        let Some(path) = f
            .path
            .decode(&mut p)
            .and_then(|b| core::str::from_utf8(b).ok())
        else {
            say!("{}: env-file {}: path too long", u.name, f.path.raw());
            return Err(Errno::NAMETOOLONG);
        };
        let lines = match Lines::open(path) {
            Ok(l) => l,
            Err(Errno::NOENT) if f.optional => continue,
            Err(e) => {
                say!("{}: unable to read env-file {}: {}", u.name, path, Why(e));
                return Err(e);
            }
        };
        let mut n = 0;
        let mut bad = None;
        lines
            .each_of::<LINE_MAX>(|line| {
                n += 1;
                let r = match line {
                    Some(l) => entry(l).and_then(|e| e.map_or(Ok(()), |(k, v)| env.put(k, v))),
                    None => Err("line longer than 1024 bytes"),
                };
                bad = r.err();
                bad.is_none()
            })
            .inspect_err(|&e| say!("{}: unable to read env-file {}: {}", u.name, path, Why(e)))?;
        if let Some(why) = bad {
            say!("{}: env-file {}:{}: {}; not started", u.name, path, n, why);
            return Err(Errno::INVAL);
        }
    }
    Ok(env.len)
}

/// The `KEY=VALUE` entries so far, in `buf[..len]`.
struct Env<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Env<'_> {
    /// Adds `KEY=VALUE` (VALUE decoded from `raw`), dropping an earlier
    /// entry of the same KEY.
    fn put(&mut self, key: &[u8], raw: Value<'_>) -> Result<(), &'static str> {
        if let Some((at, end)) = self.find(key) {
            self.buf.copy_within(end..self.len, at);
            self.len -= end - at;
        }
        if self.count() == UNIT_ENV_MAX {
            return Err("more than 16 entries (the limit of env=)");
        }
        const FULL: &str = "the environment is larger than 4096 bytes (the limit)";
        let mut n = self.len;
        for b in key.iter().copied().chain([b'=']).chain(raw.bytes()) {
            if b == 0 {
                return Err("NUL byte in the value");
            }
            *self.buf.get_mut(n).ok_or(FULL)? = b;
            n += 1;
        }
        *self.buf.get_mut(n).ok_or(FULL)? = 0;
        self.len = n + 1;
        Ok(())
    }

    /// The entry of `key`: its start and end (after its NUL).
    fn find(&self, key: &[u8]) -> Option<(usize, usize)> {
        let mut at = 0;
        for e in self.buf.get(..self.len)?.split_inclusive(|&b| b == 0) {
            if e.get(..key.len()) == Some(key) && e.get(key.len()) == Some(&b'=') {
                return Some((at, at + e.len()));
            }
            at += e.len();
        }
        None
    }

    fn count(&self) -> usize {
        self.buf
            .get(..self.len)
            .map_or(0, |b| b.iter().filter(|&&c| c == 0).count())
    }
}

/// A value as written after `=`: plain, or quoted as a whole.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Value<'l> {
    Plain(&'l [u8]),
    Single(&'l [u8]),
    Double(&'l [u8]),
}

impl<'l> Value<'l> {
    /// The value's bytes, quotes and escapes removed.
    fn bytes(self) -> impl Iterator<Item = u8> + 'l {
        let (s, escapes) = match self {
            Value::Plain(s) | Value::Single(s) => (s, false),
            Value::Double(s) => (s, true),
        };
        let mut i = 0;
        core::iter::from_fn(move || {
            let b = *s.get(i)?;
            i += 1;
            match (escapes, b, s.get(i)) {
                (true, b'\\', Some(&c @ (b'"' | b'\\' | b'$' | b'`'))) => {
                    i += 1;
                    Some(c)
                }
                _ => Some(b),
            }
        })
    }
}

/// One line: `None` for a blank line or a comment, else KEY and VALUE.
fn entry(line: &[u8]) -> Result<Option<(&[u8], Value<'_>)>, &'static str> {
    const EXPECT: &str = "expected KEY=VALUE (KEY of A-Z a-z 0-9 _, not starting with a digit)";
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.trim_ascii_start();
    if line.is_empty() || line.first() == Some(&b'#') {
        return Ok(None);
    }
    let line = match line.strip_prefix(b"export") {
        Some(rest) if rest.first().is_some_and(|b| *b == b' ' || *b == b'\t') => {
            rest.trim_ascii_start()
        }
        _ => line,
    };
    let eq = line.iter().position(|&b| b == b'=').ok_or(EXPECT)?;
    let (key, value) = (
        line.get(..eq).ok_or(EXPECT)?,
        line.get(eq + 1..).ok_or(EXPECT)?,
    );
    let key_ok = key
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if !key_ok {
        return Err(EXPECT);
    }
    let value = value.trim_ascii_end();
    let quoted = |q: u8| -> Result<&[u8], &'static str> {
        let inner = value.get(1..).ok_or("unterminated quote")?;
        let (last, body) = inner.split_last().ok_or("unterminated quote")?;
        let escaped = q == b'"' && body.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1;
        if *last != q || escaped {
            return Err("unterminated quote (a quoted value ends with its quote)");
        }
        Ok(body)
    };
    let v = match value.first() {
        Some(b'"') => Value::Double(quoted(b'"')?),
        Some(b'\'') => Value::Single(quoted(b'\'')?),
        _ => Value::Plain(value),
    };
    Ok(Some((key, v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn val(line: &str) -> Result<Option<(String, Vec<u8>)>, &'static str> {
        entry(line.as_bytes())
            .map(|e| e.map(|(k, v)| (String::from_utf8(k.to_vec()).unwrap(), v.bytes().collect())))
    }
    use std::string::String;

    #[test]
    fn lines() {
        let kv = |k: &str, v: &str| Ok(Some((String::from(k), v.as_bytes().to_vec())));
        assert_eq!(val("A=1"), kv("A", "1"));
        assert_eq!(val("  SSHD_OPTS="), kv("SSHD_OPTS", ""));
        assert_eq!(val("_x9=a b  \r"), kv("_x9", "a b"));
        assert_eq!(val("export PATH=/bin"), kv("PATH", "/bin"));
        assert_eq!(val("exportX=1"), kv("exportX", "1"));
        assert_eq!(val(r#"Q="a \"b\" \\ \$x \n""#), kv("Q", r#"a "b" \ $x \n"#));
        assert_eq!(val(r#"S='a \" b'"#), kv("S", r#"a \" b"#));
        assert_eq!(val("U=a\"b"), kv("U", "a\"b"));
        assert_eq!(val("E==x"), kv("E", "=x"));
        assert_eq!(val(""), Ok(None));
        assert_eq!(val("   "), Ok(None));
        assert_eq!(val("# A=1"), Ok(None));
        assert_eq!(val("  # x"), Ok(None));
        for bad in ["A", "1A=x", "A B=x", "=x", "A-B=1", "export", "A.B=1"] {
            assert!(
                val(bad).unwrap_err().starts_with("expected KEY=VALUE"),
                "{bad}"
            );
        }
        for bad in [r#"A="x"#, "A='x", r#"A="x\""#, r#"A=""#, "A='"] {
            assert!(
                val(bad).unwrap_err().starts_with("unterminated quote"),
                "{bad}"
            );
        }
    }

    #[test]
    fn later_keys_replace_earlier_ones() {
        let mut buf = [0u8; 64];
        let mut e = Env {
            buf: &mut buf,
            len: 0,
        };
        e.put(b"A", Value::Plain(b"1")).unwrap();
        e.put(b"AB", Value::Plain(b"2")).unwrap();
        e.put(b"A", Value::Double(b"3")).unwrap();
        assert_eq!(&e.buf[..e.len], b"AB=2\0A=3\0");
        assert_eq!(e.count(), 2);
        assert_eq!(
            e.put(b"B", Value::Plain(b"\0")),
            Err("NUL byte in the value")
        );
        let mut small = [0u8; 8];
        let mut e = Env {
            buf: &mut small,
            len: 0,
        };
        assert!(e
            .put(b"LONG", Value::Plain(b"value"))
            .unwrap_err()
            .starts_with("the environment"));
        let mut buf = [0u8; 512];
        let mut e = Env {
            buf: &mut buf,
            len: 0,
        };
        for k in 0..UNIT_ENV_MAX {
            e.put(&[b'A' + k as u8], Value::Plain(b"x")).unwrap();
        }
        assert_eq!(
            e.put(b"Z", Value::Plain(b"x")),
            Err("more than 16 entries (the limit of env=)")
        );
        e.put(b"A", Value::Plain(b"y")).unwrap();
    }
}
