"""Whether a script is a page, decided from its syntax tree: asking never runs the file.

A page is a script with a module-level binding of `application` (a def, a
class, an assignment, an import, ...). A binding inside a function, a class
body or a comprehension is not one; `global application` in a function is.
"""

import ast

NAME = "application"

# Nodes whose bodies are a new scope: a binding inside them is not module-level.
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def is_page_source(source, filename="<page>"):
    """True if `source` (str or bytes) binds `application` at module level; never executes it.

    Raises SyntaxError (or, before Python 3.12, ValueError on NUL bytes) for broken source.
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


_FRAMEWORKS = {"flask": "Flask", "bottle": "Bottle", "falcon": "Falcon", "pyramid": "Pyramid",
               "django": "Django", "webob": "WebOb", "werkzeug": "Werkzeug"}


def not_page_hint(source, filename="<page>"):
    """Why a script that binds no `application` is not a page, said for its author (one sentence), from its
    syntax tree; '' when nothing suggests a mistake (a helper module is not a page, rightly)."""
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError):
        return ""
    names = _module_names(tree)
    for check in (_case_hint, _app_hint, _wsgi_function_hint, _main_hint, _cgi_hint):
        hint = check(tree, names)
        if hint:
            return hint
    return ""


def _module_names(tree):
    # name -> the node binding it at module level (defs, classes, assignments)
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        for target in getattr(node, "targets", []) + [getattr(node, "target", None)]:
            if isinstance(target, ast.Name):
                names[target.id] = node
    return names


def _case_hint(tree, names):
    other = [n for n in names if n.lower() == NAME and n != NAME]
    if other:
        return "`%s` is defined, not `application`: names are case-sensitive; rename it or add " \
               "`application = %s`" % (other[0], other[0])
    return ""


def _app_hint(tree, names):
    if "app" not in names:
        return ""
    framework = next((label for module, label in _FRAMEWORKS.items() if _imports(tree, module)), None)
    what = "a %s app" % framework if framework else "defined"
    return "`app` is %s here: pypages serves the module-level `application`; add `application = app` " \
           "at the end of the file" % what


def _wsgi_function_hint(tree, names):
    for name, node in names.items():
        args = [a.arg for a in getattr(getattr(node, "args", None), "args", [])]
        if isinstance(node, ast.FunctionDef) and args[-2:] == ["environ", "start_response"]:
            return "`%s(environ, start_response)` looks like a WSGI app: name it `application`, or add " \
                   "`application = %s`" % (name, name)
    return ""


def _main_hint(tree, names):
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.dump(node.test):
            return "this script runs its code under `if __name__ == \"__main__\":`: pypages imports pages, it " \
                   "never runs them as __main__; define `application(environ, start_response)` (see hello.py)"
    return ""


def _cgi_hint(tree, names):
    if any(_prints(node) for node in tree.body if not isinstance(node, _SCOPES)):
        return "this script prints its page like a CGI script: pypages calls a WSGI `application(environ, " \
               "start_response)` and sends what it returns, and print() goes to the terminal (see hello.py)"
    return ""


def _prints(tree):
    return any(isinstance(n, ast.Call) and (getattr(n.func, "id", None) == "print" or (
        getattr(n.func, "attr", None) == "write" and "stdout" in ast.dump(n.func))) for n in ast.walk(tree))


def _imports(tree, module):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == module for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == module:
            return True
    return False
