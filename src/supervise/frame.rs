//! A copy of a `Command` that a child sharing PID 1's memory runs on
//! (sys::vm_child): plain data, offsets into its own text and fd numbers,
//! so that PID 1 can drop the command it built (its strings, its stack
//! frame) at once while the child reads the copy until its exec.
//!
//! Every field is valid as all zero bytes, and empty: the `Nursery` that
//! holds the frame is a static in .bss, not 30 KiB of .data.

use super::command::{Command, Creds, Output, ARGV_MAX, ENVP_MAX};
use crate::place::process::{IoPrio, Mask, Numa, Placement, Rlimit, Sched, RLIMITS_MAX};
use crate::supervise::passwd::GROUPS_MAX;
use crate::sys::vm_child::Inherited;
use crate::table::capacity::LISTEN_MAX;
use core::ffi::CStr;
use rustix::fd::BorrowedFd;

/// Room for the command's strings, each with its NUL: what `launch`
/// decodes at most (arguments, environment, terminal, directory). A
/// command that does not fit is forked instead.
pub(crate) const TEXT: usize = 16 * 1024;

/// Where output goes, as in `Output`.
#[derive(Clone, Copy)]
enum Out {
    Inherit,
    Path(u16),
    Fd(Inherited),
}

/// What the child reads. Small fields first: they share a page with the
/// top of the child's stack, and the text fills only as far as used.
#[repr(C)]
pub(crate) struct Frame {
    path: u16,
    argc: u16,
    envc: u16,
    argv: [u16; ARGV_MAX],
    envp: [u16; ENVP_MAX],
    tty: Option<u16>,
    dir: Option<u16>,
    output: Out,
    ready: Option<(Inherited, i32)>,
    nlisten: u8,
    listen: [Inherited; LISTEN_MAX],
    conn: Option<Inherited>,
    umask: Option<u32>,
    creds: Option<(u32, u32)>,
    ngroups: u8,
    groups: [u32; GROUPS_MAX],
    no_new_privs: bool,
    watchdog_pid: bool,
    has_cpus: bool,
    cpus: Mask,
    has_numa: bool,
    numa: Numa,
    nice: Option<i8>,
    has_sched: bool,
    sched: Sched,
    has_ioprio: bool,
    ioprio: IoPrio,
    oom_score: Option<i16>,
    nrlimits: u8,
    rlimits: [Rlimit; RLIMITS_MAX],
    used: u16,
    text: [u8; TEXT],
}

impl Frame {
    /// All zero: empty.
    pub(crate) const fn new() -> Frame {
        Frame {
            path: 0,
            argc: 0,
            envc: 0,
            argv: [0; ARGV_MAX],
            envp: [0; ENVP_MAX],
            tty: None,
            dir: None,
            output: Out::Inherit,
            ready: None,
            nlisten: 0,
            listen: [Inherited::ZERO; LISTEN_MAX],
            conn: None,
            umask: None,
            creds: None,
            ngroups: 0,
            groups: [0; GROUPS_MAX],
            no_new_privs: false,
            watchdog_pid: false,
            has_cpus: false,
            cpus: Mask::EMPTY,
            has_numa: false,
            numa: Numa::Bind(Mask::EMPTY),
            nice: None,
            has_sched: false,
            sched: Sched::Other,
            has_ioprio: false,
            ioprio: IoPrio::Rt(0),
            oom_score: None,
            nrlimits: 0,
            rlimits: [Rlimit {
                resource: 0,
                soft: 0,
                hard: 0,
            }; RLIMITS_MAX],
            used: 0,
            text: [0; TEXT],
        }
    }

    /// Copies `cmd` in; false if it does not fit (then fork instead).
    /// `cmd.cgroup` is not copied: clone3 places the child.
    pub(crate) fn fill(&mut self, cmd: &Command<'_>) -> bool {
        self.used = 0;
        self.fill_all(cmd).is_some()
    }

    fn fill_all(&mut self, cmd: &Command<'_>) -> Option<()> {
        self.path = self.put(cmd.path)?;
        let mut n = 0u16;
        for s in cmd.argv.iter() {
            let at = self.put(s)?;
            *self.argv.get_mut(usize::from(n))? = at;
            n += 1;
        }
        self.argc = n;
        let mut n = 0u16;
        for s in cmd.envp.iter() {
            let at = self.put(s)?;
            *self.envp.get_mut(usize::from(n))? = at;
            n += 1;
        }
        self.envc = n;
        self.tty = match cmd.tty {
            Some(t) => Some(self.put(t)?),
            None => None,
        };
        self.dir = match cmd.dir {
            Some(d) => Some(self.put(d)?),
            None => None,
        };
        self.output = match cmd.output {
            Output::Inherit => Out::Inherit,
            Output::Path(p) => Out::Path(self.put(p)?),
            Output::Fd(fd) => Out::Fd(Inherited::of(fd)),
        };
        self.ready = cmd.ready_fd.map(|(fd, n)| (Inherited::of(fd), n));
        let mut n = 0u8;
        for &fd in cmd.listen {
            *self.listen.get_mut(usize::from(n))? = Inherited::of(fd);
            n += 1;
        }
        self.nlisten = n;
        self.conn = cmd.conn.map(Inherited::of);
        self.umask = cmd.umask;
        self.creds = cmd.creds.map(|c| (c.uid, c.gid));
        let groups = cmd.creds.map_or(&[][..], |c| c.groups);
        self.groups.get_mut(..groups.len())?.copy_from_slice(groups);
        self.ngroups = u8::try_from(groups.len()).ok()?;
        self.no_new_privs = cmd.no_new_privs;
        self.watchdog_pid = cmd.watchdog_pid;
        let p = &cmd.placement;
        self.has_cpus = p.cpus.is_some();
        if let Some(&m) = p.cpus {
            self.cpus = m;
        }
        self.has_numa = p.numa.is_some();
        if let Some(&m) = p.numa {
            self.numa = m;
        }
        self.nice = p.nice;
        self.has_sched = p.sched.is_some();
        if let Some(s) = p.sched {
            self.sched = s;
        }
        self.has_ioprio = p.ioprio.is_some();
        if let Some(i) = p.ioprio {
            self.ioprio = i;
        }
        self.oom_score = p.oom_score;
        self.rlimits
            .get_mut(..p.rlimits.len())?
            .copy_from_slice(p.rlimits);
        self.nrlimits = u8::try_from(p.rlimits.len()).ok()?;
        Some(())
    }

    /// Appends `s` and its NUL to the text; its offset.
    fn put(&mut self, s: &CStr) -> Option<u16> {
        let bytes = s.to_bytes_with_nul();
        let at = usize::from(self.used);
        let end = at.checked_add(bytes.len())?;
        self.text.get_mut(at..end)?.copy_from_slice(bytes);
        self.used = u16::try_from(end).ok()?;
        u16::try_from(at).ok()
    }

    fn str(&self, at: u16) -> Option<&CStr> {
        CStr::from_bytes_until_nul(self.text.get(usize::from(at)..)?).ok()
    }

    /// The command again, in the child, into `cmd` (made in the caller's
    /// frame: a second `Command` on the child's small stack would cost a
    /// kilobyte); `listen` holds its sockets. `None` if the frame does not
    /// hold a whole command (not after `fill`).
    pub(crate) fn command<'f: 'l, 'l>(
        &'f self,
        cmd: &mut Command<'l>,
        listen: &'l mut heapless::Vec<BorrowedFd<'f>, LISTEN_MAX>,
    ) -> Option<()> {
        cmd.path = self.str(self.path)?;
        for &at in self.argv.get(..usize::from(self.argc))? {
            cmd.argv.push(self.str(at)?).ok()?;
        }
        for &at in self.envp.get(..usize::from(self.envc))? {
            cmd.envp.push(self.str(at)?).ok()?;
        }
        cmd.tty = match self.tty {
            Some(at) => Some(self.str(at)?),
            None => None,
        };
        cmd.dir = match self.dir {
            Some(at) => Some(self.str(at)?),
            None => None,
        };
        cmd.output = match &self.output {
            Out::Inherit => Output::Inherit,
            Out::Path(at) => Output::Path(self.str(*at)?),
            Out::Fd(fd) => Output::Fd(fd.get()),
        };
        cmd.ready_fd = self.ready.as_ref().map(|(fd, n)| (fd.get(), *n));
        for fd in self.listen.get(..usize::from(self.nlisten))? {
            listen.push(fd.get()).ok()?;
        }
        cmd.listen = listen;
        cmd.conn = self.conn.as_ref().map(Inherited::get);
        cmd.umask = self.umask;
        cmd.creds = match self.creds {
            Some((uid, gid)) => Some(Creds {
                uid,
                gid,
                groups: self.groups.get(..usize::from(self.ngroups))?,
            }),
            None => None,
        };
        cmd.no_new_privs = self.no_new_privs;
        cmd.watchdog_pid = self.watchdog_pid;
        cmd.placement = Placement {
            cpus: self.has_cpus.then_some(&self.cpus),
            numa: self.has_numa.then_some(&self.numa),
            nice: self.nice,
            sched: self.has_sched.then_some(self.sched),
            ioprio: self.has_ioprio.then_some(self.ioprio),
            oom_score: self.oom_score,
            rlimits: self.rlimits.get(..usize::from(self.nrlimits))?,
        };
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::place::process::Rlimit;
    use rustix::fd::{AsFd, AsRawFd};

    fn strs<const N: usize>(v: &crate::sys::CVec<'_, N>) -> Vec<String> {
        v.iter().map(|s| s.to_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn a_command_comes_back_whole_from_its_frame() {
        let (a, b) = rustix::pipe::pipe().unwrap();
        let listen = [a.as_fd(), b.as_fd()];
        let groups = [10, 20];
        let mut cpus = Mask::EMPTY;
        cpus.set(3);
        let mut nodes = Mask::EMPTY;
        nodes.set(1);
        let numa = Numa::Interleave(nodes);
        let rlimits = [Rlimit {
            resource: 7,
            soft: 1,
            hard: 2,
        }];
        // Owned strings, gone before the frame is read.
        let prog = std::ffi::CString::new("/bin/prog").unwrap();
        let mut cmd = Command::new(&prog);
        for s in [&prog, c"-x", c""] {
            cmd.argv.push(s).unwrap();
        }
        cmd.envp.push(c"A=1").unwrap();
        cmd.tty = Some(c"/dev/tty1");
        cmd.dir = Some(c"/srv");
        cmd.output = Output::Fd(b.as_fd());
        cmd.ready_fd = Some((a.as_fd(), 7));
        cmd.listen = &listen;
        cmd.conn = Some(b.as_fd());
        cmd.umask = Some(0o22);
        cmd.creds = Some(Creds {
            uid: 1,
            gid: 2,
            groups: &groups,
        });
        cmd.no_new_privs = true;
        cmd.watchdog_pid = true;
        cmd.placement = Placement {
            cpus: Some(&cpus),
            numa: Some(&numa),
            nice: Some(-5),
            sched: Some(Sched::Rr(9)),
            ioprio: Some(IoPrio::Be(4)),
            oom_score: Some(-300),
            rlimits: &rlimits,
        };

        let mut frame = Box::new(Frame::new());
        assert!(frame.fill(&cmd));
        drop(prog);
        let mut back = Command::new(c"/");
        let mut fds = heapless::Vec::new();
        frame.command(&mut back, &mut fds).unwrap();
        assert_eq!(back.path, c"/bin/prog");
        assert_eq!(strs(&back.argv), ["/bin/prog", "-x", ""]);
        assert_eq!(strs(&back.envp), ["A=1"]);
        assert_eq!(back.tty, Some(c"/dev/tty1"));
        assert_eq!(back.dir, Some(c"/srv"));
        assert!(matches!(back.output, Output::Fd(f) if f.as_raw_fd() == b.as_raw_fd()));
        assert_eq!(
            back.ready_fd.map(|(f, n)| (f.as_raw_fd(), n)),
            Some((a.as_raw_fd(), 7))
        );
        let raw: Vec<i32> = back.listen.iter().map(|f| f.as_raw_fd()).collect();
        assert_eq!(raw, [a.as_raw_fd(), b.as_raw_fd()]);
        assert_eq!(back.conn.map(|f| f.as_raw_fd()), Some(b.as_raw_fd()));
        assert_eq!(back.umask, Some(0o22));
        let c = back.creds.unwrap();
        assert_eq!((c.uid, c.gid, c.groups), (1, 2, &[10, 20][..]));
        assert!(back.no_new_privs && back.watchdog_pid);
        let p = back.placement;
        assert_eq!(p.cpus, Some(&cpus));
        assert_eq!(p.numa, Some(&numa));
        assert_eq!(
            (p.nice, p.sched, p.ioprio),
            (Some(-5), Some(Sched::Rr(9)), Some(IoPrio::Be(4)))
        );
        assert_eq!(p.oom_score, Some(-300));
        assert_eq!(p.rlimits, &rlimits);
        assert!(back.cgroup.is_none() && !back.pidfd);
    }

    #[test]
    fn an_empty_command_leaves_nothing_of_the_last_one() {
        let mut frame = Box::new(Frame::new());
        let mut full = Command::new(c"/a");
        full.argv.push(c"/a").unwrap();
        full.tty = Some(c"/dev/tty1");
        full.umask = Some(0o77);
        let mask = Mask::EMPTY;
        full.placement.cpus = Some(&mask);
        assert!(frame.fill(&full));
        assert!(frame.fill(&Command::new(c"/b")));
        let mut back = Command::new(c"/");
        let mut fds = heapless::Vec::new();
        frame.command(&mut back, &mut fds).unwrap();
        assert_eq!(back.path, c"/b");
        assert_eq!(back.argv.iter().count(), 0);
        assert!(back.tty.is_none() && back.umask.is_none() && back.placement.cpus.is_none());
        assert!(matches!(back.output, Output::Inherit));
    }

    #[test]
    fn a_command_too_long_for_the_frame_is_refused() {
        let mut frame = Box::new(Frame::new());
        let long = std::ffi::CString::new(vec![b'x'; TEXT / 4]).unwrap();
        let mut cmd = Command::new(c"/bin/prog");
        for _ in 0..4 {
            cmd.argv.push(&long).unwrap();
        }
        assert!(!frame.fill(&cmd));
        cmd = Command::new(c"/bin/prog");
        for _ in 0..3 {
            cmd.argv.push(&long).unwrap();
        }
        assert!(frame.fill(&cmd));
    }
}
