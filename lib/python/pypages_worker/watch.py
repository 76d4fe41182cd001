"""WATCH: tells Node which document-root files this process has imported, with the stat each import read."""

import sys
import threading

from . import imports
from .protocol import WATCH, dump_json


class WatchReporter:
    """Sends WATCH whenever the set of imported document-root files grows.

    Each file is listed with the stat the loader recorded before the import
    read it (imports.watch_imports): for scripts and .py modules, run from
    source or .pyc, an edit made after the read is always a change for Node,
    even if the module was imported lazily and is first listed after the edit.
    Files of other loaders (extension modules) are stat'ed when first listed.
    A file keeps its first stat; lib/worker/protocol.md (WATCH) states the guarantee.
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
        self._recorded = imports.recorded_count() if skip_recorded else 0
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
        # What grows with every import: the import records, or sys.modules
        # (as a tuple: never equal to a count of records, should watch_imports()
        # come after this reporter's first report, as in tests).
        return imports.recorded_count() if imports.imports_watched() else (len(sys.modules),)

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
        # Every source import is recorded: look at the new records only.
        if imports.imports_watched():
            paths, self._recorded = imports.recorded_since(self._recorded)
            return imports.watched_paths(self._root, paths) if paths else []
        # Otherwise walk sys.modules, but only when it grew. (A module removed
        # and another added in between would go unseen until the next import;
        # imports that fail are the only removals, and leave nothing to watch.)
        if len(sys.modules) == self._count:
            return []
        count = len(sys.modules)  # before the listing: a module imported meanwhile is seen next time
        names = [n for n in list(sys.modules) if n not in self._seen]
        self._count = count
        self._seen.update(names)
        return imports.watched_files(self._root, names)


def worker_reporter(root, send):
    """The reporter a worker starts with, before any page is imported.

    What is imported by then (the runtime, shared preloads) is not the
    user's code, and is never listed. (sys.modules is read only when imports
    are not recorded: in a forked worker, touching every module name would
    unshare their memory.)
    """
    watched = imports.imports_watched()
    return WatchReporter(root, send, seen=() if watched else list(sys.modules), skip_recorded=watched)
