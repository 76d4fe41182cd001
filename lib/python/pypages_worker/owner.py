"""Whose files a tenant's worker may import, when the root launcher says so.

A server that started as root runs its HTTP side as an unprivileged user
and has a root launcher start the tenants' workers (server/launcher.ts).
The launcher must assume the HTTP side compromised: it could name any file
as a page, and have alice's worker run a file it wrote itself. So, as
suEXEC runs only a script its target user owns, the launcher sets
PYPAGES_OWNER_ONLY to "UID SERVER_GID" (lib/tenant/launch-policy.ts), and
this worker then imports a page, a preload or an import-path folder only if
it and every folder above it belong to root or to UID, and nobody else may
write them: not others (a sticky folder such as /tmp excepted: nobody can
rename what is not theirs in it), not the server's group.

The value is read once, when the worker (or the fork server) starts: a
forked child's environment comes from the HTTP side and cannot change it.
A user the operator's config names (``user:``) gets no such rule: its
folders are the operator's choice.
"""

import os
import stat

VARIABLE = "PYPAGES_OWNER_ONLY"


def parse(value):
    """Return (uid, server_gid) from the variable's value, or None for no rule."""
    try:
        uid, server_gid = (int(part) for part in value.split())
    except (AttributeError, ValueError):
        return None
    return uid, server_gid


RULE = parse(os.environ.get(VARIABLE))


def refusal(path):
    """Why this worker may not import `path` (a file or a folder); None if it may."""
    return refusal_under(RULE, path)


def resolved(path):
    """(the name to import `path` by, why not or None). Under a rule, the real path: the one
    checked, which nobody else can change; a link on the way, in a folder the server may write,
    could be re-pointed after the check, and its folder on sys.path would be searched for
    every import the page makes."""
    why = refusal_under(RULE, path)
    return (path if RULE is None else os.path.realpath(path)), why


def refusal_under(rule, path):
    """refusal() under `rule`, (uid, server_gid) or None."""
    if rule is None:
        return None
    real = os.path.realpath(path)
    at = real
    while True:
        why = _not_safe(at, rule)
        if why:
            return "%s: %s, so another user could change what runs as this one" % (real, why)
        parent = os.path.dirname(at)
        if parent == at:
            return None
        at = parent


def _not_safe(at, rule):
    uid, server_gid = rule
    try:
        st = os.stat(at)
    except OSError as err:
        return err.strerror
    if st.st_uid not in (0, uid):
        return "%s belongs to uid %d" % (at, st.st_uid)
    sticky = stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX
    if st.st_mode & stat.S_IWOTH and not sticky:
        return "%s is writable by everyone" % at
    if st.st_mode & stat.S_IWGRP and st.st_gid == server_gid and not sticky:
        return "%s is writable by the server's group" % at
    return None
