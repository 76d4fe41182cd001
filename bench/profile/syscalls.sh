#!/bin/sh
# System calls and context switches per request of pypages, per process.
#
#   bench/profile/syscalls.sh [PYPAGES_DIR] [PATH]     (defaults: this repository, /hello.py)
#   POST=65536 bench/profile/syscalls.sh DIR /echo.py   (POSTs a body of that many bytes)
#
# 1. Context switches: wrk -t2 -c32 for 4 s, no tracing; voluntary and
#    involuntary switches of every thread of node and of the Python workers
#    (/proc/PID/task/*/status), divided by the requests served (access log).
# 2. System calls: strace -c -f on node and on each Python worker while wrk
#    -t1 -c4 runs 3 s (strace slows everything down: use the counts, not the
#    times), divided by the requests served.
# Needs wrk and strace. Binds 127.0.0.1; stops what it started.
set -eu
BENCH=$(cd "$(dirname "$0")/.." && pwd)
PYPAGES=${1:-$(dirname "$BENCH")}
URLPATH=${2:-/hello.py}
PORT=${PORT:-18599}
WORK=$(mktemp -d /tmp/pypages-syscalls-XXXXXX)
chmod 755 "$WORK"  # run as root, the server serves as another user
cp -r "$BENCH/docroot" "$WORK/docroot"
setsid node "$PYPAGES/dist/server/cli.js" "$WORK/docroot" --port "$PORT" --python /usr/bin/python3 --allow-root-pages \
  >"$WORK/access.log" 2>"$WORK/error.log" &
NODE=$!
cleanup() { kill -TERM "$NODE" 2>/dev/null || true; sleep 1; kill -KILL -- "-$NODE" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
URL="http://127.0.0.1:$PORT$URLPATH"
WRKS=""
if [ -n "${POST:-}" ]; then
  printf 'wrk.method = "POST"\nwrk.body = string.rep("x", %s)\n' "$POST" >"$WORK/post.lua"
  WRKS="-s $WORK/post.lua"
fi
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/static/small.txt" && break; sleep 0.1; done
curl -sf -o /dev/null "$URL"
wrk $WRKS -t2 -c32 -d2s "$URL" >/dev/null

tree() {  # $NODE and all its descendants (the server, its launcher, the workers)
  todo=$1; all=""
  while [ -n "$todo" ]; do
    next=""
    for p in $todo; do all="$all $p"; next="$next $(pgrep -P "$p" -d ' ' || true)"; done
    todo=$(echo $next)
  done
  echo $all
}

switches() {  # comm voluntary involuntary, summed over every thread of the tree
  for p in $(tree "$NODE"); do
    for t in /proc/"$p"/task/*; do
      printf '%s %s %s\n' "$(cat /proc/"$p"/comm)" \
        "$(awk '/^voluntary_ctxt/{print $2}' "$t"/status)" "$(awk '/^nonvoluntary_ctxt/{print $2}' "$t"/status)"
    done
  done 2>/dev/null | awk '{v[$1]+=$2; n[$1]+=$3} END {for (k in v) print k, v[k], n[k]}' | sort
}
requests() { wc -l <"$WORK/access.log"; }

switches >"$WORK/cs0"; R0=$(requests)
wrk $WRKS -t2 -c32 -d4s "$URL" | grep -E 'Requests/sec'
switches >"$WORK/cs1"; R1=$(requests)
N=$((R1 - R0))
echo "context switches per request ($N requests, wrk -c32):"
join "$WORK/cs0" "$WORK/cs1" | awk -v n="$N" '{printf "  %-10s voluntary %5.2f  involuntary %5.2f\n", $1, ($4-$2)/n, ($5-$3)/n}'

PIDS=$(tree "$NODE")
TRACERS=""
for p in $PIDS; do
  strace -f -c -o "$WORK/strace.$p" -p "$p" 2>/dev/null &
  TRACERS="$TRACERS $!"
done
sleep 1
R0=$(requests)
wrk $WRKS -t1 -c4 -d3s "$URL" >/dev/null
R1=$(requests)
kill -INT $TRACERS 2>/dev/null || true
wait $TRACERS 2>/dev/null || true
N=$((R1 - R0))
echo "system calls per request ($N requests under strace, wrk -c4):"
for p in $PIDS; do
  [ -s "$WORK/strace.$p" ] || continue
  printf '  %s (pid %s, %s):' "$(ps -o comm= -p "$p" 2>/dev/null || echo gone)" "$p" "$(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-50)"
  awk -v n="$N" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {printf " %s %.1f", $NF, $4/n}' "$WORK/strace.$p"
  echo
done
