"""A freshly forked child becomes a worker: it connects to Node, takes on its
launch's cwd and environment, and runs the worker's main().

It connects three times to Node's Unix socket, each time first writing its
token and one letter (control.connection_header): FRAMES, dup2'd onto fds 3
and 4 (a Unix socket carries both directions), OUTPUT onto fd 1 and ERRORS
onto fd 2, so that Node labels what a page prints and what it reports apart.

Until the worker runs, a failure ends the process at once (lifeline.exit_now):
Node may be gone, and with it the pipe any logging would write to.
"""

import os
import socket
import sys

from .. import exits, lifeline, owner
from .. import main as worker_main
from . import env_mark
from .control import ERRORS, FRAMES, OUTPUT, connection_header

WORKER_MARK = "PYPAGES_WORKER"  # lib/worker/launch/page-leftovers.ts's WORKER_VARIABLE


def connect(path, token, kind, fds):
    """Connect to Node's socket, say who we are, and make the connection these fds."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        sock.sendall(connection_header(token, kind))
        for fd in fds:
            if fd != sock.fileno():
                os.dup2(sock.fileno(), fd)
    finally:
        if sock.fileno() in fds:
            sock.detach()  # it already is one of the fds we want: keep it open
        else:
            sock.close()


def run_child(cmd, socket_path, parser):
    """In a forked child: connect to Node, take on the launch's cwd and env, run the worker; returns its exit code."""
    try:
        connect(socket_path, cmd["token"], FRAMES, (worker_main.FD_IN, worker_main.FD_OUT))
        connect(socket_path, cmd["token"], OUTPUT, (1,))
        connect(socket_path, cmd["token"], ERRORS, (2,))
    except BaseException as err:  # stderr is still the zygote's: Node logs it under the fork server
        why = "forked worker %d cannot connect to %s: %s" % (os.getpid(), socket_path, err)
        lifeline.exit_now(exits.CHILD_SETUP, why)
    try:
        os.chdir(cmd["cwd"])
    except BaseException as err:  # stderr is the worker's own from here on: this lands in its tail
        lifeline.exit_now(exits.CHILD_SETUP, "cannot change to the working directory %s: %s" % (cmd["cwd"], err))
    refused = owner.env_refusal(cmd["env"])
    if refused:
        why = "refused variables (only the operator's values pass): %s" % ", ".join(refused)
        lifeline.exit_now(exits.CHILD_SETUP, why)
    try:
        os.environ.update(cmd["env"])
        if WORKER_MARK in cmd["env"]:
            env_mark.write_in_place(WORKER_MARK, cmd["env"][WORKER_MARK])
        sys.argv = [os.path.join(os.path.dirname(worker_main.__file__), "__main__.py")] + cmd["argv"]
    except BaseException as err:  # e.g. a value the C library refuses
        lifeline.exit_now(exits.CHILD_SETUP, "cannot set the environment: %s" % err)
    return worker_main.main(cmd["argv"], parser, fresh=False)
