"""The kernel limits and umask a worker takes on before it imports any page.

Node passes them on the command line (--umask, --limit NAME=N; settings
umask and limit-* in lib/config/tenant-settings.ts), to spawned and forked
workers alike. Each limit is set soft = hard: a page, running as an
unprivileged user, cannot raise it again. A limit above the current hard one
is lowered to it (only root may raise a hard limit).
"""

import os
import resource

LIMITS = {
    "as": resource.RLIMIT_AS,  # address space, bytes
    "cpu": resource.RLIMIT_CPU,  # CPU seconds; past it SIGXCPU ends the process
    "nproc": resource.RLIMIT_NPROC,  # processes and threads of the user
    "nofile": resource.RLIMIT_NOFILE,  # open files
    "fsize": resource.RLIMIT_FSIZE,  # largest file written; Python ignores SIGXFSZ, so a write fails with EFBIG
}


def parse_limit(text):
    """'as=1048576' -> ('as', 1048576); argparse's type for --limit."""
    name, sep, value = text.partition("=")
    if not sep or name not in LIMITS or not value.isdigit() or int(value) < 1:
        raise ValueError("a limit is NAME=N with NAME one of %s and N at least 1" % ", ".join(LIMITS))
    return name, int(value)


def parse_umask(text):
    """'022' -> 0o22; argparse's type for --umask."""
    value = int(text, 8)
    if not 0 <= value <= 0o777:
        raise ValueError("a umask is from 000 to 777")
    return value


def apply(umask, limits):
    """Set the umask (None: keep) and each (name, value) limit."""
    if umask is not None:
        os.umask(umask)
    for name, value in limits:
        which = LIMITS[name]
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
