//! The supervisor as an ordinary process (`pinit --config FILE`): order,
//! readiness, restart, stop, on the host's real kernel. Where the host
//! offers a cgroup v2 hierarchy, units get cgroups there too.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Run {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    dir: std::path::PathBuf,
}

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pinit-sup-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `pinit --config` on `conf`; `@` in it stands for a scratch dir.
fn start(name: &str, conf: &str) -> Run {
    start_with(name, conf, &[])
}

/// `start`, with `files` (name, text) in the scratch dir first.
fn start_with(name: &str, conf: &str, files: &[(&str, &str)]) -> Run {
    let dir = tmpdir(name);
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    let conf = conf.replace('@', dir.to_str().unwrap());
    let path = dir.join("pinit.conf");
    std::fs::write(&path, conf).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pinit"))
        .arg("--config")
        .arg(&path)
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
    /// Waits until a line containing `pat` appears; returns its index.
    fn wait(&self, pat: &str) -> usize {
        let t0 = Instant::now();
        loop {
            if let Some(i) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .position(|l| l.contains(pat))
            {
                return i;
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

    fn has(&self, pat: &str) -> bool {
        self.count(pat) > 0
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// SIGTERM, then waits for the exit status.
    fn stop(mut self) -> (i32, Run) {
        unsafe_free_kill(self.child.id() as i32, "TERM");
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                return (st.code().unwrap_or(-1), self);
            }
            if t0.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("pinit did not exit after SIGTERM:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unsafe_free_kill(pid: i32, sig: &str) {
    Command::new("kill")
        .arg(format!("-{}", sig))
        .arg(pid.to_string())
        .status()
        .unwrap();
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

#[test]
fn order_follows_after_and_needs() {
    let r = start(
        "order",
        r#"
task    first            -- /bin/sh -c "sleep 0.3; echo first-done"
service second after=first -- /bin/sleep 30
service third  needs=second -- /bin/sleep 30
service free             -- /bin/sleep 30
"#,
    );
    let third = r.wait("third: started");
    let first_done = r.wait("first: done");
    let second = r.wait("second: started");
    let free = r.wait("free: started");
    assert!(first_done < second && second < third, "{}", r.text());
    // `free` depends on nothing: it starts with `first`, not after it.
    assert!(free < first_done, "{}", r.text());
    let (code, r) = r.stop();
    assert_eq!(code, 0);
    // Reverse order on stop: third before second.
    let t = r.wait("third: stopped");
    let s = r.wait("second: stopped");
    assert!(t < s, "{}", r.text());
}

#[test]
fn notify_readiness_gates_dependents() {
    let r = start(
        "notify",
        r#"
service db ready=notify -- /usr/bin/python3 -c "import socket,os,time; time.sleep(0.5); s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b'READY=1', os.environ['NOTIFY_SOCKET']); time.sleep(30)"
service app after=db -- /bin/sleep 30
"#,
    );
    let ready = r.wait("db: ready");
    let app = r.wait("app: started");
    assert!(ready < app, "{}", r.text());
    r.stop();
}

/// A python3 sd_notify client: sends each message of the list, sleeping
/// 0.3 s before each, then sleeps; `pid` in a message is its own pid.
fn notifier(messages: &str) -> String {
    format!(
        "/usr/bin/python3 -c \"import socket,os,time; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\\n\
         for m in [{messages}]: time.sleep(0.3); s.sendto(m.encode(), os.environ['NOTIFY_SOCKET'])\\n\
         time.sleep(30)\""
    )
}

#[test]
fn watchdog_environment_is_the_services_own() {
    let r = start(
        "wdenv",
        r#"
service w ready=notify watchdog=3s -- /bin/sh -c "echo $WATCHDOG_USEC $WATCHDOG_PID $$ > @/w.env; exec sleep 30"
service n ready=notify -- /bin/sh -c "echo ${WATCHDOG_USEC:-none} ${WATCHDOG_PID:-none} > @/n.env; exec sleep 30"
"#,
    );
    r.wait("w: started");
    r.wait("n: started");
    let read = |f: &str| {
        let t0 = Instant::now();
        loop {
            match std::fs::read_to_string(r.dir.join(f)) {
                Ok(t) if t.ends_with('\n') => return t,
                _ if t0.elapsed() > Duration::from_secs(10) => panic!("no {}", f),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    };
    let w = read("w.env");
    let v: Vec<&str> = w.split_whitespace().collect();
    assert_eq!(v.len(), 3, "{}", w);
    assert_eq!(v[0], "3000000");
    // WATCHDOG_PID is the service's own pid ($$ of the shell pinit ran).
    assert_eq!(v[1], v[2], "{}", w);
    assert_eq!(read("n.env"), "none none\n");
    r.stop();
}

#[test]
fn a_silent_service_is_aborted_and_restarted() {
    let conf = format!(
        "service quiet ready=notify watchdog=1s stop-timeout=2s -- {}\n",
        notifier("'READY=1', 'WATCHDOG=1'")
    );
    let r = start("wdquiet", &conf);
    r.wait("quiet: ready");
    let abort = r.wait("quiet: watchdog: no ping within 1000 ms; sending SIGABRT to pid");
    let died = r.wait("quiet: killed by signal 6; restarting in");
    assert!(abort < died, "{}", r.text());
    // Started again, and aborted again: each run gets its period anew.
    let t0 = Instant::now();
    while r.count("quiet: started") < 2 || r.count("sending SIGABRT") < 2 {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    r.stop();
}

#[test]
fn watchdog_trigger_and_a_longer_period() {
    let conf = format!(
        "service trig ready=notify watchdog=30s -- {}\n\
         service slow ready=notify watchdog=1s -- {}\n",
        notifier("'READY=1', 'WATCHDOG=trigger'"),
        notifier("'READY=1\\\\nWATCHDOG_USEC=3000000'")
    );
    let r = start("wdtrig", &conf);
    r.wait("trig: watchdog: WATCHDOG=trigger; sending SIGABRT to pid");
    r.wait("trig: killed by signal 6");
    r.wait("slow: ready");
    // 1 s would have fired by now; 3 s has not.
    std::thread::sleep(Duration::from_millis(1800));
    assert!(!r.has("slow: watchdog"), "{}", r.text());
    r.wait("slow: watchdog: no ping within 3000 ms");
    r.stop();
}

#[test]
fn on_failure_outside_pid1_stops_everything_and_exits_1() {
    let r = start(
        "onfail",
        r#"
service keep -- /bin/sleep 30
task t on-failure=reboot -- /bin/sh -c "sleep 0.3; exit 3"
"#,
    );
    r.wait("t: failed: exited with status 3");
    r.wait("t: on-failure=reboot: not PID 1: stopping every unit and exiting 1");
    let t0 = Instant::now();
    let mut r = r;
    let code = loop {
        if let Some(st) = r.child.try_wait().unwrap() {
            break st.code();
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(1), "{}", r.text());
    assert!(r.has("keep: stopped"), "{}", r.text());
}

#[test]
fn fd_readiness_gates_dependents() {
    let r = start(
        "fdready",
        r#"
service s6style ready=fd:3 -- /bin/sh -c "sleep 0.4; echo >&3; exec sleep 30"
service after   after=s6style -- /bin/sleep 30
"#,
    );
    let ready = r.wait("s6style: ready");
    let after = r.wait("after: started");
    assert!(ready < after, "{}", r.text());
    r.stop();
}

#[test]
fn failed_task_blocks_needs_but_not_after() {
    let r = start(
        "blocked",
        r#"
task    bad             -- /bin/false
service needy needs=bad -- /bin/sleep 30
service patient after=bad -- /bin/sleep 30
service cond if=path:/nonexistent/x -- /bin/sleep 30
service cond2 if=!path:/nonexistent/x -- /bin/sleep 30
"#,
    );
    r.wait("bad: failed: exited with status 1");
    r.wait("needy: blocked");
    r.wait("patient: started");
    r.wait("cond: skipped");
    r.wait("cond2: started");
    assert!(!r.has("needy: started"), "{}", r.text());
    r.stop();
}

#[test]
fn restart_limit_fails_a_crash_loop_with_backoff() {
    let r = start(
        "limit",
        r#"
service crash restart-limit=3 -- /bin/sh -c "echo tick; exit 7"
"#,
    );
    r.wait("crash: failed: restart-limit reached");
    assert_eq!(r.count("crash: started"), 3, "{}", r.text());
    assert!(
        r.has("exited with status 7; restarting in 100 ms"),
        "{}",
        r.text()
    );
    assert!(
        r.has("exited with status 7; restarting in 200 ms"),
        "{}",
        r.text()
    );
    r.stop();
}

#[test]
fn a_unit_that_ran_long_is_restarted_at_once_with_a_console_line() {
    // Past the stable run (10 s), a crash restarts it with no delay:
    // the console still says so.
    let r = start(
        "stable",
        r#"
service long restart-limit=2 -- /bin/sh -c "sleep 10.2; exit 4"
"#,
    );
    r.wait("long: exited with status 4; restarting now");
    // Its `started` line follows once the new process has exec'd (PID 1
    // reads that report in its loop): waited for, not assumed.
    let t0 = Instant::now();
    while r.count("long: started") < 2 && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(r.count("long: started"), 2, "{}", r.text());
    r.stop();
}

#[test]
fn restart_policies() {
    let r = start(
        "policies",
        r#"
service once  restart=never      -- /bin/sh -c "exit 0"
service ok    restart=on-failure -- /bin/sh -c "exit 0"
service again restart=on-failure restart-limit=2 -- /bin/sh -c "exit 1"
"#,
    );
    r.wait("once: done");
    r.wait("ok: done");
    r.wait("again: failed: restart-limit reached");
    assert_eq!(r.count("once: started"), 1);
    assert_eq!(r.count("ok: started"), 1);
    assert_eq!(r.count("again: started"), 2);
    r.stop();
}

#[test]
fn missing_binary_is_reported_and_retried_while_others_run() {
    let r = start(
        "missing",
        r#"
service ghost -- /nonexistent/daemon --flag
service fine  -- /bin/sleep 30
"#,
    );
    r.wait("ghost: unable to execute /nonexistent/daemon: ENOENT");
    r.wait("fine: started");
    // Retried with back-off, not given up and not spinning.
    let t0 = Instant::now();
    while r.count("unable to execute /nonexistent/daemon") < 3 {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        r.count("unable to execute /nonexistent/daemon") < 40,
        "{}",
        r.text()
    );
    r.stop();
}

#[test]
fn stop_leaves_no_process_of_a_unit_behind() {
    let marker = format!("pinit-marker-{}", std::process::id());
    let r = start(
        "nochild",
        &format!(
            r#"
service forker -- /bin/sh -c "sh -c 'sleep 60; :' {m} & sh -c 'sleep 61; :' {m} & (sh -c 'sleep 62; :' {m} &) ; exec sh -c 'sleep 63; :' {m}"
"#,
            m = marker
        ),
    );
    r.wait("forker: started");
    let t0 = Instant::now();
    while procs_with(&marker) < 4 {
        assert!(t0.elapsed() < Duration::from_secs(10), "{}", r.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, r) = r.stop();
    assert_eq!(code, 0, "{}", r.text());
    r.wait("forker: stopped");
    let t0 = Instant::now();
    while procs_with(&marker) > 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "left behind:\n{}",
            r.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn main_exit_kills_the_rest_before_restart() {
    let marker = format!("pinit-rest-{}", std::process::id());
    let r = start(
        "rest",
        &format!(
            r#"
service leaky restart-limit=2 -- /bin/sh -c "sh -c 'sleep 60; :' {m} & sleep 0.3; exit 1"
"#,
            m = marker
        ),
    );
    r.wait("leaky: failed");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(procs_with(&marker), 0, "{}", r.text());
    r.stop();
}

#[test]
fn bad_config_starts_nothing() {
    let dir = tmpdir("badconf");
    let path = dir.join("bad.conf");
    std::fs::write(&path, "service x bogus=1 -- /bin/true\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pinit"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", err);
    assert!(
        err.contains(":1:11: error: unknown option 'bogus'"),
        "{}",
        err
    );
    assert!(err.contains("nothing started"), "{}", err);
    assert!(!err.contains("x: started"), "{}", err);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The back-off as the kernel's clock sees it: each run records
/// /proc/uptime; the gaps between runs double from 100 ms.
#[test]
fn backoff_doubles_by_the_kernels_clock() {
    let r = start(
        "backoff",
        r#"
service flap restart-limit=5 -- /bin/sh -c "cut -d' ' -f1 /proc/uptime >> @/starts; exit 1"
"#,
    );
    r.wait("flap: failed: restart-limit reached");
    let text = std::fs::read_to_string(r.dir.join("starts")).unwrap();
    let t: Vec<f64> = text.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(t.len(), 5, "{}", text);
    let gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    // Lower bounds only (the kernel's view of each start); 10 ms of slack
    // for /proc/uptime's resolution.
    for (gap, want) in gaps.iter().zip([0.1, 0.2, 0.4, 0.8]) {
        assert!(*gap >= want - 0.01, "gaps {:?}", gaps);
    }
    // And it grows: each gap longer than the one before.
    assert!(gaps.windows(2).all(|w| w[1] > w[0]), "gaps {:?}", gaps);
    r.stop();
}

/// restart-max=0: no back-off; a stable run resets the streak.
#[test]
fn no_backoff_with_restart_max_zero() {
    let r = start(
        "nobackoff",
        r#"
service fast restart-max=0 restart-limit=20 -- /bin/sh -c "echo >> @/starts; exit 1"
"#,
    );
    r.wait("fast: failed: restart-limit reached");
    let starts = std::fs::read_to_string(r.dir.join("starts")).unwrap();
    assert_eq!(starts.lines().count(), 20, "{}", r.text());
    // The crash loop's console lines (`started`, `restarting now`) are
    // rate-limited: 5 in 10 s.
    let lines = r.count("fast: started") + r.count("fast: exited with status 1; restarting now");
    assert_eq!(lines, 5, "{}", r.text());
    r.stop();
}

#[test]
fn refused_placement_is_a_warning_and_the_unit_runs() {
    // CPU 1000 and node 1000 exist nowhere; no process may have 2^30
    // open files (fs.nr_open).
    let r = start(
        "degrade",
        r#"
service odd cpus=1000 numa=bind:1000 nice=3 rlimit.core=0 rlimit.nofile=1G -- /bin/sleep 30
"#,
    );
    r.wait("odd: warning: unable to set the CPU affinity (cpus=1000): EINVAL; it runs without it");
    r.wait("odd: warning: unable to set the NUMA memory policy (numa=bind:1000): EINVAL");
    r.wait("odd: warning: unable to set a resource limit (rlimit.nofile=1G): EPERM");
    let i = r.wait("odd: started (pid ");
    let line = r.lines.lock().unwrap()[i].clone();
    let pid: u32 = line
        .split("pid ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    // What was not refused still applies.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid)).unwrap();
    let nice = stat.rsplit(')').next().unwrap().split(' ').nth(17).unwrap();
    assert_eq!(nice, "3", "{}", stat);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", pid)).unwrap();
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max core file size") && l.contains(" 0 ")),
        "{}",
        limits
    );
    assert_eq!(r.count("odd: started"), 1, "{}", r.text());
    r.stop();
}

#[test]
fn isolation_that_cannot_be_had_fails_the_unit() {
    // Not PID 1: no partition beside the units' cgroups (or no cgroup at
    // all). The unit is failed, not retried, and nothing of it runs.
    let marker = format!("pinit-iso-{}", std::process::id());
    let r = start(
        "isolate",
        &format!(
            "service rt cpuset=0 isolate=yes -- /bin/sh -c 'exec sleep 30 {}'\n\
             service fine -- /bin/sleep 30\n",
            marker
        ),
    );
    r.wait("rt: error: ");
    r.wait("rt: failed: not started: its CPUs could not be isolated");
    r.wait("fine: started");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(r.count("rt: error: "), 1, "{}", r.text());
    assert!(!r.has("rt: started"), "{}", r.text());
    assert_eq!(procs_with(&marker), 0);
    r.stop();
}

#[test]
fn boot_summary_when_the_last_unit_is_ready_at_spawn() {
    // Nothing happens after `last` starts: the line must not wait for
    // another event.
    let r = start(
        "summary",
        r#"
task    first            -- /bin/true
service last after=first -- /bin/sleep 30
"#,
    );
    r.wait("last: started");
    r.wait("boot: every unit settled");
    r.stop();
}

// ---- sockets (listen=): the kernel's view of what the unit gets --------

impl Run {
    /// `pinit status ARGS...` against this run's control socket.
    fn ctl(&self, args: &[&str]) -> String {
        let sock = format!("/run/pinit.{}/control", self.child.id());
        let out = Command::new(env!("CARGO_BIN_EXE_pinit"))
            .arg("--socket")
            .arg(sock)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The unit's output line that starts with `tag` (after `NAME[PID]: `).
    fn said(&self, tag: &str) -> String {
        self.wait(&format!("]: {tag}"));
        let text = self.text();
        let line = text.lines().find(|l| l.contains(&format!("]: {tag}")));
        line.unwrap().split("]: ").nth(1).unwrap().to_string()
    }
}

/// The inode of the Unix socket bound at `path` (/proc/net/unix).
fn unix_inode(path: &std::path::Path) -> String {
    let table = std::fs::read_to_string("/proc/net/unix").unwrap();
    let p = path.to_str().unwrap();
    let line = table.lines().find(|l| l.ends_with(&format!(" {p}")));
    let line = line.unwrap_or_else(|| panic!("{p} is not in /proc/net/unix"));
    line.split_whitespace().nth(6).unwrap().to_string()
}

/// The `socket:[INODE]` and `pipe:[INODE]` links of process `pid`'s fds.
fn fd_links(pid: u32) -> Vec<String> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap();
    fds.flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|l| l.display().to_string())
        .collect()
}

#[test]
fn sockets_reach_the_unit_as_sd_listen_fds_reads_them() {
    // Three sockets and a readiness pipe: fds 3, 4, 5 and 6, nothing else.
    let r = start(
        "listen-fds",
        r#"
service s listen=unix:@/run/a.sock,name=first,mode=0600 listen=unix-dgram:@/b.sock \
          listen=fifo:@/f ready=fd:6 restart=never \
          -- /bin/sh -c "echo ENV $$ $LISTEN_PID $LISTEN_FDS $LISTEN_FDNAMES; for n in 3 4 5 6; do echo LINK $n $(readlink /proc/$$/fd/$n); done; echo >&6; exec sleep 30"
"#,
    );
    r.wait("s: ready");
    let env = r.said("ENV");
    let w: Vec<&str> = env.split(' ').collect();
    assert_eq!(w[1], w[2], "LISTEN_PID is not the process's pid: {env}");
    assert_eq!(&w[3..], ["3", "first:s:s"], "{env}");
    // What the exec'd program holds: 0-2, the sockets, the readiness
    // pipe; nothing of PID 1's (read once the shell has exec'd sleep).
    let t0 = Instant::now();
    while std::fs::read_to_string(format!("/proc/{}/comm", w[1])).unwrap_or_default() != "sleep\n" {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    // Beyond 6, only what this test inherited itself (a shell's fds).
    let dir = format!("/proc/{}/fd", w[1]);
    let mut fds: Vec<u32> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_str().unwrap().parse().unwrap())
        .filter(|&n: &u32| {
            let theirs = std::fs::read_link(format!("{dir}/{n}")).ok();
            n <= 6 || theirs != std::fs::read_link(format!("/proc/self/fd/{n}")).ok()
        })
        .collect();
    fds.sort();
    assert_eq!(fds, [0, 1, 2, 3, 4, 5, 6], "{}", r.text());
    let link = |n| r.said(&format!("LINK {n} "));
    let a = r.dir.join("run/a.sock");
    assert_eq!(link(3), format!("LINK 3 socket:[{}]", unix_inode(&a)));
    assert_eq!(
        link(4),
        format!("LINK 4 socket:[{}]", unix_inode(&r.dir.join("b.sock")))
    );
    assert_eq!(link(5), format!("LINK 5 {}", r.dir.join("f").display()));
    assert!(link(6).starts_with("LINK 6 pipe:["), "{}", link(6));
    // PID 1 (here pinit) holds the very same sockets: they outlive the unit.
    let ours = fd_links(r.child.id());
    for n in [3, 4, 5] {
        let l = link(n);
        let target = l.split(' ').nth(2).unwrap();
        assert!(
            ours.iter().any(|o| o == target),
            "pinit does not hold {target}: {ours:?}"
        );
    }
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let meta = std::fs::metadata(&a).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(std::fs::metadata(r.dir.join("f"))
        .unwrap()
        .file_type()
        .is_fifo());
    let (code, _) = r.stop();
    assert_eq!(code, 0);
}

// `\\n` in the table is `\n` in Python's source.
const SERVE_ONE: &str = "import socket,os; s=socket.socket(fileno=3); c,_=s.accept(); c.sendall(b'hello %d\\\\n' % os.getpid())";

#[test]
fn on_demand_starts_at_the_first_connection_and_keeps_the_socket() {
    let r = start(
        "on-demand",
        &format!(
            "service od listen=unix:@/od.sock start=on-demand -- /usr/bin/python3 -c \"{SERVE_ONE}\"\n"
        ),
    );
    r.wait("od: listening");
    assert!(!r.has("od: started"), "{}", r.text());
    assert!(
        r.ctl(&["status"]).contains(" listening "),
        "{}",
        r.ctl(&["status"])
    );
    use std::io::Read;
    for round in 0..2 {
        // Connected before the server runs: the kernel queues it.
        let mut c = std::os::unix::net::UnixStream::connect(r.dir.join("od.sock")).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut got = String::new();
        c.read_to_string(&mut got).unwrap();
        assert!(
            got.starts_with("hello "),
            "round {round}: {got:?}\n{}",
            r.text()
        );
        // It exits after one connection: listening again, same socket.
        let t0 = Instant::now();
        while r.count("od: listening") < round + 2 {
            assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert_eq!(r.count("od: started"), 2, "{}", r.text());
    r.stop();
}

#[test]
fn accept_serves_each_connection_in_its_own_instance_up_to_max() {
    let r = start(
        "accept",
        r#"
service echo accept=yes max-instances=2 listen=unix:@/e.sock \
             -- /bin/sh -c "echo $LISTEN_FDS $LISTEN_FDNAMES $(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/3); exec cat"
"#,
    );
    r.wait("echo: listening");
    use std::io::{Read, Write};
    let connect = || {
        let c = std::os::unix::net::UnixStream::connect(r.dir.join("e.sock")).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        c
    };
    let line = |c: &mut std::os::unix::net::UnixStream| {
        let mut buf = Vec::new();
        let mut b = [0u8; 1];
        while c.read(&mut b).unwrap() == 1 && b[0] != b'\n' {
            buf.push(b[0]);
        }
        String::from_utf8(buf).unwrap()
    };
    let (mut a, mut b) = (connect(), connect());
    for c in [&mut a, &mut b] {
        let hello = line(c);
        let w: Vec<&str> = hello.split(' ').collect();
        assert_eq!(&w[..2], ["1", "connection"], "{hello}");
        assert!(
            w[2].starts_with("socket:[") && w[2] == w[3],
            "fds 0 and 3: {hello}"
        );
        c.write_all(b"ping\n").unwrap();
        assert_eq!(line(c), "ping");
    }
    // A third connection waits in the backlog while two instances run.
    let mut third = connect();
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut b1 = [0u8; 1];
    assert!(third.read(&mut b1).is_err(), "served beyond max-instances");
    let show = r.ctl(&["status", "echo"]);
    assert!(show.contains("instances: 2 of 2"), "{show}");
    assert!(show.contains("name echo, accepted 2)"), "{show}");
    drop(a);
    third
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    assert!(
        line(&mut third).starts_with("1 connection "),
        "{}",
        r.text()
    );
    let show = r.ctl(&["status", "echo", "--json"]);
    assert!(show.contains("\"accepted\":3"), "{show}");
    assert!(show.contains("\"state\":\"listening\""), "{show}");
    r.stop();
}

#[test]
fn a_socket_that_cannot_be_bound_fails_only_its_unit() {
    let r = start(
        "unbound",
        r#"
service bad listen=unix:/proc/pinit-no/x.sock -- /bin/sleep 30
service good listen=unix:@/g.sock -- /bin/sleep 30
"#,
    );
    r.wait("bad: failed: not started: a socket could not be bound");
    assert!(
        r.has("bad: unable to create the directory of unix:/proc/pinit-no/x.sock"),
        "{}",
        r.text()
    );
    r.wait("good: started");
    assert!(!r.has("bad: started"), "{}", r.text());
    r.stop();
}

/// The pid in the last line containing `pat` followed by `(pid N`.
fn pid_after(r: &Run, pat: &str) -> i32 {
    let text = r.text();
    let line = text.lines().rev().find(|l| l.contains(pat)).unwrap();
    let rest = line.split("(pid ").nth(1).unwrap();
    rest.split([',', ')']).next().unwrap().parse().unwrap()
}

#[test]
fn a_forked_daemon_is_found_through_its_pidfile_and_restarted() {
    // The launcher forks the daemon and exits 0 at once; the daemon
    // writes its pidfile 300 ms later. Without cgroups (this host), a
    // re-parented child of pinit's is accepted.
    let r = start(
        "forked",
        r#"
service d ready=forked pidfile=@/d.pid -- /bin/sh -c "sh -c 'sleep 0.3; echo $$ > @/d.pid; exec sleep 1000' & exit 0"
service w needs=d -- /bin/sleep 1000
"#,
    );
    r.wait("d: ready (pid ");
    let main = pid_after(&r, "d: ready (pid ");
    let written: i32 = std::fs::read_to_string(r.dir.join("d.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(main, written, "{}", r.text());
    let ready = r.wait("d: ready");
    assert!(ready < r.wait("w: started"), "{}", r.text());
    // Killed: the usual restart, and the new daemon found the same way.
    unsafe_free_kill(main, "KILL");
    r.wait("d: killed by signal 9; restarting in");
    let t0 = Instant::now();
    while r.count("d: ready (pid ") < 2 {
        assert!(t0.elapsed() < Duration::from_secs(10), "{}", r.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_ne!(pid_after(&r, "d: ready (pid "), main);
    r.stop();
}

#[test]
fn a_forked_daemon_that_never_writes_its_pidfile_fails() {
    let r = start(
        "nopidfile",
        r#"
service d ready=forked pidfile=@/never.pid ready-timeout=1s restart=never -- /bin/sh -c "sleep 1000 & exit 0"
"#,
    );
    r.wait("d: pidfile ");
    r.wait("d: no main process ");
    r.wait("d: failed: its main process was not found in time");
    assert!(r.has("never.pid: ENOENT"), "{}", r.text());
    r.stop();
}

#[test]
fn a_task_timeout_stops_the_task_and_fails_it() {
    let r = start(
        "timeout",
        r#"
task slow timeout=500ms -- /bin/sleep 100
service after after=slow -- /bin/sleep 30
"#,
    );
    r.wait("slow: still running 50");
    r.wait("slow: failed: still running at its timeout=");
    // after= only orders: the failed task lets its dependent start.
    r.wait("after: started");
    r.stop();
}

#[test]
fn env_files_fill_the_environment_and_a_bad_one_fails_the_start() {
    let one = "# defaults\nA=1\n\nexport B='from file'\nQ=\"say \\\"hi\\\"\"\nA=2\n";
    let r = start_with(
        "envfile",
        r#"
env G=global
env C=global
task show env=B=unit env=C=unit env-file=@/one env-file=-@/missing -- /bin/sh -c "echo \"$A|$B|$C|$G|$Q\" > @/out"
task bad env-file=@/bad -- /bin/true
task gone env-file=@/gone -- /bin/true
"#,
        &[("one", one), ("bad", "OK=1\n# fine\n2X=no\n")],
    );
    r.wait("show: done");
    let out = std::fs::read_to_string(r.dir.join("out")).unwrap();
    // The file's over env= and env; a later line over an earlier one.
    assert_eq!(
        out.trim(),
        r#"2|from file|unit|global|say "hi""#,
        "{}",
        r.text()
    );
    let bad = r.dir.join("bad");
    r.wait(&format!(
        "bad: env-file {}:3: expected KEY=VALUE (KEY of A-Z a-z 0-9 _, not starting with a digit); not started",
        bad.display()
    ));
    r.wait("bad: failed: could not be started: EINVAL");
    let gone = r.dir.join("gone");
    r.wait(&format!(
        "gone: unable to read env-file {}: ENOENT",
        gone.display()
    ));
    assert!(
        !r.has("bad: started") && !r.has("gone: started"),
        "{}",
        r.text()
    );
    r.stop();
}
