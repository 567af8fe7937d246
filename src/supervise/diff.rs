//! What a reload changes (docs/design.md §13), pure: the units of the new
//! table against the running ones, matched by name, and its system
//! statements against the old ones. The supervisor applies the units'
//! part, boot/reload.rs the statements'.
//!
//! A unit is compared by what it is: its kind, its command, its options
//! in any order, and the global `env` entries it does not override. An
//! option is one of three sorts:
//!
//! - a cgroup limit (`cgroup_limits::LIMITS`): written in place, the
//!   unit keeps running — except `cpuset=` of a unit with `cpus=` or
//!   `isolate=yes` and `mems=` of one with `numa=` (a cpuset change resets
//!   the affinity and memory policy its processes set for themselves);
//! - a setting only the supervisor reads (`SETTINGS`): taken in place,
//!   it counts from the unit's next event on;
//! - anything else (the command, the environment, the user, placement,
//!   and any option added later): the unit is restarted.

use crate::place::cgroup_limits::LIMITS;
use crate::supervise::order::Set;
use crate::table::{capacity::UNITS_MAX, Setup, Table, Unit, Word};

/// Options the supervisor alone reads: a change is taken in place.
pub(crate) const SETTINGS: [&str; 11] = [
    "after",
    "needs",
    "if",
    "restart",
    "restart-delay",
    "restart-max",
    "restart-limit",
    "ready-timeout",
    "stop-signal",
    "stop-timeout",
    "reload-signal",
];

/// The bits of an in-place mask that are cgroup limits (bit `i` is
/// `LIMITS[i]`; the settings follow).
pub(crate) const LIMIT_BITS: u32 = (1 << LIMITS.len()) - 1;

/// What became of a unit of the new table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Change {
    /// Not in the old table: started.
    New,
    /// At this index of the old table; the options of `in_place` (a mask
    /// over `LIMITS` then `SETTINGS`, 0 for none) changed, nothing else.
    Kept { old: u16, in_place: u32 },
    /// At this index of the old table, with a different definition:
    /// restarted.
    Changed { old: u16 },
}

impl Change {
    /// The unit's index in the old table, if it was there.
    pub(crate) fn old(self) -> Option<usize> {
        match self {
            Change::New => None,
            Change::Kept { old, .. } | Change::Changed { old } => Some(usize::from(old)),
        }
    }
}

/// The units' side of a reload.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Diff {
    /// One per unit of the new table, in its order.
    pub(crate) units: heapless::Vec<Change, UNITS_MAX>,
    /// The old units that are gone: stopped.
    pub(crate) removed: Set,
}

impl Diff {
    /// Where each unit of the new table takes its slot from: a kept
    /// unit its old one, a new unit the slot of a removed one or, when
    /// there are none left, a fresh one past the old table's end
    /// (`old_len`, `old_len + 1`, ...). The slots needed are
    /// `max(old_len, new units)`.
    pub(crate) fn sources(&self, old_len: usize) -> heapless::Vec<u16, UNITS_MAX> {
        let mut donors = self.removed.iter().chain(old_len..);
        self.units
            .iter()
            .filter_map(|c| match c.old() {
                Some(i) => Some(i as u16),
                None => donors.next().map(|d| d as u16),
            })
            .collect()
    }
}

/// Reorders `items` so that position `j` holds what was at `src[j]`
/// (distinct indices below `items.len()`); the items no one asked for
/// end up past `src.len()`. In place, by swaps.
pub(crate) fn permute<T>(items: &mut [T], src: &[u16]) {
    // at[k]: the original index now at position k; pos: the reverse.
    let mut at = [0u16; UNITS_MAX];
    let mut pos = [0u16; UNITS_MAX];
    for k in 0..items.len().min(UNITS_MAX) {
        if let (Some(a), Some(p)) = (at.get_mut(k), pos.get_mut(k)) {
            *a = k as u16;
            *p = k as u16;
        }
    }
    for (j, &s) in src.iter().enumerate() {
        let (Some(&p), Some(&was)) = (pos.get(usize::from(s)), at.get(j)) else {
            return;
        };
        let p = usize::from(p);
        if p == j || p >= items.len() {
            continue;
        }
        items.swap(j, p);
        if let (Some(a), Some(b)) = (at.get_mut(j), pos.get_mut(usize::from(s))) {
            *a = s;
            *b = j as u16;
        }
        if let (Some(a), Some(b)) = (at.get_mut(p), pos.get_mut(usize::from(was))) {
            *a = was;
            *b = p as u16;
        }
    }
}

/// Compares the units of `new` with those of `old`.
pub(crate) fn units(old: &Table<'_>, new: &Table<'_>) -> Diff {
    let mut d = Diff {
        units: heapless::Vec::new(),
        removed: Set::first(old.units.len()),
    };
    for n in new.units.iter() {
        let c = match old.find(n.name).and_then(|i| Some((i, old.units.get(i)?))) {
            None => Change::New,
            Some((i, o)) => {
                d.removed.remove(i);
                let i = i as u16;
                match in_place(old, o, new, n) {
                    Some(in_place) => Change::Kept { old: i, in_place },
                    None => Change::Changed { old: i },
                }
            }
        };
        // Same capacity as the table: cannot fail.
        let _ = d.units.push(c);
    }
    d
}

/// `None` if unit `o` of `ot` and unit `n` of `nt` differ in more than
/// what can change in place; else the mask of what changed in place.
fn in_place(ot: &Table<'_>, o: &Unit<'_>, nt: &Table<'_>, n: &Unit<'_>) -> Option<u32> {
    let restarts = o.kind != n.kind
        || !o.argv().map(|w| w.raw()).eq(n.argv().map(|w| w.raw()))
        || !globals(ot, o).eq(globals(nt, n))
        || !same_options(o, n)
        || !same_sockets(o, n);
    if restarts {
        return None;
    }
    let mut mask = 0;
    for (bit, key) in in_place_keys().enumerate() {
        if !value(o, key).eq(value(n, key)) {
            mask |= 1 << bit;
        }
    }
    Some(mask)
}

/// Whether units `o` and `n` bind the same sockets, which a reload
/// then keeps open: the same `listen=` values in the same order (fds 3,
/// 4, ... and LISTEN_FDNAMES follow it) and the same `accept=` (PID 1
/// accepts on a non-blocking socket).
pub(crate) fn same_sockets(o: &Unit<'_>, n: &Unit<'_>) -> bool {
    o.accept == n.accept && value(o, "listen").eq(value(n, "listen"))
}

/// The keys of an in-place mask, bit by bit.
pub(crate) fn in_place_keys() -> impl Iterator<Item = &'static str> + Clone {
    LIMITS.iter().map(|l| l.0).chain(SETTINGS.iter().copied())
}

/// The bit of option `key` in an in-place mask (0 if it has none).
pub(crate) fn bit(key: &str) -> u32 {
    in_place_keys().position(|k| k == key).map_or(0, |i| 1 << i)
}

/// Whether option `key` of unit `u` changes in place.
fn takes_in_place(u: Pinned, key: &str) -> bool {
    match key {
        "cpuset" => !u.0,
        "mems" => !u.1,
        _ => in_place_keys().any(|k| k == key),
    }
}

/// What decides whether a cpuset change can be made in place: the unit
/// isolates or sets `cpus=` (its cpuset is not live), it sets `numa=`
/// (its `mems=` is not).
#[derive(Clone, Copy)]
struct Pinned(bool, bool);

impl Pinned {
    fn of(u: &Unit<'_>) -> Pinned {
        let x = u.extra();
        Pinned(u.isolate || x.cpus.is_some(), x.numa.is_some())
    }
}

/// The options of `o` and `n` that restart the unit are the same, in
/// any order.
fn same_options(o: &Unit<'_>, n: &Unit<'_>) -> bool {
    let (po, pn) = (Pinned::of(o), Pinned::of(n));
    let count = |u: &Unit<'_>, pin, opt: (&str, &str)| fixed(u, pin).filter(|&x| x == opt).count();
    fixed(o, po).count() == fixed(n, pn).count()
        && fixed(o, po).all(|opt| count(o, po, opt) == count(n, pn, opt))
}

/// The options of `u` (`pin`: its `Pinned::of`) whose change restarts it.
fn fixed<'a>(u: &Unit<'a>, pin: Pinned) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    u.options().filter(move |(k, _)| !takes_in_place(pin, k))
}

/// The values of option `key`, as written, in order.
fn value<'a>(u: &Unit<'a>, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    u.options().filter(move |(k, _)| *k == key).map(|(_, v)| v)
}

/// The global `env` entries unit `u` of `t` does not override, as written.
fn globals<'a>(t: &'a Table<'_>, u: &'a Unit<'_>) -> impl Iterator<Item = &'a str> + 'a {
    t.env
        .iter()
        .filter(move |g| !u.env().any(|w| env_key(w).eq(env_key(**g))))
        .map(|g| g.raw())
}

/// The KEY of an `env` entry `KEY=VALUE`.
fn env_key(w: Word<'_>) -> impl Iterator<Item = u8> + '_ {
    w.bytes().take_while(|&b| b != b'=')
}

/// What a reload does with a system statement of the new table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Again {
    /// As in the old table: nothing.
    Same,
    /// New, or changed: applied now.
    Apply,
    /// A mount whose options changed: remounted with them.
    Remount,
    /// A mount whose source or type changed: left as it is until a reboot.
    Reboot,
}

/// Each system statement of `new`, with what a reload does with it.
pub(crate) fn setup<'a, 't>(
    old: &'a Table<'_>,
    new: &'a Table<'t>,
) -> impl Iterator<Item = (&'a Setup<'t>, Again)> + 'a {
    new.setup.iter().map(move |s| {
        let before = old.setup.iter().rev().find(|o| same_target(o, s));
        let again = match (before, s) {
            // An fstab's mounts are made once: mounting them again would
            // mount over what runs (docs/config.md §8).
            (None, Setup::Fstab(_)) => Again::Reboot,
            (Some(o), Setup::Fstab(_)) if o != s => Again::Reboot,
            (None, _) => Again::Apply,
            (Some(o), _) if o == s => Again::Same,
            (Some(Setup::Mount(o)), Setup::Mount(m)) => {
                if o.source == m.source && o.fstype == m.fstype {
                    Again::Remount
                } else {
                    Again::Reboot
                }
            }
            (Some(_), _) => Again::Apply,
        };
        (s, again)
    })
}

/// The statements of `old` that `new` has no counterpart for: left as
/// they are (a removed mount stays mounted, a removed sysctl keeps its
/// value) until a reboot.
pub(crate) fn setup_gone<'a, 't>(
    old: &'a Table<'t>,
    new: &'a Table<'_>,
) -> impl Iterator<Item = &'a Setup<'t>> + 'a {
    old.setup
        .iter()
        .filter(move |o| !new.setup.iter().any(|s| same_target(o, s)))
}

/// Whether two statements set the same thing (the host name, a mount
/// point, an fstab file, a sysctl key, the IRQ affinity, the seed file).
fn same_target(a: &Setup<'_>, b: &Setup<'_>) -> bool {
    match (a, b) {
        (
            Setup::Hostname(_) | Setup::HostnameFile(..),
            Setup::Hostname(_) | Setup::HostnameFile(..),
        )
        | (Setup::IrqAffinity(_), Setup::IrqAffinity(_))
        | (Setup::RandomSeed(_), Setup::RandomSeed(_)) => true,
        (Setup::Fstab(x), Setup::Fstab(y)) => x.file == y.file,
        (Setup::Mount(x), Setup::Mount(y)) => x.target == y.target,
        (Setup::Sysctl(x), Setup::Sysctl(y)) => x.key == y.key,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::boxed::Box;
    use std::string::String;
    use std::vec::Vec;

    fn table(conf: &str) -> &'static Table<'static> {
        let text: &'static [u8] = String::from(conf).leak().as_bytes();
        let t = Box::leak(Box::new(Table::new()));
        assert_eq!(
            crate::table::parse("t.conf", text, t, &mut |d| panic!("{}", d)),
            0
        );
        t
    }

    fn diff(old: &str, new: &str) -> Diff {
        units(table(old), table(new))
    }

    fn kept(old: u16, keys: &[&str]) -> Change {
        let mut in_place = 0;
        for k in keys {
            let bit = in_place_keys().position(|x| x == *k).unwrap();
            in_place |= 1 << bit;
        }
        Change::Kept { old, in_place }
    }

    const OLD: &str = "service a -- /a\n\
        service b mem.max=64M -- /b\n\
        service c -- /c x\n\
        service d after=a -- /d\n";

    #[test]
    fn an_unchanged_table_changes_nothing() {
        let d = diff(OLD, OLD);
        assert_eq!(
            &d.units[..],
            &[kept(0, &[]), kept(1, &[]), kept(2, &[]), kept(3, &[])]
        );
        assert!(d.removed.is_empty());
    }

    #[test]
    fn removed_added_restarted_and_in_place() {
        let new = "service c -- /c y\n\
            service b mem.max=32M -- /b\n\
            service e needs=c -- /e\n\
            service a -- /a\n";
        let d = diff(OLD, new);
        assert_eq!(
            &d.units[..],
            &[
                Change::Changed { old: 2 },
                kept(1, &["mem.max"]),
                Change::New,
                kept(0, &[])
            ]
        );
        assert_eq!(d.removed.iter().collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn options_compare_in_any_order_and_by_word() {
        let old = "service a user=1 nice=5 mem.max=1M -- /a \"x y\"\n";
        let d = diff(old, "service a   nice=5 user=1 mem.max=1M -- /a  \"x y\"\n");
        assert_eq!(&d.units[..], &[kept(0, &[])]);
        for new in [
            "service a user=1 nice=6 mem.max=1M -- /a \"x y\"\n",
            "service a user=1 mem.max=1M -- /a \"x y\"\n",
            "service a user=1 nice=5 mem.max=1M -- /a x y\n",
            "task a user=1 nice=5 mem.max=1M -- /a \"x y\"\n",
            "service a user=1 nice=5 mem.max=1M env=A=1 -- /a \"x y\"\n",
        ] {
            assert_eq!(
                &diff(old, new).units[..],
                &[Change::Changed { old: 0 }],
                "{}",
                new
            );
        }
    }

    #[test]
    fn sockets_are_the_same_only_in_the_same_order() {
        let old = "service a listen=tcp:80 listen=unix:/run/a.sock nice=1 -- /a\n";
        let d = diff(
            old,
            "service a nice=1 listen=tcp:80 listen=unix:/run/a.sock -- /a\n",
        );
        assert_eq!(&d.units[..], &[kept(0, &[])]);
        // Swapped: fd 3 would be the Unix socket.
        let d = diff(
            old,
            "service a listen=unix:/run/a.sock listen=tcp:80 nice=1 -- /a\n",
        );
        assert_eq!(&d.units[..], &[Change::Changed { old: 0 }]);
        let same = |a: &str, b: &str| same_sockets(&table(a).units[0], &table(b).units[0]);
        assert!(same(
            old,
            "service a listen=tcp:80 listen=unix:/run/a.sock -- /b\n"
        ));
        assert!(!same(
            old,
            "service a listen=tcp:80,backlog=9 listen=unix:/run/a.sock -- /a\n"
        ));
        assert!(!same(old, "service a listen=tcp:80 -- /a\n"));
        assert!(!same(
            "service a listen=tcp:80 -- /a\n",
            "service a listen=tcp:80 accept=yes -- /a\n"
        ));
    }

    #[test]
    fn limits_and_settings_change_in_place() {
        let old = "service a mem.max=1M cpu.weight=100 stop-timeout=1s -- /a\n";
        let new = "service a cpu.weight=200 pids.max=9 after=b restart-max=2s -- /a\n\
            service b -- /b\n";
        let d = diff(old, new);
        assert_eq!(
            d.units[0],
            kept(
                0,
                &[
                    "mem.max",
                    "pids.max",
                    "cpu.weight",
                    "after",
                    "restart-max",
                    "stop-timeout"
                ]
            )
        );
        match d.units[0] {
            Change::Kept { in_place, .. } => assert_eq!(in_place & LIMIT_BITS, 0b110001),
            c => panic!("{:?}", c),
        }
    }

    #[test]
    fn a_cpuset_change_restarts_what_pins_itself() {
        let d = diff("service a cpuset=0 -- /a\n", "service a cpuset=1 -- /a\n");
        assert_eq!(d.units[0], kept(0, &["cpuset"]));
        for (old, new) in [
            (
                "service a cpus=0 cpuset=0-1 -- /a\n",
                "service a cpus=0 cpuset=0-2 -- /a\n",
            ),
            (
                "service a cpuset=0 isolate=yes -- /a\n",
                "service a cpuset=1 isolate=yes -- /a\n",
            ),
            (
                "service a mems=0 numa=local -- /a\n",
                "service a mems=1 numa=local -- /a\n",
            ),
        ] {
            assert_eq!(
                diff(old, new).units[0],
                Change::Changed { old: 0 },
                "{}",
                new
            );
        }
        let d = diff("service a mems=0 -- /a\n", "service a mems=1 -- /a\n");
        assert_eq!(d.units[0], kept(0, &["mems"]));
    }

    #[test]
    fn the_global_env_counts_where_a_unit_does_not_override_it() {
        let old = "env A=1\nenv B=2\nservice a -- /a\nservice b env=A=9 -- /b\n";
        let new = "env A=3\nenv B=2\nservice a -- /a\nservice b env=A=9 -- /b\n";
        let d = diff(old, new);
        assert_eq!(&d.units[..], &[Change::Changed { old: 0 }, kept(1, &[])]);
    }

    #[test]
    fn slots_come_from_kept_units_then_removed_ones_then_fresh() {
        let d = diff(
            OLD,
            "service x -- /x\nservice c -- /c x\nservice y -- /y\nservice z -- /z\n",
        );
        // a, b and d are gone; x and y take the slots of a and b, z
        // that of d, none is fresh.
        assert_eq!(&d.sources(4)[..], &[0, 2, 1, 3]);
        let d = diff(
            "service a -- /a\n",
            "service n -- /n\nservice m -- /m\nservice a -- /a\n",
        );
        assert_eq!(&d.sources(1)[..], &[1, 2, 0]);
    }

    #[test]
    fn permute_moves_each_item_to_its_place() {
        for (len, src) in [
            (4, &[0u16, 2, 1, 3][..]),
            (3, &[1, 2, 0]),
            (5, &[4, 0]),
            (3, &[2, 0, 1]),
            (1, &[0]),
            (0, &[]),
        ] {
            let mut v: Vec<u16> = (0..len).collect();
            permute(&mut v, src);
            assert_eq!(&v[..src.len()], src, "{:?}", src);
            let mut rest: Vec<u16> = v[src.len()..].to_vec();
            rest.sort();
            let mut want: Vec<u16> = (0..len).filter(|i| !src.contains(i)).collect();
            want.sort();
            assert_eq!(rest, want);
        }
    }

    #[test]
    fn system_statements_again_only_when_changed() {
        let old = table(
            "hostname a\nmount tmpfs /tmp tmpfs size=1M\nmount none /x proc\n\
             sysctl kernel.x 1\nsysctl kernel.y 2\nirq-affinity 0\n",
        );
        let new = table(
            "hostname b\nmount tmpfs /tmp tmpfs size=2M\nmount none /x sysfs\n\
             sysctl kernel.x 1\nsysctl kernel.z 3\nirq-affinity 0\n",
        );
        let got: Vec<Again> = setup(old, new).map(|(_, a)| a).collect();
        assert_eq!(
            got,
            [
                Again::Apply,
                Again::Remount,
                Again::Reboot,
                Again::Same,
                Again::Apply,
                Again::Same
            ]
        );
        let gone: Vec<_> = setup_gone(old, new).collect();
        assert!(matches!(gone[..], [Setup::Sysctl(s)] if s.key == "kernel.y"));
    }
}
