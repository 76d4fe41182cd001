"""Channel: terminal frames, the finish hook, frames Node sends unasked, and the response credit."""

import threading
import time
import unittest

from pypages_worker import protocol
from pypages_worker.protocol import BODY_WINDOW, RESPONSE_BODY
from pypages_worker.channel import Channel, ClientAborted

from fakes import Closing, FakeNode, capture, simple_app


class Sent(list):
    def send(self, type_, id_, payload=b""):
        self.append((protocol.NAMES[type_], id_, bytes(payload)))


class ChannelTests(unittest.TestCase):
    def test_only_one_terminal_frame_is_ever_sent(self):
        sent = Sent()
        channel = Channel(5, sent.send, 100)
        channel.end(True)
        channel.error("app", "late")
        channel.end(False)
        self.assertEqual(sent, [("END", 5, b'{"complete":true}')])
        self.assertTrue(channel.finished)

    def test_on_finish_runs_before_the_terminal_frame(self):
        sent = Sent()
        channel = Channel(1, sent.send, 100, on_finish=lambda c: sent.send(protocol.WATCH, 0, b"{}"))
        channel.error("not-page", "no")
        self.assertEqual([name for name, _, _ in sent], ["WATCH", "ERROR"])
        self.assertEqual(protocol.load_json(sent[1][2]),
                         {"status": 404, "kind": "not-page", "message": "no", "traceback": ""})

    def test_a_failing_on_finish_does_not_cost_the_terminal_frame(self):
        sent = Sent()
        channel = Channel(1, sent.send, 100, on_finish=lambda c: 1 / 0)
        with capture("stderr") as err:
            channel.end(True)
        self.assertEqual(sent[-1][0], "END")
        self.assertIn("ZeroDivisionError", err.getvalue())

    def test_a_pushed_body_is_read_without_asking(self):
        sent = Sent()
        channel = Channel(1, sent.send, 100, push=BODY_WINDOW)
        channel.on_body(b"hello ")
        channel.on_body(b"world")
        channel.on_body(b"")
        self.assertEqual(channel.read_body(3), b"hel")
        self.assertEqual(channel.read_body(100), b"lo world")
        self.assertEqual(channel.read_body(100), b"")
        self.assertEqual(sent, [])  # no READ: it was all there

    def test_read_tops_the_credit_up_to_the_window_and_waits(self):
        sent = Sent()
        channel = Channel(1, sent.send, 100, push=BODY_WINDOW)
        channel.on_body(b"x" * 1000)
        self.assertEqual(channel.read_body(5000), b"x" * 1000)
        timer = threading.Timer(0.05, channel.on_body, (b"more",))
        timer.start()
        self.assertEqual(channel.read_body(10), b"more")  # nothing left: READ, then wait
        timer.join()
        self.assertEqual([(name, protocol.read_uint32(payload)) for name, _, payload in sent], [("READ", 1000)])

    def test_without_push_the_first_read_opens_the_window(self):
        sent = Sent()
        channel = Channel(1, sent.send, 100)  # push=0: e.g. the client waits for 100 Continue
        timer = threading.Timer(0.05, channel.on_body, (b"",))
        timer.start()
        self.assertEqual(channel.read_body(10), b"")
        timer.join()
        self.assertEqual([(name, protocol.read_uint32(payload)) for name, _, payload in sent], [("READ", BODY_WINDOW)])

    def test_pushed_payloads_are_read_whole_joined_or_split_as_asked(self):
        channel = Channel(1, Sent().send, 100, push=BODY_WINDOW)
        first, second, third = b"abc", b"defgh", b"ij"
        for chunk in (first, second, third, b""):
            channel.on_body(chunk)
        self.assertIs(channel.read_body(3), first)  # fits: handed over as it came
        self.assertEqual(channel.read_body(2), b"de")  # split
        self.assertEqual(channel.read_body(100), b"fghij")  # joined
        self.assertEqual(channel.read_body(100), b"")

    def test_body_beyond_the_credit_is_logged_and_kept(self):
        channel = Channel(1, Sent().send, 100, push=4)
        with capture("stderr") as err:
            channel.on_body(b"123456")
        self.assertIn("beyond the credit", err.getvalue())
        self.assertEqual(channel.read_body(10), b"123456")

    def test_no_body_means_end_of_body_without_asking(self):
        sent = Sent()
        self.assertEqual(Channel(1, sent.send, 100, has_body=False).read_body(10), b"")
        self.assertEqual(sent, [])

    def test_abort_makes_writes_raise_client_aborted_an_oserror(self):
        channel = Channel(1, Sent().send, 100)
        channel.on_abort()
        self.assertTrue(issubclass(ClientAborted, OSError))
        with self.assertRaises(ClientAborted):
            channel.send_body(b"x")
        with self.assertRaises(ClientAborted):
            channel.open_file("/proc/1/fd/1", 0, None)

    def test_body_frames_of_at_most_256k_whatever_the_buffer(self):
        chunk = protocol.MAX_BODY_CHUNK
        for data, sizes in ((b"", []), (b"x", [1]), (b"y" * chunk, [chunk]), (b"z" * (chunk + 1), [chunk, 1]),
                            (bytearray(b"ab"), [2]), (memoryview(b"abc")[1:], [2]),
                            (bytearray(b"w" * (chunk + 3)), [chunk, 3])):
            with self.subTest(type(data).__name__, size=len(data)):
                sent = Sent()
                Channel(1, sent.send, 1 << 30).send_body(data)
                self.assertEqual([len(p) for _, _, p in sent], sizes)
                self.assertEqual(b"".join(p for _, _, p in sent), bytes(data))

    def test_on_wait_runs_only_when_the_thread_is_about_to_wait(self):
        sent, waits = Sent(), []
        channel = Channel(1, sent.send, 10, on_wait=waits.append)
        channel.send_body(b"12345")  # fits the window: no wait
        channel.read_body(0)
        self.assertEqual(waits, [])
        timer = threading.Timer(0.05, channel.on_credit, (5,))
        timer.start()
        channel.send_body(b"1234567890")  # 5 + 10 > 10: waits for CREDIT
        timer.join()
        self.assertEqual(waits, [channel])
        timer = threading.Timer(0.05, channel.on_body, (b"data",))
        timer.start()
        self.assertEqual(channel.read_body(4), b"data")  # waits for BODY
        timer.join()
        self.assertEqual(waits, [channel, channel])
        self.assertEqual([name for name, _, _ in sent], ["BODY", "BODY", "READ"])

    def test_a_thread_that_reads_fd3_itself_pumps_instead_of_waiting(self):
        sent, pumped = Sent(), []
        channel = None

        def pump():
            # Called without the channel's lock: another thread can deliver.
            deliver = threading.Thread(target=channel.on_body, args=(b"pumped",))
            deliver.start()
            deliver.join(2.0)
            pumped.append(not deliver.is_alive())

        channel = Channel(1, sent.send, 10, on_wait=lambda c: pump)
        self.assertEqual(channel.read_body(10), b"pumped")
        self.assertEqual(pumped, [True])


class HoldRestTests(unittest.TestCase):
    """A complete body may wait for END, so START, BODY and END leave in one write."""

    def setUp(self):
        self.writes = []  # one entry per write: the frame names in it
        self.channel = Channel(1, None, 1 << 20,
                               send_many=lambda frames: self.writes.append([protocol.NAMES[f[0]] for f in frames]))

    def test_watched_a_complete_body_leaves_with_end(self):
        self.channel.watch()
        self.channel.start("200 OK", [])
        self.channel.hold_rest()
        self.channel.send_body(b"all of it")
        self.assertEqual(self.writes, [])
        self.channel.end(True)
        self.assertEqual(self.writes, [["START", "BODY", "END"]])

    def test_unwatched_nothing_waits(self):
        self.channel.start("200 OK", [])
        self.channel.hold_rest()
        self.channel.send_body(b"all of it")
        self.channel.end(True)
        self.assertEqual(self.writes, [["START", "BODY"], ["END"]])

    def test_unwatch_sends_what_is_held_at_once(self):
        # The monitor's takeover: the app runs on (a slow close()), the client must have its body now.
        self.channel.watch()
        self.channel.start("200 OK", [])
        self.channel.hold_rest()
        self.channel.send_body(b"all of it")
        self.channel.unwatch()
        self.assertEqual(self.writes, [["START", "BODY"]])
        self.channel.end(True)
        self.assertEqual(self.writes, [["START", "BODY"], ["END"]])

    def test_unwatch_without_flush_only_stops_holding(self):
        self.channel.watch()
        self.channel.hold_rest()
        self.channel.unwatch(flush=False)
        self.channel.start("200 OK", [])
        self.channel.send_body(b"x")
        self.assertEqual(self.writes, [["START", "BODY"]])

    def test_unwatch_leaves_a_flush_in_progress_to_its_thread(self):
        self.channel.watch()
        self.channel.start("200 OK", [])
        with self.channel._flush_lock:  # the request's thread is flushing
            self.channel.unwatch()
            self.assertEqual(self.writes, [])
        self.channel.flush()
        self.assertEqual(self.writes, [["START"]])


class Backpressure(unittest.TestCase):
    def test_second_chunk_waits_for_credit(self):
        node = FakeNode(window=10)
        thread = node.run_in_thread(lambda e, s: (s("200 OK", []), [b"0123456789", b"abcdef"])[1])
        node.wait_for(RESPONSE_BODY, 1)
        time.sleep(0.1)
        self.assertEqual(node.names(), ["START", "BODY"])
        node.channel.on_credit(4)  # 6 outstanding + 6 > 10: still waiting
        time.sleep(0.1)
        self.assertEqual(len(node.of(RESPONSE_BODY)), 1)
        node.channel.on_credit(6)
        thread.join(5)
        self.assertEqual(node.names(), ["START", "BODY", "BODY", "END"])

    def test_a_lone_frame_bigger_than_the_window_is_sent(self):
        node = FakeNode(window=4)
        node.run(simple_app(body=b"0123456789"))
        self.assertEqual(node.body_bytes(), b"0123456789")

    def test_abort_while_waiting_for_credit_stops_the_app(self):
        it = Closing([b"0123456789", b"more", b"more"])
        node = FakeNode(window=10)
        thread = node.run_in_thread(lambda e, s: (s("200 OK", []), it)[1])
        node.wait_for(RESPONSE_BODY, 1)
        node.channel.on_abort()
        thread.join(5)
        self.assertFalse(thread.is_alive())
        self.assertEqual(node.terminal(), ("END", {"complete": False}))
        self.assertEqual((it.closed, len(node.of(RESPONSE_BODY))), (1, 1))

    def test_abort_stops_an_endless_generator(self):
        node = FakeNode(window=1 << 30)
        closed = threading.Event()

        def app(environ, start_response):
            start_response("200 OK", [])
            try:
                while True:
                    yield b"x"
            finally:
                closed.set()
        thread = node.run_in_thread(app)
        node.wait_for(RESPONSE_BODY, 3)
        node.channel.on_abort()
        thread.join(5)
        self.assertTrue(closed.is_set())
        self.assertEqual(node.terminal(), ("END", {"complete": False}))


if __name__ == "__main__":
    unittest.main()
