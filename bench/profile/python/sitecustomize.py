"""Profiling hook for the pypages Python worker, used by bench/profile.mjs.

Put this folder on PYTHONPATH and set PYPAGES_BENCH_PYPROF=DIR: every thread
of the process then runs under its own cProfile.Profile (the main thread that
reads frames, and each request thread), timed by the thread's CPU clock
(time.thread_time), so waiting for the GIL, a lock or a frame costs nothing
and the figures add up to CPU time. SIGUSR2 toggles: the first one clears
every profiler (start of the measured window), the second writes the merged
stats to DIR/python-PID.prof and a text summary to DIR/python-PID.txt.
Without the variable this module does nothing. No change to lib/ is needed.
"""

import os

_OUT = os.environ.get("PYPAGES_BENCH_PYPROF")

if _OUT:
    import cProfile
    import io
    import marshal
    import pstats
    import signal
    import threading
    import time

    _profilers = []
    _state = {"armed": False}
    _original_run = threading.Thread.run

    def _profiled_run(self):
        profiler = cProfile.Profile(time.thread_time)
        _profilers.append(profiler)
        profiler.enable()
        try:
            _original_run(self)
        finally:
            profiler.disable()

    threading.Thread.run = _profiled_run

    def _on_signal(signum, frame):
        if not _state["armed"]:
            _state["armed"] = True
            for p in list(_profilers):
                p.clear()
            return
        pid = os.getpid()
        parts = []
        for i, p in enumerate(list(_profilers)):
            p.snapshot_stats()  # no disable(): it would only stop this (the main) thread
            if not p.stats:
                continue
            part = os.path.join(_OUT, "python-%d-thread%d.prof" % (pid, i))
            with open(part, "wb") as f:
                marshal.dump(p.stats, f)
            parts.append(part)
        if not parts:
            return
        stats = pstats.Stats(*parts)
        stats.dump_stats(os.path.join(_OUT, "python-%d.prof" % pid))
        for part in parts:
            os.remove(part)
        text = io.StringIO()
        stats.stream = text
        stats.sort_stats("tottime").print_stats(45)
        stats.sort_stats("cumulative").print_stats(45)
        with open(os.path.join(_OUT, "python-%d.txt" % pid), "w") as f:
            f.write("threads profiled: %d\n" % len(parts))
            f.write(text.getvalue())

    _main = cProfile.Profile(time.thread_time)
    _profilers.append(_main)
    _main.enable()
    signal.signal(signal.SIGUSR2, _on_signal)
