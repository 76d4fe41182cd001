"""Deciding what is a page, importing scripts, and listing imported files.

A page is a script with a module-level binding of `application`. That is
decided from the syntax tree, so asking for a helper module never runs it.
Scripts are imported under unique module names (never `__main__`), once per
path, with their folder on sys.path so sibling modules import.

Each imported file's stat is recorded before its code is read (see
watch_imports), so an edit made while that code runs is seen as a change.
"""

import ast
import hashlib
import importlib.machinery
import importlib.util
import os
import re
import sys
import threading

NAME = "application"

# Nodes whose bodies are a new scope: a binding inside them is not module-level.
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)

_lock = threading.RLock()
_modules = {}  # abs script path -> module
# __file__ -> (mtime_ns, size) taken before the import read the file, the first import's;
# every module's (a few hundred small entries): the root is checked when listing.
_read_stats = {}
_read_order = []  # the keys of _read_stats, in the order they were recorded
_original_path_stats = importlib.machinery.SourceFileLoader.path_stats


def is_page_source(source, filename="<page>"):
    """True if `source` (str or bytes) binds `application` at module level; never executes it.

    Raises SyntaxError (or ValueError on NUL bytes in old Pythons) for broken source.
    """
    tree = ast.parse(source, filename)
    return _binds_at_module_level(tree) or _declared_global(tree)


def _binds_at_module_level(tree):
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if _is_binding(node):
            return True
        stack.extend(_module_scope_children(node))
    return False


def _module_scope_children(node):
    # The child nodes still evaluated in module scope.
    if isinstance(node, _SCOPES):
        return []  # decorators and defaults aside, nothing here binds module names
    if isinstance(node, ast.comprehension):
        return [node.iter] + node.ifs  # its target is local to the comprehension
    if isinstance(node, ast.AnnAssign) and node.value is None:
        return []  # `application: T` alone declares, it does not bind
    return list(ast.iter_child_nodes(node))


def _is_binding(node):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == NAME
    if isinstance(node, ast.Name):
        return node.id == NAME and isinstance(node.ctx, ast.Store)
    if isinstance(node, ast.alias):
        # `from m import *` may bind it: let the import-time check decide.
        bound = node.asname or node.name.split(".")[0]
        return bound in (NAME, "*")
    # except ... as NAME, and match-statement captures (3.10+)
    return NAME in (getattr(node, "name", None), getattr(node, "rest", None))


def _declared_global(tree):
    # `global application` in a function means calling it binds the module name.
    return any(isinstance(n, ast.Global) and NAME in n.names for n in ast.walk(tree))


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
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    _remember(path, os.stat(path))  # before the read, even without watch_imports()
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
        _remember(path, os.stat(path))
    except (OSError, TypeError):
        pass  # the loader itself will report a missing file


def _path_stats(self, path):
    # SourceFileLoader.path_stats as CPython 3.3-3.13 write it, plus the record.
    st = os.stat(path)
    _remember(path, st)
    return {"mtime": st.st_mtime, "size": st.st_size}


def _remember(path, st):
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
