#!/bin/sh
# F4: a compromised server child asks the launcher for N interpreter probes at once; each
# was a root `python3 -c PROBE` started at once, with no bound (N root processes at a time,
# ~10 MB each, each up to 10 s; N is the child's to choose). Now at most 4 run at once and
# the others are answered null at once (the child then probes itself, as server-user).
# Counts the answers that a root probe ran for. Run as root from the worktree after
# `npm run -s build`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
n=${N:-40}
req=$(mktemp /tmp/rv-req-XXXXXX); out=$(mktemp /tmp/rv-out-XXXXXX)
trap 'rm -f "$req" "$out"' EXIT
node -e "console.log(JSON.stringify(Array.from({length: $n}, (_, i) => ({pypages: 'probe', id: i + 1, file: '/usr/bin/python3'}))))" >"$req"
"$here/../review-pd/run-hostile.sh" "$req" >"$out" 2>&1 || true
ran=$(grep -c '"probed".*"stdout"' "$out" || true)
refused=$(grep -c '"probed".*"result":null' "$out" || true)
echo "root probes run: $ran, answered null at once: $refused (of $n sent at once)"
[ "$ran" -le 4 ] && echo "bounded (fixed)" || { echo "VULNERABLE: every probe started a root process at once"; exit 1; }
