"""What the zygote imports and runs once, before it forks, so that every child shares it.

What a fork shares that a spawn would not: the hash seed of str/bytes (it is
chosen at interpreter start; PYTHONHASHSEED), and whatever the shared-preload
modules computed at import. `random` reseeds itself in a child (3.7+), and
os.urandom, uuid, secrets, tempfile and OpenSSL are fork-aware.
"""

import importlib
import importlib.machinery
import importlib.util
import os
import platform
import threading
import time

from .. import imports, loader, log, page_source
from .. import main as worker_main
from ..errors import describe


def warm_up():
    """Run once what every worker runs first, so the caches and lazy imports it fills are shared.

    Returns the worker's argument parser, built once for all children.
    Measured on 3.11, per child: the first argparse use (gettext imports
    locale) dirtied 1.6 MiB, building a parser 0.56 MiB, the first page
    import (the loader's code, importlib's, OpenSSL's sha1) 0.15 MiB more.
    """
    parser = worker_main.build_parser()
    worker_main.parse_args(["--root", os.sep, "--threads", "1"], parser)
    platform.python_version()
    here = os.path.dirname(os.path.abspath(__file__))
    page_source.is_page_source("def application(environ, start_response):\n    pass\n")
    loader.module_name(__file__, here)  # a sha1: the first one sets up OpenSSL
    imports.watched_files(here)
    # What loader._import does, short of running the code (it is only compiled):
    name = "_pypages_warm_up"
    source_loader = importlib.machinery.SourceFileLoader(name, __file__)
    spec = importlib.util.spec_from_file_location(name, __file__, loader=source_loader)
    importlib.util.module_from_spec(spec)
    spec.loader.get_code(name)
    return parser


def preload(modules):
    """Import each module now so every child shares it; returns (imported, failed). Failures are only logged."""
    imported, failed = [], []
    for name in modules:
        try:
            importlib.import_module(name)
            imported.append(name)
        except BaseException as err:  # SystemExit or a broken package must not stop the server
            log("shared-preload of %s failed: %s" % (name, describe(err)[0]))
            failed.append(name)
    return imported, failed


def extra_threads():
    """Return (names of Python threads besides the main one, how many native threads besides those).

    Native threads are counted on Linux only. A thread just joined can linger
    in /proc/self/task for a moment: it is given a few milliseconds to go.
    """
    names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    native = 0
    for _ in range(20):
        try:
            native = len(os.listdir("/proc/self/task")) - 1 - len(names)
        except OSError:
            break
        if native <= 0:
            break
        time.sleep(0.005)
    return names, max(0, native)


def safe_to_fork():
    """False (and logged) if Python threads run besides the main one; native threads are only noted."""
    threads, native = extra_threads()
    if threads:  # Python code runs in them: a lock one of them holds at a fork stays locked in the child
        log("cannot fork safely: the shared-preload modules started threads (%s)" % ", ".join(threads))
        return False
    if native:  # a C library's pool (e.g. OpenBLAS): such libraries guard their own state at fork
        log("note: %d native thread(s) run in the fork server; workers do not inherit them" % native)
    return True
