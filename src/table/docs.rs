//! docs/config.md's option list, rendered from the option table
//! (options.rs) and checked against the file; `make docs` rewrites it.
//! Also holds the table to its documented defaults. Test builds only.

use super::model::{Table, UnitKind, RLIMITS};
use super::options::{Range, Spec, Ty, Words, DOCS, OPTIONS};
use super::parse::parse;
use super::print::print;
use std::fmt::Write;

/// The value form of a kind of value, for the docs.
fn form(ty: Ty) -> String {
    match ty {
        Ty::Choice(Words(words, _)) => {
            let w: Vec<_> = words.iter().map(|w| format!("`{w}`")).collect();
            w.join(", ")
        }
        Ty::Int(Range(lo, hi, _)) => format!("{lo} to {hi}"),
        Ty::Dur => "DURATION".into(),
        Ty::Sig => "SIG".into(),
        Ty::Id => "a name or a number".into(),
        Ty::Path => "an absolute path".into(),
        Ty::Tty => "a device path".into(),
        Ty::Umask => "octal, `0` to `0777` (`022`, `0027`)".into(),
        Ty::Ready => "`none`, `notify`, `fd:N` (N 3 to 1023), `forked`".into(),
        Ty::Cpus => "CPULIST".into(),
        Ty::Nodes => "NODELIST".into(),
        Ty::Numa => "`bind:NODES`, `preferred:NODE`, `interleave:NODES`, `local`".into(),
        Ty::Size => "SIZE or `max`".into(),
        Ty::Pids => "a number up to 4294967295, or `max`".into(),
        Ty::CpuMax => "`N%` (1 to 102400), `QUOTA/PERIOD` (µs: QUOTA ≥ 1000 or `max`, \
                       PERIOD 1000 to 1000000), `max`"
            .into(),
        Ty::Sched => "`other`, `batch`, `idle`, `fifo:1-99`, `rr:1-99`".into(),
        Ty::IoPrio => "`rt:0-7`, `be:0-7`, `idle`".into(),
        Ty::Deps => "unit names, comma-separated".into(),
        Ty::Cond => "`path:P`, `!path:P` (P absolute), `cmdline:WORD`, `!cmdline:WORD`".into(),
        Ty::Groups => "group names or numbers, comma-separated, up to 16".into(),
        Ty::Env => "`KEY=VALUE`".into(),
        Ty::Listen => "`KIND:ADDRESS[,OPTION...]`: `tcp:`, `udp:` `[HOST:]PORT`; \
                       `unix:`, `unix-dgram:`, `unix-seqpacket:`, `fifo:` PATH; up to 16"
            .into(),
        Ty::RunDir => "`NAME[:MODE]`: NAME under /run (`a/b` nests; no `..`), MODE octal".into(),
        Ty::EnvFile => "an absolute path, or `-PATH` (may be missing)".into(),
        Ty::Rlimit => {
            let mut names = RLIMITS;
            names.sort();
            format!(
                "`SOFT[:HARD]`, each a number (K/M/G/T allowed), `infinity` or `unlimited`; \
                 HARD defaults to SOFT; NAME: {}",
                names.map(|n| format!("`{n}`")).join(" ")
            )
        }
    }
}

/// The kinds that accept an option.
fn kinds(s: &Spec) -> String {
    let all = [UnitKind::Service, UnitKind::Task, UnitKind::Tty];
    let ok: Vec<_> = all
        .iter()
        .filter(|k| s.refuse.iter().all(|(r, _)| r != *k))
        .map(|k| k.name())
        .collect();
    if ok.len() == all.len() {
        "all".into()
    } else {
        ok.join(", ")
    }
}

/// docs/config.md's option list, rendered from the table.
fn markdown() -> String {
    let mut out = String::new();
    out.push_str("| option | values | default | kinds | what it does |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for (s, d) in OPTIONS.iter().zip(DOCS) {
        let mut values = form(s.value);
        match (s.repeats, s.value) {
            (true, Ty::Rlimit) => values.push_str("; once per NAME"),
            (true, _) => values.push_str("; repeatable"),
            _ => {}
        }
        let summary: Vec<_> = d.summary.iter().map(|l| l.trim()).collect();
        let summary = summary.join(" ");
        let _ = writeln!(
            out,
            "| `{}=` | {} | {} | {} | {} |",
            s.key,
            values,
            d.default,
            kinds(s),
            summary
        );
    }
    out
}

/// `--print` of `KIND a OPTION -- /bin/a`, or its errors.
fn printed(kind: UnitKind, option: &str) -> String {
    let text = format!("{} a {} -- /bin/a\n", kind.name(), option);
    let mut t = Box::new(Table::new());
    let mut out = String::new();
    if parse("t.conf", text.as_bytes(), &mut t, &mut |d| {
        let _ = writeln!(out, "{d}");
    }) == 0
    {
        print("t.conf", &t, &mut out).unwrap();
    }
    out
}

/// A default the docs give as a value (`**30s**`) is the unit's
/// default: writing it changes nothing.
#[test]
fn documented_defaults_are_the_defaults() {
    let mut checked = 0;
    for (s, d) in OPTIONS.iter().zip(DOCS) {
        let Some(v) = d
            .default
            .strip_prefix("**")
            .and_then(|v| v.strip_suffix("**"))
        else {
            continue;
        };
        if v.contains([' ', '*']) {
            continue;
        }
        // On the first kind that takes it (a task never restarts).
        let kinds = [UnitKind::Service, UnitKind::Task, UnitKind::Tty];
        let k = kinds
            .into_iter()
            .find(|k| s.refuse.iter().all(|(r, _)| r != k));
        let k = k.unwrap();
        let with = printed(k, &format!("{}={}", s.key, v));
        assert_eq!(with, printed(k, ""), "{}={} on a {}", s.key, v, k.name());
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.md");
const BEGIN: &str = "<!-- options: begin (make docs writes this list) -->\n";
const END: &str = "<!-- options: end -->\n";

/// docs/config.md with its option list replaced by `list`.
fn with_list(doc: &str, list: &str) -> Option<String> {
    let (head, rest) = doc.split_once(BEGIN)?;
    let (_, tail) = rest.split_once(END)?;
    Some(format!("{head}{BEGIN}{list}{END}{tail}"))
}

#[test]
fn docs_list_every_option_as_declared() {
    let doc = std::fs::read_to_string(DOC).unwrap();
    let want = with_list(&doc, &markdown()).expect("docs/config.md has the option markers");
    assert!(
        doc == want,
        "docs/config.md's option list differs from src/table/options.rs: run `make docs`"
    );
}

/// `make docs`: rewrites docs/config.md's option list.
#[test]
#[ignore]
fn write_docs() {
    let doc = std::fs::read_to_string(DOC).unwrap();
    let new = with_list(&doc, &markdown()).expect("docs/config.md has the option markers");
    std::fs::write(DOC, new).unwrap();
}
