//! Error messages: `FILE:LINE:COL: error: MESSAGE`, with a hint where
//! one helps (` — did you mean 'cpus'?`). Errors are values formatted on
//! demand: nothing is allocated, nothing is kept.

use super::capacity::{ENV_BYTES_MAX, ERRORS_MAX, FILE_MAX, LINE_MAX};
use super::lex::LexError;
use core::fmt;

/// A suggestion appended to a message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Hint<'t> {
    None,
    /// ` — did you mean 'WORD'?`
    Word(&'t str),
    /// ` — did you mean '/dev/WORD'?`
    Dev(&'t str),
}

/// Every problem a config can have.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParseError<'t> {
    FileTooBig,
    TooManyErrors,
    Lex(LexError),
    /// A statement longer than LINE_MAX (its length).
    TooLong(usize),
    /// `stray`: looks like a unit's option or `--` on a line of its own.
    UnknownStatement {
        word: &'t str,
        hint: Hint<'t>,
        stray: bool,
    },
    Missing {
        what: &'static str,
        usage: &'static str,
    },
    Extra {
        word: &'t str,
        usage: &'static str,
    },
    /// `what` given twice (`name` if any), first at `line`.
    Twice {
        what: &'static str,
        name: &'t str,
        line: u32,
    },
    DuplicateUnit {
        name: &'t str,
        line: u32,
    },
    Invalid {
        what: &'static str,
        value: &'t str,
        expect: &'static str,
    },
    TooMany {
        what: &'static str,
        limit: usize,
    },
    /// `WHAT 'VALUE' is LEN bytes long, more than the limit of LIMIT`
    /// (decoded: quotes and escapes do not count).
    Longer {
        what: &'t str,
        value: &'t str,
        len: usize,
        limit: usize,
    },
    /// A unit's environment from the table (`ENV_BYTES_MAX`).
    EnvTooLarge {
        name: &'t str,
        bytes: usize,
    },
    NoDashDash {
        usage: &'static str,
    },
    NoProgram,
    NotOption {
        word: &'t str,
        program: bool,
    },
    NeedsValue {
        key: &'t str,
    },
    UnknownOption {
        key: &'t str,
        hint: Hint<'t>,
    },
    OptionTwice {
        key: &'t str,
    },
    Empty {
        key: &'t str,
    },
    Quoted {
        key: &'t str,
    },
    BadValue {
        key: &'t str,
        value: &'t str,
        expect: &'static str,
        hint: Hint<'t>,
    },
    BadEntry {
        key: &'t str,
        item: &'t str,
        expect: &'static str,
    },
    ListedTwice {
        key: &'t str,
        item: &'t str,
    },
    /// An option that does not apply to this kind of unit.
    NotForKind {
        opt: &'t str,
        kind: &'static str,
        why: &'static str,
    },
    /// `'OPTION' MESSAGE`: options that contradict each other.
    Conflict {
        opt: &'t str,
        msg: &'static str,
    },
    /// `'OPTION' uses CPU N, isolated by unit 'OTHER'`
    Isolated {
        opt: &'t str,
        cpu: usize,
        other: &'t str,
    },
    TtyShared {
        tty: &'t str,
        other: &'t str,
    },
    /// A `listen=` on an address that unit `other` (or, `same`, this
    /// unit) binds already.
    SocketShared {
        opt: &'t str,
        other: &'t str,
        same: bool,
    },
    UnknownUnit {
        name: &'t str,
        key: &'static str,
        hint: Hint<'t>,
    },
    /// The units of a cycle (`more`: the list was cut).
    Cycle {
        names: &'t [&'t str],
        more: bool,
    },
}

/// Shows a word from the config in quotes, cut at 60 characters.
pub(crate) struct Q<'t>(pub(crate) &'t str);

impl fmt::Display for Q<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 60;
        match self.0.char_indices().nth(SHOWN) {
            Some((i, _)) => write!(f, "'{}...'", self.0.get(..i).unwrap_or("")),
            None => write!(f, "'{}'", self.0),
        }
    }
}

impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hint::None => Ok(()),
            Hint::Word(w) => write!(f, " — did you mean {}?", Q(w)),
            Hint::Dev(w) => write!(f, " — did you mean '/dev/{}'?", w),
        }
    }
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LexError::Control(0) => f.write_str("NUL byte (this is not a text file?)"),
            LexError::Control(b'\r') => f.write_str("carriage return not followed by a newline"),
            LexError::Control(c) => write!(f, "control character 0x{:02x}", c),
            LexError::Utf8(b) => write!(f, "invalid UTF-8 (byte 0x{:02x})", b),
            LexError::Unterminated => {
                f.write_str("unterminated quote: '\"' needs a closing '\"' on the same line")
            }
            LexError::Escape(c) if c.is_ascii_graphic() => write!(
                f,
                "unknown escape '\\{}' (inside quotes: \\\" \\\\ \\n \\t)",
                c as char
            ),
            LexError::Escape(c) => write!(
                f,
                "unknown escape '\\' + 0x{:02x} (inside quotes: \\\" \\\\ \\n \\t)",
                c
            ),
            LexError::TrailingSpace => {
                f.write_str("blanks after '\\': a continuation '\\' must end the line")
            }
            LexError::ContinuationAtEof => {
                f.write_str("'\\' continues the last line past the end of the file")
            }
        }
    }
}

impl fmt::Display for ParseError<'_> {
    // Not inlined into `<&ParseError as Display>::fmt`, whose generic name
    // tools/hot.ld places with PID 1's steady-state code: under its own
    // name it goes with the rest of the diagnostics (tools/cold.ld).
    #[inline(never)]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParseError::FileTooBig => {
                write!(f, "file is larger than {} bytes (the limit)", FILE_MAX)
            }
            ParseError::TooManyErrors => {
                write!(f, "too many errors ({}), stopping here", ERRORS_MAX)
            }
            ParseError::Lex(e) => e.fmt(f),
            ParseError::TooLong(n) => write!(
                f,
                "statement is {} bytes long, more than the limit of {}",
                n, LINE_MAX
            ),
            ParseError::UnknownStatement { word, hint, stray } => {
                write!(f, "unknown statement {}", Q(word))?;
                if stray {
                    f.write_str(" (a unit's options go on its line: is a '\\' missing at the end of the line above?)")?;
                }
                hint.fmt(f)
            }
            ParseError::Missing { what, usage } => write!(f, "missing {} (usage: {})", what, usage),
            ParseError::Extra { word, usage } => {
                write!(f, "unexpected {} (usage: {})", Q(word), usage)
            }
            ParseError::Twice {
                what,
                name: "",
                line,
            } => {
                write!(f, "{} given twice (first at line {})", what, line)
            }
            ParseError::Twice { what, name, line } => {
                write!(
                    f,
                    "{} {} given twice (first at line {})",
                    what,
                    Q(name),
                    line
                )
            }
            ParseError::DuplicateUnit { name, line } => {
                write!(f, "unit {} defined twice (first at line {})", Q(name), line)
            }
            ParseError::Invalid {
                what,
                value,
                expect,
            } => {
                write!(f, "invalid {} {}: {}", what, Q(value), expect)
            }
            ParseError::TooMany { what, limit } => write!(f, "too many {} (limit {})", what, limit),
            ParseError::Longer {
                what,
                value,
                len,
                limit,
            } => write!(
                f,
                "{} {} is {} bytes long, more than the limit of {}",
                what,
                Q(value),
                len,
                limit
            ),
            ParseError::EnvTooLarge { name, bytes } => write!(
                f,
                "unit '{}': its environment is {} bytes (env= entries and the env statements it does not override, a NUL after each), more than the limit of {}",
                name, bytes, ENV_BYTES_MAX
            ),
            ParseError::NoDashDash { usage } => {
                write!(f, "missing '--' before the program (usage: {})", usage)
            }
            ParseError::NoProgram => f.write_str("missing program after '--'"),
            ParseError::NotOption { word, program } => {
                write!(f, "expected KEY=VALUE or '--', found {}", Q(word))?;
                if program {
                    f.write_str(" (is '--' missing before the program?)")?;
                }
                Ok(())
            }
            ParseError::NeedsValue { key } => {
                write!(f, "option {} needs a value: {}=...", Q(key), key)
            }
            ParseError::UnknownOption { key, hint } => {
                write!(f, "unknown option {}{}", Q(key), hint)
            }
            ParseError::OptionTwice { key } => write!(f, "option {} given twice", Q(key)),
            ParseError::Empty { key } => write!(f, "empty value for '{}='", key),
            ParseError::Quoted { key } => write!(
                f,
                "quotes are not allowed in '{}=' (only in paths, arguments and env)",
                key
            ),
            ParseError::BadValue {
                key,
                value,
                expect,
                hint,
            } => write!(
                f,
                "invalid value {} for '{}=': {}{}",
                Q(value),
                key,
                expect,
                hint
            ),
            ParseError::BadEntry {
                key,
                item: "",
                expect,
            } => {
                write!(f, "empty entry in '{}=': {}", key, expect)
            }
            ParseError::BadEntry { key, item, expect } => {
                write!(f, "invalid entry {} in '{}=': {}", Q(item), key, expect)
            }
            ParseError::ListedTwice { key, item } => {
                write!(f, "{} is listed twice in '{}='", Q(item), key)
            }
            ParseError::NotForKind { opt, kind, why } => {
                write!(f, "{} does not apply to a {}: {}", Q(opt), kind, why)
            }
            ParseError::Conflict { opt, msg } => write!(f, "{} {}", Q(opt), msg),
            ParseError::Isolated { opt, cpu, other } => write!(
                f,
                "{} uses CPU {}, which unit {} isolates",
                Q(opt),
                cpu,
                Q(other)
            ),
            ParseError::TtyShared { tty, other } => {
                write!(f, "terminal {} is also used by unit {}", Q(tty), Q(other))
            }
            ParseError::SocketShared {
                opt, same: true, ..
            } => write!(f, "{} binds an address this unit binds already", Q(opt)),
            ParseError::SocketShared { opt, other, .. } => write!(
                f,
                "{} binds an address that unit {} binds already",
                Q(opt),
                Q(other)
            ),
            ParseError::UnknownUnit { name, key, hint } => {
                write!(f, "unknown unit {} in '{}='{}", Q(name), key, hint)
            }
            ParseError::Cycle { names, more } => {
                f.write_str("dependency cycle: ")?;
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" -> ")?;
                    }
                    f.write_str(n)?;
                }
                if more {
                    f.write_str(" -> ...")?;
                }
                if let Some(first) = names.first() {
                    write!(f, " -> {}", first)?;
                }
                Ok(())
            }
        }
    }
}

/// One reported problem. `Display`: `FILE:LINE:COL: error: MESSAGE`.
#[derive(Clone, Copy, Debug)]
pub struct Diag<'d> {
    pub(crate) file: &'d str,
    /// 1-based.
    pub(crate) line: u32,
    /// 1-based, in characters.
    pub(crate) col: u32,
    pub(crate) error: &'d ParseError<'d>,
}

impl fmt::Display for Diag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.line, self.col, self.error
        )
    }
}

/// Line and column (1-based; columns count characters) of byte `at`.
pub(crate) fn position(text: &[u8], at: usize) -> (u32, u32) {
    let before = text.get(..at.min(text.len())).unwrap_or(&[]);
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before
        .get(line_start..)
        .unwrap_or(&[])
        .iter()
        .filter(|&&b| b & 0xc0 != 0x80)
        .count()
        + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// Collects errors: counts them, turns offsets into positions, and hands
/// each to the caller's callback, up to ERRORS_MAX.
pub(crate) struct Report<'r, 'a> {
    file: &'r str,
    text: &'a [u8],
    pub(crate) errors: usize,
    /// Set once ERRORS_MAX were reported: parsing stops.
    pub(crate) stop: bool,
    diag: &'r mut dyn FnMut(&Diag<'_>),
}

impl<'r, 'a> Report<'r, 'a> {
    pub(crate) fn new(file: &'r str, text: &'a [u8], diag: &'r mut dyn FnMut(&Diag<'_>)) -> Self {
        Report {
            file,
            text,
            errors: 0,
            stop: false,
            diag,
        }
    }

    /// Reports `error` at byte `at` of the text.
    #[inline(never)]
    pub(crate) fn at(&mut self, at: usize, error: ParseError<'_>) {
        if self.stop {
            return;
        }
        let error = if self.errors == ERRORS_MAX {
            self.stop = true;
            ParseError::TooManyErrors
        } else {
            error
        };
        self.errors += 1;
        let (line, col) = position(self.text, at);
        (self.diag)(&Diag {
            file: self.file,
            line,
            col,
            error: &error,
        });
    }

    /// Byte offset of `s`, a slice of the text (`None` if it is not).
    pub(crate) fn offset(&self, s: &str) -> Option<usize> {
        let off = (s.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        (off <= self.text.len()).then_some(off)
    }

    /// Reports `error` at `s`, a slice of the text.
    #[inline(never)]
    pub(crate) fn on(&mut self, s: &str, error: ParseError<'_>) {
        let at = self.offset(s).unwrap_or(0);
        self.at(at, error);
    }

    /// The line of `s`, a slice of the text.
    pub(crate) fn line_of(&self, s: &str) -> u32 {
        position(self.text, self.offset(s).unwrap_or(0)).0
    }
}

/// Edit distance (optimal string alignment: a swap of two neighbours
/// counts 1), ASCII case ignored; `usize::MAX` for words over 32 bytes.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    const W: usize = 33;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() >= W || b.len() >= W {
        return usize::MAX;
    }
    let low = |s: &[u8], i: usize| s.get(i).map(u8::to_ascii_lowercase);
    let at = |row: &[u8; W], i: usize| row.get(i).copied().unwrap_or(u8::MAX / 2);
    // Three rows of the matrix: i-2, i-1 and i. Distances fit in a byte.
    let mut rows = [[0u8; W]; 3];
    for (j, slot) in rows[1].iter_mut().enumerate() {
        *slot = j as u8;
    }
    for i in 1..=a.len() {
        let [prev2, prev, cur] = &mut rows;
        cur[0] = i as u8;
        for j in 1..=b.len() {
            let cost = u8::from(low(a, i - 1) != low(b, j - 1));
            let mut d = (at(prev, j) + 1)
                .min(at(cur, j - 1) + 1)
                .min(at(prev, j - 1) + cost);
            if i > 1 && j > 1 && low(a, i - 1) == low(b, j - 2) && low(a, i - 2) == low(b, j - 1) {
                d = d.min(at(prev2, j - 2) + 1);
            }
            if let Some(c) = cur.get_mut(j) {
                *c = d;
            }
        }
        rows.rotate_left(1);
    }
    usize::from(at(&rows[1], b.len()))
}

/// The known word closest to `word`, if close enough to be a likely typo
/// (distance at most a third of its length, 1 to 3, less than its
/// length); else one that
/// starts with `word.` (`mem` → `mem.max`).
pub(crate) fn closest<'w>(word: &str, known: &mut dyn Iterator<Item = &'w str>) -> Hint<'w> {
    let len = word.chars().count();
    // At most a third of the word, and never all of it ('c' is not 'a').
    let limit = (len / 3).clamp(1, 3).min(len.saturating_sub(1));
    let mut best: Option<(usize, &'w str)> = None;
    let mut prefix = None;
    for k in known {
        let d = distance(word, k);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
        if prefix.is_none() && k.starts_with(word) && k.as_bytes().get(word.len()) == Some(&b'.') {
            prefix = Some(k);
        }
    }
    match best.map(|(_, k)| k).or(prefix) {
        Some(k) => Hint::Word(k),
        None => Hint::None,
    }
}

/// `closest` among a list of words.
pub(crate) fn closest_of<'w>(word: &str, known: &[&'w str]) -> Hint<'w> {
    closest(word, &mut known.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("cpu", "cpus"), 1);
        assert_eq!(distance("restrat", "restart"), 1);
        assert_eq!(distance("Service", "service"), 0);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance(&"a".repeat(40), "a"), usize::MAX);
    }

    #[test]
    fn hints() {
        let known = ["cpus", "cpuset", "mem.max", "mem.high"];
        assert_eq!(closest_of("cpu", &known), Hint::Word("cpus"));
        assert_eq!(closest_of("mem", &known), Hint::Word("mem.max"));
        assert_eq!(closest_of("xyz", &known), Hint::None);
    }

    #[test]
    fn positions() {
        let t = "ab\ncdé f\n".as_bytes();
        assert_eq!(position(t, 0), (1, 1));
        assert_eq!(position(t, 3), (2, 1));
        assert_eq!(position(t, 8), (2, 5));
        assert_eq!(position(t, 100), (3, 1));
    }

    #[test]
    fn quoting_cuts_long_words() {
        assert_eq!(Q("abc").to_string(), "'abc'");
        let long = "é".repeat(70);
        assert_eq!(Q(&long).to_string(), format!("'{}...'", "é".repeat(60)));
    }
}
