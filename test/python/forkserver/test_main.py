"""A real `python -m pypages_worker.forkserver`, driven the way Node drives it."""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import unittest

from pypages_worker import exits, protocol
from pypages_worker.forkserver import zygote
from pypages_worker.forkserver.control import decode_event
from pypages_worker.protocol import FrameReader, encode

from fakes import PACKAGE_PARENT, high_dup

TIMEOUT = 10.0
TOKEN = "0123456789abcdef0123456789abcdef"

PAGE = """
import os, sys
def application(environ, start_response):
    print("printed by the page")
    sys.stdout.flush()
    sys.stderr.write("reported by the page\\n")
    start_response("200 OK", [("Content-Type", "application/json")])
    import json
    return [json.dumps({"cwd": os.getcwd(), "env": os.environ.get("PYPAGES_FS_TEST"), "ppid": os.getppid(),
                        "preloaded": "xml.dom.minidom" in sys.modules, "argv0": sys.argv[0]}).encode()]
"""
NAPS = """
import time
def application(environ, start_response):
    time.sleep(0.5)
    start_response("200 OK", [])
    return [b"slept"]
"""
THREADER = "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"


def command(**overrides):
    cmd = {"cmd": "fork", "token": TOKEN, "cwd": "/", "env": {}, "argv": ["--root", "/"]}
    cmd.update(overrides)
    return json.dumps(cmd).encode()


def wait_readable(fd, what):
    if not select.select([fd], [], [], TIMEOUT)[0]:
        raise TimeoutError("nothing from %s for %s s" % (what, TIMEOUT))


class Zygote(unittest.TestCase):
    """A real `python -m pypages_worker.forkserver`, with this test as Node."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pypages-fs-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.root = os.path.join(self.dir, "root")
        os.mkdir(self.root)
        self.path = os.path.join(self.dir, "workers.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self.addCleanup(self.listener.close)
        self.events = b""

    def start(self, *preload, extra_path=None):
        to_r, to_w = map(high_dup, os.pipe())
        from_r, from_w = map(high_dup, os.pipe())

        def child_fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)
        path = PACKAGE_PARENT + (os.pathsep + extra_path if extra_path else "")
        env = dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
        args = [sys.executable, "-u", "-m", "pypages_worker.forkserver", "--socket", self.path]
        for module in preload:
            args += ["--preload", module]
        self.zygote = subprocess.Popen(args, cwd=self.dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, close_fds=False, preexec_fn=child_fds)
        os.close(to_r)
        os.close(from_w)
        self.control, self.from_zygote = to_w, from_r
        self.addCleanup(self.stop)

    def stop(self):
        for fd in (self.control, self.from_zygote):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.zygote.poll() is None:
            self.zygote.kill()
        self.zygote.communicate()

    def event(self):
        while b"\n" not in self.events:
            wait_readable(self.from_zygote, "the zygote")
            data = os.read(self.from_zygote, 65536)
            self.assertTrue(data, "the zygote closed fd 4")
            self.events += data
        line, self.events = self.events.split(b"\n", 1)
        return decode_event(line)  # every event the zygote writes must be one of the spec

    def fork(self, **overrides):
        """Send a fork command; return (pid, frames socket, stdout socket, stderr socket)."""
        os.write(self.control, command(**overrides) + b"\n")
        forked = self.event()
        self.assertEqual((forked["event"], forked["token"]), ("forked", TOKEN))
        self.assertEqual(forked["start"], zygote.start_time(forked["pid"]))  # names this very process
        self.assertIsInstance(forked["start"], int)
        conns = {}
        for _ in range(3):
            wait_readable(self.listener.fileno(), "a forked child")
            conn, _ = self.listener.accept()
            self.addCleanup(conn.close)
            conn.settimeout(TIMEOUT)
            head = b""
            while len(head) < 33:
                head += conn.recv(33 - len(head))
            self.assertEqual(head[:32].decode(), TOKEN)
            conns[head[32:]] = conn
        return forked["pid"], conns[b"F"], conns[b"O"], conns[b"E"]

    def test_ready_fork_request_exit(self):
        self.start("xml.dom.minidom", "no_such_module_pypages")
        ready = self.event()
        self.assertEqual((ready["event"], ready["pid"]), ("ready", self.zygote.pid))
        self.assertEqual((ready["preloaded"], ready["failed"]), (["xml.dom.minidom"], ["no_such_module_pypages"]))
        page = os.path.join(self.root, "page.py")
        with open(page, "w") as f:
            f.write(textwrap.dedent(PAGE))
        pid, frames, output, errors = self.fork(cwd=self.root, env={"PYPAGES_FS_TEST": "yes"},
                                                argv=["--root", self.root, "--threads", "1"])
        reader = FrameReader(frames.makefile("rb"))
        hello = reader.read()
        self.assertEqual((hello.type, protocol.load_json(hello.payload)["pid"]), (protocol.READY, pid))
        frames.sendall(encode(protocol.REQUEST, 1, protocol.dump_json(
            {"script": page, "environ": {"REQUEST_METHOD": "GET"}, "body": False, "window": 65536})))
        body = b""
        for frame in iter(reader.read, None):
            body += frame.payload if frame.type == protocol.RESPONSE_BODY else b""
            if frame.type in (protocol.END, protocol.ERROR):
                break
        seen = json.loads(body.decode())
        self.assertEqual((seen["cwd"], seen["env"], seen["ppid"], seen["preloaded"]),
                         (self.root, "yes", self.zygote.pid, True))
        self.assertTrue(seen["argv0"].endswith(os.path.join("pypages_worker", "__main__.py")))
        self.assertEqual(output.recv(4096), b"printed by the page\n")  # stdout and stderr apart
        self.assertEqual(errors.recv(4096), b"reported by the page\n")
        frames.shutdown(socket.SHUT_WR)  # end of fd 3: the worker exits 0
        self.assertEqual(self.event(), {"event": "exit", "pid": pid, "code": 0, "signal": None})

    def test_stop_signals_to_the_group_leave_the_zygote_and_its_workers_running(self):
        # systemd (KillMode=control-group) or `kill -TERM -PGID` signal them with Node.
        self.start()
        self.assertEqual(self.event()["event"], "ready")
        page = os.path.join(self.root, "naps.py")
        with open(page, "w") as f:
            f.write(NAPS)
        pid, frames, _, _ = self.fork(cwd=self.root, argv=["--root", self.root])
        reader = FrameReader(frames.makefile("rb"))
        self.assertEqual(reader.read().type, protocol.READY)
        frames.sendall(encode(protocol.REQUEST, 1, protocol.dump_json(
            {"script": page, "environ": {}, "body": False, "window": 65536})))
        self.assertEqual(reader.read().type, protocol.WATCH)  # the request is running
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            os.kill(self.zygote.pid, signum)
            os.kill(pid, signum)
        got = [reader.read() for _ in range(3)]
        self.assertEqual([(f.type, f.payload) for f in got[1:]],
                         [(protocol.RESPONSE_BODY, b"slept"), (protocol.END, b'{"complete":true}')])
        frames.shutdown(socket.SHUT_WR)  # Node closes fd 3: now the worker exits
        self.assertEqual(self.event(), {"event": "exit", "pid": pid, "code": 0, "signal": None})
        os.close(self.control)
        self.assertEqual(self.zygote.wait(TIMEOUT), 0)

    def test_kill_bad_command_bad_cwd_and_end_of_control(self):
        self.start()
        self.assertEqual(self.event()["event"], "ready")
        pid, _, _, _ = self.fork(argv=["--root", self.root])
        os.kill(pid, signal.SIGKILL)
        self.assertEqual(self.event(), {"event": "exit", "pid": pid, "code": None, "signal": "SIGKILL"})
        os.write(self.control, b'{"cmd": "fork"}\n')  # ignored, logged
        pid, _, _, errors = self.fork(cwd=os.path.join(self.dir, "missing"))
        self.assertEqual(self.event(), {"event": "exit", "pid": pid, "code": exits.CHILD_SETUP, "signal": None})
        self.assertIn(b"cannot change to the working directory", errors.recv(4096))
        os.close(self.control)
        self.assertEqual(self.zygote.wait(TIMEOUT), 0)
        self.assertIn(b"bad command from Node", self.zygote.stderr.read())

    def test_answers_pings_in_order_and_ignores_a_bad_one(self):
        self.start()
        self.assertEqual(self.event()["event"], "ready")
        os.write(self.control, b'{"cmd": "ping", "id": 1}\n{"cmd": "ping", "id": "two"}\n{"cmd": "ping", "id": 3}\n')
        self.assertEqual([self.event(), self.event()], [{"event": "pong", "id": 1}, {"event": "pong", "id": 3}])
        os.close(self.control)
        self.assertEqual(self.zygote.wait(TIMEOUT), 0)
        self.assertIn(b"a ping's id must be an integer", self.zygote.stderr.read())

    def test_a_child_forked_as_node_goes_away_exits_at_once(self):
        # Node gone: nothing listens on its socket, and the zygote's stderr is a broken pipe.
        self.start()
        self.assertEqual(self.event()["event"], "ready")
        self.listener.close()
        os.unlink(self.path)
        self.zygote.stderr.close()
        os.write(self.control, command(argv=["--root", self.root]) + b"\n")
        forked = self.event()
        self.assertEqual(forked["event"], "forked")
        self.assertEqual(self.event(),
                         {"event": "exit", "pid": forked["pid"], "code": exits.CHILD_SETUP, "signal": None})

    def test_refuses_to_fork_when_a_preloaded_module_started_a_thread(self):
        with open(os.path.join(self.dir, "pypages_threader.py"), "w") as f:
            f.write(THREADER)
        self.start("pypages_threader", extra_path=self.dir)
        self.assertEqual(self.zygote.wait(TIMEOUT), exits.THREADS)
        self.assertIn(b"cannot fork safely", self.zygote.stderr.read())


if __name__ == "__main__":
    unittest.main()
