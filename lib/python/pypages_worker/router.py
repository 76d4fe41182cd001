"""The frame router: hands each frame from Node to the request it is for.

Frames are read by whichever thread holds the reader role: a request
thread, which runs each REQUEST itself (reads on while that request waits
for a frame, and hands the role over if it runs long), or, while every
request thread is busy, a spare reader (leader.py). The main thread only
waits for the end: it reads nothing and runs no page. At most --threads
requests run at once (Node never sends more), on at most --threads threads.

Once fd 3 has ended, the router aborts the requests in flight and gives them
DRAIN_SECONDS before the process exits.
"""

import functools
import os
import sys
import threading
import traceback

from . import errors, exits, log
from .channel import Channel
from .leader import Leader
from .pool import ThreadPool
from .protocol import ABORT, BODY, CREDIT, FILE_OPENED, PING, PONG, REQUEST, ProtocolError, load_json, read_uint32
from .request import handle_request, parse_request

DRAIN_SECONDS = 0.5  # how long in-flight requests get once Node has gone


class FrameRouter:
    """Routes Node's frames to requests; runs each request where it was read, or on the pool."""

    def __init__(self, root, threads, send, reporter, multiprocess=False, send_many=None):
        self.root = root
        self.threads = threads
        self.multiprocess = multiprocess
        self.send_many = send_many
        self.send = send
        self.reporter = reporter  # a WatchReporter: told before each request's terminal frame
        self.pool = ThreadPool(threads)  # pages run on these threads only (leader.py)
        self.channels = {}  # request id -> Channel, until its terminal frame
        self.idle = threading.Condition()
        self.leader = None  # the reader role, once serve() starts it
        self._on_wait = None  # Channel hook: the leader's pump_for, once there is a leader
        self._on_ask = None  # Channel hook: the leader's route_read, likewise
        self._ended = threading.Lock()
        self._ended.acquire()  # released by the reader at the end of fd 3
        self._end_code = exits.OK

    def serve(self, reader, **leader_options):
        """Serve frames from `reader` (a FrameReader) until end of file; returns the exit code.

        Call it on the main thread: it waits here, so that the main thread is
        the one that returns from main() (signal handlers run on it).
        """
        self.leader = Leader(reader, self.accept, self.pool, self._end,
                             alone=lambda: len(self.channels) <= 1, **leader_options)
        self._on_wait = self.leader.pump_for
        self._on_ask = self.leader.route_read
        self.leader.start()
        self._ended.acquire()  # signals still reach their handlers while we wait
        code = self._end_code
        self.shutdown(code)
        return code

    def _end(self, error):
        """Leader hook, on the reader's thread: fd 3 ended (error None) or failed."""
        try:
            self._log_end(error)
        finally:
            self._ended.release()  # whatever logging did: the main thread must get to exit

    def _log_end(self, error):
        if isinstance(error, ProtocolError):
            log("protocol error from Node: %s; exiting" % error)
            self._end_code = exits.PROTOCOL
        elif isinstance(error, OSError):  # e.g. EPIPE answering a PING: Node is gone
            log("lost the pipes to Node: %s; exiting" % error)
            self._end_code = exits.PROTOCOL
        elif error is not None:  # a bug in this package: exit as if Node had broken the protocol
            log("the frame reader failed: %s" % "".join(
                traceback.format_exception(type(error), error, error.__traceback__)).rstrip())
            self._end_code = exits.PROTOCOL

    def accept(self, frame):
        """Act on one frame from Node, except that a REQUEST is only registered:
        returns (channel, job) for the caller to run job(), or None."""
        if frame.type == REQUEST:
            return self.start(frame)
        if frame.type == PING:
            self.send(PONG, 0, frame.payload)
        elif frame.type in (BODY, CREDIT, ABORT, FILE_OPENED):
            self.route(frame)
        else:
            log("unknown frame type 0x%02x (request %d); ignored" % (frame.type, frame.id))
        return None

    def start(self, frame):
        """Register a REQUEST's channel; returns (channel, job), job() serving it, or None."""
        try:
            request = parse_request(frame.payload)
        except ProtocolError as err:
            Channel(frame.id, self.send, 0).error(errors.PROTOCOL, str(err))
            return None
        channel = Channel(frame.id, self.send, request["window"], request["body"], self.release, self.send_many,
                          self._on_wait, request["push"], self._on_ask)
        with self.idle:
            if frame.id in self.channels:
                log("REQUEST %d reuses the id of a request in flight; ignored" % frame.id)
                return None
            self.channels[frame.id] = channel
        return channel, functools.partial(handle_request, channel, request, self.root, self.threads > 1,
                                          self.reporter, self.multiprocess)

    def release(self, channel):
        """Channel hook, run just before its terminal frame: report imports, forget the id."""
        self.reporter.report()
        with self.idle:
            if self.channels.get(channel.id) is channel:
                del self.channels[channel.id]
            self.idle.notify_all()

    def route(self, frame):
        """Hand BODY/CREDIT/ABORT/FILE_OPENED to its request; late frames are dropped."""
        channel = self.channels.get(frame.id)
        if channel is None:
            return  # e.g. CREDIT for a request that has just ended
        try:
            if frame.type == BODY:
                channel.on_body(frame.payload)
            elif frame.type == CREDIT:
                channel.on_credit(read_uint32(frame.payload))
            elif frame.type == ABORT:
                channel.on_abort()
            else:
                channel.on_file_opened(load_json(frame.payload))
        except ProtocolError as err:
            log("request %d: bad frame from Node: %s; aborting it" % (frame.id, err))
            channel.on_abort()

    def shutdown(self, code=exits.OK):
        """Node has gone: stop every request and give them a moment; exits now if one is stuck."""
        with self.idle:
            for channel in self.channels.values():
                channel.on_abort()
            self.idle.wait_for(lambda: not self.channels, DRAIN_SECONDS)
            stuck = len(self.channels)
        if stuck:
            # A page that ignores the abort would keep the interpreter alive at exit.
            log("%d request(s) still running at exit; not waiting for them" % stuck)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError, AttributeError):
                    pass  # a broken pipe: Node has gone, and must not keep us here
            os._exit(code)
