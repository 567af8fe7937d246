//! User and group names from /etc/passwd and /etc/group, read line by
//! line through a small buffer: no heap, no NSS.

use crate::sys::file::Lines;
use rustix::io::Errno;

/// A user's ids.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct User {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// Most supplementary groups a unit gets, from `groups=` or from the
/// memberships of its `user=`: the table's one limit, so a unit that
/// would get more is refused with an error, never cut short.
pub(crate) use crate::table::capacity::GROUPS_MAX;

/// `name` or a number.
fn number(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |a, &b| {
        a.checked_mul(10)?.checked_add((b - b'0') as u32)
    })
}

fn field(line: &[u8], i: usize) -> Option<&[u8]> {
    line.split(|&b| b == b':').nth(i)
}

/// Looks a user up by name (or takes a number as the uid, gid = uid).
pub(crate) fn user(name: &[u8], passwd: &str) -> Result<User, Errno> {
    let mut found = None;
    Lines::open(passwd)?.each(|line| {
        if field(line, 0) == Some(name) {
            let uid = field(line, 2).and_then(number);
            let gid = field(line, 3).and_then(number);
            if let (Some(uid), Some(gid)) = (uid, gid) {
                found = Some(User { uid, gid });
                return false;
            }
        }
        true
    })?;
    match (found, number(name)) {
        (Some(u), _) => Ok(u),
        (None, Some(n)) => Ok(User { uid: n, gid: n }),
        (None, None) => Err(Errno::NOENT),
    }
}

/// Looks a group up by name (or takes a number).
pub(crate) fn group(name: &[u8], groupfile: &str) -> Result<u32, Errno> {
    if let Some(n) = number(name) {
        return Ok(n);
    }
    let mut found = None;
    Lines::open(groupfile)?.each(|line| {
        if field(line, 0) == Some(name) {
            found = field(line, 2).and_then(number);
            return found.is_none();
        }
        true
    })?;
    found.ok_or(Errno::NOENT)
}

/// The groups of /etc/group that list `user` as a member (initgroups
/// without NSS), after `primary`; `Err(TOOBIG)` if they do not fit in
/// `out`.
pub(crate) fn member_groups(
    user: &[u8],
    primary: u32,
    groupfile: &str,
    out: &mut [u32],
) -> Result<usize, Errno> {
    let mut n = 0;
    let mut full = false;
    if let Some(slot) = out.get_mut(0) {
        *slot = primary;
        n = 1;
    }
    let r = Lines::open(groupfile).and_then(|l| {
        l.each(|line| {
            let members = field(line, 3).unwrap_or(&[]);
            if members.split(|&b| b == b',').any(|m| m == user) {
                if let Some(gid) = field(line, 2).and_then(number) {
                    if gid != primary {
                        match out.get_mut(n) {
                            Some(slot) => {
                                *slot = gid;
                                n += 1;
                            }
                            None => full = true,
                        }
                    }
                }
            }
            !full
        })
    });
    // An unreadable /etc/group leaves the primary group alone.
    let _ = r;
    if full {
        Err(Errno::TOOBIG)
    } else {
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    fn file(name: &str, text: &str) -> std::string::String {
        let p = std::env::temp_dir().join(format!("pinit-{}-{}", name, std::process::id()));
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().into()
    }

    #[test]
    fn users_by_name_and_number() {
        let p = file("passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:100::/home/app:/bin/sh\nbad:x:zz:1::/:/bin/sh\n");
        assert_eq!(
            user(b"app", &p),
            Ok(User {
                uid: 1000,
                gid: 100
            })
        );
        assert_eq!(user(b"root", &p), Ok(User { uid: 0, gid: 0 }));
        assert_eq!(
            user(b"4242", &p),
            Ok(User {
                uid: 4242,
                gid: 4242
            })
        );
        assert_eq!(user(b"bad", &p), Err(Errno::NOENT));
        assert_eq!(user(b"nobody", &p), Err(Errno::NOENT));
        assert_eq!(user(b"app", "/nonexistent/passwd"), Err(Errno::NOENT));
    }

    #[test]
    fn groups() {
        let p = file("group", "root:x:0:\nwheel:x:10:app\n");
        assert_eq!(group(b"wheel", &p), Ok(10));
        assert_eq!(group(b"77", &p), Ok(77));
        assert_eq!(group(b"audio", &p), Err(Errno::NOENT));
    }

    #[test]
    fn memberships() {
        let p = file(
            "group2",
            "root:x:0:\nwheel:x:10:app,bob\naudio:x:29:bob,app\napp:x:100:\n",
        );
        let mut out = [0u32; 8];
        let n = member_groups(b"app", 100, &p, &mut out).unwrap();
        assert_eq!(&out[..n], &[100, 10, 29]);
        let mut three = [0u32; 3];
        assert_eq!(member_groups(b"app", 100, &p, &mut three), Ok(3));
        let mut two = [0u32; 2];
        assert_eq!(member_groups(b"app", 100, &p, &mut two), Err(Errno::TOOBIG));
        let mut none = [0u32; 2];
        assert_eq!(member_groups(b"app", 100, "/nonexistent", &mut none), Ok(1));
    }

    #[test]
    fn numbers() {
        assert_eq!(number(b"0"), Some(0));
        assert_eq!(number(b"4294967295"), Some(u32::MAX));
        assert_eq!(number(b"4294967296"), None);
        assert_eq!(number(b""), None);
        assert_eq!(number(b"1a"), None);
    }
}
