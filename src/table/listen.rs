//! `listen=` (docs/config.md, "Sockets"): a socket PID 1 binds at boot
//! and hands to a service. `KIND:ADDRESS[,OPTION...]`:
//!
//! ```text
//! tcp:[HOST:]PORT  udp:[HOST:]PORT     HOST: 127.0.0.1 or [::1]; none: every address
//! unix:PATH  unix-dgram:PATH  unix-seqpacket:PATH  fifo:PATH
//! name=NAME backlog=N mode=OCTAL owner=USER group=GROUP reuseport freebind v6only
//! ```
//!
//! Not stored in `Unit`: `Unit::listens()` reads the checked option text
//! again, like env= and if=.

use super::capacity::{FIFO_PATH_MAX, SOCKET_PATH_MAX};
use super::diag::{closest_of, Hint};
use super::model::{Id, Unit};
use super::value::{self, is_unit_name};
use crate::put::{Put, Sink};

/// What kind of socket (or FIFO) `listen=` makes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SocketKind {
    Tcp,
    Udp,
    /// A Unix stream socket.
    Unix,
    UnixDgram,
    UnixSeqpacket,
    Fifo,
}

/// The kinds by their word, in the order the docs list them.
const KINDS: [(&str, SocketKind); 6] = [
    ("tcp", SocketKind::Tcp),
    ("udp", SocketKind::Udp),
    ("unix", SocketKind::Unix),
    ("unix-dgram", SocketKind::UnixDgram),
    ("unix-seqpacket", SocketKind::UnixSeqpacket),
    ("fifo", SocketKind::Fifo),
];

impl SocketKind {
    pub fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }

    /// TCP or UDP: an address and a port.
    pub fn is_inet(self) -> bool {
        matches!(self, SocketKind::Tcp | SocketKind::Udp)
    }

    /// Connections to accept: listen(2) with a backlog, `accept=yes`.
    pub fn is_stream(self) -> bool {
        matches!(
            self,
            SocketKind::Tcp | SocketKind::Unix | SocketKind::UnixSeqpacket
        )
    }
}

/// Where a socket is bound.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Addr<'a> {
    /// TCP, UDP: an address (`None`: every address, IPv6 and IPv4) and a
    /// port.
    Inet(Option<Ip<'a>>, u16),
    /// Unix sockets, FIFOs: an absolute path.
    Path(&'a str),
}

/// An IP address: as written (shown as is), and its bytes in network
/// order (IPv4: the first 4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ip<'a> {
    pub text: &'a str,
    pub v6: bool,
    pub bytes: [u8; 16],
}

impl Ip<'_> {
    /// `0.0.0.0` or `::`: every address of its family.
    pub fn is_any(&self) -> bool {
        self.bytes == [0; 16]
    }
}

/// One `listen=`, every part checked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Listen<'a> {
    pub kind: SocketKind,
    pub addr: Addr<'a>,
    /// Its LISTEN_FDNAMES entry; `None`: the unit's name.
    pub name: Option<&'a str>,
    /// listen(2)'s backlog (stream sockets).
    pub backlog: u32,
    /// The socket file's or FIFO's mode.
    pub mode: u16,
    pub owner: Option<Id<'a>>,
    pub group: Option<Id<'a>>,
    /// SO_REUSEPORT, IP_FREEBIND, IPV6_V6ONLY.
    pub reuseport: bool,
    pub freebind: bool,
    pub v6only: bool,
}

/// Defaults (docs/config.md, "Sockets").
pub const BACKLOG: u32 = 4096;
pub const MODE: u16 = 0o666;

/// Why a `listen=` value was refused: the part at fault and what was
/// expected there.
pub(crate) struct Bad<'a> {
    pub(crate) at: &'a str,
    pub(crate) expect: &'static str,
    pub(crate) hint: Hint<'a>,
}

fn bad<'a>(at: &'a str, expect: &'static str) -> Bad<'a> {
    Bad {
        at,
        expect,
        hint: Hint::None,
    }
}

const KIND_EXPECT: &str =
    "expected tcp:, udp:, unix:, unix-dgram:, unix-seqpacket: or fifo: and an address";
const OPTIONS: [&str; 8] = [
    "name",
    "backlog",
    "mode",
    "owner",
    "group",
    "reuseport",
    "freebind",
    "v6only",
];

impl<'a> Listen<'a> {
    /// Reads a `listen=` value, or says which part is wrong.
    #[inline(never)]
    pub(crate) fn parse(v: &'a str) -> Result<Listen<'a>, Bad<'a>> {
        let (head, opts) = value::cut(v, b',').map_or((v, None), |(h, o)| (h, Some(o)));
        let Some((word, rest)) = value::cut(head, b':') else {
            let hint = closest_of(head, &KINDS.map(|(n, _)| n));
            return Err(Bad {
                at: head,
                expect: KIND_EXPECT,
                hint,
            });
        };
        let Some(&(_, kind)) = KINDS.iter().find(|(n, _)| *n == word) else {
            // systemd's ListenStream= and the like are `unix:` here.
            let hint = match word {
                "unix-stream" | "stream" => Hint::Word("unix"),
                _ => closest_of(word, &KINDS.map(|(n, _)| n)),
            };
            return Err(Bad {
                at: word,
                expect: KIND_EXPECT,
                hint,
            });
        };
        let addr = if kind.is_inet() {
            inet(rest)?
        } else {
            Addr::Path(path(kind, rest)?)
        };
        let mut l = Listen {
            kind,
            addr,
            name: None,
            backlog: BACKLOG,
            mode: MODE,
            owner: None,
            group: None,
            reuseport: false,
            freebind: false,
            v6only: false,
        };
        let mut seen = 0u8;
        for item in opts.map(value::items).into_iter().flatten() {
            let key = value::head(item, b'=');
            let bit = OPTIONS.iter().position(|o| *o == key).map_or(0, |i| 1 << i);
            if seen & bit != 0 {
                return Err(bad(item, "each option once in a listen="));
            }
            seen |= bit;
            l.option(item)?;
        }
        Ok(l)
    }

    /// One `KEY=VALUE` or flag after the address.
    fn option(&mut self, item: &'a str) -> Result<(), Bad<'a>> {
        const STREAM: &str = "backlog= applies to tcp:, unix: and unix-seqpacket: sockets";
        const FILE: &str = "applies to unix sockets and FIFOs (a file)";
        const INET: &str = "applies to tcp: and udp: sockets";
        let (key, val) = value::cut(item, b'=').map_or((item, None), |(k, v)| (k, Some(v)));
        let inet = self.kind.is_inet();
        match (key, val) {
            ("name", Some(n)) if is_unit_name(n) => self.name = Some(n),
            ("name", _) => {
                return Err(bad(
                    item,
                    "expected name=NAME, 1 to 31 of A-Z a-z 0-9 _ . -",
                ))
            }
            ("backlog", _) if !self.kind.is_stream() => return Err(bad(item, STREAM)),
            ("backlog", Some(n)) => match value::int_in(n, 1, 65535) {
                Ok(n) => self.backlog = n as u32,
                Err(_) => return Err(bad(item, "expected backlog=N, N from 1 to 65535")),
            },
            ("mode" | "owner" | "group", _) if inet => return Err(bad(item, FILE)),
            ("mode", Some(m)) => match value::umask(m) {
                Some(m) => self.mode = m,
                None => return Err(bad(item, "expected mode=OCTAL, 0 to 0777 (0660)")),
            },
            ("owner", Some(u)) if value::is_id(u) => self.owner = Some(Id::of(u)),
            ("group", Some(g)) if value::is_id(g) => self.group = Some(Id::of(g)),
            ("owner" | "group", _) => {
                return Err(bad(item, "expected a user or group name, or a number"))
            }
            ("reuseport" | "freebind" | "v6only", _) if !inet => return Err(bad(item, INET)),
            ("reuseport", None) => self.reuseport = true,
            ("freebind", None) => self.freebind = true,
            ("v6only", None) => match self.addr {
                Addr::Inet(Some(Ip { v6: false, .. }), _) => {
                    return Err(bad(item, "v6only applies to an IPv6 address"))
                }
                _ => self.v6only = true,
            },
            ("reuseport" | "freebind" | "v6only", Some(_)) => {
                return Err(bad(item, "a flag: no value"))
            }
            _ => return Err(Bad {
                at: item,
                expect:
                    "expected name=, backlog=, mode=, owner=, group=, reuseport, freebind or v6only",
                hint: closest_of(key, &OPTIONS),
            }),
        }
        Ok(())
    }

    /// `KIND:ADDRESS`, as `pinit status` shows it.
    pub fn address(&self) -> Address<'a> {
        Address(self.kind, self.addr)
    }

    /// Two sockets that cannot both be bound: the same path, or the same
    /// protocol and port with addresses that overlap (an every-address
    /// one overlaps the specific ones of its family, and `[::]` without
    /// v6only takes IPv4 too). Both with `reuseport` share on purpose.
    pub fn clashes(&self, o: &Listen<'_>) -> bool {
        match (self.addr, o.addr) {
            (Addr::Path(a), Addr::Path(b)) => a == b,
            (Addr::Inet(a, p), Addr::Inet(b, q)) => {
                // Does address `x` (of a socket with `v6only`) take `y`?
                let covers = |x: Option<Ip<'_>>, v6only: bool, y: Option<Ip<'_>>| match (x, y) {
                    (None, Some(y)) => !v6only || y.v6,
                    (None, None) => true,
                    (Some(x), Some(y)) if x.v6 == y.v6 => x.is_any() || x.bytes == y.bytes,
                    (Some(x), Some(_)) => x.v6 && x.is_any() && !v6only,
                    (Some(_), None) => false,
                };
                self.kind == o.kind
                    && p == q
                    && !(self.reuseport && o.reuseport)
                    && (covers(a, self.v6only, b) || covers(b, o.v6only, a))
            }
            _ => false,
        }
    }
}

impl<'a> Unit<'a> {
    /// `listen=` sockets, in order: fd 3, 4, ... of the unit's process.
    pub fn listens(&self) -> impl Iterator<Item = Listen<'a>> + Clone + 'a {
        self.options_of(super::model::Lists::LISTEN)
            .filter(|(k, _)| *k == "listen")
            .filter_map(|(_, v)| Listen::parse(v).ok())
    }

    /// The name of socket `l` in LISTEN_FDNAMES: its `name=`, else the
    /// unit's.
    pub fn fd_name(&self, l: &Listen<'a>) -> &'a str {
        l.name.unwrap_or(self.name)
    }

    /// How many instance cgroups (`NAME@N`) the unit may have: its
    /// `max-instances=` with `accept=yes`, else none.
    pub fn instance_slots(&self) -> u16 {
        if self.accept {
            self.max_instances
        } else {
            0
        }
    }
}

/// `[HOST:]PORT` of tcp: and udp:.
fn inet(s: &str) -> Result<Addr<'_>, Bad<'_>> {
    const HOST: &str =
        "expected an IPv4 address like 127.0.0.1 or an IPv6 one in brackets like [::1]";
    let (ip, port) = match s.strip_prefix('[') {
        Some(r) => match value::cut(r, b']') {
            Some((h, p)) => match (ipv6(h), p.strip_prefix(':')) {
                (_, None) => return Err(bad(p, "expected :PORT after the IPv6 address")),
                (None, _) => return Err(bad(h, HOST)),
                (Some(bytes), Some(p)) => (
                    Some(Ip {
                        text: h,
                        v6: true,
                        bytes,
                    }),
                    p,
                ),
            },
            None => return Err(bad(s, "expected ']' after the IPv6 address")),
        },
        None => match value::cut(s, b':') {
            Some((_, p)) if value::has(p, b':') => {
                return Err(bad(s, "an IPv6 address goes in brackets: [::1]:80"))
            }
            Some((h, p)) => match ipv4(h) {
                Some(b) => {
                    let mut bytes = [0; 16];
                    bytes[..4].copy_from_slice(&b);
                    (
                        Some(Ip {
                            text: h,
                            v6: false,
                            bytes,
                        }),
                        p,
                    )
                }
                None => return Err(bad(h, HOST)),
            },
            None => (None, s),
        },
    };
    match value::int_in(port, 1, 65535) {
        Ok(p) => Ok(Addr::Inet(ip, p as u16)),
        Err(_) => Err(bad(port, "expected a port from 1 to 65535")),
    }
}

/// `a.b.c.d`, each 0 to 255 without leading zeros (not octal).
fn ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = value::items_by(s, b'.');
    for o in out.iter_mut() {
        let p = parts.next()?;
        if p.len() > 3 || p.len() > 1 && p.starts_with('0') {
            return None;
        }
        *o = u8::try_from(value::uint(p)?).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// RFC 4291 text: eight groups of 1 to 4 hex digits, one `::` for a run
/// of zero groups, the last 32 bits possibly as IPv4 (`::ffff:1.2.3.4`).
fn ipv6(s: &str) -> Option<[u8; 16]> {
    let (head, tail) = match s.as_bytes().windows(2).position(|w| w == b"::") {
        Some(i) => (s.get(..i)?, Some(s.get(i + 2..)?)),
        None => (s, None),
    };
    let mut h = [0u16; 8];
    let mut t = [0u16; 8];
    let nh = groups(head, &mut h, tail.is_none())?;
    let nt = tail.map_or(Some(0), |tail| groups(tail, &mut t, true))?;
    // `::` stands for one zero group at least.
    if (tail.is_none() && nh != 8) || (tail.is_some() && nh + nt > 7) {
        return None;
    }
    let mut all = [0u16; 8];
    all.get_mut(..nh)?.copy_from_slice(h.get(..nh)?);
    all.get_mut(8 - nt..)?.copy_from_slice(t.get(..nt)?);
    let mut out = [0u8; 16];
    for (pair, g) in out.chunks_exact_mut(2).zip(all) {
        pair.copy_from_slice(&g.to_be_bytes());
    }
    Some(out)
}

/// The `:`-separated groups of `s` into `out`; an IPv4 tail (if `v4`)
/// counts two. Their number; `None` if one is malformed.
fn groups(s: &str, out: &mut [u16; 8], v4: bool) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    let mut parts = value::items_by(s, b':').peekable();
    while let Some(p) = parts.next() {
        if v4 && parts.peek().is_none() && value::has(p, b'.') {
            let b = ipv4(p)?;
            *out.get_mut(n)? = u16::from_be_bytes([b[0], b[1]]);
            *out.get_mut(n + 1)? = u16::from_be_bytes([b[2], b[3]]);
            return Some(n + 2);
        }
        if p.is_empty() || p.len() > 4 {
            return None;
        }
        *out.get_mut(n)? = u16::from_str_radix(p, 16).ok()?;
        n += 1;
    }
    Some(n)
}

fn path(kind: SocketKind, p: &str) -> Result<&str, Bad<'_>> {
    let (max, long) = match kind {
        SocketKind::Fifo => (FIFO_PATH_MAX, "longer than 255 bytes (the limit)"),
        _ => (
            SOCKET_PATH_MAX,
            "longer than 107 bytes (a socket address's limit)",
        ),
    };
    if !p.starts_with('/') {
        return Err(bad(p, "expected an absolute path"));
    }
    if p.len() > max {
        return Err(bad(p, long));
    }
    Ok(p)
}

/// `KIND:ADDRESS`: `tcp:80`, `tcp:127.0.0.1:80`, `udp:[::1]:53`,
/// `unix:/run/x.sock`.
#[derive(Clone, Copy)]
pub struct Address<'a>(SocketKind, Addr<'a>);

impl Put for Address<'_> {
    fn put(&self, s: &mut dyn Sink) {
        crate::fill!(s, "{}:", self.0.name());
        match self.1 {
            Addr::Path(p) => s.str(p),
            Addr::Inet(None, port) => port.put(s),
            Addr::Inet(Some(ip), port) if ip.v6 => crate::fill!(s, "[{}]:{}", ip.text, port),
            Addr::Inet(Some(ip), port) => crate::fill!(s, "{}:{}", ip.text, port),
        }
    }
}

crate::display_by_put!(Address<'_>);

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    fn ok(v: &str) -> Listen<'_> {
        match Listen::parse(v) {
            Ok(l) => l,
            Err(b) => panic!("{}: {} at {}", v, b.expect, b.at),
        }
    }

    #[test]
    fn addresses_print_as_written() {
        for v in [
            "tcp:80",
            "tcp:127.0.0.1:8080",
            "udp:[::1]:53",
            "tcp:[::]:22",
            "unix:/run/a.sock",
            "fifo:/run/f",
        ] {
            assert_eq!(ok(v).address().to_string(), v);
        }
    }

    #[test]
    fn ip_addresses() {
        let v6 = |s: &str| ipv6(s).map(core::net::Ipv6Addr::from);
        for a in [
            "::",
            "::1",
            "1::",
            "fe80::1:2",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6::8",
            "::ffff:10.0.0.1",
            "64:ff9b::192.0.2.33",
            "1::2:3:4:5:6:7",
        ] {
            assert_eq!(v6(a), a.parse().ok(), "{a}");
        }
        for bad in [
            "",
            ":",
            ":::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1::2::3",
            "12345::",
            "g::",
            "::1.2.3",
            "1.2.3.4::",
            "1:2:3:4:5:6:7::8",
            ":1::",
            "1::2:",
        ] {
            assert_eq!(v6(bad), None, "{bad}");
        }
        assert_eq!(ipv4("10.0.255.1"), Some([10, 0, 255, 1]));
        for bad in [
            "1.2.3",
            "1.2.3.4.5",
            "256.0.0.1",
            "01.2.3.4",
            "1..3.4",
            "a.b.c.d",
            "",
        ] {
            assert_eq!(ipv4(bad), None, "{bad}");
        }
    }

    #[test]
    fn clashes() {
        let c = |a: &str, b: &str| ok(a).clashes(&ok(b));
        assert!(c("tcp:80", "tcp:127.0.0.1:80"));
        assert!(c("tcp:0.0.0.0:80", "tcp:127.0.0.1:80"));
        assert!(c("tcp:[::]:80", "tcp:127.0.0.1:80"));
        assert!(!c("tcp:[::]:80,v6only", "tcp:127.0.0.1:80"));
        assert!(!c("tcp:80", "udp:80"));
        assert!(!c("tcp:80", "tcp:81"));
        assert!(!c("tcp:127.0.0.1:80", "tcp:127.0.0.2:80"));
        assert!(!c("tcp:80,reuseport", "tcp:80,reuseport"));
        assert!(c("unix:/a", "fifo:/a"));
        assert!(!c("unix:/a", "tcp:80"));
    }
}
