"""Importing scripts: each once per path, under a unique module name (never `__main__`),
with its folder on sys.path so that sibling modules import.
"""

import hashlib
import importlib.machinery
import importlib.util
import os
import re
import sys
import threading

from . import imports, owner

_lock = threading.RLock()
_modules = {}  # abs script path -> module


def module_name(path, root=None):
    """Return the unique module name a script is imported under."""
    path = os.path.abspath(path)
    rel = os.path.relpath(path, root) if root else os.path.basename(path)
    stem = re.sub(r"\W", "_", os.path.splitext(rel)[0])
    digest = hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return "_pypages_%s_%s" % (stem, digest)


def is_loaded(path):
    """True if load_script(path) has already imported this script."""
    return _loaded(path) is not None


def _loaded(path):
    # Keys are abspath()'s answers, which it returns unchanged: a path found
    # as given needs no abspath (half a microsecond, twice per request).
    module = _modules.get(path)
    return module if module is not None else _modules.get(os.path.abspath(path))


def load_script(path, root=None):
    """Import the script at `path` once and return its module (cached; thread-safe).

    Exceptions raised by the import propagate and nothing is cached, so a
    later call imports afresh.
    """
    module = _loaded(path)  # fast path: a loaded page never waits for another's import
    if module is not None:
        return module
    path = os.path.abspath(path)
    with _lock:
        module = _modules.get(path)
        if module is None:
            module = _import(path, module_name(path, root))
            _modules[path] = module
        return module


def _import(path, name):
    path, why = owner.resolved(path)
    if why:
        raise PermissionError("not imported: " + why)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    imports.remember(path, os.stat(path))  # before the read, even without watch_imports()
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
