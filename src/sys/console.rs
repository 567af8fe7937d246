//! pinit's own messages: one line each, `pinit: ...`, written in one
//! `write(2)` to fd 2 (the console when PID 1), formatted on the stack,
//! and copied to the kernel log (and syslog) once PID 1 has opened them
//! (sys/log.rs).

use core::fmt::{self, Write};

/// Longest message line; longer ones end in `...` so a cut is visible.
pub(crate) const CONSOLE_LINE_MAX: usize = 512;

/// A fixed buffer that `write!` can fill.
pub(crate) struct Line {
    buf: [u8; CONSOLE_LINE_MAX],
    len: usize,
    cut: bool,
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Line {
    pub(crate) const fn new() -> Line {
        Line {
            buf: [0; CONSOLE_LINE_MAX],
            len: 0,
            cut: false,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Ends the line with `\n` (and `...` if it was cut).
    pub(crate) fn finish(&mut self) -> &[u8] {
        if self.cut {
            self.len = self.len.min(CONSOLE_LINE_MAX - 4);
            let _ = self.put(b"...");
        }
        self.len = self.len.min(CONSOLE_LINE_MAX - 1);
        let _ = self.put(b"\n");
        self.as_bytes()
    }

    fn put(&mut self, s: &[u8]) -> bool {
        let room = CONSOLE_LINE_MAX - self.len;
        let n = s.len().min(room);
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..self.len + n), s.get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        n == s.len()
    }
}

impl crate::put::Sink for Line {
    fn str(&mut self, text: &str) {
        if !self.put(text.as_bytes()) {
            self.cut = true;
        }
    }
}

impl crate::put::Text for Line {
    fn fill(&mut self, text: &str, parts: &[&dyn crate::put::Put]) -> Result<(), crate::put::Full> {
        crate::put::fill(self, text, parts);
        if self.cut {
            Err(crate::put::Full)
        } else {
            Ok(())
        }
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !self.put(s.as_bytes()) {
            self.cut = true;
        }
        Ok(())
    }
}

/// Writes all of `bytes` to fd `fd`, retrying on EINTR and short writes.
pub(crate) fn write_all(fd: rustix::fd::BorrowedFd<'_>, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return,
            Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return,
        }
    }
}

/// Writes `pinit: <parts>\n` to stderr, and to the kernel log
/// (sys/log.rs).
#[inline(never)]
pub(crate) fn say(text: &str, parts: &[&dyn crate::put::Put]) {
    let mut line = Line::new();
    let _ = line.put(b"pinit: ");
    crate::put::fill(&mut line, text, parts);
    let bytes = line.finish();
    write_all(crate::sys::stdio(2), bytes);
    crate::sys::log::own_line(bytes);
}

/// `say!`'s entry: the pieces' count is in the type, so a call site
/// passes three registers, not four (one small copy of this per count).
#[inline(never)]
pub(crate) fn say_n<const N: usize>(text: &str, parts: &[&dyn crate::put::Put; N]) {
    say(text, parts);
}

/// Writes `<args>\n` to stdout, for command output.
pub(crate) fn out(args: fmt::Arguments<'_>) {
    let mut line = Line::new();
    let _ = line.write_fmt(args);
    write_all(crate::sys::stdio(1), line.finish());
}

/// `say!("unable to mount {}: {}", target, errno::Name(e))`: each piece
/// is `put::Put`, no `core::fmt` (src/put.rs).
#[macro_export]
macro_rules! say {
    // The text and a reference to the pieces, whose count is `say_n`'s
    // type: three registers at each of the ~260 call sites (a `Filled`
    // would be built on the stack).
    ($t:literal $(, $p:expr)* $(,)?) => {
        $crate::sys::console::say_n(
            $crate::holes!($t $(, $p)*),
            &[$(&$p as &dyn $crate::put::Put),*],
        )
    };
}

/// `out!("{}", text)` to stdout.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::sys::console::out(format_args!($($t)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_line_gets_newline() {
        let mut l = Line::new();
        write!(l, "hello {}", 42).unwrap();
        assert_eq!(l.finish(), b"hello 42\n");
    }

    #[test]
    fn long_line_is_marked_cut() {
        let mut l = Line::new();
        for _ in 0..100 {
            write!(l, "0123456789").unwrap();
        }
        let out = l.finish();
        assert_eq!(out.len(), CONSOLE_LINE_MAX);
        assert!(out.ends_with(b"...\n"));
    }
}
