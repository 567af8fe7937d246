//! Issue 13 ("field hardening") on the host's kernel: `pinit check` and
//! `pinit --config` as a careless integrator or a hostile local user
//! would drive them. Each test names the point of the issue it proves.
//! A test marked `#[ignore = "issue 13 point N: ..."]` shows a bug whose
//! fix has not landed yet (`cargo test --test hardening -- --ignored`
//! runs them); its mark goes with the fix. The points that need a kernel
//! of their own are QEMU cases (tests/qemu/cases/05xx-*.py).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PINIT: &str = env!("CARGO_BIN_EXE_pinit");

/// A fresh scratch directory, never shared: tests run in parallel.
fn tmpdir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("pinit-hard-{}-{}-{}", name, std::process::id(), n));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A `pinit --config` run whose stderr is collected line by line.
struct Run {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    dir: PathBuf,
}

/// Starts `pinit --config` on `conf`; `@` in it stands for a scratch dir.
fn start(name: &str, conf: &str) -> Run {
    let dir = tmpdir(name);
    let path = dir.join("pinit.conf");
    std::fs::write(&path, conf.replace('@', dir.to_str().unwrap())).unwrap();
    let mut cmd = Command::new(PINIT);
    cmd.arg("--config").arg(&path);
    spawn(cmd, dir)
}

fn spawn(mut cmd: Command, dir: PathBuf) -> Run {
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let err = child.stderr.take().unwrap();
    let l2 = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            l2.lock().unwrap().push(line);
        }
    });
    Run { child, lines, dir }
}

impl Run {
    /// The first line containing `pat`, waiting for it up to 20 s.
    fn wait(&self, pat: &str) -> String {
        let t0 = Instant::now();
        loop {
            if let Some(l) = self.lines.lock().unwrap().iter().find(|l| l.contains(pat)) {
                return l.clone();
            }
            if t0.elapsed() > Duration::from_secs(20) {
                panic!("no line with {:?}; got:\n{}", pat, self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn count(&self, pat: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(pat))
            .count()
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The control socket, from the `supervising ...` line.
    fn socket(&self) -> String {
        let l = self.wait("(control socket ");
        let s = l.split("(control socket ").nth(1).unwrap();
        s.split(',').next().unwrap().to_string()
    }

    /// `pinit --socket S ARGS...` as a user runs it.
    fn ctl(&self, args: &[&str]) -> Output {
        Command::new(PINIT)
            .arg("--socket")
            .arg(self.socket())
            .args(args)
            .output()
            .unwrap()
    }

    /// The pid in `UNIT: started (pid N...`.
    fn pid(&self, unit: &str) -> i32 {
        let l = self.wait(&format!("{}: started (pid ", unit));
        let s = l.split("(pid ").nth(1).unwrap();
        s.trim_end_matches(|c: char| !c.is_ascii_digit())
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // Under strace the child is strace, and a SIGTERM to it detaches
        // pinit and leaves it running: its tracee gets the signal, and
        // strace ends with it.
        let id = self.child.id();
        let comm = std::fs::read_to_string(format!("/proc/{id}/comm")).unwrap_or_default();
        let targets = match comm.trim() {
            "strace" => std::fs::read_to_string(format!("/proc/{id}/task/{id}/children"))
                .unwrap_or_default(),
            _ => id.to_string(),
        };
        for pid in targets.split_whitespace() {
            let _ = Command::new("kill").arg("-TERM").arg(pid).status();
        }
        let t0 = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if t0.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Processes whose command line contains `marker`.
fn procs_with(marker: &str) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(marker) {
                n += 1;
            }
        }
    }
    n
}

/// Runs `cmd`; a run that has not ended after 20 s is a hang: killed,
/// and the test fails.
fn output_or_hang(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{:?} hung", cmd);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success());
}

// ---- point 1: console warnings are rate-limited -------------------------

#[test]
fn crash_loop_lines_are_rate_limited() {
    // 1000 crashes in a row, as fast as they come (restart-max=0), then
    // the unit stays up: a fixed number of events, whatever the speed.
    let r = start(
        "crashloop",
        "service loop restart-max=0 -- /bin/sh -c \"n=$(cat @/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > @/n; [ $n -ge 1000 ] && exec sleep 1000; exit 1\"\n",
    );
    let n = r.dir.join("n");
    let t0 = Instant::now();
    while std::fs::read_to_string(&n).map_or(0, |s| s.trim().parse().unwrap_or(0)) < 1000 {
        assert!(t0.elapsed() < Duration::from_secs(120), "{}", r.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let lines = r.count("loop: ");
    assert!(
        lines <= 200,
        "{} console lines for 1000 crashes (first ones:\n{})",
        lines,
        r.text().lines().take(10).collect::<Vec<_>>().join("\n")
    );
}

// ---- point 3: no file pinit opens can hang it --------------------------

#[test]
fn check_refuses_a_fifo_instead_of_hanging() {
    let dir = tmpdir("fifo-check");
    let fifo = dir.join("pinit.conf");
    mkfifo(&fifo);
    let mut cmd = Command::new(PINIT);
    cmd.arg("check").arg(&fifo);
    let out = output_or_hang(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", err);
    assert!(err.contains("not a regular file"), "{}", err);
    // A symlink to a device (an empty table, read as such, until now).
    let link = dir.join("null.conf");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let out = Command::new(PINIT)
        .arg("check")
        .arg(&link)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", err);
    assert!(err.contains("null.conf: not a regular file"), "{}", err);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_mode_refuses_a_fifo_instead_of_hanging() {
    let dir = tmpdir("fifo-config");
    let fifo = dir.join("pinit.conf");
    mkfifo(&fifo);
    let mut cmd = Command::new(PINIT);
    cmd.arg("--config").arg(&fifo);
    let out = output_or_hang(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", err);
    assert!(err.contains("not a regular file"), "{}", err);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- point 5: the readiness fd cannot clobber the exec report pipe -----

#[test]
fn ready_fd_cannot_hide_an_exec_failure() {
    // Whatever number the report pipe gets, one of these runs names it
    // (one unit per run: every run has the same fds when it spawns).
    let mut hidden = Vec::new();
    for n in 3..=20 {
        let r = start(
            "readyfd",
            &format!("service r ready=fd:{n} restart=never -- /nonexistent/r\n"),
        );
        let l = r.wait("r: failed");
        if !l.contains("ENOENT") || r.count("r: unable to execute /nonexistent/r: ENOENT") == 0 {
            hidden.push((n, r.text()));
        }
    }
    assert!(
        hidden.is_empty(),
        "exec failures not reported for ready=fd:N: {:#?}",
        hidden
    );
}

// ---- point 6: `pinit stop` stops, and answers when it has ---------------

#[test]
fn stop_cancels_the_restart_of_a_backing_off_unit() {
    let r = start(
        "stop-backoff",
        "service crash restart-max=1s -- /bin/sh -c \"exit 3\"\n",
    );
    let t0 = Instant::now();
    while r.count("crash: started") < 3 {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = r.ctl(&["stop", "crash"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    let state = || String::from_utf8_lossy(&r.ctl(&["status"]).stdout).into_owned();
    let t0 = Instant::now();
    while !state()
        .lines()
        .any(|l| l.starts_with("crash") && l.contains("stopped"))
    {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "crash is not stopped:\n{}\n{}",
            state(),
            r.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Longer than its longest back-off: a restart timer still armed fires.
    let starts = r.count("crash: started");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(r.count("crash: started"), starts, "{}", r.text());
}

#[test]
fn stop_answers_once_the_unit_is_stopped() {
    let marker = format!("pinit-stubborn-{}", std::process::id());
    let r = start(
        "stop-wait",
        &format!(
            "service stubborn stop-timeout=3s -- /bin/sh -c \"trap '' TERM; exec /bin/sh -c 'sleep 1000; : {marker}'\"\n"
        ),
    );
    r.wait("stubborn: started");
    let t0 = Instant::now();
    while procs_with(&marker) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(10), "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = r.ctl(&["stop", "stubborn"]);
    // Read before anything else: what runs right after `pinit stop`.
    let left = procs_with(&marker);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    assert_eq!(
        left,
        0,
        "`pinit stop` returned with the unit still running:\n{}",
        r.text()
    );
}

#[test]
fn stop_leaves_a_failed_unit_stopped() {
    let r = start(
        "stop-failed",
        "service broken restart=never -- /bin/sh -c \"exit 3\"\n",
    );
    r.wait("broken: failed");
    let out = r.ctl(&["stop", "broken"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    let status = String::from_utf8_lossy(&r.ctl(&["status"]).stdout).into_owned();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("broken") && l.contains("stopped")),
        "{}",
        status
    );
}

#[test]
fn start_of_a_task_answers_once_it_has_run() {
    let r = start(
        "start-wait",
        "task slow -- /bin/sh -c \"sleep 1; echo ran >> @/runs\"\n",
    );
    let runs = r.dir.join("runs");
    let count = || std::fs::read_to_string(&runs).map_or(0, |t| t.lines().count());
    let t0 = Instant::now();
    while count() < 1 {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = r.ctl(&["start", "slow"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    assert_eq!(count(), 2, "`pinit start` returned before the task ran");
}

#[test]
fn stop_times_out_or_does_not_wait_when_asked() {
    let marker = format!("pinit-slowstop-{}", std::process::id());
    let r = start(
        "stop-timeout",
        &format!(
            "service stubborn stop-timeout=4s -- /bin/sh -c \"trap '' TERM; exec /bin/sh -c 'sleep 1000; : {marker}'\"\n"
        ),
    );
    r.wait("stubborn: started");
    let out = r.ctl(&["stop", "--timeout", "1", "stubborn"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{:?}", out);
    assert!(
        err.contains("stubborn: still stopping after 1 s"),
        "{}",
        err
    );
    assert_eq!(procs_with(&marker), 1, "{}", r.text());
    // --no-block: asked, not waited for.
    let out = r.ctl(&["restart", "--no-block", "stubborn"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    assert_eq!(procs_with(&marker), 1, "{}", r.text());
}

// ---- point 7: stop reaches stopped processes -----------------------------

#[test]
fn stop_continues_a_stopped_process() {
    let dir = tmpdir("sigstop-script");
    let script = dir.join("frozen.sh");
    // Dies of its own SIGTERM, once the handler runs (it needs SIGCONT).
    std::fs::write(
        &script,
        "trap 'trap - TERM; kill -TERM $$' TERM\nwhile :; do sleep 0.1; done\n",
    )
    .unwrap();
    let r = start(
        "sigstop",
        &format!(
            "service frozen stop-timeout=5s restart=never -- /bin/sh {}\n",
            script.display()
        ),
    );
    let pid = r.pid("frozen");
    let st = Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let out = r.ctl(&["stop", "frozen"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    r.wait("frozen: stopped");
    let status = String::from_utf8_lossy(&r.ctl(&["status"]).stdout).into_owned();
    let line = status
        .lines()
        .find(|l| l.starts_with("frozen"))
        .unwrap_or("");
    assert!(
        line.contains("signal:15"),
        "not killed by its own SIGTERM: {:?}\n{}",
        line,
        r.text()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cgroup_is_killed_by_sweeps_between_waits() {
    // 50 processes left in a unit's cgroup at the stop-timeout (the stop
    // signal, CONT, ends none of them):
    // the cgroup is swept with SIGKILL until it is empty, one sweep per
    // wake-up of the event loop (a reaped child, or a short timer), never
    // sweep after sweep while the killed processes need the CPU to exit.
    let marker = format!("pinit-sweep-{}", std::process::id());
    let dir = tmpdir("sweeps");
    let conf = dir.join("pinit.conf");
    std::fs::write(
        &conf,
        format!(
            "service many restart=never stop-signal=CONT stop-timeout=1s -- /bin/sh -c \"for i in $(seq 50); do /bin/sh -c 'sleep 1000; : {marker}' & done; wait\"\n"
        ),
    )
    .unwrap();
    let log = dir.join("strace.log");
    let mut cmd = Command::new("strace");
    cmd.arg("-o")
        .arg(&log)
        .args(["-e", "trace=/^(open|openat|epoll_wait|epoll_pwait|kill)$"])
        .arg(PINIT)
        .arg("--config")
        .arg(&conf);
    let r = spawn(cmd, dir.clone());
    r.wait("many: started");
    let t0 = Instant::now();
    while procs_with(&marker) < 50 {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = r.ctl(&["stop", "many"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    let t0 = Instant::now();
    while procs_with(&marker) > 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the cgroup was not emptied:\n{}",
            r.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    // A sweep is an open of cgroup.procs; a SIGKILL sweep is one whose
    // first kill(2) is SIGKILL (the stop signal and SIGCONT go through
    // the cgroup once each, not in a loop).
    let mut sweeps = 0;
    let mut in_a_row = 0;
    let mut worst = 0;
    let mut opened = false;
    for l in text.lines() {
        if l.contains("/many/cgroup.procs") {
            opened = true;
        } else if opened && l.starts_with("kill(") {
            opened = false;
            if l.contains("SIGKILL") {
                sweeps += 1;
                in_a_row += 1;
                worst = worst.max(in_a_row);
            }
        } else if l.contains("epoll_wait") || l.contains("epoll_pwait") {
            in_a_row = 0;
        }
    }
    assert!(sweeps >= 1, "no sweep of the cgroup:\n{}", text);
    assert_eq!(
        worst, 1,
        "{} sweeps in a row without a wait\n{}",
        worst, text
    );
}

// ---- point 8: signal by pidfd, not by number -----------------------------

/// The syscall `pid` is stopped in (its number and first argument), from
/// /proc/PID/syscall; None while it runs.
fn stopped_in(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{}/syscall", pid)).ok()?;
    let mut f = s.split_whitespace();
    let nr = f.next()?.parse().ok()?;
    let arg0 = u64::from_str_radix(f.next()?.trim_start_matches("0x"), 16).ok()?;
    Some((nr, arg0))
}

#[cfg(target_arch = "x86_64")]
const NR_KILL: u64 = 62;
#[cfg(target_arch = "aarch64")]
const NR_KILL: u64 = 129;
const NR_PIDFD_SEND_SIGNAL: u64 = 424;

#[test]
fn stop_never_signals_a_reused_pid() {
    // A PID is reused on purpose (ns_last_pid: root only), while strace
    // holds pinit at the entry of its signal system call for 5 s: the
    // window in which a MAINPID= process dies, is reaped by its own
    // parent (not pinit) and its number goes to an innocent process.
    assert!(
        rustix::process::getuid().is_root(),
        "run as root (ns_last_pid)"
    );
    let dir = tmpdir("pidfd");
    let d = dir.display().to_string();
    std::fs::write(
        dir.join("m.sh"),
        format!(
            r#"sleep 1000 &
echo $! > {d}/mainpid
# The sender stays a second: pinit finds its unit in /proc/PID/cgroup,
# gone once it has exited (a dropped READY=1 under strace's slowdown).
/usr/bin/python3 -c 'import socket,os,sys,time; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(("MAINPID=%s\nREADY=1" % sys.argv[1]).encode(), os.environ["NOTIFY_SOCKET"]); time.sleep(1)' $!
while [ ! -e {d}/go ]; do sleep 0.05; done
kill -KILL $!; wait $!
touch {d}/reaped
exec sleep 1000
"#
        ),
    )
    .unwrap();
    let conf = dir.join("pinit.conf");
    std::fs::write(
        &conf,
        format!("service m ready=notify -- /bin/sh {d}/m.sh\n"),
    )
    .unwrap();
    let mut cmd = Command::new("strace");
    cmd.arg("-o")
        .arg(dir.join("strace.log"))
        .args(["-e", "trace=kill,pidfd_send_signal"])
        .args(["-e", "inject=kill,pidfd_send_signal:delay_enter=5000000"])
        .arg(PINIT)
        .arg("--config")
        .arg(&conf);
    let mut r = spawn(cmd, dir.clone());
    r.wait("m: ready");
    let main: u64 = std::fs::read_to_string(dir.join("mainpid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let sock = r.socket();
    let pinit: u32 = sock
        .split("pinit.")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut stop = Command::new(PINIT)
        .args(["--socket", &sock, "stop", "m"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let (nr, arg0) = loop {
        match stopped_in(pinit) {
            Some((nr, a)) if nr == NR_KILL || nr == NR_PIDFD_SEND_SIGNAL => break (nr, a),
            _ => {}
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "pinit sent no signal:\n{}",
            r.text()
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    // The MAINPID process dies; its parent, the unit's shell, reaps it.
    std::fs::write(dir.join("go"), "").unwrap();
    let t0 = Instant::now();
    while !dir.join("reaped").exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(4),
            "not reaped in time:\n{}",
            r.text()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // An innocent process outside every unit gets its number.
    let mut innocent = None;
    for _ in 0..500 {
        std::fs::write("/proc/sys/kernel/ns_last_pid", format!("{}", main - 1)).unwrap();
        let c = Command::new("/bin/sleep").arg("1000").spawn().unwrap();
        if c.id() as u64 == main {
            innocent = Some(c);
            break;
        }
        let mut c = c;
        let _ = c.kill();
        let _ = c.wait();
    }
    let mut innocent = innocent.expect("could not give the MAINPID's number to a new process");
    let _ = stop.wait();
    std::thread::sleep(Duration::from_millis(300));
    let died = innocent.try_wait().unwrap();
    let _ = innocent.kill();
    let _ = innocent.wait();
    // strace first (its tracee goes on, untraced), then pinit itself.
    let _ = r.child.kill();
    let _ = r.child.wait();
    let _ = Command::new("kill")
        .args(["-TERM", &pinit.to_string()])
        .status();
    let t0 = Instant::now();
    while Path::new(&format!("/proc/{}", pinit)).exists() && t0.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        died.is_none(),
        "pid {} (reused) was hit: {:?}; pinit was in syscall {} with arg {}\n{}",
        main,
        died,
        nr,
        arg0,
        r.text()
    );
}

// ---- point 9: `pinit check` accepts only what can run -------------------

fn check_ok(conf: &str) -> bool {
    let dir = tmpdir("limit-check");
    let path = dir.join("t.conf");
    std::fs::write(&path, conf).unwrap();
    let out = Command::new(PINIT)
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out.status.success()
}

/// The largest n in lo..hi that `pinit check` accepts in `conf(n)`;
/// `conf(hi)` must be refused (with a message naming a limit) and the
/// largest accepted one must start under `pinit --config`.
fn boundary(name: &str, lo: usize, hi: usize, conf: impl Fn(usize) -> String) {
    assert!(check_ok(&conf(lo)), "{}: {} refused", name, lo);
    assert!(!check_ok(&conf(hi)), "{}: {} accepted", name, hi);
    let (mut ok, mut bad) = (lo, hi);
    while bad - ok > 1 {
        let mid = (ok + bad) / 2;
        if check_ok(&conf(mid)) {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    let dir = tmpdir("limit-msg");
    let path = dir.join("t.conf");
    std::fs::write(&path, conf(bad)).unwrap();
    let out = Command::new(PINIT)
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        err.contains("limit"),
        "{}: refused at {} without naming the limit: {}",
        name,
        bad,
        err
    );
    let r = start(name, &conf(ok));
    r.wait("t: ");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        r.count("t: started") > 0
            && r.count("too many") + r.count("too large") + r.count("too long") == 0,
        "{}: `pinit check` accepts {} but it cannot run:\n{}",
        name,
        ok,
        r.text()
    );
}

#[test]
fn argv_count_limit_is_checked_at_parse_time() {
    boundary("argv", 1, 200, |n| {
        format!("service t -- /bin/sleep 1000{}\n", " 0".repeat(n))
    });
}

#[test]
fn global_env_size_limit_is_checked_at_parse_time() {
    boundary("genv", 1, 40, |n| {
        let mut s = String::new();
        for i in 0..n {
            s += &format!("env K{}={}\n", i, "v".repeat(200));
        }
        s + "service t -- /bin/sleep 1000\n"
    });
}

#[test]
fn unit_env_size_limit_is_checked_at_parse_time() {
    // 2 KiB of global env, then a unit's own 16 env= of growing length.
    let global: String = (0..10)
        .map(|i| format!("env G{}={}\n", i, "g".repeat(200)))
        .collect();
    boundary("uenv", 1, 300, |n| {
        let envs: String = (0..16)
            .map(|i| format!(" env=K{}={}", i, "v".repeat(n)))
            .collect();
        format!("{}service t{} -- /bin/sleep 1000\n", global, envs)
    });
}

/// A directory (made) or a path whose full name is `len` bytes long,
/// under `dir`.
fn long_path(dir: &Path, len: usize) -> PathBuf {
    let mut p = dir.to_path_buf();
    while p.as_os_str().len() + 1 < len {
        let room = len - p.as_os_str().len() - 1;
        p.push("d".repeat(room.min(200)));
    }
    assert_eq!(p.as_os_str().len(), len);
    p
}

#[test]
fn paths_at_their_limit_reach_the_child() {
    // dir= and tty= of 255 bytes (the limit `pinit check` enforces, see
    // tests/config_parse.rs limit_paths) are used whole, never dropped.
    let scratch = tmpdir("paths");
    let dir = long_path(&scratch, 255);
    std::fs::create_dir_all(&dir).unwrap();
    let tty = long_path(&scratch.join("t"), 255);
    std::fs::create_dir_all(tty.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/dev/null", &tty).unwrap();
    let r = start(
        "paths",
        &format!(
            "service indir dir={} -- /bin/sleep 1000\ntty notty restart=never tty={} -- /bin/sleep 1000\n",
            dir.display(),
            tty.display()
        ),
    );
    let pid = r.pid("indir");
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", pid)).unwrap();
    assert_eq!(cwd, dir);
    // /dev/null is no terminal: the unit fails on it, never runs without.
    let l = r.wait("notty: unable to");
    assert!(
        l.contains("controlling terminal") && l.contains("ENOTTY"),
        "{}\n{}",
        l,
        r.text()
    );
    assert_eq!(r.count("notty: started"), 0, "{}", r.text());
    let _ = std::fs::remove_dir_all(&scratch);
}

// ---- point 10: children start clean in every mode ------------------------

#[test]
fn units_start_with_default_signal_dispositions() {
    // Started the way nohup or a careless script would: signals ignored.
    let dir = tmpdir("sigdfl");
    let conf = dir.join("pinit.conf");
    std::fs::write(&conf, "service sig -- /bin/sleep 1000\n").unwrap();
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("trap '' HUP INT QUIT PIPE USR1; exec \"$0\" --config \"$1\"")
        .arg(PINIT)
        .arg(&conf);
    let r = spawn(cmd, dir);
    let pid = r.pid("sig");
    std::thread::sleep(Duration::from_millis(200));
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid)).unwrap();
    let field = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .map(|l| l[k.len()..].trim().to_string())
            .unwrap()
    };
    assert_eq!(field("SigIgn:"), "0000000000000000", "{}", status);
    assert_eq!(field("SigBlk:"), "0000000000000000", "{}", status);
}

#[test]
fn an_existing_run_directory_is_never_used() {
    // sh's pid is pinit's after exec: the directories pinit would pick,
    // made beforehand (mode 0777, as anyone could).
    let dir = tmpdir("rundir");
    let conf = dir.join("pinit.conf");
    std::fs::write(&conf, "service s -- /bin/sleep 1000\n").unwrap();
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(
            "for d in /run/pinit.$$ /tmp/pinit.$$; do mkdir -m 0777 $d 2>/dev/null && echo \"made $d\" >&2; done; exec \"$0\" --config \"$1\"",
        )
        .arg(PINIT)
        .arg(&conf);
    let mut r = spawn(cmd, dir);
    let pid = r.child.id();
    let t0 = Instant::now();
    while r.count("supervising ") == 0 && r.child.try_wait().unwrap().is_none() {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let made: Vec<String> = r
        .lines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| l.strip_prefix("made ").map(str::to_string))
        .collect();
    assert!(!made.is_empty(), "no directory was planted");
    let mut used = Vec::new();
    for d in &made {
        let n = std::fs::read_dir(d).map(|e| e.count()).unwrap_or(0);
        if n > 0 {
            used.push(d.clone());
        }
    }
    drop(r);
    for d in &made {
        let _ = std::fs::remove_dir_all(d);
    }
    assert!(
        used.is_empty(),
        "pinit {} put its sockets into {:?}",
        pid,
        used
    );
}

#[test]
fn a_run_directory_a_killed_pinit_left_is_taken_back() {
    // A pinit killed by SIGKILL leaves /run/pinit.PID; a later pinit that
    // gets the same PID finds it. Made as pinit makes it (0700, with its
    // notify socket's name in it): removed and made again. With anything
    // else in it: refused, nothing started.
    for (extra, ok) in [("", true), ("touch /run/pinit.$$/other; ", false)] {
        let dir = tmpdir(if ok { "stale" } else { "stale-other" });
        let conf = dir.join("pinit.conf");
        std::fs::write(&conf, "service s -- /bin/sleep 1000\n").unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(format!(
                "mkdir -m 0700 /run/pinit.$$ && touch /run/pinit.$$/notify && {}exec \"$0\" --config \"$1\"",
                extra
            ))
            .arg(PINIT)
            .arg(&conf);
        let r = spawn(cmd, dir);
        let pid = r.child.id();
        let t0 = Instant::now();
        // Either line, not the exit: the refusal is read from the pipe
        // by another thread, maybe after the exit is seen.
        while r.count("supervising ") == 0 && r.count("unable to create /run/pinit.") == 0 {
            assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
            std::thread::sleep(Duration::from_millis(20));
        }
        let text = r.text();
        let sock = std::fs::symlink_metadata(format!("/run/pinit.{}/notify", pid));
        drop(r);
        let _ = std::fs::remove_dir_all(format!("/run/pinit.{}", pid));
        if ok {
            assert!(text.contains("supervising "), "{}", text);
            let is_socket = sock.map(|m| m.file_type().is_socket()).unwrap_or(false);
            assert!(is_socket, "no notify socket in the taken-back directory");
        } else {
            let want = format!("unable to create /run/pinit.{}: ENOTEMPTY", pid);
            assert!(text.contains(&want), "{}", text);
            assert!(!text.contains("supervising "), "{}", text);
        }
    }
}

#[test]
fn run_directory_and_sockets_have_their_modes() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let r = start("modes", "service s -- /bin/sleep 1000\n");
    let ctl = r.socket();
    let dir = Path::new(&ctl).parent().unwrap().to_path_buf();
    let notify = dir.join("notify");
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    let meta = std::fs::symlink_metadata(&dir).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.uid(), unsafe_free_getuid());
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    assert_eq!(mode(Path::new(&ctl)), 0o600, "{}", ctl);
    assert_eq!(mode(&notify), 0o666, "{}", notify.display());
}

fn unsafe_free_getuid() -> u32 {
    rustix::process::getuid().as_raw()
}

// ---- point 11: nothing is cut silently ----------------------------------

#[test]
fn long_status_is_cut_on_a_character_with_a_mark() {
    // 1 + 2 x 150 bytes: any byte limit below that cuts it; an even one
    // falls inside a two-byte character.
    let r = start(
        "status",
        r#"service chatty ready=notify -- /usr/bin/python3 -c "import socket,os,time; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(('STATUS=x' + chr(233) * 150 + chr(10) + 'READY=1').encode(), os.environ['NOTIFY_SOCKET']); time.sleep(60)"
"#,
    );
    r.wait("chatty: ready");
    let out = r.ctl(&["status", "chatty"]);
    let text = String::from_utf8(out.stdout.clone())
        .unwrap_or_else(|_| panic!("not UTF-8: {:?}", String::from_utf8_lossy(&out.stdout)));
    let line = text.lines().find(|l| l.contains("xé")).unwrap_or_else(|| {
        panic!("no STATUS= shown:\n{}", text);
    });
    assert!(line.ends_with("…"), "cut without a mark: {:?}", line);
}
