"""The fork server ("zygote"): a warm interpreter that forks new workers.

Started by Node (lib/forkserver.ts) as
``python -u -m pypages_worker.forkserver --socket PATH [--preload MODULE]...``.
It imports the worker runtime and the shared-preload modules once; each new
worker is then a fork of it, so it starts in about a millisecond and shares
those modules' memory with every other worker copy-on-write.

Control channel, one JSON object per line (ASCII: no raw newline inside),
handled strictly in order:
  Node -> zygote, fd 3: {"cmd": "fork", "token": str, "cwd": str, "env": {str: str}, "argv": [str]}
                        {"cmd": "ping", "id": int}
  zygote -> Node, fd 4: {"event": "ready", "pid", "python", "executable", "preloaded", "failed"}
                        {"event": "forked", "token", "pid", "start"}
                        {"event": "fork-failed", "token", "error"}
                        {"event": "pong", "id"}                      (the ping's id)
                        {"event": "exit", "pid", "code", "signal"}   (one of code/signal is null)
"start" is the child's start time, field 22 of /proc/PID/stat (clock ticks
since boot), read before the zygote can have reaped it, or null without
/proc: with the pid it names the process, so that Node never signals a
process that reused the pid of a dead worker. A command that is not valid
is logged and ignored. Node pings every half second: a zygote that does not
answer (frozen, stuck) is killed and replaced.

The zygote exits when fd 3 reaches end of file (Node went away), and is
killed by the kernel if Node dies (lifeline.py); its forked workers outlive
it and end with Node on their own.

A forked child connects twice to Node's Unix socket at PATH, each time first
writing its token and one letter: "F" for the frame stream (dup2'd onto fds 3
and 4: a Unix socket carries both directions) and "O" for its output (dup2'd
onto fds 1 and 2). Then it runs the normal worker, main.main(argv).

The zygote never starts a thread: fork() copies only the calling thread, so a
lock another thread held at that moment would stay locked in every child.

What a fork shares that a spawn would not: the hash seed of str/bytes (it is
chosen at interpreter start; PYTHONHASHSEED), and whatever the shared-preload
modules computed at import. `random` reseeds itself in a child (3.7+), and
os.urandom, uuid, secrets, tempfile and OpenSSL are fork-aware.
"""

import argparse
import gc
import importlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import selectors
import signal
import socket
import sys
import threading
import time

from .. import exits, imports, lifeline, loader, log, page_source, signals
from .. import main as worker_main  # imports the whole runtime: request, loader, wsgi, channel, streams
from ..errors import describe

CONTROL_IN, CONTROL_OUT = 3, 4
TOKEN_LENGTH = 32  # hex characters
FRAMES, OUTPUT = b"F", b"O"
MAX_LINE = 16 * 1024 * 1024  # a command longer than this is a broken peer, not a big env


def parse_args(argv=None):
    """Return the parsed command line (--socket, --preload)."""
    parser = argparse.ArgumentParser(prog="pypages_worker.forkserver", description="pypages fork server")
    parser.add_argument("--socket", required=True, help="Node's Unix socket that forked workers connect to")
    parser.add_argument("--preload", action="append", default=[], help="module to import once, shared (repeatable)")
    return parser.parse_args(argv)


def preload(modules):
    """Import each module now so every child shares it; returns (imported, failed). Failures are only logged."""
    imported, failed = [], []
    for name in modules:
        try:
            importlib.import_module(name)
            imported.append(name)
        except BaseException as err:  # SystemExit or a broken package must not stop the server
            log("shared-preload of %s failed: %s" % (name, describe(err)[0]))
            failed.append(name)
    return imported, failed


def extra_threads():
    """Return (names of Python threads besides the main one, how many native threads besides those).

    Native threads are counted on Linux only. A thread just joined can linger
    in /proc/self/task for a moment: it is given a few milliseconds to go.
    """
    names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    native = 0
    for _ in range(20):
        try:
            native = len(os.listdir("/proc/self/task")) - 1 - len(names)
        except OSError:
            break
        if native <= 0:
            break
        time.sleep(0.005)
    return names, max(0, native)


def safe_to_fork():
    """False (and logged) if Python threads run besides the main one; native threads are only noted."""
    threads, native = extra_threads()
    if threads:  # Python code runs in them: a lock one of them holds at a fork stays locked in the child
        log("cannot fork safely: the shared-preload modules started threads (%s)" % ", ".join(threads))
        return False
    if native:  # a C library's pool (e.g. OpenBLAS): such libraries guard their own state at fork
        log("note: %d native thread(s) run in the fork server; workers do not inherit them" % native)
    return True


def parse_command(line):
    """Return a fork or ping command as a dict with checked types; raises ValueError otherwise."""
    cmd = json.loads(line.decode("utf-8"))
    if isinstance(cmd, dict) and cmd.get("cmd") == "ping":
        if not isinstance(cmd.get("id"), int) or isinstance(cmd.get("id"), bool):
            raise ValueError("a ping's id must be an integer")
        return cmd
    if not isinstance(cmd, dict) or cmd.get("cmd") != "fork":
        raise ValueError("not a fork or ping command")
    token, cwd, env, argv = cmd.get("token"), cmd.get("cwd"), cmd.get("env"), cmd.get("argv")
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH or not token.isalnum() or not token.isascii():
        raise ValueError("token must be %d letters or digits" % TOKEN_LENGTH)
    if not isinstance(cwd, str) or not os.path.isabs(cwd):
        raise ValueError("cwd must be an absolute path")
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ValueError("env must map str to str")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ValueError("argv must be a list of str")
    return cmd


def exit_event(pid, status):
    """The 'exit' event for a waitpid() status: a code, or the signal's name as Node spells it."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "SIG%d" % number
        return {"event": "exit", "pid": pid, "code": None, "signal": name}
    return {"event": "exit", "pid": pid, "code": os.WEXITSTATUS(status), "signal": None}


class Zygote:
    """The loop: fork on command, report pids and exits. Single-threaded by design."""

    def __init__(self, control_in=CONTROL_IN, control_out=CONTROL_OUT):
        self.control_in, self.control_out = control_in, control_out
        self.buffer = b""
        self.running = True
        self.wake_r, self.wake_w = os.pipe()  # non-inheritable since 3.4
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)  # set_wakeup_fd requires it; a full pipe must not block a signal
        self.selector = selectors.DefaultSelector()

    def start(self):
        """Watch fd 3 and SIGCHLD. A signal only wakes the loop (gunicorn's rule): the loop acts."""
        signal.signal(signal.SIGCHLD, _wake_only)  # a Python handler, or the wakeup fd is never written
        signal.set_wakeup_fd(self.wake_w)
        self.selector.register(self.control_in, selectors.EVENT_READ, self.on_control)
        self.selector.register(self.wake_r, selectors.EVENT_READ, self.on_wake)

    def send(self, event):
        """Write one event line to Node; if Node is gone, stop serving."""
        data = memoryview(json.dumps(event, separators=(",", ":")).encode("ascii") + b"\n")
        try:
            while data:
                data = data[os.write(self.control_out, data):]
        except OSError:
            self.running = False

    def serve(self):
        """Run until fd 3 closes and return None; in a forked child, return its fork command instead."""
        while self.running:
            for key, _ in self.selector.select():
                cmd = key.data()
                if cmd is not None:
                    return cmd  # we are the child now: leave the zygote's loop for good
        return None

    def on_control(self):
        """Read commands from Node; returns a command only in a freshly forked child."""
        data = os.read(self.control_in, 65536)
        if not data:
            self.running = False
            return None
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            cmd = self.on_command(line)
            if cmd is not None:
                return cmd
        if len(self.buffer) > MAX_LINE:
            log("fork server: a command line exceeds %d bytes; exiting" % MAX_LINE)
            self.running = False
        return None

    def on_command(self, line):
        try:
            cmd = parse_command(line)
        except ValueError as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            log("fork server: bad command from Node (%s); ignored" % err)
            return None
        if cmd["cmd"] == "ping":
            self.send({"event": "pong", "id": cmd["id"]})
            return None
        return self.fork(cmd)

    def fork(self, cmd):
        """Fork a worker; returns `cmd` in the child, None in the zygote."""
        sys.stdout.flush()  # or both processes would print what is still buffered
        sys.stderr.flush()
        gc.freeze()  # objects now live stay out of the child's collections: their pages stay shared
        try:
            pid = os.fork()
        except OSError as err:
            self.send({"event": "fork-failed", "token": cmd["token"], "error": str(err)})
            return None
        if pid == 0:
            try:
                self.forget()
            except BaseException as err:
                lifeline.exit_now(exits.CHILD_SETUP, "forked worker: %r" % err)
            return cmd
        self.send({"event": "forked", "token": cmd["token"], "pid": pid, "start": start_time(pid)})
        return None

    def forget(self):
        """In the child: undo what only the zygote needs. Fds 3 and 4 stay open until dup2 replaces them.

        The stop signals keep the zygote's handler: a worker ignores them too,
        from the fork on (main.main() sets the same again).
        """
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.selector.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        gc.enable()

    def on_wake(self):
        try:
            while os.read(self.wake_r, 4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        self.reap()
        return None

    def reap(self):
        """Report every child that has exited since the last call."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.send(exit_event(pid, status))


def start_time(pid):
    """Field 22 of /proc/PID/stat (the start time, in clock ticks since boot), or None without /proc."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])  # after the name, which may hold spaces
    except (OSError, ValueError, IndexError):
        return None


def _wake_only(signum, frame):
    """SIGCHLD's handler: the wakeup fd has already told the loop."""


def connect(path, token, kind, fds):
    """Connect to Node's socket, say who we are, and make the connection these fds."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        sock.sendall(token.encode("ascii") + kind)
        for fd in fds:
            if fd != sock.fileno():
                os.dup2(sock.fileno(), fd)
    finally:
        if sock.fileno() in fds:
            sock.detach()  # it already is one of the fds we want: keep it open
        else:
            sock.close()


def warm_up():
    """Run once what every worker runs first, so the caches and lazy imports it fills are shared.

    Returns the worker's argument parser, built once for all children.
    Measured on 3.11, per child: the first argparse use (gettext imports
    locale) dirtied 1.6 MiB, building a parser 0.56 MiB, the first page
    import (the loader's code, importlib's, OpenSSL's sha1) 0.15 MiB more.
    """
    parser = worker_main.build_parser()
    worker_main.parse_args(["--root", os.sep, "--threads", "1"], parser)
    platform.python_version()
    here = os.path.dirname(os.path.abspath(__file__))
    page_source.is_page_source("def application(environ, start_response):\n    pass\n")
    loader.module_name(__file__, here)  # a sha1: the first one sets up OpenSSL
    imports.watched_files(here)
    # What loader._import does, short of running the code (it is only compiled):
    name = "_pypages_warm_up"
    spec = importlib.util.spec_from_file_location(name, __file__, loader=importlib.machinery.SourceFileLoader(name, __file__))
    importlib.util.module_from_spec(spec)
    spec.loader.get_code(name)
    return parser


def run_child(cmd, socket_path, parser):
    """In a forked child: connect to Node, take on the launch's cwd and env, run the worker; returns its exit code.

    Until the worker runs, a failure ends the process at once (lifeline.exit_now):
    Node may be gone, and with it the pipe any logging would write to.
    """
    try:
        connect(socket_path, cmd["token"], FRAMES, (worker_main.FD_IN, worker_main.FD_OUT))
        connect(socket_path, cmd["token"], OUTPUT, (1, 2))
    except BaseException as err:  # stderr is still the zygote's: Node logs it under the fork server
        lifeline.exit_now(exits.CHILD_SETUP, "forked worker %d cannot connect to %s: %s" % (os.getpid(), socket_path, err))
    try:
        os.chdir(cmd["cwd"])
    except BaseException as err:  # stderr is the worker's own now: this lands in its tail
        lifeline.exit_now(exits.CHILD_SETUP, "cannot change to the working directory %s: %s" % (cmd["cwd"], err))
    try:
        os.environ.update(cmd["env"])
        sys.argv = [os.path.join(os.path.dirname(worker_main.__file__), "__main__.py")] + cmd["argv"]
    except BaseException as err:  # e.g. a value the C library refuses
        lifeline.exit_now(exits.CHILD_SETUP, "cannot set the environment: %s" % err)
    return worker_main.main(cmd["argv"], parser, fresh=False)


def main(argv=None):
    """Serve fork commands until Node closes fd 3 (returns 0); in a forked child, the worker's exit code."""
    lifeline.die_with_parent()  # first: dead Node, dead zygote, even a frozen one
    signals.ignore_stop_signals()  # Node supervises, it closes fd 3 to stop us (see signals.py)
    args = parse_args(argv)
    worker_main.isolate_sys_path()  # now, while the cwd is still the one `python -m` put on sys.path
    # A collection writes to every object it visits: that would unshare pages
    # from the children forked before it. Garbage left by imports is frozen too.
    gc.disable()
    try:
        os.fstat(CONTROL_IN)
        os.fstat(CONTROL_OUT)
    except OSError:
        log("fds 3 and 4 must be the control pipes: this program is started by the pypages server")
        return exits.USAGE
    parser = warm_up()
    imported, failed = preload(args.preload)
    if not safe_to_fork():
        return exits.THREADS
    zygote = Zygote()
    zygote.start()
    zygote.send({"event": "ready", "pid": os.getpid(), "python": platform.python_version(),
                 "executable": sys.executable, "preloaded": imported, "failed": failed})
    cmd = zygote.serve()
    if cmd is None:
        return exits.OK
    # The child leaves through the normal interpreter exit, as a spawned worker
    # does: atexit handlers run and request threads are joined.
    return run_child(cmd, args.socket, parser)

