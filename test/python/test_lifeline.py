"""lifeline: processes end with Node, whatever they are doing."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

from fakes import PACKAGE_PARENT

TIMEOUT = 10.0
ENV = dict(os.environ, PYTHONPATH=PACKAGE_PARENT, PYTHONDONTWRITEBYTECODE="1")

# Watches the fd given as argv[1], then keeps busy in the ways a page can keep
# a worker alive: a non-daemon thread that never ends, the main thread spinning.
BUSY = """
import sys, threading, time
from pypages_worker import lifeline
lifeline.exit_after_hangup(int(sys.argv[1]), 0.2, 42)
threading.Thread(target=time.sleep, args=(3600,)).start()
print("watching", flush=True)
while True:
    pass
"""
# A parent that starts a child which asks to die with it, prints the child's pid, and waits.
PARENT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE)
print(child.pid, child.stdout.readline().decode().strip(), flush=True)
child.wait()
"""
CHILD = """
import time
from pypages_worker import lifeline
print(lifeline.die_with_parent(), flush=True)
time.sleep(3600)
"""


def alive(pid):
    """True while `pid` runs (a zombie does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_gone(pid, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


class ExitAfterHangup(unittest.TestCase):
    def start(self):
        r, w = os.pipe()
        proc = subprocess.Popen([sys.executable, "-c", BUSY, str(r)], env=ENV, pass_fds=(r,),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(r)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.addCleanup(proc.communicate)
        self.assertEqual(proc.stdout.readline(), b"watching\n")
        return proc, w

    def test_a_busy_process_exits_with_the_code_once_the_fd_hangs_up(self):
        proc, w = self.start()
        os.close(w)
        self.assertEqual(proc.wait(TIMEOUT), 42)
        self.assertIn(b"still running 0.2 s after Node closed the frame channel", proc.stderr.read())

    def test_data_waiting_on_the_fd_does_not_end_it(self):
        proc, w = self.start()
        os.write(w, b"frames nobody reads yet")
        with self.assertRaises(subprocess.TimeoutExpired):
            proc.wait(0.6)  # three times its grace
        os.close(w)
        self.assertEqual(proc.wait(TIMEOUT), 42)
        self.assertIn(b"still running 0.2 s after Node closed the frame channel", proc.stderr.read())


class DieWithParent(unittest.TestCase):
    @unittest.skipUnless(sys.platform.startswith("linux"), "prctl is Linux's")
    def test_the_child_dies_when_its_parent_is_killed(self):
        parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD], env=ENV, stdout=subprocess.PIPE)
        self.addCleanup(lambda: parent.poll() is None and parent.kill())
        self.addCleanup(parent.communicate)
        pid, armed = parent.stdout.readline().decode().split()
        child_pid = int(pid)
        self.assertEqual(armed, "True")  # prctl worked
        self.addCleanup(lambda: alive(child_pid) and os.kill(child_pid, signal.SIGKILL))
        parent.kill()
        self.assertTrue(wait_gone(child_pid), "the child outlived its parent")


class ExitNow(unittest.TestCase):
    def test_exits_with_the_code_even_when_stderr_is_a_broken_pipe(self):
        script = textwrap.dedent("""
            import os, sys
            from pypages_worker import lifeline
            sys.stdin.read()  # until the test has closed our stderr's reader
            lifeline.exit_now(71, "cannot connect")
        """)
        proc = subprocess.Popen([sys.executable, "-c", script], env=ENV, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stderr.close()
        proc.stdin.close()
        self.assertEqual(proc.wait(TIMEOUT), 71)

    def test_writes_the_reason(self):
        script = "from pypages_worker import lifeline; lifeline.exit_now(3, 'the reason')"
        proc = subprocess.run([sys.executable, "-c", script], env=ENV, stderr=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual((proc.returncode, proc.stderr), (3, b"pypages_worker: the reason\n"))


if __name__ == "__main__":
    unittest.main()
