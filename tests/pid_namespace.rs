//! pinit as PID 1 of a new PID namespace (`unshare --pid --fork
//! --mount-proc pinit --config FILE`): what PID 1 does that needs no
//! kernel of its own. Orphans re-parented to it are reaped; SIGTERM
//! stops the units, dependents first, and PID 1 exits 0. What is checked
//! is the namespace's own /proc, seen through /proc/PID/root.
//!
//! Skipped, with a message, where unshare is not permitted (no root, or
//! a container without CAP_SYS_ADMIN).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core machine is slow to fork and exec.
const PATIENCE: Duration = Duration::from_secs(20);

fn unshare_works() -> bool {
    let ok = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: `unshare --pid --fork --mount-proc` is not permitted here");
    }
    ok
}

struct Ns {
    unshare: Child,
    lines: Arc<Mutex<Vec<String>>>,
    dir: PathBuf,
}

impl Ns {
    /// `pinit --config` on `conf` as PID 1 of a new PID namespace; `@`
    /// in `conf` stands for a scratch directory.
    fn start(name: &str, conf: &str) -> Ns {
        let dir = std::env::temp_dir().join(format!("pinit-ns-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pinit.conf");
        std::fs::write(&path, conf.replace('@', dir.to_str().unwrap())).unwrap();
        // A private /run in the new mount namespace: as PID 1 its run
        // directory is always /run/pinit.1, which pinit refuses to reuse,
        // and the tests run side by side. `exec` keeps pinit at PID 1.
        let mut unshare = Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "sh", "-c"])
            .arg("mount -t tmpfs -o mode=0755 pinit-run /run && exec \"$0\" --config \"$1\"")
            .arg(env!("CARGO_BIN_EXE_pinit"))
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let err = unshare.stderr.take().unwrap();
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                l2.lock().unwrap().push(line);
            }
        });
        Ns {
            unshare,
            lines,
            dir,
        }
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn until<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let t0 = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            if t0.elapsed() > PATIENCE {
                panic!("{}; pinit said:\n{}", what, self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The index of the first line containing `pat`.
    fn line(&self, pat: &str) -> usize {
        self.until(&format!("no line with {:?}", pat), || {
            self.lines
                .lock()
                .unwrap()
                .iter()
                .position(|l| l.contains(pat))
        })
    }

    /// pinit's pid on the host: unshare's only child.
    fn pinit(&self) -> u32 {
        let me = self.unshare.id();
        let children = format!("/proc/{}/task/{}/children", me, me);
        self.until("unshare has no child", || {
            let text = std::fs::read_to_string(&children).ok()?;
            text.split_whitespace().next()?.parse().ok()
        })
    }

    /// The namespace's /proc, through pinit's root.
    fn proc(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/proc", self.pinit()))
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.pinit();
        assert!(Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success());
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.unshare.try_wait().unwrap() {
                return st;
            }
            if t0.elapsed() > PATIENCE {
                panic!("pinit did not exit on SIGTERM; it said:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        // SIGKILL to unshare's child ends the whole namespace.
        if self.unshare.try_wait().ok().flatten().is_none() {
            if let Ok(text) =
                std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", self.unshare.id()))
            {
                for pid in text.split_whitespace() {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
            let _ = self.unshare.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A field of /proc/PID/status.
fn status_field(proc: &Path, pid: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(proc.join(pid).join("status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
}

#[test]
fn orphans_are_reparented_to_pid1_and_reaped() {
    if !unshare_works() {
        return;
    }
    // The task leaves three orphans behind and exits; `hold` keeps the
    // namespace busy meanwhile.
    let ns = Ns::start(
        "orphans",
        "task   spawn -- /bin/sh -c \"for i in 1 2 3; do sleep 1 & echo $! >> @/orphans; done\"\n\
         service hold -- /bin/sleep 1000\n",
    );
    ns.line("spawn: done (exited with status 0)");
    let proc = ns.proc();
    let orphans: Vec<String> = std::fs::read_to_string(ns.dir.join("orphans"))
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(orphans.len(), 3);
    // pinit itself is PID 1 of the namespace.
    assert_eq!(
        std::fs::read_to_string(proc.join("1/comm")).unwrap().trim(),
        "pinit"
    );
    for pid in &orphans {
        // Alive and now PID 1's child (or already reaped, if the machine
        // was slow to get here).
        if let Some(ppid) = status_field(&proc, pid, "PPid:") {
            assert_eq!(ppid, "1", "orphan {} has parent {}", pid, ppid);
        }
    }
    for pid in &orphans {
        // A zombie keeps its /proc entry until it is reaped.
        ns.until(&format!("orphan {} was not reaped", pid), || {
            (!proc.join(pid).exists()).then_some(())
        });
    }
    assert!(ns.text().contains("hold: started"));
}

#[test]
fn sigterm_stops_the_units_dependents_first_and_pid1_exits() {
    if !unshare_works() {
        return;
    }
    let mut ns = Ns::start(
        "sigterm",
        "service db -- /bin/sleep 1000\n\
         service app needs=db -- /bin/sleep 1000\n\
         service web after=app -- /bin/sleep 1000\n",
    );
    ns.line("web: started");
    let proc = ns.proc();
    let sleeps = std::fs::read_dir(&proc)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|p| p.parse::<u32>().is_ok())
        .filter(|p| {
            std::fs::read_to_string(proc.join(p).join("comm")).is_ok_and(|c| c.trim() == "sleep")
        })
        .count();
    assert_eq!(sleeps, 3, "{}", ns.text());
    let st = ns.terminate();
    assert!(st.success(), "exit {:?}; pinit said:\n{}", st, ns.text());
    let (web, app, db) = (
        ns.line("web: stopped"),
        ns.line("app: stopped"),
        ns.line("db: stopped"),
    );
    assert!(web < ns.line("app: stopping"), "{}", ns.text());
    assert!(app < ns.line("db: stopping"), "{}", ns.text());
    assert!(db < ns.line("every unit is down; exiting"));
}
