//! The man pages follow the code: every statement and option key the
//! parser accepts is in pinit.conf(5), every command of `pinit --help` is
//! in pinit(8). The lists come from the library and the binary, so a new
//! option or command without documentation fails here.
//! (tests/pkg/man checks that the pages are current, lint clean and render.)

use std::process::Command;

fn roff(name: &str) -> String {
    let path = format!("{}/man/{}", env!("CARGO_MANIFEST_DIR"), name);
    let roff = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    roff.replace("\\-", "-").replace("\\:", "")
}

/// True if the page has `word` at the start of a code span (tools/mkman
/// writes `code` as `\fB\%code\fR`).
fn in_code(roff: &str, word: &str) -> bool {
    roff.contains(&format!("\\fB\\%{word}"))
}

/// A page as plain text: roff font and break escapes removed, `\-` as `-`.
fn page(name: &str) -> String {
    let mut text = roff(name);
    for (from, to) in [
        ("\\fB", ""),
        ("\\fR", ""),
        ("\\fI", ""),
        ("\\%", ""),
        ("\\:", ""),
        ("\\&", ""),
        ("\\-", "-"),
        ("\\e", "\\"),
    ] {
        text = text.replace(from, to);
    }
    text
}

#[test]
fn every_option_key_is_in_pinit_conf_5() {
    let text = page("pinit.conf.5");
    let raw = roff("pinit.conf.5");
    let mut missing = Vec::new();
    // rlimit.NAME keys: the page gives `rlimit.NAME=` and the list of NAMEs.
    let rlimit_names = text
        .split_once("HARD defaults to SOFT; NAME:")
        .map(|(_, rest)| rest.split(';').next().unwrap_or(""))
        .unwrap_or("");
    let keys: Vec<&str> = pinit::table::option_keys().collect();
    assert!(keys.len() > 40, "the parser's key list looks empty");
    for key in keys {
        let documented = match key.strip_prefix("rlimit.") {
            Some(name) => {
                text.contains("rlimit.NAME=") && rlimit_names.split_whitespace().any(|w| w == name)
            }
            None => in_code(&raw, &format!("{key}=")),
        };
        if !documented {
            missing.push(key);
        }
    }
    assert!(
        missing.is_empty(),
        "options missing from man/pinit.conf.5 (document them in docs/config.md, then make man): {missing:?}"
    );
}

#[test]
fn every_statement_is_in_pinit_conf_5() {
    let text = page("pinit.conf.5");
    let missing: Vec<&str> = pinit::table::STATEMENTS
        .iter()
        .copied()
        .filter(|s| !text.lines().any(|l| l.starts_with(&format!("{s} "))))
        .collect();
    assert!(
        missing.is_empty(),
        "statements missing from man/pinit.conf.5: {missing:?}"
    );
}

#[test]
fn every_command_of_the_usage_is_in_pinit_8() {
    let out = Command::new(env!("CARGO_BIN_EXE_pinit"))
        .arg("--help")
        .output()
        .expect("run pinit --help");
    assert!(out.status.success());
    let usage = String::from_utf8_lossy(&out.stdout);
    let raw = roff("pinit.8");
    let mut words = Vec::new();
    // "  status [NAME] [--json]   the units": the first word of each line,
    // split at '|' (poweroff|reboot|halt).
    for line in usage.lines().skip(1) {
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        if line.starts_with("as ") || first.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        words.extend(first.split('|').map(str::to_string));
    }
    assert!(words.len() >= 12, "parsed too few commands from {usage}");
    let missing: Vec<&String> = words.iter().filter(|w| !in_code(&raw, w)).collect();
    assert!(
        missing.is_empty(),
        "commands missing from man/pinit.8: {missing:?}"
    );
}
