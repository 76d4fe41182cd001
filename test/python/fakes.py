"""What the Python tests share: FakeNode (an in-process stand-in for Node), TempRoot, small apps, paths."""

import contextlib
import fcntl
import io
import os
import select
import shutil
import sys
import tempfile
import textwrap
import threading
import unittest

import pypages_worker
from pypages_worker import imports, protocol
from pypages_worker.channel import Channel
from pypages_worker.protocol import Frame
from pypages_worker.wsgi import run_wsgi

# The folder that holds pypages_worker: a worker or zygote started by a test gets it as PYTHONPATH.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(pypages_worker.__file__)))
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")

CGI = {
    "REQUEST_METHOD": "GET", "SCRIPT_NAME": "/page.py", "PATH_INFO": "/a/b",
    "QUERY_STRING": "x=1", "SERVER_NAME": "localhost", "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
}


class FakeNode:
    """The frame sink for one Channel. Answers READ by pushing `body` in chunks
    of the given sizes (cycled), within the credit READ grants, and FILE with
    {"ok": file_ok}."""

    def __init__(self, body=None, sizes=(65536,), file_ok=True, window=1 << 20):
        self.frames = []
        self.cond = threading.Condition()
        self.body = body
        self.sizes = list(sizes)
        self.file_ok = file_ok
        self.credit = 0  # body bytes it may still push
        self.ended = False
        self.channel = Channel(1, self.send, window, has_body=body is not None)

    def send(self, type_, id_, payload=b""):
        with self.cond:
            self.frames.append(Frame(type_, id_, bytes(payload)))
            self.cond.notify_all()
        if type_ == protocol.READ:
            self._answer_read(protocol.read_uint32(payload))
        elif type_ == protocol.FILE:
            self.channel.on_file_opened({"ok": self.file_ok, "error": "refused by the test"})

    def _answer_read(self, grant):
        # As Node does: push body bytes while the credit lasts, then the end (an empty BODY).
        self.credit += grant
        while self.credit > 0 and self.body:
            size = self.sizes.pop(0)
            self.sizes.append(size)
            n = min(size, self.credit)
            chunk, self.body = self.body[:n], self.body[n:]
            self.credit -= len(chunk)
            self.channel.on_body(chunk)
        if not self.body and not self.ended:
            self.ended = True
            self.channel.on_body(b"")

    def run(self, app, **cgi):
        """Run `app` to the end in this thread; returns what it wrote on stderr."""
        with capture("stderr") as err:
            run_wsgi(app, self.channel, dict(CGI, **cgi))
        return err.getvalue()

    def run_in_thread(self, app, **cgi):
        thread = threading.Thread(target=run_wsgi, args=(app, self.channel, dict(CGI, **cgi)))
        thread.start()
        return thread

    def wait_for(self, type_, count=1, timeout=5.0):
        """Block until `count` frames of `type_` have been sent."""
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.of(type_)) >= count, timeout)
        if not ok:
            raise AssertionError("no %s frame #%d; got %s" % (protocol.NAMES[type_], count, self.names()))

    def of(self, type_):
        return [f for f in list(self.frames) if f.type == type_]

    def names(self):
        return [protocol.NAMES[f.type] for f in list(self.frames)]

    def json(self, type_):
        return protocol.load_json(self.of(type_)[0].payload)

    def body_bytes(self):
        return b"".join(f.payload for f in self.of(protocol.RESPONSE_BODY))

    def terminal(self):
        """(name, payload dict) of the one terminal frame, asserting there is exactly one."""
        ends = [f for f in self.frames if f.type in (protocol.END, protocol.ERROR)]
        assert len(ends) == 1, "expected one terminal frame, got %s" % self.names()
        assert self.frames[-1] is ends[0], "frames after the terminal one: %s" % self.names()
        return protocol.NAMES[ends[0].type], protocol.load_json(ends[0].payload)


@contextlib.contextmanager
def capture(name):
    """Replace sys.stdout or sys.stderr with a StringIO for the duration."""
    saved, buf = getattr(sys, name), io.StringIO()
    setattr(sys, name, buf)
    try:
        yield buf
    finally:
        setattr(sys, name, saved)


def simple_app(body=b"Hello", status="200 OK", headers=None):
    """Return a minimal WSGI app answering `body`."""
    def app(environ, start_response):
        start_response(status, headers if headers is not None else [("Content-Type", "text/plain")])
        return [body]
    return app


class Closing:
    """An iterable recording how many times close() was called."""

    def __init__(self, chunks, fail_at=None):
        self.chunks, self.fail_at, self.closed = list(chunks), fail_at, 0

    def __iter__(self):
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("failed while iterating")
            yield chunk

    def close(self):
        self.closed += 1


class TimedFd:
    """A readable fd whose reads fail instead of hanging when the worker is silent."""

    def __init__(self, fd, timeout):
        self.fd = fd
        self.timeout = timeout

    def read(self, n):
        if not select.select([self.fd], [], [], self.timeout)[0]:
            raise TimeoutError("the worker sent nothing for %s s" % self.timeout)
        return os.read(self.fd, n)


class TempRoot(unittest.TestCase):
    """A temporary document root; undoes sys.path and sys.modules changes."""

    def setUp(self):
        self.root = os.path.realpath(tempfile.mkdtemp(prefix="pypages-loader-"))
        self.addCleanup(shutil.rmtree, self.root)
        saved_path, saved_modules = list(sys.path), set(sys.modules)
        self.addCleanup(self._restore, saved_path, saved_modules)
        imports.watch_imports()  # as main.main() does

    def _restore(self, saved_path, saved_modules):
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path


def high_dup(fd):
    """Move `fd` to 100 or above (close-on-exec), so that a child's dup2 onto 3 and 4 cannot clobber it."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
    os.close(fd)
    return new
