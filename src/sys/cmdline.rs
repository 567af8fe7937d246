//! The kernel command line (/proc/cmdline): the one complete source of
//! boot arguments. pinit's own words are namespaced `pinit.*`.

/// /proc/cmdline is at most COMMAND_LINE_SIZE (2048 on x86_64 and arm64),
/// more with a bootconfig.
pub(crate) const CMDLINE_MAX: usize = 4096;
/// The last bytes of the command line's buffer, which a command line that
/// fits is read into (boot/pid1.rs): usually a few hundred bytes, and
/// then the rest of the buffer is never written. tools/bss.ld's 1 KiB
/// offset of the boot's buffers is this value: change both together.
pub(crate) const CMDLINE_TAIL: usize = 1024;

/// A borrowed view of the command line's words.
#[derive(Clone, Copy)]
pub(crate) struct Cmdline<'a> {
    text: &'a [u8],
}

impl<'a> Cmdline<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Cmdline<'a> {
        Cmdline { text }
    }

    /// The words, split on ASCII white space. Quoted values (`a="b c"`)
    /// keep their spaces, as the kernel parses them.
    pub(crate) fn words(&self) -> Words<'a> {
        Words { rest: self.text }
    }

    /// True if `word` appears alone (`single`, `pinit.rescue`).
    pub(crate) fn has(&self, word: &str) -> bool {
        self.words().any(|w| w == word.as_bytes())
    }

    /// The value of the last `key=value` word, without surrounding quotes.
    pub(crate) fn value(&self, key: &str) -> Option<&'a [u8]> {
        let mut found = None;
        for w in self.words() {
            if let Some(v) = w
                .strip_prefix(key.as_bytes())
                .and_then(|r| r.strip_prefix(b"="))
            {
                let v = v.strip_prefix(b"\"").unwrap_or(v);
                found = Some(v.strip_suffix(b"\"").unwrap_or(v));
            }
        }
        found
    }

    /// Rescue mode: `pinit.rescue`, or sysvinit's `single`, `S`, `1`.
    pub(crate) fn rescue(&self) -> bool {
        self.has("pinit.rescue") || self.has("single") || self.has("S") || self.has("1")
    }
}

pub(crate) struct Words<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|b| !b.is_ascii_whitespace())?;
        let s = self.rest.get(start..)?;
        let mut quoted = false;
        let mut end = s.len();
        for (i, &b) in s.iter().enumerate() {
            if b == b'"' {
                quoted = !quoted;
            } else if b.is_ascii_whitespace() && !quoted {
                end = i;
                break;
            }
        }
        let (word, rest) = s.split_at(end);
        self.rest = rest;
        Some(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_values() {
        let c = Cmdline::new(b"console=ttyS0 quiet pinit.conf=/etc/a.conf  x=\"a b\"\n");
        assert!(c.has("quiet"));
        assert!(!c.has("pinit"));
        assert_eq!(c.value("pinit.conf"), Some(&b"/etc/a.conf"[..]));
        assert_eq!(c.value("x"), Some(&b"a b"[..]));
        assert_eq!(c.value("console"), Some(&b"ttyS0"[..]));
        assert_eq!(c.value("missing"), None);
    }

    #[test]
    fn rescue_words() {
        assert!(Cmdline::new(b"ro single").rescue());
        assert!(Cmdline::new(b"pinit.rescue").rescue());
        assert!(Cmdline::new(b"S").rescue());
        assert!(!Cmdline::new(b"console=ttyS0 Single").rescue());
        assert!(!Cmdline::new(b"").rescue());
    }

    #[test]
    fn last_value_wins() {
        let c = Cmdline::new(b"pinit.conf=/a pinit.conf=/b");
        assert_eq!(c.value("pinit.conf"), Some(&b"/b"[..]));
    }
}
