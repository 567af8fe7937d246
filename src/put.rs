//! Text without `core::fmt`: PID 1's console and kernel-log lines
//! (`say!("{}: exited: {}", name, why)`) and the buffers it fills
//! (`put!(path, "{}/cgroup.procs", dir)`) are a text with `{}` holes and
//! a list of pieces, each of which writes itself into a fixed buffer.
//! `core::fmt`'s machinery (its `Formatter`, padding, the integer
//! `Display`s) stays for the client's tables and the table's
//! diagnostics, off the paths PID 1 runs for every start and exit
//! (docs/design.md §1).

/// A fixed buffer that keeps what fits and remembers a cut.
pub(crate) trait Sink {
    /// Appends what fits of `text`; a cut is remembered by the sink.
    fn str(&mut self, text: &str);
}

/// A value that writes itself as text.
pub(crate) trait Put {
    fn put(&self, s: &mut dyn Sink);
}

impl<T: Put + ?Sized> Put for &T {
    fn put(&self, s: &mut dyn Sink) {
        (**self).put(s);
    }
}

impl Put for str {
    fn put(&self, s: &mut dyn Sink) {
        s.str(self);
    }
}

impl<const N: usize> Put for heapless::String<N> {
    fn put(&self, s: &mut dyn Sink) {
        s.str(self);
    }
}

/// Writes `n` in decimal.
pub(crate) fn unsigned(s: &mut dyn Sink, mut n: u64) {
    let mut d = [b'0'; 20];
    let mut i = d.len();
    loop {
        i -= 1;
        if let Some(c) = d.get_mut(i) {
            *c = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    digits(s, d.get(i..));
}

/// Writes `n` in decimal, with a `-` below zero.
pub(crate) fn signed(s: &mut dyn Sink, n: i64) {
    if n < 0 {
        s.str("-");
    }
    unsigned(s, n.unsigned_abs());
}

/// ASCII digits as text.
fn digits(s: &mut dyn Sink, d: Option<&[u8]>) {
    s.str(core::str::from_utf8(d.unwrap_or(&[])).unwrap_or("?"));
}

macro_rules! put_ints {
    ($write:ident as $wide:ty: $($t:ty),*) => {$(
        impl Put for $t {
            fn put(&self, s: &mut dyn Sink) {
                $write(s, *self as $wide);
            }
        }
    )*};
}
put_ints!(unsigned as u64: u8, u16, u32, u64, usize);
put_ints!(signed as i64: i32, i64);

impl Put for core::num::NonZeroI32 {
    fn put(&self, s: &mut dyn Sink) {
        signed(s, i64::from(self.get()));
    }
}

/// `n` in lower-case hexadecimal, zero-padded to `width` digits
/// (`{:08x}` in `core::fmt`).
pub(crate) struct Hex(pub(crate) u64, pub(crate) usize);

impl Put for Hex {
    fn put(&self, s: &mut dyn Sink) {
        let mut d = [b'0'; 16];
        let mut n = self.0;
        let mut i = d.len();
        while n > 0 && i > 0 {
            i -= 1;
            if let Some(c) = d.get_mut(i) {
                *c = b"0123456789abcdef"
                    .get((n % 16) as usize)
                    .copied()
                    .unwrap_or(b'?');
            }
            n /= 16;
        }
        let from = i.min(d.len().saturating_sub(self.1.max(1)));
        digits(s, d.get(from..));
    }
}

/// Puts `text` with its `{}` holes filled with `parts` in order.
pub(crate) fn fill(s: &mut dyn Sink, text: &str, parts: &[&dyn Put]) {
    let mut parts = parts.iter();
    let mut rest = text;
    while let Some(at) = hole(rest.as_bytes()) {
        // Not `str::get`, which x86_64's build calls out of line, out of
        // `.text.hot`, on every line; `split_at_checked` is inlined but
        // on riscv64, where tools/hot.ld names it.
        let Some((head, tail)) = rest.split_at_checked(at) else {
            break;
        };
        s.str(head);
        if let Some(p) = parts.next() {
            p.put(s);
        }
        rest = tail.split_at_checked(2).map_or("", |(_, t)| t);
    }
    s.str(rest);
}

/// Where the first `{}` in `b` is. A loop, not `windows(2)`, whose
/// iterator armv7's build calls out of line (out of `.text.hot`).
fn hole(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'{' && b.get(i + 1) == Some(&b'}') {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// How many `{}` holes `text` has (for the macros' check at compile time).
pub(crate) const fn holes(text: &str) -> usize {
    let mut b = text.as_bytes();
    let mut n = 0;
    while let [first, rest @ ..] = b {
        b = rest;
        if let (b'{', [b'}', after @ ..]) = (*first, rest) {
            n += 1;
            b = after;
        }
    }
    n
}

/// A text whose `{}` holes are filled with `parts` in order, as a piece
/// of its own: what `filled!` makes. Only `{}`; no other braces.
pub(crate) struct Filled<'a> {
    pub(crate) text: &'static str,
    pub(crate) parts: &'a [&'a dyn Put],
}

impl Put for Filled<'_> {
    fn put(&self, s: &mut dyn Sink) {
        fill(s, self.text, self.parts);
    }
}

/// The buffer was too short for the text.
#[derive(Debug)]
pub(crate) struct Full;

/// A buffer `put!` appends to.
pub(crate) trait Text {
    /// Appends `text` with its holes filled; `Err` (what fit kept) when
    /// it does not all fit.
    fn fill(&mut self, text: &str, parts: &[&dyn Put]) -> Result<(), Full>;
}

/// A `heapless::String` of any capacity being filled (its view, so the
/// code is not made again for each capacity).
struct View<'a> {
    out: &'a mut heapless::string::StringView,
    full: bool,
}

impl Sink for View<'_> {
    fn str(&mut self, text: &str) {
        self.full |= self.out.push_str(text).is_err();
    }
}

fn fill_view(
    out: &mut heapless::string::StringView,
    text: &str,
    parts: &[&dyn Put],
) -> Result<(), Full> {
    let mut v = View { out, full: false };
    fill(&mut v, text, parts);
    if v.full {
        Err(Full)
    } else {
        Ok(())
    }
}

impl<const N: usize> Text for heapless::String<N> {
    fn fill(&mut self, text: &str, parts: &[&dyn Put]) -> Result<(), Full> {
        fill_view(self.as_mut_view(), text, parts)
    }
}

/// A `Display` value as a piece, through `core::fmt`: for the few lines
/// whose text the client shares (the table's diagnostics, a panic's
/// message), which PID 1 prints only on a cold path (a bad table, a
/// bug).
pub(crate) struct Shown<'a>(pub(crate) &'a dyn core::fmt::Display);

struct Write<'a>(&'a mut dyn Sink);

impl core::fmt::Write for Write<'_> {
    fn write_str(&mut self, t: &str) -> core::fmt::Result {
        self.0.str(t);
        Ok(())
    }
}

impl Put for Shown<'_> {
    fn put(&self, s: &mut dyn Sink) {
        let _ = core::fmt::write(&mut Write(s), format_args!("{}", self.0));
    }
}

/// A `Formatter` as a sink, so a type that is `Put` for PID 1 is also
/// `Display` for the client without a second copy of its text.
struct Fmt<'a, 'b> {
    f: &'a mut core::fmt::Formatter<'b>,
    err: bool,
}

impl Sink for Fmt<'_, '_> {
    fn str(&mut self, text: &str) {
        self.err |= self.f.write_str(text).is_err();
    }
}

/// `Display::fmt` for a `Put` type.
pub(crate) fn fmt(p: &dyn Put, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let mut s = Fmt { f, err: false };
    p.put(&mut s);
    if s.err {
        Err(core::fmt::Error)
    } else {
        Ok(())
    }
}

/// `impl Display` for `Put` types the client prints too.
#[macro_export]
macro_rules! display_by_put {
    ($($t:ty),+ $(,)?) => {$(
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $crate::put::fmt(self, f)
            }
        }
    )+};
}

/// `$t`, checked at compile time to have a hole for each piece.
#[macro_export]
macro_rules! holes {
    ($t:literal $(, $p:expr)*) => {{
        const _: () = assert!(
            $crate::put::holes($t) == <[&str]>::len(&[$(stringify!($p)),*]),
            "the text's holes and its pieces differ in number"
        );
        $t
    }};
}

/// `filled!("read {}", path)`: a `Filled` (a `Put`), checked at compile
/// time to have as many pieces as holes.
#[macro_export]
macro_rules! filled {
    ($t:literal $(, $p:expr)* $(,)?) => {
        $crate::put::Filled {
            text: $crate::holes!($t $(, $p)*),
            parts: &[$(&$p as &dyn $crate::put::Put),*],
        }
    };
}

/// `fill!(s, "{}: {}", file, Name(e))`: into the sink `s`, in a `Put`
/// impl.
#[macro_export]
macro_rules! fill {
    ($s:expr, $t:literal $(, $p:expr)* $(,)?) => {
        $crate::put::fill(
            $s,
            $crate::holes!($t $(, $p)*),
            &[$(&$p as &dyn $crate::put::Put),*],
        )
    };
}

/// `put!(buf, "LISTEN_FDS={}", n)`: appends the text to `buf` (a
/// `heapless::String` or a console `Line`); `Err(Full)` when it does not
/// fit.
#[macro_export]
macro_rules! put {
    ($buf:expr, $t:literal $(, $p:expr)* $(,)?) => {{
        use $crate::put::Text as _;
        $buf.fill(
            $crate::holes!($t $(, $p)*),
            &[$(&$p as &dyn $crate::put::Put),*],
        )
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_decimal() {
        let mut s: heapless::String<64> = heapless::String::new();
        put!(s, "{} {} {} {} {}", 0u32, u64::MAX, -5i32, i64::MIN, "x").unwrap();
        assert_eq!(
            s.as_str(),
            "0 18446744073709551615 -5 -9223372036854775808 x"
        );
    }

    #[test]
    fn holes_are_counted() {
        assert_eq!(holes(""), 0);
        assert_eq!(holes("{}"), 1);
        assert_eq!(holes("a {} b {}{}"), 3);
        assert_eq!(holes("{ } {"), 0);
    }

    #[test]
    fn the_holes_are_filled_in_order() {
        let mut s: heapless::String<64> = heapless::String::new();
        put!(s, "{}: {} ({})", "unit", 7u32, filled!("a{}c", "b")).unwrap();
        assert_eq!(s.as_str(), "unit: 7 (abc)");
        s.clear();
        put!(s, "{ } {{}", 5u8).unwrap();
        assert_eq!(s.as_str(), "{ } {5");
    }

    #[test]
    fn hex_is_zero_padded_to_its_width() {
        let mut s: heapless::String<64> = heapless::String::new();
        put!(
            s,
            "{} {} {} {}",
            Hex(0x1f, 8),
            Hex(0, 1),
            Hex(u64::MAX, 16),
            Hex(0xabc, 0)
        )
        .unwrap();
        assert_eq!(s.as_str(), "0000001f 0 ffffffffffffffff abc");
    }

    #[test]
    fn a_cut_is_an_error_and_keeps_what_fit() {
        let mut s: heapless::String<8> = heapless::String::new();
        assert!(put!(s, "abc{}", 12345u32).is_ok());
        assert!(put!(s, "x{}", "toolong").is_err());
        assert_eq!(s.as_str(), "abc12345");
    }
}
