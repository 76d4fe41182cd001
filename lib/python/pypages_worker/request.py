"""One request from REQUEST to its terminal frame: find the page, load it, run it.

Also owns WATCH: which document-root files this process has imported.
"""

import os
import sys
import threading
import traceback

from . import errors, loader, log
from .errors import describe
from .protocol import WATCH, ProtocolError, dump_json, load_json
from .wsgi import run_wsgi


class NotAPage(Exception):
    """The script is not a page (no module-level callable `application`): a 404.

    `executed` is true when the module was imported to find out (its
    `application` is not callable): that answer may change when another file
    does, so Node must not remember it the way it remembers "no application".
    """

    def __init__(self, message, executed=False):
        super().__init__(message)
        self.executed = executed


def parse_request(payload):
    """Return REQUEST's JSON as a dict with checked types; raises ProtocolError otherwise."""
    request = load_json(payload)
    script, environ = request.get("script"), request.get("environ")
    body, window, push = request.get("body", False), request.get("window"), request.get("push", 0)
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
    return {"script": script, "environ": environ, "body": body, "window": window, "push": push}


def find_app(script, root=None):
    """Return the page's WSGI callable, importing the script on first use.

    Raises NotAPage (404) without executing the file if its source binds no
    `application`; anything the parse or the import raises propagates (500).
    """
    if not loader.is_loaded(script):
        try:
            with open(script, "rb") as f:
                source = f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotAPage("%s does not exist" % script)
        if not loader.is_page_source(source, script):
            raise NotAPage("%s defines no `application` at module level" % script)
    app = getattr(loader.load_script(script, root), "application", None)
    if not callable(app):
        raise NotAPage("%s: `application` is not callable" % script, executed=True)
    return app


def handle_request(channel, request, root, multithread, reporter, multiprocess=False):
    """Serve one parsed REQUEST on `channel`; always ends it with one END or ERROR."""
    try:
        try:
            app = find_app(request["script"], root)
        except NotAPage as err:
            return channel.error(errors.NOT_CALLABLE if err.executed else errors.NOT_PAGE, str(err))
        except BaseException as err:  # SyntaxError, ImportError, SystemExit at import...
            return channel.error(errors.LOAD, *describe(err))
        reporter.report()
        if channel.aborted:  # the client left while the request waited for a thread
            return channel.end(False)
        run_wsgi(app, channel, request["environ"], multithread=multithread, multiprocess=multiprocess)
    except BaseException as err:  # the pipe to Node failing, or a bug in this package
        log("request %d: %s" % (channel.id, traceback.format_exc().rstrip()))
        if not channel.finished:
            channel.error(errors.PROTOCOL, "the worker failed: %r" % err)


class WatchReporter:
    """Sends WATCH whenever the set of imported document-root files grows.

    Each file is listed with the stat the loader recorded before the import
    read it (loader.watch_imports): for scripts and .py modules, run from
    source or .pyc, an edit made after the read is always a change for Node,
    even if the module was imported lazily and is first listed after the edit.
    Files of other loaders (extension modules) are stat'ed when first listed.
    A file keeps its first stat; lib/protocol.md (WATCH) states the guarantee.
    """

    def __init__(self, root, send, seen=(), skip_recorded=False):
        self._root = root
        self._send = send
        self._lock = threading.Lock()
        self._files = {}  # realpath -> (mtime_ns, size)
        self._seen = set(seen)  # module names already looked at (fallback only)
        self._count = -1
        # Imports recorded before this worker serves anything (the runtime, shared
        # preloads) are not the user's code: start looking after them.
        self._recorded = loader.recorded_count() if skip_recorded else 0
        self._reported = None  # _progress() when a report last ended

    def report(self):
        """Send WATCH if modules were imported from the root since the last call."""
        # Twice per request, nearly always with nothing new: then the lock is
        # not needed. (_reported is set once the WATCH is out, so when it is
        # current, no import that happened before this call is still unsent.)
        if self._reported == self._progress():
            return
        with self._lock:  # held while sending: lists reach Node in order
            progress = self._progress()
            self._send_new()
            self._reported = progress

    def _progress(self):
        # What grows with every import: the loader's records, or sys.modules
        # (as a tuple: never equal to a count of records, should watch_imports()
        # come after this reporter's first report, as in tests).
        return loader.recorded_count() if loader.imports_watched() else (len(sys.modules),)

    def _send_new(self):
        new = self._new_files()
        new = [f for f in new if f[0] not in self._files]
        if not new:
            return
        for path, mtime, size in new:
            self._files[path] = (mtime, size)
        # mtime_ns as a string: it does not fit a JavaScript number exactly.
        files = [[p, str(m), s] for p, (m, s) in sorted(self._files.items())]
        self._send(WATCH, 0, dump_json({"files": files}))

    def _new_files(self):
        # The loader records every source import: look at the new records only.
        if loader.imports_watched():
            paths, self._recorded = loader.recorded_since(self._recorded)
            return loader.watched_paths(self._root, paths) if paths else []
        # Otherwise walk sys.modules, but only when it grew. (A module removed
        # and another added in between would go unseen until the next import;
        # imports that fail are the only removals, and leave nothing to watch.)
        if len(sys.modules) == self._count:
            return []
        count = len(sys.modules)  # before the listing: a module imported meanwhile is seen next time
        names = [n for n in list(sys.modules) if n not in self._seen]
        self._count = count
        self._seen.update(names)
        return loader.watched_files(self._root, names)
