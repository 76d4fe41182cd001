"""The Python side of pypages: runs WSGI pages for the Node server.

Started by Node as ``python -u -m pypages_worker --root DIR --threads N``;
it speaks the frame protocol of ``lib/worker/protocol.md`` on fds 3 (in) and 4 (out).
Standard library only, Python 3.8+.
"""

import sys

PROTOCOL_VERSION = 2


def log(message):
    """Write a line for the operator's error log (Node tags it with the script).

    Never raises: when Node has gone, stderr is a broken pipe, and a log line
    must not stop the code that logs it from ending the process.
    """
    try:
        sys.stderr.write("pypages_worker: %s\n" % message)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # broken pipe, closed file, no stderr at all
        pass
