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
import re
import stat

VARIABLE = "PYPAGES_OWNER_ONLY"

# The launcher's list (VETTED in lib/tenant/launch-policy.ts; a test checks they match): variables
# the loader, Python or the programs a page runs read as code to run. A forked worker's variables come
# from the HTTP side, not through the launcher: under the rule, one of these passes only with the value
# the fork server itself started with (which the launcher checked).
VETTED = re.compile(
    r"^(LD_|MALLOC_|(PATH|GLIBC_TUNABLES|GCONV_PATH|GETCONF_DIR|HOSTALIASES|LOCALDOMAIN|LOCPATH|NIS_PATH|"
    r"NLSPATH|RESOLV_HOST_CONF|RES_OPTIONS|TMPDIR|TZDIR|ENV|BASH_ENV|IFS|PYTHON\w*|"
    r"HOME|OPENSSL_\w+|_PYTHON\w*|BROWSER|"
    r"GIT_\w+|XDG_\w+|NODE_OPTIONS|NODE_PATH|PERL\w*|RUBY\w*|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|"
    r"SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|LESSOPEN|LESSCLOSE)$)")


def parse(value):
    """Return (uid, server_gid) from the variable's value, or None for no rule."""
    try:
        uid, server_gid = (int(part) for part in value.split())
    except (AttributeError, ValueError):
        return None
    return uid, server_gid


RULE = parse(os.environ.get(VARIABLE))
STARTED_WITH = dict(os.environ)  # what the launcher checked, kept before any fork's variables


def umask_under_rule(umask, rule=None):
    """The umask a tenant's worker takes: never one that lets everyone write its new files (others' w kept off)."""
    rule = RULE if rule is None else rule
    if not rule or umask is None:
        return umask
    return umask | 0o002


def env_refusal(env, rule=None, started_with=None):
    """The names in `env` a forked worker may not take on (sorted); empty without the rule."""
    rule = RULE if rule is None else rule
    started_with = STARTED_WITH if started_with is None else started_with
    if not rule:
        return []
    return sorted(k for k, v in env.items() if VETTED.match(k) and started_with.get(k) != v)


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
