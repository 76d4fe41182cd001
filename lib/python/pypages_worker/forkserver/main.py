"""The fork server's process: arguments, set-up, the warm-up, the "ready" event; then the zygote serves.

It imports the worker runtime and the shared-preload modules once; each new
worker is then a fork of it, so it starts in about a millisecond and shares
those modules' memory with every other worker copy-on-write. Its channels
are specified in lib/worker/launch/forkserver-protocol.md.

The zygote exits when fd 3 reaches end of file (Node went away), and is
killed by the kernel if Node dies (lifeline.py, set in __main__.py); its
forked workers outlive it and end with Node on their own.
"""

import argparse
import faulthandler
import gc
import os
import platform
import signal
import sys

from .. import exits, log, signals
from .. import main as worker_main  # imports the whole runtime: request, loader, wsgi, channel, streams
from .child import run_child
from .warm import preload, safe_to_fork, warm_up
from .zygote import CONTROL_IN, CONTROL_OUT, Zygote


def parse_args(argv=None):
    """Return the parsed command line (--socket, --preload)."""
    parser = argparse.ArgumentParser(prog="pypages_worker.forkserver", description="pypages fork server")
    parser.add_argument("--socket", required=True, help="Node's Unix socket that forked workers connect to")
    parser.add_argument("--preload", action="append", default=[], help="module to import once, shared (repeatable)")
    return parser.parse_args(argv)


def main(argv=None):
    """Serve fork commands until Node closes fd 3 (returns 0); in a forked child, the worker's exit code."""
    signals.ignore_stop_signals()  # Node supervises, it closes fd 3 to stop us (see signals.py)
    # Where a zygote that stopped answering pings was stuck: Node sends SIGUSR1 before it kills it.
    # A signal handler, not a watchdog thread: the zygote must never run a thread (see warm.py).
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    args = parse_args(argv)
    worker_main.isolate_sys_path()  # at once, while the cwd is still the one `python -m` put on sys.path
    if not worker_main.enter_folder():
        return exits.CHILD_SETUP
    # A collection writes to every object it visits: that would unshare pages
    # from the children forked before it. Garbage left by imports is frozen too.
    gc.disable()
    if not has_control_fds():
        log("fds 3 and 4 must be the control pipes: this program is started by the pypages server")
        return exits.USAGE
    parser = warm_up()
    imported, failed = preload(args.preload)
    if not safe_to_fork():
        return exits.THREADS
    zygote = Zygote()
    zygote.start()
    zygote.send({"event": "ready", "pid": os.getpid(), "python": platform.python_version(),
                 "executable": sys.executable or "", "preloaded": imported, "failed": failed})
    cmd = zygote.serve()
    if cmd is None:
        return exits.OK
    # The child leaves through the normal interpreter exit, as a spawned worker
    # does: atexit handlers run and request threads are joined.
    return run_child(cmd, args.socket, parser)


def has_control_fds():
    """True if fds 3 and 4 are open."""
    try:
        os.fstat(CONTROL_IN)
        os.fstat(CONTROL_OUT)
    except OSError:
        return False
    return True
