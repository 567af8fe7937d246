"""Booting the Debian disk under QEMU and talking to it over ssh.

The guest: x86_64 under TCG (qemu.py's machine and console), the root's
own kernel and initramfs-tools initrd, the image as a virtio-blk disk
(root=/dev/vda rw), a virtio NIC on QEMU's user-mode network with
`hostfwd=tcp:127.0.0.1:PORT-:22` (the guest's sshd is reachable from
this host's loopback only) and virtio-rng (entropy for sshd and redis).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import qemu

ARCH = "x86_64"
# net.ifnames=0: the NIC is eth0, the name the table's network task uses.
APPEND = "root=/dev/vda rw net.ifnames=0"
MEM = 512


def free_port():
    """A TCP port free on 127.0.0.1 now (QEMU binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_command(root, release, disk, port, mem=MEM, smp=1, append=""):
    boot = Path(root) / "boot"
    extra = ["-drive", "file=%s,format=raw,if=virtio" % disk,
             "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:%d-:22" % port,
             "-device", "virtio-net-pci,netdev=net0",
             "-device", "virtio-rng-pci"]
    return qemu.qemu_command(ARCH, boot / ("vmlinuz-" + release),
                             boot / ("initrd.img-" + release),
                             " ".join(w for w in (APPEND, append) if w), smp=smp, mem=mem,
                             extra=extra)


def ssh_command(key, port, command=None, mux=None):
    """The host's ssh client, as root on the guest. The guest's host key
    is not checked (it is the cached root's, and the port is new each
    run); BatchMode: a refused key fails instead of asking. `mux`: a
    control socket path; the first command opens one connection there
    and later ones are sessions inside it (a login costs about a second
    of TCG time, a session on an open connection much less)."""
    cmd = ["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes",
           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20"]
    if mux:
        cmd += ["-o", "ControlMaster=auto", "-o", "ControlPath=%s" % mux,
                "-o", "ControlPersist=yes"]
    return cmd + ["root@127.0.0.1"] + ([command] if command else [])


class Session:
    """What a check gets: the console (`s.console`, a qemu.Guest), ssh
    (`s.ssh`, `s.run`), the units as pinit lists them (`s.units()`,
    `s.unit(NAME)`), `s.check(cond, message)`, `s.metric(name, value)`,
    `s.poll(fn, timeout, what)`."""

    def __init__(self, console, key, port, disk):
        self.console = console
        self.key = key
        self.port = port
        self.disk = disk
        self.metrics = {}
        # The control socket: a short path (sun_path has 108 bytes).
        self.muxdir = tempfile.mkdtemp(prefix="pinit-ssh-")
        self.mux = os.path.join(self.muxdir, "mux")

    def close(self):
        """Ends the shared connection (if the guest has not already)."""
        subprocess.run(ssh_command(self.key, self.port, mux=self.mux)[:-1] + ["-O", "exit",
                       "root@127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.muxdir, ignore_errors=True)

    def run(self, command, timeout=60):
        """Runs `command` in the guest's shell over ssh; the
        CompletedProcess (text, stderr folded into stdout)."""
        try:
            return subprocess.run(ssh_command(self.key, self.port, command, self.mux),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("ssh %r: no answer within %ss" % (command, timeout))

    def ssh(self, command, timeout=60):
        """Its output; the check fails if the command does."""
        p = self.run(command, timeout)
        self.check(p.returncode == 0, "ssh %r: exit %d: %s"
                   % (command, p.returncode, p.stdout.strip()))
        return p.stdout

    def popen(self, command):
        """A long-lived ssh session on a connection of its own (its own
        sshd process in the guest; its stdout a pipe), e.g. one that must
        survive something."""
        return subprocess.Popen(ssh_command(self.key, self.port, command),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def units(self):
        """`pinit status --json` over ssh: {name: {unit, kind, state, pid, ...}}."""
        return {u["unit"]: u for u in json.loads(self.ssh("pinit status --json"))}

    def unit(self, name):
        units = self.units()
        self.check(name in units, "no unit %s in pinit status" % name)
        return units[name]

    def poll(self, fn, timeout, what, step=0.5):
        """Calls fn() until it returns something true; that value. Fails
        naming `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("after %ss still waiting for %s" % (timeout, what))
            time.sleep(step)

    def check(self, cond, message):
        if not cond:
            raise AssertionError(message)

    def metric(self, key, value):
        self.metrics[key] = value

    def save(self, name, text):
        """Keeps `text` as target/debian/NAME (what a check saw, for the
        reader of a failure or of the docs)."""
        (qemu.ROOT / "target" / "debian" / name).write_text(text)


def wait_ssh(key, port, timeout, console=None):
    """Tries to log in until it works (True) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if console is not None and console.proc.poll() is not None:
            return False
        try:
            p = subprocess.run(ssh_command(key, port, "true"), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=30)
            if p.returncode == 0:
                return True
        except subprocess.TimeoutExpired:
            pass
        time.sleep(1)
    return False
