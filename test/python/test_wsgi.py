"""PEP 3333 rules, one named test each, driven through a fake Node."""

import os
import sys
import unittest

from pypages_worker.protocol import MAX_BODY_CHUNK, RESPONSE_BODY, START
from pypages_worker.streams import FileWrapper, InputStream
from pypages_worker import wsgi
from pypages_worker.wsgi import run_wsgi

from fakes import Closing, FakeNode, capture, simple_app


def start_error(status, headers):
    """Run an app whose start_response call is made with these arguments; return the ERROR."""
    node = FakeNode()
    node.run(simple_app(status=status, headers=headers))
    name, payload = node.terminal()
    assert name == "ERROR" and not node.of(START), node.names()
    return payload


class Environ(unittest.TestCase):
    def environ_of(self, multithread=False, **cgi):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            start_response("200 OK", [])
            return []
        node = FakeNode()
        run_wsgi(app, node.channel, dict(cgi, REQUEST_METHOD="GET"), multithread=multithread)
        return seen

    def test_wsgi_keys(self):
        env = self.environ_of(multithread=True, PATH_INFO="/x")
        self.assertEqual(env["wsgi.version"], (1, 0))
        self.assertEqual(env["wsgi.url_scheme"], "http")
        self.assertIsInstance(env["wsgi.input"], InputStream)
        self.assertIs(env["wsgi.errors"], sys.stderr)
        self.assertIs(env["wsgi.multithread"], True)
        self.assertIs(env["wsgi.multiprocess"], False)
        self.assertIs(env["wsgi.run_once"], False)
        self.assertIs(env["wsgi.file_wrapper"], FileWrapper)
        self.assertIs(env["wsgi.input_terminated"], True)
        self.assertEqual(env["PATH_INFO"], "/x")

    def test_url_scheme_from_https_on(self):
        self.assertEqual(self.environ_of(HTTPS="on")["wsgi.url_scheme"], "https")
        self.assertEqual(self.environ_of(HTTPS="off")["wsgi.url_scheme"], "http")

    def test_url_scheme_given_by_node_is_honoured_as_str(self):
        env = self.environ_of(**{"wsgi.url_scheme": "https"})
        self.assertEqual(env["wsgi.url_scheme"], "https")
        self.assertIs(type(env["wsgi.url_scheme"]), str)


class StartResponse(unittest.TestCase):
    def test_start_response_twice_without_exc_info_is_an_error(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            start_response("404 Not Found", [])
            return [b"x"]
        node = FakeNode()
        node.run(app)
        name, err = node.terminal()
        self.assertEqual((name, err["status"], err["kind"]), ("ERROR", 500, "app"))
        self.assertIn("second time", err["message"])

    def test_exc_info_before_headers_sent_replaces_status_and_headers(self):
        def app(environ, start_response):
            start_response("200 OK", [("X-First", "1")])
            try:
                raise ValueError("oops")
            except ValueError:
                start_response("500 Internal Server Error", [("X-Second", "2")], sys.exc_info())
            return [b"sorry"]
        node = FakeNode()
        node.run(app)
        self.assertEqual(node.json(START), {"status": "500 Internal Server Error", "headers": [["X-Second", "2"]]})
        self.assertEqual(node.terminal(), ("END", {"complete": True}))

    def test_exc_info_after_headers_sent_reraises_it(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            yield b"partial"
            try:
                raise KeyError("original")
            except KeyError:
                start_response("500 Internal Server Error", [], sys.exc_info())
            yield b"never"
        node = FakeNode()
        node.run(app)
        self.assertEqual(node.names(), ["START", "BODY", "ERROR"])
        self.assertIn("KeyError", node.terminal()[1]["message"])

    def test_status_must_be_str(self):
        self.assertIn("must be a str", start_error(b"200 OK", [])["message"])
        self.assertIn("must be a str", start_error(200, [])["message"])

    def test_status_must_be_three_digits_space_reason(self):
        for bad in ("200", "200OK", "OK 200", "2000 X", "20 OK", "200 OK\r\nX: y", "099 Low"):
            with self.subTest(bad):
                self.assertIn("must look like", start_error(bad, [])["message"])

    def test_status_may_not_be_informational(self):
        for bad in ("100 Continue", "101 Switching Protocols", "103 Early Hints", "199 X"):
            with self.subTest(bad):
                self.assertIn("informational (1xx)", start_error(bad, [])["message"])

    def test_a_status_accepted_before_is_still_checked_in_other_spellings(self):
        ok = FakeNode()
        ok.run(simple_app(status="299 Seen"))
        self.assertEqual(ok.json(START)["status"], "299 Seen")
        self.assertIn("must be a str", start_error(b"299 Seen", [])["message"])
        self.assertIn("must look like", start_error("299 Seen\r\n", [])["message"])

    def test_headers_must_be_a_list_of_pairs(self):
        self.assertIn("must be a list", start_error("200 OK", (("A", "b"),))["message"])
        self.assertIn("tuple", start_error("200 OK", [("A", "b", "c")])["message"])

    def test_header_names_and_values_must_be_str_not_bytes(self):
        self.assertIn("must be a str", start_error("200 OK", [(b"X-A", "1")])["message"])
        self.assertIn("must be a str", start_error("200 OK", [("X-A", b"1")])["message"])

    def test_header_cr_lf_nul_rejected_in_names_and_values(self):
        for bad in ("\r", "\n", "\0"):
            with self.subTest(repr(bad)):
                self.assertIn("ValueError", start_error("200 OK", [("X-A" + bad, "1")])["message"])
                self.assertIn("ValueError", start_error("200 OK", [("X-A", "1" + bad + "Set-Cookie: a")])["message"])

    def test_header_values_must_be_latin1(self):
        self.assertIn("latin-1", start_error("200 OK", [("X-A", "\u20ac")])["message"])

    def test_a_name_accepted_before_still_gets_every_check(self):
        # Names seen valid are remembered (the fast path); their values, and other names, are not.
        ok = FakeNode()
        ok.run(simple_app(headers=[("X-Seen", "1"), ("Content-Length", "5")]))
        self.assertEqual(ok.terminal(), ("END", {"complete": True}))
        for headers, expected in (([("X-Seen", "1\r\nX: y")], "control character"),
                                  ([("X-Seen", "\u20ac")], "latin-1"),
                                  ([("X-Seen", b"1")], "must be a str"),
                                  ([("X-Seen", "1"), ("X-Seen\n", "1")], "invalid header name"),
                                  ([("X-Seen", "1"), ("Connection", "close")], "hop-by-hop"),
                                  ([("X-Seen", "1", "2")], "tuple"),
                                  ([("Content-Length", "5"), ("Content-Length", "6")], "Content-Length")):
            with self.subTest(headers):
                self.assertIn(expected, start_error("200 OK", headers)["message"])

    def test_only_short_statuses_and_names_are_remembered(self):
        # A made-up status or name per response must not stay in memory for the worker's life.
        long_status, long_name = "400 " + "x" * 1000, "X-" + "y" * 1000
        ok = FakeNode()
        ok.run(simple_app(status=long_status, headers=[(long_name, "1")]))
        self.assertEqual(ok.json(START)["status"], long_status)
        self.assertNotIn(long_status, wsgi._GOOD_STATUSES)
        self.assertNotIn(long_name, wsgi._GOOD_NAMES)
        self.assertIn("X-Seen-Short", [n for n, _ in wsgi.check_headers([("X-Seen-Short", "1")])])
        self.assertIn("X-Seen-Short", wsgi._GOOD_NAMES)

    def test_hop_by_hop_headers_rejected(self):
        for name in ("Connection", "keep-alive", "Proxy-Authenticate", "Proxy-Authorization",
                     "TE", "Trailers", "Transfer-Encoding", "Upgrade"):
            with self.subTest(name):
                self.assertIn("hop-by-hop", start_error("200 OK", [(name, "x")])["message"])

    def test_malformed_content_length_rejected(self):
        for bad in ("-1", "abc", "1.5", "\u00b2"):
            with self.subTest(bad):
                self.assertIn("Content-Length", start_error("200 OK", [("Content-Length", bad)])["message"])

    def test_app_that_never_calls_start_response_is_an_error(self):
        node = FakeNode()
        node.run(lambda environ, start_response: [b"body"])
        self.assertIn("did not call start_response", node.terminal()[1]["message"])


class Body(unittest.TestCase):
    def test_write_callable_works_and_sends_headers_first(self):
        def app(environ, start_response):
            write = start_response("200 OK", [("Content-Type", "text/plain")])
            write(b"one ")
            return [b"two"]
        node = FakeNode()
        node.run(app)
        self.assertEqual(node.names(), ["START", "BODY", "BODY", "END"])
        self.assertEqual(node.body_bytes(), b"one two")

    def test_body_chunks_must_be_bytes_not_str(self):
        node = FakeNode()
        node.run(simple_app(body="text"))
        name, err = node.terminal()
        self.assertEqual((name, err["status"]), ("ERROR", 500))
        self.assertIn("must be bytes", err["message"])

    def test_returning_a_single_bytes_is_a_clear_error(self):
        node = FakeNode()
        node.run(lambda e, s: (s("200 OK", []), b"body")[1])
        self.assertIn("iterable of bytes", node.terminal()[1]["message"])

    def test_headers_sent_at_the_first_non_empty_chunk(self):
        node = FakeNode()
        seen = []

        def app(environ, start_response):
            start_response("200 OK", [])
            yield b""
            seen.append(node.names())
            yield b"x"
            seen.append(node.names())
        node.run(app)
        self.assertEqual(seen, [[], ["START", "BODY"]])

    def test_headers_sent_at_the_end_when_the_body_is_empty(self):
        node = FakeNode()
        node.run(simple_app(body=b""))
        self.assertEqual(node.names(), ["START", "END"])

    def test_content_length_extra_bytes_truncated_and_logged_once(self):
        node = FakeNode()
        err = node.run(simple_app(body=b"0123456789", headers=[("Content-Length", "4")]))
        node2 = FakeNode()
        err2 = node2.run(lambda e, s: (s("200 OK", [("Content-Length", "4")]), [b"012", b"34", b"56"])[1])
        self.assertEqual((node.body_bytes(), node2.body_bytes()), (b"0123", b"0123"))
        self.assertEqual(node.terminal(), ("END", {"complete": True}))
        self.assertEqual(err.count("longer than its Content-Length"), 1)
        self.assertEqual(err2.count("longer than its Content-Length"), 1)

    def test_content_length_short_body_ends_incomplete_and_logs(self):
        node = FakeNode()
        err = node.run(simple_app(body=b"abc", headers=[("Content-Length", "10")]))
        self.assertEqual(node.terminal(), ("END", {"complete": False}))
        self.assertIn("shorter than its Content-Length", err)

    def test_head_sends_no_body_and_a_short_body_is_complete(self):
        node = FakeNode()
        node.run(simple_app(body=b"abc", headers=[("Content-Length", "10")]), REQUEST_METHOD="HEAD")
        self.assertEqual(node.names(), ["START", "END"])
        self.assertEqual(node.terminal(), ("END", {"complete": True}))

    def test_large_chunks_split_into_body_frames_of_at_most_256k(self):
        data = os.urandom(MAX_BODY_CHUNK * 2 + 10)
        node = FakeNode(window=1 << 30)
        node.run(simple_app(body=data))
        self.assertEqual([len(f.payload) for f in node.of(RESPONSE_BODY)], [MAX_BODY_CHUNK, MAX_BODY_CHUNK, 10])
        self.assertEqual(node.body_bytes(), data)

    def test_print_does_not_touch_the_frame_sink(self):
        def app(environ, start_response):
            print("hello from the page")
            start_response("200 OK", [])
            return [b"ok"]
        node = FakeNode()
        with capture("stdout") as out:
            node.run(app)
        self.assertEqual(node.names(), ["START", "BODY", "END"])
        self.assertEqual(out.getvalue(), "hello from the page\n")


class Close(unittest.TestCase):
    def test_close_called_once_on_success(self):
        it = Closing([b"a", b"b"])
        node = FakeNode()
        node.run(lambda e, s: (s("200 OK", []), it)[1])
        self.assertEqual((it.closed, node.body_bytes()), (1, b"ab"))

    def test_close_called_once_on_exception(self):
        it = Closing([b"a", b"b"], fail_at=1)
        node = FakeNode()
        node.run(lambda e, s: (s("200 OK", []), it)[1])
        self.assertEqual(it.closed, 1)
        self.assertEqual(node.terminal()[0], "ERROR")

    def test_close_called_once_on_abort(self):
        it = Closing([b"a", b"b", b"c"])
        node = FakeNode()

        def app(environ, start_response):
            start_response("200 OK", [])
            node.channel.on_abort()
            return it
        node.run(app)
        self.assertEqual(it.closed, 1)
        self.assertEqual(node.terminal(), ("END", {"complete": False}))
        self.assertEqual(node.of(RESPONSE_BODY), [])

    def test_close_exception_is_an_app_error(self):
        class Bad(Closing):
            def close(self):
                raise RuntimeError("close failed")
        node = FakeNode()
        node.run(lambda e, s: (s("200 OK", []), Bad([b"a"]))[1])
        self.assertIn("close failed", node.terminal()[1]["message"])


class Errors(unittest.TestCase):
    def test_exception_before_headers_is_error_500_app_with_traceback(self):
        def application(environ, start_response):
            raise ZeroDivisionError("nope")
        node = FakeNode()
        node.run(application)
        name, err = node.terminal()
        self.assertEqual((name, err["status"], err["kind"]), ("ERROR", 500, "app"))
        self.assertEqual(err["message"], "ZeroDivisionError: nope")
        self.assertIn("in application", err["traceback"])
        first_frame = err["traceback"].splitlines()[1]
        self.assertIn("test_wsgi.py", first_frame)  # the worker's own frames are trimmed
        self.assertEqual(node.names(), ["ERROR"])

    def test_exception_after_headers_is_an_error_frame_too(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            yield b"partial"
            raise RuntimeError("midway")
        node = FakeNode()
        node.run(app)
        self.assertEqual(node.names(), ["START", "BODY", "ERROR"])
        self.assertIn("midway", node.terminal()[1]["traceback"])

    def test_system_exit_still_gets_a_terminal_frame(self):
        node = FakeNode()
        node.run(lambda e, s: sys.exit(3))
        self.assertEqual(node.terminal()[0], "ERROR")


if __name__ == "__main__":
    unittest.main()
