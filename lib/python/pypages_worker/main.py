"""The worker process: arguments, the READY handshake, and the routing of Node's frames.

Frames are read by whichever thread holds the reader role: a request
thread, which runs each REQUEST itself (reads on while that request waits
for a frame, and hands the role over if it runs long), or, while every
request thread is busy, a spare reader (leader.py). The main thread only
waits for the end: it reads nothing and runs no page. At most --threads
requests run at once (Node never sends more), on at most --threads threads.

Once fd 3 has ended, the worker aborts its requests, gives them DRAIN_SECONDS,
and exits; a watchdog thread (lifeline.py) ends it LIFELINE_SECONDS after fd 3
hung up if it is still running, whatever holds it (a page's thread, an atexit
handler).
"""

import argparse
import fcntl
import functools
import socket
import stat
import faulthandler
import os
import platform
import signal
import sys
import threading
import traceback

from . import PROTOCOL_VERSION, errors, lifeline, loader, log, signals
from .channel import Channel
from .leader import Leader
from .pool import ThreadPool
from .request import find_app, handle_request, parse_request
from .watch import WatchReporter
from .errors import describe
from .protocol import (ABORT, BODY, CREDIT, FILE_OPENED, PING, PONG, READY, REQUEST,
                       FrameReader, FrameWriter, ProtocolError, dump_json, load_json,
                       read_uint32)

FD_IN, FD_OUT = 3, 4
EXIT_OK, EXIT_PROTOCOL, EXIT_USAGE = 0, 1, 2  # 2 is also argparse's
EXIT_LINGERED = 5  # still running LIFELINE_SECONDS after fd 3 hung up (lifeline.py)
DRAIN_SECONDS = 0.5  # how long in-flight requests get once Node has gone
LIFELINE_SECONDS = DRAIN_SECONDS + 1.0  # then atexit handlers and thread joins get the rest


def build_parser():
    """Return the command-line parser; the fork server builds one and reuses it in every child."""
    parser = argparse.ArgumentParser(prog="pypages_worker", description="pypages Python worker")
    parser.add_argument("--root", required=True, help="the document root (absolute path)")
    parser.add_argument("--threads", type=int, default=1, help="requests run at once")
    parser.add_argument("--processes", type=int, default=1, help="processes in this worker's group")
    parser.add_argument("--python-path", action="append", default=[], help="extra import path (repeatable)")
    parser.add_argument("--preload", action="append", default=[], help="script to import at start (repeatable)")
    return parser


def parse_args(argv=None, parser=None):
    """Return the parsed command line (--root, --threads, ...), with `parser` from build_parser() if given."""
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    args.root = os.path.realpath(args.root)
    return args


def main(argv=None, parser=None, fresh=True):
    """Run the worker until Node closes fd 3; returns the exit code.

    A child of the fork server (forkserver.py) passes the parser the zygote
    built (building one costs each child memory of its own), and fresh=False:
    the zygote cleaned sys.path when it started, and our cwd is no longer the
    one that `python -m` put there.
    """
    set_up_process()
    args = parse_args(argv, parser)
    if fresh:
        isolate_sys_path()
    sys.path[0:0] = args.python_path
    try:
        for fd in (FD_IN, FD_OUT):
            os.set_inheritable(fd, False)  # a page's child processes must not hold our pipes
            widen(fd)
    except OSError:
        log("fds 3 and 4 must be the frame pipes: this program is started by the pypages server")
        return EXIT_USAGE
    lifeline.exit_after_hangup(FD_IN, LIFELINE_SECONDS, EXIT_LINGERED)  # before anything can block
    writer = FrameWriter(FD_OUT)
    worker = Worker(args.root, args.threads, writer.send, args.processes > 1, writer.send_many)
    worker.ready()
    worker.preload(args.preload)  # after READY: Node treats every frame before it as a failed start
    return worker.serve(FrameReader(FD_IN))


def set_up_process():
    """What every worker does first, spawned or forked (its fds 1 and 2 are the log already)."""
    signals.ignore_stop_signals()  # Node supervises: it closes fd 3 to stop us (see signals.py)
    signals.default_in_forked_children()
    loader.watch_imports()  # before any page or preload is imported
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)  # print() reaches the log promptly
    # Before Node kills a hung worker it sends SIGUSR1: every thread's stack goes to the error log.
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)


PIPE_BYTES = 1 << 20  # Linux's default cap for an unprivileged pipe (fs.pipe-max-size)


def widen(fd):
    """Give the frame channel 1 MiB of kernel buffer instead of 64 KiB: large bodies
    then cross in few wake-ups, not in 64 KiB ping-pong. Best effort."""
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
        elif stat.S_ISSOCK(os.fstat(fd).st_mode):
            sock = socket.socket(fileno=os.dup(fd))
            for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
                sock.setsockopt(socket.SOL_SOCKET, option, PIPE_BYTES)
            sock.close()
    except (OSError, ImportError, AttributeError):
        pass  # not Linux, or over the limit: the default size still works


def isolate_sys_path():
    """Drop the cwd that `python -m` put first on sys.path, so it is not importable by accident."""
    if getattr(sys.flags, "safe_path", False) or not sys.path:
        return  # -P / PYTHONSAFEPATH (3.11+): nothing was added
    first = sys.path[0]
    if first in ("", ".") or os.path.realpath(first) == os.path.realpath(os.getcwd()):
        del sys.path[0]


class Worker:
    """Routes Node's frames to requests; runs each request where it was read, or on the pool."""

    def __init__(self, root, threads, send, multiprocess=False, send_many=None):
        self.root = root
        self.threads = threads
        self.multiprocess = multiprocess
        self.send_many = send_many
        self.send = send
        # What is imported before any page runs (the runtime, shared preloads) is not the user's code.
        # (Listing sys.modules only when imports are not recorded: in a forked
        # worker, touching every module name would unshare their memory.)
        watched = loader.imports_watched()
        self.reporter = WatchReporter(root, send, seen=() if watched else list(sys.modules), skip_recorded=watched)
        self.pool = ThreadPool(threads)  # pages run on these threads only (leader.py)
        self.channels = {}  # request id -> Channel, until its terminal frame
        self.idle = threading.Condition()
        self.leader = None  # the reader role, once serve() starts it
        self._on_wait = None  # Channel hook: the leader's pump_for, once there is a leader
        self._ended = threading.Lock()
        self._ended.acquire()  # released by the reader at the end of fd 3
        self._end_code = EXIT_OK

    def preload(self, scripts):
        """Import these pages now rather than at their first request; failures are only logged."""
        for script in scripts:
            try:
                find_app(script, self.root)
            except BaseException as err:  # the first request will report it properly
                log("preload of %s failed: %s" % (script, describe(err)[0]))
        self.reporter.report()

    def ready(self):
        """Send the READY handshake."""
        info = {"pid": os.getpid(), "python": platform.python_version(),
                "executable": sys.executable, "protocol": PROTOCOL_VERSION}
        self.send(READY, 0, dump_json(info))

    def serve(self, reader, **leader_options):
        """Serve frames from `reader` (a FrameReader) until end of file; returns the exit code.

        Call it on the main thread: it waits here, so that the main thread is
        the one that returns from main() (signal handlers run on it).
        """
        self.leader = Leader(reader, self.accept, self.pool, self._end,
                             alone=lambda: len(self.channels) <= 1, **leader_options)
        self._on_wait = self.leader.pump_for
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
            self._end_code = EXIT_PROTOCOL
        elif isinstance(error, OSError):  # e.g. EPIPE answering a PING: Node is gone
            log("lost the pipes to Node: %s; exiting" % error)
            self._end_code = EXIT_PROTOCOL
        elif error is not None:  # a bug in this package: exit as if Node had broken the protocol
            log("the frame reader failed: %s" % "".join(
                traceback.format_exception(type(error), error, error.__traceback__)).rstrip())
            self._end_code = EXIT_PROTOCOL

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
                          self._on_wait, request["push"])
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

    def shutdown(self, code=EXIT_OK):
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
