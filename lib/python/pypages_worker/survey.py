"""What a folder listing says about each script, from its syntax tree alone: never imports or runs it.

Run by Node as ``python -I -c ... survey`` with a JSON list of paths on stdin; prints one JSON object:
``{path: {"page": bool, "doc": first docstring line, "hint": why it is not a page}`` or
``{path: {"error": "SyntaxError: ... (line N)"}}`` for a file that does not parse or cannot be read.
"""

import ast
import json
import sys

from .page_source import is_page_source, not_page_hint

MAX_BYTES = 1024 * 1024  # a bigger "script" is not read: the listing says nothing about it
MAX_DOC = 200


def describe(path):
    """The listing's facts about the script at `path`."""
    try:
        with open(path, "rb") as f:
            source = f.read(MAX_BYTES + 1)
        if len(source) > MAX_BYTES:
            return {"error": "too big to look at"}
        tree = ast.parse(source, path)
        page = is_page_source(source, path)
    except (SyntaxError, ValueError) as err:
        line = getattr(err, "lineno", None)
        where = " (line %s)" % line if line else ""
        return {"error": "%s: %s%s" % (type(err).__name__, getattr(err, "msg", err), where)}
    except OSError as err:
        return {"error": "cannot be read: %s" % err.strerror}
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    facts = {"page": page, "doc": doc[0][:MAX_DOC] if doc else ""}
    if not page:
        facts["hint"] = not_page_hint(source, path)
    return facts


def main():
    paths = json.load(sys.stdin)
    json.dump({p: describe(p) for p in paths if isinstance(p, str)}, sys.stdout)


if __name__ == "__main__":
    main()
