"""wsgi.input and wsgi.file_wrapper, driven through the WSGI layer and a fake Node."""

import io
import os
import sys
import tempfile
import unittest

from pypages_worker import protocol
from pypages_worker.protocol import FILE
from pypages_worker.streams import InputStream

from fakes import FakeNode, capture


def echo_app(reader):
    """An app answering what reader(environ['wsgi.input']) returns, joined."""
    def app(environ, start_response):
        parts = reader(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b"|".join(parts)]
    return app


class Input(unittest.TestCase):
    BODY = b"line one\nline two is longer\n\nlast line without newline"
    SIZES = (1, 3, 7, 2, 64)

    def echo(self, reader):
        node = FakeNode(body=self.BODY, sizes=self.SIZES)
        node.run(echo_app(reader))
        self.assertEqual(node.terminal(), ("END", {"complete": True}))
        return node.body_bytes().split(b"|")

    def test_read_n(self):
        parts = self.echo(lambda f: [f.read(5), f.read(10), f.read(1000), f.read(5)])
        self.assertEqual(parts, [self.BODY[:5], self.BODY[5:15], self.BODY[15:], b""])

    def test_read_all(self):
        self.assertEqual(self.echo(lambda f: [f.read(4), f.read(), f.read()]), [self.BODY[:4], self.BODY[4:], b""])
        self.assertEqual(self.echo(lambda f: [f.read(None)]), [self.BODY])

    def test_readline(self):
        parts = self.echo(lambda f: [f.readline(), f.readline(4), f.readline(), f.readline(), f.readline(),
                                     f.readline()])
        self.assertEqual(parts, [b"line one\n", b"line", b" two is longer\n", b"\n", b"last line without newline", b""])

    def test_readlines_and_iteration(self):
        lines = io.BytesIO(self.BODY).readlines()
        self.assertEqual(self.echo(lambda f: f.readlines()), lines)
        self.assertEqual(self.echo(lambda f: list(f)), lines)
        self.assertEqual(self.echo(lambda f: f.readlines(12)), lines[:2])

    def test_no_body_means_no_read_frames(self):
        node = FakeNode(body=None)
        node.run(echo_app(lambda f: [f.read(), f.readline(), f.read(10)]))
        self.assertEqual(node.names(), ["START", "BODY", "END"])
        self.assertEqual(node.body_bytes(), b"||")

    def test_reads_ask_for_what_is_needed_and_buffer_only_what_was_sent(self):
        stream = InputStream(lambda n: b"x" * min(n, 100))
        self.assertEqual(stream.read(10), b"x" * 10)
        self.assertEqual(len(stream._buf), 90)

    def test_a_pulled_chunk_of_exactly_the_size_asked_is_returned_uncopied(self):
        chunk = b"y" * 65536
        stream = InputStream(lambda n: chunk)
        self.assertIs(stream.read(65536), chunk)
        self.assertEqual(len(stream._buf), 0)

    def test_at_most_one_read_outstanding_and_never_the_whole_body_for_read_n(self):
        node = FakeNode(body=b"a" * 1000000, sizes=(65536,))
        node.run(echo_app(lambda f: [f.read(10)]))
        self.assertEqual(len(node.of(protocol.READ)), 1)

    def test_read_after_abort_raises_oserror(self):
        node = FakeNode(body=b"abc")
        node.channel.on_abort()
        with self.assertRaises(OSError):
            InputStream(node.channel.read_body).read(1)


class FileWrapperTests(unittest.TestCase):
    DATA = b"0123456789" * 1000

    def setUp(self):
        fd, self.path = tempfile.mkstemp(prefix="pypages-file-")
        os.write(fd, self.DATA)
        os.close(fd)
        self.addCleanup(os.unlink, self.path)

    def app(self, offset=0, headers=(), filelike=None):
        def app(environ, start_response):
            start_response("200 OK", list(headers))
            f = filelike or open(self.path, "rb")
            f.seek(offset)
            self.file = f
            return environ["wsgi.file_wrapper"](f, 4096)
        return app

    @unittest.skipUnless(sys.platform.startswith("linux"), "FILE uses /proc/<pid>/fd")
    def test_real_file_is_sent_by_node_with_file(self):
        node = FakeNode()
        node.run(self.app(offset=5))
        self.assertEqual(node.names(), ["START", "FILE", "END"])
        info = node.json(FILE)
        self.assertRegex(info["path"], r"^/proc/%d/fd/\d+$" % os.getpid())
        self.assertEqual((info["offset"], info["length"]), (5, None))
        self.assertTrue(self.file.closed)
        self.assertEqual(node.terminal(), ("END", {"complete": True}))

    @unittest.skipUnless(sys.platform.startswith("linux"), "FILE uses /proc/<pid>/fd")
    def test_file_length_is_limited_by_content_length(self):
        node = FakeNode()
        node.run(self.app(offset=10, headers=[("Content-Length", "100")]))
        self.assertEqual((node.json(FILE)["offset"], node.json(FILE)["length"]), (10, 100))
        self.assertEqual(node.terminal(), ("END", {"complete": True}))

    def test_falls_back_to_body_when_file_opened_is_not_ok(self):
        node = FakeNode(file_ok=False)
        with capture("stderr"):
            node.run(self.app(offset=3))
        self.assertEqual(node.body_bytes(), self.DATA[3:])
        self.assertEqual(node.names()[-1], "END")
        self.assertTrue(self.file.closed)

    def test_not_a_real_file_is_iterated(self):
        node = FakeNode()
        node.run(self.app(filelike=io.BytesIO(self.DATA)))
        self.assertNotIn("FILE", node.names())
        self.assertEqual(node.body_bytes(), self.DATA)


if __name__ == "__main__":
    unittest.main()
