"""The zygote's loop: read Node's commands, fork on command, report pids and exits.

Single-threaded by design: fork() copies only the calling thread, so a lock
another thread held at that moment would stay locked in every child. A
signal only wakes the loop (gunicorn's rule): SIGCHLD writes to a wakeup
fd, and the loop reaps.
"""

import gc
import os
import selectors
import signal
import sys

from .. import exits, lifeline, log
from .control import MAX_COMMAND_LINE, ControlError, LineReader, LineTooLong, decode_command, encode_event

CONTROL_IN, CONTROL_OUT = 3, 4


class Zygote:
    """Serves commands from `control_in` and writes events to `control_out`, strictly in order."""

    def __init__(self, control_in=CONTROL_IN, control_out=CONTROL_OUT):
        self.control_in, self.control_out = control_in, control_out
        self.lines = LineReader(MAX_COMMAND_LINE)
        self.running = True
        self.wake_r, self.wake_w = os.pipe()  # non-inheritable since 3.4
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)  # set_wakeup_fd requires it; a full pipe must not block a signal
        self.selector = selectors.DefaultSelector()

    def start(self):
        """Watch the control fd and SIGCHLD."""
        signal.signal(signal.SIGCHLD, _wake_only)  # a Python handler, or the wakeup fd is never written
        signal.set_wakeup_fd(self.wake_w)
        self.selector.register(self.control_in, selectors.EVENT_READ, self.on_control)
        self.selector.register(self.wake_r, selectors.EVENT_READ, self.on_wake)

    def send(self, event):
        """Write one event line to Node; if Node is gone, stop serving."""
        data = memoryview(encode_event(event))
        try:
            while data:
                data = data[os.write(self.control_out, data):]
        except OSError:
            self.running = False

    def serve(self):
        """Run until the control fd closes and return None; in a forked child, return its fork command instead."""
        while self.running:
            for key, _ in self.selector.select():
                cmd = key.data()
                if cmd is not None:
                    return cmd  # this is the child: leave the zygote's loop for good
        return None

    def on_control(self):
        """Read commands from Node; returns a command only in a freshly forked child."""
        data = os.read(self.control_in, 65536)
        if not data:
            self.running = False
            return None
        try:
            for line in self.lines.feed(data):
                cmd = self.on_command(line)
                if cmd is not None:
                    return cmd
        except LineTooLong as err:
            log("fork server: %s; exiting" % err)
            self.running = False
        return None

    def on_command(self, line):
        try:
            cmd = decode_command(line)
        except ControlError as err:
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
        gc.freeze()  # objects alive at the fork stay out of the child's collections: their pages stay shared
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


def start_time(pid):
    """Field 22 of /proc/PID/stat (the start time, in clock ticks since boot), or None without /proc.

    Read before the zygote can have reaped the child: with the pid, it names
    the process, so that Node never signals one that reused a dead worker's pid.
    """
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])  # after the name, which may hold spaces
    except (OSError, ValueError, IndexError):
        return None


def _wake_only(signum, frame):
    """SIGCHLD's handler: the wakeup fd has already told the loop."""
