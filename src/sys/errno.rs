//! Errno names for console messages: `ENOENT` says more to an engineer
//! than `2`, and costs a short table instead of libc's strerror strings.

use crate::put::{self, Put, Sink};
use rustix::io::Errno;

const NAMES: &[(Errno, &str)] = &[
    (Errno::PERM, "EPERM"),
    (Errno::NOENT, "ENOENT"),
    (Errno::SRCH, "ESRCH"),
    (Errno::INTR, "EINTR"),
    (Errno::IO, "EIO"),
    (Errno::NXIO, "ENXIO"),
    (Errno::TOOBIG, "E2BIG"),
    (Errno::NOEXEC, "ENOEXEC"),
    (Errno::BADF, "EBADF"),
    (Errno::CHILD, "ECHILD"),
    (Errno::AGAIN, "EAGAIN"),
    (Errno::NOMEM, "ENOMEM"),
    (Errno::ACCESS, "EACCES"),
    (Errno::FAULT, "EFAULT"),
    (Errno::BUSY, "EBUSY"),
    (Errno::EXIST, "EEXIST"),
    (Errno::NODEV, "ENODEV"),
    (Errno::NOTDIR, "ENOTDIR"),
    (Errno::ISDIR, "EISDIR"),
    (Errno::INVAL, "EINVAL"),
    (Errno::NFILE, "ENFILE"),
    (Errno::MFILE, "EMFILE"),
    (Errno::NOTTY, "ENOTTY"),
    (Errno::TXTBSY, "ETXTBSY"),
    (Errno::FBIG, "EFBIG"),
    (Errno::NOSPC, "ENOSPC"),
    (Errno::ROFS, "EROFS"),
    (Errno::PIPE, "EPIPE"),
    (Errno::RANGE, "ERANGE"),
    (Errno::NAMETOOLONG, "ENAMETOOLONG"),
    (Errno::NOSYS, "ENOSYS"),
    (Errno::NOTEMPTY, "ENOTEMPTY"),
    (Errno::LOOP, "ELOOP"),
    (Errno::OPNOTSUPP, "EOPNOTSUPP"),
    (Errno::ADDRINUSE, "EADDRINUSE"),
    (Errno::CONNREFUSED, "ECONNREFUSED"),
    (Errno::TIMEDOUT, "ETIMEDOUT"),
    (Errno::LIBBAD, "ELIBBAD"),
    (Errno::NOTCONN, "ENOTCONN"),
    (Errno::DQUOT, "EDQUOT"),
];

/// `ENOENT`, or `errno N` for one the table lacks.
pub(crate) struct Name(pub(crate) Errno);

impl Put for Name {
    fn put(&self, s: &mut dyn Sink) {
        match NAMES.iter().find(|(e, _)| *e == self.0) {
            Some((_, name)) => s.str(name),
            None => {
                s.str("errno ");
                put::signed(s, i64::from(self.0.raw_os_error()));
            }
        }
    }
}

crate::display_by_put!(Name);

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn names_known_and_unknown() {
        assert_eq!(Name(Errno::NOENT).to_string(), "ENOENT");
        assert_eq!(Name(Errno::from_raw_os_error(133)).to_string(), "errno 133");
    }
}
