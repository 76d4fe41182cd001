"""One request's end of the pipes: the frames it sends, and those Node routes to it.

The request's thread calls the outbound methods (read_body, send_body,
open_file, start, end, error); the thread that reads fd 3 (leader.py)
calls the on_* methods. A Condition joins the two: it holds the response
credit, the pending READ and FILE, and the abort flag.
"""

import collections
import threading

from . import log
from .errors import STATUS, describe
from .protocol import (BODY_WINDOW, END, ERROR, FILE, MAX_BODY_CHUNK, READ,
                       RESPONSE_BODY, START, dump_json, start_payload, uint32)


_COMPLETE = dump_json({"complete": True})
_INCOMPLETE = dump_json({"complete": False})


class ClientAborted(OSError):
    """The client went away (ABORT): the request must stop producing output."""


class Channel:
    """Flow control and framing for one request id.

    send(type, id, payload) writes a frame. on_finish(channel), if given,
    runs just before the terminal frame (END or ERROR), which is sent at
    most once. on_wait(channel), if given, runs on the request's thread each
    time it is about to wait for a frame from Node (BODY, CREDIT,
    FILE_OPENED): if that thread holds the reader role (leader.py), nobody
    else would read the frame, and on_wait returns a function that reads
    and handles one frame, which the thread then calls instead of waiting;
    otherwise it returns None. on_ask(channel), if given, runs before READ:
    it routes the frames already read from fd 3 (leader.py), body included.
    """

    def __init__(self, id_, send, window, has_body=True, on_finish=None, send_many=None, on_wait=None,
                 push=0, on_ask=None):
        self.id = id_
        self._send = send
        # Frames held back to leave in one write: START with the first BODY,
        # and a list body with its END (see hold_body).
        self._send_many = send_many or (lambda frames: [send(*f) for f in frames])
        self._held = []
        self._held_bytes = 0
        self._held_lock = threading.Lock()  # the held list and the two flags below
        self._flush_lock = threading.Lock()  # one flush at a time: frames leave in order
        #: Set while BODY frames may wait for END: the whole body is in memory
        #: already (a list), or it is complete and the monitor watches (hold_rest).
        self.hold_body = False
        self._watched = False
        self._window = window
        self._on_finish = on_finish
        self._on_wait = on_wait
        self._on_ask = on_ask
        self._cond = threading.Condition()
        self._read_lock = threading.Lock()
        self._outstanding = 0  # response bytes sent minus CREDIT returned
        self._aborted = False
        # The request body as Node pushes it (lib/worker/protocol.md, "Request body"):
        # what has come and not been read yet, whether the end has come, and
        # how many more bytes Node may send before we ask (its credit).
        self._body = collections.deque()  # the BODY payloads (bytes) as they came: read without copying
        self._body_eof = not has_body
        self._at_node = push
        self._file_answer = None
        self._finished = False
        #: err -> ERROR's `details` (explain.details), set by the request's handler; None: no details.
        self.explain = None

    @property
    def aborted(self):
        """True once Node has sent ABORT for this request."""
        return self._aborted

    @property
    def finished(self):
        """True once the terminal frame has been sent."""
        return self._finished

    # -- inbound: called by the thread reading fd 3 --------------------------

    def on_body(self, data):
        """Keep request-body bytes Node pushed (within the credit we gave it); empty = end of body."""
        with self._cond:
            if not data:
                self._body_eof = True
            else:
                self._body.append(data)
                self._at_node -= len(data)
                if self._at_node < 0:
                    log("request %d: Node sent %d body bytes beyond the credit it had" % (self.id, -self._at_node))
                    self._at_node = 0
            self._cond.notify_all()

    def on_credit(self, n):
        """Node flushed n more response bytes to the client."""
        with self._cond:
            self._outstanding -= n
            self._cond.notify_all()

    def on_abort(self):
        """The client went away: wake every waiter; the next read/write raises ClientAborted."""
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def on_file_opened(self, answer):
        """Deliver FILE_OPENED's JSON object ({"ok": bool, "error"?: str})."""
        with self._cond:
            self._file_answer = answer
            self._cond.notify_all()

    # -- outbound: called by the request's thread ----------------------------

    def read_body(self, size):
        """Return 1..size request-body bytes, or b'' at the end of the body.

        Node pushes the body unasked, up to BODY_WINDOW bytes ahead of what
        was read: most bodies are here before the page asks. Only when none
        is (left) does it send READ, which tops Node's credit back up to the
        window and says the page is waiting (Node counts that time as the
        client's, not the page's).
        """
        with self._read_lock:
            with self._cond:
                self._raise_if_aborted()
                if size <= 0:
                    return b""
                missing = not self._body and not self._body_eof
            if missing and self._on_ask is not None:
                self._on_ask(self)  # Node pushed it with the REQUEST, most likely: a READ would cost a round trip
            with self._cond:
                grant = None
                if not self._body and not self._body_eof:
                    grant = max(0, BODY_WINDOW - self._at_node)
                    self._at_node += grant
            if grant is not None:
                self._hold(READ, uint32(grant))
                self.flush()
            with self._cond:
                self._wait(lambda: self._body or self._body_eof)
                return self._take_body(size)

    def _take_body(self, size):
        # Up to `size` bytes from the front; a payload that fits is handed over as it is.
        parts, n = [], 0
        while self._body and n < size:
            chunk = self._body.popleft()
            if n + len(chunk) > size:
                self._body.appendleft(chunk[size - n:])
                chunk = chunk[:size - n]
            parts.append(chunk)
            n += len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def start(self, status, headers):
        """Queue START (the status line and the [name, value] headers); it leaves with the next frame."""
        self._hold(START, start_payload(status, headers))

    def send_body(self, data):
        """Send response bytes as BODY frames of at most 256 KiB, each within the credit."""
        if type(data) is bytes and len(data) <= MAX_BODY_CHUNK:
            chunks = (data,) if data else ()  # one frame, and bytes need no view: they cannot change
        else:
            view = memoryview(data)
            chunks = (view[offset:offset + MAX_BODY_CHUNK] for offset in range(0, len(view), MAX_BODY_CHUNK))
        for chunk in chunks:
            self._take_credit(len(chunk))
            self._hold(RESPONSE_BODY, chunk)
            if not self.hold_body or self._held_bytes >= MAX_BODY_CHUNK:
                self.flush()

    def _take_credit(self, n):
        # Wait until n more bytes fit the window; a lone frame may exceed it.
        with self._cond:
            if not self._aborted and (self._outstanding <= 0 or self._outstanding + n <= self._window):
                self._outstanding += n  # it fits: what _wait() would find at once
                return
            if self._outstanding > 0 and self._outstanding + n > self._window:
                self._cond.release()
                try:
                    self.flush()  # what we hold must reach Node before credit can come back
                finally:
                    self._cond.acquire()
            self._wait(lambda: self._outstanding <= 0 or self._outstanding + n <= self._window)
            self._outstanding += n

    def _hold(self, type_, payload):
        with self._held_lock:
            self._held.append((type_, self.id, payload))
            self._held_bytes += len(payload)

    def flush(self):
        """Write every held frame, in one write."""
        with self._flush_lock:
            self._flush_locked()

    def _flush_locked(self):
        with self._held_lock:
            frames, self._held, self._held_bytes = self._held, [], 0
        if frames:
            self._send_many(frames)

    # -- holding the end of a body for END (leader.py's monitor watches) -------

    def watch(self):
        """leader.py: the monitor now watches this request (it runs inline)."""
        with self._held_lock:
            self._watched = True

    def hold_rest(self):
        """The body is complete (its Content-Length is reached): what follows may wait for END.

        Then START, the body and END leave in one write even when the app's
        iterable is not a list (most frameworks'). Only while the monitor
        watches: if the app goes on running (a slow close(), work after the
        last chunk), the monitor calls unwatch() within a millisecond or so,
        which sends what is held, as PEP 3333 asks of a server that holds a
        block back while the app produces the next.
        """
        with self._held_lock:
            if self._watched:
                self.hold_body = True

    def unwatch(self, flush=True):
        """The monitor no longer watches: nothing may wait in memory any more.

        From the monitor's thread (flush): sends what is held, unless the
        request's own thread is flushing right now (it sends it then).
        """
        with self._held_lock:
            self._watched = False
            self.hold_body = False
        if flush and self._flush_lock.acquire(blocking=False):
            try:
                self._flush_locked()
            finally:
                self._flush_lock.release()

    def open_file(self, path, offset, length):
        """Ask Node to send a file itself (FILE); return its FILE_OPENED answer (a dict)."""
        with self._cond:
            self._raise_if_aborted()
            self._file_answer = None
        self._hold(FILE, dump_json({"path": path, "offset": offset, "length": length}))
        self.flush()
        with self._cond:
            self._wait(lambda: self._file_answer is not None)
            return self._file_answer

    def _wait(self, ready):
        # Called with the Condition held; ABORT ends every wait.
        while not ready() and not self._aborted:
            pump = self._on_wait(self) if self._on_wait is not None else None
            if pump is None:
                self._cond.wait()
                continue
            # This thread reads fd 3 itself (see __init__), so no other thread
            # can deliver a frame, nor notify us, while it does.
            self._cond.release()
            try:
                pump()
            finally:
                self._cond.acquire()
        self._raise_if_aborted()

    def _raise_if_aborted(self):
        if self._aborted:
            raise ClientAborted("the client went away")

    def end(self, complete):
        """Send the terminal END frame; a second terminal frame is never sent."""
        self._finish(END, _COMPLETE if complete else _INCOMPLETE)

    def error(self, kind, message, traceback="", details=None):
        """Send the terminal ERROR frame, with the status of `kind` (errors.STATUS).

        A second terminal frame is never sent.
        """
        payload = {"status": STATUS[kind], "kind": kind, "message": message, "traceback": traceback}
        if details:
            payload["details"] = details
        self._finish(ERROR, dump_json(payload))

    def fail(self, kind, err):
        """ERROR of `kind` for the exception `err`: its message, traceback and, through `explain`, its details."""
        details = None
        if self.explain is not None:
            try:
                details = self.explain(err)
            except Exception as e:  # explaining must never cost the request its answer
                log("request %d: cannot explain %s: %r" % (self.id, type(err).__name__, e))
        self.error(kind, *describe(err), details=details)

    def _finish(self, type_, payload):
        with self._cond:
            if self._finished:
                return
            self._finished = True
        if self._on_finish is not None:
            try:
                self._on_finish(self)
            except Exception as err:  # must not cost the request its terminal frame
                log("request %d: on_finish failed: %r" % (self.id, err))
        self._hold(type_, payload)
        self.flush()
