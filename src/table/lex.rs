//! The lexer (docs/config.md, "Lexical rules"): statements of
//! blank-separated tokens, `#` comments, `\` continuation lines,
//! double-quoted strings with escapes.
//!
//! Tokens are slices of the text: nothing is copied. A token keeps its
//! quotes (its raw form); `Word` decodes it on demand, into a caller
//! buffer or byte by byte.

use core::ffi::CStr;

/// A lexical error, at a byte offset.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LexError {
    /// A control character (NUL, CR without LF, ESC, ...).
    Control(u8),
    /// A byte that is not valid UTF-8.
    Utf8(u8),
    /// A `"` without its closing `"` on the same line.
    Unterminated,
    /// `\x` inside quotes, x not one of `" \ n t`.
    Escape(u8),
    /// `\` followed by blanks at the end of a line.
    TrailingSpace,
    /// `\` as the last byte of the file.
    ContinuationAtEof,
}

/// Splits a text into statements and their tokens. `next` gives the
/// tokens of one statement, then `Ok(None)` once at its end.
#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(s: &'a [u8]) -> Lexer<'a> {
        Lexer { s, pos: 0 }
    }

    /// A lexer that starts at byte `pos` of `s`.
    pub(crate) fn at(s: &'a [u8], pos: usize) -> Lexer<'a> {
        Lexer { s, pos }
    }

    /// Byte offset of the next unread byte.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.s.get(self.pos.wrapping_add(ahead)).copied()
    }

    /// The next token of the current statement; `Ok(None)` at its end,
    /// after which the lexer is at the start of the next statement.
    #[inline(never)]
    pub(crate) fn token(&mut self) -> Result<Option<&'a str>, (usize, LexError)> {
        loop {
            match self.peek(0) {
                None => return Ok(None),
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\n') => {
                    self.pos += 1;
                    return Ok(None);
                }
                Some(b'\r') if self.peek(1) == Some(b'\n') => {
                    self.pos += 2;
                    return Ok(None);
                }
                Some(b'#') => {
                    self.skip_line();
                    return Ok(None);
                }
                Some(b'\\') => match self.continuation() {
                    Some(Ok(len)) => self.pos += len,
                    Some(Err(e)) => return Err((self.pos, e)),
                    None => return self.word().map(Some),
                },
                Some(_) => return self.word().map(Some),
            }
        }
    }

    /// At a `\` outside quotes: `Some(Ok(len))` if it continues the line
    /// (`len` bytes up to the next line), `Some(Err)` if it looks like a
    /// broken continuation, `None` if it is an ordinary character.
    fn continuation(&self) -> Option<Result<usize, LexError>> {
        match (self.peek(1), self.peek(2)) {
            (None, _) => return Some(Err(LexError::ContinuationAtEof)),
            (Some(b'\n'), _) => return Some(Ok(2)),
            (Some(b'\r'), Some(b'\n')) => return Some(Ok(3)),
            (Some(b' ' | b'\t'), _) => {}
            _ => return None,
        }
        let rest = self.s.get(self.pos + 1..).unwrap_or(&[]);
        for (i, &b) in rest.iter().enumerate() {
            match b {
                b' ' | b'\t' => {}
                b'\n' => return Some(Err(LexError::TrailingSpace)),
                b'\r' if rest.get(i + 1) == Some(&b'\n') => {
                    return Some(Err(LexError::TrailingSpace))
                }
                _ => return None,
            }
        }
        Some(Err(LexError::TrailingSpace))
    }

    fn word(&mut self) -> Result<&'a str, (usize, LexError)> {
        let start = self.pos;
        let mut quote: Option<usize> = None;
        loop {
            let b = self.peek(0);
            match (quote, b) {
                (None, None) => break,
                (Some(q), None | Some(b'\n')) => return Err((q, LexError::Unterminated)),
                (Some(q), Some(b'\r')) if self.peek(1) == Some(b'\n') => {
                    return Err((q, LexError::Unterminated))
                }
                (Some(_), Some(b'"')) => {
                    quote = None;
                    self.pos += 1;
                }
                (Some(q), Some(b'\\')) => match self.peek(1) {
                    Some(b'"' | b'\\' | b'n' | b't') => self.pos += 2,
                    None | Some(b'\n') => return Err((q, LexError::Unterminated)),
                    Some(c) => return Err((self.pos, LexError::Escape(c))),
                },
                (Some(_), Some(b'\t')) => self.pos += 1,
                (None, Some(b' ' | b'\t' | b'\n')) => break,
                (None, Some(b'\r')) if self.peek(1) == Some(b'\n') => break,
                (None, Some(b'"')) => {
                    quote = Some(self.pos);
                    self.pos += 1;
                }
                (None, Some(b'\\')) => match self.continuation() {
                    Some(Ok(_)) => break,
                    Some(Err(e)) => return Err((self.pos, e)),
                    None => self.pos += 1,
                },
                (_, Some(c)) if c < 0x20 || c == 0x7f => {
                    return Err((self.pos, LexError::Control(c)))
                }
                (_, Some(_)) => self.pos += 1,
            }
        }
        let bytes = self.s.get(start..self.pos).unwrap_or(&[]);
        core::str::from_utf8(bytes).map_err(|e| {
            let bad = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
            (start + e.valid_up_to(), LexError::Utf8(bad))
        })
    }

    fn skip_line(&mut self) {
        let rest = self.s.get(self.pos..).unwrap_or(&[]);
        self.pos = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => self.pos + i + 1,
            None => self.s.len(),
        };
    }

    /// After an error: moves to the start of the next statement (the
    /// next line that does not follow a line ending in `\`).
    pub(crate) fn skip_statement(&mut self) {
        loop {
            let rest = self.s.get(self.pos..).unwrap_or(&[]);
            let Some(i) = rest.iter().position(|&b| b == b'\n') else {
                self.pos = self.s.len();
                return;
            };
            let line = rest.get(..i).unwrap_or(&[]);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.pos += i + 1;
            if !line.ends_with(b"\\") {
                return;
            }
        }
    }
}

/// Lexes a span already known to be valid (a unit's options or
/// arguments): its tokens up to the end of the statement.
pub(crate) fn tokens(span: &str) -> Tokens<'_> {
    Tokens(Lexer::new(span.as_bytes()))
}

/// Tokens of a checked statement that starts at byte `pos` of `text`.
pub(crate) fn tokens_at(text: &[u8], pos: usize) -> Tokens<'_> {
    Tokens(Lexer::at(text, pos))
}

/// Iterator over the tokens of a validated span.
#[derive(Clone)]
pub(crate) struct Tokens<'a>(Lexer<'a>);

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;
    #[inline(never)]
    fn next(&mut self) -> Option<&'a str> {
        self.0.token().ok().flatten()
    }
}

/// Splits a token at its first `=` outside quotes: `(key, value)`.
#[inline(never)]
pub(crate) fn split_key(tok: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, b) in tok.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'=' if !quoted => return Some((tok.get(..i)?, tok.get(i + 1..)?)),
            _ => {}
        }
    }
    None
}

/// A text value as written: a token or the tail of one, quotes and
/// escapes included (balanced and valid: the lexer checked them).
/// Decode it with `bytes`, `decode` or `to_cstr`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Word<'a>(pub(crate) &'a str);

impl<'a> Word<'a> {
    /// A word for a default value (no quotes in it).
    pub(crate) const fn lit(s: &'static str) -> Word<'static> {
        Word(s)
    }

    /// The text as written, quotes and escapes included.
    pub fn raw(&self) -> &'a str {
        self.0
    }

    /// The value itself when it holds no quotes (the common case).
    pub fn plain(&self) -> Option<&'a str> {
        if super::value::has(self.0, b'"') {
            None
        } else {
            Some(self.0)
        }
    }

    /// The decoded bytes, one by one.
    pub fn bytes(&self) -> Decode<'a> {
        Decode {
            s: self.0.as_bytes(),
            pos: 0,
            quoted: false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes().next().is_none()
    }

    /// Decodes into `out`; `None` if it does not fit.
    pub fn decode<'b>(&self, out: &'b mut [u8]) -> Option<&'b [u8]> {
        // Most words hold no quotes: their text is their value, copied
        // whole (a start decodes its argv and environment every time).
        if let Some(p) = self.plain() {
            let dst = out.get_mut(..p.len())?;
            dst.copy_from_slice(p.as_bytes());
            return Some(dst);
        }
        let mut n = 0;
        for b in self.bytes() {
            *out.get_mut(n)? = b;
            n += 1;
        }
        out.get(..n)
    }

    /// Decodes into `out` with a NUL after it (the lexer refuses NUL
    /// bytes, so the value has none inside); `None` if it does not fit.
    pub fn to_cstr(self, out: &mut [u8]) -> Option<&CStr> {
        let n = self.decode(out)?.len();
        *out.get_mut(n)? = 0;
        CStr::from_bytes_with_nul(out.get(..n + 1)?).ok()
    }
}

/// True if two `KEY=VALUE` entries (as written) set the same KEY.
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let ka = Word(a).bytes().take_while(|&c| c != b'=');
    let kb = Word(b).bytes().take_while(|&c| c != b'=');
    ka.eq(kb)
}

/// The decoded bytes of a `Word`.
#[derive(Clone)]
pub struct Decode<'a> {
    s: &'a [u8],
    pos: usize,
    quoted: bool,
}

impl Iterator for Decode<'_> {
    type Item = u8;
    #[inline(never)]
    fn next(&mut self) -> Option<u8> {
        loop {
            let b = *self.s.get(self.pos)?;
            self.pos += 1;
            if b == b'"' {
                self.quoted = !self.quoted;
                continue;
            }
            if self.quoted && b == b'\\' {
                let c = *self.s.get(self.pos)?;
                self.pos += 1;
                return Some(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    c => c,
                });
            }
            return Some(b);
        }
    }
}

/// Decodes `words` into `buf` one after the other, each followed by a
/// NUL; `None` if they do not fit. Iterate the result for the `CStr`s
/// (an argv or envp for execve, without copies beyond `buf`).
pub fn decode_all<'a, 'b>(
    words: impl Iterator<Item = Word<'a>>,
    buf: &'b mut [u8],
) -> Option<CStrs<'b>> {
    let mut n = 0;
    for w in words {
        let s = w.to_cstr(buf.get_mut(n..)?)?;
        n += s.to_bytes_with_nul().len();
    }
    Some(CStrs(buf.get(..n)?))
}

/// NUL-terminated strings one after the other, from `decode_all`.
#[derive(Clone, Copy)]
pub struct CStrs<'b>(&'b [u8]);

impl<'b> CStrs<'b> {
    /// The bytes the strings take, their NULs included.
    pub fn size(&self) -> usize {
        self.0.len()
    }

    /// The strings `decode_all` left in the first `size()` bytes of its
    /// buffer, taken again without decoding them again.
    pub(crate) fn decoded(buf: &'b [u8]) -> CStrs<'b> {
        CStrs(buf)
    }
}

impl<'b> Iterator for CStrs<'b> {
    type Item = &'b CStr;
    fn next(&mut self) -> Option<&'b CStr> {
        let end = self.0.iter().position(|&b| b == 0)?;
        let s = CStr::from_bytes_with_nul(self.0.get(..end + 1)?).ok()?;
        self.0 = self.0.get(end + 1..)?;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(text: &str) -> Vec<Result<Vec<&str>, (usize, LexError)>> {
        let mut lx = Lexer::new(text.as_bytes());
        let mut out = Vec::new();
        while lx.pos() < text.len() {
            let mut toks = Vec::new();
            loop {
                match lx.token() {
                    Ok(Some(t)) => toks.push(t),
                    Ok(None) => {
                        out.push(Ok(toks));
                        break;
                    }
                    Err(e) => {
                        out.push(Err(e));
                        lx.skip_statement();
                        break;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn tokens_comments_continuations() {
        let s = stmts("a b\tc # x \\\n\nd \\\n  e\\\r\nf\n#c\n\"q r\" x\"y z\"w\n");
        let ok: Vec<_> = s.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(
            ok,
            vec![
                vec!["a", "b", "c"],
                vec![],
                vec!["d", "e", "f"],
                vec![],
                vec!["\"q r\"", "x\"y z\"w"]
            ]
        );
    }

    #[test]
    fn errors() {
        use LexError::*;
        let e = |t: &str| stmts(t).into_iter().find_map(|r| r.err()).unwrap();
        assert_eq!(e("a \"b c\n"), (2, Unterminated));
        assert_eq!(e("a \"b\\q\""), (4, Escape(b'q')));
        assert_eq!(e("a b\\ \n"), (3, TrailingSpace));
        assert_eq!(e("a \\"), (2, ContinuationAtEof));
        assert_eq!(e("a\x00b"), (1, Control(0)));
        let mut lx = Lexer::new(b"ab\xff");
        assert_eq!(lx.token(), Err((2, Utf8(0xff))));
        assert_eq!(e("a\rb"), (1, Control(b'\r')));
    }

    #[test]
    fn skip_statement_skips_continuations() {
        let s = stmts("a \x01 \\\nb c\nd\n");
        assert!(s[0].is_err());
        assert_eq!(s[1].as_ref().unwrap(), &vec!["d"]);
    }

    #[test]
    fn backslash_inside_word_is_literal() {
        assert_eq!(stmts("a\\b c\\\n")[0].as_ref().unwrap(), &vec!["a\\b", "c"]);
    }

    #[test]
    fn words_decode() {
        let w = Word("x\"a \\\"b\\\\ \\n\\t\"y");
        let mut buf = [0u8; 32];
        assert_eq!(w.decode(&mut buf).unwrap(), b"xa \"b\\ \n\ty");
        assert_eq!(w.bytes().count(), 10);
        assert!(w.decode(&mut [0u8; 4]).is_none());
        assert_eq!(Word("plain").plain(), Some("plain"));
        assert_eq!(Word("\"q\"").plain(), None);
        let mut buf = [0u8; 32];
        let all: Vec<_> = decode_all([Word("a"), Word("\"b c\"")].into_iter(), &mut buf)
            .unwrap()
            .map(|c| c.to_str().unwrap().to_string())
            .collect();
        assert_eq!(all, ["a", "b c"]);
        assert!(decode_all([Word("abc")].into_iter(), &mut [0u8; 3]).is_none());
    }

    #[test]
    fn key_split() {
        assert_eq!(split_key("a=b=c"), Some(("a", "b=c")));
        assert_eq!(split_key("\"a=b\"=c"), Some(("\"a=b\"", "c")));
        assert_eq!(split_key("\"a=b\""), None);
    }
}
