//! Checks beyond syntax. Per unit: options that do not apply to its
//! kind, options that contradict each other. Across the table: `after=`
//! and `needs=` resolved to unit indices, dependency cycles, the start
//! order, terminals shared by two tty units, CPUs claimed by an isolated
//! unit and used by another, each unit's environment within spawn's room.

use super::capacity::{CPUS_MAX, CYCLE_SHOWN, ENV_BYTES_MAX, SOCKETS_MAX, UNITS_MAX};
use super::diag::{closest, ParseError, Report};
use super::lex;
use super::listen::Listen;
use super::model::{
    Kill, Numa, Ready, Restart, Sched, Setup, Start, Table, Unit, UnitKind, NEEDS_BIT,
};
use super::options::{Opt, Seen};
use super::value::{self, is_unit_name, Mask};
use heapless::Vec;

fn seen<'a>(s: &Seen<'a>, o: Opt) -> Option<&'a str> {
    s.get(o as usize).copied().flatten()
}

/// The rules of one unit, given the options it set (`seen`).
#[inline(never)]
pub(crate) fn unit_rules<'a>(rep: &mut Report<'_, 'a>, u: &Unit<'a>, s: &Seen<'a>) {
    let x = u.extra();
    kind_rules(rep, u, s);
    socket_rules(rep, u, s);
    if u.restart == Restart::Never && !u.accept {
        let msg = if seen(s, Opt::Restart).is_some() {
            "has no effect with restart=never"
        } else {
            "has no effect with restart=never (a task's default)"
        };
        for o in [Opt::RestartDelay, Opt::RestartMax, Opt::RestartLimit] {
            if let Some(t) = seen(s, o) {
                rep.on(t, ParseError::Conflict { opt: t, msg });
            }
        }
    }
    if let (UnitKind::Service, Ready::None, Some(t)) = (u.kind, u.ready, seen(s, Opt::ReadyTimeout))
    {
        let msg =
            "needs ready=notify, ready=fd:N or ready=forked (else a unit is ready once started)";
        rep.on(t, ParseError::Conflict { opt: t, msg });
    }
    if let (UnitKind::Service, false, Some(t)) =
        (u.kind, u.ready == Ready::Notify, seen(s, Opt::Watchdog))
    {
        let msg = "needs ready=notify (the pings are sd_notify messages)";
        rep.on(t, ParseError::Conflict { opt: t, msg });
    }
    forked_rules(rep, u, s);
    if let (false, Some(t)) = (u.runtime_dirs().next().is_some(), seen(s, Opt::RunDirKeep)) {
        if u.runtime_dir_keep {
            let msg = "has no effect without runtime-dir=";
            rep.on(t, ParseError::Conflict { opt: t, msg });
        }
    }
    if let (true, None, Some(t)) = (u.isolate, x.cpuset, seen(s, Opt::Isolate)) {
        let msg = "needs cpuset= (the CPUs to isolate)";
        rep.on(t, ParseError::Conflict { opt: t, msg });
    }
    if let (Some(cpus), Some(set), Some(t)) = (x.cpus, x.cpuset, seen(s, Opt::Cpus)) {
        if !cpus.mask().is_subset(&set.mask()) {
            let msg = "names CPUs outside cpuset= (the kernel would refuse them)";
            rep.on(t, ParseError::Conflict { opt: t, msg });
        }
    }
    if let (Some(numa), Some(mems), Some(t)) = (x.numa, x.mems, seen(s, Opt::Numa)) {
        let nodes = match numa {
            Numa::Bind(l) | Numa::Interleave(l) => l.mask(),
            Numa::Preferred(n) => {
                let mut m = Mask::EMPTY;
                m.set(n as usize);
                m
            }
            Numa::Local => Mask::EMPTY,
        };
        if !nodes.is_subset(&mems.mask()) {
            let msg = "names nodes outside mems= (the kernel would refuse them)";
            rep.on(t, ParseError::Conflict { opt: t, msg });
        }
    }
    let mem = [
        (
            Opt::MemLow,
            x.mem_low,
            Opt::MemHigh,
            x.mem_high,
            "is above mem.high=",
        ),
        (
            Opt::MemHigh,
            x.mem_high,
            Opt::MemMax,
            x.mem_max,
            "is above mem.max=",
        ),
        (
            Opt::MemLow,
            x.mem_low,
            Opt::MemMax,
            x.mem_max,
            "is above mem.max=",
        ),
    ];
    for (a, va, b, vb, msg) in mem {
        if let (Some(x), Some(y), Some(t)) = (va.value(), vb.value(), seen(s, a)) {
            if x > y && seen(s, b).is_some() {
                rep.on(t, ParseError::Conflict { opt: t, msg });
            }
        }
    }
    if let (Some(Sched::Fifo(_) | Sched::Rr(_)), Some(t)) = (x.sched, seen(s, Opt::Nice)) {
        let msg = "has no effect with a real-time sched= (fifo, rr)";
        rep.on(t, ParseError::Conflict { opt: t, msg });
    }
}

/// The unit's `listen=` tokens (`listen=VALUE`, as written) and values.
fn listens<'a>(u: &Unit<'a>) -> impl Iterator<Item = (&'a str, Listen<'a>)> + Clone {
    lex::tokens(u.opts).filter_map(|t| match lex::split_key(t) {
        Some(("listen", v)) => Some((t, Listen::parse(v).ok()?)),
        _ => None,
    })
}

/// `start=`, `accept=`, `max-instances=` against the unit's sockets and
/// the options an inetd-style unit has no use for.
#[inline(never)]
fn socket_rules<'a>(rep: &mut Report<'_, 'a>, u: &Unit<'a>, s: &Seen<'a>) {
    let conflict = |rep: &mut Report<'_, 'a>, o: Opt, msg: &'static str| {
        if let Some(t) = seen(s, o) {
            rep.on(t, ParseError::Conflict { opt: t, msg });
        }
    };
    let count = listens(u).count();
    if count == 0 && u.accept {
        conflict(
            rep,
            Opt::Accept,
            "needs listen= (the sockets to accept connections on)",
        );
    } else if count == 0 && u.start == Start::OnDemand {
        conflict(
            rep,
            Opt::Start,
            "needs listen= (the sockets whose first connection starts it)",
        );
    } else if !u.accept {
        conflict(rep, Opt::MaxInstances, "needs accept=yes");
    } else {
        for (t, _) in listens(u).filter(|(_, l)| !l.kind.is_stream()) {
            let msg = "is not a stream socket: accept=yes takes tcp:, unix: and unix-seqpacket:";
            rep.on(t, ParseError::Conflict { opt: t, msg });
        }
        conflict(
            rep,
            Opt::Start,
            "does not apply with accept=yes: each connection starts an instance",
        );
        for o in [
            Opt::Restart,
            Opt::RestartDelay,
            Opt::RestartMax,
            Opt::RestartLimit,
        ] {
            conflict(
                rep,
                o,
                "has no effect with accept=yes: instances are never restarted",
            );
        }
        for o in [Opt::Ready, Opt::ReadyTimeout] {
            conflict(
                rep,
                o,
                "does not apply with accept=yes: an instance serves one connection",
            );
        }
    }
    if let Ready::Fd(n) = u.ready {
        if (3..3 + count).contains(&usize::from(n)) {
            let msg = "is an fd a listen= socket takes (they are fds 3, 4, ... in order)";
            conflict(rep, Opt::Ready, msg);
        }
    }
}

/// `pidfile=` belongs to `ready=forked`; `kill=main` there needs it.
fn forked_rules<'a>(rep: &mut Report<'_, 'a>, u: &Unit<'a>, s: &Seen<'a>) {
    if let (false, Some(t)) = (u.ready == Ready::Forked, seen(s, Opt::Pidfile)) {
        let msg = "needs ready=forked (the pidfile names a forked daemon's main process)";
        rep.on(t, ParseError::Conflict { opt: t, msg });
    }
    if let (Ready::Forked, Kill::Main, None, Some(t)) =
        (u.ready, u.kill, u.pidfile, seen(s, Opt::Kill))
    {
        let msg = "with ready=forked needs pidfile= (processes left from an earlier run could not be told from the new daemon)";
        rep.on(t, ParseError::Conflict { opt: t, msg });
    }
}

/// Values that do not apply to the unit's kind.
fn kind_rules<'a>(rep: &mut Report<'_, 'a>, u: &Unit<'a>, s: &Seen<'a>) {
    if let (UnitKind::Task, Restart::Always, Some(t)) = (u.kind, u.restart, seen(s, Opt::Restart)) {
        let why = "a task runs once (restart=on-failure retries a failed one)";
        rep.on(
            t,
            ParseError::NotForKind {
                opt: t,
                kind: "task",
                why,
            },
        );
    }
}

/// The checks that need the whole table; fills `deps` and `order`.
pub(crate) fn table<'a>(rep: &mut Report<'_, 'a>, t: &mut Table<'a>) {
    log_default(t);
    resolve(rep, t);
    cycles(rep, t);
    order(t);
    terminals(rep, t);
    isolation(rep, t);
    environments(rep, t);
    sockets(rep, t);
}

/// Each unit's environment from the table fits spawn's buffer: its
/// `env=` entries and the `env` statements it inherits, as exec gets them.
#[inline(never)]
fn environments<'a>(rep: &mut Report<'_, 'a>, t: &Table<'a>) {
    for u in t.units.iter() {
        let bytes: usize = t.env_of(u).map(|w| w.bytes().count() + 1).sum();
        if bytes > ENV_BYTES_MAX {
            rep.on(
                u.name,
                ParseError::EnvTooLarge {
                    name: u.name,
                    bytes,
                },
            );
        }
    }
}

/// The `log` statement: the `log=` of every service and task without one.
fn log_default(t: &mut Table<'_>) {
    let Some(log) = t.log() else {
        return;
    };
    for u in t.units.iter_mut() {
        if u.kind != UnitKind::Tty && !u.options().any(|(k, _)| k == "log") {
            u.log = log;
        }
    }
}

/// `after=` and `needs=` names to indices (a name in both is `needs`).
#[inline(never)]
fn resolve<'a>(rep: &mut Report<'_, 'a>, t: &mut Table<'a>) {
    for i in 0..t.units.len() {
        let Some(opts) = t.units.get(i).map(|u| u.opts) else {
            continue;
        };
        for (key, v) in lex::tokens(opts).filter_map(lex::split_key) {
            let (needs, key) = match key {
                "after" => (false, "after"),
                "needs" => (true, "needs"),
                _ => continue,
            };
            for name in value::items(v).filter(|n| is_unit_name(n)) {
                match t.find(name) {
                    Some(j) => add_dep(t, i, j, needs),
                    None => {
                        let hint = closest(name, &mut t.units.iter().map(|u| u.name));
                        rep.on(name, ParseError::UnknownUnit { name, key, hint });
                    }
                }
            }
        }
    }
}

fn add_dep(t: &mut Table<'_>, i: usize, j: usize, needs: bool) {
    let Some(u) = t.units.get_mut(i) else {
        return;
    };
    let j = j as u16;
    let bit = if needs { NEEDS_BIT } else { 0 };
    match u.deps.iter_mut().find(|d| **d & !NEEDS_BIT == j) {
        Some(d) => *d |= bit,
        // The count was checked while parsing.
        None => {
            let _ = u.deps.push(j | bit);
        }
    }
}

/// Depth-first search; each edge back to a unit on the path is a cycle.
#[inline(never)]
fn cycles<'a>(rep: &mut Report<'_, 'a>, t: &Table<'a>) {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let mut color = [WHITE; UNITS_MAX];
    let mut stack: Vec<(u16, u8), UNITS_MAX> = Vec::new();
    for root in 0..t.units.len() {
        match color.get_mut(root) {
            Some(c) if *c == WHITE => *c = GREY,
            _ => continue,
        }
        let _ = stack.push((root as u16, 0));
        while let Some(top) = stack.last_mut() {
            let (u, k) = *top;
            let dep = t
                .units
                .get(usize::from(u))
                .and_then(|x| x.deps.get(usize::from(k)))
                .copied();
            let Some(d) = dep else {
                if let Some(c) = color.get_mut(usize::from(u)) {
                    *c = BLACK;
                }
                stack.pop();
                continue;
            };
            top.1 = k.saturating_add(1);
            let v = usize::from(d & !NEEDS_BIT);
            match color.get_mut(v) {
                Some(c) if *c == WHITE => {
                    *c = GREY;
                    let _ = stack.push((v as u16, 0));
                }
                Some(c) if *c == GREY => report_cycle(rep, t, &stack, v),
                _ => {}
            }
        }
    }
}

#[inline(never)]
fn report_cycle<'a>(rep: &mut Report<'_, 'a>, t: &Table<'a>, stack: &[(u16, u8)], v: usize) {
    let name = |i: usize| t.units.get(i).map_or("", |u| u.name);
    let from = stack
        .iter()
        .position(|&(u, _)| usize::from(u) == v)
        .unwrap_or(0);
    let mut names = [""; CYCLE_SHOWN];
    let mut len = 0;
    let mut more = false;
    for &(u, _) in stack.get(from..).unwrap_or(&[]) {
        match names.get_mut(len) {
            Some(slot) => {
                *slot = name(usize::from(u));
                len += 1;
            }
            None => more = true,
        }
    }
    let names = names.get(..len).unwrap_or(&[]);
    rep.on(name(v), ParseError::Cycle { names, more });
}

/// Start order: repeatedly the first unit (in file order) whose
/// dependencies are all placed. Units on a cycle are left out.
#[inline(never)]
fn order(t: &mut Table<'_>) {
    t.order.clear();
    let mut done = [false; UNITS_MAX];
    loop {
        let next = t.units.iter().enumerate().position(|(i, u)| {
            done.get(i) == Some(&false) && u.deps().all(|d| done.get(d.unit) == Some(&true))
        });
        let Some(i) = next else {
            return;
        };
        if let Some(d) = done.get_mut(i) {
            *d = true;
        }
        let _ = t.order.push(i as u16);
    }
}

/// Two tty units on one terminal would fight over it.
#[inline(never)]
fn terminals<'a>(rep: &mut Report<'_, 'a>, t: &Table<'a>) {
    // Only a tty unit has a terminal (`tty=` is refused to the others):
    // the options of the others are not read again, n times each.
    let tty_of = |u: &Unit<'a>| (u.kind == UnitKind::Tty).then(|| u.extra().tty).flatten();
    for (i, u) in t.units.iter().enumerate() {
        let Some(tty) = tty_of(u) else {
            continue;
        };
        let other = t
            .units
            .iter()
            .take(i)
            .find(|o| tty_of(o).is_some_and(|w| w.bytes().eq(tty.bytes())));
        if let Some(o) = other {
            let at = if rep.offset(tty.raw()).is_some() {
                tty.raw()
            } else {
                u.name
            };
            let e = ParseError::TtyShared {
                tty: tty.raw(),
                other: o.name,
            };
            rep.on(at, e);
        }
    }
}

/// An isolated unit's CPUs are its own: no other unit's `cpus=` or
/// `cpuset=`, no other isolated unit, and not `irq-affinity`.
#[inline(never)]
fn isolation<'a>(rep: &mut Report<'_, 'a>, t: &Table<'a>) {
    const NONE: u16 = u16::MAX;
    let mut owner = [NONE; CPUS_MAX];
    let name = |i: u16| t.units.get(usize::from(i)).map_or("", |u| u.name);
    for (i, u) in t.units.iter().enumerate() {
        let (true, Some(set)) = (u.isolate, u.extra().cpuset) else {
            continue;
        };
        for cpu in set.mask().iter() {
            match owner.get_mut(cpu) {
                Some(o) if *o == NONE => *o = i as u16,
                Some(o) => {
                    let other = name(*o);
                    rep.on(
                        set.as_str(),
                        ParseError::Isolated {
                            opt: "cpuset=",
                            cpu,
                            other,
                        },
                    );
                    break;
                }
                None => {}
            }
        }
    }
    let taken = |cpus: &str, me: usize| {
        value::list(cpus).ok().and_then(|m| {
            m.iter().find_map(|c| {
                owner
                    .get(c)
                    .filter(|&&o| o != NONE && usize::from(o) != me)
                    .map(|&o| (c, o))
            })
        })
    };
    for (i, u) in t.units.iter().enumerate() {
        let x = u.extra();
        let lists = [
            ("cpus=", x.cpus),
            ("cpuset=", x.cpuset.filter(|_| !u.isolate)),
        ];
        for (opt, list) in lists {
            let Some(l) = list else {
                continue;
            };
            if let Some((cpu, o)) = taken(l.as_str(), i) {
                let other = name(o);
                rep.on(l.as_str(), ParseError::Isolated { opt, cpu, other });
            }
        }
    }
    for s in t.setup.iter() {
        if let Setup::IrqAffinity(l) = s {
            if let Some((cpu, o)) = taken(l.as_str(), usize::MAX) {
                let other = name(o);
                rep.on(
                    l.as_str(),
                    ParseError::Isolated {
                        opt: "irq-affinity",
                        cpu,
                        other,
                    },
                );
            }
        }
    }
}

/// No two sockets on one address (a path, or a protocol and port whose
/// addresses overlap), in one unit or in two; at most SOCKETS_MAX.
#[inline(never)]
fn sockets<'a>(rep: &mut Report<'_, 'a>, t: &Table<'a>) {
    let mut count = 0;
    for (i, u) in t.units.iter().enumerate() {
        for (n, (tok, l)) in listens(u).enumerate() {
            count += 1;
            if count == SOCKETS_MAX + 1 {
                let what = "listen= sockets in the table";
                rep.on(
                    tok,
                    ParseError::TooMany {
                        what,
                        limit: SOCKETS_MAX,
                    },
                );
            }
            let earlier = t.units.iter().take(i + 1).enumerate().find_map(|(j, o)| {
                let mut theirs = listens(o).take(if j == i { n } else { usize::MAX });
                theirs.any(|(_, m)| l.clashes(&m)).then_some(o.name)
            });
            if let Some(other) = earlier {
                let same = other == u.name;
                rep.on(
                    tok,
                    ParseError::SocketShared {
                        opt: tok,
                        other,
                        same,
                    },
                );
            }
        }
    }
}
