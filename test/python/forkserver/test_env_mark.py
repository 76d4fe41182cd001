"""env_mark: a forked worker's mark written over the placeholder in its exec-time
environment block, where /proc/PID/environ (and the processes it forks) see it."""

import os
import subprocess
import sys
import unittest

from fakes import PACKAGE_PARENT

PROBE = r"""
import os, sys
from pypages_worker.forkserver import env_mark
ok = env_mark.write_in_place("PYPAGES_WORKER", sys.argv[1])
pid = os.fork()
if pid == 0:
    with open("/proc/self/environ", "rb") as f:
        os.write(1, f.read())
    os._exit(0)
os.waitpid(pid, 0)
sys.stderr.write(str(ok))
"""


def run(value, placeholder="." * 24):
    env = dict(os.environ, PYPAGES_WORKER=placeholder, PYTHONPATH=PACKAGE_PARENT)
    done = subprocess.run([sys.executable, "-c", PROBE, value], env=env, capture_output=True, timeout=30)
    return done.stderr.decode(), done.stdout.split(b"\0")


@unittest.skipUnless(os.path.exists("/proc/self/environ"), "Linux only")
class WriteInPlace(unittest.TestCase):
    def test_a_forked_child_shows_the_mark_in_its_environ(self):
        ok, environ = run("123-4" + "." * 19)
        self.assertEqual(ok, "True")
        self.assertIn(b"PYPAGES_WORKER=123-4" + b"." * 19, environ)
        self.assertNotIn(b"PYPAGES_WORKER=" + b"." * 24, environ)

    def test_a_mark_of_another_width_is_refused_and_nothing_changes(self):
        ok, environ = run("123-4")
        self.assertEqual(ok, "False")
        self.assertIn(b"PYPAGES_WORKER=" + b"." * 24, environ)


if __name__ == "__main__":
    unittest.main()
