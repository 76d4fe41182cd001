"""What a development error page shows about an exception (ERROR's `details`).

Node renders the page (lib/http/dev-page.ts); this module only gathers what
Python alone knows: which frames are the page author's own code, their source
around the line and their local variables (repr, truncated), a syntax error's
place, and, for a missing module, the interpreter, whether it has pip and
same-named files in the document root. Frames and locals are gathered only
when Node asks (development mode): a repr runs the page's code.
"""

import ast
import importlib.util
import linecache
import os
import reprlib
import site
import sys
import sysconfig

from .errors import is_internal, shown_traceback
from .forms import form_fields

CONTEXT = 5  # source lines shown each side of a frame's line
MAX_FRAMES = 30
MAX_LOCALS = 40
MAX_REPR = 300
MAX_LOCAL_FILES = 5
MAX_SCAN = 5000  # files looked at when searching the root for a module of that name
_SKIP_DIRS = frozenset([".git", ".venv", "venv", "node_modules", "__pycache__"])

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = MAX_REPR
_has_pip = None


def details(err, root, frames=False, body=None):
    """Return ERROR's `details` for `err`; with frames=True also its frames, syntax-error place and form fields.

    body: (the request's InputStream, its CGI environ), for the form fields the page had read.
    """
    out = {"type": type(err).__name__}
    if frames and body is not None:
        fields = form_fields(bytes(body[0].kept), body[1].get("CONTENT_TYPE", ""))
        if fields:
            out["form"] = fields
    missing = missing_module(err, root)
    if missing:
        out["missing"] = missing
    if frames:
        out["frames"] = frame_list(err)
        if isinstance(err, SyntaxError) and err.filename:
            out["syntax"] = syntax_place(err)
    return out


def library_dirs():
    """Folders whose files are the interpreter's or installed packages', never the page author's."""
    paths = sysconfig.get_paths()
    dirs = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    dirs.update(getattr(site, "getsitepackages", lambda: [])())
    dirs.update([sys.prefix, sys.base_prefix, sys.exec_prefix])
    return tuple(os.path.join(os.path.realpath(d), "") for d in dirs if d)


_LIBRARY = library_dirs()


def is_library(filename):
    """True for a file of the standard library or of an installed package (and Python's own pseudo-files)."""
    if filename.startswith("<"):
        return True
    real = os.path.realpath(filename)
    return real.startswith(_LIBRARY) or "/site-packages/" in real or "/dist-packages/" in real


def frame_list(err):
    """The traceback's frames, outermost first, without this package's: each with its source and, if the
    author's own, its locals."""
    out = []
    tb = shown_traceback(err)
    while tb is not None:
        code = tb.tb_frame.f_code
        if not is_internal(code.co_filename):
            out.append(_frame(tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    where = getattr(err, "pypages_where", None)  # a page's mistake found after it returned (wsgi.py)
    if where and not any(not f["library"] for f in out):  # (file, line, function)
        out.append(_place(*where))
    return out[-MAX_FRAMES:]


def _frame(frame, line):
    code = frame.f_code
    entry = _place(code.co_filename, line, code.co_name)
    if not entry["library"]:
        entry["locals"] = local_reprs(frame.f_locals)
    return entry


def _place(filename, line, function):
    first, lines = source_around(filename, line)
    return {"file": filename, "line": line, "function": function, "library": is_library(filename),
            "first": first, "source": lines}


def source_around(filename, line, context=CONTEXT):
    """(first line number, [lines]) of the source around `line`; (0, []) if it cannot be read."""
    lines = linecache.getlines(filename)
    if not lines or line < 1:
        return 0, []
    first = max(line - context, 1)
    return first, [text.rstrip("\r\n") for text in lines[first - 1:line + context]]


def local_reprs(variables):
    """{name: repr} of a frame's variables, truncated; dunders, modules and failing reprs handled."""
    out = {}
    for name, value in list(variables.items()):
        if name.startswith("__") or type(value).__name__ == "module":
            continue
        if len(out) >= MAX_LOCALS:
            out["..."] = "%d more not shown" % (len(variables) - MAX_LOCALS)
            break
        if _is_ours(value):
            out[name] = "<%s, given by pypages>" % name
            continue
        try:
            out[name] = _repr.repr(value)[:MAX_REPR]
        except Exception as e:  # a page's __repr__ may raise anything
            out[name] = "<repr failed: %s>" % type(e).__name__
    return out


def _is_ours(value):
    # start_response, wsgi.input...: the worker's objects, whose reprs would name its modules.
    owner = getattr(value, "__self__", value)
    return type(owner).__module__.startswith("pypages_worker")


def syntax_place(err):
    """A syntax error's file, line, column and offending line (for the caret)."""
    return {"file": err.filename, "line": err.lineno or 0, "offset": err.offset or 0,
            "text": (err.text or "").rstrip("\r\n"), "message": err.msg or ""}


def missing_module(err, root):
    """For ModuleNotFoundError: the module, this interpreter, whether it has pip, and files of that name in
    `root` (relative paths); else None."""
    if not isinstance(err, ModuleNotFoundError) or not err.name:
        return None
    return {"module": err.name, "python": sys.executable, "pip": has_pip(),
            "local": local_files(root, err.name.split(".")[0])}


def has_pip():
    """True if this interpreter can run `-m pip` (asked once)."""
    global _has_pip
    if _has_pip is None:
        try:
            _has_pip = importlib.util.find_spec("pip") is not None
        except (ImportError, ValueError):
            _has_pip = False
    return _has_pip


def local_files(root, name):
    """Up to MAX_LOCAL_FILES paths, relative to `root`, of `name`.py or a `name` package in it."""
    found, seen = [], 0
    for folder, dirs, files in os.walk(root or "/nonexistent"):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        seen += len(files)
        if name + ".py" in files:
            found.append(os.path.relpath(os.path.join(folder, name + ".py"), root))
        if name in dirs and os.path.exists(os.path.join(folder, name, "__init__.py")):
            found.append(os.path.relpath(os.path.join(folder, name), root) + "/")
        if len(found) >= MAX_LOCAL_FILES or seen > MAX_SCAN:
            break
    return found[:MAX_LOCAL_FILES]


def app_place(app):
    """(file, line, name) of the `return` in a page's application function, or of its def; None if unknown."""
    code = getattr(app, "__code__", None) or getattr(getattr(app, "__call__", None), "__code__", None)
    if code is None:
        return None
    line = code.co_firstlineno
    try:
        tree = ast.parse("".join(linecache.getlines(code.co_filename)))
    except (SyntaxError, ValueError):
        return code.co_filename, line, code.co_name
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name \
                and node.lineno >= line:
            returns = [n.lineno for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
            return code.co_filename, (returns[-1] if returns else node.lineno), code.co_name
    return code.co_filename, line, code.co_name
