"""End to end: a real `python -u -m pypages_worker` with frame pipes on fds 3 and 4."""

import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from pypages_worker import exits, protocol
from pypages_worker.protocol import FrameReader, encode

from fakes import PACKAGE_PARENT, TimedFd, high_dup

TIMEOUT = 10.0

HELLO = """
def application(environ, start_response):
    print("printed by hello")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, " + environ["PATH_INFO"].encode("latin-1")]
"""
ECHO = """
def application(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""
HELPER = """
open({marker!r}, "w").close()
def helper():
    return 1
"""
IMPORTS_CWD = """
import only_in_cwd
application = only_in_cwd.app
"""
SLOW = """
import time
def application(environ, start_response):
    time.sleep(60)
"""

NAPS = """
import time
def application(environ, start_response):
    time.sleep(0.5)
    start_response("200 OK", [])
    return [b"slept"]
"""
LAZY = """
def application(environ, start_response):
    import lazyhelper_edited
    start_response("200 OK", [])
    return [b"ok"]
"""
# Edits itself (a different size) after the import read it, before the WATCH report.
SELF_EDITING = """
with open(__file__, "a") as f:
    f.write("# edited while its first request ran\\n")
"""
COMPUTES = """
import time
def application(environ, start_response):
    end = time.monotonic() + 1.0
    while time.monotonic() < end:  # holds the GIL but for the interpreter's switches
        pass
    start_response("200 OK", [])
    return [b"computed"]
"""
WHICH_THREAD = """
import threading
def application(environ, start_response):
    start_response("200 OK", [])
    return [str(threading.current_thread() is threading.main_thread()).encode()]
"""
# Leaves a thread behind that the interpreter's exit would wait for, for ever (a page's thread
# is a daemon by default: it inherits that from the request thread).
LEAVES_A_THREAD = """
import threading, time
def application(environ, start_response):
    threading.Thread(target=time.sleep, args=(3600,), name="left-behind", daemon=False).start()
    start_response("200 OK", [])
    return [b"left"]
"""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# What a page's children see: a process it starts (exec) and one it forks.
CHILD_SIGNALS = r"""
import os, signal, subprocess, sys
SHOW = (
    "import signal\n"
    "def name(h):\n"
    "    if h is signal.default_int_handler: return 'pythons'\n"
    "    return {signal.SIG_DFL: 'default', signal.SIG_IGN: 'ignored'}.get(h, 'caught')\n"
    "SEEN = ' '.join(name(signal.getsignal(s)) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP))\n")

def forked():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        namespace = {}
        exec(SHOW, namespace)
        os.write(w, namespace["SEEN"].encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    return os.read(r, 4096).decode()

def application(environ, start_response):
    spawned = subprocess.run([sys.executable, "-c", SHOW + "print(SEEN)"], stdout=subprocess.PIPE).stdout
    start_response("200 OK", [])
    return [spawned.strip() + b"|" + forked().encode()]
"""


class WorkerProcess(unittest.TestCase):
    def setUp(self):
        self.root = os.path.realpath(tempfile.mkdtemp(prefix="pypages-root-"))
        self.cwd = os.path.realpath(tempfile.mkdtemp(prefix="pypages-cwd-"))
        for folder in (self.root, self.cwd):
            self.addCleanup(shutil.rmtree, folder)
        self.proc = self.spawn()
        self.ready = self.next_frame()

    def spawn(self):
        to_r, to_w = map(high_dup, os.pipe())
        from_r, from_w = map(high_dup, os.pipe())

        def child_fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)
        env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pypages_worker", "--root", self.root, "--threads", "2"],
            cwd=self.cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, close_fds=False, preexec_fn=child_fds)
        os.close(to_r)
        os.close(from_w)
        self.to_worker, self.from_worker = to_w, from_r
        self.reader = FrameReader(TimedFd(from_r, TIMEOUT))
        self.addCleanup(self.stop, proc)
        return proc

    def stop(self, proc):
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def send(self, type_, id_, payload=b""):
        os.write(self.to_worker, encode(type_, id_, payload))

    def next_frame(self):
        frame = self.reader.read()
        self.assertIsNotNone(frame, "the worker closed fd 4")
        return frame

    def request(self, id_, script, body=None, **environ):
        cgi = dict({"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/x.py", "PATH_INFO": ""}, **environ)
        self.send(protocol.REQUEST, id_, protocol.dump_json(
            {"script": script, "environ": cgi, "body": body is not None, "window": 65536}))
        return self.exchange(id_, body)

    def exchange(self, id_, body):
        """Answer READs from `body`; return the request's frames up to its terminal one."""
        frames = []
        while True:
            frame = self.next_frame()
            frames.append(frame)
            if frame.type == protocol.READ:
                n = protocol.read_uint32(frame.payload)
                self.send(protocol.BODY, id_, body[:n])
                body = body[n:]
            if frame.id == id_ and frame.type in (protocol.END, protocol.ERROR):
                return frames

    def page(self, name, source, folder=None):
        path = os.path.join(folder or self.root, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(source))
        return path

    def test_ready_handshake(self):
        self.assertEqual(self.ready.type, protocol.READY)
        info = protocol.load_json(self.ready.payload)
        self.assertEqual(info["pid"], self.proc.pid)
        self.assertEqual(info["protocol"], 2)
        self.assertEqual(info["python"], platform.python_version())
        self.assertEqual(info["executable"], sys.executable)

    def test_hello_world(self):
        script = self.page("hello.py", HELLO)
        frames = self.request(1, script, PATH_INFO="/a/b")
        names = [protocol.NAMES[f.type] for f in frames]
        self.assertEqual(names, ["WATCH", "START", "BODY", "END"])
        watch = protocol.load_json(frames[0].payload)["files"]
        st = os.stat(script)
        self.assertEqual(watch, [[script, str(st.st_mtime_ns), st.st_size]])
        self.assertEqual(protocol.load_json(frames[1].payload),
                         {"status": "200 OK", "headers": [["Content-Type", "text/plain"]]})
        self.assertEqual(frames[2].payload, b"Hello, /a/b")
        self.assertEqual(protocol.load_json(frames[3].payload), {"complete": True})
        self.send(protocol.CREDIT, 1, protocol.uint32(11))  # late credit is harmless
        self.assertEqual([protocol.NAMES[f.type] for f in self.request(2, script)], ["START", "BODY", "END"])
        self.assertIn(b"printed by hello\n", self.finish()[0])

    def test_request_body_is_pulled_with_read(self):
        body = os.urandom(200000)
        frames = self.request(7, self.page("echo.py", ECHO), body=body)
        self.assertEqual(b"".join(f.payload for f in frames if f.type == protocol.RESPONSE_BODY), body)
        self.assertEqual(frames[-1].type, protocol.END)

    def test_two_requests_in_flight_are_routed_by_id(self):
        echo, hello = self.page("echo.py", ECHO), self.page("hello.py", HELLO)
        self.send(protocol.REQUEST, 10, protocol.dump_json(
            {"script": echo, "environ": {}, "body": True, "window": 65536}))
        read = self.next_frame()
        while read.type == protocol.WATCH:
            read = self.next_frame()
        self.assertEqual((read.type, read.id), (protocol.READ, 10))  # request 10 now waits for its body
        frames = self.request(11, hello)
        self.assertEqual(frames[-1].type, protocol.END)
        self.send(protocol.BODY, 10, b"late body")
        frames = self.exchange(10, b"")
        self.assertEqual([f.payload for f in frames if f.type == protocol.RESPONSE_BODY], [b"late body"])

    def test_not_a_page_is_404_and_never_executed(self):
        marker = os.path.join(self.cwd, "executed")
        frames = self.request(3, self.page("helper.py", HELPER.format(marker=marker)))
        self.assertEqual(len(frames), 1)
        error = protocol.load_json(frames[0].payload)
        self.assertEqual((frames[0].type, error["status"], error["kind"]), (protocol.ERROR, 404, "not-page"))
        self.assertFalse(os.path.exists(marker))

    def test_syntax_error_is_500_load(self):
        frames = self.request(4, self.page("broken.py", "def application(:\n"))
        error = protocol.load_json(frames[-1].payload)
        self.assertEqual((error["status"], error["kind"]), (500, "load"))
        self.assertIn("SyntaxError", error["traceback"])

    def test_the_cwd_is_not_importable(self):
        self.page("only_in_cwd.py", "app = None\n", folder=self.cwd)
        frames = self.request(5, self.page("uses_cwd.py", IMPORTS_CWD))
        error = protocol.load_json(frames[-1].payload)
        self.assertEqual((error["status"], error["kind"]), (500, "load"))
        self.assertIn("ModuleNotFoundError", error["message"])

    def test_ping_pong(self):
        self.send(protocol.PING, 0, b"are you there")
        pong = self.next_frame()
        self.assertEqual((pong.type, pong.id, pong.payload), (protocol.PONG, 0, b"are you there"))

    def test_unknown_frame_is_logged_and_ignored(self):
        self.send(0x7F, 9, b"?")
        self.send(protocol.PING, 0, b"still here")
        self.assertEqual(self.next_frame().payload, b"still here")
        self.assertIn(b"unknown frame type 0x7f", self.finish()[1])

    def test_eof_on_fd3_exits_0_within_a_second(self):
        self.assertEqual(self.finish(timeout=1.0)[2], 0)

    def test_eof_with_a_stuck_request_still_exits_quickly(self):
        self.send(protocol.REQUEST, 8, protocol.dump_json(
            {"script": self.page("slow.py", SLOW), "environ": {}, "body": False, "window": 1}))
        self.assertEqual(self.next_frame().type, protocol.WATCH)  # it is running now
        started = time.monotonic()
        self.assertEqual(self.finish(timeout=2.0)[2], 0)
        self.assertLess(time.monotonic() - started, 2.0)

    def test_a_helper_edited_after_its_import_read_it_is_watched_with_the_stat_before(self):
        helper = self.page("lazyhelper_edited.py", SELF_EDITING)
        before = os.stat(helper)
        script = self.page("lazy.py", LAZY)
        frames = self.request(14, script)
        self.assertNotEqual(os.stat(helper).st_size, before.st_size)  # it did edit itself
        watch = protocol.load_json([f for f in frames if f.type == protocol.WATCH][-1].payload)["files"]
        self.assertIn([helper, str(before.st_mtime_ns), before.st_size], watch)

    def test_stop_signals_to_the_group_leave_requests_running(self):
        # systemd (KillMode=control-group) or `kill -TERM -PGID` signal Node and the
        # workers at once; Node finishes requests in flight, then closes fd 3.
        self.send(protocol.REQUEST, 12, protocol.dump_json(
            {"script": self.page("naps.py", NAPS), "environ": {}, "body": False, "window": 65536}))
        self.assertEqual(self.next_frame().type, protocol.WATCH)  # it is running now
        for signum in STOP_SIGNALS:
            os.kill(self.proc.pid, signum)
        frames = self.exchange(12, b"")
        self.assertEqual(frames[-1].type, protocol.END, [protocol.NAMES[f.type] for f in frames])
        self.assertEqual(b"".join(f.payload for f in frames if f.type == protocol.RESPONSE_BODY), b"slept")
        self.send(protocol.PING, 0, b"still here")
        self.assertEqual(self.next_frame().payload, b"still here")
        self.assertIsNone(self.proc.poll())
        self.assertEqual(self.finish()[2], 0)  # and it still exits when fd 3 closes

    def test_a_pages_child_processes_get_the_default_stop_signals(self):
        frames = self.request(13, self.page("children.py", CHILD_SIGNALS))
        body = b"".join(f.payload for f in frames if f.type == protocol.RESPONSE_BODY).decode()
        # SIGTERM, SIGINT, SIGHUP as in a process Python started afresh: exec'd and forked alike.
        self.assertEqual(body.split("|"), ["default pythons default"] * 2)

    def start_request(self, id_, script):
        """Send a REQUEST and wait until it runs (its first WATCH)."""
        self.send(protocol.REQUEST, id_, protocol.dump_json(
            {"script": script, "environ": {}, "body": False, "window": 65536}))
        self.assertEqual(self.next_frame().type, protocol.WATCH)

    def frames_until(self, done):
        """Read frames until done(frame) is true; returns them all."""
        frames = [self.next_frame()]
        while not done(frames[-1]):
            frames.append(self.next_frame())
        return frames

    def test_ping_is_answered_while_pages_compute_or_sleep(self):
        for id_, script in ((20, self.page("computes.py", COMPUTES)), (21, self.page("naps.py", NAPS))):
            self.start_request(id_, script)
            started = time.monotonic()
            self.send(protocol.PING, 0, b"%d" % id_)
            frames = self.frames_until(lambda f: f.type == protocol.PONG or f.type == protocol.END)
            self.assertEqual((frames[-1].type, frames[-1].payload), (protocol.PONG, b"%d" % id_))
            self.assertLess(time.monotonic() - started, 0.3, "PONG only came after the page")
            frames = self.frames_until(lambda f: f.type == protocol.END)
            self.assertEqual(frames[-1].id, id_)

    def test_a_request_behind_a_blocking_one_starts_at_once(self):
        self.start_request(22, self.page("naps.py", NAPS))  # sleeps 0.5 s
        started = time.monotonic()
        frames = self.request(23, self.page("which.py", WHICH_THREAD))
        self.assertLess(time.monotonic() - started, 0.3)
        self.assertEqual(frames[-1].type, protocol.END)
        self.assertEqual(self.frames_until(lambda f: f.type == protocol.END)[-1].id, 22)

    def test_pages_never_run_on_the_main_thread(self):
        script = self.page("which.py", WHICH_THREAD)
        for id_ in (24, 25):
            frames = self.request(id_, script)
            self.assertEqual(b"".join(f.payload for f in frames if f.type == protocol.RESPONSE_BODY), b"False")

    @unittest.skipUnless(os.path.isdir("/proc/self/task"), "needs Linux's /proc")
    def test_an_idle_worker_never_wakes(self):
        script = self.page("hello.py", HELLO)
        for id_ in range(30, 40):  # the monitor has been woken
            self.request(id_, script)
        time.sleep(0.1)  # it parks within a few ms of the last request
        before = self.context_switches()
        time.sleep(0.5)
        self.assertEqual(self.context_switches(), before)

    def context_switches(self):
        """Each thread of the worker: its voluntary and involuntary context switches so far."""
        counts = {}
        task = "/proc/%d/task" % self.proc.pid
        for tid in os.listdir(task):
            with open(os.path.join(task, tid, "status")) as f:
                counts[tid] = [line for line in f if "ctxt_switches" in line]
        return counts

    def test_a_worker_that_cannot_end_on_its_own_is_ended_after_its_lifeline(self):
        frames = self.request(1, self.page("leaves.py", LEAVES_A_THREAD))
        self.assertEqual(frames[-1].type, protocol.END)
        _, err, code = self.finish(timeout=TIMEOUT)
        self.assertEqual(code, exits.LINGERED)
        self.assertIn(b"still running 1.5 s after Node closed the frame channel", err)

    def finish(self, timeout=5.0):
        """Close fd 3; return (stdout, stderr, exit code)."""
        os.close(self.to_worker)
        self.to_worker = -1
        out, err = self.proc.communicate(timeout=timeout)
        return out, err, self.proc.returncode


class NodeGone(unittest.TestCase):
    """Node died: its end of a socket channel reset, the worker's stderr a broken pipe."""

    def test_the_worker_exits_even_though_it_cannot_log_why(self):
        node, worker_end = socket.socketpair()
        channel = high_dup(os.dup(worker_end.fileno()))
        worker_end.close()
        err_r, err_w = os.pipe()
        err_w = high_dup(err_w)

        def child_fds():
            os.dup2(channel, 3)
            os.dup2(channel, 4)
            os.dup2(err_w, 2)
        env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT, PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.Popen([sys.executable, "-u", "-m", "pypages_worker", "--root", tempfile.gettempdir()],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                close_fds=False, preexec_fn=child_fds)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        os.close(channel)
        os.close(err_w)
        node.settimeout(TIMEOUT)
        self.assertTrue(node.recv(1))  # READY is on its way: the worker runs
        os.close(err_r)  # what logging writes to is gone...
        node.close()  # ...and Node with unread data: the worker's read fails with ECONNRESET
        self.assertEqual(proc.wait(TIMEOUT), exits.PROTOCOL)


if __name__ == "__main__":
    unittest.main()
