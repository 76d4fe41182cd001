# Alice's page: tries to leave her limits. GET /users/alice/escape.py
import json, os, resource, subprocess, time
def attempt(f):
    try: return "allowed: %r" % (f(),)
    except Exception as e: return "%s: %s" % (type(e).__name__, e)
def application(environ, start_response):
    r = {}
    for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_CPU", "RLIMIT_FSIZE"):
        lim = getattr(resource, name); soft, hard = resource.getrlimit(lim)
        r[name] = [soft, hard, attempt(lambda: resource.setrlimit(lim, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))]
    r["no_new_privs"] = [l for l in open("/proc/self/status") if l.startswith("NoNewPrivs")]
    r["cgroup"] = open("/proc/self/cgroup").read().splitlines()[:2]
    for path in ("/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/memory/cgroup.procs", "/sys/fs/cgroup/cgroup.procs"):
        r[path] = attempt(lambda: open(path, "w").write(str(os.getpid())))
    r["su"] = attempt(lambda: subprocess.run(["su", "-c", "id"], input=b"", capture_output=True, timeout=5).stderr[:80])
    # a leftover: double fork, setsid, environment cleared (PYPAGES_WORKER gone)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execve("/bin/sleep", ["sleep", "600"], {})
        os._exit(0)
    os.wait()
    r["leftover"] = subprocess.run(["pgrep", "-u", str(os.getuid()), "-x", "sleep"], capture_output=True).stdout.decode().split()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(r, indent=1).encode()]
