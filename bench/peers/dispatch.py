"""One WSGI app for the peers that serve a single application (uWSGI, gunicorn,
waitress): it maps /NAME.py[/rest] to the `application` of DOCROOT/NAME.py, as
pypages and Apache's `AddHandler wsgi-script .py` do, so every server runs the
same workload files behind the same URLs.

Each script is imported once, on its first request (that is the `cold` cost
here), under a unique module name. Unlike pypages and mod_wsgi, every script
shares this one interpreter. /static/... is sent with wsgi.file_wrapper (the
server's sendfile path) for servers without a static-file map of their own.
"""

import importlib.util
import mimetypes
import os
import threading

DOCROOT = os.path.realpath(os.environ["BENCH_DOCROOT"])
_apps = {}
_lock = threading.Lock()


def _load(path):
    app = _apps.get(path)
    if app is None:
        with _lock:
            app = _apps.get(path)
            if app is None:
                name = "bench_page_%d" % len(_apps)
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                app = _apps[path] = module.application
    return app


def _not_found(start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
    return [b"not found\n"]


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/static/"):
        file = os.path.realpath(os.path.join(DOCROOT, path.lstrip("/")))
        if not file.startswith(DOCROOT + os.sep) or not os.path.isfile(file):
            return _not_found(start_response)
        ctype = mimetypes.guess_type(file)[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(os.path.getsize(file)))])
        return environ["wsgi.file_wrapper"](open(file, "rb"), 65536)
    script, dot_py, rest = path.partition(".py")
    if not dot_py or (rest and not rest.startswith("/")):
        return _not_found(start_response)
    file = os.path.join(DOCROOT, script.lstrip("/") + ".py")
    if not os.path.isfile(file):
        return _not_found(start_response)
    environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + script + dot_py
    environ["PATH_INFO"] = rest
    return _load(file)(environ, start_response)
