#!/bin/sh
# R5 (robustness): the server child (www-data) SIGKILLed: are its launcher (root) and the
# workers it started (a spawned page and a fork server with a forked page) ended, and a new
# child started? Then the launcher SIGKILLed: does the child stop, and is it replaced?
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
name=pprv$$
useradd --no-create-home --shell /usr/sbin/nologin --user-group "$name"
root=$(mktemp -d /tmp/rv-www-XXXXXX); chmod 755 "$root"; mkdir "$root/a"
printf 'import os, subprocess\nsubprocess.Popen(["sleep", "300"], start_new_session=True)\ndef application(e, s):\n    s("200 OK", [])\n    return [str(os.getpid()).encode()]\n' >"$root/a/p.py"
chown -R "$name" "$root/a"
out=$(mktemp /tmp/rv-out-XXXXXX)
trap 'kill $cli 2>/dev/null; pkill -KILL -u "$name" || true; sleep 0.3; userdel "$name" 2>/dev/null || true; rm -rf "$root" "$out"*' EXIT
cd /
node "$repo/dist/server/cli.js" "$root" --port 0 --python /usr/bin/python3 --launch "${LAUNCH:-fork}" >"$out" 2>"$out.err" &
cli=$!
i=0; until grep -q serving "$out"; do i=$((i+1)); [ $i -lt 150 ] || exit 1; sleep 0.2; done
url=$(grep -o 'http://[^ ]*/' "$out" | head -1)
tree() { ps -o pid,ppid,user,args --ppid "$1" 2>/dev/null | tail -n +2; }
echo "page pid: $(curl -s "${url}a/p.py")"
child=$(pgrep -P $cli node | head -1); launcher=$(pgrep -P "$child" node | head -1)
echo "child $child launcher $launcher"; ps -o pid,ppid,user,args -u "$name" | cut -c1-120
echo "== kill -9 child"; kill -KILL "$child"; sleep 3
echo "old launcher alive? $(kill -0 "$launcher" 2>/dev/null && echo YES || echo no)"
echo "$name's processes left:"; ps -o pid,ppid,user,args -u "$name" | tail -n +2 | cut -c1-120
child2=$(pgrep -P $cli node | head -1); launcher2=$(pgrep -P "$child2" node | head -1)
echo "new child $child2 launcher $launcher2; page: $(curl -s "${url}a/p.py")"
echo "== kill -9 launcher"; kill -KILL "$launcher2"; sleep 3
echo "child2 alive? $(kill -0 "$child2" 2>/dev/null && echo YES || echo no)"
echo "$name's processes left:"; ps -o pid,ppid,user,args -u "$name" | tail -n +2 | cut -c1-120
child3=$(pgrep -P $cli node | head -1); echo "new child $child3; page: $(curl -s "${url}a/p.py")"
grep -E "launcher|died|crash|exit" "$out.err" | cut -c1-200 | head
