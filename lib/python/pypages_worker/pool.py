"""A small thread pool for requests: threads start as needed, up to a limit,
and an idle thread sleeps on a lock of its own.

Why not concurrent.futures.ThreadPoolExecutor: it hands every job over a
shared queue and builds a Future for it, about two dozen futex calls per
request (bench/README.md); here a job costs one lock release, and the most
recently idle thread (whose memory is warm) takes the next one.
"""

import collections
import threading
import traceback

from . import log


class _Slot:
    __slots__ = ("wake", "job")

    def __init__(self, job):
        self.wake = threading.Lock()
        self.wake.acquire()  # held: acquire() in the thread blocks until a job is handed over
        self.job = job


class ThreadPool:
    """Runs submitted calls on up to `size` daemon threads."""

    def __init__(self, size, name="pypages"):
        self._size = size
        self._name = name
        self._lock = threading.Lock()
        self._idle = []  # stack of _Slot: the last to finish is the first to go again
        self._backlog = collections.deque()  # only if more is submitted than `size`
        self._started = 0

    def submit(self, fn, *args):
        """Run fn(*args) on a pool thread, now or as soon as one is free."""
        self._submit(fn, args, True)

    def offer(self, fn, *args):
        """Run fn(*args) on a pool thread now if one is idle or may be started; returns
        False (and queues nothing) if all `size` threads are busy."""
        return self._submit(fn, args, False)

    def _submit(self, fn, args, queue):
        with self._lock:
            if self._idle:
                slot = self._idle.pop()
                slot.job = (fn, args)
                slot.wake.release()
                return True
            if self._started >= self._size:
                if not queue:
                    return False
                self._backlog.append((fn, args))
                return True
            self._started += 1
            number = self._started
        thread = threading.Thread(target=self._work, args=(_Slot((fn, args)),),
                                  name="%s-%d" % (self._name, number), daemon=True)
        thread.start()
        return True

    def _work(self, slot):
        while True:
            fn, args = slot.job
            slot.job = None
            try:
                fn(*args)
            except BaseException:  # a job must not take its thread down with it
                log("pool job failed: %s" % traceback.format_exc().rstrip())
            with self._lock:
                if self._backlog:
                    slot.job = self._backlog.popleft()
                    continue
                self._idle.append(slot)
            slot.wake.acquire()
