"""Which files this process has imported, each with the stat taken before the import read it.

Recording the stat before the read (watch_imports) means that an edit made
while that code runs is seen as a change: watch.py reports these files to
Node, which reloads the group when one differs on disk.
"""

import importlib.machinery
import os
import sys

# __file__ -> (mtime_ns, size) taken before the import read the file, the first import's;
# every module's (a few hundred small entries): the root is checked when listing.
_read_stats = {}
_read_order = []  # the keys of _read_stats, in the order they were recorded
_original_path_stats = importlib.machinery.SourceFileLoader.path_stats


def watch_imports():
    """Record the stat Python's source loader takes of each module before reading it.

    SourceLoader.get_code() calls path_stats(source) first, to decide whether
    the __pycache__ .pyc is valid, then reads the .pyc or the source. Taking
    the stat there (rather than when WATCH is sent, maybe after an edit) is
    exact for both, costs no extra system call, and sees imports only: not a
    page reading a .py as data, nor linecache formatting a traceback. (An
    audit hook on "open" would see all of those, never see the .py of a
    module run from its .pyc, and could not be removed.)
    Idempotent. Not installed if this Python's path_stats has another contract.
    """
    loader = importlib.machinery.SourceFileLoader
    if loader.path_stats is _path_stats:
        return
    try:
        contract = set(_original_path_stats(None, os.curdir))  # it does not use self
    except Exception:  # not the method we know: Python's loader stays as it is
        return
    if contract == {"mtime", "size"}:
        loader.path_stats = _path_stats
        _watch_other_loaders()


def _watch_other_loaders():
    # Extension modules (.so) and .pyc files without their source never call
    # path_stats: record their stat as they are loaded, before the read too.
    machinery = importlib.machinery
    create, get_code = machinery.ExtensionFileLoader.create_module, machinery.SourcelessFileLoader.get_code

    def create_module(self, spec):
        _remember_now(spec.origin)
        return create(self, spec)

    def sourceless_get_code(self, fullname):
        _remember_now(self.get_filename(fullname))
        return get_code(self, fullname)

    machinery.ExtensionFileLoader.create_module = create_module
    machinery.SourcelessFileLoader.get_code = sourceless_get_code


def _remember_now(path):
    try:
        remember(path, os.stat(path))
    except (OSError, TypeError):
        pass  # the loader itself will report a missing file


def _path_stats(self, path):
    # SourceFileLoader.path_stats as CPython 3.3-3.13 write it, plus the record.
    st = os.stat(path)
    remember(path, st)
    return {"mtime": st.st_mtime, "size": st.st_size}


def remember(path, st):
    """Record the stat of `path` taken before an import read it, unless one is recorded already."""
    # The first import's stat: if the file was read again since, Node reloads
    # once more than needed, and never misses an edit.
    if path not in _read_stats:
        _read_stats[path] = (st.st_mtime_ns, st.st_size)
        _read_order.append(path)


def imports_watched():
    """True when every source import is recorded (watch_imports() is in place)."""
    return importlib.machinery.SourceFileLoader.path_stats is _path_stats


def recorded_count():
    """How many imports have been recorded so far."""
    return len(_read_order)


def recorded_since(start):
    """Paths recorded by imports, from the `start`-th on, and the count so far.

    Lets a report look at new imports only, without walking sys.modules
    (which, in a forked worker, would write to every module name's page).
    """
    return _read_order[start:], len(_read_order)


def watched_paths(root, paths):
    """[[realpath, mtime_ns, size], ...] of those `paths` inside `root`."""
    prefix = os.path.join(os.path.realpath(root), "")
    found = {}
    for path in paths:
        real = os.path.realpath(path)
        if real.startswith(prefix) and real not in found:
            stat = _stat(path, real)
            if stat is not None:
                found[real] = stat
    return [[p, m, z] for p, (m, z) in sorted(found.items())]


def watched_files(root, names=None):
    """Return [[realpath, mtime_ns, size], ...] for imported files inside `root`, sorted.

    `names` limits the look to those module names (the ones imported since
    the last look); None looks at every module.
    """
    modules = sys.modules.copy()  # copy: other threads may import
    files = (getattr(modules.get(name), "__file__", None) for name in (modules if names is None else names))
    return watched_paths(root, [f for f in files if isinstance(f, str)])


def _stat(filename, real):
    """The stat recorded before the import read `filename`; else one taken now (another loader)."""
    recorded = _read_stats.get(filename)
    if recorded is not None:
        return recorded
    try:
        st = os.stat(real)
    except OSError:
        return None  # deleted since it was imported: nothing to watch
    # Looked up again: an import in another thread may have recorded (and read) it
    # meanwhile; if it still has not, its read comes after our stat, which is then safe.
    return _read_stats.get(filename, (st.st_mtime_ns, st.st_size))
