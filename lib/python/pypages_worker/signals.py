"""Stop signals (SIGTERM, SIGINT, SIGHUP): Node supervises the workers and the zygote, not the signals.

systemd (KillMode=control-group), `kill -TERM -PGID` and Ctrl-C in a terminal
signal Node and every Python process at once. Node then stops gracefully: it
lets the requests in flight finish, then closes each worker's fd 3, which
makes the worker exit (and it SIGKILLs one that does not). A worker that died
of the signal itself would turn those requests into 502s.

So a worker or the zygote catches these signals with a handler that does
nothing, rather than ignoring them with SIG_IGN: an ignored signal stays
ignored across exec(), so every program a page starts (subprocess, os.system)
would silently ignore SIGTERM and Ctrl-C too. A caught signal is reset to its
default by exec(), so those programs start as usual. A plain fork() in a
worker (multiprocessing's "fork" start method, whose terminate() sends
SIGTERM) gets the defaults back from an at-fork hook.

A page may still install its own handler with signal.signal() (from the main
thread, as Python requires everywhere): it replaces ours, and is left alone
in forked children too.
"""

import os
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_hooked = False


def _not_ours(signum, frame):
    """Node decides when this process stops: nothing to do. (No logging: this runs
    between two bytecodes of the main thread, maybe inside its own write to stderr.)"""


def ignore_stop_signals():
    """Catch the stop signals and do nothing. Idempotent; call it from the main thread."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _not_ours)
        # SA_RESTART: a blocking call in any thread (a C database driver's read,
        # say) resumes instead of failing with EINTR because of the signal.
        signal.siginterrupt(signum, False)


def default_in_forked_children():
    """In a worker: make a fork() child start with the stop signals' usual dispositions.

    Not in the zygote: its forked children are workers, which keep ours.
    """
    global _hooked
    if not _hooked:
        os.register_at_fork(after_in_child=_restore_defaults)
        _hooked = True


def _restore_defaults():
    # Runs in the child, in the only thread, which Python has made its main thread.
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is _not_ours:  # a page's own handler stays
            default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            signal.signal(signum, default)  # as a fresh interpreter has them
