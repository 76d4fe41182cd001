#!/bin/sh
# Review repro runner (as root): starts the real pypages CLI (this worktree's dist/)
# with docs/review-pd/hostile-hook.mjs preloaded, serving $ROOT on 127.0.0.1, from
# the folder $RUN_CWD (default /), sends SIGUSR2 so that the hook (in the server
# child, as www-data) sends the launcher the requests in $1, waits, prints what
# came back and the launcher's log lines, and stops the CLI (by its pid).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
requests=$(realpath "$1"); chmod 644 "$requests"
root=${ROOT:-$(mktemp -d /tmp/rv-www-XXXXXX)}
chmod 755 "$root"
log=$(mktemp /tmp/rv-log-XXXXXX)
cd "${RUN_CWD:-/}"
REVIEW_REQUESTS=$requests node --import "$here/hostile-hook.mjs" "$repo/dist/server/cli.js" "$root" \
  --port 0 --python /usr/bin/python3 ${EXTRA_ARGS:-} >"$log.out" 2>"$log" &
cli=$!
trap 'kill $cli 2>/dev/null; rm -f "$log" "$log.out"; [ -n "${ROOT:-}" ] || rm -rf "$root"' EXIT
i=0
until grep -q 'serving' "$log.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 150 ] || { echo "no start"; cat "$log"; kill $cli; exit 1; }; sleep 0.2
done
[ -z "${BEFORE:-}" ] || sh -c "$BEFORE"   # e.g. what the compromised child plants once serving
kill -USR2 $cli
sleep "${WAIT:-4}"
grep -E 'hostile|launcher' "$log" || true
kill -TERM $cli; wait $cli || true
rm -f "$log" "$log.out"; [ -n "${ROOT:-}" ] || rm -rf "$root"
