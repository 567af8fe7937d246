//! `pinit check [--print] FILE...` as a user runs it: exit codes, what
//! goes to stdout and stderr.

use std::path::PathBuf;
use std::process::{Command, Output};

fn pinit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinit"))
        .args(args)
        .output()
        .unwrap()
}

/// A file with `text` in a directory of this test's own.
fn file(name: &str, text: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("pinit-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

const GOOD: &str =
    "hostname h\ntask setup -- /bin/true\nservice web after=setup cpus=0 -- /bin/httpd -f\n";
const BAD: &str = "service web cpu=0 -- /bin/httpd\nservice db after=wbe -- /bin/db\n";

#[test]
fn valid_file_is_silent() {
    let good = file("good.conf", GOOD.as_bytes());
    let out = pinit(&["check", &good]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{:?}", out);
}

#[test]
fn invalid_file_lists_every_error() {
    let bad = file("bad.conf", BAD.as_bytes());
    let out = pinit(&["check", &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        format!(
            "{bad}:1:13: error: unknown option 'cpu' — did you mean 'cpus'?\n\
             {bad}:2:18: error: unknown unit 'wbe' in 'after=' — did you mean 'web'?\n"
        )
    );
}

#[test]
fn several_files() {
    let good = file("good2.conf", GOOD.as_bytes());
    let bad = file("bad2.conf", BAD.as_bytes());
    let out = pinit(&["check", &good, &bad, &good]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 2);
    assert!(err.lines().all(|l| l.starts_with(&format!("{bad}:"))));
    let out = pinit(&["check", &good, &good]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn print_shows_the_table_and_parses_again() {
    let good = file("good3.conf", GOOD.as_bytes());
    let out = pinit(&["check", "--print", &good]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let printed = text(&out.stdout).to_string();
    assert!(
        printed.starts_with(&format!("# {good}: 2 units; start order: setup web\n")),
        "{}",
        printed
    );
    assert!(printed.contains("service web \\\n    after=setup \\\n    restart=always restart-delay=0 restart-max=30s \\\n"), "{}", printed);
    assert!(printed.contains("stop-signal=TERM stop-timeout=5s reload-signal=HUP"));
    assert!(printed.contains("    cpus=0 \\\n"));
    assert!(printed.contains("    -- /bin/httpd -f\n"));
    // The print is a config: checking it prints the same thing.
    let again = file("printed.conf", printed.as_bytes());
    let out2 = pinit(&["check", "-p", &again]);
    assert_eq!(out2.status.code(), Some(0));
    assert_eq!(text(&out2.stdout).replace(&again, &good), printed);
}

/// The system statements of issue 14 (fstab, hostname FILE, random-seed,
/// log) and `accounting` print as written and parse again to the same
/// print.
#[test]
fn print_keeps_the_boot_statements() {
    let conf = "hostname /etc/hostname box\nfstab\nfstab \"/etc/fstab local\"\n\
                random-seed /var/lib/pinit/random-seed\nlog syslog\naccounting pids,memory\n\
                service web log=kmsg -- /bin/httpd -f\ntask t -- /bin/true\n";
    let path = file("boot.conf", conf.as_bytes());
    let out = pinit(&["check", "--print", &path]);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    let printed = text(&out.stdout).to_string();
    for want in [
        "\nhostname /etc/hostname box\n",
        "\nfstab /etc/fstab\n",
        "\nfstab \"/etc/fstab local\"\n",
        "\nrandom-seed /var/lib/pinit/random-seed\n",
        "\nlog syslog\n",
        "\naccounting memory,pids\n",
        " log=kmsg \\\n",
        " log=syslog \\\n",
    ] {
        assert!(printed.contains(want), "{:?} not in:\n{}", want, printed);
    }
    let again = file("boot-printed.conf", printed.as_bytes());
    let out2 = pinit(&["check", "-p", &again]);
    assert_eq!(out2.status.code(), Some(0), "{:?}", out2);
    assert_eq!(text(&out2.stdout).replace(&again, &path), printed);
}

#[test]
fn print_of_an_invalid_file_prints_only_errors() {
    let bad = file("bad4.conf", BAD.as_bytes());
    let out = pinit(&["check", "--print", &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(text(&out.stderr).lines().count(), 2);
}

#[test]
fn unreadable_and_oversized_files() {
    let out = pinit(&["check", "/nonexistent/pinit.conf"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "pinit: check: unable to read /nonexistent/pinit.conf: ENOENT\n"
    );
    let big = file("big.conf", &vec![b'#'; 100_000]);
    let out = pinit(&["check", &big]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("{big}:1:1: error: file is larger than 65536 bytes (the limit)\n")
    );
    let binary = file("binary.conf", b"\x7fELF\x02\x01\x01\0\0\0");
    let out = pinit(&["check", &binary]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("{binary}:1:1: error: control character 0x7f\n")
    );
}

#[test]
fn usage_errors() {
    let out = pinit(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "pinit: usage: pinit check [--print] FILE...\n"
    );
    let out = pinit(&["check", "--verbose", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "pinit: check: unknown option '--verbose'\n"
    );
}

#[test]
fn boards_check() {
    for b in [
        "qemu-x86_64",
        "qemu-aarch64",
        "rpi4",
        "x86-industrial",
        "debian-root",
    ] {
        let path = format!("{}/board-configs/{}.conf", env!("CARGO_MANIFEST_DIR"), b);
        let out = pinit(&["check", &path]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", b, text(&out.stderr));
    }
}
