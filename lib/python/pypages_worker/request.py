"""One request from REQUEST to its terminal frame: read the REQUEST, find the page, load it, run it."""

import functools
import os
import traceback

from . import errors, explain, forms, loader, log, owner, page_source
from .protocol import ProtocolError, load_json
from .streams import InputStream
from .wsgi import run_wsgi


class NotAPage(Exception):
    """The script is not a page (no module-level callable `application`): a 404.

    `executed` is true when the module was imported to find out (its
    `application` is not callable): that answer may change when another file
    does, so Node must not remember it the way it remembers "no application".
    """

    def __init__(self, message, executed=False, hint=""):
        super().__init__(message)
        self.executed = executed
        self.hint = hint


def parse_request(payload):
    """Return REQUEST's JSON as a dict with checked types; raises ProtocolError otherwise."""
    request = load_json(payload)
    script, environ = request.get("script"), request.get("environ")
    body, window, push = request.get("body", False), request.get("window"), request.get("push", 0)
    details = request.get("details", False)
    if not isinstance(script, str) or not os.path.isabs(script):
        raise ProtocolError("REQUEST.script must be an absolute path")
    # JSON object keys are always str; values are checked for type only in
    # bulk (one pass in C over the values), as this runs on every request.
    if not isinstance(environ, dict) or not set(map(type, environ.values())) <= {str}:
        raise ProtocolError("REQUEST.environ must map str to str")
    if not isinstance(body, bool):
        raise ProtocolError("REQUEST.body must be a boolean")
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise ProtocolError("REQUEST.window must be a non-negative integer")
    if isinstance(push, bool) or not isinstance(push, int) or push < 0:
        raise ProtocolError("REQUEST.push must be a non-negative integer")
    if not isinstance(details, bool):
        raise ProtocolError("REQUEST.details must be a boolean")
    return {"script": script, "environ": environ, "body": body, "window": window, "push": push, "details": details}


def find_app(script, root=None):
    """Return the page's WSGI callable, importing the script on first use.

    Raises NotAPage (404) without executing the file if its source binds no
    `application`; anything the parse or the import raises propagates (500).
    """
    if not loader.is_loaded(script):
        why = owner.refusal(script)  # before a byte is read: a parse error would show a line of it
        if why:
            raise PermissionError("not imported: " + why)
        try:
            with open(script, "rb") as f:
                source = f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotAPage("%s does not exist" % script)
        if not page_source.is_page_source(source, script):
            raise NotAPage("%s defines no `application` at module level" % script,
                           hint=page_source.not_page_hint(source, script))
    app = getattr(loader.load_script(script, root), "application", None)
    if not callable(app):
        raise NotAPage("%s: `application` is not callable (it is %s %s)" % (script, _article(app), type(app).__name__),
                       executed=True)
    return app


def _article(value):
    return "an" if type(value).__name__[:1].lower() in "aeiou" else "a"


def handle_request(channel, request, root, multithread, reporter, multiprocess=False):
    """Serve one parsed REQUEST on `channel`; always ends it with one END or ERROR."""
    frames = request.get("details", False)
    body = InputStream(channel.read_body, keep=forms.FORM_KEEP if frames else 0)
    channel.explain = functools.partial(explain.details, root=root, frames=frames, body=(body, request["environ"]))
    try:
        try:
            app = find_app(request["script"], root)
        except NotAPage as err:
            kind = errors.NOT_CALLABLE if err.executed else errors.NOT_PAGE
            return channel.error(kind, str(err), details={"hint": err.hint} if err.hint else None)
        except BaseException as err:  # SyntaxError, ImportError, SystemExit at import...
            return channel.fail(errors.LOAD, err)
        reporter.report()
        if channel.aborted:  # the client left while the request waited for a thread
            return channel.end(False)
        run_wsgi(app, channel, request["environ"], multithread=multithread, multiprocess=multiprocess, stream=body)
    except BaseException as err:  # the pipe to Node failing, or a bug in this package
        log("request %d: %s" % (channel.id, traceback.format_exc().rstrip()))
        if not channel.finished:
            channel.error(errors.PROTOCOL, "the worker failed: %r" % err)
