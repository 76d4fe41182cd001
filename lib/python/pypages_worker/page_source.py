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
