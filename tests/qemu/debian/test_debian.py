"""Host tests of the Debian system test's driver: the cache key, the
table the checks compose, which checks run, the ssh command line."""

import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import checks as C  # noqa: E402
import guest  # noqa: E402
import root  # noqa: E402

BASE = """service sshd ready=notify -- /usr/sbin/sshd -D -e
service sshd2 -- /usr/sbin/sshd -D -p 2222
task    network -- /bin/true
"""


class Key(unittest.TestCase):
    def test_key_follows_packages_suite_and_recipe(self):
        k = root.key(("a", "b"))
        self.assertEqual(k, root.key(("b", "a")))          # order does not matter
        self.assertTrue(k.startswith(root.SUITE + "-"))
        self.assertNotEqual(k, root.key(("a", "b", "c")))
        self.assertNotEqual(k, root.key(("a", "b"), suite="trixie"))
        self.assertNotEqual(k, root.key(("a", "b"), recipe=root.RECIPE + 1))


class Table(unittest.TestCase):
    def test_options_go_after_the_unit_name_only(self):
        c = C.Check("x", "", None, options={"sshd": "kill=main"})
        out = C.table(BASE, [c])
        self.assertIn("service sshd kill=main ready=notify --", out)
        self.assertIn("service sshd2 -- /usr/sbin/sshd", out)

    def test_lines_are_appended_with_the_check_named(self):
        c = C.Check("y", "", None, table="task extra -- /bin/true\n")
        out = C.table(BASE, [c])
        self.assertTrue(out.startswith(BASE))
        self.assertTrue(out.endswith("# added by check y\ntask extra -- /bin/true\n"))

    def test_an_unknown_unit_is_an_error(self):
        with self.assertRaises(ValueError):
            C.table(BASE, [C.Check("z", "", None, options={"nosuch": "kill=main"})])

    def test_the_real_table_takes_every_check(self):
        text = (HERE.parents[2] / "board-configs" / "debian-root.conf").read_text()
        C.table(text, C.CHECKS)
        for name in list(C.SERVICES) + list(C.TASKS):
            self.assertRegex(text, r"(?m)^(service|task|tty)\s+%s\s" % name)


class Select(unittest.TestCase):
    def test_pending_checks_are_skipped_unless_asked(self):
        # Every check of today has landed: one pending check is added here.
        later = C.Check("later", "a feature to come", None, pending="not built yet")
        C.CHECKS.insert(0, later)
        try:
            run, skipped = C.select()
            self.assertEqual(skipped, [later])
            self.assertFalse(any(c.pending for c in run))
            run, skipped = C.select(pending=True)
            self.assertEqual(skipped, [])
            self.assertEqual(run, C.CHECKS)
        finally:
            C.CHECKS.remove(later)

    def test_a_name_selects_it_and_the_ones_that_always_run(self):
        run, _ = C.select(["redis-kill"])
        self.assertEqual([c.name for c in run], ["redis-kill", "poweroff", "e2fsck"])

    def test_poweroff_and_e2fsck_come_last(self):
        self.assertEqual([c.name for c in C.CHECKS[-2:]], ["poweroff", "e2fsck"])
        self.assertEqual(len({c.name for c in C.CHECKS}), len(C.CHECKS))


class Ssh(unittest.TestCase):
    def test_loopback_only_and_no_prompts(self):
        cmd = guest.ssh_command("/k", 2222, "true")
        self.assertEqual(cmd[-2:], ["root@127.0.0.1", "true"])
        self.assertIn("BatchMode=yes", cmd)

    def test_hostfwd_binds_loopback(self):
        cmd = guest.qemu_command("/r", "6.1", "/d.img", 2222)
        net = cmd[cmd.index("-netdev") + 1]
        self.assertIn("hostfwd=tcp:127.0.0.1:2222-:22", net)
        self.assertIn("-accel", cmd)
        self.assertEqual(cmd[cmd.index("-accel") + 1], "tcg")


if __name__ == "__main__":
    unittest.main()
