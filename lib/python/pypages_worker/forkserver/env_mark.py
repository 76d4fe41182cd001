"""A forked worker's mark, where /proc shows it (Node: lib/worker/launch/page-leftovers.ts).

Node finds what a page left running by a mark in the environment of each
worker, which every process the page starts inherits. But /proc/PID/environ
shows the block a process was exec'd with, not what putenv() changed later,
and a forked worker was never exec'd: it shows the zygote's block. So Node
starts the zygote with a placeholder of the mark's fixed width, and a forked
worker writes its own mark over that placeholder, in place: its own block
then names it, and so does every process its page forks (a copy of that
memory) or execs (os.environ holds the mark too).
"""

import ctypes


def write_in_place(name, value):
    """Overwrite NAME's value in this process's exec-time environment block with
    `value`, which must be as long as the value there. Returns whether it did."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rindex(b")") + 2:].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (proc(5))
        with open("/proc/self/environ", "rb") as f:
            block = f.read()
    except (OSError, ValueError, IndexError):
        return False
    key = name.encode() + b"="
    at = 0 if block.startswith(key) else block.find(b"\0" + key) + 1
    new = value.encode()
    if at <= 0 and not block.startswith(key):
        return False
    first = at + len(key)
    old_end = block.find(b"\0", first)
    if old_end - first != len(new) or start + old_end > end:
        return False
    ctypes.memmove(start + first, new, len(new))
    return True
