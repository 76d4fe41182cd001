"""The worker process: arguments, process set-up, the READY handshake; then the frame router serves.

Started by Node as ``python -u -m pypages_worker --root DIR --threads N ...``
(or forked by the fork server, which calls main() in the child). Once fd 3
has ended, the router drains the requests in flight and main() returns; a
watchdog thread (lifeline.py) ends the process LIFELINE_SECONDS after fd 3
hung up if it is still running, whatever holds it (a page's thread, an
atexit handler).
"""

import argparse
import fcntl
import faulthandler
import os
import platform
import signal
import socket
import stat
import sys

from . import PROTOCOL_VERSION, exits, imports, lifeline, limits, log, owner, signals
from .errors import describe
from .protocol import READY, FrameReader, FrameWriter, dump_json
from .request import find_app
from .router import DRAIN_SECONDS, FrameRouter
from .watch import worker_reporter

FD_IN, FD_OUT = 3, 4
LIFELINE_SECONDS = DRAIN_SECONDS + 1.0  # then atexit handlers and thread joins get the rest


def build_parser():
    """Return the command-line parser; the fork server builds one and reuses it in every child."""
    parser = argparse.ArgumentParser(prog="pypages_worker", description="pypages Python worker")
    parser.add_argument("--root", required=True, help="the document root (absolute path)")
    parser.add_argument("--threads", type=int, default=1, help="requests run at once")
    parser.add_argument("--processes", type=int, default=1, help="processes in this worker's group")
    parser.add_argument("--python-path", action="append", default=[], help="extra import path (repeatable)")
    parser.add_argument("--preload", action="append", default=[], help="script to import at start (repeatable)")
    parser.add_argument("--umask", type=limits.parse_umask, default=None, help="umask, octal")
    parser.add_argument("--limit", action="append", type=limits.parse_limit, default=[],
                        help="kernel limit NAME=N: as, cpu, nproc, nofile, fsize (repeatable)")
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
    """Run the worker until Node closes fd 3; returns the exit code (exits.py).

    A child of the fork server (forkserver/) passes the parser the zygote
    built (building one costs each child memory of its own), and fresh=False:
    the zygote cleaned sys.path when it started, and the child's cwd is not
    the one that `python -m` put there.
    """
    set_up_process()
    args = parse_args(argv, parser)
    try:
        limits.apply(owner.umask_under_rule(args.umask), args.limit)  # before any page's code can run
    except (OSError, ValueError) as err:
        log("cannot set the worker's limits: %s" % err)
        return exits.USAGE
    if fresh:
        isolate_sys_path()
    if not enter_folder():
        return exits.CHILD_SETUP
    sys.path[0:0] = importable(args.python_path)
    if not own_pipes():
        log("fds 3 and 4 must be the frame pipes: this program is started by the pypages server")
        return exits.USAGE
    lifeline.exit_after_hangup(FD_IN, LIFELINE_SECONDS, exits.LINGERED)  # before anything can block
    writer = FrameWriter(FD_OUT)
    reporter = worker_reporter(args.root, writer.send)
    router = FrameRouter(args.root, args.threads, writer.send, reporter, args.processes > 1, writer.send_many)
    send_ready(writer.send)
    preload(args.preload, args.root, reporter)  # after READY: Node treats every frame before it as a failed start
    return router.serve(FrameReader(FD_IN))


def importable(folders):
    """The --python-path folders this worker may import from (owner.py); the others are logged and left out."""
    kept = []
    for given in folders:
        folder, why = owner.resolved(given)
        if why:
            log("--python-path %s left out: %s" % (given, why))
        else:
            kept.append(folder)
    return kept


def own_pipes():
    """Keep fds 3 and 4 from a page's child processes and widen them; False if they are not open."""
    try:
        for fd in (FD_IN, FD_OUT):
            os.set_inheritable(fd, False)  # a page's child processes must not hold our pipes
            widen(fd)
    except OSError:
        return False
    return True


def send_ready(send):
    """Send the READY handshake (lib/worker/protocol.md)."""
    info = {"pid": os.getpid(), "python": platform.python_version(),
            "executable": sys.executable, "protocol": PROTOCOL_VERSION}
    send(READY, 0, dump_json(info))


def preload(scripts, root, reporter):
    """Import these pages now rather than at their first request; failures are only logged."""
    for script in scripts:
        try:
            find_app(script, root)
        except BaseException as err:  # the first request will report it properly
            log("preload of %s failed: %s" % (script, describe(err)[0]))
    reporter.report()


def set_up_process():
    """What every worker does first, spawned or forked (its fds 1 and 2 are the log already)."""
    signals.ignore_stop_signals()  # Node supervises: it closes fd 3 to stop us (see signals.py)
    signals.default_in_forked_children()
    imports.watch_imports()  # before any page or preload is imported
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


FOLDER_VARIABLE = "PYPAGES_FOLDER"


def enter_folder():
    """Enter the working folder the root launcher names (lib/worker/launch/start-python.ts); False if this user cannot.

    Started as another user, the process starts in / and enters its folder
    itself, as that user: entered by root before the switch, a folder the
    user could never reach (under a 0700 /root) would be its cwd all the same.
    """
    folder = os.environ.pop(FOLDER_VARIABLE, None)
    if folder is None:
        return True
    try:
        os.chdir(folder)
    except OSError as err:
        log("uid %d cannot enter the folder %s: %s" % (os.getuid(), folder, err.strerror))
        return False
    return True


def isolate_sys_path():
    """Drop the cwd that `python -m` put first on sys.path, so it is not importable by accident."""
    if getattr(sys.flags, "safe_path", False) or not sys.path:
        return  # -P / PYTHONSAFEPATH (3.11+): nothing was added
    first = sys.path[0]
    if first in ("", ".") or os.path.realpath(first) == os.path.realpath(os.getcwd()):
        del sys.path[0]
