"""What an ERROR frame says: its kind, the HTTP status that goes with it, and
the exception behind it described for the page's author.

The kinds are a closed set, listed with their meaning in lib/worker/protocol.md
("ERROR kinds"); Node mirrors the same list. test_errors.py holds this module
and that table together.
"""

import os
import traceback

NOT_PAGE = "not-page"
NOT_CALLABLE = "not-callable"
LOAD = "load"
APP = "app"
PROTOCOL = "protocol"

# The status each kind is sent with: what Node answers when ERROR comes before START.
STATUS = {
    NOT_PAGE: 404,      # no such file, or its source binds no module-level `application` (it was not run)
    NOT_CALLABLE: 404,  # imported, but its `application` is not callable
    LOAD: 500,          # importing the script raised (SyntaxError, ImportError, SystemExit...)
    APP: 500,           # the page raised, or broke a PEP 3333 rule, while it ran
    PROTOCOL: 500,      # a REQUEST the worker cannot read, or a failure of the worker itself
}
KINDS = frozenset(STATUS)

_PACKAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def describe(err):
    """Return (message, traceback text) for an exception, without this package's own frames on top."""
    tb = err.__traceback__
    while tb is not None and _is_internal(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    message = "".join(traceback.format_exception_only(type(err), err)).strip()
    return message, "".join(traceback.format_exception(type(err), err, tb))


def _is_internal(filename):
    # Frames of the worker itself and of importlib say nothing to the page's author.
    return filename.startswith(_PACKAGE_DIR) or filename.startswith("<frozen importlib")
