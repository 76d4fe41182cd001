"""Who reads fd 3, and where a request runs: on the thread that read it.

Handing every REQUEST from the thread that reads fd 3 to a pool thread
costs a wake-up and a GIL transfer each way: under load, 80 µs of CPU per
hello request against 40 µs for running it where it was read, as measured
in bench/README.md. So exactly one thread at a time holds the *reader role*:
it reads frames, handles them in order, and runs a REQUEST itself
("inline"). While it does, nobody reads fd 3. That is fine for a request
that ends in microseconds, but PING must still be answered, CREDIT, BODY,
ABORT and FILE_OPENED routed to the other requests, and requests queued
behind a slow one started. Two things keep fd 3 read:

  * An inline request that is about to wait for a frame (its Channel waits
    for BODY after READ, for CREDIT, for FILE_OPENED) calls pump_for().
    If it is the only request in flight, it reads fd 3 itself until what
    it waits for has come (other frames are handled as usual meanwhile; a
    REQUEST goes to another request thread): no thread changes hands, where
    the pool cost two wake-ups per wait. If other requests are in flight,
    they need a reader that is free to route their frames: the role is
    handed over at once (a *takeover*, below). Measured both ways on echo
    and big: reading itself is much cheaper for a lone request (2.4 context
    switches per echo request instead of 4), handing over is a little
    better under load (bench/README.md).
  * The monitor thread takes the role away from a request still running
    inline POLL_SECONDS after it started.

A takeover makes an idle request thread the reader, and every REQUEST that
had reached us meanwhile then goes to a request thread at once. The thread
that ran the inline request finishes it as an ordinary request thread, sees
it no longer holds the role, and goes idle in the pool.

Requests only ever run on the pool's `threads` threads: at most that many
distinct threads run pages, and with threads = 1 every request
runs on the same thread (a module-level sqlite3 connection, or any other
object tied to the thread that made it, keeps working). So when a takeover
finds no request thread free (with threads = 1, always), the role goes to a
*spare reader*, one more thread that reads and routes but runs no page: a
REQUEST it reads goes, together with the role, to a request thread as soon
as one is free (one hand-off), or waits for one in the pool's queue.

The monitor costs nothing while the worker is idle: it is parked on a lock,
woken only on the idle -> busy transition (the first inline request after
it parked), and parks again as soon as a look finds no request running
inline and none started since its previous look. While requests keep
coming it looks once per POLL_SECONDS, not once per request; see _watch.

The role is one lock's business (`_lock`): `_inline` is the channel of the
request the reader runs inline, None while the reader reads (a pumping
request thread included). A takeover clears `_inline` under the lock and
starts the next reader; the old reader, once its request ends, finds
`_inline` is no longer its channel and leaves. The spare reader hands the
role on by giving a request thread the REQUEST it just read, and reads
nothing after that. So two threads never read fd 3 at once, and frames are
handled in the order they arrived: each reader starts where the previous
one stopped, in the same FrameReader buffer.

The main thread never holds the role: it only waits for the end (see
router.FrameRouter.serve), so pages never run on it: signal handlers run
on a thread no page holds, signal.signal() in a page fails as it would under
any threaded server, and threading.main_thread() is never the page's thread.
"""

import functools
import threading
import time
import traceback

from . import log
from .protocol import REQUEST

# Why 1 ms: a request queued behind a blocking inline one waits at most
# this long (plus a GIL hand-over) before it starts: the sleep benchmark
# (32 x 50 ms) loses about 2 % to it. A look costs one wake-up of the monitor
# (25-50 µs of CPU on the VMs measured), so 1000 a second at most while busy.
# Measured in bench/README.md ("Changes and their measured effect").
POLL_SECONDS = 0.001

# Where a REQUEST read by the reader runs (Leader._place).
_HERE, _POOL, _GONE = "inline", "on the pool", "with the role"


class Leader:
    """The reader role over `frames` (a FrameReader), passed between threads.

    accept(frame) handles every frame but REQUEST itself and returns None;
    for a REQUEST it returns (channel, job), job a callable that serves it,
    or None if there is nothing to run. Jobs run on `pool`'s threads only.
    on_end(error) is called once, on the thread that read end of file
    (error None) or failed to read or handle a frame (the exception).
    alone() says whether the inline request is the only one in flight.
    """

    def __init__(self, frames, accept, pool, on_end, alone=lambda: True, poll=POLL_SECONDS):
        self._frames = frames
        self._accept = accept
        self._pool = pool
        self._on_end = on_end
        self._alone = alone
        self._poll = poll
        self._lock = threading.Lock()  # guards the role and what the monitor looks at
        self._inline = None  # the channel of the request the reader runs inline
        self._started = 0  # requests (re)started inline so far: tells the monitor one from the next
        self._since = 0.0  # when the last one started (time.monotonic())
        self._woken = 0  # _started when the monitor was last woken
        self._parked = True
        self._wake = threading.Lock()
        self._wake.acquire()  # the monitor sleeps on it while parked
        self._monitor = None
        self._spare = None  # the spare reader thread, once a takeover needed it
        self._spare_wake = threading.Lock()
        self._spare_wake.acquire()  # it sleeps on it while another thread reads
        self._over = False  # fd 3 has ended (or failed): nobody reads any more
        #: How many takeovers there were (for tests and curiosity).
        self.takeovers = 0

    def start(self):
        """Give the reader role to a request thread."""
        self._pool.submit(self._lead, False)

    # -- the reader ------------------------------------------------------------

    def _lead(self, drain, first=None, spare=False):
        """Hold the reader role until end of file, or until the role is taken from us.

        With drain true (after a takeover), REQUESTs that had already reached
        us when we took over go to the pool: they waited behind a request
        that blocked, and must all start now, not one per takeover. `first`
        is a REQUEST's (channel, job) handed over with the role, run first.
        The spare reader (spare true) runs no request.
        """
        try:
            if first is not None and not self._run_inline(*first):
                return
            if drain:
                self._frames.absorb()
            if not self._read_on(drain, spare):
                return
        except BaseException as err:  # ProtocolError, or OSError: Node is gone
            self._end(err)
            return
        self._end(None)

    def _read_on(self, drain, spare):
        """Read and handle frames: True at end of file, False once the role has left this thread."""
        frames, accept = self._frames, self._accept
        while True:
            if drain and not frames.buffered():
                drain = False
            frame = frames.read()
            if frame is None:
                return True
            started = accept(frame)
            if started is None:
                continue
            where = self._place(started, drain, spare)
            if where is _GONE:
                return False  # the role went with the request to a request thread
            if where is _HERE:
                drain = False
                if not self._run_inline(*started):
                    return False  # taken over: another thread reads now; this one goes idle

    def _place(self, started, drain, spare):
        """Where a REQUEST's job runs: _HERE (inline), _POOL, or _GONE (with the role, on a request thread)."""
        pool = self._pool
        if drain:
            if pool.offer(started[1]):
                return _POOL
            if spare:
                pool.submit(started[1])  # every request thread is busy: wait for one
                return _POOL
            return _HERE  # none free but this one
        if spare:
            if pool.offer(self._lead, False, started):
                return _GONE
            pool.submit(started[1])
            return _POOL
        return _HERE

    def _run_inline(self, channel, job):
        """Run one request on this, the reader's, thread; returns whether we still hold the role."""
        self._set_inline(channel)
        try:
            job()
        except BaseException:  # as the pool does: the thread (and the role) must survive
            log("inline job failed: %s" % traceback.format_exc().rstrip())
        with self._lock:
            if self._inline is not channel:
                return False  # taken over, or fd 3 ended while the request read it
            self._inline = None
        return True

    def _set_inline(self, channel):
        since = time.monotonic()
        with self._lock:
            self._inline = channel
            channel.watch()  # it may hold the end of its body for END: see Channel.hold_rest
            self._started += 1
            self._since = since
            if self._parked:  # the idle -> busy transition: the monitor's only wake-up
                self._parked = False
                self._wake_monitor()

    def _end(self, error):
        self._over = True
        self._on_end(error)

    # -- a request that waits for a frame --------------------------------------

    def pump_for(self, channel):
        """Channel hook (on_wait), on a request's thread about to wait for a frame.

        Returns None if someone else reads fd 3 (now): the frame will be
        routed to the channel. If this thread holds the reader role (the
        request runs inline) and no other request is in flight, returns a
        function that reads and handles one frame: call it, without the
        channel's lock, until what the request waits for has come. The
        monitor leaves the request alone meanwhile: it is reading.
        """
        with self._lock:
            if self._inline is not channel or self._over:
                return None
            self._inline = None
            alone = self._alone()
            if not alone:
                self.takeovers += 1
        if alone:
            return functools.partial(self._pump, channel)
        channel.unwatch(flush=False)  # it flushed before waiting; from now on it runs unwatched
        self._hand_over()
        return None

    def route_read(self, channel):
        """Channel hook (on_ask), on a request's thread about to ask Node for body bytes.

        If this thread holds the reader role (it runs inline), handles the
        frames already read and buffered, up to the next REQUEST: Node pushes
        a body with its REQUEST, usually in one read, and READ would cost a
        round trip. A REQUEST waits: started now, it would run on a second
        thread beside this one (4x the context switches, bench/README.md).
        """
        frames = self._frames
        with self._lock:
            if self._inline is not channel or self._over or frames.buffered_type() in (None, REQUEST):
                return
            self._inline = None  # the monitor leaves it alone while it reads, as in _pump
        try:
            while frames.buffered_type() not in (None, REQUEST):
                self._accept(frames.read())  # None: only REQUEST starts a job
        except BaseException as err:  # as in _pump
            self._end(err)
            return
        self._set_inline(channel)

    def _pump(self, channel):
        pool = self._pool
        try:
            frame = self._frames.read()
            if frame is not None:
                started = self._accept(frame)
                if started is not None and not pool.offer(started[1]):
                    pool.submit(started[1])  # every request thread is busy: wait for one
        except BaseException as err:  # as in _lead; the request hears of it as an ABORT
            self._end(err)
            return
        if frame is None:
            self._end(None)
            return
        self._set_inline(channel)  # running again: the monitor's clock restarts

    # -- takeovers -------------------------------------------------------------

    def _take_over(self, started):
        # Hand the role over if the inline request numbered `started` still runs.
        with self._lock:
            channel = self._inline
            if channel is None or self._started != started:
                return False
            self._inline = None
            self.takeovers += 1
        self._hand_over()
        channel.unwatch()  # what it held for END leaves now: the app runs on
        return True

    def _hand_over(self):
        # The role is nobody's (_inline was just cleared): give it to an idle
        # request thread, or to the spare reader if every one is busy.
        if not self._pool.offer(self._lead, True):
            self._wake_spare()

    def _wake_spare(self):
        # The spare reader is parked whenever it does not hold the role, and
        # only a takeover gives it the role: one release per acquire.
        if self._spare is None:
            self._spare = threading.Thread(target=self._spare_loop, name="pypages-reader", daemon=True)
            self._spare.start()
        else:
            self._spare_wake.release()

    def _spare_loop(self):
        while True:
            self._lead(True, spare=True)
            self._spare_wake.acquire()

    # -- the monitor -----------------------------------------------------------

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
                        self._take_over(started)
                time.sleep(delay)

    @property
    def parked(self):
        """True while the monitor sleeps (no inline work lately)."""
        return self._parked
