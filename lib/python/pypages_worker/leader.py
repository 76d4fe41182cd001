"""Who reads fd 3, and where a request runs: on the thread that read it.

Handing every REQUEST from the thread that reads fd 3 to a pool thread
costs a wake-up and a GIL transfer each way: under load the worker spent
80 µs of CPU per hello request that way, 40 µs running it where it was read
(bench/README.md). So exactly one thread at a time holds the *reader role*:
it reads frames, handles them in order, and runs a REQUEST itself
("inline"). While it does, nobody reads fd 3, which is fine for a request
that ends in microseconds but not for one that blocks: PING must be
answered, CREDIT/BODY/ABORT/FILE_OPENED routed to the other requests, and
requests queued behind it must start. So the role is handed over (a
*takeover*): a pool thread becomes the reader, and every REQUEST that had
reached us meanwhile goes to a pool thread at once. The thread that ran the
inline request finishes it as an ordinary request thread, sees it no longer
holds the role, and goes idle in the pool.

A takeover happens
  * at once, when the inline request is about to wait for a frame (its
    Channel calls release(): READ -> BODY, credit, FILE_OPENED): it would
    otherwise wait for a frame only its own thread could read;
  * when the monitor thread finds the same request still running inline
    POLL_SECONDS after it started.

The monitor costs nothing while the worker is idle: it is parked on a lock,
woken only on the idle -> busy transition (the first inline request after
it parked), and parks again as soon as a look finds no request running
inline and none started since its previous look. While requests keep
coming it looks once per POLL_SECONDS, not once per request; see _watch.

The role is one lock's business (`_lock`): `_inline` is the channel of the
request the reader runs inline, None while the reader reads. A takeover
clears `_inline` under the lock and starts the next reader; the old reader,
once its request ends, finds `_inline` is no longer its channel and leaves.
So two threads never read fd 3 at once, and frames are handled in the
order they arrived: the new reader starts where the old one stopped, in
the same FrameReader buffer.

The main thread never holds the role: it only waits for the end (see
main.Worker.serve), so pages never run on it, as before (signal handlers,
signal.signal() failing in a page, and threading.main_thread() are as they
were with the pool).
"""

import threading
import time
import traceback

from . import log

# Why 1 ms: a request queued behind a blocking inline one waits at most
# this long (plus a GIL hand-over) before it starts: the sleep benchmark
# (32 x 50 ms) loses about 2 % to it. A look costs one wake-up of the monitor
# (25-50 µs of CPU on the VMs measured), so 1000 a second at most while busy.
# Measured in bench/README.md ("Changes and their measured effect").
POLL_SECONDS = 0.001


class Leader:
    """The reader role over `frames` (a FrameReader), passed between `pool`'s threads.

    accept(frame) handles every frame but REQUEST itself and returns None;
    for a REQUEST it returns (channel, job), job a callable that serves it,
    or None if there is nothing to run. on_end(error) is called once, on
    the thread that read end of file (error None) or failed to read or
    handle a frame (the exception).
    """

    def __init__(self, frames, accept, pool, on_end, poll=POLL_SECONDS):
        self._frames = frames
        self._accept = accept
        self._pool = pool
        self._on_end = on_end
        self._poll = poll
        self._lock = threading.Lock()  # guards the role and what the monitor looks at
        self._inline = None  # the channel of the request the reader runs inline
        self._started = 0  # requests started inline so far: tells the monitor one from the next
        self._since = 0.0  # when the last one started (time.monotonic())
        self._woken = 0  # _started when the monitor was last woken
        self._parked = True
        self._wake = threading.Lock()
        self._wake.acquire()  # the monitor sleeps on it while parked
        self._monitor = None
        #: How many takeovers there were (for tests and curiosity).
        self.takeovers = 0

    def start(self):
        """Give the reader role to a pool thread."""
        self._pool.submit_now(self._lead, False)

    def release(self, channel):
        """Channel hook, called on the request's thread just before it waits for a frame:
        if that request runs inline, hand the reader role over now."""
        self._take_over(channel, None)

    def _take_over(self, channel, started):
        # Hand the role over if `channel` (or, with channel None, the inline
        # request numbered `started`) is still the one running inline.
        with self._lock:
            if self._inline is None or (self._inline is not channel if channel is not None
                                        else self._started != started):
                return False
            self._inline = None
            self.takeovers += 1
        self._pool.submit_now(self._lead, True)
        return True

    def _lead(self, drain):
        """Hold the reader role until end of file, or until the role is taken from us.

        With drain true (after a takeover), REQUESTs that had already reached
        us when we took over go to the pool: they waited behind a request
        that blocked, and must all start now, not one per takeover.
        """
        frames, accept, clock = self._frames, self._accept, time.monotonic
        try:
            if drain:
                frames.absorb()
            while True:
                if drain and not frames.buffered():
                    drain = False
                frame = frames.read()
                if frame is None:
                    break
                started = accept(frame)
                if started is None:
                    continue
                channel, job = started
                if drain:
                    self._pool.submit(job)
                    continue
                since = clock()
                with self._lock:
                    self._inline = channel
                    self._started += 1
                    self._since = since
                    if self._parked:  # the idle -> busy transition: the monitor's only wake-up
                        self._parked = False
                        self._wake_monitor()
                try:
                    job()
                except BaseException:  # as the pool does: the thread (and the role) must survive
                    log("inline job failed: %s" % traceback.format_exc().rstrip())
                with self._lock:
                    if self._inline is not channel:
                        return  # taken over: another thread reads now; this one goes idle
                    self._inline = None
        except BaseException as err:  # ProtocolError, or OSError: Node is gone
            self._on_end(err)
            return
        self._on_end(None)

    def _wake_monitor(self):
        # Called with _lock held, by the reader, as it starts an inline request.
        self._woken = self._started  # that request counts as seen: see _watch
        if self._monitor is None:
            self._monitor = threading.Thread(target=self._watch, name="pypages-monitor", daemon=True)
            self._monitor.start()
        self._wake.release()

    def _watch(self):
        """The monitor: parked, or looking at the inline request when it is due.

        Each look either takes over a request that has run inline for POLL
        seconds, or sleeps until the running one will have (a request that
        started just before a look is not left running up to 2 x POLL), or,
        if no request started inline since the previous look and none runs,
        parks. So it wakes at most about once per inline request and at most
        about 1/POLL times a second, and not at all while nothing runs.
        (Why this matters: on the VMs measured, one wake of a sleeping
        thread costs 25-50 µs of CPU, as much as a whole hello request.)
        """
        poll, clock = self._poll, time.monotonic
        while True:
            self._wake.acquire()
            with self._lock:
                seen = self._woken
            while True:
                with self._lock:
                    running, started, since = self._inline is not None, self._started, self._since
                    if not running and started == seen:  # nothing inline since the last look
                        self._parked = True
                        break
                seen = started
                delay = poll
                if running:
                    late = clock() - since - poll
                    if late < 0:
                        delay = -late
                    else:
                        self._take_over(None, started)
                time.sleep(delay)

    @property
    def parked(self):
        """True while the monitor sleeps (no inline work lately)."""
        return self._parked
