//! The config language from the outside: every statement and option
//! (one valid and one invalid case each), the limits, the checks across
//! units, the hints, exact messages for malformed input, and inputs that
//! must not panic.

use pinit::table::{
    self, capacity, EnvFile, Extra, Id, IoPrio, Kill, Limit, Log, Numa, OnFailure, Ready, Restart,
    RuntimeDir, Sched, Setup, Table, Test, UnitKind,
};

/// The messages for `text`, one string each.
fn errors(text: &str) -> Vec<String> {
    errors_bytes(text.as_bytes())
}

fn errors_bytes(text: &[u8]) -> Vec<String> {
    let mut t = Box::new(Table::new());
    let mut out = Vec::new();
    let n = table::parse("t.conf", text, &mut t, &mut |d| out.push(d.to_string()));
    assert_eq!(n, out.len());
    out
}

/// Parses a valid text and hands the table to `f`.
fn with<R>(text: &str, f: impl FnOnce(&Table<'_>) -> R) -> R {
    let mut t = Box::new(Table::new());
    let mut out = Vec::new();
    table::parse("t.conf", text.as_bytes(), &mut t, &mut |d| {
        out.push(d.to_string())
    });
    assert!(
        out.is_empty(),
        "unexpected errors for {:?}:\n{}",
        text,
        out.join("\n")
    );
    f(&t)
}

/// The one unit of `service u OPTS -- /bin/x`.
fn unit<R>(opts: &str, f: impl FnOnce(&table::Unit<'_>) -> R) -> R {
    let text = format!("service u {} -- /bin/x", opts);
    with(&text, |t| f(&t.units[0]))
}

/// The single message for `service u OPTS -- /bin/x`, without the
/// `t.conf:1:COL: error: ` prefix.
fn unit_err(opts: &str) -> String {
    let e = errors(&format!("service u {} -- /bin/x", opts));
    assert_eq!(e.len(), 1, "{:?}: {:?}", opts, e);
    e[0].split_once(": error: ").unwrap().1.to_string()
}

// ---------------------------------------------------------------------
// Statements

#[test]
fn hostname() {
    with("hostname box-1.lan", |t| {
        assert_eq!(t.setup[0], Setup::Hostname("box-1.lan"))
    });
    assert_eq!(
        errors("hostname -x"),
        ["t.conf:1:10: error: invalid hostname '-x': expected 1 to 64 of A-Z a-z 0-9 - . (not first: - .)"]
    );
    assert_eq!(
        errors("hostname a\nhostname b"),
        ["t.conf:2:1: error: hostname given twice (first at line 1)"]
    );
}

#[test]
fn hostname_from_a_file() {
    with("hostname /etc/hostname", |t| {
        let Setup::HostnameFile(f, None) = t.setup[0] else {
            panic!("{:?}", t.setup[0])
        };
        assert_eq!(f.raw(), "/etc/hostname");
    });
    with("hostname \"/etc/my name\" box-1", |t| {
        let Setup::HostnameFile(f, Some(n)) = t.setup[0] else {
            panic!("{:?}", t.setup[0])
        };
        let mut buf = [0u8; 32];
        assert_eq!(f.decode(&mut buf).unwrap(), b"/etc/my name");
        assert_eq!(n, "box-1");
    });
    assert_eq!(
        errors("hostname /etc/hostname\nhostname b"),
        ["t.conf:2:1: error: hostname given twice (first at line 1)"]
    );
    assert_eq!(
        errors("hostname a\nhostname /etc/hostname"),
        ["t.conf:2:1: error: hostname given twice (first at line 1)"]
    );
}

#[test]
fn fstab() {
    with("fstab", |t| {
        let Setup::Fstab(f) = t.setup[0] else {
            panic!("{:?}", t.setup[0])
        };
        assert_eq!(f.file.raw(), "/etc/fstab");
        assert_eq!(f.file, table::FSTAB);
    });
    // Two files, in file order with the other statements.
    with(
        "mount tmpfs /tmp tmpfs\nfstab /etc/fstab\nfstab \"/etc/fstab local\"",
        |t| {
            assert!(matches!(t.setup[0], Setup::Mount(_)));
            let Setup::Fstab(f) = t.setup[2] else {
                panic!("{:?}", t.setup[2])
            };
            let mut buf = [0u8; 32];
            assert_eq!(f.file.decode(&mut buf).unwrap(), b"/etc/fstab local");
        },
    );
    assert_eq!(
        errors("fstab /etc/x\nfstab \"/etc/x\""),
        ["t.conf:2:1: error: fstab '\"/etc/x\"' given twice (first at line 1)"]
    );
}

#[test]
fn random_seed() {
    with("random-seed /var/lib/pinit/random-seed", |t| {
        let Setup::RandomSeed(f) = t.setup[0] else {
            panic!("{:?}", t.setup[0])
        };
        assert_eq!(f.raw(), "/var/lib/pinit/random-seed");
    });
}

#[test]
fn log_statement() {
    let text = "log syslog\nservice a -- /a\nservice b log=kmsg -- /b\ntask c -- /c\ntty d -- /d";
    with(text, |t| {
        assert_eq!(t.log(), Some(Log::Syslog));
        let log = |n| t.units[t.units.iter().position(|u| u.name == n).unwrap()].log;
        assert_eq!(
            (log("a"), log("b"), log("c")),
            (Log::Syslog, Log::Kmsg, Log::Syslog)
        );
    });
    // After the units, too: a default for the whole table.
    with("service a -- /a\nlog null", |t| {
        assert_eq!(t.units[0].log, Log::Null)
    });
    with("service a -- /a", |t| assert_eq!(t.log(), None));
    unit("log=syslog", |u| assert_eq!(u.log, Log::Syslog));
}

#[test]
fn accounting_statement() {
    use pinit::table::Accounting;
    let acc = |text: &str| with(text, |t| t.accounting());
    let (m, p) = (true, false);
    assert_eq!(acc("service a -- /a"), Accounting::ALL);
    assert_eq!(acc("accounting memory,pids"), Accounting::ALL);
    assert_eq!(acc("accounting pids,memory"), Accounting::ALL);
    assert_eq!(acc("accounting memory"), Accounting { memory: m, pids: p });
    assert_eq!(
        acc("service a -- /a\naccounting pids"),
        Accounting {
            memory: false,
            pids: true
        }
    );
    assert_eq!(
        acc("accounting none"),
        Accounting {
            memory: false,
            pids: false
        }
    );
}

#[test]
fn mount() {
    with(
        "mount tmpfs /tmp tmpfs nosuid,nodev,size=16M,mode=1777",
        |t| {
            let Setup::Mount(m) = t.setup[0] else {
                panic!()
            };
            assert_eq!(m.source.raw(), "tmpfs");
            assert_eq!(m.target.raw(), "/tmp");
            assert_eq!(m.fstype, "tmpfs");
            assert_eq!(m.flags, 2 | 4);
            let mut buf = [0u8; 64];
            assert_eq!(m.data(&mut buf).unwrap(), b"size=16M,mode=1777");
        },
    );
    with("mount /dev/sda1 \"/mnt/my disk\" ext4 ro,noatime", |t| {
        let Setup::Mount(m) = t.setup[0] else {
            panic!()
        };
        let mut buf = [0u8; 64];
        assert_eq!(m.target.decode(&mut buf).unwrap(), b"/mnt/my disk");
        assert_eq!(m.flags, 1 | 1024);
        assert_eq!(m.data(&mut buf).unwrap(), b"");
    });
    with("mount none /a none bind,rw", |t| {
        let Setup::Mount(m) = t.setup[0] else {
            panic!()
        };
        assert_eq!(m.flags, 4096);
    });
    assert_eq!(
        errors("mount tmpfs tmp tmpfs"),
        ["t.conf:1:13: error: invalid mount target 'tmp': expected an absolute path"]
    );
    assert_eq!(
        errors("mount tmpfs /tmp"),
        ["t.conf:1:17: error: missing FSTYPE (usage: mount SOURCE TARGET FSTYPE [OPTIONS])"]
    );
    assert_eq!(
        errors("mount /dev/sda1 /a ext4 defaults,nofail"),
        ["t.conf:1:34: error: invalid mount option 'nofail': it is for mount(8) and fstab, not for the kernel"]
    );
}

#[test]
fn sysctl() {
    with("sysctl net.ipv4.ip_forward 1\nsysctl kernel.core_pattern \"|/bin/dump %p\"\nsysctl net/ipv4/conf/eth0.100/rp_filter 0\nsysctl net.ipv4.conf.eth0/100.rp_filter 2", |t| {
        let Setup::Sysctl(s) = t.setup[0] else { panic!() };
        assert_eq!(s.key, "net.ipv4.ip_forward");
        let mut buf = [0u8; 128];
        assert_eq!(s.path(&mut buf).unwrap(), "/proc/sys/net/ipv4/ip_forward");
        let Setup::Sysctl(s) = t.setup[1] else { panic!() };
        assert_eq!(s.value.decode(&mut buf).unwrap(), b"|/bin/dump %p");
        let Setup::Sysctl(s) = t.setup[2] else { panic!() };
        assert_eq!(s.path(&mut buf).unwrap(), "/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
        let Setup::Sysctl(s) = t.setup[3] else { panic!() };
        assert_eq!(s.path(&mut buf).unwrap(), "/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
    });
    assert_eq!(
        errors("sysctl ../etc/x 1"),
        ["t.conf:1:8: error: invalid sysctl key '../etc/x': expected a key like net.ipv4.ip_forward"]
    );
    assert_eq!(
        errors("sysctl vm.swappiness 1\nsysctl vm.swappiness 2"),
        ["t.conf:2:8: error: sysctl 'vm.swappiness' given twice (first at line 1)"]
    );
}

#[test]
fn env_statement() {
    with(
        "env PATH=/bin:/sbin\nenv GREETING=\"hello world\"\nenv EMPTY=",
        |t| {
            assert_eq!(t.env.len(), 3);
            let mut buf = [0u8; 64];
            assert_eq!(t.env[1].decode(&mut buf).unwrap(), b"GREETING=hello world");
            assert_eq!(t.env[2].to_cstr(&mut buf).unwrap().to_bytes(), b"EMPTY=");
        },
    );
    assert_eq!(
        errors("env 9LIVES=x"),
        ["t.conf:1:5: error: invalid env entry '9LIVES=x': expected KEY=VALUE, KEY of A-Z a-z 0-9 _ and not starting with a digit"]
    );
    assert_eq!(
        errors("env A=1\nenv A=2"),
        ["t.conf:2:5: error: env 'A' given twice (first at line 1)"]
    );
}

#[test]
fn irq_affinity() {
    with("irq-affinity 0-1,3", |t| {
        let Setup::IrqAffinity(l) = t.setup[0] else {
            panic!()
        };
        assert_eq!(l.mask().words(), &[0b1011]);
    });
    assert_eq!(
        errors("irq-affinity 0-x"),
        ["t.conf:1:14: error: invalid CPU list '0-x': expected a list like 0-3,6,8-9"]
    );
}

#[test]
fn watchdog_statement() {
    with("watchdog /dev/watchdog0", |t| {
        let w = t.watchdog().unwrap();
        assert_eq!(w.device.raw(), "/dev/watchdog0");
        assert_eq!(
            (w.timeout.0, w.shutdown_timeout.0, w.wait.0, w.magic_close),
            (30_000, 600_000, 60_000, false)
        );
    });
    with(
        "watchdog \"/dev/my dog\" timeout=5 shutdown-timeout=2m wait=250ms magic-close=yes",
        |t| {
            let w = t.watchdog().unwrap();
            let mut buf = [0u8; 32];
            assert_eq!(w.device.decode(&mut buf).unwrap(), b"/dev/my dog");
            assert_eq!(
                (w.timeout.0, w.shutdown_timeout.0, w.wait.0, w.magic_close),
                (5_000, 120_000, 250, true)
            );
        },
    );
    with(
        "watchdog /dev/watchdog timeout=65535s wait=0 magic-close=no",
        |t| {
            let w = t.watchdog().unwrap();
            assert_eq!((w.timeout.0, w.wait.0), (65_535_000, 0));
        },
    );
    with("service a -- /a", |t| assert!(t.watchdog().is_none()));
    // DEVICE: up to 63 bytes (PID 1 keeps a copy).
    let longest = format!("/dev/{}", "w".repeat(58));
    with(&format!("watchdog {longest}"), |t| {
        assert_eq!(t.watchdog().unwrap().device.raw().len(), 63)
    });
    let too_long = format!("{longest}w");
    let usage = "(usage: watchdog DEVICE [timeout=DURATION] [shutdown-timeout=DURATION] [wait=DURATION] [magic-close=yes|no])";
    let cases: &[(&str, String)] = &[
        ("watchdog", format!("1:9: error: missing DEVICE {usage}")),
        (
            "watchdog watchdog0",
            "1:10: error: invalid watchdog device 'watchdog0': expected a device path like /dev/watchdog0".into(),
        ),
        (
            Box::leak(format!("watchdog {too_long}").into_boxed_str()),
            // The console shows a long value's first 60 bytes.
            format!(
                "1:10: error: invalid watchdog device '{}...': expected a device path of at most 63 bytes",
                &too_long[..60]
            ),
        ),
        (
            "watchdog /dev/watchdog0 30s",
            format!("1:25: error: unexpected '30s' {usage}"),
        ),
        (
            "watchdog /dev/watchdog0 timeuot=5s",
            "1:25: error: unknown option 'timeuot' — did you mean 'timeout'?".into(),
        ),
        (
            "watchdog /dev/watchdog0 timeout=5s timeout=6s",
            "1:36: error: option 'timeout' given twice".into(),
        ),
        (
            "watchdog /dev/watchdog0 wait=",
            "1:25: error: empty value for 'wait='".into(),
        ),
        (
            "watchdog /dev/watchdog0 timeout=\"5s\"",
            "1:33: error: quotes are not allowed in 'timeout=' (only in paths, arguments and env)".into(),
        ),
        (
            "watchdog /dev/watchdog0 timeout=1500ms",
            "1:33: error: invalid value '1500ms' for 'timeout=': expected whole seconds from 1s to 65535s (the driver counts seconds)".into(),
        ),
        (
            "watchdog /dev/watchdog0 timeout=0",
            "1:33: error: invalid value '0' for 'timeout=': expected whole seconds from 1s to 65535s (the driver counts seconds)".into(),
        ),
        (
            "watchdog /dev/watchdog0 shutdown-timeout=65536",
            "1:42: error: invalid value '65536' for 'shutdown-timeout=': expected whole seconds from 1s to 65535s (the driver counts seconds)".into(),
        ),
        (
            "watchdog /dev/watchdog0 wait=soon",
            "1:30: error: invalid value 'soon' for 'wait=': expected a duration like 250ms, 5s, 2m or 1h (a bare number is seconds)".into(),
        ),
        (
            "watchdog /dev/watchdog0 wait=1194h",
            "1:30: error: invalid value '1194h' for 'wait=': longer than the limit of 1193h".into(),
        ),
        (
            "watchdog /dev/watchdog0 magic-close=1",
            "1:37: error: invalid value '1' for 'magic-close=': expected yes or no".into(),
        ),
        (
            "watchdog /dev/watchdog0\nwatchdog /dev/watchdog1",
            "2:1: error: watchdog given twice (first at line 1)".into(),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(errors(text), [format!("t.conf:{want}")], "{text}");
    }
}

#[test]
fn units_of_each_kind() {
    with(
        "service s -- /s\ntask t -- /t a b\ntty c -- /sbin/getty -L 115200 ttyS0",
        |t| {
            let kinds: Vec<_> = t.units.iter().map(|u| (u.name, u.kind)).collect();
            assert_eq!(
                kinds,
                [
                    ("s", UnitKind::Service),
                    ("t", UnitKind::Task),
                    ("c", UnitKind::Tty)
                ]
            );
            let args: Vec<_> = t.units[2].argv().map(|w| w.raw()).collect();
            assert_eq!(args, ["/sbin/getty", "-L", "115200", "ttyS0"]);
            assert_eq!(t.units[2].argc, 4);
        },
    );
    assert_eq!(
        errors("task t /bin/true"),
        [
            "t.conf:1:8: error: expected KEY=VALUE or '--', found '/bin/true' (is '--' missing before the program?)",
            "t.conf:1:17: error: missing '--' before the program (usage: task NAME [KEY=VALUE ...] -- PROGRAM [ARG ...])"
        ]
    );
}

#[test]
fn defaults_per_kind() {
    with("service s -- /s\ntask t -- /t\ntty c -- /c", |t| {
        let (s, k, c) = (&t.units[0], &t.units[1], &t.units[2]);
        assert_eq!(
            (s.restart, k.restart, c.restart),
            (Restart::Always, Restart::Never, Restart::Always)
        );
        for u in [s, k, c] {
            assert_eq!(u.stop_signal, 15);
            assert_eq!(u.stop_timeout.0, 5000);
            assert_eq!(u.reload_signal, 1);
            assert_eq!(u.restart_max.0, 30_000);
            assert_eq!(u.restart_delay.0, 0);
            assert_eq!(u.restart_limit, 0);
            assert_eq!(u.ready, Ready::None);
            assert_eq!(u.log, Log::Kmsg);
            assert_eq!(u.extra().mem_max, Limit::UNSET);
            assert!(
                u.extra().cpus.is_none() && u.extra().numa.is_none() && u.extra().sched.is_none()
            );
        }
        assert_eq!(c.extra().tty.unwrap().raw(), "/dev/console");
        assert!(s.extra().tty.is_none());
    });
}

/// A table entry stays small: PID 1 keeps one per unit in .bss, and 32
/// of them with the table's head fit in two pages (README, "Memory").
#[test]
#[cfg(target_pointer_width = "64")]
fn a_unit_entry_is_at_most_160_bytes() {
    let size = core::mem::size_of::<table::Unit<'_>>();
    assert!(size <= 160, "table::Unit is {} bytes", size);
}

/// The options a unit does not keep (`Unit::extra`) are read again from
/// its options text: each one among the others, in any order, and the
/// kind's defaults for a unit that sets none of them.
#[test]
fn extra_options_are_read_again_from_the_text() {
    let text = "service a env=A=1 nice=5 restart=on-failure cpus=0-1 mem.max=64M \
                user=nobody io.weight=200 -- /bin/a\n\
                service b restart-max=0 env=B=2 -- /bin/b\n\
                tty t -- /bin/t\n";
    with(text, |t| {
        let [a, b, tt] = [0, 1, 2].map(|i| t.units[i].extra());
        assert_eq!(a.nice, Some(5));
        assert_eq!(a.cpus.unwrap().as_str(), "0-1");
        assert_eq!(a.mem_max.value(), Some(64 << 20));
        assert_eq!(a.user, Some(Id::Name("nobody")));
        assert_eq!(a.tty, None);
        assert_eq!(a.io_weight, Some(200));
        assert_eq!(a.sched, None);
        assert_eq!(t.units[0].restart, Restart::OnFailure);
        assert_eq!(b, Extra::new(UnitKind::Service));
        assert_eq!(tt.tty.unwrap().raw(), "/dev/console");
    });
}

// ---------------------------------------------------------------------
// Every option: a valid case (value checked) and an invalid one (message)

#[test]
fn ordering_options() {
    with(
        "task a -- /a\ntask b -- /b\nservice c after=a needs=b -- /c",
        |t| {
            let deps: Vec<_> = t.units[2].deps().map(|d| (d.unit, d.needs)).collect();
            assert_eq!(deps, [(0, false), (1, true)]);
        },
    );
    with("task a -- /a\nservice c after=a needs=a -- /c", |t| {
        let deps: Vec<_> = t.units[1].deps().map(|d| (d.unit, d.needs)).collect();
        assert_eq!(deps, [(0, true)]);
    });
    assert_eq!(
        errors("task a -- /a\ntask b -- /b\nservice u after=a,,b -- /x"),
        ["t.conf:3:19: error: empty entry in 'after=': expected 1 to 31 of A-Z a-z 0-9 _ . - (not . or ..)"]
    );
    assert_eq!(
        errors("service u needs=nope -- /x"),
        ["t.conf:1:17: error: unknown unit 'nope' in 'needs='"]
    );
}

#[test]
fn restart_options() {
    unit(
        "restart=on-failure restart-delay=250ms restart-max=0 restart-limit=5",
        |u| {
            assert_eq!(u.restart, Restart::OnFailure);
            assert_eq!(u.restart_delay.0, 250);
            assert_eq!(u.restart_max.0, 0);
            assert_eq!(u.restart_limit, 5);
        },
    );
    assert_eq!(
        unit_err("restart=sometimes"),
        "invalid value 'sometimes' for 'restart=': expected always, on-failure or never"
    );
    assert_eq!(
        unit_err("restart-delay=1.5s"),
        "invalid value '1.5s' for 'restart-delay=': expected a duration like 250ms, 5s, 2m or 1h (a bare number is seconds)"
    );
    assert_eq!(
        unit_err("restart-max=5000h"),
        "invalid value '5000h' for 'restart-max=': longer than the limit of 1193h"
    );
    assert_eq!(
        unit_err("restart-limit=0"),
        "invalid value '0' for 'restart-limit=': expected a number from 1 to 65535"
    );
}

#[test]
fn ready_options() {
    unit("ready=notify ready-timeout=2m", |u| {
        assert_eq!(u.ready, Ready::Notify);
        assert_eq!(u.ready_timeout.0, 120_000);
    });
    unit("ready=fd:3", |u| assert_eq!(u.ready, Ready::Fd(3)));
    unit("ready=none", |u| assert_eq!(u.ready, Ready::None));
    assert_eq!(
        unit_err("ready=fd:1"),
        "invalid value 'fd:1' for 'ready=': expected fd:N with N from 3 to 1023"
    );
    assert_eq!(
        unit_err("ready=notfy"),
        "invalid value 'notfy' for 'ready=': expected none, notify, fd:N or forked — did you mean 'notify'?"
    );
    assert_eq!(
        unit_err("ready=forkd"),
        "invalid value 'forkd' for 'ready=': expected none, notify, fd:N or forked — did you mean 'forked'?"
    );
    assert_eq!(
        unit_err("ready-timeout=5s"),
        "'ready-timeout=5s' needs ready=notify, ready=fd:N or ready=forked (else a unit is ready once started)"
    );
}

#[test]
fn forked_options() {
    unit("ready=forked", |u| {
        assert_eq!(u.ready, Ready::Forked);
        assert_eq!(u.pidfile, None);
    });
    unit(
        "ready=forked pidfile=\"/run/my d/x.pid\" ready-timeout=20s kill=main",
        |u| {
            let mut buf = [0u8; 64];
            assert_eq!(
                u.pidfile.unwrap().decode(&mut buf).unwrap(),
                b"/run/my d/x.pid"
            );
            assert_eq!(u.ready_timeout.0, 20_000);
            assert_eq!(u.kill, Kill::Main);
        },
    );
    assert_eq!(
        unit_err("pidfile=/run/x.pid"),
        "'pidfile=/run/x.pid' needs ready=forked (the pidfile names a forked daemon's main process)"
    );
    assert_eq!(
        unit_err("ready=forked pidfile=run/x.pid"),
        "invalid value 'run/x.pid' for 'pidfile=': expected an absolute path"
    );
    assert_eq!(
        unit_err("ready=forked kill=main"),
        "'kill=main' with ready=forked needs pidfile= (processes left from an earlier run could not be told from the new daemon)"
    );
    assert_eq!(
        errors("task t pidfile=/x -- /bin/x"),
        ["t.conf:1:8: error: 'pidfile=/x' does not apply to a task: a task is done when it exits 0"]
    );
    assert_eq!(
        errors("tty t ready=forked -- /bin/x"),
        ["t.conf:1:7: error: 'ready=forked' does not apply to a tty: a tty unit is ready once started"]
    );
}

#[test]
fn kill_option() {
    unit("", |u| assert_eq!(u.kill, Kill::Cgroup));
    unit("kill=cgroup", |u| assert_eq!(u.kill, Kill::Cgroup));
    unit("kill=main", |u| assert_eq!(u.kill, Kill::Main));
    with(
        "task t kill=main -- /bin/x\ntty c kill=main -- /bin/x",
        |t| assert!(t.units.iter().all(|u| u.kill == Kill::Main)),
    );
    assert_eq!(
        unit_err("kill=mian"),
        "invalid value 'mian' for 'kill=': expected cgroup or main — did you mean 'main'?"
    );
    assert_eq!(
        unit_err("kill=process"),
        "invalid value 'process' for 'kill=': expected cgroup or main"
    );
}

#[test]
fn task_timeout() {
    with("task t timeout=90s -- /bin/x", |t| {
        assert_eq!(t.units[0].timeout.0, 90_000)
    });
    with("task t -- /bin/x", |t| assert_eq!(t.units[0].timeout.0, 0));
    assert_eq!(
        errors("task t timeout=soon -- /bin/x"),
        ["t.conf:1:16: error: invalid value 'soon' for 'timeout=': expected a duration like 250ms, 5s, 2m or 1h (a bare number is seconds)"]
    );
    assert_eq!(
        unit_err("timeout=5s"),
        "'timeout=5s' does not apply to a service: a service's start is bounded by ready-timeout="
    );
    assert_eq!(
        errors("tty c timeout=5s -- /bin/x"),
        ["t.conf:1:7: error: 'timeout=5s' does not apply to a tty: a tty unit runs until it exits"]
    );
}

#[test]
fn runtime_dirs() {
    unit(
        "runtime-dir=sshd runtime-dir=redis:0750 runtime-dir=a/b.c-d_e:2775",
        |u| {
            let d: Vec<_> = u.runtime_dirs().collect();
            assert_eq!(
                d,
                [
                    RuntimeDir {
                        name: "sshd",
                        mode: 0o755
                    },
                    RuntimeDir {
                        name: "redis",
                        mode: 0o750
                    },
                    RuntimeDir {
                        name: "a/b.c-d_e",
                        mode: 0o2775
                    },
                ]
            );
            assert!(!u.runtime_dir_keep);
        },
    );
    unit("runtime-dir=x runtime-dir-keep=yes", |u| {
        assert!(u.runtime_dir_keep)
    });
    unit("runtime-dir-keep=no", |u| assert!(!u.runtime_dir_keep));
    let expect = "expected NAME[:MODE], NAME relative to /run: up to 64 of A-Z a-z 0-9 _ . - and /, no empty, . or .. component";
    for bad in [
        "..",
        "../etc",
        "a/../../etc",
        "/etc",
        "a//b",
        "a/",
        ".",
        "a/./b",
        "a/..",
        "a*",
    ] {
        assert_eq!(
            unit_err(&format!("runtime-dir={}", bad)),
            format!("invalid value '{}' for 'runtime-dir=': {}", bad, expect)
        );
    }
    let long = "a".repeat(65);
    assert!(unit_err(&format!("runtime-dir={}", long)).ends_with(expect));
    unit(&format!("runtime-dir={}", "a".repeat(64)), |u| {
        assert_eq!(u.runtime_dirs().count(), 1)
    });
    assert_eq!(
        unit_err("runtime-dir=x:0999"),
        "invalid value '0999' for 'runtime-dir=': expected an octal MODE from 0 to 7777 (0750)"
    );
    assert_eq!(
        unit_err("runtime-dir=x:b:0755"),
        "invalid value 'b:0755' for 'runtime-dir=': expected an octal MODE from 0 to 7777 (0750)"
    );
    assert_eq!(
        unit_err("runtime-dir=\"x\""),
        "quotes are not allowed in 'runtime-dir=' (only in paths, arguments and env)"
    );
    assert_eq!(
        unit_err("runtime-dir=x:17777"),
        "invalid value '17777' for 'runtime-dir=': expected an octal MODE from 0 to 7777 (0750)"
    );
    assert_eq!(
        unit_err("runtime-dir=x runtime-dir=x:0700"),
        "'x' is listed twice in 'runtime-dir='"
    );
    assert_eq!(
        unit_err("runtime-dir-keep=yes"),
        "'runtime-dir-keep=yes' has no effect without runtime-dir="
    );
    assert_eq!(
        unit_err("runtime-dir=x runtime-dir-keep=maybe"),
        "invalid value 'maybe' for 'runtime-dir-keep=': expected yes or no"
    );
    let nine: String = (0..9).map(|i| format!("runtime-dir=d{} ", i)).collect();
    assert_eq!(unit_err(&nine), "too many runtime-dir= entries (limit 8)");
    with(
        "task t runtime-dir=t -- /bin/x\ntty c runtime-dir=c -- /bin/x",
        |t| assert!(t.units.iter().all(|u| u.runtime_dirs().count() == 1)),
    );
}

#[test]
fn env_files() {
    unit(
        "env-file=/etc/default/ssh env-file=-/etc/default/x env-file=-\"/etc/my defaults\"",
        |u| {
            let f: Vec<_> = u.env_files().collect();
            assert_eq!(f.len(), 3);
            assert_eq!(
                (f[0].path.raw(), f[0].optional),
                ("/etc/default/ssh", false)
            );
            assert_eq!((f[1].path.raw(), f[1].optional), ("/etc/default/x", true));
            let mut buf = [0u8; 64];
            assert_eq!(f[2].path.decode(&mut buf).unwrap(), b"/etc/my defaults");
            assert!(f[2].optional);
            assert_eq!(
                f[0],
                EnvFile {
                    path: f[0].path,
                    optional: false
                }
            );
        },
    );
    for bad in ["etc/default/x", "-etc/x", "--/x", "-", "\"-/x\""] {
        assert_eq!(
            unit_err(&format!("env-file={}", bad)),
            format!("invalid value '{}' for 'env-file=': expected an absolute path, or -PATH for a file that may be missing", bad)
        );
    }
    let five: String = (0..5).map(|i| format!("env-file=/e{} ", i)).collect();
    assert_eq!(unit_err(&five), "too many env-file= entries (limit 4)");
    with(
        "task t env-file=/t -- /bin/x\ntty c env-file=/c -- /bin/x",
        |t| assert!(t.units.iter().all(|u| u.env_files().count() == 1)),
    );
}

#[test]
fn watchdog_option() {
    unit("ready=notify watchdog=2s", |u| {
        assert_eq!(u.watchdog.0, 2000)
    });
    unit("ready=notify watchdog=0", |u| assert_eq!(u.watchdog.0, 0));
    unit("ready=notify", |u| assert_eq!(u.watchdog.0, 0));
    assert_eq!(
        unit_err("ready=notify watchdog=often"),
        "invalid value 'often' for 'watchdog=': expected a duration like 250ms, 5s, 2m or 1h (a bare number is seconds)"
    );
    assert_eq!(
        unit_err("watchdog=2s"),
        "'watchdog=2s' needs ready=notify (the pings are sd_notify messages)"
    );
    assert_eq!(
        unit_err("ready=fd:3 watchdog=2s"),
        "'watchdog=2s' needs ready=notify (the pings are sd_notify messages)"
    );
    assert_eq!(
        errors("task t watchdog=2s -- /t"),
        ["t.conf:1:8: error: 'watchdog=2s' does not apply to a task: only a ready=notify service sends watchdog pings"]
    );
    assert_eq!(
        errors("tty t watchdog=2s -- /t"),
        ["t.conf:1:7: error: 'watchdog=2s' does not apply to a tty: only a ready=notify service sends watchdog pings"]
    );
}

#[test]
fn on_failure_option() {
    unit("on-failure=reboot", |u| {
        assert_eq!(u.on_failure, OnFailure::Reboot)
    });
    unit("on-failure=poweroff", |u| {
        assert_eq!(u.on_failure, OnFailure::Poweroff)
    });
    unit("on-failure=none", |u| {
        assert_eq!(u.on_failure, OnFailure::None)
    });
    unit("", |u| assert_eq!(u.on_failure, OnFailure::None));
    with(
        "task t on-failure=reboot -- /t\ntty c on-failure=poweroff -- /c",
        |t| {
            assert_eq!(t.units[0].on_failure, OnFailure::Reboot);
            assert_eq!(t.units[1].on_failure, OnFailure::Poweroff);
        },
    );
    assert_eq!(
        unit_err("on-failure=rebot"),
        "invalid value 'rebot' for 'on-failure=': expected none, reboot or poweroff — did you mean 'reboot'?"
    );
    assert_eq!(
        unit_err("on-failure=halt"),
        "invalid value 'halt' for 'on-failure=': expected none, reboot or poweroff"
    );
}

#[test]
fn signal_options() {
    unit(
        "stop-signal=SIGINT stop-timeout=90 reload-signal=usr1",
        |u| {
            assert_eq!(u.stop_signal, 2);
            assert_eq!(u.stop_timeout.0, 90_000);
            assert_eq!(u.reload_signal, 10);
        },
    );
    unit("stop-signal=37", |u| assert_eq!(u.stop_signal, 37));
    assert_eq!(
        unit_err("stop-signal=TREM"),
        "invalid value 'TREM' for 'stop-signal=': expected a signal name like TERM or a number from 1 to 64 — did you mean 'TERM'?"
    );
    assert_eq!(
        unit_err("reload-signal=SIGHPU"),
        "invalid value 'SIGHPU' for 'reload-signal=': expected a signal name like TERM or a number from 1 to 64 — did you mean 'HUP'?"
    );
    assert_eq!(
        unit_err("stop-timeout=soon"),
        "invalid value 'soon' for 'stop-timeout=': expected a duration like 250ms, 5s, 2m or 1h (a bare number is seconds)"
    );
}

#[test]
fn conditions() {
    unit(
        "if=path:/dev/ttyS1 if=!cmdline:quiet if=path:\"/a b\"",
        |u| {
            let c: Vec<_> = u.conds().map(|c| (c.negate, c.test, c.arg.raw())).collect();
            assert_eq!(
                c,
                [
                    (false, Test::Path, "/dev/ttyS1"),
                    (true, Test::Cmdline, "quiet"),
                    (false, Test::Path, "\"/a b\"")
                ]
            );
        },
    );
    assert_eq!(
        unit_err("if=exists:/x"),
        "invalid value 'exists:/x' for 'if=': expected path:P, !path:P, cmdline:WORD or !cmdline:WORD"
    );
    assert_eq!(
        unit_err("if=path:dev"),
        "invalid value 'path:dev' for 'if=': expected an absolute path after 'path:'"
    );
}

#[test]
fn process_options() {
    unit("user=www-data group=33 groups=video,44 dir=\"/srv/my app\" umask=027 env=A=1 env=\"B=two words\" no-new-privs=yes log=console", |u| {
        assert_eq!(u.extra().user, Some(Id::Name("www-data")));
        assert_eq!(u.extra().group, Some(Id::Num(33)));
        assert_eq!(u.groups().collect::<Vec<_>>(), [Id::Name("video"), Id::Num(44)]);
        let mut buf = [0u8; 64];
        assert_eq!(u.extra().dir.unwrap().decode(&mut buf).unwrap(), b"/srv/my app");
        assert_eq!(u.extra().umask, Some(0o27));
        let env: Vec<_> = u.env().map(|w| w.raw()).collect();
        assert_eq!(env, ["A=1", "\"B=two words\""]);
        assert!(u.no_new_privs);
        assert_eq!(u.log, Log::Console);
    });
    for (v, l) in [
        ("kmsg", Log::Kmsg),
        ("null", Log::Null),
        ("inherit", Log::Inherit),
    ] {
        unit(&format!("log={}", v), |u| assert_eq!(u.log, l));
    }
    assert_eq!(
        unit_err("user=-x"),
        "invalid value '-x' for 'user=': expected a name (A-Z a-z 0-9 _ . - $) or a number"
    );
    assert_eq!(
        unit_err("group=a:b"),
        "invalid value 'a:b' for 'group=': expected a name (A-Z a-z 0-9 _ . - $) or a number"
    );
    assert_eq!(unit_err("groups=a,a"), "'a' is listed twice in 'groups='");
    assert_eq!(
        unit_err("dir=srv"),
        "invalid value 'srv' for 'dir=': expected an absolute path"
    );
    assert_eq!(
        unit_err("umask=0800"),
        "invalid value '0800' for 'umask=': expected an octal mode from 0 to 0777"
    );
    assert_eq!(unit_err("env=A"), "invalid value 'A' for 'env=': expected KEY=VALUE, KEY of A-Z a-z 0-9 _ and not starting with a digit");
    let long = format!("env={}-x=1", "A".repeat(70));
    assert!(unit_err(&long).starts_with("invalid value 'AAAA"));
    unit(&format!("env={}=1", "A".repeat(70)), |u| {
        assert_eq!(u.env().count(), 1)
    });
    assert_eq!(
        unit_err("no-new-privs=true"),
        "invalid value 'true' for 'no-new-privs=': expected yes or no"
    );
    assert_eq!(
        unit_err("log=kmesg"),
        "invalid value 'kmesg' for 'log=': expected kmsg, syslog, console, null or inherit — did you mean 'kmsg'?"
    );
}

#[test]
fn tty_option() {
    with("tty c tty=/dev/ttyAMA0 -- /bin/sh", |t| {
        assert_eq!(t.units[0].extra().tty.unwrap().raw(), "/dev/ttyAMA0")
    });
    assert_eq!(
        errors("tty c tty=ttyS0 -- /bin/sh"),
        ["t.conf:1:11: error: invalid value 'ttyS0' for 'tty=': expected a device path like /dev/ttyS0 — did you mean '/dev/ttyS0'?"]
    );
    assert_eq!(
        unit_err("tty=/dev/ttyS0"),
        "'tty=/dev/ttyS0' does not apply to a service: only tty units have a terminal"
    );
}

#[test]
fn placement_options() {
    unit(
        "cpus=2-3 cpuset=0-3 mems=0-1 isolate=yes numa=interleave:0-1",
        |u| {
            assert_eq!(u.extra().cpus.unwrap().mask().words(), &[0b1100]);
            assert_eq!(u.extra().cpuset.unwrap().as_str(), "0-3");
            assert_eq!(u.extra().mems.unwrap().mask().words(), &[0b11]);
            assert!(u.isolate);
            assert!(matches!(u.extra().numa, Some(Numa::Interleave(l)) if l.as_str() == "0-1"));
        },
    );
    unit("cpus=1023", |u| {
        assert!(u.extra().cpus.unwrap().mask().has(1023))
    });
    unit("numa=bind:1", |u| {
        assert!(matches!(u.extra().numa, Some(Numa::Bind(_))))
    });
    unit("numa=preferred:1", |u| {
        assert_eq!(u.extra().numa, Some(Numa::Preferred(1)))
    });
    unit("numa=local", |u| {
        assert_eq!(u.extra().numa, Some(Numa::Local))
    });
    assert_eq!(
        unit_err("cpus=1024"),
        "invalid value '1024' for 'cpus=': CPU numbers must be below 1024"
    );
    assert_eq!(
        unit_err("cpuset=0,3-1"),
        "invalid value '3-1' for 'cpuset=': a range must go from low to high"
    );
    assert_eq!(
        unit_err("mems=x"),
        "invalid value 'x' for 'mems=': expected a list like 0-3,6,8-9"
    );
    assert_eq!(
        unit_err("isolate=1"),
        "invalid value '1' for 'isolate=': expected yes or no"
    );
    assert_eq!(
        unit_err("numa=bnd:0"),
        "invalid value 'bnd:0' for 'numa=': expected bind:NODES, preferred:NODE, interleave:NODES or local — did you mean 'bind'?"
    );
    assert_eq!(
        unit_err("numa=preferred:0-1"),
        "invalid value '0-1' for 'numa=': expected one node number below 1024"
    );
}

#[test]
fn cgroup_options() {
    unit("mem.max=64M mem.high=48M mem.low=16M swap.max=0 pids.max=32 cpu.weight=400 cpu.max=50% io.weight=10", |u| {
        assert_eq!(u.extra().mem_max.value(), Some(64 << 20));
        assert_eq!(u.extra().mem_high.value(), Some(48 << 20));
        assert_eq!(u.extra().mem_low.value(), Some(16 << 20));
        assert_eq!(u.extra().swap_max.value(), Some(0));
        assert_eq!(u.extra().pids_max.to_string(), "32");
        assert_eq!(u.extra().cpu_weight, Some(400));
        assert_eq!(u.extra().cpu_max.unwrap().to_string(), "50000 100000");
        assert_eq!(u.extra().io_weight, Some(10));
    });
    unit("mem.max=max pids.max=max cpu.max=25000/50000", |u| {
        assert_eq!(u.extra().mem_max, Limit::MAX);
        assert_eq!(u.extra().mem_max.to_string(), "max");
        assert_eq!(u.extra().pids_max.to_string(), "max");
        assert_eq!(u.extra().cpu_max.unwrap().to_string(), "25000 50000");
    });
    unit("cpu.max=max", |u| {
        assert_eq!(u.extra().cpu_max.unwrap().to_string(), "max 100000")
    });
    unit("cpu.max=250%", |u| {
        assert_eq!(u.extra().cpu_max.unwrap().to_string(), "250000 100000")
    });
    assert_eq!(
        unit_err("mem.max=64MB"),
        "invalid value '64MB' for 'mem.max=': expected a size like 4096, 512K, 64M, 1G or max"
    );
    assert_eq!(
        unit_err("mem.high=x"),
        "invalid value 'x' for 'mem.high=': expected a size like 4096, 512K, 64M, 1G or max"
    );
    assert_eq!(
        unit_err("mem.low=2000000T"),
        "invalid value '2000000T' for 'mem.low=': larger than the limit of 1048576T"
    );
    assert_eq!(
        unit_err("swap.max=-1"),
        "invalid value '-1' for 'swap.max=': expected a size like 4096, 512K, 64M, 1G or max"
    );
    assert_eq!(
        unit_err("pids.max=4k"),
        "invalid value '4k' for 'pids.max=': expected a number up to 4294967295 or max"
    );
    assert_eq!(
        unit_err("cpu.weight=0"),
        "invalid value '0' for 'cpu.weight=': expected a number from 1 to 10000"
    );
    assert_eq!(
        unit_err("io.weight=10001"),
        "invalid value '10001' for 'io.weight=': expected a number from 1 to 10000"
    );
    assert_eq!(
        unit_err("cpu.max=50000/100"),
        "invalid value '50000/100' for 'cpu.max=': expected N% (1 to 102400), QUOTA/PERIOD in microseconds (QUOTA at least 1000 or max, PERIOD 1000 to 1000000) or max"
    );
}

#[test]
fn scheduling_options() {
    unit("nice=-20 ioprio=be:7 oom-score=-1000", |u| {
        assert_eq!(u.extra().nice, Some(-20));
        assert_eq!(u.extra().ioprio, Some(IoPrio::Be(7)));
        assert_eq!(u.extra().oom_score, Some(-1000));
    });
    for (v, s) in [
        ("other", Sched::Other),
        ("batch", Sched::Batch),
        ("idle", Sched::Idle),
        ("fifo:1", Sched::Fifo(1)),
        ("rr:99", Sched::Rr(99)),
    ] {
        unit(&format!("sched={}", v), |u| {
            assert_eq!(u.extra().sched, Some(s))
        });
    }
    unit("ioprio=rt:0", |u| {
        assert_eq!(u.extra().ioprio, Some(IoPrio::Rt(0)))
    });
    unit("ioprio=idle", |u| {
        assert_eq!(u.extra().ioprio, Some(IoPrio::Idle))
    });
    assert_eq!(
        unit_err("nice=20"),
        "invalid value '20' for 'nice=': expected a number from -20 to 19"
    );
    assert_eq!(
        unit_err("sched=fifo:100"),
        "invalid value 'fifo:100' for 'sched=': expected other, batch, idle, fifo:1-99 or rr:1-99"
    );
    assert_eq!(
        unit_err("sched=fifi:10"),
        "invalid value 'fifi:10' for 'sched=': expected other, batch, idle, fifo:1-99 or rr:1-99 — did you mean 'fifo'?"
    );
    assert_eq!(
        unit_err("ioprio=be:8"),
        "invalid value 'be:8' for 'ioprio=': expected rt:0-7, be:0-7 or idle"
    );
    assert_eq!(
        unit_err("oom-score=1001"),
        "invalid value '1001' for 'oom-score=': expected a number from -1000 to 1000"
    );
}

#[test]
fn rlimits() {
    unit(
        "rlimit.nofile=1024:4096 rlimit.memlock=infinity rlimit.core=unlimited rlimit.stack=8M",
        |u| {
            let r: Vec<_> = u
                .rlimits()
                .map(|r| (r.name(), r.resource, r.soft, r.hard))
                .collect();
            let inf = u64::MAX;
            assert_eq!(
                r,
                [
                    ("nofile", 7, 1024, 4096),
                    ("memlock", 8, inf, inf),
                    ("core", 4, inf, inf),
                    ("stack", 3, 8 << 20, 8 << 20)
                ]
            );
        },
    );
    for (i, name) in table::model::RLIMITS.iter().enumerate() {
        unit(&format!("rlimit.{}=1", name), |u| {
            assert_eq!(u.rlimits().next().unwrap().resource, i as u32)
        });
    }
    assert_eq!(
        unit_err("rlimit.nofile=4096:1024"),
        "'rlimit.nofile' has a soft limit above its hard limit"
    );
    assert_eq!(
        unit_err("rlimit.nofile=lots"),
        "invalid value 'lots' for 'rlimit.nofile=': expected SOFT[:HARD], each a number (K, M, G, T allowed), infinity or unlimited"
    );
    assert_eq!(
        unit_err("rlimit.nofiles=1"),
        "unknown option 'rlimit.nofiles' — did you mean 'rlimit.nofile'?"
    );
    assert_eq!(
        unit_err("rlimit.core=1 rlimit.core=2"),
        "option 'rlimit.core' given twice"
    );
}

// ---------------------------------------------------------------------
// Lexical rules

#[test]
fn quotes_escapes_comments_continuations() {
    let text = "# a comment\n\
                service web \\\n\
                \tcpus=0 \\\n\
                  -- /bin/echo \"a b\" \"q\\\"uote\" \"back\\\\slash\" \"tab\\t\" nl\\n # trailing comment\n\
                \n";
    with(text, |t| {
        let u = &t.units[0];
        let mut buf = [0u8; 256];
        let argv: Vec<String> = table::decode_all(u.argv(), &mut buf)
            .unwrap()
            .map(|c| c.to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            argv,
            [
                "/bin/echo",
                "a b",
                "q\"uote",
                "back\\slash",
                "tab\t",
                "nl\\n"
            ]
        );
        assert_eq!(u.argc, 6);
    });
    with("service a -- /bin/x\r\nservice b -- /bin/y\r\n", |t| {
        assert_eq!(t.units.len(), 2)
    });
}

// ---------------------------------------------------------------------
// Checks across the table

#[test]
fn cycles_are_spelled_out() {
    assert_eq!(
        errors("service a after=b -- /a\nservice b after=c -- /b\nservice c after=a -- /c"),
        ["t.conf:1:9: error: dependency cycle: a -> b -> c -> a"]
    );
    assert_eq!(
        errors("service a needs=a -- /a"),
        ["t.conf:1:9: error: dependency cycle: a -> a"]
    );
    // A long cycle is cut after CYCLE_SHOWN names.
    let mut text = String::new();
    for i in 0..20 {
        text += &format!("task u{} after=u{} -- /x\n", i, (i + 1) % 20);
    }
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    let names: Vec<String> = (0..16).map(|i| format!("u{}", i)).collect();
    assert_eq!(
        e[0],
        format!(
            "t.conf:1:6: error: dependency cycle: {} -> ... -> u0",
            names.join(" -> ")
        )
    );
}

#[test]
fn start_order() {
    let text = "service web after=db,cache -- /w\nservice db needs=disk -- /d\ntask disk -- /k\nservice cache -- /c\nservice log -- /l";
    with(text, |t| {
        let order: Vec<_> = t.in_order().map(|(_, u)| u.name).collect();
        assert_eq!(order, ["disk", "db", "cache", "web", "log"]);
    });
}

#[test]
fn names() {
    with(&format!("service {} -- /x", "a".repeat(31)), |t| {
        assert_eq!(t.units[0].name.len(), 31)
    });
    assert_eq!(
        errors(&format!("service {} -- /x", "a".repeat(32))),
        [format!("t.conf:1:9: error: invalid unit name '{}': expected 1 to 31 of A-Z a-z 0-9 _ . - (not . or ..)", "a".repeat(32))]
    );
    assert_eq!(
        errors("service a -- /a\ntask a -- /b"),
        ["t.conf:2:6: error: unit 'a' defined twice (first at line 1)"]
    );
    assert_eq!(
        errors("service .. -- /a"),
        ["t.conf:1:9: error: invalid unit name '..': expected 1 to 31 of A-Z a-z 0-9 _ . - (not . or ..)"]
    );
}

#[test]
fn kind_rules() {
    assert_eq!(
        errors("task t restart=always -- /t"),
        ["t.conf:1:8: error: 'restart=always' does not apply to a task: a task runs once (restart=on-failure retries a failed one)"]
    );
    assert_eq!(
        errors("task t restart-delay=1s -- /t"),
        ["t.conf:1:8: error: 'restart-delay=1s' has no effect with restart=never (a task's default)"]
    );
    with("task t restart=on-failure restart-delay=1s -- /t", |t| {
        assert_eq!(t.units[0].restart, Restart::OnFailure)
    });
    assert_eq!(
        errors("task t ready=notify -- /t"),
        ["t.conf:1:8: error: 'ready=notify' does not apply to a task: a task is done when it exits 0"]
    );
    assert_eq!(
        errors("tty c log=console -- /bin/sh"),
        ["t.conf:1:7: error: 'log=console' does not apply to a tty: a tty unit's output goes to its terminal"]
    );
    assert_eq!(
        errors("tty a -- /bin/sh\ntty b -- /bin/sh"),
        ["t.conf:2:5: error: terminal '/dev/console' is also used by unit 'a'"]
    );
    assert_eq!(
        errors("tty a tty=/dev/ttyS0 -- /bin/sh\ntty b tty=\"/dev/ttyS0\" -- /bin/sh"),
        ["t.conf:2:11: error: terminal '\"/dev/ttyS0\"' is also used by unit 'a'"]
    );
}

#[test]
fn contradictions() {
    assert_eq!(
        unit_err("isolate=yes"),
        "'isolate=yes' needs cpuset= (the CPUs to isolate)"
    );
    assert_eq!(
        unit_err("cpus=4 cpuset=2-3"),
        "'cpus=4' names CPUs outside cpuset= (the kernel would refuse them)"
    );
    assert_eq!(
        unit_err("mems=0 numa=bind:1"),
        "'numa=bind:1' names nodes outside mems= (the kernel would refuse them)"
    );
    assert_eq!(
        unit_err("mem.max=1G mem.high=2G"),
        "'mem.high=2G' is above mem.max="
    );
    assert_eq!(
        unit_err("mem.low=2G mem.high=1G"),
        "'mem.low=2G' is above mem.high="
    );
    assert_eq!(
        unit_err("sched=fifo:10 nice=-5"),
        "'nice=-5' has no effect with a real-time sched= (fifo, rr)"
    );
    assert_eq!(
        unit_err("restart=never restart-limit=3"),
        "'restart-limit=3' has no effect with restart=never"
    );
}

#[test]
fn isolated_cpus_are_not_shared() {
    let text = "irq-affinity 0-3\n\
                service rt cpuset=3 isolate=yes -- /rt\n\
                service a cpus=3 -- /a\n\
                service b cpuset=2-3 -- /b\n\
                service c cpuset=3 isolate=yes -- /c\n\
                service ok cpus=0-2 cpuset=0-2 -- /ok";
    assert_eq!(
        errors(text),
        [
            "t.conf:5:18: error: 'cpuset=' uses CPU 3, which unit 'rt' isolates",
            "t.conf:3:16: error: 'cpus=' uses CPU 3, which unit 'rt' isolates",
            "t.conf:4:18: error: 'cpuset=' uses CPU 3, which unit 'rt' isolates",
            "t.conf:1:14: error: 'irq-affinity' uses CPU 3, which unit 'rt' isolates",
        ]
    );
}

// ---------------------------------------------------------------------
// Hints

#[test]
fn hints() {
    assert_eq!(
        errors("servic a -- /a"),
        ["t.conf:1:1: error: unknown statement 'servic' — did you mean 'service'?"]
    );
    assert_eq!(
        errors("Hostname x"),
        ["t.conf:1:1: error: unknown statement 'Hostname' — did you mean 'hostname'?"]
    );
    assert_eq!(
        unit_err("cpu=1"),
        "unknown option 'cpu' — did you mean 'cpus'?"
    );
    assert_eq!(
        unit_err("restrat=never"),
        "unknown option 'restrat' — did you mean 'restart'?"
    );
    assert_eq!(
        unit_err("mem=1G"),
        "unknown option 'mem' — did you mean 'mems'?"
    );
    assert_eq!(
        unit_err("swap=1G"),
        "unknown option 'swap' — did you mean 'swap.max'?"
    );
    assert_eq!(
        unit_err("memory.max=1G"),
        "unknown option 'memory.max' — did you mean 'mem.max'?"
    );
    assert_eq!(unit_err("xyzzy=1"), "unknown option 'xyzzy'");
    assert_eq!(unit_err("cpus"), "option 'cpus' needs a value: cpus=...");
    assert_eq!(
        errors("service syslogd -- /s\nservice app after=syslog -- /a"),
        ["t.conf:2:19: error: unknown unit 'syslog' in 'after=' — did you mean 'syslogd'?"]
    );
    assert_eq!(
        errors("service a -- /a \\\n\ncpus=1 -- /b"),
        ["t.conf:3:1: error: unknown statement 'cpus=1' (a unit's options go on its line: is a '\\' missing at the end of the line above?)"]
    );
}

// ---------------------------------------------------------------------
// Limits

#[test]
fn limit_file_size() {
    let big = vec![b'#'; capacity::FILE_MAX + 1];
    assert_eq!(
        errors_bytes(&big),
        ["t.conf:1:1: error: file is larger than 65536 bytes (the limit)"]
    );
    let mut fits = vec![b'#'; capacity::FILE_MAX];
    fits[capacity::FILE_MAX - 1] = b'\n';
    assert!(errors_bytes(&fits).is_empty());
}

#[test]
fn limit_statement_length() {
    let ok = format!("service a -- /{}", "x".repeat(capacity::LINE_MAX - 14));
    assert_eq!(ok.len(), capacity::LINE_MAX);
    assert!(errors(&ok).is_empty());
    let long = format!(
        "service a -- /{} \\\n  y",
        "x".repeat(capacity::LINE_MAX - 14)
    );
    assert_eq!(
        errors(&long),
        ["t.conf:1:1: error: statement is 4102 bytes long, more than the limit of 4096"]
    );
}

#[test]
fn limit_units() {
    let mut text = String::new();
    for i in 0..capacity::UNITS_MAX {
        text += &format!("task t{} -- /x\n", i);
    }
    with(&text, |t| assert_eq!(t.units.len(), 256));
    text += "task one-more -- /x\n";
    assert_eq!(
        errors(&text),
        ["t.conf:257:1: error: too many units (limit 256)"]
    );
}

#[test]
fn limit_arguments() {
    let args = |n: usize| format!("task t -- /x{}", " a".repeat(n - 1));
    with(&args(capacity::ARGS_MAX), |t| {
        assert_eq!(t.units[0].argc, 64)
    });
    assert_eq!(
        errors(&args(capacity::ARGS_MAX + 1)),
        ["t.conf:1:140: error: too many arguments (limit 64)"]
    );
}

#[test]
fn limit_env() {
    let mut text = String::new();
    for i in 0..capacity::ENV_MAX {
        text += &format!("env K{}=v\n", i);
    }
    with(&text, |t| assert_eq!(t.env.len(), 32));
    text += "env LAST=v\n";
    assert_eq!(
        errors(&text),
        ["t.conf:33:1: error: too many env statements (limit 32)"]
    );
    let unit_env = |n: usize| {
        (0..n)
            .map(|i| format!("env=K{}=v", i))
            .collect::<Vec<_>>()
            .join(" ")
    };
    unit(&unit_env(capacity::UNIT_ENV_MAX), |u| {
        assert_eq!(u.env().count(), 16)
    });
    assert_eq!(
        unit_err(&unit_env(capacity::UNIT_ENV_MAX + 1)),
        "too many env= entries (limit 16)"
    );
}

#[test]
fn limit_environment_bytes() {
    // The global env statements count for every unit that does not
    // override them: 15 of 256 bytes each (G00=, 251 bytes, a NUL), then
    // the unit's own env= up to the limit, and one byte over.
    let globals = |n: usize, len: usize| {
        (0..n)
            .map(|i| format!("env G{:02}={}\n", i, "g".repeat(len)))
            .collect::<String>()
    };
    let room = capacity::ENV_BYTES_MAX - 15 * 256 - "L=".len() - 1;
    let text = |last: usize| {
        format!(
            "{}service u env=L={} -- /bin/x\n",
            globals(15, 251),
            "v".repeat(last)
        )
    };
    with(&text(room), |t| assert_eq!(t.env.len(), 15));
    let e = errors(&text(room + 1));
    assert_eq!(e.len(), 1, "{:?}", e);
    assert!(
        e[0].ends_with("error: unit 'u': its environment is 4097 bytes (env= entries and the env statements it does not override, a NUL after each), more than the limit of 4096"),
        "{}",
        e[0]
    );
    // Quotes do not count (decoded bytes do); an overridden global does
    // not count either.
    let quoted = format!(
        "{}env Q=\"{}\"\nservice u -- /bin/x\n",
        globals(15, 251),
        "q".repeat(room + 1)
    );
    assert_eq!(errors(&quoted).len(), 1);
    let quoted = format!(
        "{}env Q=\"{}\"\nservice u -- /bin/x\n",
        globals(15, 251),
        "q".repeat(room)
    );
    with(&quoted, |t| assert_eq!(t.env.len(), 16));
    let overridden = format!("{}service u env=G00=x -- /bin/x\n", globals(16, 252));
    with(&overridden, |t| assert_eq!(t.env.len(), 16));
    assert_eq!(
        errors(&format!("{}service u -- /bin/x\n", globals(16, 252))).len(),
        1
    );
}

#[test]
fn limit_paths() {
    let path = |n: usize| format!("/{}", "p".repeat(n - 1));
    for key in ["dir=", "tty=", "if=path:", "if=cmdline:"] {
        let opts = |n: usize| {
            let v = if key == "if=cmdline:" {
                "w".repeat(n)
            } else {
                path(n)
            };
            format!("{}{}", key, v)
        };
        let text = |n: usize| format!("tty u {} -- /bin/x", opts(n));
        with(&text(capacity::PATH_MAX), |t| assert_eq!(t.units.len(), 1));
        let e = errors(&text(capacity::PATH_MAX + 1));
        assert_eq!(e.len(), 1, "{}: {:?}", key, e);
        assert!(
            e[0].contains("is 256 bytes long, more than the limit of 255"),
            "{}: {}",
            key,
            e[0]
        );
    }
    let mount = |src: usize, dst: usize| format!("mount {} {} tmpfs", path(src), path(dst));
    with(&mount(255, 255), |t| assert_eq!(t.setup.len(), 1));
    assert!(errors(&mount(256, 255))[0].contains("mount source '/ppp"));
    assert!(errors(&mount(255, 256))[0].contains("mount target '/ppp"));
    let data = |n: usize| format!("mount tmpfs /t tmpfs ro,size={}", "1".repeat(n - 5));
    with(&data(capacity::MOUNT_DATA_MAX), |t| {
        assert_eq!(t.setup.len(), 1)
    });
    assert!(
        errors(&data(capacity::MOUNT_DATA_MAX + 1))[0].contains("mount data options 'ro,size=111")
    );
    // /proc/sys/ is 10 bytes.
    let key = |n: usize| format!("sysctl k.{} 1", "k".repeat(n - 12));
    with(&key(capacity::SYSCTL_MAX), |t| assert_eq!(t.setup.len(), 1));
    assert!(errors(&key(capacity::SYSCTL_MAX + 1))[0].contains("sysctl key"));
    let value = |n: usize| format!("sysctl k.k {}", "1".repeat(n));
    with(&value(capacity::SYSCTL_MAX), |t| {
        assert_eq!(t.setup.len(), 1)
    });
    assert!(errors(&value(capacity::SYSCTL_MAX + 1))[0].contains("sysctl value"));
}

#[test]
fn limit_lists() {
    let names = |n: usize| (0..n).map(|i| format!("d{}", i)).collect::<Vec<_>>();
    let mut text = String::new();
    for n in names(17) {
        text += &format!("task {} -- /x\n", n);
    }
    let ok = format!("{}service s after={} -- /s", text, names(16).join(","));
    with(&ok, |t| assert_eq!(t.units[17].deps().count(), 16));
    let over = format!("{}service s after={} -- /s", text, names(17).join(","));
    assert_eq!(
        errors(&over),
        ["t.conf:18:71: error: too many units in after= and needs= (limit 16)"]
    );
    let groups = |n: usize| {
        (0..n)
            .map(|i| format!("g{}", i))
            .collect::<Vec<_>>()
            .join(",")
    };
    unit(&format!("groups={}", groups(16)), |u| {
        assert_eq!(u.groups().count(), 16)
    });
    assert_eq!(
        unit_err(&format!("groups={}", groups(17))),
        "too many groups (limit 16)"
    );
    let conds = |n: usize| {
        (0..n)
            .map(|i| format!("if=path:/p{}", i))
            .collect::<Vec<_>>()
            .join(" ")
    };
    unit(&conds(8), |u| assert_eq!(u.conds().count(), 8));
    assert_eq!(unit_err(&conds(9)), "too many if= conditions (limit 8)");
}

#[test]
fn limit_setup_statements() {
    let mut text = String::new();
    for i in 0..capacity::SETUP_MAX {
        text += &format!("sysctl k.k{} 1\n", i);
    }
    with(&text, |t| assert_eq!(t.setup.len(), 64));
    text += "sysctl k.last 1\n";
    assert_eq!(
        errors(&text),
        ["t.conf:65:1: error: too many system statements (limit 64)"]
    );
}

#[test]
fn limit_errors_per_pass() {
    let text = "bad\n".repeat(100);
    let e = errors(&text);
    assert_eq!(e.len(), capacity::ERRORS_MAX + 1);
    assert_eq!(e[31], "t.conf:32:1: error: unknown statement 'bad'");
    assert_eq!(
        e[32],
        "t.conf:33:1: error: too many errors (32), stopping here"
    );
}

// ---------------------------------------------------------------------
// Malformed input: exact messages

#[test]
fn malformed_inputs() {
    let cases: &[(&str, &str)] = &[
        ("service", "t.conf:1:8: error: missing NAME (usage: service NAME [KEY=VALUE ...] -- PROGRAM [ARG ...])"),
        ("service a", "t.conf:1:10: error: missing '--' before the program (usage: service NAME [KEY=VALUE ...] -- PROGRAM [ARG ...])"),
        ("task a cpus=1", "t.conf:1:14: error: missing '--' before the program (usage: task NAME [KEY=VALUE ...] -- PROGRAM [ARG ...])"),
        ("tty a --", "t.conf:1:7: error: missing program after '--'"),
        ("service a -- sh -c true", "t.conf:1:14: error: invalid program 'sh': expected an absolute path (pinit runs it with execve, no PATH search)"),
        ("service -- /x", "t.conf:1:8: error: missing NAME (usage: service NAME [KEY=VALUE ...] -- PROGRAM [ARG ...])"),
        ("service a/b -- /x", "t.conf:1:9: error: invalid unit name 'a/b': expected 1 to 31 of A-Z a-z 0-9 _ . - (not . or ..)"),
        ("service a cpus= -- /x", "t.conf:1:11: error: empty value for 'cpus='"),
        ("service a cpus=\"1\" -- /x", "t.conf:1:16: error: quotes are not allowed in 'cpus=' (only in paths, arguments and env)"),
        ("service a cpus=1 cpus=2 -- /x", "t.conf:1:18: error: option 'cpus' given twice"),
        ("service a after=b,b -- /x\ntask b -- /b", "t.conf:1:19: error: 'b' is listed twice in 'after='"),
        ("service a \"x y\" -- /x", "t.conf:1:11: error: expected KEY=VALUE or '--', found '\"x y\"'"),
        ("service a -- /x \"open", "t.conf:1:17: error: unterminated quote: '\"' needs a closing '\"' on the same line"),
        ("service a -- /x \"a\\qb\"", "t.conf:1:19: error: unknown escape '\\q' (inside quotes: \\\" \\\\ \\n \\t)"),
        ("service a -- /x \\   \n", "t.conf:1:17: error: blanks after '\\': a continuation '\\' must end the line"),
        ("service a -- /x \\", "t.conf:1:17: error: '\\' continues the last line past the end of the file"),
        ("service a -- /x \u{1b}[0m", "t.conf:1:17: error: control character 0x1b"),
        ("service a -- /x\rservice b -- /y", "t.conf:1:16: error: carriage return not followed by a newline"),
        ("hostname", "t.conf:1:9: error: missing NAME (usage: hostname NAME, or hostname FILE [NAME])"),
        ("hostname a b", "t.conf:1:12: error: unexpected 'b' (usage: hostname NAME, or hostname FILE [NAME])"),
        ("hostname /etc/hostname a b", "t.conf:1:26: error: unexpected 'b' (usage: hostname NAME, or hostname FILE [NAME])"),
        ("hostname /etc/hostname .x", "t.conf:1:24: error: invalid hostname '.x': expected 1 to 64 of A-Z a-z 0-9 - . (not first: - .)"),
        ("fstab etc/fstab", "t.conf:1:7: error: invalid fstab file 'etc/fstab': expected an absolute path"),
        ("fstab /a /b", "t.conf:1:10: error: unexpected '/b' (usage: fstab [FILE])"),
        ("fstab\nfstab /etc/fstab", "t.conf:2:1: error: fstab '/etc/fstab' given twice (first at line 1)"),
        ("random-seed", "t.conf:1:12: error: missing FILE (usage: random-seed FILE)"),
        ("random-seed seed", "t.conf:1:13: error: invalid random seed file 'seed': expected an absolute path"),
        ("random-seed /a /b", "t.conf:1:16: error: unexpected '/b' (usage: random-seed FILE)"),
        ("random-seed /a\nrandom-seed /b", "t.conf:2:1: error: random-seed given twice (first at line 1)"),
        ("log", "t.conf:1:4: error: missing DESTINATION (usage: log DESTINATION, one of kmsg syslog console null inherit)"),
        ("log sylog", "t.conf:1:5: error: invalid log destination 'sylog': expected kmsg, syslog, console, null or inherit"),
        ("log kmsg null", "t.conf:1:10: error: unexpected 'null' (usage: log DESTINATION, one of kmsg syslog console null inherit)"),
        ("log kmsg\nlog syslog", "t.conf:2:1: error: log given twice (first at line 1)"),
        ("accounting", "t.conf:1:11: error: missing WHAT (usage: accounting WHAT: none, or a comma list of memory and pids)"),
        ("accounting cpu", "t.conf:1:12: error: invalid accounting 'cpu': expected none, or a comma list of memory and pids, each at most once"),
        ("accounting memory,memory", "t.conf:1:12: error: invalid accounting 'memory,memory': expected none, or a comma list of memory and pids, each at most once"),
        ("accounting none,pids", "t.conf:1:12: error: invalid accounting 'none,pids': expected none, or a comma list of memory and pids, each at most once"),
        ("accounting none pids", "t.conf:1:17: error: unexpected 'pids' (usage: accounting WHAT: none, or a comma list of memory and pids)"),
        ("accounting none\naccounting pids", "t.conf:2:1: error: accounting given twice (first at line 1)"),
        ("hostname a_b", "t.conf:1:10: error: invalid hostname 'a_b': expected 1 to 64 of A-Z a-z 0-9 - . (not first: - .)"),
        ("mount", "t.conf:1:6: error: missing SOURCE (usage: mount SOURCE TARGET FSTYPE [OPTIONS])"),
        ("mount a /b c d e", "t.conf:1:16: error: unexpected 'e' (usage: mount SOURCE TARGET FSTYPE [OPTIONS])"),
        ("mount a /b ext/4", "t.conf:1:12: error: invalid file system type 'ext/4': expected a name like tmpfs, ext4 or 9p"),
        ("mount a /b ext4 ro,,noatime", "t.conf:1:17: error: invalid mount option 'ro,,noatime': empty entry in the comma list"),
        ("mount \"\" /b ext4", "t.conf:1:7: error: invalid mount source '\"\"': expected a device, a path or a name like tmpfs"),
        ("sysctl a", "t.conf:1:9: error: missing VALUE (usage: sysctl KEY VALUE, a VALUE with spaces in quotes)"),
        ("sysctl a b c", "t.conf:1:12: error: unexpected 'c' (usage: sysctl KEY VALUE, a VALUE with spaces in quotes)"),
        ("sysctl a. 1", "t.conf:1:8: error: invalid sysctl key 'a.': expected a key like net.ipv4.ip_forward"),
        ("env", "t.conf:1:4: error: missing KEY=VALUE (usage: env KEY=VALUE)"),
        ("env A", "t.conf:1:5: error: invalid env entry 'A': expected KEY=VALUE, KEY of A-Z a-z 0-9 _ and not starting with a digit"),
        ("env A=1 B=2", "t.conf:1:9: error: unexpected 'B=2' (usage: env KEY=VALUE)"),
        ("irq-affinity", "t.conf:1:13: error: missing CPULIST (usage: irq-affinity CPULIST)"),
        ("irq-affinity 0\nirq-affinity 1", "t.conf:2:1: error: irq-affinity given twice (first at line 1)"),
        ("irq-affinity 5000", "t.conf:1:14: error: invalid CPU list '5000': CPU numbers must be below 1024"),
        ("-- /bin/sh", "t.conf:1:1: error: unknown statement '--' (a unit's options go on its line: is a '\\' missing at the end of the line above?)"),
        ("daemon x -- /x", "t.conf:1:1: error: unknown statement 'daemon'"),
        ("srvice x -- /x", "t.conf:1:1: error: unknown statement 'srvice' — did you mean 'service'?"),
        ("service a env=A=1 env=A=2 -- /x", "t.conf:1:23: error: 'A' is listed twice in 'env='"),
        ("service a umask=22a -- /x", "t.conf:1:17: error: invalid value '22a' for 'umask=': expected an octal mode from 0 to 0777"),
        ("service a groups=,x -- /x", "t.conf:1:18: error: empty entry in 'groups=': expected a group name or number"),
        ("service a after=a/b -- /x", "t.conf:1:17: error: invalid entry 'a/b' in 'after=': expected 1 to 31 of A-Z a-z 0-9 _ . - (not . or ..)"),
        ("service a user=4294967295 -- /x", "t.conf:1:16: error: invalid value '4294967295' for 'user=': expected a name (A-Z a-z 0-9 _ . - $) or a number"),
        ("service a \u{e9}t\u{e9}=1 -- /x", "t.conf:1:11: error: unknown option '\u{e9}t\u{e9}'"),
        ("service a cpus=0-3 isolate=yes -- /x", "t.conf:1:20: error: 'isolate=yes' needs cpuset= (the CPUs to isolate)"),
        ("service a ready=fd:x -- /x", "t.conf:1:17: error: invalid value 'fd:x' for 'ready=': expected fd:N with N from 3 to 1023"),
        ("service a ioprio=rt -- /x", "t.conf:1:18: error: invalid value 'rt' for 'ioprio=': expected rt:0-7, be:0-7 or idle"),
        ("service a sched=fifo -- /x", "t.conf:1:17: error: invalid value 'fifo' for 'sched=': expected other, batch, idle, fifo:1-99 or rr:1-99"),
        ("service a numa=bind: -- /x", "t.conf:1:16: error: invalid value 'bind:' for 'numa=': expected bind:NODES, preferred:NODE, interleave:NODES or local"),
        ("service a numa=bind:0-2000 -- /x", "t.conf:1:21: error: invalid value '0-2000' for 'numa=': node numbers must be below 1024"),
        ("service a stop-signal=0 -- /x", "t.conf:1:23: error: invalid value '0' for 'stop-signal=': expected a signal name like TERM or a number from 1 to 64"),
        ("service a tty=/dev/tty1 -- /x", "t.conf:1:11: error: 'tty=/dev/tty1' does not apply to a service: only tty units have a terminal"),
        ("service a if=cmdline: -- /x", "t.conf:1:14: error: invalid value 'cmdline:' for 'if=': expected a word after 'cmdline:'"),
    ];
    assert!(cases.len() >= 40);
    for (input, want) in cases {
        let got = errors(input);
        assert_eq!(got, [want.to_string()], "input: {:?}", input);
    }
}

#[test]
fn every_problem_in_one_pass() {
    let text = "servce a -- /a\nservice b cpu=1 nice=99 -- /b\nservice c after=zz -- c\n";
    assert_eq!(
        errors(text),
        [
            "t.conf:1:1: error: unknown statement 'servce' — did you mean 'service'?",
            "t.conf:2:11: error: unknown option 'cpu' — did you mean 'cpus'?",
            "t.conf:2:22: error: invalid value '99' for 'nice=': expected a number from -20 to 19",
            "t.conf:3:23: error: invalid program 'c': expected an absolute path (pinit runs it with execve, no PATH search)",
            "t.conf:3:17: error: unknown unit 'zz' in 'after='",
        ]
    );
}

#[test]
fn a_lexical_error_keeps_the_name_known() {
    // The statement with the bad quote is skipped, but 'a' stays a unit:
    // 'b' gets no second error for naming it.
    assert_eq!(
        errors("service a cpus=1 \"oops -- /a\nservice b after=a -- /b"),
        ["t.conf:1:18: error: unterminated quote: '\"' needs a closing '\"' on the same line"]
    );
}

// ---------------------------------------------------------------------
// Bad bytes never panic

#[test]
fn no_panic_on_bad_bytes() {
    assert_eq!(
        errors_bytes(b"service a -- /x \xff\xfe"),
        ["t.conf:1:17: error: invalid UTF-8 (byte 0xff)"]
    );
    assert_eq!(
        errors_bytes(b"ser\0vice"),
        ["t.conf:1:4: error: NUL byte (this is not a text file?)"]
    );
    // Invalid UTF-8 in a comment is ignored.
    assert!(errors_bytes(b"# caf\xe9\nservice a -- /x").is_empty());
    // 10 MB: refused at once by size.
    let huge = vec![b'\\'; 10 << 20];
    let t0 = std::time::Instant::now();
    assert_eq!(
        errors_bytes(&huge),
        ["t.conf:1:1: error: file is larger than 65536 bytes (the limit)"]
    );
    assert!(t0.elapsed().as_millis() < 1000);
    // All backslashes, within the size limit.
    let bs = vec![b'\\'; capacity::FILE_MAX];
    assert_eq!(
        errors_bytes(&bs),
        ["t.conf:1:65536: error: '\\' continues the last line past the end of the file"]
    );
    assert_eq!(
        errors_bytes(b"\\\n\\\n\\"),
        ["t.conf:3:1: error: '\\' continues the last line past the end of the file"]
    );
    // Lone quotes, lone continuations, empty input.
    assert_eq!(
        errors("\""),
        ["t.conf:1:1: error: unterminated quote: '\"' needs a closing '\"' on the same line"]
    );
    assert!(errors("").is_empty());
    assert!(errors("\n\n   \t\n#\n").is_empty());
    assert!(errors("\\\n").is_empty());
    // Every byte value, and pseudo-random garbage: errors, no panic.
    let all: Vec<u8> = (0..=255u8).collect();
    assert!(!errors_bytes(&all).is_empty());
    let mut x: u32 = 12345;
    for _ in 0..200 {
        let junk: Vec<u8> = (0..300)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b"service task tty -- = , : \" \\ \n # cpus=0 after=a a b /x 1 \xff"
                    [(x >> 16) as usize % 52]
            })
            .collect();
        let _ = errors_bytes(&junk);
    }
}

// ---------------------------------------------------------------------
// The boards and --print

#[test]
fn boards_parse() {
    for b in [
        "qemu-x86_64",
        "qemu-aarch64",
        "rpi4",
        "x86-industrial",
        "debian-root",
    ] {
        let path = format!("{}/board-configs/{}.conf", env!("CARGO_MANIFEST_DIR"), b);
        let text = std::fs::read_to_string(&path).unwrap();
        with(&text, |t| assert!(t.units.len() >= 4, "{}", b));
    }
    // The compiled-in board is the default one, and it parses.
    let board = option_env!("PINIT_BOARD").unwrap_or("qemu-x86_64");
    assert_eq!(table::BOARD_NAME, board);
    assert!(table::BOARD_FILE.ends_with(&format!("{}.conf", board)));
    let mut t = Box::new(Table::new());
    assert_eq!(
        table::parse(table::BOARD_FILE, table::BOARD, &mut t, &mut |_| {}),
        0
    );
}

#[test]
fn print_shows_the_watchdogs_and_failure_actions() {
    let text = "watchdog /dev/watchdog0 timeout=5000ms magic-close=yes\n\
                service d ready=notify watchdog=2000ms on-failure=reboot -- /d\n\
                task t on-failure=none -- /t\n";
    let printed = with(text, |t| {
        let mut s = String::new();
        table::print("x.conf", t, &mut s).unwrap();
        s
    });
    assert!(
        printed.contains(
            "\nwatchdog /dev/watchdog0 timeout=5s shutdown-timeout=10m wait=1m magic-close=yes\n"
        ),
        "{printed}"
    );
    assert!(
        printed
            .contains("    restart=always restart-delay=0 restart-max=30s on-failure=reboot \\\n"),
        "{printed}"
    );
    assert!(
        printed.contains("    ready=notify ready-timeout=0 watchdog=2s \\\n"),
        "{printed}"
    );
    // Left out (or the default): named in the `not set:` comment.
    let t_block = printed.split("# 2. t").nth(1).unwrap();
    assert!(
        !t_block.contains("on-failure=") && t_block.contains(" on-failure "),
        "{printed}"
    );
    let again = with(&printed, |t| {
        let mut s = String::new();
        table::print("x.conf", t, &mut s).unwrap();
        s
    });
    assert_eq!(printed, again);
}

#[test]
fn print_shows_the_new_options_and_round_trips() {
    let text = "service r ready=forked pidfile=/run/r/r.pid kill=main runtime-dir=r:750 \\
                runtime-dir=r2 runtime-dir-keep=yes env-file=-/etc/default/r -- /bin/r\n\
                task t timeout=2m env-file=/etc/t -- /bin/t\n\
                service s ready=forked -- /bin/s\n";
    let first = with(text, |t| {
        let mut s = String::new();
        table::print("x.conf", t, &mut s).unwrap();
        s
    });
    for want in [
        "    ready=forked ready-timeout=0 pidfile=/run/r/r.pid \\\n",
        "    stop-signal=TERM stop-timeout=5s reload-signal=HUP kill=main \\\n",
        "    runtime-dir=r:0750 runtime-dir=r2:0755 runtime-dir-keep=yes \\\n",
        "    env-file=-/etc/default/r \\\n",
        "    timeout=2m \\\n",
        "    env-file=/etc/t \\\n",
        "    stop-signal=TERM stop-timeout=5s reload-signal=HUP kill=cgroup \\\n",
    ] {
        assert!(first.contains(want), "no {:?} in\n{}", want, first);
    }
    // A task is never asked for pidfile=, a service never for timeout=.
    let t = first
        .split("# 2. t")
        .nth(1)
        .unwrap()
        .split("# 3.")
        .next()
        .unwrap();
    assert!(!t.contains("pidfile"), "{}", t);
    // not set: in docs/config.md's order (pidfile=, watchdog=, listen=).
    let s = first.split("# 3. s").nth(1).unwrap();
    assert!(
        s.contains(" pidfile watchdog listen if ") && !s.contains(" timeout"),
        "{}",
        s
    );
    let second = with(&first, |t| {
        let mut s = String::new();
        table::print("x.conf", t, &mut s).unwrap();
        s
    });
    assert_eq!(first, second);
}

#[test]
fn print_round_trips() {
    for b in [
        "qemu-x86_64",
        "qemu-aarch64",
        "rpi4",
        "x86-industrial",
        "debian-root",
    ] {
        let path = format!("{}/board-configs/{}.conf", env!("CARGO_MANIFEST_DIR"), b);
        let text = std::fs::read_to_string(&path).unwrap();
        let first = with(&text, |t| {
            let mut s = String::new();
            table::print("x.conf", t, &mut s).unwrap();
            s
        });
        let second = with(&first, |t| {
            let mut s = String::new();
            table::print("x.conf", t, &mut s).unwrap();
            s
        });
        assert_eq!(first, second, "{}", b);
    }
}

// ---------------------------------------------------------------------
// Sockets: listen=, start=, accept=, max-instances=

#[test]
fn every_socket_form() {
    use table::{Addr, SocketKind as K};
    let opts = "listen=tcp:80 listen=tcp:127.0.0.1:8080,backlog=16,name=web,freebind \
                listen=udp:[::1]:53,reuseport,v6only listen=tcp:[::]:22 \
                listen=udp:[fe80::1:2]:9 \
                listen=unix:/run/a.sock,mode=0660,owner=www,group=12 \
                listen=unix-dgram:/run/log listen=unix-seqpacket:/run/s,backlog=1 \
                listen=fifo:/run/initctl,mode=0600";
    unit(opts, |u| {
        let l: Vec<_> = u.listens().collect();
        assert_eq!(l.len(), 9);
        let kinds: Vec<_> = l.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                K::Tcp,
                K::Tcp,
                K::Udp,
                K::Tcp,
                K::Udp,
                K::Unix,
                K::UnixDgram,
                K::UnixSeqpacket,
                K::Fifo
            ]
        );
        assert_eq!(l[0].addr, Addr::Inet(None, 80));
        assert_eq!(
            (l[0].backlog, l[0].name, u.fd_name(&l[0])),
            (4096, None, "u")
        );
        match l[1].addr {
            Addr::Inet(Some(ip), 8080) => assert_eq!(
                (ip.text, ip.v6, &ip.bytes[..4]),
                ("127.0.0.1", false, &[127, 0, 0, 1][..])
            ),
            a => panic!("{a:?}"),
        }
        assert_eq!(
            (l[1].backlog, u.fd_name(&l[1]), l[1].freebind),
            (16, "web", true)
        );
        match l[2].addr {
            Addr::Inet(Some(ip), 53) => {
                assert_eq!((ip.v6, ip.bytes[15], ip.is_any()), (true, 1, false))
            }
            a => panic!("{a:?}"),
        }
        assert!(l[2].reuseport && l[2].v6only && !l[2].freebind);
        assert!(matches!(l[3].addr, Addr::Inet(Some(ip), 22) if ip.is_any() && ip.v6));
        assert_eq!(l[5].addr, Addr::Path("/run/a.sock"));
        assert_eq!(
            (l[5].mode, l[5].owner, l[5].group),
            (0o660, Some(Id::Name("www")), Some(Id::Num(12)))
        );
        assert_eq!(l[6].mode, 0o666, "the default mode");
        assert_eq!(l[7].backlog, 1);
        assert_eq!((l[8].addr, l[8].mode), (Addr::Path("/run/initctl"), 0o600));
        let shown: Vec<_> = l.iter().map(|l| l.address().to_string()).collect();
        assert_eq!(shown[..3], ["tcp:80", "tcp:127.0.0.1:8080", "udp:[::1]:53"]);
        assert_eq!((u.start, u.accept), (table::Start::Boot, false));
    });
    unit("listen=tcp:80 start=on-demand", |u| {
        assert_eq!(u.start, table::Start::OnDemand)
    });
    unit("listen=unix:/run/e accept=yes max-instances=256", |u| {
        assert_eq!((u.accept, u.max_instances), (true, 256))
    });
    unit("listen=unix-seqpacket:/run/e accept=yes", |u| {
        assert_eq!(u.max_instances, 64)
    });
}

#[test]
fn every_malformed_socket() {
    let cases = [
        ("listen=tpc:80", "invalid value 'tpc' for 'listen=': expected tcp:, udp:, unix:, unix-dgram:, unix-seqpacket: or fifo: and an address — did you mean 'tcp'?"),
        ("listen=/run/x.sock", "invalid value '/run/x.sock' for 'listen=': expected tcp:, udp:, unix:, unix-dgram:, unix-seqpacket: or fifo: and an address"),
        ("listen=unix-stream:/x", "invalid value 'unix-stream' for 'listen=': expected tcp:, udp:, unix:, unix-dgram:, unix-seqpacket: or fifo: and an address — did you mean 'unix'?"),
        ("listen=tcp:0", "invalid value '0' for 'listen=': expected a port from 1 to 65535"),
        ("listen=tcp:65536", "invalid value '65536' for 'listen=': expected a port from 1 to 65535"),
        ("listen=tcp:http", "invalid value 'http' for 'listen=': expected a port from 1 to 65535"),
        ("listen=udp:", "invalid value '' for 'listen=': expected a port from 1 to 65535"),
        ("listen=tcp:1.2.3:80", "invalid value '1.2.3' for 'listen=': expected an IPv4 address like 127.0.0.1 or an IPv6 one in brackets like [::1]"),
        ("listen=tcp:300.1.1.1:80", "invalid value '300.1.1.1' for 'listen=': expected an IPv4 address like 127.0.0.1 or an IPv6 one in brackets like [::1]"),
        ("listen=tcp:localhost:80", "invalid value 'localhost' for 'listen=': expected an IPv4 address like 127.0.0.1 or an IPv6 one in brackets like [::1]"),
        ("listen=tcp:::1:80", "invalid value '::1:80' for 'listen=': an IPv6 address goes in brackets: [::1]:80"),
        ("listen=tcp:[::1", "invalid value '[::1' for 'listen=': expected ']' after the IPv6 address"),
        ("listen=tcp:[::1]80", "invalid value '80' for 'listen=': expected :PORT after the IPv6 address"),
        ("listen=tcp:[1::2::3]:80", "invalid value '1::2::3' for 'listen=': expected an IPv4 address like 127.0.0.1 or an IPv6 one in brackets like [::1]"),
        ("listen=tcp:[127.0.0.1]:80", "invalid value '127.0.0.1' for 'listen=': expected an IPv4 address like 127.0.0.1 or an IPv6 one in brackets like [::1]"),
        ("listen=unix:run/x", "invalid value 'run/x' for 'listen=': expected an absolute path"),
        ("listen=fifo:", "invalid value '' for 'listen=': expected an absolute path"),
        ("listen=tcp:80,nmae=x", "invalid value 'nmae=x' for 'listen=': expected name=, backlog=, mode=, owner=, group=, reuseport, freebind or v6only — did you mean 'name'?"),
        ("listen=tcp:80,name=a:b", "invalid value 'name=a:b' for 'listen=': expected name=NAME, 1 to 31 of A-Z a-z 0-9 _ . -"),
        ("listen=tcp:80,name=", "invalid value 'name=' for 'listen=': expected name=NAME, 1 to 31 of A-Z a-z 0-9 _ . -"),
        ("listen=tcp:80,name=a,name=b", "invalid value 'name=b' for 'listen=': each option once in a listen="),
        ("listen=tcp:80,backlog=0", "invalid value 'backlog=0' for 'listen=': expected backlog=N, N from 1 to 65535"),
        ("listen=udp:53,backlog=5", "invalid value 'backlog=5' for 'listen=': backlog= applies to tcp:, unix: and unix-seqpacket: sockets"),
        ("listen=fifo:/f,backlog=5", "invalid value 'backlog=5' for 'listen=': backlog= applies to tcp:, unix: and unix-seqpacket: sockets"),
        ("listen=tcp:80,mode=0600", "invalid value 'mode=0600' for 'listen=': applies to unix sockets and FIFOs (a file)"),
        ("listen=unix:/x,mode=999", "invalid value 'mode=999' for 'listen=': expected mode=OCTAL, 0 to 0777 (0660)"),
        ("listen=unix:/x,owner=-x", "invalid value 'owner=-x' for 'listen=': expected a user or group name, or a number"),
        ("listen=unix:/x,reuseport", "invalid value 'reuseport' for 'listen=': applies to tcp: and udp: sockets"),
        ("listen=tcp:80,freebind=yes", "invalid value 'freebind=yes' for 'listen=': a flag: no value"),
        ("listen=tcp:10.0.0.1:80,v6only", "invalid value 'v6only' for 'listen=': v6only applies to an IPv6 address"),
        ("listen=unix:\"/a b\"", "quotes are not allowed in 'listen=' (only in paths, arguments and env)"),
        ("listen=", "empty value for 'listen='"),
        ("start=later", "invalid value 'later' for 'start=': expected boot or on-demand"),
        ("accept=maybe", "invalid value 'maybe' for 'accept=': expected yes or no"),
        ("listen=tcp:1 accept=yes max-instances=0", "invalid value '0' for 'max-instances=': expected a number from 1 to 256"),
        ("listen=tcp:1 accept=yes max-instances=257", "invalid value '257' for 'max-instances=': expected a number from 1 to 256"),
    ];
    for (opts, want) in cases {
        assert_eq!(unit_err(opts), want, "{opts}");
    }
    // A socket path is at most 107 bytes (sun_path), a FIFO's 255.
    let long = format!("/{}", "a".repeat(107));
    assert_eq!(
        unit_err(&format!("listen=unix:{long}")),
        format!(
            "invalid value '{}...' for 'listen=': longer than 107 bytes (a socket address's limit)",
            &long[..60]
        )
    );
    unit(&format!("listen=fifo:{long}"), |u| {
        assert_eq!(u.listens().count(), 1)
    });
    // FILE:LINE:COL points at the part at fault.
    assert_eq!(
        errors("service u listen=tcp:127.0.0.1:99999 -- /x\n"),
        ["t.conf:1:32: error: invalid value '99999' for 'listen=': expected a port from 1 to 65535"]
    );
    assert_eq!(
        errors("service u \\\n  listen=unix:/a,mode=0660,gruop=x -- /x\n"),
        ["t.conf:2:28: error: invalid value 'gruop=x' for 'listen=': expected name=, backlog=, mode=, owner=, group=, reuseport, freebind or v6only — did you mean 'group'?"]
    );
}

#[test]
fn socket_rules() {
    let cases = [
        ("start=on-demand", "'start=on-demand' needs listen= (the sockets whose first connection starts it)"),
        ("accept=yes", "'accept=yes' needs listen= (the sockets to accept connections on)"),
        ("max-instances=4", "'max-instances=4' needs accept=yes"),
        ("listen=tcp:1 max-instances=4", "'max-instances=4' needs accept=yes"),
        ("listen=udp:1 accept=yes", "'listen=udp:1' is not a stream socket: accept=yes takes tcp:, unix: and unix-seqpacket:"),
        ("listen=unix-dgram:/x accept=yes", "'listen=unix-dgram:/x' is not a stream socket: accept=yes takes tcp:, unix: and unix-seqpacket:"),
        ("listen=fifo:/x accept=yes", "'listen=fifo:/x' is not a stream socket: accept=yes takes tcp:, unix: and unix-seqpacket:"),
        ("listen=tcp:1 accept=yes start=boot", "'start=boot' does not apply with accept=yes: each connection starts an instance"),
        ("listen=tcp:1 accept=yes restart=always", "'restart=always' has no effect with accept=yes: instances are never restarted"),
        ("listen=tcp:1 accept=yes restart-max=1s", "'restart-max=1s' has no effect with accept=yes: instances are never restarted"),
        ("listen=tcp:1 accept=yes ready=notify", "'ready=notify' does not apply with accept=yes: an instance serves one connection"),
        ("listen=tcp:1 listen=tcp:2 ready=fd:4", "'ready=fd:4' is an fd a listen= socket takes (they are fds 3, 4, ... in order)"),
    ];
    for (opts, want) in cases {
        assert_eq!(unit_err(opts), want, "{opts}");
    }
    unit("listen=tcp:1 listen=tcp:2 ready=fd:5", |u| {
        assert_eq!(u.ready, Ready::Fd(5))
    });
    for (kind, why) in [("task", "a task"), ("tty", "a tty")] {
        for opt in ["listen=tcp:1", "start=boot", "accept=no", "max-instances=1"] {
            let e = errors(&format!("{kind} u {opt} -- /x"));
            assert_eq!(
                e,
                [format!("t.conf:1:{}: error: '{opt}' does not apply to {why}: only services listen on sockets", kind.len() + 4)]
            );
        }
    }
}

#[test]
fn two_sockets_on_one_address_are_refused() {
    let shared = [
        ("tcp:80", "tcp:127.0.0.1:80"),
        ("tcp:0.0.0.0:80", "tcp:10.1.2.3:80"),
        ("tcp:[::]:80", "tcp:10.1.2.3:80"),
        ("tcp:[::]:80", "tcp:[::1]:80"),
        ("udp:[::1]:53", "udp:[0:0::1]:53"),
        ("unix:/run/a", "unix-dgram:/run/a"),
        ("unix:/run/a", "fifo:/run/a"),
        ("tcp:80,reuseport", "tcp:80"),
    ];
    for (a, b) in shared {
        let e = errors(&format!(
            "service x listen={a} -- /x\nservice y listen={b} -- /y\n"
        ));
        assert_eq!(
            e,
            [format!(
                "t.conf:2:11: error: 'listen={b}' binds an address that unit 'x' binds already"
            )],
            "{a} {b}"
        );
        let e = errors(&format!("service x listen={a} listen={b} -- /x\n"));
        let col = 19 + a.len();
        assert_eq!(
            e,
            [format!(
                "t.conf:1:{col}: error: 'listen={b}' binds an address this unit binds already"
            )],
            "{a} {b}"
        );
    }
    for (a, b) in [
        ("tcp:80", "udp:80"),
        ("tcp:80", "tcp:81"),
        ("tcp:10.0.0.1:80", "tcp:10.0.0.2:80"),
        ("tcp:[::]:80,v6only", "tcp:0.0.0.0:80"),
        ("tcp:80,reuseport", "tcp:80,reuseport"),
        ("unix:/run/a", "unix:/run/b"),
    ] {
        with(
            &format!("service x listen={a} -- /x\nservice y listen={b} -- /y\n"),
            |_| {},
        );
    }
}

#[test]
fn limit_sockets() {
    let per_unit: String = (1..=17).map(|p| format!(" listen=tcp:{p}")).collect();
    let e = errors(&format!("service u{per_unit} -- /x"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].ends_with("error: too many listen= sockets (limit 16)"),
        "{}",
        e[0]
    );
    let mut text = String::new();
    for u in 0..9 {
        let opts: String = (0..16)
            .map(|p| format!(" listen=tcp:{}", 1000 + u * 16 + p))
            .collect();
        text.push_str(&format!("service u{u}{opts} -- /x\n"));
    }
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("t.conf:9:")
            && e[0].ends_with(&format!(
                "error: too many listen= sockets in the table (limit {})",
                capacity::SOCKETS_MAX
            )),
        "{}",
        e[0]
    );
}

#[test]
fn print_shows_sockets_in_full() {
    let text = "service web listen=tcp:8080 listen=unix:/run/web.sock,mode=0660,owner=www,name=ctl start=on-demand -- /web\n\
                service echo listen=tcp:[::1]:7,reuseport accept=yes max-instances=4 -- /bin/cat\n\
                service log listen=unix-dgram:/dev/log listen=fifo:/run/f -- /log\n";
    let printed = with(text, |t| {
        let mut s = String::new();
        table::print("x.conf", t, &mut s).unwrap();
        s
    });
    for want in [
        "    listen=tcp:8080,name=web,backlog=4096 listen=unix:/run/web.sock,name=ctl,backlog=4096,mode=0660,owner=www start=on-demand accept=no \\\n",
        "service echo \\\n    listen=tcp:[::1]:7,name=echo,backlog=4096,reuseport accept=yes max-instances=4 \\\n    stop-signal=TERM",
        "    listen=unix-dgram:/dev/log,name=log,mode=0666 listen=fifo:/run/f,name=log,mode=0666 start=boot accept=no \\\n",
    ] {
        assert!(printed.contains(want), "{want:?} not in:\n{printed}");
    }
    // An accept=yes unit has no restart= or ready= line: instances are
    // never restarted.
    let echo = printed
        .split("# 2. echo")
        .nth(1)
        .unwrap()
        .split("# 3.")
        .next()
        .unwrap();
    assert!(
        !echo.contains("restart=") && !echo.contains("ready="),
        "{echo}"
    );
    let again = with(&printed, |t| {
        let mut s = String::new();
        table::print("x.conf", t, &mut s).unwrap();
        s
    });
    assert_eq!(printed, again);
}

#[test]
fn each_list_option_is_found_alone_and_with_the_others() {
    // A unit notes which of these lists it sets, and skips the others
    // at each start: each must still be found, alone or among the rest.
    let opts = [
        "env=A=1",
        "env-file=/etc/default/x",
        "runtime-dir=x",
        "if=path:/dev/null",
        "user=1 groups=2",
        "rlimit.nofile=64",
        "listen=tcp:80",
    ];
    let counts = |u: &table::Unit<'_>| {
        [
            u.env().count(),
            u.env_files().count(),
            u.runtime_dirs().count(),
            u.conds().count(),
            u.groups().count(),
            u.rlimits().count(),
            u.listens().count(),
        ]
    };
    for (i, o) in opts.iter().enumerate() {
        unit(o, |u| {
            let want: Vec<usize> = (0..opts.len()).map(|k| usize::from(k == i)).collect();
            assert_eq!(counts(u).to_vec(), want, "{}", o);
        });
    }
    unit(&opts.join(" "), |u| assert_eq!(counts(u), [1; 7]));
    unit("restart=never", |u| assert_eq!(counts(u), [0; 7]));
}
