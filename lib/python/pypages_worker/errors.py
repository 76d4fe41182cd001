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
    """Return (message, traceback text) for an exception, without this package's own frames on top.

    A syntax error found by the parser (ast.parse, compile) is told by its
    own lines (file, line, caret): the parser's frames are left out too.
    """
    if isinstance(err, SyntaxError):  # its own lines are the traceback's; one line here: "...: msg (file, line N)"
        message = "%s: %s" % (type(err).__name__, err)
    else:
        message = "".join(traceback.format_exception_only(type(err), err)).strip()
    return message, "".join(traceback.format_exception(type(err), err, shown_traceback(err)))


def shown_traceback(err):
    """The part of err's traceback the page's author is shown (None: no frame at all)."""
    tb = err.__traceback__
    while tb is not None and is_internal(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return None if isinstance(err, SyntaxError) and _only_parser(tb) else tb


def _only_parser(tb):
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not (is_internal(name) or os.path.basename(name) == "ast.py"):
            return False
        tb = tb.tb_next
    return True


def is_internal(filename):
    """True for a frame of the worker itself or of importlib: they say nothing to the page's author."""
    return filename.startswith(_PACKAGE_DIR) or filename.startswith("<frozen importlib")
