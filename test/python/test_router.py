"""FrameRouter: Node's frames reach their requests, which run where they were read."""

import os
import shutil
import tempfile
import textwrap
import threading
import unittest

from pypages_worker import protocol
from pypages_worker.protocol import FrameReader, FrameWriter, encode
from pypages_worker.router import FrameRouter
from pypages_worker.watch import worker_reporter

from fakes import TimedFd

TIMEOUT = 5.0


PAGES = {
    "ident.py": """
        import threading
        def application(environ, start_response):
            environ["wsgi.input"].read()
            start_response("200 OK", [])
            return [str(threading.get_ident()).encode()]
    """,
    "naps.py": """
        import threading, time
        def application(environ, start_response):
            time.sleep(0.01)
            start_response("200 OK", [])
            return [str(threading.get_ident()).encode()]
    """,
    "echo.py": """
        def application(environ, start_response):
            body = environ["wsgi.input"].read()
            start_response("200 OK", [])
            return [body]
    """,
    "big.py": """
        def application(environ, start_response):
            start_response("200 OK", [])
            return [b"x" * 300000]
    """,
    "file.py": """
        def application(environ, start_response):
            start_response("200 OK", [])
            return environ["wsgi.file_wrapper"](open(__file__, "rb"))
    """,
}


class FrameRouterTests(unittest.TestCase):
    """A FrameRouter serving a pipe in this process, with Node's side played by the test."""

    def serve(self, threads, first=b"", **leader_options):
        if not getattr(self, "root", None):
            self.root = tempfile.mkdtemp(prefix="pypages-leader-")
        self.addCleanup(shutil.rmtree, self.root)
        for name, source in PAGES.items():
            with open(os.path.join(self.root, name), "w") as f:
                f.write(textwrap.dedent(source))
        to_r, self.to_w = os.pipe()
        from_r, from_w = os.pipe()
        os.write(self.to_w, first)  # already there at the worker's first read (at most a pipe's 64 KiB)
        writer = FrameWriter(from_w)
        self.router = FrameRouter(self.root, threads, writer.send, worker_reporter(self.root, writer.send),
                                  send_many=writer.send_many)
        self.served = threading.Thread(target=self.router.serve, args=(FrameReader(to_r),),
                                       kwargs=leader_options, daemon=True)
        self.served.start()
        self.frames = FrameReader(TimedFd(from_r, TIMEOUT))
        self.addCleanup(lambda: [os.close(fd) for fd in (to_r, from_r, from_w)])

    def request(self, id_, name, body=None):
        """Send a REQUEST, play Node until its END; returns the response body."""
        os.write(self.to_w, encode(protocol.REQUEST, id_, protocol.dump_json(
            {"script": os.path.join(self.root, name), "environ": {}, "body": body is not None,
             "window": 65536})))
        got, pending = b"", body
        while True:
            frame = self.frames.read()
            if frame.type == protocol.READ:
                n = protocol.read_uint32(frame.payload)
                os.write(self.to_w, encode(protocol.BODY, id_, pending[:n]))
                pending = pending[n:]
            elif frame.type == protocol.RESPONSE_BODY:
                got += frame.payload
                os.write(self.to_w, encode(protocol.CREDIT, id_, protocol.uint32(len(frame.payload))))
            elif frame.type == protocol.FILE:
                os.write(self.to_w, encode(protocol.FILE_OPENED, id_, protocol.dump_json({"ok": True})))
            elif frame.type in (protocol.END, protocol.ERROR):
                self.assertEqual(frame.type, protocol.END, frame.payload)
                return got

    def finish(self):
        os.close(self.to_w)
        self.served.join(TIMEOUT)
        self.assertFalse(self.served.is_alive())

    def test_requests_waiting_for_a_frame_never_wait_for_the_monitor(self):
        # The monitor looks once a minute here: a request that waits for
        # BODY, CREDIT or FILE_OPENED while it holds the reader role would
        # hang unless it read them itself.
        self.serve(2, poll=60)
        body = os.urandom(100000)
        self.assertEqual(self.request(1, "echo.py", body), body)
        self.assertEqual(len(self.request(2, "big.py")), 300000)
        self.assertEqual(self.request(3, "file.py"), b"")  # FILE, answered FILE_OPENED
        self.assertEqual(self.router.leader.takeovers, 0)  # each read its frames itself
        self.finish()

    def test_a_body_pushed_with_its_request_is_read_without_asking(self):
        # Node pushes a body as it arrives: REQUEST, its BODY frames and the next REQUEST often come
        # in one read. The page must find the body there, not send READ for it (a round trip).
        body = os.urandom(20000)
        self.root = tempfile.mkdtemp(prefix="pypages-leader-")
        frames = []
        for id_ in (1, 2):
            frames += [encode(protocol.REQUEST, id_, protocol.dump_json(
                {"script": os.path.join(self.root, "echo.py"), "environ": {}, "body": True,
                 "window": 65536, "push": protocol.BODY_WINDOW})),
                encode(protocol.BODY, id_, body[:15000]), encode(protocol.BODY, id_, body[15000:]),
                encode(protocol.BODY, id_, b"")]
        self.serve(2, b"".join(frames), poll=60)
        got, ended = {1: b"", 2: b""}, set()
        while len(ended) < 2:
            frame = self.frames.read()
            self.assertNotEqual(frame.type, protocol.READ)
            if frame.type == protocol.RESPONSE_BODY:
                got[frame.id] += frame.payload
            elif frame.type in (protocol.END, protocol.ERROR):
                self.assertEqual(frame.type, protocol.END, frame.payload)
                ended.add(frame.id)
        self.assertEqual(got, {1: body, 2: body})
        self.finish()

    def test_with_one_thread_every_request_runs_on_the_same_thread(self):
        self.serve(1)
        idents = set()
        for id_, body in enumerate([None, b"x" * 70000, None, b"y", None], 1):
            idents.add(self.request(id_, "ident.py", body))
            idents.add(self.request(100 + id_, "naps.py"))  # taken over: the spare reads meanwhile
        self.assertEqual(len(idents), 1, idents)
        self.assertGreaterEqual(self.router.leader.takeovers, 1)  # the spare reader did read
        self.finish()


if __name__ == "__main__":
    unittest.main()
