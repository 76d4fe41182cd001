"""Deciding what is a page, importing scripts, and listing imported files.

A page is a script with a module-level binding of `application`. That is
decided from the syntax tree, so asking for a helper module never runs it.
Scripts are imported under unique module names (never `__main__`), once per
path, with their folder on sys.path so sibling modules import.
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
_stats = {}  # realpath -> (mtime_ns, size) seen just before the script was imported


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
    return os.path.abspath(path) in _modules


def load_script(path, root=None):
    """Import the script at `path` once and return its module (cached; thread-safe).

    Exceptions raised by the import propagate and nothing is cached, so a
    later call imports afresh.
    """
    path = os.path.abspath(path)
    module = _modules.get(path)  # fast path: a loaded page never waits for another's import
    if module is not None:
        return module
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
    st = os.stat(path)  # before the read: an edit after it is always seen as a change
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _stats[os.path.realpath(path)] = (st.st_mtime_ns, st.st_size)
    return module


def watched_files(root, names=None):
    """Return [[realpath, mtime_ns, size], ...] for imported files inside `root`, sorted.

    `names` limits the look to those module names (the ones imported since
    the last look); None looks at every module.
    """
    prefix = os.path.join(os.path.realpath(root), "")
    modules = sys.modules.copy()  # copy: other threads may import
    found = {}
    for name in (modules if names is None else names):
        filename = getattr(modules.get(name), "__file__", None)
        if not isinstance(filename, str):
            continue
        real = os.path.realpath(filename)
        if real.startswith(prefix) and real not in found:
            stat = _stat(real)
            if stat is not None:
                found[real] = stat
    return [[path, mtime, size] for path, (mtime, size) in sorted(found.items())]


def _stat(real):
    if real in _stats:
        return _stats[real]
    try:
        st = os.stat(real)
    except OSError:
        return None  # deleted since it was imported: nothing to watch
    return (st.st_mtime_ns, st.st_size)
