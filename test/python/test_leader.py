"""Leader: requests run on the thread that read them; the reader role moves when one blocks."""

import os
import random
import threading
import time
import unittest

from pypages_worker import protocol
from pypages_worker.leader import Leader
from pypages_worker.pool import ThreadPool
from pypages_worker.protocol import FrameReader, encode

from fakes import capture

TIMEOUT = 5.0
JOB = 0x01  # a REQUEST: accept() returns the job registered for its id
NOTE = 0x02  # any other frame: accept() only records it


class FakeChannel:
    """What the leader needs of a Channel: to be told when the monitor watches it."""

    def __init__(self):
        self.watched = False
        self.unwatched = []  # the `flush` argument of each unwatch()

    def watch(self):
        self.watched = True

    def unwatch(self, flush=True):
        self.watched = False
        self.unwatched.append(flush)


class CountingReader(FrameReader):
    """A FrameReader that fails the test if two threads ever read at once."""

    def __init__(self, fd):
        super().__init__(fd)
        self.inside = 0
        self.overlaps = 0
        self.gate = threading.Lock()

    def read(self):
        with self.gate:
            self.inside += 1
            if self.inside > 1:
                self.overlaps += 1
        try:
            return super().read()
        finally:
            with self.gate:
                self.inside -= 1


class Rig:
    """A Leader over a real pipe; jobs[id]() runs for the REQUEST (JOB frame) with that id."""

    def __init__(self, test, poll=0.001, threads=8):
        self.r, self.w = os.pipe()
        test.addCleanup(self.close)
        self.frames = CountingReader(self.r)
        self.jobs = {}
        self.notes = {}  # id -> called when that NOTE frame is accepted
        self.channels = {}
        self.seen = []  # (type, id, thread ident) of every frame accepted, in order
        self.ran = {}  # id -> thread ident its job ran on
        self.ended = threading.Event()
        self.end_error = []
        self.pool = ThreadPool(threads)
        self.gate = threading.Lock()
        self.in_flight = 0  # requests started and not finished, as FrameRouter.channels counts them
        self.leader = Leader(self.frames, self.accept, self.pool, self.on_end,
                             alone=lambda: self.in_flight <= 1, poll=poll)

    def accept(self, frame):
        self.seen.append((frame.type, frame.id, threading.get_ident()))
        if frame.type != JOB:
            self.notes.get(frame.id, lambda: None)()
            return None
        job = self.jobs.get(frame.id, lambda: None)
        channel = FakeChannel()

        def run():
            self.ran[frame.id] = threading.get_ident()
            try:
                job()
            finally:
                with self.gate:
                    self.in_flight -= 1
        with self.gate:
            self.in_flight += 1
        self.channels[frame.id] = channel
        return channel, run

    def on_end(self, error):
        self.end_error.append(error)
        self.ended.set()

    def start(self):
        self.leader.start()
        return self

    def send(self, *frames):
        os.write(self.w, b"".join(encode(type_, id_, b"x") for type_, id_ in frames))

    def close_writer(self):
        if self.w is not None:
            os.close(self.w)
            self.w = None

    def close(self):
        self.close_writer()
        self.ended.wait(TIMEOUT)
        os.close(self.r)

    def wait(self, predicate, what):
        deadline = time.monotonic() + TIMEOUT
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for " + what)
            time.sleep(0.001)


def wait_for_frame(leader, channel, event):
    """What Channel._wait does: read fd 3 ourselves if we hold the role, else wait."""
    while not event.is_set():
        pump = leader.pump_for(channel)
        if pump is None:
            event.wait(TIMEOUT)
        else:
            pump()


class LeaderTests(unittest.TestCase):
    def test_requests_run_inline_on_the_reader_thread(self):
        rig = Rig(self, poll=60).start()
        rig.send(*[(JOB, i) for i in range(1, 6)] + [(NOTE, 9)])
        rig.wait(lambda: len(rig.seen) == 6, "six frames")
        threads = {ident for _, _, ident in rig.seen} | set(rig.ran.values())
        self.assertEqual(len(threads), 1, "all read and run on one thread")
        self.assertNotIn(threading.main_thread().ident, threads)
        self.assertEqual(rig.leader.takeovers, 0)

    def test_a_blocking_inline_request_is_taken_over_and_what_waited_starts_at_once(self):
        rig = Rig(self, poll=0.002, threads=8)
        release = threading.Event()
        together = threading.Barrier(5, timeout=TIMEOUT)  # passes only if all five run at once
        rig.jobs[1] = lambda: release.wait(TIMEOUT)
        for i in range(2, 7):
            rig.jobs[i] = together.wait
        rig.start()
        rig.send(*[(JOB, i) for i in range(1, 7)] + [(NOTE, 99)])
        rig.wait(lambda: len(rig.ran) == 6, "every request to start")
        rig.wait(lambda: (NOTE, 99) in [(t, i) for t, i, _ in rig.seen], "the frame after them")
        self.assertFalse(release.is_set())  # all of it while request 1 still blocks
        self.assertEqual(rig.leader.takeovers, 1)
        self.assertEqual(len({rig.ran[i] for i in range(1, 7)}), 6)
        # Watched while inline; the takeover sends what it held (Channel.hold_rest).
        self.assertEqual((rig.channels[1].watched, rig.channels[1].unwatched), (False, [True]))
        release.set()

    def test_frames_keep_flowing_while_a_request_runs_long(self):
        rig = Rig(self, poll=0.002)
        release = threading.Event()
        rig.jobs[1] = lambda: release.wait(TIMEOUT)
        rig.start()
        rig.send((JOB, 1))
        rig.wait(lambda: 1 in rig.ran, "request 1")
        for n in range(3):  # e.g. PING, CREDIT for others: each handled while 1 runs
            rig.send((NOTE, 100 + n))
            rig.wait(lambda: (NOTE, 100 + n) in [(t, i) for t, i, _ in rig.seen], "note %d" % n)
        self.assertFalse(release.is_set())
        release.set()

    def test_a_request_waiting_alone_for_a_frame_reads_fd3_itself(self):
        # No monitor to rescue it (a poll of a minute): the request waits for
        # what only a later frame delivers, as Channel.read_body waits for BODY.
        rig = Rig(self, poll=60)
        delivered = threading.Event()
        rig.notes[50] = delivered.set
        rig.jobs[1] = lambda: wait_for_frame(rig.leader, rig.channels[1], delivered)
        rig.start()
        rig.send((JOB, 1), (NOTE, 40))
        rig.wait(lambda: len(rig.seen) == 2, "the frame after request 1")
        rig.send((NOTE, 50))
        rig.wait(delivered.is_set, "the frame request 1 waits for")
        rig.send((JOB, 2))
        rig.wait(lambda: 2 in rig.ran, "request 2")
        readers = [ident for _, _, ident in rig.seen]
        self.assertEqual(set(readers), {rig.ran[1]}, "every frame read on request 1's thread")
        self.assertEqual(rig.ran[2], rig.ran[1])  # and back to running them inline
        self.assertEqual(rig.leader.takeovers, 0)

    def test_a_request_waiting_for_a_frame_with_others_in_flight_hands_the_role_over(self):
        rig = Rig(self, poll=60)
        delivered = threading.Event()
        rig.notes[50] = delivered.set
        rig.jobs[1] = lambda: wait_for_frame(rig.leader, rig.channels[1], delivered)
        rig.jobs[2] = lambda: delivered.wait(TIMEOUT)
        rig.start()
        rig.send((JOB, 1))  # request 1 waits alone: it reads on...
        rig.wait(lambda: 1 in rig.ran, "request 1")
        rig.send((JOB, 2))  # ...starts request 2 on another thread, then hands over
        rig.wait(lambda: 2 in rig.ran, "request 2")
        rig.wait(lambda: rig.leader.takeovers == 1, "the takeover")
        rig.send((NOTE, 50))
        rig.wait(delivered.is_set, "the frame both wait for")
        self.assertEqual(rig.seen[1][2], rig.ran[1])  # REQUEST 2 read by request 1's thread
        self.assertNotEqual(rig.seen[2][2], rig.ran[1])  # NOTE 50 by the new reader
        self.assertNotEqual(rig.ran[2], rig.ran[1])
        # It flushed before waiting: handing over only stops the holding.
        self.assertEqual((rig.channels[1].watched, rig.channels[1].unwatched), (False, [False]))
        self.assertIsNone(rig.leader.pump_for(rig.channels[2]), "only the inline request pumps")
        self.assertEqual(rig.frames.overlaps, 0)

    def test_the_old_reader_leaves_and_the_new_one_runs_inline(self):
        rig = Rig(self, poll=0.001)
        rig.jobs[1] = lambda: time.sleep(0.02)
        rig.start()
        rig.send((JOB, 1))
        rig.wait(lambda: rig.leader.takeovers == 1, "the takeover")
        rig.send((JOB, 2), (JOB, 3))
        rig.wait(lambda: 3 in rig.ran, "requests 2 and 3")
        self.assertEqual(rig.ran[2], rig.ran[3])  # inline on the new reader
        self.assertNotEqual(rig.ran[1], rig.ran[2])
        self.assertEqual(rig.leader.takeovers, 1)

    def test_never_two_readers_and_frames_in_order(self):
        rig = Rig(self, poll=0.0005, threads=16)
        rng = random.Random(7)
        for i in range(1, 301):
            pause = rng.choice([0, 0, 0, 0.0003, 0.0006, 0.001, 0.003])
            rig.jobs[i] = (lambda p: (lambda: time.sleep(p)))(pause)
        rig.start()
        for start in range(1, 301, 10):
            rig.send(*[(JOB if i % 3 else NOTE, i) for i in range(start, start + 10)])
            time.sleep(rng.choice([0, 0.0005, 0.002]))
        rig.wait(lambda: len(rig.seen) == 300, "every frame")
        self.assertEqual([i for _, i, _ in rig.seen], list(range(1, 301)))
        self.assertEqual(rig.frames.overlaps, 0)
        self.assertLessEqual(len(set(rig.ran.values())), 16, "requests ran on more threads than `threads`")
        self.assertGreater(rig.leader.takeovers, 0, "the test meant to exercise takeovers")

    def test_with_one_thread_every_request_runs_on_it(self):
        # A takeover finds the one request thread busy: the spare reader
        # reads meanwhile, and gives the role back with the next REQUEST.
        rig = Rig(self, poll=0.001, threads=1)
        noted = threading.Event()
        rig.jobs[1] = lambda: noted.wait(TIMEOUT)  # blocks: the monitor takes it over
        pumped = threading.Event()
        rig.notes[11] = pumped.set
        rig.jobs[2] = lambda: wait_for_frame(rig.leader, rig.channels[2], pumped)
        rig.start()
        rig.send((JOB, 1))
        rig.wait(lambda: 1 in rig.ran, "request 1")
        rig.send((NOTE, 10))
        rig.wait(lambda: len(rig.seen) == 2, "the note, read by the spare reader")
        spare = rig.seen[1][2]
        noted.set()
        rig.wait(lambda: rig.pool._idle, "request 1's thread to be idle")  # Node waits for END
        rig.send((JOB, 2))  # handed, with the role, to the one request thread
        rig.wait(lambda: 2 in rig.ran, "request 2")
        rig.send((NOTE, 11))  # read by request 2's own thread
        rig.wait(pumped.is_set, "the frame request 2 waits for")
        for id_ in (3, 4):  # one at a time, as Node sends them with threads = 1
            time.sleep(0.01)
            rig.send((JOB, id_))
            rig.wait(lambda: id_ in rig.ran, "request %d" % id_)
        self.assertEqual(set(rig.ran.values()), {rig.ran[1]})
        self.assertNotEqual(spare, rig.ran[1])
        self.assertEqual(rig.leader.takeovers, 1)
        self.assertEqual([ident for _, _, ident in rig.seen[3:]], [rig.ran[1]] * 3,
                         "NOTE 11 and requests 3 and 4 were read where they ran: the role came back")
        self.assertEqual(rig.frames.overlaps, 0)

    def test_a_spare_reader_with_every_thread_busy_queues_requests(self):
        rig = Rig(self, poll=0.001, threads=2)
        release = threading.Event()
        rig.jobs[1] = rig.jobs[2] = lambda: release.wait(TIMEOUT)
        rig.start()
        rig.send((JOB, 1))
        rig.wait(lambda: 1 in rig.ran, "request 1")
        rig.send((JOB, 2))  # inline on a second request thread after the takeover
        rig.wait(lambda: 2 in rig.ran, "request 2")
        rig.send((JOB, 3), (NOTE, 20))  # both threads busy: read by the spare, queued
        rig.wait(lambda: len(rig.seen) == 4, "the frames after request 2")
        self.assertNotIn(3, rig.ran)
        release.set()
        rig.wait(lambda: 3 in rig.ran, "request 3")
        self.assertIn(rig.ran[3], {rig.ran[1], rig.ran[2]})
        self.assertEqual(rig.frames.overlaps, 0)

    def test_the_monitor_parks_when_no_request_runs(self):
        rig = Rig(self, poll=0.001)
        self.assertTrue(rig.leader.parked)
        rig.jobs[1] = lambda: time.sleep(0.005)  # long enough for a look or two
        rig.start()
        rig.send((JOB, 1), (JOB, 2))
        rig.wait(lambda: 2 in rig.ran, "requests")
        rig.wait(lambda: rig.leader.parked, "the monitor to park")
        monitor = rig.leader._monitor
        self.assertIsNotNone(monitor)
        if not hasattr(time, "pthread_getcpuclockid"):
            return
        clock = time.pthread_getcpuclockid(monitor.ident)
        before = time.clock_gettime(clock)
        time.sleep(0.1)
        self.assertEqual(time.clock_gettime(clock), before, "a parked monitor uses no CPU at all")

    def test_an_idle_worker_starts_no_monitor(self):
        rig = Rig(self).start()
        rig.send((NOTE, 1))
        rig.wait(lambda: rig.seen, "the frame")
        self.assertIsNone(rig.leader._monitor)

    def test_a_failing_job_is_logged_and_the_reader_goes_on(self):
        rig = Rig(self, poll=60)
        rig.jobs[1] = lambda: 1 / 0
        rig.start()
        with capture("stderr") as err:
            rig.send((JOB, 1), (JOB, 2))
            rig.wait(lambda: 2 in rig.ran, "request 2")
        self.assertIn("ZeroDivisionError", err.getvalue())
        self.assertEqual(rig.ran[1], rig.ran[2])

    def test_end_of_file_ends_once(self):
        rig = Rig(self).start()
        rig.send((NOTE, 1))
        rig.close_writer()
        self.assertTrue(rig.ended.wait(TIMEOUT))
        self.assertEqual(rig.end_error, [None])

    def test_a_broken_stream_ends_with_its_error(self):
        rig = Rig(self).start()
        os.write(rig.w, encode(NOTE, 1, b"x")[:5])  # EOF inside a frame
        rig.close_writer()
        self.assertTrue(rig.ended.wait(TIMEOUT))
        self.assertEqual(len(rig.end_error), 1)
        self.assertIsInstance(rig.end_error[0], protocol.ProtocolError)

    def test_end_of_file_after_a_takeover_is_read_by_the_new_reader(self):
        rig = Rig(self, poll=0.001)
        release = threading.Event()
        rig.jobs[1] = lambda: release.wait(TIMEOUT)
        rig.start()
        rig.send((JOB, 1))
        rig.wait(lambda: 1 in rig.ran, "request 1")
        rig.close_writer()
        self.assertTrue(rig.ended.wait(TIMEOUT), "EOF seen while request 1 still runs")
        self.assertFalse(release.is_set())
        release.set()


if __name__ == "__main__":
    unittest.main()
