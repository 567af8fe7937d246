//! The control socket under attack: malformed, oversized, binary and
//! partial requests, a non-root peer, and idle connections. Throughout,
//! a well-behaved `pinit status` keeps getting its answer.

use rustix::net::{
    self, AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketFlags, SocketType,
};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Sup {
    child: Child,
    socket: String,
    dir: std::path::PathBuf,
}

impl Drop for Sup {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(name: &str) -> Sup {
    start_with(
        name,
        "service web -- /bin/sleep 1000\nservice db -- /bin/sleep 1001\n",
    )
}

/// `pinit --config` on `conf` (in the run's directory, `Sup::dir`).
fn start_with(name: &str, conf: &str) -> Sup {
    start_logged(name, conf, false)
}

/// `start_with`; with `log`, pinit's stderr (its own lines and, with no
/// kernel log in --config mode, the units' output) goes to `Sup::dir`/err.
fn start_logged(name: &str, conf: &str, log: bool) -> Sup {
    let dir = std::env::temp_dir().join(format!("pinit-ctl-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pinit.conf");
    std::fs::write(&path, conf).unwrap();
    let conf = path;
    let err = if log {
        Stdio::from(std::fs::File::create(dir.join("err")).unwrap())
    } else {
        Stdio::null()
    };
    let child = Command::new(env!("CARGO_BIN_EXE_pinit"))
        .arg("--config")
        .arg(&conf)
        .stderr(err)
        .spawn()
        .unwrap();
    let socket = format!("/run/pinit.{}/control", child.id());
    let t0 = Instant::now();
    while !std::path::Path::new(&socket).exists() {
        assert!(t0.elapsed() < Duration::from_secs(10), "no control socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sup = Sup { child, socket, dir };
    let t0 = Instant::now();
    while !status(&sup).contains("running") {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "units did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    sup
}

/// `pinit status` as a user would run it.
fn status(s: &Sup) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pinit"))
        .args(["--socket", &s.socket, "status"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn connect(s: &Sup) -> rustix::fd::OwnedFd {
    let fd = net::socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    net::connect(&fd, &SocketAddrUnix::new(s.socket.as_str()).unwrap()).unwrap();
    fd
}

/// Sends raw bytes as one request; returns every reply packet.
fn raw(s: &Sup, req: &[u8]) -> Vec<String> {
    let fd = connect(s);
    let _ = net::send(&fd, req, SendFlags::NOSIGNAL);
    let mut replies = Vec::new();
    loop {
        let mut buf = [0u8; 1024];
        match net::recv(&fd, &mut buf[..], RecvFlags::empty()) {
            Ok((0, _)) | Err(_) => return replies,
            Ok((n, _)) => replies.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
        }
    }
}

fn assert_error(s: &Sup, req: &[u8], code: &str) {
    let r = raw(s, req);
    assert_eq!(r.len(), 1, "{:?} got {:?}", String::from_utf8_lossy(req), r);
    assert!(
        r[0].starts_with(&format!("error {} ", code)),
        "{:?} got {:?}",
        String::from_utf8_lossy(req),
        r
    );
}

#[test]
fn hostile_requests_get_errors_and_status_keeps_working() {
    let s = start("hostile");
    let long = vec![b'a'; 300];
    let huge = vec![b'x'; 100_000];
    let mut binary = vec![0u8; 64];
    for (i, b) in binary.iter_mut().enumerate() {
        *b = (i * 37) as u8;
    }
    let cases: Vec<(&[u8], &str)> = vec![
        (b"frobnicate", "2"),
        (b"list extra", "2"),
        (b"show", "2"),
        (b"show ", "2"),
        (b"start", "2"),
        (b"stop a b", "2"),
        (b"signal web", "2"),
        (b"signal web NOSUCHSIG", "2"),
        (b"signal web 0", "2"),
        (b"signal web 99", "2"),
        (b"show nosuchunit", "3"),
        (b"stop nosuchunit", "3"),
        (b"status", "2"),
        (b"list\n", "2"),
        (b"list\x00", "2"),
        (b"\x00\x00\x00\x00", "2"),
        (b"\xff\xfe\xfd", "2"),
        (b"show w\xc3\xa9b", "2"),
        (b"\x1b[2J\x1b[H", "2"),
        (b" list", "2"),
        (&long, "2"),
        (&huge, "2"),
        (&binary, "2"),
    ];
    for (req, code) in &cases {
        assert_error(&s, req, code);
        assert!(
            status(&s).contains("web"),
            "status stopped answering after {:?}",
            req
        );
    }
    // A connection closed without a request, and one that only half-speaks.
    drop(connect(&s));
    let fd = connect(&s);
    net::shutdown(&fd, net::Shutdown::Write).unwrap();
    drop(fd);
    assert!(status(&s).contains("web"));
}

#[test]
fn idle_clients_cannot_block_or_exhaust_pid1() {
    let s = start("idle");
    // More idle connections than the server keeps: the extra ones are
    // refused at once, and status still answers.
    let idle: Vec<_> = (0..12).map(|_| connect(&s)).collect();
    let t0 = Instant::now();
    let out = status(&s);
    // The slots are full now: status may be refused as busy, but must not hang.
    assert!(t0.elapsed() < Duration::from_secs(5));
    // After the timeout the idle ones are dropped with an error.
    std::thread::sleep(Duration::from_millis(2500));
    let mut buf = [0u8; 256];
    let (n, _) = net::recv(&idle[0], &mut buf[..], RecvFlags::empty()).unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("error 1 "),
        "{:?}",
        &buf[..n]
    );
    drop(idle);
    assert!(
        status(&s).contains("web"),
        "status after idle clients: {}",
        out
    );
}

#[test]
fn non_root_peers_are_refused() {
    let s = start("nonroot");
    // Let anyone connect, so the credential check itself is what refuses.
    use std::os::unix::fs::PermissionsExt;
    let dir = std::path::Path::new(&s.socket).parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&s.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_pinit"))
        .args(["--socket", &s.socket, "stop", "web"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", err);
    assert!(err.contains("permission denied: root only"), "{}", err);
    assert!(status(&s).contains("web") && status(&s).contains("running"));
}

#[test]
fn commands_act_on_units() {
    let s = start("commands");
    let pinit = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pinit"))
            .args(["--socket", &s.socket])
            .args(args)
            .output()
            .unwrap()
    };
    let pid_of = |name: &str| -> i32 {
        let out = pinit(&["status", name, "--json"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let i = text.find("\"pid\":").unwrap() + 6;
        text[i..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let p1 = pid_of("web");
    assert!(p1 > 0 && std::path::Path::new(&format!("/proc/{}", p1)).exists());
    assert_eq!(pinit(&["restart", "web"]).status.code(), Some(0));
    let t0 = Instant::now();
    let p2 = loop {
        let p = pid_of("web");
        if p > 0 && p != p1 {
            break p;
        }
        assert!(t0.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!std::path::Path::new(&format!("/proc/{}/cmdline", p1)).exists() || p1 == p2);
    assert_eq!(pinit(&["stop", "db"]).status.code(), Some(0));
    let t0 = Instant::now();
    while pid_of("db") != 0 {
        assert!(t0.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(pinit(&["start", "db"]).status.code(), Some(0));
    assert_eq!(pinit(&["status", "nosuch"]).status.code(), Some(3));
    assert_eq!(pinit(&["status", "a", "b"]).status.code(), Some(2));
    assert_eq!(pinit(&["signal", "web", "TERM"]).status.code(), Some(0));
}

#[test]
fn the_new_verbs_parse() {
    use pinit::control::protocol::{parse, Request, USAGE};
    assert_eq!(parse(b"reload-table"), Ok(Request::ReloadTable));
    assert_eq!(parse(b"reexec"), Ok(Request::Reexec));
    for bad in [
        &b"reload-table now"[..],
        b"reexec x",
        b"reload_table",
        b"reload-tables",
    ] {
        assert_eq!(parse(bad).map_err(|e| e.0), Err(USAGE), "{:?}", bad);
    }
    // The panic of the test builds is not in the others.
    let panic = parse(b"panic");
    assert_eq!(panic.is_ok(), cfg!(feature = "test-panic"), "{:?}", panic);
}

/// `pinit --socket S ARGS...`: (exit code, stdout, stderr).
fn client(s: &Sup, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pinit"))
        .args(["--socket", &s.socket])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The pid `status NAME --json` shows (0: none).
fn pid_of(s: &Sup, name: &str) -> i32 {
    let (_, text, _) = client(s, &["status", name, "--json"]);
    let i = match text.find("\"pid\":") {
        Some(i) => i + 6,
        None => return 0,
    };
    text[i..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(10), "{}", what);
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid)).is_ok_and(|st| {
        !st.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

#[test]
fn reload_table_applies_only_what_changed() {
    let s = start_with(
        "reload",
        "service web -- /bin/sleep 1000\nservice db -- /bin/sleep 1001\n\
         service old -- /bin/sleep 1002\nservice calm stop-timeout=5s -- /bin/sleep 1005\n",
    );
    wait_for("units did not start", || {
        ["web", "db", "old", "calm"]
            .iter()
            .all(|u| pid_of(&s, u) > 0)
    });
    let before: Vec<i32> = ["web", "db", "old", "calm"]
        .iter()
        .map(|u| pid_of(&s, u))
        .collect();
    let conf = s.dir.join("pinit.conf");

    // A table with an error: reported FILE:LINE:COL, nothing changes.
    std::fs::write(
        &conf,
        "service web -- /bin/sleep 1000\nservice db bogus=1 -- /bin/sleep 9\n",
    )
    .unwrap();
    let (code, out, err) = client(&s, &["reload-table"]);
    assert_eq!(code, Some(1), "{}{}", out, err);
    assert!(out.contains("pinit.conf:2:"), "{}", out);
    assert!(err.contains("nothing changed"), "{}", err);
    let same: Vec<i32> = ["web", "db", "old", "calm"]
        .iter()
        .map(|u| pid_of(&s, u))
        .collect();
    assert_eq!(same, before);

    // old goes, new comes, db runs another command, calm only gets
    // another stop-timeout.
    std::fs::write(
        &conf,
        "service new -- /bin/sleep 1003\nservice db -- /bin/sleep 1004\n\
         service calm stop-timeout=2s -- /bin/sleep 1005\nservice web -- /bin/sleep 1000\n",
    )
    .unwrap();
    let (code, out, err) = client(&s, &["reload-table"]);
    assert_eq!(code, Some(0), "{}{}", out, err);
    for line in [
        "stop old",
        "start new",
        "restart db",
        "change calm stop-timeout",
    ] {
        assert!(out.lines().any(|l| l == line), "no {:?} in:\n{}", line, out);
    }
    wait_for("new did not start", || pid_of(&s, "new") > 0);
    wait_for("db did not restart", || {
        let p = pid_of(&s, "db");
        p > 0 && p != before[1]
    });
    wait_for("old's process outlived the reload", || !alive(before[2]));
    assert_eq!(pid_of(&s, "web"), before[0]);
    assert_eq!(pid_of(&s, "calm"), before[3]);
    assert_eq!(client(&s, &["status", "old"]).0, Some(3));
    let cmd = std::fs::read_to_string(format!("/proc/{}/cmdline", pid_of(&s, "db"))).unwrap();
    assert!(cmd.contains("1004"), "{:?}", cmd);
}

#[test]
fn a_line_begun_before_a_reload_ends_whole_after_it() {
    // talk writes half a line, then the rest once the reload has moved
    // it from the first place in the table to the second.
    let go = std::env::temp_dir().join(format!("pinit-ctl-go-{}", std::process::id()));
    let _ = std::fs::remove_file(&go);
    let talk = format!(
        "service talk -- /bin/sh -c \"printf abc; while [ ! -e {} ]; do sleep 0.05; done; echo def; exec sleep 1000\"\n",
        go.display()
    );
    let s = start_logged("lines", &talk, true);
    wait_for("talk did not start", || pid_of(&s, "talk") > 0);
    let pid = pid_of(&s, "talk");
    // pinit holds "abc" as the start of talk's line by now.
    std::thread::sleep(Duration::from_millis(300));
    let conf = s.dir.join("pinit.conf");
    std::fs::write(&conf, format!("service first -- /bin/sleep 1000\n{}", talk)).unwrap();
    let (code, out, err) = client(&s, &["reload-table"]);
    assert_eq!(code, Some(0), "{}{}", out, err);
    assert!(out.lines().any(|l| l == "start first"), "{}", out);
    wait_for("first did not start", || pid_of(&s, "first") > 0);
    assert_eq!(pid_of(&s, "talk"), pid, "talk was restarted by the reload");
    std::fs::write(&go, "").unwrap();
    let want = format!("talk[{}]: abcdef", pid);
    let errfile = s.dir.join("err");
    wait_for("talk's line never came", || {
        std::fs::read(&errfile).is_ok_and(|b| b.windows(4).any(|w| w == b"def\n"))
    });
    let _ = std::fs::remove_file(&go);
    let text = String::from_utf8_lossy(&std::fs::read(&errfile).unwrap()).into_owned();
    assert!(
        text.lines().any(|l| l == want),
        "no {:?} in pinit's output:\n{:?}",
        want,
        text
    );
}
