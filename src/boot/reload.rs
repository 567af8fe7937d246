//! `pinit reload-table`, SIGHUP and `telinit q` (docs/design.md §13): the
//! table is read again from where it comes from, into the spare buffer.
//! One with errors changes nothing (each error said as at boot,
//! FILE:LINE:COL). Otherwise, as PID 1, the system statements that
//! changed are applied again where that is safe (docs/config.md,
//! "Reloading the table"), and the supervisor puts the new table in
//! force. Every step is said on the console and, line by line, to `tell`
//! (the client's answer).

use crate::boot::load_table::{self, Source};
use crate::boot::system;
use crate::control::protocol::{Refusal, FAILED};
use crate::place::{cgroup, cgroup_limits};
use crate::say;
use crate::supervise::diff::{self, Again};
use crate::supervise::effects::Effects;
use crate::supervise::supervisor::{Planned, Supervisor};
use crate::sys::console::Line;
use crate::sys::time::Ms;
use crate::table::Setup;

/// Reloads the table `conf` names (None: /etc/pinit.conf, else the
/// board); `pid1`: apply the system statements too. Ok: whether the new
/// table is the board's.
pub(crate) fn reload(
    sup: &mut Supervisor<'_>,
    fx: &mut impl Effects,
    conf: Option<&str>,
    pid1: bool,
    now: Ms,
    tell: &mut dyn FnMut(&str),
) -> Result<bool, Refusal> {
    let busy = (FAILED, "a reload of the table is under way");
    let spare = sup.spare().ok_or(busy)?;
    let read = load_table::read(spare, conf, &mut |d| {
        say!("{}", crate::put::Shown(d));
        let mut l = Line::new();
        let _ = crate::put!(l, "{}", crate::put::Shown(d));
        tell(core::str::from_utf8(l.as_bytes()).unwrap_or("?"));
    });
    let source = match read {
        Ok(s) => s,
        Err(r) => {
            say!("reload: {}; nothing changed", r);
            let mut l = Line::new();
            let _ = crate::put!(l, "{}; nothing changed", r);
            tell(core::str::from_utf8(l.as_bytes()).unwrap_or("?"));
            return Err((FAILED, "the table was not taken; nothing changed"));
        }
    };
    match source {
        Source::File(p) => say!("reload: {}", p),
        Source::Board(b) => say!("reload: compiled-in board '{}'", b),
    }
    if pid1 {
        if let Some(new) = sup.spare_table() {
            setup(sup.table(), new, tell);
        }
    }
    if let Some(new) = sup.spare_table() {
        let want = cgroup_limits::wanted(new);
        sup.widen_controllers(want, cgroup::widen);
    }
    let mut told = 0;
    sup.reload_table(fx, now, &mut |p| {
        told += 1;
        planned(p, tell)
    })
    .map_err(crate::control::server::refused)?;
    if told == 0 {
        say!("reload: no unit changed");
        tell("no unit changed");
    }
    Ok(matches!(source, Source::Board(_)))
}

/// One unit's line: on the console and to the client.
fn planned(p: Planned<'_>, tell: &mut dyn FnMut(&str)) {
    let mut l = Line::new();
    let _ = match p {
        Planned::Stop(n) => crate::put!(l, "stop {}", n),
        Planned::Start(n) => crate::put!(l, "start {}", n),
        Planned::Restart(n) => crate::put!(l, "restart {}", n),
        Planned::Update(n) => crate::put!(l, "update {}", n),
        Planned::InPlace(n, mask) => {
            let _ = crate::put!(l, "change {} ", n);
            let keys = diff::in_place_keys().enumerate();
            let mut first = true;
            for (_, k) in keys.filter(|(b, _)| mask & (1 << b) != 0) {
                let _ = crate::put!(l, "{}{}", if first { "" } else { "," }, k);
                first = false;
            }
            Ok(())
        }
    };
    let text = core::str::from_utf8(l.as_bytes()).unwrap_or("?");
    let why = match p {
        Planned::Stop(_) => " (no longer in the table)",
        Planned::Start(_) => "",
        Planned::Restart(_) => " (changed)",
        Planned::Update(_) => " (changed; takes effect at its next start)",
        Planned::InPlace(..) => " (in place)",
    };
    say!("reload: {}{}", text, why);
    tell(text);
}

/// The system statements again, where they changed and it is safe.
fn setup(old: &crate::table::Table<'_>, new: &crate::table::Table<'_>, tell: &mut dyn FnMut(&str)) {
    for (s, again) in diff::setup(old, new) {
        let (what, remount) = match again {
            Again::Same => continue,
            Again::Apply => ("apply", false),
            Again::Remount => ("remount", true),
            Again::Reboot => ("keep (a reboot applies it)", false),
        };
        if again != Again::Reboot {
            system::apply(s, remount);
        }
        said(what, s, tell);
    }
    for s in diff::setup_gone(old, new) {
        said("keep (no longer in the table; a reboot undoes it)", s, tell);
    }
}

/// `WHAT STATEMENT`, on the console and to the client.
fn said(what: &str, s: &Setup<'_>, tell: &mut dyn FnMut(&str)) {
    let mut l = Line::new();
    let _ = match s {
        Setup::Hostname(h) => crate::put!(l, "{} hostname {}", what, h),
        Setup::HostnameFile(f, _) => crate::put!(l, "{} hostname {}", what, f.raw()),
        Setup::Fstab(f) => crate::put!(l, "{} fstab {}", what, f.file.raw()),
        Setup::RandomSeed(f) => crate::put!(l, "{} random-seed {}", what, f.raw()),
        Setup::Mount(m) => crate::put!(l, "{} mount {}", what, m.target.raw()),
        Setup::Sysctl(c) => crate::put!(l, "{} sysctl {}", what, c.key),
        Setup::IrqAffinity(c) => crate::put!(l, "{} irq-affinity {}", what, c.as_str()),
    };
    let text = core::str::from_utf8(l.as_bytes()).unwrap_or("?");
    say!("reload: {}", text);
    tell(text);
}
