"""Every Python process of pypages ends when Node goes away, whatever it is doing.

Node supervises; nothing it started may outlive it (a restarted server would
find the old workers still holding files, ports and memory). Three means:

  * Node's own children, the zygote and spawned workers, are killed by the
    kernel when Node dies (prctl PR_SET_PDEATHSIG, Linux): die_with_parent().
    That fires when the *thread* that started the process exits; Node starts
    processes from its main thread. Whatever the process does (a page holding
    the GIL in C, a SIGSTOP), it dies.
  * Forked workers are the zygote's children and must outlive it: if only the
    zygote dies, their requests in flight go on. So they take no death
    signal; when Node goes, their frame channel (fd 3) hangs up, the reader
    sees its end and the worker drains and exits (router.py). A daemon thread
    makes sure of it (exit_after_hangup): once fd 3 has hung up, the process
    has `grace` seconds to end on its own (drain, atexit, thread joins), then
    os._exit(). Every worker runs it; a page's own fork() does not inherit it.
  * A freshly forked child that cannot set itself up leaves at once with
    exit_now(): a raw write of the reason, then os._exit(). No lock that may
    have been held at the fork is taken, and a broken pipe raises nothing.

The limit: a forked worker whose page holds the GIL forever (in C) when Node
dies is not ended by its watchdog thread (it needs the GIL too).
"""

import os
import select
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# What "the other end is gone" looks like to poll(): POLLHUP for a pipe whose
# writers closed (and a socket shut both ways), POLLRDHUP for a socket whose
# peer shut down writing (Linux), POLLERR, and POLLNVAL if fd 3 was closed.
HANGUP = select.POLLHUP | select.POLLERR | select.POLLNVAL | getattr(select, "POLLRDHUP", 0)


def die_with_parent():
    """Ask the kernel to SIGKILL this process when its parent exits (Linux); returns whether it could.

    If the parent has already gone, nothing fires: the caller's end of fd 3
    then ends it, as for any Node that went away.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes  # here, not at the top: only the processes that call this load it
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError, ImportError):
        return False


def exit_after_hangup(fd, grace, code):
    """Start the watchdog: once `fd` hangs up, this process exits with `code` within `grace` seconds."""
    watchdog = threading.Thread(target=_watch, args=(fd, grace, code), name="pypages-lifeline", daemon=True)
    watchdog.start()
    return watchdog


def _watch(fd, grace, code):
    poller = select.poll()
    poller.register(fd, HANGUP)  # no POLLIN: data waiting to be read must not wake us
    while not any(events & HANGUP for _, events in poller.poll()):
        pass
    time.sleep(grace)
    exit_now(code, "still running %.1f s after Node closed the frame channel; exiting" % grace)


def exit_now(code, message):
    """Write `message` to fd 2 if it can, without locks or exceptions, and end the process at once."""
    try:
        os.write(2, ("pypages_worker: %s\n" % message).encode("utf-8", "replace"))
    except OSError:
        pass  # stderr gone with Node: nobody to tell
    os._exit(code)
